import CKernels

/// Layer normalisation over the last dimension (`torch.nn.LayerNorm`, biased variance, eps 1e-5).
public struct LayerNorm: Sendable {
    public let dim: Int
    public var weight: [Float]
    public var bias: [Float]
    public var epsilon: Float

    public init(dim: Int, weight: [Float], bias: [Float], epsilon: Float = 1e-5) {
        precondition(weight.count == dim && bias.count == dim)
        self.dim = dim; self.weight = weight; self.bias = bias; self.epsilon = epsilon
    }

    /// Normalises `rows` rows of `x` (stride `ldx`) into `out` (stride `ldo`; may equal `x`).
    @inline(__always)
    package func forward(_ x: UnsafePointer<Float>, ldx: Int, rows: Int, into out: UnsafeMutablePointer<Float>, ldo: Int) {
        weight.withUnsafeBufferPointer { g in
            bias.withUnsafeBufferPointer { b in
                VectorKernels.layerNorm(x, ldx: ldx, rows: rows, d: dim, gamma: g.baseAddress!, beta: b.baseAddress!,
                                        eps: epsilon, out: out, ldo: ldo)
            }
        }
    }

    /// Normalises `rows` rows of `x` (stride `ldx`) and writes them rounded to bf16 into `y` (stride `ldy`
    /// elements): the same bits as ``forward(_:ldx:rows:into:ldo:)`` followed by `moemae_bf16_round`, in one
    /// pass over the rows (`moemae_bf16_layernorm`, the same operations in C; for widths above 1024, 16
    /// rows at a time through `scratch`, 16 × ``dim`` floats) instead of a conversion in every product
    /// that reads them.
    package func forward(_ x: UnsafePointer<Float>, ldx: Int, rows: Int, bf16 y: UnsafeMutablePointer<UInt16>, ldy: Int,
                         scratch: UnsafeMutablePointer<Float>, kernel: BF16Kernel) {
        let rc = weight.withUnsafeBufferPointer { g in
            bias.withUnsafeBufferPointer { b in
                moemae_bf16_layernorm(x, Int32(ldx), Int32(rows), Int32(dim), g.baseAddress!, b.baseAddress!, epsilon, y, Int32(ldy),
                                      kernel == .avx512bf16 ? MOEMAE_BF16_KERNEL_AVX512 : MOEMAE_BF16_KERNEL_PORTABLE)
            }
        }
        if rc == 0 { return }
        precondition(rc == -2, "moemae_bf16_layernorm failed (\(rc))")
        var r0 = 0
        while r0 < rows {
            let n = min(16, rows - r0)
            forward(x + r0 * ldx, ldx: ldx, rows: n, into: scratch, ldo: dim)
            BLAS.bf16Round(rows: n, n: dim, x: scratch, ldx: dim, y: y + r0 * ldy, ldy: ldy, kernel: kernel)
            r0 += 16
        }
    }
}
