import MoEMAE
import Foundation

/// The penalised logistic losses that scikit-learn's `LogisticRegression(solver="lbfgs")` minimises,
/// divided by C·N (which leaves the minimiser unchanged):
///
///     C · Σᵢ ℓᵢ + ½‖W‖²   ⇔   (1/N) Σᵢ ℓᵢ + (λ/2)‖W‖²,  λ = 1/(C·N)
///
/// The intercepts are not penalised (scikit-learn `linear_model/_logistic.py`, `_logistic_regression_path`,
/// `l2_reg_strength = 1.0 / (C * sw_sum)`; `LinearModelLoss` excludes the intercept from the penalty).
///
/// Parameters are laid out `[W (K×D, row-major), b (K)]`.
enum LogisticObjective {
    /// Multinomial (softmax) loss, K ≥ 2 classes: ℓᵢ = log Σₖ exp(zᵢₖ) − zᵢ,yᵢ with z = X·Wᵀ + b
    /// (scikit-learn `HalfMultinomialLoss`, full K-class parameterisation with a symmetric penalty).
    static func multinomial(x: FeatureMatrix, labels: [Int], classes k: Int, l2: Double) -> LBFGS.Objective {
        let n = x.rows, d = x.columns
        precondition(labels.count == n)
        var logits = [Double](repeating: 0, count: n * k)
        return { theta, grad in
            var loss = 0.0
            theta.withUnsafeBufferPointer { t in
                x.values.withUnsafeBufferPointer { xv in
                    logits.withUnsafeMutableBufferPointer { z in
                        // Z = X · Wᵀ  (N×K)
                        BLAS.dgemm(transB: true, m: n, n: k, k: d, a: xv.baseAddress!, lda: d, b: t.baseAddress!, ldb: d,
                                   c: z.baseAddress!, ldc: k)
                        for i in 0..<n {
                            let row = i * k
                            var m = -Double.infinity
                            for c in 0..<k { z[row + c] += t[k * d + c]; m = max(m, z[row + c]) }
                            var s = 0.0
                            for c in 0..<k { let e = Foundation.exp(z[row + c] - m); z[row + c] = e; s += e }
                            let logSum = m + Foundation.log(s)
                            // z currently holds exp(z − m); recover z_y for the loss before overwriting.
                            let zy = Foundation.log(z[row + labels[i]]) + m
                            loss += logSum - zy
                            // G = softmax − onehot, scaled by 1/N
                            for c in 0..<k { z[row + c] = z[row + c] / s }
                            z[row + labels[i]] -= 1
                        }
                        grad.withUnsafeMutableBufferPointer { g in
                            // ∇W = (1/N) Gᵀ X + λ W
                            BLAS.dgemm(transA: true, m: k, n: d, k: n, alpha: 1 / Double(n), a: z.baseAddress!, lda: k,
                                       b: xv.baseAddress!, ldb: d, c: g.baseAddress!, ldc: d)
                            for j in 0..<(k * d) { g[j] += l2 * t[j] }
                            for c in 0..<k {
                                var s = 0.0
                                for i in 0..<n { s += z[i * k + c] }
                                g[k * d + c] = s / Double(n)
                            }
                        }
                    }
                }
            }
            var penalty = 0.0
            for j in 0..<(k * d) { penalty += theta[j] * theta[j] }
            return loss / Double(n) + 0.5 * l2 * penalty
        }
    }

    /// Binary logistic loss, targets in {0, 1}: ℓᵢ = log(1 + e^zᵢ) − yᵢ zᵢ with z = X·w + b
    /// (scikit-learn `HalfBinomialLoss`). Parameters `[w (D), b]`.
    static func binary(x: FeatureMatrix, targets: [Bool], l2: Double) -> LBFGS.Objective {
        let n = x.rows, d = x.columns
        precondition(targets.count == n)
        var z = [Double](repeating: 0, count: n)
        return { theta, grad in
            var loss = 0.0
            let b = theta[d]
            theta.withUnsafeBufferPointer { t in
                x.values.withUnsafeBufferPointer { xv in
                    z.withUnsafeMutableBufferPointer { zv in
                        BLAS.dgemv(m: n, n: d, a: xv.baseAddress!, lda: d, x: t.baseAddress!, y: zv.baseAddress!)
                        var gb = 0.0
                        for i in 0..<n {
                            let zi = zv[i] + b
                            loss += softplus(zi) - (targets[i] ? zi : 0)
                            let r = sigmoid(zi) - (targets[i] ? 1 : 0)
                            zv[i] = r
                            gb += r
                        }
                        grad.withUnsafeMutableBufferPointer { g in
                            BLAS.dgemv(transA: true, m: n, n: d, alpha: 1 / Double(n), a: xv.baseAddress!, lda: d,
                                       x: zv.baseAddress!, y: g.baseAddress!)
                            for j in 0..<d { g[j] += l2 * t[j] }
                            g[d] = gb / Double(n)
                        }
                    }
                }
            }
            var penalty = 0.0
            for j in 0..<d { penalty += theta[j] * theta[j] }
            return loss / Double(n) + 0.5 * l2 * penalty
        }
    }
}

/// log(1 + eᶻ) without overflow.
@inline(__always) func softplus(_ z: Double) -> Double {
    z > 0 ? z + Foundation.log1p(Foundation.exp(-z)) : Foundation.log1p(Foundation.exp(z))
}

/// 1 / (1 + e⁻ᶻ) without overflow.
@inline(__always) func sigmoid(_ z: Double) -> Double {
    if z >= 0 { return 1 / (1 + Foundation.exp(-z)) }
    let e = Foundation.exp(z)
    return e / (1 + e)
}
