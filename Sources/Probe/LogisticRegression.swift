/// L2-regularised logistic regression with scikit-learn's parameterisation, fitted with L-BFGS.
///
/// - Multi-class: one multinomial (softmax) model over K classes, as `LogisticRegression(C=C)` with the
///   default `lbfgs` solver fits it for K > 2 (and, here, also for K = 2).
/// - Multi-label: K independent binary models (one-vs-rest), as `OneVsRestClassifier(LogisticRegression(C=C))`.
///
/// The objective is `C·Σ log-loss + ½‖W‖²` with the intercept not penalised (see ``LogisticObjective``).
/// With `standardize`, the features are z-scored before fitting (scikit-learn's `StandardScaler`) and the
/// fitted map is folded back so it applies to raw features.
public struct LogisticRegression: Sendable {
    /// Inverse regularisation strength (scikit-learn's `C`), > 0.
    public var C: Double
    public var standardize: Bool
    /// Stop when ‖∇f‖∞ ≤ tolerance · max(1, ‖∇f(0)‖∞) on the objective divided by C·N.
    public var tolerance: Double
    public var maxIterations: Int

    public init(C: Double = 1, standardize: Bool = false, tolerance: Double = 1e-8, maxIterations: Int = 10_000) {
        self.C = C; self.standardize = standardize; self.tolerance = tolerance; self.maxIterations = maxIterations
    }

    /// A fitted linear map: `weight` [K, D] row-major and `bias` [K], applying to raw features.
    public struct Model: Sendable, Equatable {
        public var weight: [Double]
        public var bias: [Double]
        public var classes: Int
        public var dimension: Int
    }

    /// How one optimisation ended.
    public struct Convergence: Sendable, Equatable {
        public var iterations: Int
        public var gradientNorm: Double
        public var converged: Bool
        public var reason: String
    }

    /// Fits a multinomial model. `labels[i]` ∈ 0..<classes. Every class should occur at least once
    /// (a class that never occurs has its optimum at bias −∞; the caller removes such classes).
    ///
    /// For two classes scikit-learn fits one binary model (`HalfBinomialLoss`, penalty ½‖w‖²), which is not
    /// the two-class multinomial model (its symmetric penalty halves the effective regularisation); this
    /// does the same and stores it as the equivalent softmax pair `W = [−w/2; w/2]`, `b = [−b/2; b/2]`
    /// (softmax of (−z/2, z/2) is (1 − σ(z), σ(z))).
    public func fitMultinomial(_ x: FeatureMatrix, labels: [Int], classes k: Int) -> (Model, Convergence) {
        let d = x.columns
        if k == 2 {
            let (binary, reports) = fitOneVsRest(x, targets: labels.map { $0 == 1 }, classes: 1)
            let half = binary.weight.map { $0 / 2 }
            return (Model(weight: half.map { -$0 } + half, bias: [-binary.bias[0] / 2, binary.bias[0] / 2], classes: 2, dimension: d),
                    reports[0])
        }
        let (xs, scaler) = prepared(x)
        let objective = LogisticObjective.multinomial(x: xs, labels: labels, classes: k, l2: 1 / (C * Double(x.rows)))
        let r = solver.minimize(from: [Double](repeating: 0, count: k * (d + 1)), objective)
        var weight = Array(r.x[0..<(k * d)])
        var bias = Array(r.x[(k * d)...])
        scaler?.fold(weight: &weight, bias: &bias)
        // The unpenalised intercepts are defined up to a common shift (softmax invariance); centre them
        // so the stored probe is canonical. Probabilities are unchanged.
        let mean = bias.reduce(0, +) / Double(k)
        bias = bias.map { $0 - mean }
        return (Model(weight: weight, bias: bias, classes: k, dimension: d),
                Convergence(iterations: r.iterations, gradientNorm: r.gradientNorm, converged: r.converged, reason: r.reason))
    }

    /// Fits K independent binary models. `targets` is [N, K] row-major (true = the tile has the class).
    /// A class whose column is constant cannot be fitted (its optimum lies at infinity); as scikit-learn's
    /// `OneVsRestClassifier` does (`_ConstantPredictor`), it gets a constant score: weight 0 and bias
    /// ∓``constantLogit`` (probability ≈ 9.4e-14 or 1 − 9.4e-14).
    public func fitOneVsRest(_ x: FeatureMatrix, targets: [Bool], classes k: Int) -> (Model, [Convergence]) {
        let (xs, scaler) = prepared(x)
        let n = x.rows, d = x.columns
        var weight = [Double](repeating: 0, count: k * d)
        var bias = [Double](repeating: 0, count: k)
        var reports: [Convergence] = []
        for c in 0..<k {
            let column = (0..<n).map { targets[$0 * k + c] }
            let positives = column.filter { $0 }.count
            if positives == 0 || positives == n {
                bias[c] = positives == 0 ? -Self.constantLogit : Self.constantLogit
                reports.append(Convergence(iterations: 0, gradientNorm: 0, converged: true,
                                           reason: positives == 0 ? "no positive tile: constant score 0" : "every tile positive: constant score 1"))
                continue
            }
            let objective = LogisticObjective.binary(x: xs, targets: column, l2: 1 / (C * Double(n)))
            let r = solver.minimize(from: [Double](repeating: 0, count: d + 1), objective)
            for j in 0..<d { weight[c * d + j] = r.x[j] }
            bias[c] = r.x[d]
            reports.append(Convergence(iterations: r.iterations, gradientNorm: r.gradientNorm, converged: r.converged, reason: r.reason))
        }
        scaler?.fold(weight: &weight, bias: &bias)
        return (Model(weight: weight, bias: bias, classes: k, dimension: d), reports)
    }

    /// The logit given to a class that is constant in the training labels.
    public static let constantLogit = 30.0

    private var solver: LBFGS {
        LBFGS(memory: 20, gradientTolerance: tolerance, maxIterations: maxIterations)
    }

    private func prepared(_ x: FeatureMatrix) -> (FeatureMatrix, Standardizer?) {
        guard standardize else { return (x, nil) }
        let s = Standardizer(fitting: x)
        return (s.apply(x), s)
    }
}
