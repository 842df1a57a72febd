import Foundation

/// Unconstrained minimisation of a smooth function with limited-memory BFGS.
///
/// Algorithm: Nocedal & Wright, *Numerical Optimization* (2nd ed., 2006): the two-loop recursion
/// (Alg. 7.4) with the initial Hessian scaling γ = sᵀy / yᵀy (eq. 7.20), and a line search that
/// satisfies the strong Wolfe conditions (Alg. 3.5 with `zoom`, Alg. 3.6; c₁ = 1e-4, c₂ = 0.9),
/// trial steps chosen by safeguarded cubic interpolation (eq. 3.59).
///
/// Convergence: ‖∇f‖∞ ≤ `gradientTolerance` · max(1, ‖∇f(x₀)‖∞). The objectives of this module are
/// mean losses of order 1, so the default 1e-8 is an absolute tolerance far tighter than
/// scikit-learn's default (`tol = 1e-4` on the same scaled objective). When the line search can no
/// longer decrease f in floating point the run also stops; ``Result/converged`` then reports whether
/// the gradient is nonetheless small (≤ 1e-5 relative).
struct LBFGS {
    /// Number of correction pairs kept (m in Nocedal & Wright).
    var memory = 20
    var gradientTolerance = 1e-8
    var maxIterations = 10_000

    struct Result {
        var x: [Double]
        var value: Double
        /// ‖∇f(x)‖∞ at the returned point.
        var gradientNorm: Double
        var iterations: Int
        var converged: Bool
        /// Why the iteration stopped, in words.
        var reason: String
    }

    /// The objective: fills `gradient` (same count as `x`) and returns f(x).
    typealias Objective = (_ x: [Double], _ gradient: inout [Double]) -> Double

    func minimize(from start: [Double], _ f: Objective) -> Result {
        let n = start.count
        var x = start
        var g = [Double](repeating: 0, count: n)
        var fx = f(x, &g)
        let g0 = infinityNorm(g)
        let target = gradientTolerance * max(1, g0)
        var sList: [[Double]] = []
        var yList: [[Double]] = []
        var rhoList: [Double] = []
        var iteration = 0
        var stalls = 0
        if !fx.isFinite {
            return Result(x: x, value: fx, gradientNorm: g0, iterations: 0, converged: false,
                          reason: "the objective is not finite at the starting point")
        }
        while iteration < maxIterations {
            let gNorm = infinityNorm(g)
            if gNorm <= target {
                return Result(x: x, value: fx, gradientNorm: gNorm, iterations: iteration, converged: true,
                              reason: "gradient norm \(gNorm) ≤ \(target)")
            }
            // Two-loop recursion: d = −H·g.
            var q = g
            var alphas = [Double](repeating: 0, count: sList.count)
            for i in stride(from: sList.count - 1, through: 0, by: -1) {
                let a = rhoList[i] * dot(sList[i], q)
                alphas[i] = a
                axpy(-a, yList[i], &q)
            }
            if let last = sList.indices.last {
                let gamma = dot(sList[last], yList[last]) / dot(yList[last], yList[last])
                scale(&q, gamma)
            } else {
                // First step: unit length in the ∞-norm, so the line search starts at a sensible scale.
                scale(&q, 1 / max(gNorm, 1))
            }
            for i in 0..<sList.count {
                let b = rhoList[i] * dot(yList[i], q)
                axpy(alphas[i] - b, sList[i], &q)
            }
            var d = q
            scale(&d, -1)
            var slope = dot(g, d)
            if !(slope < 0) {
                // Not a descent direction (numerical breakdown): restart from steepest descent.
                sList.removeAll(); yList.removeAll(); rhoList.removeAll()
                d = g; scale(&d, -1 / max(gNorm, 1)); slope = dot(g, d)
            }
            guard let step = lineSearch(f, x: x, fx: fx, g: g, d: d, slope: slope) else {
                if !sList.isEmpty && stalls == 0 {
                    // Retry once along steepest descent with a fresh memory.
                    sList.removeAll(); yList.removeAll(); rhoList.removeAll()
                    stalls += 1
                    continue
                }
                let rel = gNorm / max(1, g0)
                return Result(x: x, value: fx, gradientNorm: gNorm, iterations: iteration, converged: rel <= 1e-5,
                              reason: "the line search cannot decrease the objective further in floating point (gradient norm \(gNorm))")
            }
            stalls = 0
            iteration += 1
            var s = [Double](repeating: 0, count: n)
            var yv = [Double](repeating: 0, count: n)
            for i in 0..<n {
                s[i] = step.x[i] - x[i]
                yv[i] = step.g[i] - g[i]
            }
            let sy = dot(s, yv)
            x = step.x; g = step.g
            let previous = fx
            fx = step.f
            if sy > 1e-16 * dot(yv, yv) && sy > 0 {
                if sList.count == memory { sList.removeFirst(); yList.removeFirst(); rhoList.removeFirst() }
                sList.append(s); yList.append(yv); rhoList.append(1 / sy)
            }
            if previous - fx <= 0 && infinityNorm(s) == 0 {
                let gN = infinityNorm(g)
                return Result(x: x, value: fx, gradientNorm: gN, iterations: iteration, converged: gN / max(1, g0) <= 1e-5,
                              reason: "the step vanished (gradient norm \(gN))")
            }
        }
        let gN = infinityNorm(g)
        return Result(x: x, value: fx, gradientNorm: gN, iterations: iteration, converged: gN <= target,
                      reason: "reached the iteration limit \(maxIterations) (gradient norm \(gN))")
    }

