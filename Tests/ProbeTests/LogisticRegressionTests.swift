import Foundation
import SafeTensors
import XCTest
@testable import Probe

/// The fitted probabilities agree with scikit-learn's `LogisticRegression` (lbfgs, run to tight
/// tolerance) on the same data and C: multinomial for several classes, binary for two, one-vs-rest for
/// multi-label, with and without standardisation.
final class LogisticRegressionTests: XCTestCase {
    /// Overlapping Gaussian clusters: N tiles, D features, K classes, class means 1.2σ apart on average.
    /// An offset and uneven feature scales make the intercept and standardisation matter.
    static func clusters(n: Int, d: Int, k: Int, seed: UInt64) -> (FeatureMatrix, [Int]) {
        var rng = SeededRandom(seed: seed)
        let means = (0..<(k * d)).map { _ in 1.2 * rng.gaussian() }
        let scales = (0..<d).map { 0.5 + 2.0 * Double($0) / Double(d) }
        var x: [Double] = [], y: [Int] = []
        for _ in 0..<n {
            let c = rng.below(k)
            y.append(c)
            for j in 0..<d { x.append((means[c * d + j] + rng.gaussian()) * scales[j] + 3) }
        }
        return (FeatureMatrix(rows: n, columns: d, values: x), y)
    }

    /// Probabilities of the fitted model on `x`: softmax or per-class sigmoid.
    static func probabilities(_ m: LogisticRegression.Model, _ x: FeatureMatrix, softmax: Bool) -> [Double] {
        var out: [Double] = []
        for i in 0..<x.rows {
            var z = (0..<m.classes).map { c in
                m.bias[c] + (0..<x.columns).reduce(0.0) { $0 + m.weight[c * x.columns + $1] * x.values[i * x.columns + $1] }
            }
            if softmax {
                let mx = z.max()!
                z = z.map { exp($0 - mx) }
                let s = z.reduce(0, +)
                out += z.map { $0 / s }
            } else {
                out += z.map { 1 / (1 + exp(-$0)) }
            }
        }
        return out
    }

    static let sklearnScript = """
    import sys, numpy as np
    from safetensors.numpy import load_file, save_file
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    from sklearn.pipeline import make_pipeline
    data = load_file("data.safetensors")
    X = data["x"]; mode = sys.argv[1]; C = float(sys.argv[2]); standardize = sys.argv[3] == "1"
    def model():
        lr = LogisticRegression(C=C, tol=1e-10, max_iter=100000)
        return make_pipeline(StandardScaler(), lr) if standardize else lr
    if mode == "multiclass":
        m = model().fit(X, data["y"])
        p = m.predict_proba(X)
    else:
        Y = data["y"]
        p = np.stack([model().fit(X, Y[:, c]).predict_proba(X)[:, 1] for c in range(Y.shape[1])], axis=1)
    save_file({"p": np.ascontiguousarray(p, dtype=np.float64)}, "p.safetensors")
    """

    func sklearnProbabilities(_ x: FeatureMatrix, labels: [Int64], labelShape: [Int], mode: String, C: Double,
                              standardize: Bool) throws -> [Double] {
        let py = try PythonReference()
        defer { py.cleanUp() }
        try SafeTensors.write([
            Tensor("x", x.values, shape: [x.rows, x.columns]),
            Tensor("y", labels, shape: labelShape),
        ], to: py.path("data.safetensors"))
        try py.run(Self.sklearnScript, [mode, String(C), standardize ? "1" : "0"])
        return try SafeTensorsFile(path: py.path("p.safetensors")).array("p", as: Double.self)
    }

