import Foundation
import XCTest
@testable import MoEMAE
@testable import MoEMAETraining

/// The training implementation against the reference's own loss and gradients (golden/README.md,
/// "Gradients: grads-public.safetensors"): same weights, batch and ids_keep, noise-free gates, dropout off.
final class TrainingGoldenGradientTests: XCTestCase {
    func testLossAndGradientsMatchReference() throws {
        let grads = trainingGoldenPath("grads-public.safetensors"), weights = trainingGoldenPath("weights-public.safetensors")
        guard FileManager.default.fileExists(atPath: grads) else { throw XCTSkip("no golden gradients at \(grads)") }
        let result = try GradientVerification.run(gradients: grads, weights: weights)
        for l in result.losses {
            print("\(l.name): \(l.value) reference \(l.reference) relative \(l.relativeDifference)")
            XCTAssertLessThanOrEqual(l.relativeDifference, GradientVerification.lossTolerance, l.name)
        }
        let worst = result.tensors.sorted { $0.ratio > $1.ratio }.prefix(8)
        for t in worst { print("\(t.key): max|Δ| \(t.maxDifference) max|g_ref| \(t.referenceMax) ratio \(t.ratio)") }
        print("grad norm \(result.gradientNorm) reference \(result.referenceGradientNorm ?? .nan)")
        for t in result.tensors { XCTAssertTrue(result.passes(t), "\(t.key): ratio \(t.ratio)") }
        XCTAssertEqual(result.tensors.count, 704 - 12)
        if let ref = result.referenceGradientNorm { XCTAssertEqual(result.gradientNorm, ref, accuracy: 1e-4 * ref) }
    }
}

/// `../shared/golden/NAME` beside the repository root.
func trainingGoldenPath(_ name: String, file: String = #filePath) -> String {
    var url = URL(fileURLWithPath: file).deletingLastPathComponent()
    while url.path != "/" {
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            return url.deletingLastPathComponent().appendingPathComponent("shared/golden/\(name)").path
        }
        url = url.deletingLastPathComponent()
    }
    return "/work/shared/golden/" + name
}
