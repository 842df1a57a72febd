import MoEMAE
/// Gradient clipping to a global L2 norm (`torch.nn.utils.clip_grad_norm_`): with
/// `total = ‖g‖₂` over all unique parameters, every gradient is multiplied by
/// `min(1, maxNorm / (total + 1e-6))`. Returns the norm before clipping.
public enum GradientClipping {
    @discardableResult
    public static func clip(_ gradients: UnsafeMutablePointer<Float>, count: Int, maxNorm: Double = 1.0) -> Double {
        var sum = 0.0
        var i = 0
        // Accumulate in Double in blocks of Float partial sums.
        while i < count {
            let end = min(count, i + 4096)
            var s: Float = 0
            for j in i..<end { s += gradients[j] * gradients[j] }
            sum += Double(s)
            i = end
        }
        let total = sum.squareRoot()
        let coef = maxNorm / (total + 1e-6)
        if coef < 1 {
            let c = Float(coef)
            for j in 0..<count { gradients[j] *= c }
        }
        return total
    }
}
