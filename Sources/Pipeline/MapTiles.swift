/// Why a tile of the grid is or is not sent to the encoder.
public enum TileStatus: UInt8, Sendable, Equatable, Codable {
    /// Valid fraction ≥ `--min-valid` and at least one valid pixel: encoded and mapped.
    case mapped = 0
    /// No valid pixel (fill everywhere, outside the footprint): nodata in every output.
    case noValidPixels = 1
    /// Some valid pixels, but fewer than `--min-valid` of the tile: nodata in every output.
    case belowMinValid = 2

    /// The status of a tile with valid-pixel fraction `fraction` under `--min-valid minValid`.
    public static func classify(validFraction fraction: Double, minValid: Double) -> TileStatus {
        if fraction <= 0 { return .noValidPixels }
        return fraction < minValid ? .belowMinValid : .mapped
    }
}

/// A tile's place in the scene's tile grid and what happens to it.
public struct TileRef: Sendable, Equatable {
    public var row: Int32
    public var col: Int32
    public var status: TileStatus
    public var validFraction: Float
    public init(row: Int, col: Int, status: TileStatus, validFraction: Float) {
        self.row = Int32(row); self.col = Int32(col); self.status = status; self.validFraction = validFraction
    }
}

/// The encoder inputs of the mapped tiles of a ``TileStrip`` or ``TileBatch``, one entry per mapped
/// tile in raster order (the tiles without pixels are not listed).
public struct MappedTileInputs: Sendable, Equatable {
    /// Raw digital numbers, `[mapped, B, S, S]` in the model's band order.
    public var pixels: [UInt16] = []
    /// Per mapped tile: ISO week, true UTC hour with fraction, tile-centre latitude and longitude (degrees).
    public var week: [Int] = []
    public var hour: [Double] = []
    public var lat: [Double] = []
    public var lon: [Double] = []

    public init(pixels: [UInt16] = [], week: [Int] = [], hour: [Double] = [], lat: [Double] = [], lon: [Double] = []) {
        self.pixels = pixels; self.week = week; self.hour = hour; self.lat = lat; self.lon = lon
    }

    /// Mapped tiles held.
    public var count: Int { week.count }

    /// Appends mapped tile `m` of `other` (`valuesPerTile` pixel values per tile).
    public mutating func append(_ m: Int, of other: MappedTileInputs, valuesPerTile: Int) {
        pixels.append(contentsOf: other.pixels[(m * valuesPerTile)..<((m + 1) * valuesPerTile)])
        week.append(other.week[m]); hour.append(other.hour[m]); lat.append(other.lat[m]); lon.append(other.lon[m])
    }
}

/// Tiles of whole tile rows `firstRow ..< firstRow + rowCount`, as the tiler hands them to the batcher.
///
/// `tiles` lists every grid tile of those rows in row-major order; ``mapped`` holds the inputs of only
/// the tiles whose status is ``TileStatus/mapped``, in the same order (`strip.week` is `strip.mapped.week`).
@dynamicMemberLookup
public struct TileStrip: Sendable {
    public var firstRow: Int
    public var rowCount: Int
    public var tiles: [TileRef]
    public var mapped: MappedTileInputs

    public init(firstRow: Int, rowCount: Int, tiles: [TileRef], pixels: [UInt16], week: [Int], hour: [Double],
                lat: [Double], lon: [Double]) {
        self.firstRow = firstRow; self.rowCount = rowCount; self.tiles = tiles
        mapped = MappedTileInputs(pixels: pixels, week: week, hour: hour, lat: lat, lon: lon)
    }

    public subscript<T>(dynamicMember path: WritableKeyPath<MappedTileInputs, T>) -> T {
        get { mapped[keyPath: path] }
        _modify { yield &mapped[keyPath: path] }   // in place: no copy of the arrays on append
    }

    public var mappedCount: Int { mapped.count }
}

/// A batch for the encoder: consecutive grid tiles (raster order) of which at most `batch-size` are
/// mapped. Skipped tiles ride along without pixels so the writer sees every tile in order; ``mapped``
/// holds the inputs of the mapped ones (`batch.lat` is `batch.mapped.lat`).
@dynamicMemberLookup
public struct TileBatch: Sendable {
    /// Position of the batch in the scene (the writer restores this order).
    public var sequence: Int
    public var tiles: [TileRef]
    public var mapped: MappedTileInputs

    public init(sequence: Int, tiles: [TileRef] = [], mapped: MappedTileInputs = MappedTileInputs()) {
        self.sequence = sequence; self.tiles = tiles; self.mapped = mapped
    }

    public subscript<T>(dynamicMember path: WritableKeyPath<MappedTileInputs, T>) -> T {
        get { mapped[keyPath: path] }
        _modify { yield &mapped[keyPath: path] }   // in place: no copy of the arrays on append
    }

    public var mappedCount: Int { mapped.count }
}

/// What the encoder workers return for a ``TileBatch`` (arrays over its mapped tiles, in order).
public struct BatchResult: Sendable {
    public var sequence: Int
    public var tiles: [TileRef]
    /// `[mapped]` index of the highest-scoring probe class (the first on ties).
    public var labels: [UInt8]
    /// `[mapped, L, T, K]` the experts each token chose per encoder layer, best first (`embed`'s `experts`).
    public var routing: [UInt8]
    /// `[mapped, C]` class probabilities (only when scores are written).
    public var scores: [Float]?
    /// `[mapped, D]` the probe's feature (only when embeddings are written).
    public var embeddings: [Float]?

    public init(sequence: Int, tiles: [TileRef], labels: [UInt8], routing: [UInt8], scores: [Float]?, embeddings: [Float]?) {
        self.sequence = sequence; self.tiles = tiles; self.labels = labels; self.routing = routing
        self.scores = scores; self.embeddings = embeddings
    }
}

/// The reader and tiler of one scene. The reader stage calls ``read(rows:)`` and the tiler stage
/// ``tiles(from:)``, each from its own thread (one at a time), so an implementation may keep a GDAL
/// dataset handle for reading and a PROJ transformer for tiling.
public protocol SceneTileSource: AnyObject {
    associatedtype Strip
    var gridRows: Int { get }
    var gridCols: Int { get }
    /// Tile rows per read: chosen so a read is aligned with the files' internal blocks.
    var rowsPerStrip: Int { get }
    /// Reads the pixels of tile rows `rows` (GDAL I/O only).
    func read(rows: Range<Int>) throws -> Strip
    /// Validity, valid fraction, status under `minValid`, geo-temporal metadata — exactly as `tile` does.
    func tiles(from strip: Strip, minValid: Double) throws -> TileStrip
}

/// One encoder worker: turns a batch of tiles into labels, routing and optional scores/embeddings.
/// Each worker has its own instance (its own workspaces); instances are never shared between threads.
public protocol TileBatchEncoder: AnyObject {
    func encode(_ batch: TileBatch) throws -> BatchResult
}
