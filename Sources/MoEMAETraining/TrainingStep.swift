import Dispatch
import MoEMAE

/// One evaluation of the pretraining loss and its gradient for a whole batch, data-parallel over
/// `workers` threads: the batch is split into contiguous parts of tiles, each part runs its training
/// forward and backward pass (``MaskedAutoencoderStep``, with single-threaded BLAS) on its own thread,
/// and the parts' gradients are summed.
///
/// The split is exact, not an approximation: the only quantities that couple tiles are the encoder
/// layers' auxiliary losses (a CV of importance and load summed over the whole batch) and the loss
/// normalisation (numbers of masked and kept patches in the batch). Both are combined between the
/// forward and the backward pass. Random numbers (gate noise, expert dropout) come from one stream per
/// tile, derived from `seed` and the tile's position in the batch, so results do not depend on the
/// number of workers (beyond float summation order).
public final class TrainingStep {
    public let layout: ParameterLayout
    public let maxTiles: Int
    public let kept: Int
    public let workers: Int
    package let parts: [MaskedAutoencoderStep]
    package let partGradients: [FloatBuffer]

    public init(layout: ParameterLayout, maxTiles: Int, kept: Int, workers: Int = 1) {
        self.layout = layout; self.maxTiles = maxTiles; self.kept = kept
        let w = max(1, min(workers, maxTiles))
        self.workers = w
        let per = (maxTiles + w - 1) / w
        parts = (0..<w).map { _ in MaskedAutoencoderStep(layout: layout, maxTiles: per, kept: kept) }
        partGradients = (0..<w).map { _ in FloatBuffer(layout.totalCount) }
    }

    /// Loss terms of `tiles` tiles and the gradient of the loss with respect to every parameter of
    /// ``layout`` in `grads` (overwritten). See ``MaskedAutoencoderStep/forward`` for the inputs.
    public func run(model: MoEMAEModel, images: UnsafePointer<Float>, meta: UnsafePointer<Float>?, tiles: Int,
                    keep: UnsafePointer<Int32>, mode: TrainingMode, seed: UInt64,
                    grads: UnsafeMutablePointer<Float>) -> LossTerms {
        precondition(tiles >= 1 && tiles <= maxTiles, "batch of \(tiles) tiles; this step holds 1…\(maxTiles)")
        let c = layout.config
        let imageStride = c.inChannels * c.imageSize * c.imageSize
        let active = min(workers, tiles)
        let bounds = (0...active).map { $0 * tiles / active }
        let maskedTotal = tiles * (c.patchCount - kept), keptTotal = tiles * kept
        var sums = [(Double, Double)](repeating: (0, 0), count: active)
        let parts = self.parts
        func forward(_ w: Int) {
            let start = bounds[w], n = bounds[w + 1] - start
            var rngs = (start..<(start + n)).map { TrainingRandom(seed: seed, stream: .step, counter: UInt64($0)) }
            sums[w] = parts[w].forward(model: model, images: images + start * imageStride, meta: meta.map { $0 + 8 * start }, tiles: n,
                                       keep: keep + start * kept, mode: mode, rngs: &rngs, maskedTotal: maskedTotal, keptTotal: keptTotal)
        }
        func backward(_ w: Int) {
            let start = bounds[w], n = bounds[w + 1] - start
            parts[w].backward(model: model, meta: meta.map { $0 + 8 * start }, tiles: n, keep: keep + start * kept, mode: mode,
                              grads: active == 1 ? grads : partGradients[w].p)
        }
        if active == 1 { forward(0) } else {
            let results = UnsafeMutablePointer<(Double, Double)>.allocate(capacity: active)
            defer { results.deallocate() }
            DispatchQueue.concurrentPerform(iterations: active) { w in
                let start = bounds[w], n = bounds[w + 1] - start
                var rngs = (start..<(start + n)).map { TrainingRandom(seed: seed, stream: .step, counter: UInt64($0)) }
                results[w] = parts[w].forward(model: model, images: images + start * imageStride, meta: meta.map { $0 + 8 * start },
                                              tiles: n, keep: keep + start * kept, mode: mode, rngs: &rngs,
                                              maskedTotal: maskedTotal, keptTotal: keptTotal)
            }
            for w in 0..<active { sums[w] = results[w] }
        }
        // The auxiliary losses over the whole batch.
        var moeLoss = 0.0
        for l in 0..<c.depth {
            var importance = parts[0].encoderActs[l].importance, load = parts[0].encoderActs[l].load
            for w in 1..<max(active, 1) {
                for j in importance.indices {
                    importance[j] += parts[w].encoderActs[l].importance[j]; load[j] += parts[w].encoderActs[l].load[j]
                }
            }
            for w in 0..<active { parts[w].encoderActs[l].setAuxiliary(importance: importance, load: load) }
            moeLoss += parts[0].encoderActs[l].auxiliaryLoss
        }
        if active == 1 { backward(0) } else {
            DispatchQueue.concurrentPerform(iterations: active) { w in backward(w) }
            // Sum the parts' gradients, split over the workers by range.
            let n = layout.totalCount
            let gradients = partGradients
            DispatchQueue.concurrentPerform(iterations: active) { w in
                let lo = w * n / active, hi = (w + 1) * n / active
                (grads + lo).update(from: gradients[0].p + lo, count: hi - lo)
                for k in 1..<active { TrainingKernels.axpy(1, gradients[k].p + lo, grads + lo, hi - lo) }
            }
        }
        let sumMasked = sums.reduce(0) { $0 + $1.0 }, sumKept = sums.reduce(0) { $0 + $1.1 }
        return LossTerms(lossMasked: maskedTotal > 0 ? sumMasked / Double(maskedTotal) : 0,
                         lossUnmasked: keptTotal > 0 ? sumKept / Double(keptTotal) : 0, moeLoss: moeLoss)
    }
}
