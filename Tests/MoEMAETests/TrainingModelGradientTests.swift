import Foundation
import XCTest
@testable import MoEMAE
@testable import MoEMAETraining

/// Finite-difference check of the whole pretraining loss (patch embedding, metadata projections,
/// positional embeddings, CLS and mask tokens, every block, decoder, reconstruction losses, the
/// auxiliary loss) on the tiny configuration, deterministic and with noise and dropout from fixed
/// streams, split over one and over two workers.
final class TrainingModelGradientTests: XCTestCase {
    func testWholeModelGradient() throws {
        let config = GradientCheck.tinyConfig
        let layout = try ParameterLayout(config: config)
        var params = ParameterStore(layout: layout, seed: 21).values
        let tiles = 3, kept = 25
        let images = GradientCheck.randomFloats(tiles * 7 * 1600, seed: 22)
        let meta = GradientCheck.randomFloats(tiles * 8, seed: 23)
        var keep: [Int32] = []
        for b in 0..<tiles { keep += PatchMask.keep(tileIndex: b, seed: 9, patchCount: 100, kept: kept) }
        for (mode, workers) in [(TrainingMode.deterministic, 1), (.pretraining, 2)] {
            let step = TrainingStep(layout: layout, maxTiles: tiles, kept: kept, workers: workers)
            func loss(_ p: [Float], grads: UnsafeMutablePointer<Float>) -> Double {
                var s = ParameterStore(layout: layout, seed: 0); s.values = p
                return step.run(model: try! s.model(), images: images, meta: meta, tiles: tiles, keep: keep, mode: mode, seed: 77, grads: grads).loss
            }
            func routes() -> [Int32] {
                var r: [Int32] = []
                for part in step.parts {
                    for act in part.encoderActs + part.decoderActs { r += (0..<(act.maxRows * 3)).map { act.route.p[$0] } }
                }
                return r
            }
            var grads = [Float](repeating: 0, count: layout.totalCount)
            var scratch = [Float](repeating: 0, count: layout.totalCount)
            _ = loss(params, grads: &grads)
            let base = routes()
            // Per tensor, the directional derivative along its own gradient, u = g_T/‖g_T‖: central
            // differences of L(θ + h·u) must equal ‖g_T‖ (a check of every coordinate at once, with a
            // far better signal-to-rounding ratio in Float than single coordinates).
            var checked = 0
            for entry in layout.entries {
                let range = entry.offset..<(entry.offset + entry.count)
                let norm = range.reduce(0.0) { $0 + Double(grads[$1]) * Double(grads[$1]) }.squareRoot()
                if norm < 1e-3 { continue }
                var values = params
                let h: Float = 1e-2
                for i in range { values[i] = params[i] + h * Float(Double(grads[i]) / norm) }
                let lp = loss(values, grads: &scratch); let okP = routes() == base
                for i in range { values[i] = params[i] - h * Float(Double(grads[i]) / norm) }
                let lm = loss(values, grads: &scratch); let okM = routes() == base
                guard okP && okM else { continue }
                let fd = (lp - lm) / Double(2 * h)
                XCTAssertEqual(fd, norm, accuracy: 2e-2 * norm + 5e-4, "\(entry.name) (\(mode), \(workers) workers)")
                checked += 1
            }
            XCTAssertGreaterThan(checked, layout.entries.count / 2, "too few tensors checked (routing changes)")
        }
    }

    /// The same batch over 1 and 2 workers gives the same loss and gradients (float summation aside).
    func testWorkersAgree() throws {
        let layout = try ParameterLayout(config: GradientCheck.tinyConfig)
        let model = try ParameterStore(layout: layout, seed: 5).model()
        let tiles = 5
        let images = GradientCheck.randomFloats(tiles * 7 * 1600, seed: 1), meta = GradientCheck.randomFloats(tiles * 8, seed: 2)
        var keep: [Int32] = []
        for b in 0..<tiles { keep += PatchMask.keep(tileIndex: b, seed: 3, patchCount: 100, kept: 25) }
        var results: [(LossTerms, [Float])] = []
        for w in [1, 2] {
            var g = [Float](repeating: 0, count: layout.totalCount)
            let t = TrainingStep(layout: layout, maxTiles: tiles, kept: 25, workers: w)
                .run(model: model, images: images, meta: meta, tiles: tiles, keep: keep, mode: .pretraining, seed: 4, grads: &g)
            results.append((t, g))
        }
        XCTAssertEqual(results[0].0.loss, results[1].0.loss, accuracy: 1e-5 * results[0].0.loss)
        let diff = zip(results[0].1, results[1].1).map { abs($0 - $1) }.max() ?? 0
        let scale = results[0].1.map { abs($0) }.max() ?? 1
        XCTAssertLessThan(diff, 1e-4 * scale)
    }
}
