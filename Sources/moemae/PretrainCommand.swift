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

    private func train() throws {
        var job = PretrainJob(datasets: datasets, out: out)
        job.epochs = epochs; job.batchSize = batchSize; job.seed = seed; job.minValid = minValid
        job.checkpointEvery = checkpointEvery; job.resume = resume; job.initWeights = initWeights; job.preset = preset
        job.hour = input.hour; job.noMetadata = input.noMetadata; job.workers = workerCount; job.maxSteps = maxSteps
        job.overwrite = replace.overwrite
        let token = CancellationToken()
        let signals = SignalCancellation(token: token)
        defer { signals.stop() }
        let outcome: PretrainJob.Outcome
        do {
            outcome = try job.run(progress: stderrLine, cancellation: token)
        } catch let e as OutputExists where e.hint == nil {
            // An interrupted run is continued with --resume; a new run must not silently replace it.
            let folder = out ?? ""
            throw e.withHint("continue it with --resume \(folder), choose another --out, or pass --overwrite to start afresh")
        } catch var e as PretrainingError {
            switch e.conflict {
            case .notARunFolder?:
                e.hint = "--resume takes the --out folder of an earlier `moemae pretrain` run"
            case .resumedRunDiffers?:
                throw PretrainOptionConflict(description: "--resume \(e)")
            case .presetVersusStartWeights(let preset, let startPreset)?:
                throw PretrainOptionConflict(description: "--preset \(preset) conflicts with --init \(e.file ?? ""), which holds preset \(startPreset) weights; leave out --preset")
            case nil:
                break
            }
            throw e
        }
        if let reason = outcome.stoppedBy {
            stderrLine("stopped by signal at step \(outcome.steps); checkpoint written, continue with --resume \(outcome.folder)")
            // 128 + the signal number (130 for SIGINT, 143 for SIGTERM), as `map` and `tile` (README).
            if case .signal(let s) = reason { throw ExitCode(128 + s) }
            throw ExitCode(130)
        }
        stderrLine("done: \(outcome.steps) steps; weights in \(outcome.weightsPath)")
    }
}

fileprivate func stderrLine(_ s: String) {
    FileHandle.standardError.write((s + "\n").data(using: .utf8)!)
}

/// Options of `pretrain` that contradict its inputs: one line, exit status 1.
struct PretrainOptionConflict: Error, CustomStringConvertible {
    let description: String
}
