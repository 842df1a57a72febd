import Diagnostics
import Foundation
import Landsat
import MoEMAE
import MoEMAETraining
import Tiling

/// `moemae pretrain` as a library call: sets up a new run (random initialisation or start weights) or
/// continues one from its checkpoint, trains with ``Pretrainer`` on tile datasets (``DatasetTileSource``),
/// appends one JSON object per step to `train.jsonl` (``TrainingLog``) and writes `checkpoint.safetensors`
/// and `weights.safetensors` into ``folder`` every ``checkpointEvery`` steps and at the end.
///
/// Refusals are ``PretrainingError``s naming the file or folder concerned; they describe what is wrong
/// and leave the command-line advice (flags) to the caller.
public struct PretrainJob {
    /// Dataset folders written by `moemae tile` (or bare shard files); may be empty when continuing a
    /// run (its datasets are used).
    public var datasets: [String]
    /// Output folder (created if missing); nil when continuing a run in its own folder.
    public var out: String?
    public var epochs = 10
    /// Tiles per optimizer step.
    public var batchSize = 32
    public var seed: UInt64 = 0
    /// Tiles whose valid-pixel fraction is below this (0…1) are skipped.
    public var minValid = 0.0
    /// Steps between checkpoints (0: only at the end).
    public var checkpointEvery = 100
    /// The folder of an earlier run to continue (its settings are used).
    public var resume: String?
    /// Start weights (published key names, decoder included) instead of a random initialisation.
    public var initWeights: String?
    /// Model size of a new run (S, XS, XXS; default S, or that of ``initWeights``).
    public var preset: String?
    /// Hour policy; nil: the datasets' (``ModelInputResolver/forTraining(datasets:paths:start:hour:noMetadata:)``).
    public var hour: HourPolicy?
    public var noMetadata = false
    /// Worker threads of the training step.
    public var workers = 2
    /// Stop after this many optimizer steps in total (the schedule still spans every epoch).
    public var maxSteps: Int?
    /// Start a new run in a folder that holds an earlier run's weights, checkpoint or log.
    public var overwrite = false

    /// The files of a run folder.
    public static let weightsFileName = "weights.safetensors"
    public static let logFileName = "train.jsonl"

    public init(datasets: [String], out: String?) {
        self.datasets = datasets; self.out = out
    }

    /// How the run ended.
    public struct Outcome: Sendable {
        /// The run folder.
        public var folder: String
        /// Optimizer steps done in total (including those of the run that was continued).
        public var steps: Int
        /// Set when `cancellation` stopped the run (the checkpoint was written).
        public var stoppedBy: CancellationReason?
        public var weightsPath: String { (folder as NSString).appendingPathComponent(PretrainJob.weightsFileName) }
    }

