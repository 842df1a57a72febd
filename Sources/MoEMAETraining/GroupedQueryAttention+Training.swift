import MoEMAE
extension GroupedQueryAttention {
    /// Training forward pass: the computation of ``forward(tiles:tokens:ws:)`` (same fused q/k/v GEMM,
    /// per-tile-and-head score and value GEMMs, same softmax kernel) keeping the q/k/v projections,
    /// the attention weights and the pre-projection output in `act` for ``trainingBackward``.
    ///
    /// - Parameters: `act.ln1` holds the normalised input `[tiles·tokens, D]`; `residual` `[tiles·tokens, D]`
    ///   receives `+= out_proj(attention)`.
    package func trainingForward(tiles: Int, tokens: Int, act: BlockActivations, residual: UnsafeMutablePointer<Float>) {
        let rows = tiles * tokens, hd = headDim, kvWidth = kvGroups * hd, ldq = dim + 2 * kvWidth
        packed.forward(act.ln1.p, ldx: dim, rows: rows, into: act.qkv.p, ldy: ldq)
        let scale = 1 / Float(hd).squareRoot()
        let tt = tokens * tokens
        for b in 0..<tiles {
            let base = act.qkv.p + b * tokens * ldq
            for h in 0..<heads {
                let g = h % kvGroups
                let p = act.probs.p + (b * heads + h) * tt
                BLAS.sgemm(transB: true, m: tokens, n: tokens, k: hd, alpha: scale, a: base + h * hd, lda: ldq,
                           b: base + dim + g * hd, ldb: ldq, c: p, ldc: tokens)
                VectorKernels.softmaxRows(p, rows: tokens, cols: tokens, ld: tokens)
                BLAS.sgemm(m: tokens, n: hd, k: tokens, a: p, lda: tokens, b: base + dim + kvWidth + g * hd, ldb: ldq,
                           c: act.mix.p + b * tokens * dim + h * hd, ldc: dim)
            }
        }
        out.forwardAdding(act.mix.p, ldx: dim, rows: rows, into: residual, ldy: dim)
    }

    /// Backward pass of ``trainingForward``: from `dResidual` (the gradient of the residual stream
    /// after the attention sub-layer) writes the gradient of the normalised input to `scratch.dln`
    /// and accumulates the q/k/v and out_proj parameter gradients.
    ///
    /// Per tile and head h (group g = h mod G), with P = softmax(scale·Q Kᵀ), O = P V:
    /// dP = dO Vᵀ, dV_g += Pᵀ dO, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ_h = scale·dS K_g,
    /// dK_g += scale·dSᵀ Q_h (groups collect the gradients of every head that reads them).
    package func trainingBackward(tiles: Int, tokens: Int, act: BlockActivations, dResidual: UnsafePointer<Float>,
                          scratch: BlockGradientScratch, grads: UnsafeMutablePointer<Float>, offsets: ParameterLayout.BlockOffsets) {
        let rows = tiles * tokens, hd = headDim, kvWidth = kvGroups * hd, ldq = dim + 2 * kvWidth
        out.backward(input: act.mix.p, ldx: dim, outputGradient: dResidual, lddy: dim, rows: rows,
                     inputGradient: scratch.dmix.p, lddx: dim, accumulate: false,
                     dWeight: grads + offsets.outWeight, dBias: grads + offsets.outBias)
        let dqkv = scratch.dqkv.p
        dqkv.update(repeating: 0, count: rows * ldq)
        let scale = 1 / Float(hd).squareRoot()
        let tt = tokens * tokens
        let ds = scratch.dscores.p
        for b in 0..<tiles {
            let base = act.qkv.p + b * tokens * ldq
            let dbase = dqkv + b * tokens * ldq
            let dO0 = scratch.dmix.p + b * tokens * dim
            for h in 0..<heads {
                let g = h % kvGroups
                let p = act.probs.p + (b * heads + h) * tt
                let dO = dO0 + h * hd
                BLAS.sgemm(transB: true, m: tokens, n: tokens, k: hd, a: dO, lda: dim, b: base + dim + kvWidth + g * hd, ldb: ldq,
                           c: ds, ldc: tokens)
                BLAS.sgemm(transA: true, m: tokens, n: hd, k: tokens, a: p, lda: tokens, b: dO, ldb: dim,
                           beta: 1, c: dbase + dim + kvWidth + g * hd, ldc: ldq)
                for r in 0..<tokens { TrainingKernels.softmaxBackward(p + r * tokens, ds + r * tokens, tokens) }
                BLAS.sgemm(m: tokens, n: hd, k: tokens, alpha: scale, a: ds, lda: tokens, b: base + dim + g * hd, ldb: ldq,
                           beta: 0, c: dbase + h * hd, ldc: ldq)
                BLAS.sgemm(transA: true, m: tokens, n: hd, k: tokens, alpha: scale, a: ds, lda: tokens, b: base + h * hd, ldb: ldq,
                           beta: 1, c: dbase + dim + g * hd, ldc: ldq)
            }
        }
        packed.backward(input: act.ln1.p, ldx: dim, outputGradient: dqkv, lddy: ldq, rows: rows,
                        inputGradient: scratch.dln.p, lddx: dim, accumulate: false,
                        dWeight: grads + offsets.qkvWeight, dBias: grads + offsets.qkvBias)
    }
}
