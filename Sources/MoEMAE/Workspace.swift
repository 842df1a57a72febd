import CKernels

/// Scratch memory for one forward pass of a stack of blocks over up to `maxTiles` tiles of up to
/// `maxTokens` tokens: allocated once per encoder worker and reused for every batch, so the hot
/// loop never allocates. A class because it owns raw memory.
///
/// Row-major buffers, `M = maxTiles · maxTokens` rows:
/// `x` [M, D] residual stream · `xn` [M, D] LayerNorm output · `wide` [M, max(D + 2·G·hd, h + E)]
/// fused q/k/v or V/gate outputs · `mix` [M, max(D, h)] attention output or the experts' mixed
/// hidden state · `scores` [T, T] (also the fused attention kernel's scratch) · `gathered` [M, D] and `hidden` [M, h] one expert's tokens ·
/// routing lists · `patches` [tiles·patches, features] and `patchOut` [tiles·patches, D].
///
/// `gathered` and `hidden` are allocated on first use (the FP32 experts and the decoder's embedding use
/// them; a bf16 encoder never does). At ``Precision/bf16`` two more buffers are allocated on first use
/// (an FP32 model never allocates them): `xnBF16` [M, `ldXnBF16`], the blocks' LayerNorm output rounded to bf16 (the input of q/k/v,
/// V and gate, and the experts; `xn` then only serves as the LayerNorm's scratch until the final
/// LayerNorm), and `mixBF16` [M, `ldMixBF16`], the experts' mixed hidden state ⊙ V·x in bf16 (the
/// input of W2), written by the experts' fused epilogue (`BLAS.bf16ExpertSiLU`).
public final class Workspace {
    public let maxTiles: Int
    public let maxTokens: Int
    public let dim: Int
    package let wideWidth: Int
    package let mixWidth: Int
    package let maxHidden: Int
    package let maxExperts: Int

    package let x: UnsafeMutablePointer<Float>
    package let xn: UnsafeMutablePointer<Float>
    package let wide: UnsafeMutablePointer<Float>
    package let mix: UnsafeMutablePointer<Float>
    package let scores: UnsafeMutablePointer<Float>
    package private(set) lazy var gathered: UnsafeMutablePointer<Float> = floatBuffer(maxTiles * maxTokens * dim)
    package private(set) lazy var hidden: UnsafeMutablePointer<Float> = floatBuffer(maxTiles * maxTokens * maxHidden)
    /// Per token: the two chosen experts (largest gate first) and their gate weights.
    package let routeExpert: UnsafeMutablePointer<Int32>
    package let routeGate: UnsafeMutablePointer<Float>
    /// Per expert: number of tokens and start in the token lists (counting sort).
    package let expertCount: UnsafeMutablePointer<Int>
    package let expertStart: UnsafeMutablePointer<Int>
    package let listToken: UnsafeMutablePointer<Int32>
    package let listGate: UnsafeMutablePointer<Float>
    /// Per routed slot: 1 when the slot's expert is the second of its token's two in expert order
    /// (the bf16 fused epilogue finishes the token's mixed hidden state there), else 0.
    package let listSecond: UnsafeMutablePointer<UInt8>
    package let patches: UnsafeMutablePointer<Float>
    package let patchOut: UnsafeMutablePointer<Float>
    package let patchCapacity: Int
    private var allocations: [(UnsafeMutableRawPointer)] = []

    /// Row strides (bf16 elements) of ``xnBF16`` (even, so rows are whole pairs) and ``mixBF16``
    /// (a multiple of 16: the fused epilogue writes whole 16-column blocks).
    package var ldXnBF16: Int { (dim + 1) & ~1 }
    package var ldMixBF16: Int { (maxHidden + 15) & ~15 }
    /// [M, ldXnBF16] bf16, zero-initialised (the pad column of an odd D stays 0).
    package private(set) lazy var xnBF16: UnsafeMutablePointer<UInt16> = bf16Buffer(maxTiles * maxTokens * ldXnBF16)
    /// [M, ldMixBF16] bf16.
    package private(set) lazy var mixBF16: UnsafeMutablePointer<UInt16> = bf16Buffer(maxTiles * maxTokens * ldMixBF16)

