import Foundation
import XCTest
import SafeTensors
@testable import MoEMAE
@testable import MoEMAETraining

/// The training forward pass (activations kept) computes what the inference model computes: with every
/// patch kept and deterministic gates it reproduces the golden `tokens_ln`, `recon_pred` and `moe_loss`.
final class TrainingForwardParityTests: XCTestCase {
    func testAllPatchesKeptMatchesGolden() throws {
        let goldenFile = trainingGoldenPath("golden-public.safetensors")
        guard FileManager.default.fileExists(atPath: goldenFile) else { throw XCTSkip("no golden set at \(goldenFile)") }
        let g = try SafeTensorsFile(path: goldenFile)
        let weights = try StateDict.load(path: trainingGoldenPath("weights-public.safetensors"))
        let layout = try ParameterLayout(config: try ModelConfig.infer(from: weights))
        XCTAssertEqual(layout.totalCount, 2_537_562)
        let model = try ParameterStore(layout: layout, weights: weights).model()
        let x = try g.floats("x_norm"), meta = try g.floats("meta")
        let tiles = x.count / (7 * 1600)
        let keep = (0..<tiles).flatMap { _ in (0..<100).map { Int32($0) } }
        let training = TrainingStep(layout: layout, maxTiles: tiles, kept: 100, workers: 1)
        var grads = [Float](repeating: 0, count: layout.totalCount)
        let terms = training.run(model: model, images: x, meta: meta, tiles: tiles, keep: keep, mode: .deterministic, seed: 0, grads: &grads)
        let step = training.parts[0]

        let recon = try g.floats("recon_pred"), tokens = try g.floats("tokens_ln")
        XCTAssertLessThanOrEqual(relativeMax(Array(UnsafeBufferPointer(start: step.prediction.p, count: recon.count)), recon), 1e-4)
        XCTAssertLessThanOrEqual(relativeMax(Array(UnsafeBufferPointer(start: step.normalized.p, count: tokens.count)), tokens), 1e-4)
        let moe = Double(try g.floats("moe_loss")[0])
        XCTAssertEqual(terms.moeLoss, moe, accuracy: 1e-5 * moe)
        // No patch is masked: the masked term is empty.
        XCTAssertEqual(terms.lossMasked, 0)
    }

    private func relativeMax(_ a: [Float], _ b: [Float]) -> Float {
        var d: Float = 0, s: Float = 0
        for i in a.indices { d = max(d, abs(a[i] - b[i])); s = max(s, abs(b[i])) }
        return d / s
    }
}
