/// Groups the tiles of consecutive strips into encoder batches of `batchSize` mapped tiles, keeping
/// raster order. Skipped tiles travel with the batch that follows them; a batch is also closed when it
/// carries `maxTiles` tiles in all (long stretches of fill would otherwise pile up) and at the end.
public struct TileBatcher {
    public let batchSize: Int
    public let maxTiles: Int
    private var current: TileBatch
    private var nextSequence = 0
    /// Pixel values per mapped tile (B·S·S); learnt from the first strip with a mapped tile.
    public private(set) var valuesPerTile: Int

    public init(batchSize: Int, valuesPerTile: Int, maxTiles: Int? = nil) {
        self.batchSize = max(1, batchSize)
        self.maxTiles = max(self.batchSize, maxTiles ?? 8 * self.batchSize)
        self.valuesPerTile = valuesPerTile
        current = TileBatch(sequence: 0)
    }

    /// Adds a strip; calls `emit` for each batch it completes.
    public mutating func add(_ strip: TileStrip, emit: (TileBatch) throws -> Void) throws {
        var m = 0
        for tile in strip.tiles {
            current.tiles.append(tile)
            if tile.status == .mapped {
                current.mapped.append(m, of: strip.mapped, valuesPerTile: valuesPerTile)
                m += 1
            }
            if current.mappedCount == batchSize || current.tiles.count >= maxTiles { try flush(emit) }
        }
    }

    /// Sets the pixel count per tile (allowed while no mapped tile was batched).
    public mutating func setValuesPerTile(_ n: Int) {
        precondition(current.mapped.pixels.isEmpty, "TileBatcher: tile size changed after tiles were batched")
        valuesPerTile = n
    }

    /// Emits the last, partial batch (if any tile is pending).
    public mutating func finish(emit: (TileBatch) throws -> Void) throws {
        if !current.tiles.isEmpty { try flush(emit) }
    }

    private mutating func flush(_ emit: (TileBatch) throws -> Void) throws {
        var batch = current
        batch.sequence = nextSequence
        nextSequence += 1
        current = TileBatch(sequence: nextSequence)
        current.mapped.pixels.reserveCapacity(batchSize * valuesPerTile)
        try emit(batch)
    }
}