    private struct Point { var x: [Double]; var f: Double; var g: [Double]; var slope: Double; var alpha: Double }

    /// Strong-Wolfe line search along `d` (Nocedal & Wright Alg. 3.5/3.6). Returns nil when no step
    /// with a sufficient decrease exists in floating point.
    private func lineSearch(_ f: Objective, x: [Double], fx: Double, g: [Double], d: [Double], slope: Double) -> Point? {
        let c1 = 1e-4, c2 = 0.9
        let n = x.count
        func eval(_ alpha: Double) -> Point {
            var xn = x
            for i in 0..<n { xn[i] += alpha * d[i] }
            var gn = [Double](repeating: 0, count: n)
            let fn = f(xn, &gn)
            return Point(x: xn, f: fn, g: gn, slope: dot(gn, d), alpha: alpha)
        }
        let origin = Point(x: x, f: fx, g: g, slope: slope, alpha: 0)
        var previous = origin
        var alpha = 1.0
        let alphaMax = 1e10
        for i in 0..<60 {
            var current = eval(alpha)
            // A non-finite value (overflow far along d): shrink until finite.
            var shrink = 0
            while !current.f.isFinite && shrink < 60 {
                alpha = previous.alpha + (alpha - previous.alpha) * 0.1
                current = eval(alpha)
                shrink += 1
            }
            if !current.f.isFinite { return nil }
            if current.f > fx + c1 * alpha * slope || (i > 0 && current.f >= previous.f) {
                return zoom(eval, low: previous, high: current, fx: fx, slope: slope, c1: c1, c2: c2)
            }
            if abs(current.slope) <= -c2 * slope { return current }
            if current.slope >= 0 {
                return zoom(eval, low: current, high: previous, fx: fx, slope: slope, c1: c1, c2: c2)
            }
            previous = current
            alpha = min(alpha * 4, alphaMax)
            if alpha >= alphaMax { return current }
        }
        return nil
    }

    private func zoom(_ eval: (Double) -> Point, low lowIn: Point, high highIn: Point, fx: Double, slope: Double,
                      c1: Double, c2: Double) -> Point? {
        var low = lowIn, high = highIn
        for _ in 0..<60 {
            let a = cubicMinimizer(low, high)
            let lo = min(low.alpha, high.alpha), hi = max(low.alpha, high.alpha)
            let width = hi - lo
            // Safeguard: keep the trial inside the central part of the bracket.
            let alpha = (a.isFinite && a > lo + 0.1 * width && a < hi - 0.1 * width) ? a : (low.alpha + high.alpha) / 2
            if width <= 1e-16 * max(1, hi) { break }
            let p = eval(alpha)
            if !p.f.isFinite || p.f > fx + c1 * alpha * slope || p.f >= low.f {
                high = p
            } else {
                if abs(p.slope) <= -c2 * slope { return p }
                if p.slope * (high.alpha - low.alpha) >= 0 { high = low }
                low = p
            }
        }
        // The bracket collapsed: accept the best point if it decreased f at all.
        return low.alpha > 0 && low.f < fx ? low : nil
    }

    /// Minimiser of the cubic interpolating f and f′ at both ends (Nocedal & Wright eq. 3.59).
    private func cubicMinimizer(_ p: Point, _ q: Point) -> Double {
        let d1 = p.slope + q.slope - 3 * (p.f - q.f) / (p.alpha - q.alpha)
        let disc = d1 * d1 - p.slope * q.slope
        guard disc >= 0 else { return .nan }
        let d2 = (q.alpha > p.alpha ? 1.0 : -1.0) * disc.squareRoot()
        return q.alpha - (q.alpha - p.alpha) * (q.slope + d2 - d1) / (q.slope - p.slope + 2 * d2)
    }
}

@inline(__always) func dot(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for i in 0..<a.count { s += a[i] * b[i] }
    return s
}

@inline(__always) func axpy(_ a: Double, _ x: [Double], _ y: inout [Double]) {
    for i in 0..<x.count { y[i] += a * x[i] }
}

@inline(__always) func scale(_ x: inout [Double], _ a: Double) {
    for i in 0..<x.count { x[i] *= a }
}

@inline(__always) func infinityNorm(_ x: [Double]) -> Double {
    var m = 0.0
    for v in x { m = max(m, abs(v)) }
    return m
}