    private func floatBuffer(_ n: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
        p.initialize(repeating: 0, count: max(n, 1))
        allocations.append(UnsafeMutableRawPointer(p))
        return p
    }

    private func bf16Buffer(_ n: Int) -> UnsafeMutablePointer<UInt16> {
        let p = UnsafeMutablePointer<UInt16>.allocate(capacity: max(n, 1))
        p.initialize(repeating: 0, count: max(n, 1))
        allocations.append(UnsafeMutableRawPointer(p))
        return p
    }

    /// - Parameters: the widest layer dimensions the workspace must hold.
    public init(maxTiles: Int, maxTokens: Int, dim: Int, heads: Int, kvGroups: Int, maxHidden: Int, maxExperts: Int,
                patchesPerTile: Int, patchFeatures: Int) {
        self.maxTiles = maxTiles; self.maxTokens = maxTokens; self.dim = dim
        self.maxHidden = maxHidden; self.maxExperts = maxExperts
        let kv = kvGroups * (dim / heads)
        wideWidth = max(dim + 2 * kv, maxHidden + maxExperts)
        mixWidth = max(dim, maxHidden)
        let m = maxTiles * maxTokens
        patchCapacity = maxTiles * patchesPerTile
        var allocs: [UnsafeMutableRawPointer] = []
        func floats(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
            p.initialize(repeating: 0, count: max(n, 1))
            allocs.append(UnsafeMutableRawPointer(p))
            return p
        }
        x = floats(m * dim); xn = floats(m * dim); wide = floats(m * wideWidth); mix = floats(m * mixWidth)
        scores = floats(max(maxTokens * maxTokens, Int(moemae_attention_scratch_floats(Int32(maxTokens), Int32(heads), Int32(kvGroups), Int32(dim / heads)))))
        routeGate = floats(2 * m); listGate = floats(2 * m)
        patches = floats(patchCapacity * patchFeatures); patchOut = floats(patchCapacity * dim)
        routeExpert = .allocate(capacity: 2 * m); routeExpert.initialize(repeating: 0, count: 2 * m)
        listToken = .allocate(capacity: 2 * m); listToken.initialize(repeating: 0, count: 2 * m)
        listSecond = .allocate(capacity: 2 * m); listSecond.initialize(repeating: 0, count: 2 * m)
        expertCount = .allocate(capacity: maxExperts); expertCount.initialize(repeating: 0, count: maxExperts)
        expertStart = .allocate(capacity: maxExperts + 1); expertStart.initialize(repeating: 0, count: maxExperts + 1)
        allocs += [UnsafeMutableRawPointer(routeExpert), UnsafeMutableRawPointer(listToken), UnsafeMutableRawPointer(listSecond),
                   UnsafeMutableRawPointer(expertCount), UnsafeMutableRawPointer(expertStart)]
        allocations = allocs
    }

    /// A workspace for the encoder of `config` over batches of up to `maxTiles` whole tiles.
    public convenience init(encoder config: ModelConfig, maxTiles: Int) {
        let hidden = (0..<config.depth).map { config.expertHidden(layer: $0) }.max() ?? 1
        let experts = (0..<config.depth).map { config.expertCount(layer: $0) }.max() ?? 2
        self.init(maxTiles: maxTiles, maxTokens: config.tokenCount, dim: config.embedDim, heads: config.heads,
                  kvGroups: config.kvGroups, maxHidden: hidden, maxExperts: experts,
                  patchesPerTile: config.patchCount, patchFeatures: config.patchFeatures)
    }

    /// A workspace for the decoder of `config` (which must have one).
    public convenience init(decoder config: ModelConfig, maxTiles: Int) {
        let d = config.decoder ?? ModelConfig.DecoderConfig()
        self.init(maxTiles: maxTiles, maxTokens: config.tokenCount, dim: d.embedDim, heads: d.heads, kvGroups: d.kvGroups,
                  maxHidden: d.expertHidden, maxExperts: d.experts, patchesPerTile: config.patchCount,
                  patchFeatures: max(config.patchFeatures, config.embedDim))
    }

    deinit { for p in allocations { p.deallocate() } }
}
