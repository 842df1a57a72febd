import Foundation
import XCTest
@testable import Probe

/// Fitting from label sets, and evaluation with the baseline.
final class ProbeFitterTests: XCTestCase {
    func testMulticlassDropsAbsentClassesAndRefusesFewerThanTwo() throws {
        let (x, y) = LogisticRegressionTests.clusters(n: 90, d: 4, k: 3, seed: 41)
        // Label-source classes 0…4; the tiles use 0, 2, 4.
        let classes = ProbeClass.withDefaultColors(["a", "b", "c", "d", "e"])
        let labels = y.map { [$0 * 2] }
        let (probe, report) = try ProbeFitter().fit(features: x, labels: labels, classes: classes, task: .multiclass,
                                                    feature: .embedding, weightsSHA256: "", source: "labels")
        XCTAssertEqual(probe.classes.map(\.name), ["a", "c", "e"])
        XCTAssertEqual(report.droppedClasses, ["b", "d"])
        XCTAssertTrue(report.allConverged)
        XCTAssertEqual(probe.classFrequencies!.reduce(0, +), 1, accuracy: 1e-12)
        XCTAssertThrowsError(try ProbeFitter().fit(features: x, labels: y.map { _ in [1] }, classes: classes, task: .multiclass,
                                                   feature: .embedding, weightsSHA256: "", source: "labels")) { error in
            XCTAssertTrue("\(error)".contains("fewer than two classes (b)"), "\(error)")
        }
    }

    func testEvaluationOfAFittedProbeBeatsTheMajorityBaseline() throws {
        let (x, y) = LogisticRegressionTests.clusters(n: 200, d: 6, k: 3, seed: 42)
        let classes = ProbeClass.withDefaultColors(["a", "b", "c"])
        let (probe, _) = try ProbeFitter().fit(features: x, labels: y.map { [$0] }, classes: classes, task: .multiclass,
                                               feature: .embedding, weightsSHA256: "", source: "labels")
        let scores = probe.scores(x.values.map(Float.init), count: x.rows)
        let e = try ProbeEvaluation(probe: probe, scores: scores, truth: y.map { [$0] }, labelClasses: ["a", "b", "c"])
        let m = try XCTUnwrap(e.multiclass), b = try XCTUnwrap(e.baselineMulticlass)
        let majority = (0..<3).max { c1, c2 in y.filter { $0 == c1 }.count < y.filter { $0 == c2 }.count }!
        XCTAssertEqual(b.overallAccuracy, Double(y.filter { $0 == majority }.count) / 200, accuracy: 1e-12)
        XCTAssertGreaterThan(m.overallAccuracy, b.overallAccuracy)
        XCTAssertEqual(e.baselineSource, "training")
        let json = try JSONSerialization.jsonObject(with: e.jsonData()) as! [String: Any]
        XCTAssertEqual(json["overall_accuracy"] as! Double, m.overallAccuracy)
        XCTAssertNotNil((json["baseline"] as! [String: Any])["macro_f1"])
        XCTAssertTrue(e.table.contains("overall accuracy"))
    }

    func testMultilabelEvaluationIgnoresUnknownLabelsAndReportsThem() throws {
        let (x, y) = LogisticRegressionTests.clusters(n: 120, d: 5, k: 3, seed: 43)
        let classes = ProbeClass.withDefaultColors(["a", "b", "c"])
        let labels = y.enumerated().map { i, c in i % 4 == 0 ? [c, (c + 1) % 3] : [c] }
        let (probe, report) = try ProbeFitter().fit(features: x, labels: labels, classes: classes, task: .multilabel,
                                                    feature: .cls, weightsSHA256: "", source: "labels")
        XCTAssertEqual(report.convergence.count, 3)
        let scores = probe.scores(x.values.map(Float.init), count: x.rows)
        // The evaluation labels name a fourth class the probe does not know.
        let truth = labels.map { $0 + [3] }
        let e = try ProbeEvaluation(probe: probe, scores: scores, truth: truth, labelClasses: ["a", "b", "c", "z"])
        XCTAssertTrue(e.notes.contains { $0.contains("z") })
        let m = try XCTUnwrap(e.multilabel), b = try XCTUnwrap(e.baselineMultilabel)
        XCTAssertGreaterThan(m.macroMAP, b.macroMAP)
        // Constant per-class scores: each class's AP is its prevalence.
        for c in 0..<3 { XCTAssertEqual(b.averagePrecision[c], Double(b.support[c]) / 120, accuracy: 1e-12) }
    }
}
