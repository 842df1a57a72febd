import Foundation
import SafeTensors
import XCTest
@testable import Probe

/// Every metric equals scikit-learn's on the same predictions (to 1e-6), ties and absent classes included.
final class MetricsTests: XCTestCase {
    func testMulticlassMetricsMatchScikitLearn() throws {
        var rng = SeededRandom(seed: 7)
        let k = 6, n = 500
        var truth: [Int] = [], predicted: [Int] = []
        for _ in 0..<n {
            // Class 5 never occurs in the truth but is sometimes predicted; class 4 is never predicted.
            let t = rng.below(5)
            truth.append(t)
            var p = rng.uniform() < 0.6 ? t : rng.below(6)
            if p == 4 { p = 3 }
            predicted.append(p)
        }
        let m = MulticlassMetrics(truth: truth, predicted: predicted, classCount: k)
        let py = try PythonReference()
        defer { py.cleanUp() }
        try SafeTensors.write([Tensor("t", truth.map(Int64.init), shape: [n]), Tensor("p", predicted.map(Int64.init), shape: [n])],
                              to: py.path("d.safetensors"))
        let out = try py.run("""
        import json, warnings; warnings.simplefilter("ignore")
        from safetensors.numpy import load_file
        from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, confusion_matrix
        d = load_file("d.safetensors"); t, p = d["t"], d["p"]; L = list(range(6))
        print(json.dumps({"oa": accuracy_score(t, p), "macro_f1": f1_score(t, p, average="macro"),
          "precision": precision_score(t, p, labels=L, average=None, zero_division=0).tolist(),
          "recall": recall_score(t, p, labels=L, average=None, zero_division=0).tolist(),
          "f1": f1_score(t, p, labels=L, average=None, zero_division=0).tolist(),
          "cm": confusion_matrix(t, p, labels=L).tolist()}))
        """)
        let ref = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
        XCTAssertEqual(m.overallAccuracy, ref["oa"] as! Double, accuracy: 1e-6)
        XCTAssertEqual(m.macroF1, ref["macro_f1"] as! Double, accuracy: 1e-6)
        for (name, ours) in [("precision", m.precision), ("recall", m.recall), ("f1", m.f1)] {
            let theirs = ref[name] as! [Double]
            for c in 0..<k { XCTAssertEqual(ours[c], theirs[c], accuracy: 1e-6, "\(name)[\(c)]") }
        }
        XCTAssertEqual(m.confusion, ref["cm"] as! [[Int]])
        XCTAssertEqual(m.averagedClasses, [0, 1, 2, 3, 4, 5])  // 4: truth only, 5: predictions only
    }

    func testMultilabelMetricsMatchScikitLearn() throws {
        var rng = SeededRandom(seed: 8)
        let k = 7, n = 400
        var truth = [Bool](repeating: false, count: n * k)
        var scores = [Double](repeating: 0, count: n * k)
        for i in 0..<n {
            for c in 0..<k {
                // Class 6 has no positive tile; prevalence grows with the class index otherwise.
                let t = c < 6 && rng.uniform() < 0.1 + 0.1 * Double(c)
                truth[i * k + c] = t
                // Scores on a 0.05 grid: many ties, within and across classes.
                let raw = (t ? 0.25 : 0) + 0.75 * rng.uniform()
                scores[i * k + c] = (raw * 20).rounded(.down) / 20
            }
        }
        let thresholds = [0.5, 0.4, 0.5, 0.6, 0.5, 0.3, 0.5]
        let m = MultilabelMetrics(truth: truth, scores: scores, thresholds: thresholds, classCount: k)
        let py = try PythonReference()
        defer { py.cleanUp() }
        try SafeTensors.write([
            Tensor("y", truth.map { $0 ? Int64(1) : 0 }, shape: [n, k]),
            Tensor("s", scores, shape: [n, k]),
            Tensor("t", thresholds, shape: [k]),
        ], to: py.path("d.safetensors"))
        let out = try py.run("""
        import json, warnings; warnings.simplefilter("ignore")
        import numpy as np
        from safetensors.numpy import load_file
        from sklearn.metrics import average_precision_score, f1_score
        d = load_file("d.safetensors"); Y, S, T = d["y"], d["s"], d["t"]
        P = Y.sum(axis=0) > 0
        Yhat = (S >= T).astype(int)
        print(json.dumps({"micro_map": average_precision_score(Y, S, average="micro"),
          "macro_map": average_precision_score(Y[:, P], S[:, P], average="macro"),
          "ap": average_precision_score(Y, S, average=None).tolist(),
          "micro_f1": f1_score(Y, Yhat, average="micro"),
          "macro_f1": f1_score(Y[:, P], Yhat[:, P], average="macro"),
          "f1": f1_score(Y, Yhat, average=None, zero_division=0).tolist()}))
        """)
        let ref = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
        XCTAssertEqual(m.microMAP, ref["micro_map"] as! Double, accuracy: 1e-6)
        XCTAssertEqual(m.macroMAP, ref["macro_map"] as! Double, accuracy: 1e-6)
        XCTAssertEqual(m.microF1, ref["micro_f1"] as! Double, accuracy: 1e-6)
        XCTAssertEqual(m.macroF1, ref["macro_f1"] as! Double, accuracy: 1e-6)
        let ap = ref["ap"] as! [Double], f1 = ref["f1"] as! [Double]
        for c in 0..<k {
            XCTAssertEqual(m.averagePrecision[c], ap[c], accuracy: 1e-6, "AP[\(c)]")
            XCTAssertEqual(m.f1[c], f1[c], accuracy: 1e-6, "F1[\(c)]")
        }
        XCTAssertEqual(m.averagedClasses, [0, 1, 2, 3, 4, 5])
    }

    func testAveragePrecisionOfTiedScoresIsPrevalence() {
        // All tiles tied: one threshold, precision = prevalence, recall 1.
        XCTAssertEqual(averagePrecisionScore(truth: [true, false, false, true], scores: [0.3, 0.3, 0.3, 0.3]), 0.5)
        XCTAssertEqual(averagePrecisionScore(truth: [false, false], scores: [0.1, 0.9]), 0)
    }
}
