import Foundation
import MoEMAE

/// The unique trainable parameters of an MoE-MAE model in one flat buffer laid out by
/// ``ParameterLayout``, with conversions to and from state dicts (published key names, shared
/// tensors under every key) and to the inference model, ``MoEMAEModel``, whose layers the training
/// forward pass runs.
public struct ParameterStore: Sendable {
    public let layout: ParameterLayout
    /// `[layout.totalCount]` parameter values.
    public var values: [Float]

    public var config: ModelConfig { layout.config }

    /// Reads every parameter of `layout` from `weights` (canonical key; aliases must be absent or equal).
    /// Throws ``ModelError`` naming the key.
    public init(layout: ParameterLayout, weights: StateDict) throws {
        self.layout = layout
        var v = [Float](repeating: 0, count: layout.totalCount)
        for e in layout.entries {
            let t = try weights.tensor(e.name, shape: e.shape)
            v.replaceSubrange(e.offset..<(e.offset + e.count), with: t)
            for a in e.aliases {
                if let other = weights.entries[a], other.values != t {
                    throw ModelError.invalidConfig("\(weights.source): '\(a)' differs from '\(e.name)'; the model shares that tensor")
                }
            }
        }
        values = v
    }

    /// A freshly initialised model with PyTorch's default initialisation, as the reference builds it:
    /// every Linear and the patch Conv2d `U(−1/√fan_in, 1/√fan_in)` for weight and bias
    /// (`kaiming_uniform_(a=√5)`); LayerNorm weight 1, bias 0; `pos_embed`, `cls_token`, `mask_token`,
    /// `decoder_pos_embed` truncated normal with std 0.02 (`trunc_normal_`, cut at ±2).
    public init(layout: ParameterLayout, seed: UInt64) {
        self.layout = layout
        var v = [Float](repeating: 0, count: layout.totalCount)
        var rng = TrainingRandom(seed: seed, stream: .initialization, counter: 0)
        var spare: Double? = nil
        let biasFanIn = Dictionary(uniqueKeysWithValues: layout.entries.compactMap { e -> (String, Int)? in
            guard e.name.hasSuffix(".weight"), e.shape.count >= 2 else { return nil }
            return (String(e.name.dropLast(".weight".count)) + ".bias", e.shape.dropFirst().reduce(1, *))
        })
        for e in layout.entries {
            let name = e.name
            if name.hasSuffix("norm.weight") || name.hasSuffix("norm1.weight") || name.hasSuffix("norm2.weight") {
                for i in 0..<e.count { v[e.offset + i] = 1 }
            } else if name.hasSuffix("norm.bias") || name.hasSuffix("norm1.bias") || name.hasSuffix("norm2.bias") {
                continue
            } else if name.hasSuffix("pos_embed") || name.hasSuffix("_token") {
                for i in 0..<e.count {
                    var x = 0.0
                    repeat { x = rng.normal(spare: &spare) } while abs(x * 0.02) > 2
                    v[e.offset + i] = Float(x * 0.02)
                }
            } else {
                let fanIn = e.shape.count >= 2 ? e.shape.dropFirst().reduce(1, *) : (biasFanIn[name] ?? 1)
                let bound = 1 / Double(fanIn).squareRoot()
                for i in 0..<e.count { v[e.offset + i] = Float((rng.uniform() * 2 - 1) * bound) }
            }
        }
        values = v
    }

    /// The parameter `name` (canonical key).
    public func tensor(_ name: String) -> [Float] {
        let off = layout.offset(name), n = layout.entries[layout.index[name]!].count
        return Array(values[off..<(off + n)])
    }

    /// A state dict with every published key (shared tensors repeated under each alias).
    public func stateDict(source: String = "training parameters") -> StateDict {
        var entries: [String: StateDict.Entry] = [:]
        for e in layout.entries {
            let t = StateDict.Entry(shape: e.shape, values: Array(values[e.offset..<(e.offset + e.count)]))
            entries[e.name] = t
            for a in e.aliases { entries[a] = t }
        }
        return StateDict(source: source, entries: entries)
    }

    /// The inference model with these parameters (its layers run the training forward pass).
    public func model() throws -> MoEMAEModel {
        try MoEMAEModel(config: config, weights: stateDict())
    }
}
