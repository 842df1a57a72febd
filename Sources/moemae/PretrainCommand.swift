import ArgumentParser
import Foundation
import MoEMAE
import MoEMAETraining
import Pipeline
import Tiling
import Diagnostics

/// `moemae pretrain DATASET... --out DIR`: masked-autoencoder pretraining with the published recipe;
/// `moemae pretrain --verify-gradients GRADS --weights WEIGHTS`: checks loss and gradients against a
/// reference file.
struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Pretrain the MoE-MAE on tile datasets (masked autoencoder), or verify gradients against a reference.",
        discussion: """
        Recipe by default (arXiv 2509.10919, the authors' pretraining): mask ratio 0.75; loss \
        L_masked + 0.1·L_unmasked + 0.5·Σ encoder L_moe; AdamW (lr 3e-4, weight decay 0.05, betas 0.9/0.999, eps 1e-8); \
        linear warm-up over the first 5 % of steps then cosine decay to 0; gradient clipping to norm 1.0; expert dropout 0.1; \
        gate noise on. Writes DIR/weights.safetensors (every published key, with the preset, normalisation and hour policy in \
        its metadata), DIR/checkpoint.safetensors (weights + AdamW state + step, every --checkpoint-every steps and at the end) \
        and DIR/train.jsonl (one JSON object per step). Deterministic for a given --seed; --resume DIR continues exactly.
        """)

    @Argument(help: "Dataset folders written by `moemae tile` (or bare shard files).")
    var datasets: [String] = []

    @Option(help: "Output folder (created if missing).")
    var out: String?

    @Option(help: "Epochs (passes over the training tiles).")
    var epochs: Int = 10

    @Option(name: .customLong("batch-size"), help: "Tiles per optimizer step.")
    var batchSize: Int = 32

    @Option(help: "Seed of every random choice (initialisation, shuffling, masks, gate noise, dropout).")
    var seed: UInt64 = 0

    @Option(name: .customLong("min-valid"), help: "Skip tiles whose valid-pixel fraction is below this (0…1).")
    var minValid: Double = 0

    @Option(name: .customLong("checkpoint-every"), help: "Write a checkpoint every N steps (0: only at the end).")
    var checkpointEvery: Int = 100

    @Option(help: "Continue the run whose checkpoint is in this folder (its settings are used).")
    var resume: String?

    @Option(name: .customLong("init"), help: "Start from these weights (safetensors with the published key names, decoder included) instead of a random initialisation.")
    var initWeights: String?

    @Option(help: "Model size for a new run: S, XS or XXS (default: S; with --init, the size of those weights).")
    var preset: String?

    @OptionGroup var input: ModelInputOptions

    @OptionGroup var workers: TrainingWorkersOptions

    /// Worker threads: --workers, else the old --threads, else 2.
    var workerCount: Int { workers.count }

    @Option(name: .customLong("max-steps"), help: "Stop after this many optimizer steps in total (the schedule still spans all epochs); for time-boxed runs.")
    var maxSteps: Int?

    /// Starts a new run in an --out folder that already holds a run's weights, checkpoint or log.
    @OptionGroup var replace: OverwriteOptions

    @Option(name: .customLong("verify-gradients"), help: "Reference gradients file (layout of golden/grads-public.safetensors).")
    var verifyGradients: String?

    @Option(help: "Weights for --verify-gradients.")
    var weights: String?

    mutating func validate() throws {
        if verifyGradients != nil {
            if weights == nil { throw ValidationError("--verify-gradients needs --weights WEIGHTS.safetensors") }
            return
        }
        if resume == nil && datasets.isEmpty { throw ValidationError("give at least one dataset folder (or --resume DIR)") }
        if resume == nil && out == nil { throw ValidationError("--out DIR is required") }
        if epochs < 1 || batchSize < 1 { throw ValidationError("--epochs and --batch-size must be at least 1") }
        if !(0...1).contains(minValid) { throw ValidationError("--min-valid must be between 0 and 1") }
        if let preset, ModelConfig.preset(named: preset) == nil { throw ValidationError("--preset must be S, XS or XXS") }
        if initWeights != nil && resume != nil { throw ValidationError("--init and --resume exclude each other") }
    }

    func run() throws {
        BLAS.setThreads(1)
        if let grads = verifyGradients, let weights { return try verify(grads: grads, weights: weights) }
        try train()
    }

    private func verify(grads: String, weights: String) throws {
        let r = try GradientVerification.run(gradients: grads, weights: weights, workers: workerCount)
        print("batch: \(r.tiles) tiles, \(r.kept) kept patches each; noise-free gates, expert dropout off")
        for l in r.losses {
            print(String(format: "%-14@ %.7f  reference %.7f  relative difference %.2e", l.name as NSString, l.value, l.reference, l.relativeDifference))
        }
        if let ref = r.referenceGradientNorm {
            print(String(format: "gradient norm  %.6f  reference %.6f", r.gradientNorm, ref))
        }
        let significant = r.tensors.filter { $0.referenceMax > GradientVerification.zeroGradientTolerance * 100 }
        let zero = r.tensors.filter { $0.referenceMax <= GradientVerification.zeroGradientTolerance * 100 }
        print("worst parameters (max|Δ| / max|g_ref|, \(significant.count) tensors with a non-zero reference):")
        for t in significant.sorted(by: { $0.ratio > $1.ratio }).prefix(10) {
            print(String(format: "  %.2e  %@  (max|Δ| %.3e, max|g_ref| %.3e)", t.ratio, t.key as NSString, t.maxDifference, t.referenceMax))
        }
        if let worstZero = zero.max(by: { $0.maxDifference < $1.maxDifference }) {
            print(String(format: "%d tensors with a (numerically) zero reference gradient; largest max|Δ| %.2e (%@)",
                         zero.count, worstZero.maxDifference, worstZero.key as NSString))
        }
        let failures = r.tensors.filter { !r.passes($0) }
        let lossFailures = r.losses.filter { $0.relativeDifference > GradientVerification.lossTolerance }
        if failures.isEmpty && lossFailures.isEmpty {
            print("PASS: loss terms within 1e-5 relative, every gradient within 1e-4 · max|g_ref|")
        } else {
            for l in lossFailures { print("FAIL: \(l.name) differs by \(l.relativeDifference) relative") }
            for t in failures.prefix(20) { print("FAIL: \(t.key): max|Δ| \(t.maxDifference) > 1e-4 · \(t.referenceMax)") }
            throw ExitCode.failure
        }
    }

    /// The checkpoint of the run in `folder` (for --resume), with one-line errors naming the folder:
    /// missing, not a folder, or not a moemae training folder (no or an unreadable checkpoint).
    static func readCheckpoint(folder: String) throws -> TrainingCheckpoint {
        var isDir: ObjCBool = false
        let hint = "--resume takes the --out folder of an earlier `moemae pretrain` run"
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir) else {
            throw CommandFailure("\(folder): no such folder; \(hint)")
        }
        guard isDir.boolValue else { throw CommandFailure("\(folder): is a file, not a folder; \(hint)") }
        let path = (folder as NSString).appendingPathComponent(TrainingCheckpoint.fileName)
        guard FileManager.default.fileExists(atPath: path) else {
            throw CommandFailure("\(folder): not a moemae training folder (it holds no \(TrainingCheckpoint.fileName)); \(hint)")
        }
        do {
            return try TrainingCheckpoint.read(folder: folder)
        } catch ModelError.invalidInput(let message) {
            throw CommandFailure(message)   // already names the file and what is wrong
        }
    }

    private func train() throws {
        let fm = FileManager.default
        var run: PretrainingRun
        var store: ParameterStore
        var optimizer: AdamW? = nil
        var encoding: InputEncoding
        let folder: String
        var datasetPaths = datasets
        if let resume {
            folder = out ?? resume
            let ck = try Self.readCheckpoint(folder: resume)
            run = ck.run; store = ck.store; optimizer = ck.optimizer; encoding = ck.weightsMetadata.inputEncoding
            if datasetPaths.isEmpty { datasetPaths = run.datasets }
            if datasetPaths != run.datasets {
                throw PretrainOptionConflict(description: "--resume \(resume): the run was trained on \(run.datasets.joined(separator: ", ")); give the same datasets (or none)")
            }
            stderrLine("resuming \(resume) at step \(ck.optimizer.step) of \(run.totalSteps)")
        } else {
            folder = out!
            // A new run must not silently replace an earlier run's model (as every other command, an
            // existing output needs --overwrite); an interrupted run is continued with --resume.
            if !replace.overwrite, let existing = ["weights.safetensors", TrainingCheckpoint.fileName, "train.jsonl"]
                .map({ (folder as NSString).appendingPathComponent($0) }).first(where: { fm.fileExists(atPath: $0) }) {
                throw OutputExists(path: existing, detail: "an earlier pretraining run",
                                   hint: "continue it with --resume \(folder), choose another --out, or pass --overwrite to start afresh")
            }
            run = PretrainingRun()
            run.epochs = epochs; run.batchSize = batchSize; run.seed = seed; run.minValid = minValid
            run.datasets = datasets
            encoding = InputEncoding()
            if let initWeights {
                let sd = try StateDict.load(path: initWeights)
                let config = try ModelConfig.infer(from: sd)
                guard config.decoder != nil else {
                    throw CommandFailure("\(initWeights): has no decoder weights (decoder_embed.*); pretraining needs the whole masked autoencoder")
                }
                // --init decides the model size; a --preset that says otherwise is a mistake, not ignored.
                if let preset, preset.uppercased() != config.preset.uppercased() {
                    throw PretrainOptionConflict(description: "--preset \(preset) conflicts with --init \(initWeights), which holds preset \(config.preset) weights; leave out --preset")
                }
                store = try ParameterStore(layout: try ParameterLayout(config: config), weights: sd)
                if let wm = try WeightsMetadata.read(path: initWeights) { encoding = wm.inputEncoding }
            } else {
                store = ParameterStore(layout: try ParameterLayout(config: ModelConfig.preset(named: preset ?? "S")!), seed: seed)
            }
        }
        let opened = try datasetPaths.map { try Dataset(path: $0) }
        if resume == nil {
            if let hour = input.hour {
                encoding.hour = HourEncoding(rawValue: hour.rawValue)!
            } else {
                let policies = Set(opened.map(\.hourPolicy.rawValue))
                guard policies.count <= 1 else {
                    throw PretrainOptionConflict(description: "the datasets \(datasetPaths.joined(separator: ", ")) use different hour policies (\(policies.sorted().joined(separator: ", "))); choose one with --hour")
                }
                encoding.hour = HourEncoding(rawValue: policies.first ?? "utc") ?? .utc
            }
            encoding.metadata = opened.contains { $0.hasMetadata } && !input.noMetadata
        }
        let source = try DatasetTileSource(datasets: opened, minValid: run.minValid)
        if resume != nil && source.count != run.tiles {
            throw PretrainOptionConflict(description: "--resume \(resume ?? ""): the datasets \(datasetPaths.joined(separator: ", ")) now hold \(source.count) training tiles, the run had \(run.tiles)")
        }
        run.tiles = source.count
        try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let trainer = try Pretrainer(store: store, optimizer: optimizer, run: run, encoding: encoding, source: source, workers: workerCount)
        stderrLine("pretraining \(store.config.preset) (\(store.layout.totalCount) parameters) on \(source.count) tiles"
                   + (source.skipped > 0 ? " (\(source.skipped) below --min-valid \(run.minValid) skipped)" : "")
                   + "; \(run.epochs) epochs × \(run.stepsPerEpoch) steps of \(run.batchSize); hour policy \(encoding.hour.rawValue)")

        let logPath = (folder as NSString).appendingPathComponent("train.jsonl")
        let log = try TrainingLog(path: logPath, keepingStepsUpTo: trainer.stepsDone)
        let token = CancellationToken()
        let signals = SignalCancellation(token: token)
        defer { signals.stop() }
        func metadata(_ t: Pretrainer) -> WeightsMetadata {
            WeightsMetadata(preset: t.store.config.preset, config: t.store.config, encoding: encoding, trainedSteps: t.stepsDone)
        }
        func saveCheckpoint(_ t: Pretrainer) throws {
            try TrainingCheckpoint(store: t.store, optimizer: t.optimizer, run: t.run, weightsMetadata: metadata(t)).write(folder: folder)
            try WeightsWriter.write(t.store, metadata: metadata(t), to: (folder as NSString).appendingPathComponent("weights.safetensors"))
        }
        let started = Date()
        try trainer.train(until: maxSteps, shouldStop: { token.isCancelled }, record: { r in
            try log.append(r)
            if r.step == 1 || r.step % 10 == 0 || r.step == run.totalSteps {
                stderrLine(String(format: "step %d/%d  epoch %d  loss %.4f  masked %.4f  unmasked %.4f  moe %.5f  lr %.2e  %.1f tiles/s  (%.0f s)",
                                  r.step, run.totalSteps, r.epoch, r.loss, r.lossMasked, r.lossUnmasked, r.moeLoss, r.lr, r.tilesPerSecond,
                                  Date().timeIntervalSince(started)))
            }
        }, checkpoint: saveCheckpoint, checkpointEvery: checkpointEvery)
        try saveCheckpoint(trainer)
        if token.isCancelled {
            stderrLine("stopped by signal at step \(trainer.stepsDone); checkpoint written, continue with --resume \(folder)")
            // 128 + the signal number (130 for SIGINT, 143 for SIGTERM), as `map` and `tile` (README).
            if case .signal(let s)? = token.reason { throw ExitCode(128 + s) }
            throw ExitCode(130)
        }
        stderrLine("done: \(trainer.stepsDone) steps; weights in \((folder as NSString).appendingPathComponent("weights.safetensors"))")
    }
}

