/// The sparse mixture-of-experts feed-forward block (docs/model.md, "Mixture-of-experts block").
///
/// Gate `logits = Wg·x + b` (noise-free at inference), top-2 logits, softmax over those two →
/// gate weights g1 ≥ g2. Expert e is SwiGLU `W2(SiLU(W_e·x) ⊙ (V·x)) + b2` with V and W2 shared by
/// all experts of the layer, so `MoE(x) = W2(Σ_e g_e·SiLU(W_e·x) ⊙ (V·x)) + b2`: V·x and W2 run
/// once per token (one GEMM over the batch), and each expert's W_e runs as one GEMM over the
/// tokens routed to it, gathered from the whole batch.
public struct MixtureOfExperts: Sendable {
    public let dim: Int
    public let hidden: Int
    public internal(set) var experts: [Linear]
    /// Shared `V` (D→h) and `W2` (h→D).
    public let v: Linear
    public internal(set) var w2: Linear
    /// Gate `Wg` (D→E) and the training-time noise projection `Wnoise` (unused at inference).
    public let gate: Linear
    public let noise: Linear
    /// V and the gate stacked: output columns `[V·x (h) | logits (E)]`.
    public internal(set) var packed: Linear

    public var expertCount: Int { experts.count }

    public init(dim: Int, hidden: Int, experts: [Linear], v: Linear, w2: Linear, gate: Linear, noise: Linear) {
        self.dim = dim; self.hidden = hidden; self.experts = experts; self.v = v; self.w2 = w2
        self.gate = gate; self.noise = noise
        packed = Linear(stacking: [v, gate])
    }

    /// `x += MoE(xn)` for `rows` tokens (`ws.xn` → `ws.x`; at bf16 `ws.xnBF16` → `ws.x`). Writes each
    /// token's two experts (largest gate first; equal logits: lower index first) and gate weights to
    /// `ws.routeExpert` / `ws.routeGate` (`[rows, 2]`).
    ///
    /// At bf16 each expert's product runs with the gated SiLU and ⊙ V·x fused into its epilogue
    /// (``BLAS/bf16ExpertSiLU``): no hidden buffer, no SiLU or ⊙ V·x pass, and W2 reads the mixed
    /// hidden state already in bf16 — the same numbers as the separate passes.
    package func forward(rows: Int, ws: Workspace) {
        let h = hidden, e = experts.count
        let ldw = h + e
        let bf16 = w2.bf16 != nil
        if bf16 {
            packed.forward(bf16: ws.xnBF16, ldx: ws.ldXnBF16, rows: rows, into: ws.wide, ldy: ldw)
        } else {
            packed.forward(ws.xn, ldx: dim, rows: rows, into: ws.wide, ldy: ldw)
        }

        // Route: top-2 logits per token, counting sort of (token, gate) pairs by expert.
        for j in 0..<e { ws.expertCount[j] = 0 }
        for t in 0..<rows {
            let logits = ws.wide + t * ldw + h
            var i1 = 0, l1 = logits[0]
            for j in 1..<e where logits[j] > l1 { i1 = j; l1 = logits[j] }
            var i2 = -1, l2 = -Float.infinity
            for j in 0..<e where j != i1 && (i2 < 0 || logits[j] > l2) { i2 = j; l2 = logits[j] }
            // softmax over the two logits, max-subtracted like torch.softmax
            let e2 = VectorKernels.exp(l2 - l1)
            let g1 = 1 / (1 + e2), g2 = e2 / (1 + e2)
            ws.routeExpert[2 * t] = Int32(i1); ws.routeExpert[2 * t + 1] = Int32(i2)
            ws.routeGate[2 * t] = g1; ws.routeGate[2 * t + 1] = g2
            ws.expertCount[i1] += 1; ws.expertCount[i2] += 1
        }
        ws.expertStart[0] = 0
        for j in 0..<e { ws.expertStart[j + 1] = ws.expertStart[j] + ws.expertCount[j] }
        for j in 0..<e { ws.expertCount[j] = 0 }
        for t in 0..<rows {
            for s in 0..<2 {
                let j = Int(ws.routeExpert[2 * t + s])
                let slot = ws.expertStart[j] + ws.expertCount[j]
                ws.listToken[slot] = Int32(t); ws.listGate[slot] = ws.routeGate[2 * t + s]
                // experts run in index order, so the token's higher-numbered expert comes second
                ws.listSecond[slot] = j > Int(ws.routeExpert[2 * t + 1 - s]) ? 1 : 0
                ws.expertCount[j] += 1
            }
        }

        if bf16 {
            // Per expert: g · SiLU(W_e·x + b_e) into ws.mix (the token's first expert), or
            // bf16((mix + g · SiLU(W_e·x + b_e)) ⊙ V·x) into ws.mixBF16 (its second).
            for j in 0..<e {
                let start = ws.expertStart[j], n = ws.expertCount[j]
                if n == 0 { continue }
                experts[j].bias.withUnsafeBufferPointer { b in
                    BLAS.bf16ExpertSiLU(count: n, a: ws.xnBF16, lda: ws.ldXnBF16, tokens: ws.listToken + start,
                                        gates: ws.listGate + start, second: ws.listSecond + start, w: experts[j].bf16!,
                                        bias: b.baseAddress!, mix: ws.mix, ldmix: h, vx: ws.wide, ldvx: ldw,
                                        out: ws.mixBF16, ldout: ws.ldMixBF16)
                }
            }
            w2.forwardAdding(bf16: ws.mixBF16, ldx: ws.ldMixBF16, rows: rows, into: ws.x, ldy: dim)
            return
        }

        // Σ_e g_e · SiLU(W_e·x) into ws.mix [rows, h].
        let mix = ws.mix, gathered = ws.gathered, expertOut = ws.hidden
        mix.update(repeating: 0, count: rows * h)
        for j in 0..<e {
            let start = ws.expertStart[j], n = ws.expertCount[j]
            if n == 0 { continue }
            for r in 0..<n {
                (gathered + r * dim).update(from: ws.xn + Int(ws.listToken[start + r]) * dim, count: dim)
            }
            experts[j].forward(gathered, ldx: dim, rows: n, into: expertOut, ldy: h)
            VectorKernels.addGatedSiLURows(expertOut, ldh: h, rows: n, n: h, tokens: ws.listToken + start,
                                           gates: ws.listGate + start, into: mix, ldd: h)
        }
        // ⊙ V·x, then W2 with the residual folded in.
        VectorKernels.multiply(mix, lda: h, by: ws.wide, ldb: ldw, rows: rows, n: h)
        w2.forwardAdding(mix, ldx: h, rows: rows, into: ws.x, ldy: dim)
    }
}
