// Benchmarks: `swift run -c release MoEMAEBenchmarks encoder [WEIGHTS.safetensors] | train | bf16-quality …`.
// They run the same code as `moemae bench …`; figures are recorded in docs/performance.md.
import Foundation
import MoEMAE
import MoEMAEBenchmarking

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch arguments.first {
    case "encoder":
        let model = arguments.count > 1 ? try MoEMAEModel.load(path: arguments[1])
            : try MoEMAEModel(config: .s, weights: StateDict.random(config: .s, seed: 7))
        _ = try EncoderBenchmark.run(model: model, batchSize: 64,
                                     settings: [.init(workers: 1, blasThreads: 1), .init(workers: 1, blasThreads: 2),
                                                .init(workers: 2, blasThreads: 1)],
                                     log: { print($0) })
    case "train":
        for batch in [32, 128] {
            let r = try TrainingBenchmark.run(batch: batch, threads: 2, steps: batch == 32 ? 10 : 5)
            print(String(format: "train S batch %d, %d threads: %.1f ms/step (%.1f tiles/s); CPU %.1f ms/step; rebuild %.1f, loss+grad %.1f, clip+AdamW %.1f ms",
                         r.batch, r.threads, r.millisecondsPerStep, r.tilesPerSecond, r.cpuMillisecondsPerStep,
                         r.rebuildMilliseconds, r.lossAndGradientMilliseconds, r.optimizerMilliseconds))
        }
    case "bf16-quality":
        try BF16Quality.run(arguments: Array(arguments.dropFirst()))
    default:
        print("usage: MoEMAEBenchmarks encoder [WEIGHTS.safetensors] | train | bf16-quality --weights W [--probe P] [--kernel native|portable] DATASET...   (tile/map: scripts/bench-*.sh)")
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
