import ArgumentParser
import Foundation
import MoEMAE
import MoEMAEBenchmarking
import MoEMAETraining

/// `moemae bench train`: milliseconds per optimizer step and tiles per second of S pretraining.
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Time pretraining steps of the S model (forward, backward, clipping, AdamW) at batch 32 and 128.",
        discussion: """
        Synthetic batch (N(0,1) pixels and metadata, random masks of ratio 0.75), the published recipe \
        (gate noise and expert dropout on). Each batch is split over --workers threads with single-threaded \
        OpenBLAS. Reference: the authors' PyTorch implementation takes about 270 ms per step at batch 32 and \
        1,000 ms at batch 128 with 2 threads on the project's 2-core machine.
        """)

    @Option(help: "Batch sizes to time.")
    var batch: [Int] = [32, 128]

    @OptionGroup var workers: TrainingWorkersOptions

    @Option(help: "Timed steps per batch size (after 2 warm-up steps).")
    var steps: Int = 8

    @Option(help: "Model size: S, XS or XXS.")
    var preset: String = "S"

    func run() throws {
        let threads = workers.count
        guard let config = ModelConfig.preset(named: preset) else { throw ValidationError("--preset must be S, XS or XXS") }
        print("moemae bench train: \(config.preset) preset, \(threads) worker thread(s), OpenBLAS kernel \(BLAS.coreName), single-threaded per worker")
        for b in batch {
            let r = try TrainingBenchmark.run(config: config, batch: b, threads: threads, steps: steps)
            print(String(format: "batch %4d: %7.1f ms/step  %6.1f tiles/s  (CPU %.0f ms/step; rebuild %.1f ms, loss+gradients %.1f ms, clip+AdamW %.1f ms)",
                         b, r.millisecondsPerStep, r.tilesPerSecond, r.cpuMillisecondsPerStep, r.rebuildMilliseconds,
                         r.lossAndGradientMilliseconds, r.optimizerMilliseconds))
        }
    }
}
