/// A rectangle of whole pixels: columns `column ..< column + width`, rows `row ..< row + height`.
public struct RasterWindow: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    public var column: Int
    public var row: Int
    public var width: Int
    public var height: Int

    public init(column: Int, row: Int, width: Int, height: Int) {
        self.column = column; self.row = row; self.width = width; self.height = height
    }

    public var pixelCount: Int { width * height }
    public var isEmpty: Bool { width <= 0 || height <= 0 }

    /// The part of this window inside a `width`×`height` raster (possibly empty).
    public func clipped(toWidth rasterWidth: Int, height rasterHeight: Int) -> RasterWindow {
        let c0 = max(column, 0), r0 = max(row, 0)
        let c1 = min(column + width, rasterWidth), r1 = min(row + height, rasterHeight)
        return RasterWindow(column: c0, row: r0, width: max(0, c1 - c0), height: max(0, r1 - r0))
    }

    /// True when the window lies inside a `width`×`height` raster.
    public func fits(width rasterWidth: Int, height rasterHeight: Int) -> Bool {
        column >= 0 && row >= 0 && width > 0 && height > 0 && column + width <= rasterWidth && row + height <= rasterHeight
    }

    public var description: String { "\(width)×\(height) at column \(column), row \(row)" }
}
