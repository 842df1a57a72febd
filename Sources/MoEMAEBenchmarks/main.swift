// Benchmarks: `swift run -c release MoEMAEBenchmarks [encoder|tile|map|train]`.
// They run the same code as `moemae bench …`; figures are recorded in docs/performance.md.
import Foundation
import MoEMAE

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "train":
    for batch in [32, 128] {
        let r = try TrainingBenchmark.run(batch: batch, threads: 2, steps: batch == 32 ? 10 : 5)
        print(String(format: "train S batch %d, %d threads: %.1f ms/step (%.1f tiles/s); CPU %.1f ms/step; rebuild %.1f, loss+grad %.1f, clip+AdamW %.1f ms",
                     r.batch, r.threads, r.millisecondsPerStep, r.tilesPerSecond, r.cpuMillisecondsPerStep,
                     r.rebuildMilliseconds, r.lossAndGradientMilliseconds, r.optimizerMilliseconds))
    }
default:
    print("usage: MoEMAEBenchmarks encoder|tile|map|train")
}
