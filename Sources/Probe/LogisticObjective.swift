import COpenBLAS
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
                        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(k), Int32(d),
                                    1, xv.baseAddress, Int32(d), t.baseAddress, Int32(d), 0, z.baseAddress, Int32(k))
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
                            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(k), Int32(d), Int32(n),
                                        1 / Double(n), z.baseAddress, Int32(k), xv.baseAddress, Int32(d), 0, g.baseAddress, Int32(d))
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
                        cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(d), 1, xv.baseAddress, Int32(d),
                                    t.baseAddress, 1, 0, zv.baseAddress, 1)
                        var gb = 0.0
                        for i in 0..<n {
                            let zi = zv[i] + b
                            loss += softplus(zi) - (targets[i] ? zi : 0)
                            let r = sigmoid(zi) - (targets[i] ? 1 : 0)
                            zv[i] = r
                            gb += r
                        }
                        grad.withUnsafeMutableBufferPointer { g in
                            cblas_dgemv(CblasRowMajor, CblasTrans, Int32(n), Int32(d), 1 / Double(n), xv.baseAddress, Int32(d),
                                        zv.baseAddress, 1, 0, g.baseAddress, 1)
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