/// `train.jsonl`: one JSON object per optimizer step, appended and flushed as training goes. On resume,
/// lines after the checkpoint's step are dropped so the log matches the state that continues.
final class TrainingLog {
    private let handle: FileHandle
    private let encoder = JSONEncoder()

    init(path: String, keepingStepsUpTo step: Int) throws {
        let fm = FileManager.default
        var kept: [String] = []
        if step > 0, let text = try? String(contentsOfFile: path, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                if let data = line.data(using: .utf8), let r = try? JSONDecoder().decode(TrainingRecord.self, from: data), r.step <= step {
                    kept.append(String(line))
                }
            }
        }
        let body = kept.isEmpty ? "" : kept.joined(separator: "\n") + "\n"
        guard fm.createFile(atPath: path, contents: body.data(using: .utf8)), let h = FileHandle(forWritingAtPath: path) else {
            throw CommandFailure("\(path): cannot write the training log")
        }
        h.seekToEndOfFile()
        handle = h
        encoder.outputFormatting = [.sortedKeys]
    }

    func append(_ r: TrainingRecord) throws {
        var data = try encoder.encode(r)
        data.append(0x0A)
        handle.write(data)
    }

    deinit { try? handle.close() }
}

fileprivate func stderrLine(_ s: String) {
    FileHandle.standardError.write((s + "\n").data(using: .utf8)!)
}

/// Options of `pretrain` that contradict its inputs: one line, exit status 1.
struct PretrainOptionConflict: Error, CustomStringConvertible {
    let description: String
}
