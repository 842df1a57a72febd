import CKernels

/// Grouped-query self-attention (docs/model.md, "Grouped-query attention").
///
/// q: Linear(D→D), k, v: Linear(D→G·hd), out: Linear(D→D), hd = D/H, scale hd^-0.5, softmax over
/// keys, no mask. Query head h reads key/value group `h mod G` (the reference repeats the groups
/// then views, so heads 0…G-1 use groups 0…G-1 and heads G…2G-1 use them again).
///
/// q, k and v run as one GEMM over all tokens of the batch (``packed`` stacks their weights:
/// output columns `[q (D) | k (G·hd) | v (G·hd)]`); scores, softmax and weighted values run per tile
/// in one fused kernel (`moemae_attention_tile`, Sources/CKernels) on that output: at a head width of
/// 16–18 a `cblas_sgemm` per tile and head spent more time packing than multiplying.
public struct GroupedQueryAttention: Sendable {
    public let dim: Int
    public let heads: Int
    public let kvGroups: Int
    public var headDim: Int { dim / heads }
    public let q: Linear
    public let k: Linear
    public let v: Linear
    public internal(set) var out: Linear
    /// q, k, v stacked (derived from them at init).
    public internal(set) var packed: Linear

    public init(dim: Int, heads: Int, kvGroups: Int, q: Linear, k: Linear, v: Linear, out: Linear) {
        self.dim = dim; self.heads = heads; self.kvGroups = kvGroups
        self.q = q; self.k = k; self.v = v; self.out = out
        packed = Linear(stacking: [q, k, v])
    }

    /// `x += Attention(xn)` for `tiles` tiles of `tokens` tokens: `xn` [tiles·tokens, D] (the
    /// normalised input, in `ws.xn`; at bf16 in `ws.xnBF16`) and the residual stream `x` (in `ws.x`).
    package func forward(tiles: Int, tokens: Int, ws: Workspace) {
        let rows = tiles * tokens
        let hd = headDim, kvWidth = kvGroups * hd
        let ldq = dim + 2 * kvWidth
        if packed.bf16 != nil {
            packed.forward(bf16: ws.xnBF16, ldx: ws.ldXnBF16, rows: rows, into: ws.wide, ldy: ldq)
        } else {
            packed.forward(ws.xn, ldx: dim, rows: rows, into: ws.wide, ldy: ldq)
        }
        let scale = 1 / Float(hd).squareRoot()
        for b in 0..<tiles {
            moemae_attention_tile(ws.wide + b * tokens * ldq, Int32(ldq), Int32(tokens), Int32(heads), Int32(kvGroups),
                                  Int32(hd), scale, ws.mix + b * tokens * dim, Int32(dim), ws.scores)
        }
        out.forwardAdding(ws.mix, ldx: dim, rows: rows, into: ws.x, ldy: dim)
    }
}
