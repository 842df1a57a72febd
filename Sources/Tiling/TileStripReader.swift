import GeoRaster

/// Reads a scene one row of tiles at a time and cuts it into ``Tile``s with validity and metadata.
///
/// Each call yields one strip — the `size` pixel rows of a tile row, all columns of the grid — of
/// every band (and the QA band). The pixels come from a ``BlockRowBuffer``: GDAL is asked for
/// block-aligned windows of full block rows, each row of the scene exactly once, so every compressed
/// block is decoded once whether blocks are 8-row strips or 256×256 tiles, without relying on GDAL's
/// block cache keeping blocks between strips. Memory is (bands + 1) × (size + block height) × width ×
/// 2 bytes whatever the scene's height; GDAL's block cache is also capped
/// (``init(rasters:options:blockCacheBytes:)``), so peak memory does not grow with the scene.
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
    /// Columns read from the rasters (the grid's width inside the region).
    private let readWidth: Int
    /// Block-aligned rows of every band, then the QA band.
    private(set) var blocks: BlockRowBuffer

    /// Opens the scene's rasters and checks their grids (see ``SceneRasters``).
    public convenience init(source: SceneSource, options: TilingOptions, blockCacheBytes: Int? = nil) throws {
        try self.init(rasters: SceneRasters(source: source), options: options, blockCacheBytes: blockCacheBytes)
    }

    /// `blockCacheBytes` caps GDAL's global block cache (`GDALSetCacheMax64`); by default the bytes of
    /// one block row of all files, clamped to 32…256 MiB (reads are block-aligned and never repeat, so
    /// the cache need not keep blocks between strips).
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
        let region = locator.grid.region
        readWidth = min(stripWidth, region.width)
        blocks = BlockRowBuffer(planes: planes + (rasters.source.qaFile == nil ? 0 : 1), width: readWidth, blockHeight: rasters.blockHeight,
                                stripHeight: s, regionRows: region.row..<(region.row + region.height))
        let files = rasters.source.bands.count + (rasters.source.qaFile == nil ? 0 : 1)
        let blockRow = files * rasters.width * max(rasters.blockHeight, s) * 2
        let cache = blockCacheBytes ?? min(max(blockRow, 32 << 20), 256 << 20)
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
        let (rasters, column, readWidth) = (self.rasters, grid.region.column, self.readWidth)
        try blocks.ensure(rows) { plane, range, target in
            let window = RasterWindow(column: column, row: range.lowerBound, width: readWidth, height: range.count)
            if plane < planes {
                try rasters.readBand(plane, window: window, into: target, lineStride: readWidth)
            } else {
                _ = try rasters.readQA(window: window, into: target, lineStride: readWidth)
            }
        }
        let partial = rows.count < s || readWidth < w
        strip.withUnsafeMutableBufferPointer { buf in
            if partial { buf.update(repeating: 0) }
            for b in 0..<planes {
                blocks.copy(rows, plane: b, into: UnsafeMutableBufferPointer(rebasing: buf[(b * s * w)..<((b + 1) * s * w)]), lineStride: w)
            }
        }
        let hasQA = rasters.source.qaFile != nil
        if hasQA { qa.withUnsafeMutableBufferPointer { blocks.copy(rows, plane: planes, into: $0, lineStride: w) } }
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
