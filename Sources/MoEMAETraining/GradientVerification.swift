import Foundation
import SafeTensors
import MoEMAE

/// Checks this implementation's loss and gradients against a reference file with the layout of
/// `golden/grads-public.safetensors` (golden/README.md, "Gradients"): the batch `x_norm` [B,C,S,S],
/// `meta` [B,8], `ids_keep` [B,K]; the reference's `loss_masked`, `loss_unmasked`, `moe_loss`, `loss`
/// [1]; and `grad.<key>` for every state-dict key (aliases of a shared tensor hold its total gradient).
/// Evaluated in the reference's eval mode: noise-free gates, expert dropout off.
public struct GradientVerification: Sendable {
    public struct TensorResult: Sendable {
        public var key: String
        /// max |g − g_ref| and max |g_ref| over the tensor.
        public var maxDifference: Float
        public var referenceMax: Float
        /// maxDifference / referenceMax (maxDifference itself when the reference is all zero).
        public var ratio: Float { referenceMax > 0 ? maxDifference / referenceMax : maxDifference }
    }

    public struct LossResult: Sendable {
        public var name: String
        public var value: Double
        public var reference: Double
        public var relativeDifference: Double { abs(value - reference) / max(abs(reference), 1e-30) }
    }

    public var losses: [LossResult]
    public var tensors: [TensorResult]
    /// Global L2 norm of the unique parameters' gradient (compare with the file's `grad_norm`).
    public var gradientNorm: Double
    public var referenceGradientNorm: Double?
    public var tiles: Int
    public var kept: Int

    /// Tolerances of the issue: loss terms 1e-5 relative; each tensor max|Δ| ≤ 1e-4·max|g_ref|.
    public static let lossTolerance = 1e-5
    public static let gradientTolerance: Float = 1e-4
    /// A tensor whose reference is (numerically) zero — e.g. `attn.k_proj.bias`, exactly zero in
    /// theory, or the decoder gates' `Wnoise` — passes when max|g| ≤ this absolute bound.
    public static let zeroGradientTolerance: Float = 1e-6

    public func passes(_ t: TensorResult) -> Bool {
        t.referenceMax > Self.zeroGradientTolerance * 100
            ? t.maxDifference <= Self.gradientTolerance * t.referenceMax
            : t.maxDifference <= Self.zeroGradientTolerance
    }

    public var passed: Bool {
        losses.allSatisfy { $0.relativeDifference <= Self.lossTolerance } && tensors.allSatisfy(passes)
    }

    /// Runs the check. Throws ``ModelError`` / ``SafeTensorsError`` naming the file and tensor when
    /// either file is unusable.
    public static func run(gradients path: String, weights weightsPath: String, workers: Int = 1) throws -> GradientVerification {
        let file = try SafeTensorsFile(path: path)
        let weights = try StateDict.load(path: weightsPath)
        let config = try ModelConfig.infer(from: weights)
        if config.decoder == nil {
            throw ModelError.invalidConfig("\(weightsPath): has no decoder weights; gradient verification needs the whole masked autoencoder")
        }
        let layout = try ParameterLayout(config: config)
        let store = try ParameterStore(layout: layout, weights: weights)
        let model = try store.model()

        let xInfo = try file.require("x_norm")
        guard xInfo.shape.count == 4, xInfo.shape[1] == config.inChannels, xInfo.shape[2] == config.imageSize, xInfo.shape[3] == config.imageSize else {
            throw SafeTensorsError.wrongShape(path: path, name: "x_norm", expected: [-1, config.inChannels, config.imageSize, config.imageSize], found: xInfo.shape)
        }
        let tiles = xInfo.shape[0]
        let images = try file.floats("x_norm")
        let meta: [Float]? = file.info("meta") == nil ? nil : try file.floats("meta")
        if meta != nil { try file.check("meta", shape: [tiles, 8]) }
        let keepInfo = try file.require("ids_keep")
        guard keepInfo.shape.count == 2, keepInfo.shape[0] == tiles, keepInfo.shape[1] >= 1, keepInfo.shape[1] <= config.patchCount else {
            throw SafeTensorsError.wrongShape(path: path, name: "ids_keep", expected: [tiles, -1], found: keepInfo.shape)
        }
        let kept = keepInfo.shape[1]
        let keep = try file.ints("ids_keep").map { Int32($0) }
        for b in 0..<tiles {
            let row = keep[(b * kept)..<((b + 1) * kept)]
            if Set(row).count != kept || row.contains(where: { $0 < 0 || Int($0) >= config.patchCount }) {
                throw ModelError.invalidInput("\(path): ids_keep row \(b) must hold \(kept) distinct patch numbers in 0..<\(config.patchCount)")
            }
        }

        let step = TrainingStep(layout: layout, maxTiles: tiles, kept: kept, workers: workers)
        var grads = [Float](repeating: 0, count: layout.totalCount)
        let terms = step.run(model: model, images: images, meta: meta, tiles: tiles, keep: keep, mode: .deterministic, seed: 0, grads: &grads)
        func scalar(_ name: String) throws -> Double? {
            guard file.info(name) != nil else { return nil }
            return Double(try file.floats(name).first ?? .nan)
        }
        var losses: [LossResult] = []
        for (name, value) in [("loss", terms.loss), ("loss_masked", terms.lossMasked), ("loss_unmasked", terms.lossUnmasked),
                              ("moe_loss", terms.moeLoss)] {
            guard let ref = try scalar(name) else { throw SafeTensorsError.missingTensor(path: path, name: name) }
            losses.append(LossResult(name: name, value: value, reference: ref))
        }
        var tensors: [TensorResult] = []
        for entry in layout.entries {
            for key in [entry.name] + entry.aliases {
                let ref = try file.floats("grad." + key)
                guard ref.count == entry.count else {
                    throw SafeTensorsError.wrongShape(path: path, name: "grad." + key, expected: entry.shape, found: try file.require("grad." + key).shape)
                }
                var diff: Float = 0, scale: Float = 0
                for i in 0..<entry.count {
                    diff = max(diff, abs(grads[entry.offset + i] - ref[i])); scale = max(scale, abs(ref[i]))
                }
                tensors.append(TensorResult(key: key, maxDifference: diff, referenceMax: scale))
            }
        }
        let norm = grads.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        return GradientVerification(losses: losses, tensors: tensors, gradientNorm: norm,
                                    referenceGradientNorm: try scalar("grad_norm"), tiles: tiles, kept: kept)
    }
}
