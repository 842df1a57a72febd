import Foundation
import MoEMAE

/// AdamW exactly as `torch.optim.AdamW` (Loshchilov & Hutter, "Decoupled Weight Decay
/// Regularization", ICLR 2019; PyTorch's single-tensor implementation), over one flat parameter buffer.
///
/// Per step t (1-based) with learning rate lr, for every parameter p with gradient g:
/// `p ← p·(1 − lr·λ)` (decoupled decay, applied to ALL parameters as in the published recipe),
/// `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
/// `p ← p − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)`.
/// Defaults: lr 3e-4 (set per step by the schedule), β = (0.9, 0.999), ε 1e-8, λ 0.05.
public struct AdamW: Sendable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float = 0.05
    /// First and second moment estimates, one per parameter.
    public var m: [Float]
    public var v: [Float]
    /// Steps taken so far (t of the last update).
    public var step: Int = 0

    public init(parameterCount: Int, weightDecay: Float = 0.05) {
        m = [Float](repeating: 0, count: parameterCount)
        v = [Float](repeating: 0, count: parameterCount)
        self.weightDecay = weightDecay
    }

    /// One update of `parameters` with `gradients` at learning rate `lr`.
    public mutating func update(_ parameters: inout [Float], gradients: UnsafePointer<Float>, lr: Float) {
        precondition(parameters.count == m.count)
        step += 1
        let t = Float(step)
        let bias1 = 1 - Foundation.pow(beta1, t), bias2 = 1 - Foundation.pow(beta2, t)
        let stepSize = lr / bias1
        let bias2Sqrt = bias2.squareRoot()
        let decay = 1 - lr * weightDecay
        let b1 = beta1, b2 = beta2, eps = epsilon
        let n = parameters.count
        parameters.withUnsafeMutableBufferPointer { p in
            m.withUnsafeMutableBufferPointer { mm in
                v.withUnsafeMutableBufferPointer { vv in
                    for i in 0..<n {
                        let g = gradients[i]
                        p[i] *= decay
                        mm[i] = mm[i] * b1 + (1 - b1) * g        // torch: m.lerp_(g, 1 − β₁)
                        vv[i] = vv[i] * b2 + (1 - b2) * g * g    // torch: v.mul_(β₂).addcmul_(g, g, 1 − β₂)
                        let denom = vv[i].squareRoot() / bias2Sqrt + eps
                        p[i] -= stepSize * mm[i] / denom
                    }
                }
            }
        }
    }
}