    /// Runs the job. `progress` gets one-line reports (set-up, every tenth step, resumption); `cancellation`
    /// is checked between steps (the checkpoint is then written and ``Outcome/stoppedBy`` set). Throws
    /// ``PretrainingError`` (inputs that contradict each other or an existing run), ``OutputExists``, or
    /// the errors of the datasets, weights and checkpoint readers, each naming its file.
    @discardableResult
    public func run(progress: (String) -> Void = { _ in }, cancellation: CancellationToken = CancellationToken()) throws -> Outcome {
        let fm = FileManager.default
        var run: PretrainingRun
        var store: ParameterStore
        var optimizer: AdamW? = nil
        var encoding = InputEncoding()
        var startWeights: WeightsMetadata? = nil   // the start weights' training record (normalisation, hour policy)
        let folder: String
        var datasetPaths = datasets
        if let resume {
            folder = out ?? resume
            let ck = try Self.readCheckpoint(folder: resume)
            run = ck.run; store = ck.store; optimizer = ck.optimizer; encoding = ck.weightsMetadata.inputEncoding
            if datasetPaths.isEmpty { datasetPaths = run.datasets }
            if datasetPaths != run.datasets {
                throw PretrainingError(.incompatible, path: resume, "the run was trained on \(run.datasets.joined(separator: ", "))",
                                       hint: "give the same datasets (or none)", conflict: .resumedRunDiffers)
            }
            progress("resuming \(resume) at step \(ck.optimizer.step) of \(run.totalSteps)")
        } else {
            guard let out else { throw PretrainingError(.invalidArgument, "no output folder for a new run") }
            folder = out
            // A new run must not silently replace an earlier run's model; an interrupted run is continued.
            if !overwrite, let existing = [Self.weightsFileName, TrainingCheckpoint.fileName, Self.logFileName]
                .map({ (folder as NSString).appendingPathComponent($0) }).first(where: { fm.fileExists(atPath: $0) }) {
                throw OutputExists(path: existing, detail: "an earlier pretraining run")
            }
            run = PretrainingRun()
            run.epochs = epochs; run.batchSize = batchSize; run.seed = seed; run.minValid = minValid
            run.datasets = datasets
            if let initWeights {
                let sd = try StateDict.load(path: initWeights)
                let config = try ModelConfig.infer(from: sd)
                guard config.decoder != nil else {
                    throw PretrainingError(.incompatible, path: initWeights, "has no decoder weights (decoder_embed.*); pretraining needs the whole masked autoencoder")
                }
                // The start weights decide the model size; a preset that says otherwise is a mistake, not ignored.
                if let preset, preset.uppercased() != config.preset.uppercased() {
                    throw PretrainingError(.incompatible, path: initWeights, "holds preset \(config.preset) weights, not \(preset)",
                                           conflict: .presetVersusStartWeights(preset: preset, startPreset: config.preset))
                }
                store = try ParameterStore(layout: try ParameterLayout(config: config), weights: sd)
                startWeights = try WeightsMetadata.read(path: initWeights)
            } else {
                guard let config = ModelConfig.preset(named: preset ?? "S") else {
                    throw PretrainingError(.invalidArgument, "unknown preset \(preset ?? ""); presets are S, XS and XXS")
                }
                store = ParameterStore(layout: try ParameterLayout(config: config), seed: seed)
            }
        }
        let opened = try datasetPaths.map { try Dataset(path: $0) }
        if resume == nil {
            // The chosen hour policy, else the datasets' (they must agree); metadata when a dataset has it.
            encoding = try ModelInputResolver.forTraining(datasets: opened, paths: datasetPaths, start: startWeights,
                                                          hour: hour, noMetadata: noMetadata).encoding
        }
        let source = try DatasetTileSource(datasets: opened, minValid: run.minValid)
        if let resume, source.count != run.tiles {
            throw PretrainingError(.incompatible, path: resume, "the datasets \(datasetPaths.joined(separator: ", ")) now hold \(source.count) training tiles, the run had \(run.tiles)",
                                   conflict: .resumedRunDiffers)
        }
        run.tiles = source.count
        try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let trainer = try Pretrainer(store: store, optimizer: optimizer, run: run, encoding: encoding, source: source, workers: workers)
        progress("pretraining \(store.config.preset) (\(store.layout.totalCount) parameters) on \(source.count) tiles"
                 + (source.skipped > 0 ? " (\(source.skipped) below the minimum valid fraction \(run.minValid) skipped)" : "")
                 + "; \(run.epochs) epochs × \(run.stepsPerEpoch) steps of \(run.batchSize); hour policy \(encoding.hour.rawValue)")

        let log = try TrainingLog(path: (folder as NSString).appendingPathComponent(Self.logFileName), keepingStepsUpTo: trainer.stepsDone)
        func metadata(_ t: Pretrainer) -> WeightsMetadata {
            WeightsMetadata(preset: t.store.config.preset, config: t.store.config, encoding: encoding, trainedSteps: t.stepsDone)
        }
        func saveCheckpoint(_ t: Pretrainer) throws {
            try TrainingCheckpoint(store: t.store, optimizer: t.optimizer, run: t.run, weightsMetadata: metadata(t)).write(folder: folder)
            try WeightsWriter.write(t.store, metadata: metadata(t), to: (folder as NSString).appendingPathComponent(Self.weightsFileName))
        }
        let started = Date()
        let totalSteps = run.totalSteps
        try trainer.train(until: maxSteps, shouldStop: { cancellation.isCancelled }, record: { r in
            try log.append(r)
            if r.step == 1 || r.step % 10 == 0 || r.step == totalSteps {
                progress(String(format: "step %d/%d  epoch %d  loss %.4f  masked %.4f  unmasked %.4f  moe %.5f  lr %.2e  %.1f tiles/s  (%.0f s)",
                                r.step, totalSteps, r.epoch, r.loss, r.lossMasked, r.lossUnmasked, r.moeLoss, r.lr, r.tilesPerSecond,
                                Date().timeIntervalSince(started)))
            }
        }, checkpoint: saveCheckpoint, checkpointEvery: checkpointEvery)
        try saveCheckpoint(trainer)
        return Outcome(folder: folder, steps: trainer.stepsDone,
                       stoppedBy: cancellation.isCancelled ? (cancellation.reason ?? .signal(SIGINT)) : nil)
    }

    /// The checkpoint of the run in `folder`, with errors naming the folder: missing, not a folder, or
    /// not a moemae training folder (no or an unreadable checkpoint).
    public static func readCheckpoint(folder: String) throws -> TrainingCheckpoint {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir) else {
            throw PretrainingError(.open, path: folder, "no such folder", conflict: .notARunFolder)
        }
        guard isDir.boolValue else { throw PretrainingError(.open, path: folder, "is a file, not a folder", conflict: .notARunFolder) }
        let path = (folder as NSString).appendingPathComponent(TrainingCheckpoint.fileName)
        guard FileManager.default.fileExists(atPath: path) else {
            throw PretrainingError(.open, path: folder, "not a moemae training folder (it holds no \(TrainingCheckpoint.fileName))", conflict: .notARunFolder)
        }
        do {
            return try TrainingCheckpoint.read(folder: folder)
        } catch ModelError.invalidInput(let message) {
            throw PretrainingError(.read, message, conflict: .notARunFolder)   // the message names the file
        }
    }
}

