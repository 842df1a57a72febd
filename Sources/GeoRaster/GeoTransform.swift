/// An affine map from pixel/line space to the raster's CRS, in GDAL's convention
/// (GDAL raster data model, "Affine GeoTransform"):
///
///     x = originX + column · pixelWidth + row · rowRotation
///     y = originY + column · columnRotation + row · pixelHeight
///
/// where (column, row) are continuous pixel coordinates with (0, 0) the top-left corner of the
/// top-left pixel (pixel-is-area) and (0.5, 0.5) its centre. GDAL already converts files tagged
/// `AREA_OR_POINT=Point` to this convention when it reports the geotransform.
public struct GeoTransform: Sendable, Equatable, Hashable, Codable {
    /// GT[0]: x of the top-left corner of pixel (0, 0).
    public var originX: Double
    /// GT[1]: x step per column.
    public var pixelWidth: Double
    /// GT[2]: x step per row (0 for north-up rasters).
    public var rowRotation: Double
    /// GT[3]: y of the top-left corner of pixel (0, 0).
    public var originY: Double
    /// GT[4]: y step per column (0 for north-up rasters).
    public var columnRotation: Double
    /// GT[5]: y step per row (negative for north-up rasters).
    public var pixelHeight: Double

    public init(originX: Double, pixelWidth: Double, rowRotation: Double = 0,
                originY: Double, columnRotation: Double = 0, pixelHeight: Double) {
        self.originX = originX; self.pixelWidth = pixelWidth; self.rowRotation = rowRotation
        self.originY = originY; self.columnRotation = columnRotation; self.pixelHeight = pixelHeight
    }

    /// From GDAL's six coefficients `[GT0 … GT5]`; nil unless there are exactly six.
    public init?(gdal c: [Double]) {
        guard c.count == 6 else { return nil }
        self.init(originX: c[0], pixelWidth: c[1], rowRotation: c[2], originY: c[3], columnRotation: c[4], pixelHeight: c[5])
    }

    /// GDAL's six coefficients `[GT0 … GT5]`.
    public var gdal: [Double] { [originX, pixelWidth, rowRotation, originY, columnRotation, pixelHeight] }

    /// The map coordinates of continuous pixel position (column, row).
    public func apply(column: Double, row: Double) -> (x: Double, y: Double) {
        (originX + column * pixelWidth + row * rowRotation,
         originY + column * columnRotation + row * pixelHeight)
    }

    /// The geotransform of a window whose top-left pixel is (column, row) of this raster: the origin
    /// moves to that pixel's top-left corner, the pixel size and rotation terms are unchanged.
    public func offset(columns column: Int, rows row: Int) -> GeoTransform {
        let (x, y) = apply(column: Double(column), row: Double(row))
        var t = self
        t.originX = x; t.originY = y
        return t
    }

    /// The map coordinates of the centre of the `width`×`height` pixel footprint whose top-left pixel
    /// is (column, row) (pixel-is-area: the centre is at column + width/2, row + height/2).
    public func centre(column: Int, row: Int, width: Int, height: Int) -> (x: Double, y: Double) {
        apply(column: Double(column) + Double(width) / 2, row: Double(row) + Double(height) / 2)
    }

    /// The four corners (top-left, top-right, bottom-right, bottom-left) of that footprint, in map
    /// coordinates, as a closed ring would list them (without repeating the first).
    public func corners(column: Int, row: Int, width: Int, height: Int) -> [(x: Double, y: Double)] {
        let c0 = Double(column), r0 = Double(row), c1 = Double(column + width), r1 = Double(row + height)
        return [apply(column: c0, row: r0), apply(column: c1, row: r0), apply(column: c1, row: r1), apply(column: c0, row: r1)]
    }

    /// True when there is no rotation (GT[2] = GT[4] = 0).
    public var isNorthUp: Bool { rowRotation == 0 && columnRotation == 0 }

    /// The inverse map (map → continuous pixel coordinates), or nil when the transform is singular.
    public var inverse: GeoTransform? {
        let det = pixelWidth * pixelHeight - rowRotation * columnRotation
        guard det != 0, det.isFinite else { return nil }
        let a = pixelHeight / det, b = -rowRotation / det, d = -columnRotation / det, e = pixelWidth / det
        return GeoTransform(originX: -(a * originX + b * originY), pixelWidth: a, rowRotation: b,
                            originY: -(d * originX + e * originY), columnRotation: d, pixelHeight: e)
    }

    /// True when every coefficient differs from `other`'s by at most `tolerance` times the pixel size
    /// (so 1e-6 means a millionth of a pixel).
    public func isClose(to other: GeoTransform, tolerance: Double = 1e-6) -> Bool {
        let scale = max(abs(pixelWidth), abs(pixelHeight), abs(rowRotation), abs(columnRotation), .leastNormalMagnitude)
        return zip(gdal, other.gdal).allSatisfy { abs($0 - $1) <= tolerance * scale }
    }
}
