import Diagnostics
import Foundation
import Landsat
import MoEMAE
import Tiling

/// Which encoder layers get a token-resolution expert map (`--token-experts`).
public enum TokenExpertLayers: Equatable, Sendable, CustomStringConvertible {
    case none
    case all
    case layers([Int])

    /// Parses the command-line form: `all`, or a comma-separated list of 0-based layer indices (`0,3,5`).
    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.lowercased() == "all" { self = .all; return }
        var out: [Int] = []
        for part in t.split(separator: ",", omittingEmptySubsequences: false) {
            guard let v = Int(part.trimmingCharacters(in: .whitespaces)), v >= 0 else {
                throw MapOptionsError("token-experts: '\(text)' is not 'all' or a comma-separated list of layer indices ≥ 0 (e.g. 0,3,5)", settings: [.tokenExperts])
            }
            out.append(v)
        }
        self = .layers(out)
    }

    /// The chosen layers, for a model with `layerCount` encoder layers (sorted, without duplicates).
    /// Throws when a layer index is out of range.
    public func resolve(layerCount: Int) throws -> [Int] {
        switch self {
        case .none: return []
        case .all: return Array(0..<layerCount)
        case .layers(let l):
            if let bad = l.first(where: { $0 >= layerCount }) {
                throw MapOptionsError("token-experts: layer \(bad) does not exist; the encoder has \(layerCount) layers (0…\(layerCount - 1))", settings: [.tokenExperts])
            }
            return Array(Set(l)).sorted()
        }
    }

    public var description: String {
        switch self {
        case .none: return "none"
        case .all: return "all"
        case .layers(let l): return l.map(String.init).joined(separator: ",")
        }
    }
}

/// A bad option value (command line or pipeline file): what is wrong, named by the option's name in
/// pipeline files (`queue-depth`), and the ``Setting``s that fix it (the command line names its flags).
public struct MapOptionsError: Error, CustomStringConvertible {
    public let message: String
    public let settings: [Setting]
    public init(_ message: String, settings: [Setting] = []) { self.message = message; self.settings = settings }
    /// `<message> (setting: …)`.
    public var description: String { message + Setting.mention(settings) }
}

extension MapOptionsError: DiagnosedError {
    public var kind: FailureKind { .invalidArgument }
}

/// Everything `moemae map` needs to know. The command line and the pipeline YAML files
/// (`moemae run`, `schemas/pipeline.schema.json`) use the same names: ``fieldNames``.
public struct MapOptions: Equatable, Sendable {
    /// Landsat scene folders or MTL files.
    public var scenes: [String]
    /// Encoder weights (safetensors).
    public var weights: String
    /// Linear probe (safetensors written by `moemae probe fit` / `probe import`).
    public var probe: String
    /// Output folder (created if missing).
    public var out: String
    /// Encoder workers running batches in parallel.
    public var workers: Int = MapOptions.defaultWorkers
    /// Tiles per encoder batch.
    public var batchSize: Int = MapOptions.defaultBatchSize
    /// OpenBLAS threads per encoder worker.
    public var blasThreads: Int = MapOptions.defaultBLASThreads
    /// Number format of the encoder's matrix products (bf16 needs AVX512_BF16; refused elsewhere).
    public var precision: Precision = .fp32
    /// Capacity of every queue between stages.
    public var queueDepth: Int = MapOptions.defaultQueueDepth
    /// Tiles whose valid-pixel fraction is below this are skipped (nodata in every output).
    public var minValid: Double = 0
    public var tokenExperts: TokenExpertLayers = .none
    /// Write `<product>_scores.tif` (class probabilities).
    public var scores = false
    /// Write `<product>_embeddings.tif` (D Float32 bands).
    public var embeddings = false
    /// Write PNG quick-looks (``MapPreviews``) next to the rasters.
    public var preview = false
    /// Continue an interrupted run of the same inputs and options.
    public var resume = false
    /// No progress output.
    public var quiet = false
    /// Hour policy for the model's hour input; nil = the weights' recorded policy (else `utc`).
    public var hour: HourPolicy?
    /// Zero metadata vectors, as the published EuroSAT evaluation.
    public var noMetadata = false
    /// Allow scenes that are not Collection 2 Level-2 surface reflectance (results are not meaningful).
    public var allowNonSR = false
    /// Replace existing outputs with final names in `out`.
    public var overwrite = false
    /// Seconds between checkpoints of a scene's writer (`fsync` of the row store + `progress.json`): an
    /// interrupted run loses at most this much work; checkpointing every row would cost an `fsync` per
    /// row. A parameter of the job for library callers and tests (0 = every row), not a command-line
    /// option and not output-affecting.
    public var checkpointInterval: Double = MapOptions.defaultCheckpointInterval

