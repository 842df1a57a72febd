import Foundation
import XCTest
@testable import Pipeline

final class RunSummaryTests: XCTestCase {
    func testCoefficientOfVariation() {
        XCTAssertEqual(ExpertUsage.coefficientOfVariation([5, 5, 5, 5]), 0)
        XCTAssertEqual(ExpertUsage.coefficientOfVariation([2, 0]), 1, accuracy: 1e-12) // μ=1, σ=1
        XCTAssertEqual(ExpertUsage.coefficientOfVariation([1, 2, 3, 4]), (1.25).squareRoot() / 2.5, accuracy: 1e-12)
        XCTAssertEqual(ExpertUsage.coefficientOfVariation([]), 0)
        XCTAssertEqual(ExpertUsage.coefficientOfVariation([0, 0]), 0)
    }

    func testExpertUsageCountsEverySlotAndFirstChoices() {
        // 2 layers (4 and 3 experts), 3 tokens, 2 slots: [L, T, K]
        let tile: [UInt8] = [0, 1, 0, 2, 3, 0,   2, 1, 2, 0, 1, 2]
        var u = ExpertUsage(expertsPerLayer: [4, 3])
        tile.withUnsafeBufferPointer { u.add(tileExperts: $0, tokens: 3, slots: 2) }
        XCTAssertEqual(u.assignments, [[3, 1, 1, 1], [1, 2, 3]])
        XCTAssertEqual(u.top1, [[2, 0, 0, 1], [0, 1, 2]])
        var twice = u
        twice.merge(u)
        XCTAssertEqual(twice.assignments[1], [2, 4, 6])
        let layers = u.layers
        XCTAssertEqual(layers[1].coefficientOfVariation, ExpertUsage.coefficientOfVariation([1, 2, 3]))
    }

    func testSummaryJSONUsesDocumentedKeys() throws {
        var skipped = RunSummary.Skipped(); skipped.noValidPixels = 3; skipped.belowMinValid = 2
        let scene = RunSummary.Scene(id: "LC08_X", tilesRead: 10, tilesMapped: 5, skipped: skipped,
                                     classHistogram: [.init(value: 0, name: "Urban fabric", tiles: 5)],
                                     experts: ExpertUsage(expertsPerLayer: [2]).layers, outputs: ["LC08_X_labels.tif"],
                                     resumedRows: 0, wallSeconds: 1.5)
        let summary = RunSummary(moemaeVersion: "0.1.0", started: "2026-01-01T00:00:00Z", wallSeconds: 2,
                                 weightsSHA256: "ab", probeSHA256: "cd", options: ["workers": "2"], scenes: [scene],
                                 timings: [StageTiming(stage: "reader", workers: 1, items: 3, wallSeconds: 1, busySeconds: 0.5,
                                                       waitInputSeconds: 0, waitOutputSeconds: 0.5)])
        let json = try JSONSerialization.jsonObject(with: summary.jsonData()) as! [String: Any]
        XCTAssertEqual(json["format"] as? String, "moemae-map-summary")
        let s = (json["scenes"] as! [[String: Any]])[0]
        XCTAssertEqual(s["tiles_read"] as? Int, 10)
        XCTAssertEqual((s["skipped"] as! [String: Int]), ["no_valid_pixels": 3, "below_min_valid": 2])
        XCTAssertNotNil((s["experts"] as! [[String: Any]])[0]["load_balance_cv"])
        XCTAssertEqual((json["timings"] as! [[String: Any]])[0]["busy_s"] as? Double, 0.5)
        XCTAssertEqual(try JSONDecoder().decode(RunSummary.self, from: summary.jsonData()), summary)
    }
}

final class TileRoutingTests: XCTestCase {
    /// Routing [L=2, T=105, K=2] where layer 0's patch tokens choose 2 (60×) and 0 (40×), layer 1 ties 1 and 3.
    func testMajorityTopExpertTakesTheMostFrequentFirstChoiceOfPatchTokensAndTheLowerOnTies() {
        var routing = [UInt8](repeating: 9, count: 2 * 105 * 2)  // prefix tokens carry 9: they must be ignored
        for p in 0..<100 {
            routing[(0 * 105 + 5 + p) * 2] = p < 60 ? 2 : 0
            routing[(0 * 105 + 5 + p) * 2 + 1] = 1               // second choices are ignored
            routing[(1 * 105 + 5 + p) * 2] = p % 2 == 0 ? 3 : 1
        }
        var out = [UInt8](repeating: 0, count: 2)
        routing.withUnsafeBufferPointer { r in
            out.withUnsafeMutableBufferPointer { TileRouting.majorityTopExpert(routing: r, layers: 2, tokens: 105, slots: 2, into: $0) }
        }
        XCTAssertEqual(out, [2, 1])
        var patches = [UInt8](repeating: 0, count: 100)
        routing.withUnsafeBufferPointer { r in
            patches.withUnsafeMutableBufferPointer { TileRouting.patchTopExperts(routing: r, layer: 1, tokens: 105, slots: 2, into: $0) }
        }
        XCTAssertEqual(Array(patches.prefix(4)), [3, 1, 3, 1])
    }
}
