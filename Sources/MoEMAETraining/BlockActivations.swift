import MoEMAE
/// What one transformer block keeps from its training forward pass for the backward pass, sized for
/// up to `maxRows` tokens (`tiles · tokens`) of up to `maxTokens` per tile.
///
/// Layout (row-major, R = rows, S = 2R routed (token, expert) slots):
/// `ln1` [R, D] LayerNorm-1 output · `qkv` [R, D + 2·kv] · `probs` [tiles, H, T, T] attention
/// weights · `mix` [R, D] attention output before `out_proj` · `mid` [R, D] residual after attention ·
/// `ln2` [R, D] · `vg` [R, h + E] V·x and gate logits · `raw` [R, E] noise logits · `eps` [R, E]
/// the N(0,1) draws · `noisy` [R, E] noisy logits H · `route` [R, 3] top-3 experts of H ·
/// `gates` [R, 2] · `tokenSlot` [R, 2] · `slotToken` [S] · `gathered` [S, D] routed inputs by
/// expert · `pre` [S, h] expert pre-activations W_e·x · `act` [S, h] SiLU(W_e·x)⊙V·x ·
/// `expertOut` [S, D] W2·act + b2 · `drop` [S, D] dropout factors.
package final class BlockActivations {
    package let dim: Int, heads: Int, kvWidth: Int, hidden: Int, experts: Int
    package let maxRows: Int, maxTokens: Int, maxTiles: Int
    package let ln1, qkv, probs, mix, mid, ln2, vg, raw, eps, noisy, gates, gathered, pre, act, expertOut, drop: FloatBuffer
    package let route, tokenSlot, slotToken: IndexBuffer
    package var expertStart: [Int]
    /// dL/d importance and dL/d load of the auxiliary loss (per expert, without the 0.5 loss weight).
    package var importanceGradient: [Double]
    package var loadGradient: [Double]
    /// This part of the batch's importance and load per expert (``MixtureOfExperts/auxiliaryStatistics``).
    package var importance: [Double]
    package var load: [Double]
    /// This layer's auxiliary loss `0.01·CV(importance) + 0.01·CV(load)` (0 when not computed).
    package var auxiliaryLoss: Double = 0

    package init(dim: Int, heads: Int, kvWidth: Int, hidden: Int, experts: Int, maxTiles: Int, maxTokens: Int) {
        self.dim = dim; self.heads = heads; self.kvWidth = kvWidth; self.hidden = hidden; self.experts = experts
        self.maxTiles = maxTiles; self.maxTokens = maxTokens
        let r = maxTiles * maxTokens, s = 2 * r
        maxRows = r
        ln1 = FloatBuffer(r * dim); qkv = FloatBuffer(r * (dim + 2 * kvWidth))
        probs = FloatBuffer(maxTiles * heads * maxTokens * maxTokens)
        mix = FloatBuffer(r * dim); mid = FloatBuffer(r * dim); ln2 = FloatBuffer(r * dim)
        vg = FloatBuffer(r * (hidden + experts)); raw = FloatBuffer(r * experts); eps = FloatBuffer(r * experts)
        noisy = FloatBuffer(r * experts); gates = FloatBuffer(2 * r)
        gathered = FloatBuffer(s * dim); pre = FloatBuffer(s * hidden); act = FloatBuffer(s * hidden)
        expertOut = FloatBuffer(s * dim); drop = FloatBuffer(s * dim)
        route = IndexBuffer(3 * r); tokenSlot = IndexBuffer(2 * r); slotToken = IndexBuffer(s)
        expertStart = [Int](repeating: 0, count: experts + 1)
        importanceGradient = [Double](repeating: 0, count: experts)
        loadGradient = [Double](repeating: 0, count: experts)
        importance = [Double](repeating: 0, count: experts)
        load = [Double](repeating: 0, count: experts)
    }

    /// Sets the layer's auxiliary loss `0.01·CV(importance) + 0.01·CV(load)` from the whole batch's
    /// importance and load, and its gradients with respect to them (used by the backward pass).
    package func setAuxiliary(importance: [Double], load: [Double]) {
        let (li, gi) = MixtureOfExperts.weightedCV(importance)
        let (ll, gl) = MixtureOfExperts.weightedCV(load)
        auxiliaryLoss = li + ll
        importanceGradient = gi
        loadGradient = gl
    }
}

/// Gradient scratch shared by the blocks of one stack (encoder or decoder) during the backward pass.
package final class BlockGradientScratch {
    package let dmix, dqkv, dscores, dln, dslot, dact, dvg, draw, dgathered: FloatBuffer

    package init(dim: Int, kvWidth: Int, hidden: Int, experts: Int, maxTiles: Int, maxTokens: Int, workers: Int) {
        let r = maxTiles * maxTokens, s = 2 * r
        dmix = FloatBuffer(r * dim); dqkv = FloatBuffer(r * (dim + 2 * kvWidth))
        dscores = FloatBuffer(workers * maxTokens * maxTokens)
        dln = FloatBuffer(r * dim); dslot = FloatBuffer(s * dim); dact = FloatBuffer(s * hidden)
        dvg = FloatBuffer(r * (hidden + experts)); draw = FloatBuffer(r * experts); dgathered = FloatBuffer(s * dim)
    }
}
