import GeoRaster

/// The grid of square tiles over a region of a raster.
///
/// Anchored at the region's top-left pixel (pixel (0, 0) of a whole scene), stride = tile size, no
/// overlap. With ``EdgePolicy/pad`` the grid has ⌈width/size⌉ × ⌈height/size⌉ tiles and the partial
/// right/bottom tiles reach past the raster (the outside is fill); with ``EdgePolicy/drop`` it has
/// ⌊width/size⌋ × ⌊height/size⌋ full tiles. (As torchgeo's `tile_to_chips` with stride = size.)
public struct TileGrid: Sendable, Equatable {
    /// The tiled region in raster pixels (the whole raster for scenes, a centre crop for patches).
    public var region: RasterWindow
    public var tileSize: Int
    public var edge: EdgePolicy
    public let rows: Int
    public let cols: Int

    public init(region: RasterWindow, tileSize: Int, edge: EdgePolicy) {
        self.region = region; self.tileSize = tileSize; self.edge = edge
        switch edge {
        case .pad:
            rows = (region.height + tileSize - 1) / tileSize
            cols = (region.width + tileSize - 1) / tileSize
        case .drop:
            rows = region.height / tileSize
            cols = region.width / tileSize
        }
    }

    /// The grid over a whole `width`×`height` raster.
    public init(width: Int, height: Int, tileSize: Int, edge: EdgePolicy) {
        self.init(region: RasterWindow(column: 0, row: 0, width: width, height: height), tileSize: tileSize, edge: edge)
    }

    public var tileCount: Int { rows * cols }

    /// The full `tileSize`×`tileSize` footprint of tile (row, col) in raster pixels (may extend past the
    /// raster for padded edge tiles).
    public func footprint(row: Int, col: Int) -> RasterWindow {
        RasterWindow(column: region.column + col * tileSize, row: region.row + row * tileSize, width: tileSize, height: tileSize)
    }

    /// The pixel rows (of the raster) that tile row `row` covers inside the region.
    public func rasterRows(ofTileRow row: Int) -> Range<Int> {
        let start = region.row + row * tileSize
        return start..<min(start + tileSize, region.row + region.height)
    }
}
