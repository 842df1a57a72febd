import MoEMAE
extension Linear {
    /// Backward pass of ``forward(_:ldx:rows:into:ldy:)`` for `rows` rows, all as GEMMs:
    /// `dW += dyᵀ·x` (`[out, in]`), `db += Σ_r dy[r]`, and `dx = dy·W` (`beta` 0 overwrites `dx`,
    /// 1 adds to it); pass nil for `dx` when the input needs no gradient.
    ///
    /// - Parameters: `x` the layer's input `[rows, in]` (stride `ldx`); `dy` the gradient of its
    ///   output `[rows, out]` (stride `lddy`); `dWeight` `[out, in]` and `dBias` `[out]` accumulate.
    package func backward(input x: UnsafePointer<Float>, ldx: Int, outputGradient dy: UnsafePointer<Float>, lddy: Int, rows: Int,
                  inputGradient dx: UnsafeMutablePointer<Float>?, lddx: Int, accumulate: Bool,
                  dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>) {
        if rows == 0 { return }
        BLAS.sgemm(transA: true, m: outFeatures, n: inFeatures, k: rows, a: dy, lda: lddy, b: x, ldb: ldx,
                   beta: 1, c: dWeight, ldc: inFeatures)
        TrainingKernels.addColumnSums(dy, ld: lddy, rows: rows, n: outFeatures, into: dBias)
        if let dx {
            weight.withUnsafeBufferPointer { w in
                BLAS.sgemm(m: rows, n: inFeatures, k: outFeatures, a: dy, lda: lddy, b: w.baseAddress!, ldb: inFeatures,
                           beta: accumulate ? 1 : 0, c: dx, ldc: lddx)
            }
        }
    }
}

extension LayerNorm {
    /// Backward pass of ``forward(_:ldx:rows:into:ldo:)``: adds the input gradient to `dx`
    /// (the residual stream's gradient) and accumulates `dWeight`, `dBias`
    /// (see ``TrainingKernels/layerNormBackward``).
    package func backward(input x: UnsafePointer<Float>, ldx: Int, outputGradient dy: UnsafePointer<Float>, lddy: Int, rows: Int,
                  addingTo dx: UnsafeMutablePointer<Float>, lddx: Int,
                  dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>) {
        weight.withUnsafeBufferPointer { g in
            TrainingKernels.layerNormBackward(x: x, ldx: ldx, dy: dy, lddy: lddy, rows: rows, d: dim, gamma: g.baseAddress!,
                                              eps: epsilon, dx: dx, lddx: lddx, dGamma: dWeight, dBeta: dBias)
        }
    }
}
