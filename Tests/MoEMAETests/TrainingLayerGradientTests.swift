import Foundation
import XCTest
@testable import MoEMAE
@testable import MoEMAETraining

/// Finite-difference checks of each layer's backward pass on the tiny configuration
/// (``GradientCheck``): a random linear functional `L = Σ R ⊙ layer(x)` of the layer's output.
final class TrainingLayerGradientTests: XCTestCase {
    let config = GradientCheck.tinyConfig
    lazy var layout = try! ParameterLayout(config: config)

    /// Parameters with random (not identity) LayerNorm affine parts, so their gradients are exercised.
    func parameters(seed: UInt64 = 3) -> [Float] {
        var store = ParameterStore(layout: layout, seed: seed)
        let noise = GradientCheck.randomFloats(store.values.count, seed: seed + 100, scale: 0.1)
        for e in layout.entries where e.name.contains("norm") {
            for i in e.offset..<(e.offset + e.count) { store.values[i] += noise[i] }
        }
        return store.values
    }

    func model(_ values: [Float]) -> MoEMAEModel {
        var s = ParameterStore(layout: layout, seed: 0)
        s.values = values
        return try! s.model()
    }

    func testLinearBackward() {
        var params = parameters()
        let rows = 5, d = config.embedDim
        var x = GradientCheck.randomFloats(rows * d, seed: 1)
        let r = GradientCheck.randomFloats(rows * d, seed: 2)
        let offsets = layout.encoderBlocks[0]
        func loss(_ p: [Float], _ x: [Float]) -> Double {
            let lin = model(p).encoder.blocks[0].attention.out
            var y = [Float](repeating: 0, count: rows * d)
            lin.forward(x, ldx: d, rows: rows, into: &y, ldy: d)
            return zip(y, r).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        }
        var grads = [Float](repeating: 0, count: layout.totalCount)
        var dx = [Float](repeating: 0, count: rows * d)
        grads.withUnsafeMutableBufferPointer { g in
            model(params).encoder.blocks[0].attention.out.backward(input: x, ldx: d, outputGradient: r, lddy: d, rows: rows, inputGradient: &dx,
                                                                   lddx: d, accumulate: false, dWeight: g.baseAddress! + offsets.outWeight,
                                                                   dBias: g.baseAddress! + offsets.outBias)
        }
        XCTAssertLessThan(GradientCheck.relativeError(values: &x, indices: GradientCheck.sample(x.count), analytic: dx) { loss(params, $0) }, 1e-3)
        let idx = GradientCheck.sample(d * d).map { $0 + offsets.outWeight } + (0..<d).map { $0 + offsets.outBias }
        XCTAssertLessThan(GradientCheck.relativeError(values: &params, indices: idx, analytic: grads) { loss($0, x) }, 1e-3)
    }

    func testLayerNormBackward() {
        var params = parameters()
        let rows = 6, d = config.embedDim
        var x = GradientCheck.randomFloats(rows * d, seed: 4, scale: 2)
        let r = GradientCheck.randomFloats(rows * d, seed: 5)
        let offsets = layout.encoderBlocks[1]
        func loss(_ p: [Float], _ x: [Float]) -> Double {
            var y = [Float](repeating: 0, count: rows * d)
            model(p).encoder.blocks[1].norm1.forward(x, ldx: d, rows: rows, into: &y, ldo: d)
            return zip(y, r).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        }
        var grads = [Float](repeating: 0, count: layout.totalCount)
        var dx = [Float](repeating: 0, count: rows * d)
        grads.withUnsafeMutableBufferPointer { g in
            model(params).encoder.blocks[1].norm1.backward(input: x, ldx: d, outputGradient: r, lddy: d, rows: rows, addingTo: &dx, lddx: d,
                                                           dWeight: g.baseAddress! + offsets.norm1Weight, dBias: g.baseAddress! + offsets.norm1Bias)
        }
        XCTAssertLessThan(GradientCheck.relativeError(values: &x, indices: GradientCheck.sample(x.count, 40), analytic: dx) { loss(params, $0) }, 2e-3)
        let idx = (0..<d).map { $0 + offsets.norm1Weight } + (0..<d).map { $0 + offsets.norm1Bias }
        XCTAssertLessThan(GradientCheck.relativeError(values: &params, indices: idx, analytic: grads) { loss($0, x) }, 1e-3)
    }

