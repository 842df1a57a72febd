import CKernels
import Foundation
import MoEMAE

/// Element-wise kernels of the backward pass (`SIMD8<Float>` like ``VectorKernels``); matrix
/// products go through ``BLAS``. No allocation in here.
package enum TrainingKernels {
    package typealias V8 = SIMD8<Float>
    @inline(__always) package static func load(_ p: UnsafePointer<Float>) -> V8 { VectorKernels.load(p) }
    @inline(__always) package static func store(_ v: V8, _ p: UnsafeMutablePointer<Float>) { VectorKernels.store(v, p) }

    /// `out[j] += Σ_r x[r][j]` for `rows` rows of width `n` (stride `ld`): a bias gradient.
    package static func addColumnSums(_ x: UnsafePointer<Float>, ld: Int, rows: Int, n: Int, into out: UnsafeMutablePointer<Float>) {
        let vec = n & ~7
        var j = 0
        while j < vec {
            var s = V8.zero
            for r in 0..<rows { s += load(x + r * ld + j) }
            store(load(out + j) + s, out + j)
            j += 8
        }
        while j < n {
            var s: Float = 0
            for r in 0..<rows { s += x[r * ld + j] }
            out[j] += s
            j += 1
        }
    }

    /// `Σ a[i]·b[i]`.
    @inline(__always)
    package static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        let vec = n & ~7
        var s = V8.zero
        var i = 0
        while i < vec { s += load(a + i) * load(b + i); i += 8 }
        var t = s.sum()
        while i < n { t += a[i] * b[i]; i += 1 }
        return t
    }

    /// `Σ a[i]·b[i]·c[i]`.
    @inline(__always)
    package static func dot3(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>, _ n: Int) -> Float {
        let vec = n & ~7
        var s = V8.zero
        var i = 0
        while i < vec { s += load(a + i) * load(b + i) * load(c + i); i += 8 }
        var t = s.sum()
        while i < n { t += a[i] * b[i] * c[i]; i += 1 }
        return t
    }

    /// `y[i] += alpha · x[i]`.
    @inline(__always)
    package static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let vec = n & ~7
        let a = V8(repeating: alpha)
        var i = 0
        while i < vec { store(load(y + i) + a * load(x + i), y + i); i += 8 }
        while i < n { y[i] += alpha * x[i]; i += 1 }
    }

    /// `y[i] += alpha · x[i] · m[i]`.
    @inline(__always)
    package static func axpyMasked(_ alpha: Float, _ x: UnsafePointer<Float>, _ m: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let vec = n & ~7
        let a = V8(repeating: alpha)
        var i = 0
        while i < vec { store(load(y + i) + a * load(x + i) * load(m + i), y + i); i += 8 }
        while i < n { y[i] += alpha * x[i] * m[i]; i += 1 }
    }

    /// `y[i] = alpha · x[i] · m[i]`.
    @inline(__always)
    package static func scaleMasked(_ alpha: Float, _ x: UnsafePointer<Float>, _ m: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let vec = n & ~7
        let a = V8(repeating: alpha)
        var i = 0
        while i < vec { store(a * load(x + i) * load(m + i), y + i); i += 8 }
        while i < n { y[i] = alpha * x[i] * m[i]; i += 1 }
    }

    /// `y[i] = alpha · x[i]`.
    @inline(__always)
    package static func scale(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let vec = n & ~7
        let a = V8(repeating: alpha)
        var i = 0
        while i < vec { store(a * load(x + i), y + i); i += 8 }
        while i < n { y[i] = alpha * x[i]; i += 1 }
    }

    /// SwiGLU forward of one routed token: `u[i] = SiLU(a[i]) · v[i]`, SiLU(a) = a/(1+e^−a)
    /// (`moemae_swiglu`, Sources/CKernels: AVX2+FMA when the CPU has it).
    @inline(__always)
    package static func swiglu(_ a: UnsafePointer<Float>, _ v: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>, _ n: Int) {
        moemae_swiglu(a, v, u, Int32(n))
    }

    /// SwiGLU backward of one routed token: given `du`, writes `da = du·v·SiLU'(a)` (in place of `du`)
    /// and adds `du·SiLU(a)` to `dv`. SiLU'(a) = σ(a)·(1 + a·(1 − σ(a))) (`moemae_swiglu_backward`).
    @inline(__always)
    package static func swigluBackward(_ a: UnsafePointer<Float>, _ v: UnsafePointer<Float>, du: UnsafeMutablePointer<Float>,
                               dv: UnsafeMutablePointer<Float>, _ n: Int) {
        moemae_swiglu_backward(a, v, du, dv, Int32(n))
    }

    /// Softmax backward of one row in place: `dp ← p ⊙ (dp − Σ dp⊙p)`.
    @inline(__always)
    package static func softmaxBackward(_ p: UnsafePointer<Float>, _ dp: UnsafeMutablePointer<Float>, _ n: Int) {
        let s = dot(p, dp, n)
        let vec = n & ~7
        let sv = V8(repeating: s)
        var i = 0
        while i < vec { store(load(p + i) * (load(dp + i) - sv), dp + i); i += 8 }
        while i < n { dp[i] = p[i] * (dp[i] - s); i += 1 }
    }

    /// LayerNorm backward (`torch.nn.LayerNorm`, biased variance) for `rows` rows of width `d`:
    /// with x̂ = (x − μ)·r, r = 1/√(var + eps), g = dy ⊙ γ:
    /// `dx += r · (g − mean(g) − x̂ · mean(g ⊙ x̂))`, `dγ += Σ dy ⊙ x̂`, `dβ += Σ dy`.
    /// μ and r are recomputed from `x` (`moemae_layernorm_backward`, Sources/CKernels).
    package static func layerNormBackward(x: UnsafePointer<Float>, ldx: Int, dy: UnsafePointer<Float>, lddy: Int, rows: Int, d: Int,
                                  gamma: UnsafePointer<Float>, eps: Float,
                                  dx: UnsafeMutablePointer<Float>, lddx: Int,
                                  dGamma: UnsafeMutablePointer<Float>, dBeta: UnsafeMutablePointer<Float>) {
        moemae_layernorm_backward(x, Int32(ldx), dy, Int32(lddy), Int32(rows), Int32(d), gamma, eps,
                                  dx, Int32(lddx), dGamma, dBeta)
    }
}
