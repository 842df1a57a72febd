import Foundation

/// `run-summary.json` written by `moemae map` in the output folder (schema: `schemas/run-summary.schema.json`;
/// each `<product>_summary.json` is one ``Scene``, the schema's `$defs/scene`).
///
/// Counts are tiles of the scene's tile grid. `tiles_read` = every grid tile; `tiles_mapped` + skipped
/// = `tiles_read`. Timings are per pipeline stage (see ``StageTiming``).
public struct RunSummary: Codable, Equatable, Sendable {
    public static let formatName = "moemae-map-summary"
    public var format = RunSummary.formatName
    public var formatVersion = 1
    /// moemae version that wrote the file.
    public var moemaeVersion: String
    public var started: String
    public var wallSeconds: Double
    /// The weights and probe files used (`--weights`/`--probe` or the bundled model's; ``BundledModel``).
    /// Absent in files written before they were recorded.
    public var weights: String?
    public var probe: String?
    public var weightsSHA256: String
    public var probeSHA256: String
    public var options: [String: String]
    public var scenes: [Scene]
    public var timings: [StageTiming]
    /// Inputs (or items of a collection) that could not be read or mapped, with the reason; absent when
    /// every scene was mapped. The run then exits with status 1 after mapping the others.
    public var failed: [Failure]?

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", moemaeVersion = "moemae_version", started
        case wallSeconds = "wall_s", weights, probe, weightsSHA256 = "weights_sha256", probeSHA256 = "probe_sha256"
        case options, scenes, timings, failed
    }

    /// A scene input that was not mapped: what the user gave (plus the item for collections) and why.
    public struct Failure: Codable, Equatable, Sendable {
        public var input: String
        public var error: String
        public init(input: String, error: String) { self.input = input; self.error = error }
    }

    public init(moemaeVersion: String, started: String, wallSeconds: Double, weightsSHA256: String,
                probeSHA256: String, options: [String: String], scenes: [Scene], timings: [StageTiming]) {
        self.moemaeVersion = moemaeVersion; self.started = started; self.wallSeconds = wallSeconds
        self.weightsSHA256 = weightsSHA256; self.probeSHA256 = probeSHA256; self.options = options
        self.scenes = scenes; self.timings = timings
    }

    public struct Skipped: Codable, Equatable, Sendable {
        /// Tiles with no valid pixel (fill everywhere, or outside the footprint).
        public var noValidPixels = 0
        /// Tiles with some valid pixels but a valid fraction below `--min-valid`.
        public var belowMinValid = 0
        public var total: Int { noValidPixels + belowMinValid }
        public init() {}
        enum CodingKeys: String, CodingKey { case noValidPixels = "no_valid_pixels", belowMinValid = "below_min_valid" }
    }

    public struct ClassCount: Codable, Equatable, Sendable {
        public var value: Int
        public var name: String
        public var tiles: Int
        public init(value: Int, name: String, tiles: Int) { self.value = value; self.name = name; self.tiles = tiles }
    }

    public struct LayerUsage: Codable, Equatable, Sendable {
        public var layer: Int
        public var experts: Int
        /// Every routing slot (top-k) counted.
        public var assignments: [Int]
        /// Only each token's first choice counted.
        public var top1: [Int]
        /// σ/μ of `assignments` over the layer's experts (population σ); 0 = balanced.
        public var coefficientOfVariation: Double
        enum CodingKeys: String, CodingKey {
            case layer, experts, assignments, top1, coefficientOfVariation = "load_balance_cv"
        }
    }

    public struct Scene: Codable, Equatable, Sendable {
        public var id: String
        public var tilesRead: Int
        public var tilesMapped: Int
        public var skipped: Skipped
        public var classHistogram: [ClassCount]
        public var experts: [LayerUsage]
        /// Output file names (relative to the output folder).
        public var outputs: [String]
        /// Tile rows taken from a previous interrupted run (`--resume`); 0 otherwise.
        public var resumedRows: Int
        public var wallSeconds: Double
        /// The run fingerprint (``RunFingerprint``: inputs, weights, probe, output-affecting options) the
        /// outputs were made with. `--resume` skips a scene whose published summary holds the same
        /// fingerprint instead of refusing its existing outputs. Absent in files written before it existed.
        public var runFingerprint: String?
        /// True when `--resume` found this scene already complete and left its outputs as they were.
        public var alreadyComplete: Bool?
        /// Every file the scene was read from, as URLs for remote ones (`s3://…`, `https://…`): the STAC
        /// Item, the MTL, the band and QA files.
        public var sources: [String]?
        enum CodingKeys: String, CodingKey {
            case id, tilesRead = "tiles_read", tilesMapped = "tiles_mapped", skipped
            case classHistogram = "class_histogram", experts, outputs, resumedRows = "resumed_rows", wallSeconds = "wall_s"
            case runFingerprint = "run_fingerprint", alreadyComplete = "already_complete", sources
        }
        public init(id: String, tilesRead: Int, tilesMapped: Int, skipped: Skipped, classHistogram: [ClassCount],
                    experts: [LayerUsage], outputs: [String], resumedRows: Int, wallSeconds: Double) {
            self.id = id; self.tilesRead = tilesRead; self.tilesMapped = tilesMapped; self.skipped = skipped
            self.classHistogram = classHistogram; self.experts = experts; self.outputs = outputs
            self.resumedRows = resumedRows; self.wallSeconds = wallSeconds
        }
    }

    public func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(self)
    }
}