    func checkMulticlass(k: Int, C: Double, standardize: Bool, seed: UInt64) throws {
        let (x, y) = Self.clusters(n: 300, d: 12, k: k, seed: seed)
        let fit = LogisticRegression(C: C, standardize: standardize)
        let (model, convergence) = fit.fitMultinomial(x, labels: y, classes: k)
        XCTAssertTrue(convergence.converged, convergence.reason)
        let ours = Self.probabilities(model, x, softmax: true)
        let theirs = try sklearnProbabilities(x, labels: y.map(Int64.init), labelShape: [x.rows], mode: "multiclass",
                                              C: C, standardize: standardize)
        XCTAssertEqual(ours.count, theirs.count)
        let worst = zip(ours, theirs).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worst, 1e-3, "K=\(k) C=\(C) standardize=\(standardize): max |p − p_sklearn| = \(worst)")
        // Far tighter in practice; a regression of the solver shows here first.
        XCTAssertLessThan(worst, 1e-5, "K=\(k) C=\(C) standardize=\(standardize): max |p − p_sklearn| = \(worst)")
    }

    func testMultinomialMatchesScikitLearn() throws {
        try checkMulticlass(k: 4, C: 1.0, standardize: false, seed: 1)
        try checkMulticlass(k: 5, C: 0.05, standardize: false, seed: 2)
        try checkMulticlass(k: 3, C: 50, standardize: false, seed: 3)
    }

    func testTwoClassFitMatchesScikitLearnBinaryModel() throws {
        try checkMulticlass(k: 2, C: 1.0, standardize: false, seed: 4)
    }

    func testStandardizedMultinomialMatchesScikitLearnPipeline() throws {
        try checkMulticlass(k: 4, C: 0.5, standardize: true, seed: 5)
    }

    func checkOneVsRest(C: Double, standardize: Bool, seed: UInt64) throws {
        let (x, y) = Self.clusters(n: 250, d: 10, k: 5, seed: seed)
        // Multi-label targets: cluster c has label c, and label (c+1) mod 5 with probability 0.3.
        var rng = SeededRandom(seed: seed + 100)
        let k = 4
        var targets = [Bool](repeating: false, count: x.rows * k)
        for i in 0..<x.rows {
            if y[i] < k { targets[i * k + y[i]] = true }
            if rng.uniform() < 0.3 { targets[i * k + (y[i] + 1) % k] = true }
        }
        let (model, reports) = LogisticRegression(C: C, standardize: standardize).fitOneVsRest(x, targets: targets, classes: k)
        for r in reports { XCTAssertTrue(r.converged, r.reason) }
        let ours = Self.probabilities(model, x, softmax: false)
        let theirs = try sklearnProbabilities(x, labels: targets.map { $0 ? 1 : 0 }, labelShape: [x.rows, k],
                                              mode: "multilabel", C: C, standardize: standardize)
        let worst = zip(ours, theirs).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worst, 1e-3, "C=\(C) standardize=\(standardize): max |p − p_sklearn| = \(worst)")
        XCTAssertLessThan(worst, 1e-5, "C=\(C) standardize=\(standardize): max |p − p_sklearn| = \(worst)")
    }

    func testOneVsRestMatchesScikitLearn() throws {
        try checkOneVsRest(C: 1.0, standardize: false, seed: 11)
        try checkOneVsRest(C: 0.1, standardize: true, seed: 12)
    }

    func testConstantClassGetsConstantScore() {
        let (x, _) = Self.clusters(n: 40, d: 3, k: 2, seed: 21)
        var targets = [Bool](repeating: false, count: 40 * 2)
        for i in 0..<40 where i % 3 == 0 { targets[i * 2] = true }
        let (model, reports) = LogisticRegression().fitOneVsRest(x, targets: targets, classes: 2)
        XCTAssertEqual(model.bias[1], -LogisticRegression.constantLogit)
        XCTAssertEqual(Array(model.weight[3..<6]), [0, 0, 0])
        XCTAssertEqual(reports[1].iterations, 0)
    }

    func testStandardizerFoldsIntoRawFeatureMap() {
        let (x, y) = Self.clusters(n: 120, d: 5, k: 3, seed: 31)
        let s = Standardizer(fitting: x)
        let (m, _) = LogisticRegression(C: 1, standardize: true).fitMultinomial(x, labels: y, classes: 3)
        // Refit on explicitly standardised features: the folded model must give the same probabilities.
        let (ms, _) = LogisticRegression(C: 1, standardize: false).fitMultinomial(s.apply(x), labels: y, classes: 3)
        let a = Self.probabilities(m, x, softmax: true), b = Self.probabilities(ms, s.apply(x), softmax: true)
        XCTAssertLessThan(zip(a, b).map { abs($0 - $1) }.max()!, 1e-9)
    }
}