/// A refusal of ``PretrainJob``: inputs that contradict each other or a folder that is not a run, in the
/// shape of ``DiagnosedError``. ``conflict`` tells the command line which of its options to name.
public struct PretrainingError: DiagnosedError, Sendable {
    /// What the command line's advice is about.
    public enum Conflict: Sendable, Equatable {
        /// The folder to continue is not a training run's folder.
        case notARunFolder
        /// The datasets given (or their tiles) are not those of the run being continued.
        case resumedRunDiffers
        /// A preset given together with start weights of another preset.
        case presetVersusStartWeights(preset: String, startPreset: String)
    }
    public var kind: FailureKind
    public var file: String?
    public var message: String
    public var hint: String?
    public var conflict: Conflict?

    public init(_ kind: FailureKind, path: String? = nil, _ message: String, hint: String? = nil, conflict: Conflict? = nil) {
        self.kind = kind; self.file = path; self.message = message; self.hint = hint; self.conflict = conflict
    }

    public var description: String {
        var s = file.map { "\($0): \(message)" } ?? message
        if let hint, !hint.isEmpty { s += "; " + hint }
        return s
    }
}

/// `train.jsonl`: one JSON object per optimizer step (``TrainingRecord``), appended as training goes.
/// On resume, lines after the checkpoint's step are dropped so the log matches the state that continues.
public final class TrainingLog {
    private let handle: FileHandle
    private let encoder = JSONEncoder()

    /// Opens (creates or truncates) `path`, keeping the lines of steps up to `step`. Throws
    /// ``PretrainingError`` naming the file when it cannot be written.
    public init(path: String, keepingStepsUpTo step: Int) throws {
        var kept: [String] = []
        if step > 0, let text = try? String(contentsOfFile: path, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                if let data = line.data(using: .utf8), let r = try? JSONDecoder().decode(TrainingRecord.self, from: data), r.step <= step {
                    kept.append(String(line))
                }
            }
        }
        let body = kept.isEmpty ? "" : kept.joined(separator: "\n") + "\n"
        guard FileManager.default.createFile(atPath: path, contents: body.data(using: .utf8)), let h = FileHandle(forWritingAtPath: path) else {
            throw PretrainingError(.write, path: path, "cannot write the training log")
        }
        h.seekToEndOfFile()
        handle = h
        encoder.outputFormatting = [.sortedKeys]
    }

    /// Appends one step's record as a JSON line.
    public func append(_ r: TrainingRecord) throws {
        var data = try encoder.encode(r)
        data.append(0x0A)
        handle.write(data)
    }

    deinit { try? handle.close() }
}

/// `moemae tile` datasets as pretraining input: every tile of every shard whose `valid_fraction`
/// reaches `minValid` (tiles of shards without that column are all kept), read on demand from the
/// memory-mapped shards.
public final class DatasetTileSource: PretrainingTileSource {
    struct Location { var shard: Int; var tile: Int }
    private var shards: [TileShard] = []
    private var shardHasMetadata: [Bool] = []
    private var week: [[Int]] = [], hour: [[Double]] = [], lat: [[Double]] = [], lon: [[Double]] = []
    private var locations: [Location] = []
    /// Tiles skipped for a valid fraction below the threshold.
    public private(set) var skipped = 0

    /// Number of training tiles.
    public var count: Int { locations.count }

    public init(datasets: [Dataset], minValid: Double) throws {
        for ds in datasets {
            for i in ds.shardPaths.indices {
                let shard = try ds.shard(i)
                let s = shards.count
                shards.append(shard); shardHasMetadata.append(ds.hasMetadata)
                week.append(try shard.week()); hour.append(try shard.hour()); lat.append(try shard.lat()); lon.append(try shard.lon())
                let fractions: [Float]? = shard.file.info("valid_fraction") == nil ? nil : try shard.file.floats("valid_fraction")
                for t in 0..<shard.count {
                    if let f = fractions, Double(f[t]) < minValid { skipped += 1; continue }
                    locations.append(Location(shard: s, tile: t))
                }
            }
        }
    }

    public func tiles(_ indices: [Int]) throws -> RawTiles {
        var raw = RawTiles(pixels: [], week: [], hour: [], lat: [], lon: [], hasMetadata: [])
        for i in indices {
            let l = locations[i]
            raw.pixels += try shards[l.shard].pixels(l.tile..<(l.tile + 1))
            raw.week.append(week[l.shard][l.tile]); raw.hour.append(hour[l.shard][l.tile])
            raw.lat.append(lat[l.shard][l.tile]); raw.lon.append(lon[l.shard][l.tile])
            raw.hasMetadata.append(shardHasMetadata[l.shard])
        }
        return raw
    }
}
