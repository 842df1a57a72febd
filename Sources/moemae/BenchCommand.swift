import ArgumentParser
import Foundation
import MoEMAE
import MoEMAEBenchmarking
import Pipeline

/// `moemae bench …`: speed benchmarks (the same code as the MoEMAEBenchmarks target).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure speed (figures in docs/performance.md).",
        subcommands: [EncoderBench.self, BenchTrainCommand.self])

    struct EncoderBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "encoder",
            abstract: "Encoder tiles/s and GFLOP/s against this machine's measured sgemm peak.",
            discussion: """
            Measures the OpenBLAS sgemm peak for each thread count, then runs the encoder on synthetic \
            tiles (batch 64 by default) with 1 worker × 1 BLAS thread, 1 × 2 and 2 × 1, or only with \
            --workers N --blas-threads T when either is given (the options and defaults of `moemae map`, to \
            compare with a map run at the same setting; the sgemm peak is then measured for N×T threads). GFLOP/s count 2 FLOP per \
            multiply-add of the encoder (S: 245.7 M multiply-adds = 0.49 GFLOP per tile; see \
            ModelConfig.encoderMultiplyAddsPerTile). Unset OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE to let \
            OpenBLAS pick its fastest kernel: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE moemae bench encoder`.
            """)

        @Option(name: .long, help: "Weights to benchmark (default: random S weights; speed does not depend on the values).")
        var weights: String?

        @Option(name: .long, help: "Preset of the random weights (S, XS, XXS).")
        var preset: String = "S"

        @Option(name: .long, help: "Tiles per batch.")
        var batchSize: Int = 64

        @Option(name: .long, help: "Seconds per measurement.")
        var seconds: Double = 3

        @OptionGroup var precision: PrecisionOption

        @Option(name: .long, help: "Encoder workers: measure only this setting (with --blas-threads, default as in `moemae map`); without both: 1×1, 1×2 and 2×1.")
        var workers: Int?

        @Option(name: .long, help: "OpenBLAS threads per worker: measure only this setting (with --workers, default as in `moemae map`).")
        var blasThreads: Int?

        func validate() throws {
            guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
            // The ranges of `map` and `embed` (EncoderSpeedOptions); unset halves take map's defaults.
            do {
                try MapOptions.validateEncoderSettings(workers: workers ?? MapOptions.defaultWorkers, batchSize: batchSize,
                                                       blasThreads: blasThreads ?? MapOptions.defaultBLASThreads)
            } catch let e as MapOptionsError {
                throw ValidationError(Advice.render(e))
            }
        }

        /// The settings to measure: the one given (a missing half takes `moemae map`'s default, so the
        /// same options give the same setting in both commands), else the three that matter on 2 cores.
        var settings: [EncoderBenchmark.Setting] {
            if workers != nil || blasThreads != nil {
                return [.init(workers: workers ?? MapOptions.defaultWorkers, blasThreads: blasThreads ?? MapOptions.defaultBLASThreads)]
            }
            return [.init(workers: 1, blasThreads: 1), .init(workers: 1, blasThreads: 2), .init(workers: 2, blasThreads: 1)]
        }

        func run() throws {
            let model: MoEMAEModel
            if let weights {
                model = try MoEMAEModel.load(path: weights)
            } else {
                guard let cfg = ModelConfig.preset(named: preset) else {
                    throw ValidationError("unknown preset \(preset) (S, XS or XXS)")
                }
                model = try MoEMAEModel(config: cfg, weights: StateDict.random(config: cfg, seed: 7))
            }
            _ = try EncoderBenchmark.run(model: model.converted(to: precision.precision), batchSize: batchSize, settings: settings,
                                         seconds: seconds, log: { print($0) })
        }
    }
}
