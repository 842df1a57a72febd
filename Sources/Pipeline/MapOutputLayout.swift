/// What a scene's map outputs hold, and how one tile row of them is laid out in the row store.
///
/// A row record (one tile row of the grid, `cols` tiles) is the written products of
/// ``MapProduct/all`` one after another, each band-sequential: `labels` u8 [cols] · `experts` u8 [L, cols] ·
/// `token experts` u8 [Lt, 10, 10·cols] · `scores` f32 [C, cols] · `embeddings` f32 [D, cols] (the
/// last three only when requested). A part may start at any byte offset (e.g. scores after an odd
/// number of bytes): it is read and written with unaligned raw loads and stores only, never through a
/// typed pointer into the record.
public struct MapOutputLayout: Sendable, Equatable {
    /// Nodata of the UInt8 rasters (labels, experts, token experts).
    public static let byteNoData: UInt8 = 255
    /// Nodata of the Float32 rasters (scores, embeddings): NaN.
    public static let floatNoData = Float.nan

    public var gridRows: Int
    public var gridCols: Int
    /// Experts of each encoder layer (L entries).
    public var expertsPerLayer: [Int]
    /// Tokens per tile (105) and routing slots per token (2).
    public var tokens: Int
    public var slots: Int
    public var classNames: [String]
    /// RGB per class.
    public var classColors: [[UInt8]]
    /// Encoder layers with a token-resolution expert map (sorted).
    public var tokenLayers: [Int]
    public var writeScores: Bool
    /// Embedding dimension when embeddings are written, else nil.
    public var embeddingDimension: Int?

    public init(gridRows: Int, gridCols: Int, expertsPerLayer: [Int], tokens: Int = 105, slots: Int = 2,
                classNames: [String], classColors: [[UInt8]], tokenLayers: [Int] = [], writeScores: Bool = false,
                embeddingDimension: Int? = nil) {
        self.gridRows = gridRows; self.gridCols = gridCols; self.expertsPerLayer = expertsPerLayer
        self.tokens = tokens; self.slots = slots; self.classNames = classNames; self.classColors = classColors
        self.tokenLayers = tokenLayers; self.writeScores = writeScores; self.embeddingDimension = embeddingDimension
    }

    public var layers: Int { expertsPerLayer.count }
    public var classCount: Int { classNames.count }

    /// A written product and where its part of a row record lies.
    public struct Part {
        public let product: MapProduct
        /// Byte offset in the record.
        public let offset: Int
        public let bands: Int
        /// Samples per pixel row of a band (grid columns × pixels per tile side).
        public let width: Int
        /// Pixel rows per tile row (pixels per tile side).
        public let height: Int
        public var byteCount: Int { bands * width * height * product.sampleType.size }

        /// The part inside a record starting at `record`.
        func row(in record: UnsafeMutableRawPointer) -> ProductRow {
            ProductRow(base: record + offset, sampleType: product.sampleType, bands: bands, width: width, height: height)
        }
    }

    /// The products this layout writes, in ``MapProduct/all`` order, with their place in a row record.
    public var parts: [Part] {
        var offset = 0
        var out: [Part] = []
        for product in MapProduct.all where product.isWritten(self) {
            let s = product.grid.pixelsPerTileSide
            let part = Part(product: product, offset: offset, bands: product.bandCount(self), width: gridCols * s, height: s)
            out.append(part)
            offset += part.byteCount
        }
        return out
    }

    /// Bytes of one row record.
    public var recordBytes: Int { parts.reduce(0) { $0 + $1.byteCount } }

    /// A row record with every tile set to nodata.
    func emptyRecord() -> [UInt8] {
        var r = [UInt8](repeating: Self.byteNoData, count: recordBytes)
        r.withUnsafeMutableBytes { raw in
            for part in parts where part.product.sampleType == .float32 {
                for i in 0..<(part.byteCount / 4) {
                    raw.storeBytes(of: Self.floatNoData, toByteOffset: part.offset + 4 * i, as: Float.self)
                }
            }
        }
        return r
    }
}

/// Builds the row records from batch results arriving in raster order and keeps the statistics of
/// complete rows and of the row being filled apart (so a checkpoint never counts a half row).
public struct RowAssembler {
    public let layout: MapOutputLayout
    private let parts: [MapOutputLayout.Part]
    /// The tile row being filled.
    public private(set) var row: Int
    private var record: [UInt8]
    private var filled = 0
    /// Statistics of complete rows (what a checkpoint saves).
    public private(set) var committed: SceneStatistics
    private var pending: SceneStatistics

