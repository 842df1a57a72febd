import Foundation
import MoEMAE
import MoEMAETraining

/// `moemae bench train`: time of one full optimizer step of the pretraining recipe (model rebuilt
/// from the parameters, training forward, loss, backward, clipping, AdamW) on a synthetic batch of
/// the S preset — z-scored pixels and metadata drawn from N(0,1), random masks of ratio 0.75, gate
/// noise and expert dropout on. Every step does the same work as a real one (routing, and therefore
/// the experts' GEMM sizes, depends on the data only through the per-expert split of the tokens).
public enum TrainingBenchmark {
    public struct Result: Sendable {
        public var batch: Int
        public var threads: Int
        public var steps: Int
        /// Median wall-clock milliseconds per optimizer step.
        public var millisecondsPerStep: Double
        /// Process CPU milliseconds per step (all threads), mean.
        public var cpuMillisecondsPerStep: Double
        public var tilesPerSecond: Double { Double(batch) * 1000 / millisecondsPerStep }
        /// Median milliseconds of the phases: rebuilding the model from the parameters, loss + gradients, clip + AdamW.
        public var rebuildMilliseconds: Double
        public var lossAndGradientMilliseconds: Double
        public var optimizerMilliseconds: Double
    }

    static func cpuSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// `threads` workers split each batch (``TrainingStep``), each with single-threaded BLAS.
    public static func run(config: ModelConfig = .s, batch: Int, threads: Int, steps: Int = 10, warmup: Int = 2) throws -> Result {
        BLAS.setThreads(1)
        let layout = try ParameterLayout(config: config)
        var store = ParameterStore(layout: layout, seed: 1)
        var optimizer = AdamW(parameterCount: layout.totalCount)
        let kept = PatchMask.keptCount(ratio: 0.75, patchCount: config.patchCount)
        let step = TrainingStep(layout: layout, maxTiles: batch, kept: kept, workers: threads)
        var rng = TrainingRandom(seed: 42)
        let pixels = config.inChannels * config.imageSize * config.imageSize
        var images = [Float](repeating: 0, count: batch * pixels)
        var meta = [Float](repeating: 0, count: batch * 8)
        images.withUnsafeMutableBufferPointer { rng.fillNormal($0.baseAddress!, count: $0.count) }
        meta.withUnsafeMutableBufferPointer { rng.fillNormal($0.baseAddress!, count: $0.count) }
        var keep: [Int32] = []
        for i in 0..<batch { keep += PatchMask.keep(tileIndex: i, seed: 7, patchCount: config.patchCount, kept: kept) }
        var grads = [Float](repeating: 0, count: layout.totalCount)
        var wall: [Double] = [], rebuild: [Double] = [], lossGrad: [Double] = [], opt: [Double] = []
        var cpu = 0.0
        for s in 0..<(warmup + steps) {
            let cpu0 = cpuSeconds()
            let t0 = Date()
            let model = try store.model()
            let t1 = Date()
            _ = step.run(model: model, images: images, meta: meta, tiles: batch, keep: keep, mode: .pretraining, seed: UInt64(s), grads: &grads)
            let t2 = Date()
            grads.withUnsafeMutableBufferPointer { _ = GradientClipping.clip($0.baseAddress!, count: $0.count) }
            grads.withUnsafeBufferPointer { optimizer.update(&store.values, gradients: $0.baseAddress!, lr: 1e-4) }
            let t3 = Date()
            if s >= warmup {
                wall.append(t3.timeIntervalSince(t0) * 1000); rebuild.append(t1.timeIntervalSince(t0) * 1000)
                lossGrad.append(t2.timeIntervalSince(t1) * 1000); opt.append(t3.timeIntervalSince(t2) * 1000)
                cpu += cpuSeconds() - cpu0
            }
        }
        func median(_ v: [Double]) -> Double { let s = v.sorted(); return s[s.count / 2] }
        return Result(batch: batch, threads: threads, steps: steps, millisecondsPerStep: median(wall),
                      cpuMillisecondsPerStep: cpu * 1000 / Double(steps), rebuildMilliseconds: median(rebuild),
                      lossAndGradientMilliseconds: median(lossGrad), optimizerMilliseconds: median(opt))
    }
}
