/// One pre-norm transformer block: `x = x + GQA(LN1(x))`, then `x = x + MoE(LN2(x))`
/// (docs/model.md, "Encoder forward" step 4). The decoder's blocks have the same structure.
public struct EncoderBlock: Sendable {
    public let norm1: LayerNorm
    public internal(set) var attention: GroupedQueryAttention
    public let norm2: LayerNorm
    public internal(set) var moe: MixtureOfExperts

    public init(norm1: LayerNorm, attention: GroupedQueryAttention, norm2: LayerNorm, moe: MixtureOfExperts) {
        self.norm1 = norm1; self.attention = attention; self.norm2 = norm2; self.moe = moe
    }

    /// Runs the block in place on `ws.x` ([tiles·tokens, D]); the routing is left in
    /// `ws.routeExpert` / `ws.routeGate`.
    /// At bf16 (the layers converted by ``MoEMAEModel/converted(to:bf16Kernel:)``) the LayerNorms write
    /// their output rounded to bf16 into `ws.xnBF16`, which attention and the MoE block read.
    package func forward(tiles: Int, tokens: Int, ws: Workspace) {
        let rows = tiles * tokens, d = norm1.dim
        if let kernel = moe.w2.bf16?.kernel {
            norm1.forward(ws.x, ldx: d, rows: rows, bf16: ws.xnBF16, ldy: ws.ldXnBF16, scratch: ws.xn, kernel: kernel)
            attention.forward(tiles: tiles, tokens: tokens, ws: ws)
            norm2.forward(ws.x, ldx: d, rows: rows, bf16: ws.xnBF16, ldy: ws.ldXnBF16, scratch: ws.xn, kernel: kernel)
            moe.forward(rows: rows, ws: ws)
            return
        }
        norm1.forward(ws.x, ldx: d, rows: rows, into: ws.xn, ldo: d)
        attention.forward(tiles: tiles, tokens: tokens, ws: ws)
        norm2.forward(ws.x, ldx: d, rows: rows, into: ws.xn, ldo: d)
        moe.forward(rows: rows, ws: ws)
    }
}
