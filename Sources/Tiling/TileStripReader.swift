import GeoRaster

/// Reads a scene one row of tiles at a time and cuts it into ``Tile``s with validity and metadata.
///
/// Each call reads one strip — the `size` pixel rows of a tile row, all columns of the grid — from
/// every band (and the QA band), so memory is (bands + 1) × size × width × 2 bytes whatever the scene's
/// height. GDAL's block cache is capped (``init(rasters:options:blockCacheBytes:)``) at a size that
/// holds the block rows a strip touches, so each compressed block is decoded once while strips pass
/// through it, and peak memory does not grow with the scene.
///
/// Per-pixel validity: a pixel is valid when it lies inside the raster, no band holds DN 0 (the fill
/// value of Landsat products: USGS Landsat 8-9 C2 L2 Science Product Guide, "Fill"), no band equals its
/// nodata value, and bit 0 ("designated fill") of the QA band is clear.
///
/// Used by `moemae tile` (``DatasetWriter``) and the map pipeline; one reader per thread.
public final class TileStripReader {
    public let rasters: SceneRasters
    public let locator: TileLocator
    public let options: TilingOptions
    public var grid: TileGrid { locator.grid }
    public var bandCount: Int { rasters.source.bands.count }
    private var strip: [UInt16]
    private var qa: [UInt16]
    private var stripValid: [UInt8]
    private let stripWidth: Int

    /// Opens the scene's rasters and checks their grids (see ``SceneRasters``).
    public convenience init(source: SceneSource, options: TilingOptions, blockCacheBytes: Int? = nil) throws {
        try self.init(rasters: SceneRasters(source: source), options: options, blockCacheBytes: blockCacheBytes)
    }

    /// `blockCacheBytes` caps GDAL's global block cache (`GDALSetCacheMax64`); by default twice the
    /// bytes of one block row of all bands, clamped to 32…256 MiB.
    public init(rasters: SceneRasters, options: TilingOptions, blockCacheBytes: Int? = nil) throws {
        try options.validate()
        self.rasters = rasters
        self.options = options
        locator = try TileLocator(rasters: rasters, options: options)
        let s = options.tileSize
        stripWidth = locator.grid.cols * s
        let planes = rasters.source.bands.count
        strip = [UInt16](repeating: 0, count: planes * s * stripWidth)
        qa = [UInt16](repeating: 0, count: s * stripWidth)
        stripValid = [UInt8](repeating: 0, count: s * stripWidth)
        let files = rasters.source.bands.count + (rasters.source.qaFile == nil ? 0 : 1)
        let blockRow = files * rasters.width * max(rasters.blockHeight, s) * 2
        let cache = blockCacheBytes ?? min(max(2 * blockRow, 32 << 20), 256 << 20)
        GDALSettings.setBlockCacheLimit(bytes: cache)
    }

    /// The tiles of tile row `row` (0 ..< grid.rows), left to right, keeping those whose valid fraction
    /// is at least `minValid` (default: the options' `minValid`).
    public func readRow(_ row: Int, minValid: Double? = nil) throws -> [Tile] {
        let grid = self.grid, s = options.tileSize, w = stripWidth, planes = bandCount
        guard row >= 0, row < grid.rows else {
            throw TilingError(path: rasters.source.id, "tile row \(row) is outside the grid of \(grid.rows) rows")
        }
        let rows = grid.rasterRows(ofTileRow: row)
        let readWidth = min(w, grid.region.width)
        let window = RasterWindow(column: grid.region.column, row: rows.lowerBound, width: readWidth, height: rows.count)
        let partial = rows.count < s || readWidth < w
        try strip.withUnsafeMutableBufferPointer { buf in
            if partial { buf.update(repeating: 0) }
            for b in 0..<planes {
                let plane = UnsafeMutableBufferPointer(rebasing: buf[(b * s * w)..<((b + 1) * s * w)])
                try rasters.readBand(b, window: window, into: plane, lineStride: w)
            }
        }
        let hasQA = try qa.withUnsafeMutableBufferPointer { try rasters.readQA(window: window, into: $0, lineStride: w) }
        computeValidity(rowsRead: rows.count, columnsRead: readWidth, hasQA: hasQA)

        let threshold = minValid ?? options.minValid
        var tiles: [Tile] = []
        tiles.reserveCapacity(grid.cols)
        let area = Double(s * s)
        for col in 0..<grid.cols {
            var valid = [UInt8](repeating: 0, count: s * s)
            var count = 0
            stripValid.withUnsafeBufferPointer { sv in
                for y in 0..<s {
                    let src = y * w + col * s
                    for x in 0..<s {
                        let v = sv[src + x]
                        valid[y * s + x] = v
                        count += Int(v)
                    }
                }
            }
            let fraction = Double(count) / area
            if fraction < threshold { continue }
            var pixels = [UInt16](repeating: 0, count: planes * s * s)
            strip.withUnsafeBufferPointer { sp in
                pixels.withUnsafeMutableBufferPointer { dst in
                    for b in 0..<planes {
                        for y in 0..<s {
                            let src = b * s * w + y * w + col * s
                            let d = b * s * s + y * s
                            for x in 0..<s { dst[d + x] = sp[src + x] }
                        }
                    }
                }
            }
            tiles.append(Tile(metadata: try locator.metadata(row: row, col: col), pixels: pixels, valid: valid,
                              validFraction: fraction, size: s, bandCount: planes))
        }
        return tiles
    }

    /// Calls `body` with each tile row's kept tiles, top to bottom.
    public func forEachRow(_ body: (_ row: Int, _ tiles: [Tile]) throws -> Void) throws {
        for r in 0..<grid.rows { try body(r, try readRow(r)) }
    }

    private func computeValidity(rowsRead: Int, columnsRead: Int, hasQA: Bool) {
        let s = options.tileSize, w = stripWidth, planes = bandCount
        let nodata: [UInt16?] = rasters.nodata.map { v in
            guard let v, v >= 1, v <= 65535, v == v.rounded() else { return nil }
            return UInt16(v)
        }
        strip.withUnsafeBufferPointer { sp in
            qa.withUnsafeBufferPointer { q in
                stripValid.withUnsafeMutableBufferPointer { out in
                    for y in 0..<s {
                        for x in 0..<w {
                            let i = y * w + x
                            var ok: UInt8 = (y < rowsRead && x < columnsRead) ? 1 : 0
                            if ok == 1, hasQA, q[i] & 1 != 0 { ok = 0 }
                            if ok == 1 {
                                for b in 0..<planes {
                                    let v = sp[b * s * w + i]
                                    if v == 0 || v == nodata[b] { ok = 0; break }
                                }
                            }
                            out[i] = ok
                        }
                    }
                }
            }
        }
    }
}

@available(*, unavailable, message: "owns GDAL and PROJ handles: one per thread")
extension TileStripReader: Sendable {}