    /// Grouped-query attention (query head h reads group h mod G): gradients of the input and of q/k/v/out.
    func testAttentionBackward() {
        var params = parameters()
        let tiles = 2, tokens = 5, d = config.embedDim, rows = tiles * tokens
        var x = GradientCheck.randomFloats(rows * d, seed: 6)
        let r = GradientCheck.randomFloats(rows * d, seed: 7)
        let offsets = layout.encoderBlocks[0]
        let kv = config.kvGroups * config.headDim
        let act = BlockActivations(dim: d, heads: config.heads, kvWidth: kv, hidden: 12, experts: 3, maxTiles: tiles, maxTokens: tokens)
        let scratch = BlockGradientScratch(dim: d, kvWidth: kv, hidden: 12, experts: 3, maxTiles: tiles, maxTokens: tokens, workers: 1)
        func loss(_ p: [Float], _ x: [Float]) -> Double {
            act.ln1.p.update(from: x, count: rows * d)
            var y = [Float](repeating: 0, count: rows * d)
            model(p).encoder.blocks[0].attention.trainingForward(tiles: tiles, tokens: tokens, act: act, residual: &y)
            return zip(y, r).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        }
        _ = loss(params, x)
        var grads = [Float](repeating: 0, count: layout.totalCount)
        model(params).encoder.blocks[0].attention.trainingBackward(tiles: tiles, tokens: tokens, act: act, dResidual: r, scratch: scratch,
                                                                   grads: &grads, offsets: offsets)
        let dx = Array(UnsafeBufferPointer(start: scratch.dln.p, count: rows * d))
        XCTAssertLessThan(GradientCheck.relativeError(values: &x, indices: GradientCheck.sample(x.count, 40), analytic: dx) { loss(params, $0) }, 2e-3)
        let qkvCount = (d + 2 * kv) * d
        let idx = GradientCheck.sample(qkvCount, 40).map { $0 + offsets.qkvWeight } + GradientCheck.sample(d + 2 * kv).map { $0 + offsets.qkvBias }
            + GradientCheck.sample(d * d).map { $0 + offsets.outWeight }
        XCTAssertLessThan(GradientCheck.relativeError(values: &params, indices: idx, analytic: grads) { loss($0, x) }, 2e-3)
    }

    /// The mixture of experts with its auxiliary loss (weight 0.5): deterministic, and with gate noise and
    /// expert dropout drawn from fixed streams (the same draws at every evaluation).
    func testMixtureOfExpertsBackward() {
        for mode in [TrainingMode.deterministic, TrainingMode.pretraining] {
            var params = parameters(seed: 11)
            let tiles = 2, tokens = 6, d = config.embedDim, rows = tiles * tokens
            let layer = 2   // 4 experts
            let offsets = layout.encoderBlocks[layer]
            let h = offsets.hidden, e = offsets.experts
            var x = GradientCheck.randomFloats(rows * d, seed: 8)
            let r = GradientCheck.randomFloats(rows * d, seed: 9)
            let act = BlockActivations(dim: d, heads: config.heads, kvWidth: offsets.kvWidth, hidden: h, experts: e, maxTiles: tiles, maxTokens: tokens)
            let scratch = BlockGradientScratch(dim: d, kvWidth: offsets.kvWidth, hidden: h, experts: e, maxTiles: tiles, maxTokens: tokens, workers: 1)
            var routes: [Int32] = []
            func loss(_ p: [Float], _ x: [Float]) -> Double {
                act.ln2.p.update(from: x, count: rows * d)
                var y = [Float](repeating: 0, count: rows * d)
                var rngs = (0..<tiles).map { TrainingRandom(seed: 5, stream: .step, counter: UInt64($0)) }
                model(p).encoder.blocks[layer].moe.trainingForward(rows: rows, tokens: tokens, act: act, residual: &y, mode: mode,
                                                                    auxiliary: true, rngs: &rngs)
                act.setAuxiliary(importance: act.importance, load: act.load)
                routes = (0..<(3 * rows)).map { act.route.p[$0] }
                return zip(y, r).reduce(0.0) { $0 + Double($1.0 * $1.1) } + 0.5 * act.auxiliaryLoss
            }
            _ = loss(params, x)
            let baseRoutes = routes
            var grads = [Float](repeating: 0, count: layout.totalCount)
            model(params).encoder.blocks[layer].moe.trainingBackward(rows: rows, act: act, dResidual: r, mode: mode, auxiliaryWeight: 0.5,
                                                                      scratch: scratch, grads: &grads, offsets: offsets)
            let dx = Array(UnsafeBufferPointer(start: scratch.dln.p, count: rows * d))
            XCTAssertLessThan(GradientCheck.relativeError(values: &x, indices: GradientCheck.sample(x.count, 40), analytic: dx, loss: { loss(params, $0) },
                                                          step: 1e-3), 5e-3, "input, \(mode)")
            XCTAssertEqual(routes, baseRoutes, "routing must not change under the perturbation")
            var idx: [Int] = []
            idx += GradientCheck.sample((h + e) * d, 40).map { $0 + offsets.vGateWeight } + GradientCheck.sample(h + e).map { $0 + offsets.vGateBias }
            idx += GradientCheck.sample(e * d).map { $0 + offsets.noiseWeight } + (0..<e).map { $0 + offsets.noiseBias }
            idx += GradientCheck.sample(d * h).map { $0 + offsets.w2Weight } + GradientCheck.sample(d).map { $0 + offsets.w2Bias }
            for j in 0..<e { idx += GradientCheck.sample(h * d, 12).map { $0 + offsets.expertWeight[j] } + (0..<4).map { $0 + offsets.expertBias[j] } }
            XCTAssertLessThan(GradientCheck.relativeError(values: &params, indices: idx, analytic: grads, loss: { loss($0, x) }, step: 1e-3),
                              5e-3, "parameters, \(mode)")
            // The noise projection only matters through the load term (deterministic) or noise too (training).
            let noiseGrad = (0..<(e * d)).map { abs(grads[offsets.noiseWeight + $0]) }.max() ?? 0
            XCTAssertGreaterThan(noiseGrad, 0)
        }
    }
}
