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
}