    public init(layout: MapOutputLayout, startRow: Int, committed: SceneStatistics) {
        self.layout = layout; parts = layout.parts; row = startRow; self.committed = committed
        record = layout.emptyRecord()
        pending = SceneStatistics(classCount: layout.classCount, expertsPerLayer: layout.expertsPerLayer)
    }

    /// Places every tile of `result` (which must continue where the previous one stopped) and calls
    /// `completeRow(row, record, committed)` for each tile row it completes, with the statistics of
    /// every complete row including this one.
    public mutating func add(_ result: BatchResult, completeRow: (Int, [UInt8], SceneStatistics) throws -> Void) throws {
        let L = layout.layers, T = layout.tokens, K = layout.slots, cols = layout.gridCols
        let routingPerTile = L * T * K
        let C = layout.classCount, D = layout.embeddingDimension ?? 0
        guard result.labels.count * routingPerTile == result.routing.count else {
            throw MapOptionsError("internal: routing of \(result.routing.count) values for \(result.labels.count) tiles")
        }
        var mappedIndex = 0
        for tile in result.tiles {
            precondition(Int(tile.row) == row && Int(tile.col) == filled,
                         "RowAssembler: tile (\(tile.row), \(tile.col)) arrived, expected (\(row), \(filled))")
            if tile.status == .mapped {
                let m = mappedIndex
                mappedIndex += 1
                let label = result.labels[m]
                pending.tilesMapped += 1
                if Int(label) < C { pending.classCounts[Int(label)] += 1 }
                let scores = result.scores.flatMap { $0.count >= (m + 1) * C ? $0[(m * C)..<((m + 1) * C)] : nil }
                let embedding = D > 0 ? result.embeddings.flatMap { $0.count >= (m + 1) * D ? $0[(m * D)..<((m + 1) * D)] : nil } : nil
                result.routing.withUnsafeBufferPointer { all in
                    let r = UnsafeBufferPointer(rebasing: all[(m * routingPerTile)..<((m + 1) * routingPerTile)])
                    pending.expertUsage.add(tileExperts: r, tokens: T, slots: K)
                    let mapped = MappedTile(layout: layout, column: filled, label: label, routing: r, scores: scores, embedding: embedding)
                    record.withUnsafeMutableBytes { raw in
                        for part in parts { part.product.fill(mapped, part.row(in: raw.baseAddress!)) }
                    }
                }
            } else if tile.status == .noValidPixels {
                pending.skipped.noValidPixels += 1
            } else {
                pending.skipped.belowMinValid += 1
            }
            filled += 1
            if filled == cols {
                // Statistics first, so `committed` includes the row when the callback checkpoints it.
                committed.merge(pending)
                pending = SceneStatistics(classCount: C, expertsPerLayer: layout.expertsPerLayer)
                try completeRow(row, record, committed)
                record = layout.emptyRecord()
                filled = 0
                row += 1
            }
        }
    }

    /// True when every row up to the grid's end is complete.
    public var isComplete: Bool { row == layout.gridRows && filled == 0 }
}

/// Counts over the tiles of a scene (or part of one).
public struct SceneStatistics: Codable, Equatable, Sendable {
    public var tilesMapped = 0
    public var skipped = RunSummary.Skipped()
    public var classCounts: [Int]
    public var expertUsage: ExpertUsage

    public init(classCount: Int, expertsPerLayer: [Int]) {
        classCounts = Array(repeating: 0, count: classCount)
        expertUsage = ExpertUsage(expertsPerLayer: expertsPerLayer)
    }

    public mutating func merge(_ o: SceneStatistics) {
        tilesMapped += o.tilesMapped
        skipped.noValidPixels += o.skipped.noValidPixels
        skipped.belowMinValid += o.skipped.belowMinValid
        for i in 0..<min(classCounts.count, o.classCounts.count) { classCounts[i] += o.classCounts[i] }
        expertUsage.merge(o.expertUsage)
    }

    enum CodingKeys: String, CodingKey {
        case tilesMapped = "tiles_mapped", skipped, classCounts = "class_counts", expertUsage = "expert_usage"
    }
}