    /// Defaults measured on the 2-core reference machine (docs/performance.md, "Map").
    public static let defaultWorkers = 2
    public static let defaultBatchSize = 64
    public static let defaultBLASThreads = 1
    public static let defaultQueueDepth = 4
    public static let defaultCheckpointInterval = 1.0

    /// The option names shared by `moemae map` and pipeline files, in documentation order.
    public static let fieldNames = [
        "scenes", "weights", "probe", "out", "workers", "batch-size", "blas-threads", "precision", "queue-depth", "min-valid",
        "token-experts", "scores", "embeddings", "preview", "resume", "quiet", "hour", "no-metadata", "allow-non-sr", "overwrite",
    ]

    public init(scenes: [String], weights: String, probe: String, out: String) {
        self.scenes = scenes; self.weights = weights; self.probe = probe; self.out = out
    }

    /// Range checks shared by the command line and pipeline files.
    public func validate() throws {
        if scenes.isEmpty { throw MapOptionsError("no scene given: pass at least one Landsat scene folder or MTL file") }
        if weights.isEmpty { throw MapOptionsError("the weights path is empty: give the encoder weights file", settings: [.weights]) }
        if probe.isEmpty { throw MapOptionsError("the probe path is empty: give the probe file", settings: [.probe]) }
        if out.isEmpty { throw MapOptionsError("the output path is empty: give the output folder", settings: [.out]) }
        try Self.validateEncoderSettings(workers: workers, batchSize: batchSize, blasThreads: blasThreads)
        if !(1...1024).contains(queueDepth) { throw MapOptionsError("queue-depth must be between 1 and 1024 (got \(queueDepth))", settings: [.queueDepth]) }
        if !(minValid >= 0 && minValid <= 1) { throw MapOptionsError("min-valid must be a fraction between 0 and 1 (got \(minValid))", settings: [.minValid]) }
        if case .layers(let l) = tokenExperts, l.isEmpty { throw MapOptionsError("token-experts: give at least one layer index, or 'all'", settings: [.tokenExperts]) }
    }

    /// Range checks of the encoder settings, shared by `map`, `embed` and pipeline files: workers 1…64,
    /// batch size 1…4096 tiles, BLAS threads 1…256 per worker. Throws ``MapOptionsError``.
    public static func validateEncoderSettings(workers: Int, batchSize: Int, blasThreads: Int) throws {
        if !(1...64).contains(workers) { throw MapOptionsError("workers must be between 1 and 64 (got \(workers))", settings: [.workers]) }
        if !(1...4096).contains(batchSize) { throw MapOptionsError("batch-size must be between 1 and 4096 (got \(batchSize))", settings: [.batchSize]) }
        if !(1...256).contains(blasThreads) { throw MapOptionsError("blas-threads must be between 1 and 256 (got \(blasThreads))", settings: [.blasThreads]) }
    }

    /// The options that change what is written (not how fast), as text: part of the resume fingerprint
    /// and of the run summary.
    public var outputAffecting: [String: String] {
        [
            "min-valid": String(minValid), "token-experts": tokenExperts.description, "scores": String(scores),
            "embeddings": String(embeddings), "preview": String(preview), "hour": hour?.rawValue ?? "default (the probe's, else the weights', else utc)",
            "no-metadata": String(noMetadata), "allow-non-sr": String(allowNonSR), "precision": precision.rawValue,
        ]
    }

    /// Every option as text (run summary).
    public var summaryFields: [String: String] {
        var d = outputAffecting
        d["workers"] = String(workers); d["batch-size"] = String(batchSize); d["blas-threads"] = String(blasThreads)
        d["queue-depth"] = String(queueDepth); d["resume"] = String(resume); d["quiet"] = String(quiet)
        d["overwrite"] = String(overwrite)
        return d
    }
}
