/// The whole MoE-MAE model: configuration, encoder and (optionally) decoder, built from a state dict
/// with the published key names (docs/model.md, "Checkpoints"; `keys-public.txt`).
public struct MoEMAEModel: Sendable {
    public let config: ModelConfig
    public internal(set) var encoder: Encoder
    public internal(set) var decoder: Decoder?
    /// The number format of the matrix products (``converted(to:bf16Kernel:)``); FP32 as loaded.
    public private(set) var precision: Precision = .fp32
    /// The bf16 kernel in use when ``precision`` is bf16.
    public private(set) var bf16Kernel: BF16Kernel? = nil
    /// The weights file this model was read from (for fingerprints), if any.
    public let weightsPath: String?

    /// Builds the model of `config` from `weights`, checking every tensor's shape. The shared `V`
    /// and `W2` of each layer are read from expert 0 and must be identical under every other expert.
    /// Throws ``ModelError`` naming the key.
    public init(config: ModelConfig, weights: StateDict, weightsPath: String? = nil) throws {
        try config.validate()
        self.config = config
        self.weightsPath = weightsPath
        let d = config.embedDim, eps = config.layerNormEpsilon
        let patch = try weights.tensor("encoder.patch_proj.weight", shape: [d, config.inChannels, config.patchSize, config.patchSize])
        let patchBias = try weights.tensor("encoder.patch_proj.bias", shape: [d])
        let patchEmbedding = PatchEmbedding(channels: config.inChannels, imageSize: config.imageSize, patchSize: config.patchSize,
                                            projection: Linear(inFeatures: config.patchFeatures, outFeatures: d, weight: patch, bias: patchBias))
        let meta = MetadataEmbedding(week: try weights.linear("encoder.week_proj", in: 2, out: d),
                                     hour: try weights.linear("encoder.hour_proj", in: 2, out: d),
                                     lat: try weights.linear("encoder.lat_proj", in: 2, out: d),
                                     lon: try weights.linear("encoder.lon_proj", in: 2, out: d))
        var blocks: [EncoderBlock] = []
        for i in 0..<config.depth {
            blocks.append(try Self.block(weights, prefix: "encoder.layers.\(i)", dim: d, heads: config.heads, groups: config.kvGroups,
                                         hidden: config.expertHidden(layer: i), experts: config.expertCount(layer: i), eps: eps))
        }
        encoder = Encoder(config: config, patchEmbedding: patchEmbedding, metadataEmbedding: meta,
                          clsToken: try weights.tensor("encoder.cls_token", shape: [1, 1, d]),
                          positionEmbedding: try weights.tensor("encoder.pos_embed", shape: [1, config.tokenCount, d]),
                          blocks: blocks, norm: try weights.layerNorm("encoder.norm", dim: d, epsilon: eps))
        if let dc = config.decoder {
            let de = dc.embedDim
            var dblocks: [EncoderBlock] = []
            for j in 0..<dc.depth {
                dblocks.append(try Self.block(weights, prefix: "decoder_layers.\(j)", dim: de, heads: dc.heads, groups: dc.kvGroups,
                                              hidden: dc.expertHidden, experts: dc.experts, eps: eps))
            }
            decoder = Decoder(config: dc, patchCount: config.patchCount,
                              embed: try weights.linear("decoder_embed", in: d, out: de),
                              maskToken: try weights.tensor("mask_token", shape: [1, 1, de]),
                              positionEmbedding: try weights.tensor("decoder_pos_embed", shape: [1, config.patchCount, de]),
                              blocks: dblocks, norm: try weights.layerNorm("decoder_norm", dim: de, epsilon: eps),
                              pred: try weights.linear("decoder_pred", in: de, out: config.patchFeatures))
        } else {
            decoder = nil
        }
    }

    /// Reads a safetensors weights file; the configuration is inferred from the shapes unless given.
    public static func load(path: String, config: ModelConfig? = nil) throws -> MoEMAEModel {
        let weights = try StateDict.load(path: path)
        var cfg = try config ?? ModelConfig.infer(from: weights)
        if config == nil, weights.shape("decoder_embed.weight") == nil { cfg.decoder = nil }
        return try MoEMAEModel(config: cfg, weights: weights, weightsPath: path)
    }

    package static func block(_ w: StateDict, prefix: String, dim d: Int, heads: Int, groups: Int, hidden h: Int, experts e: Int,
                      eps: Float) throws -> EncoderBlock {
        let kv = groups * (d / heads)
        let attention = GroupedQueryAttention(dim: d, heads: heads, kvGroups: groups,
                                              q: try w.linear("\(prefix).attn.q_proj", in: d, out: d),
                                              k: try w.linear("\(prefix).attn.k_proj", in: d, out: kv),
                                              v: try w.linear("\(prefix).attn.v_proj", in: d, out: kv),
                                              out: try w.linear("\(prefix).attn.out_proj", in: d, out: d))
        let moePrefix = "\(prefix).moe"
        let v = try w.linear("\(moePrefix).experts.0.V", in: d, out: h)
        let w2 = try w.linear("\(moePrefix).experts.0.W2", in: h, out: d)
        var experts: [Linear] = []
        for j in 0..<e {
            experts.append(try w.linear("\(moePrefix).experts.\(j).W", in: d, out: h))
            if j > 0 {
                for (name, shared, out, inp) in [("V", v, h, d), ("W2", w2, d, h)] {
                    let other = try w.linear("\(moePrefix).experts.\(j).\(name)", in: inp, out: out)
                    if other.weight != shared.weight || other.bias != shared.bias {
                        throw ModelError.invalidConfig("\(w.source): '\(moePrefix).experts.\(j).\(name)' differs from expert 0's; MoE-MAE shares V and W2 between the experts of a layer")
                    }
                }
            }
        }
        if w.shape("\(moePrefix).experts.\(e).W.weight") != nil {
            throw ModelError.invalidConfig("\(w.source): '\(moePrefix).experts.\(e).W.weight' exists but the configuration has \(e) experts in this layer")
        }
        let moe = MixtureOfExperts(dim: d, hidden: h, experts: experts, v: v, w2: w2,
                                   gate: try w.linear("\(moePrefix).gate.Wg", in: d, out: e),
                                   noise: try w.linear("\(moePrefix).gate.Wnoise", in: d, out: e))
        return EncoderBlock(norm1: try w.layerNorm("\(prefix).norm1", dim: d, epsilon: eps), attention: attention,
                            norm2: try w.layerNorm("\(prefix).norm2", dim: d, epsilon: eps), moe: moe)
    }
}

extension MoEMAEModel {
    /// This model with every Linear layer's matrix product in `precision` (see ``Precision``).
    ///
    /// - Parameter bf16Kernel: for ``Precision/bf16``: ``BF16Kernel/avx512bf16`` (the default, what
    ///   `--precision bf16` uses) or ``BF16Kernel/portable`` (the reference, for tests and quality
    ///   measurements; several times slower than FP32).
    /// - Throws: ``ModelError/unsupportedPrecision(_:)`` naming what the CPU lacks when the AVX512_BF16
    ///   kernel is asked for on a CPU without it; there is no silent fallback.
    public func converted(to precision: Precision, bf16Kernel: BF16Kernel = .avx512bf16) throws -> MoEMAEModel {
        let kernel: BF16Kernel?
        switch precision {
        case .fp32: kernel = nil
        case .bf16:
            if bf16Kernel == .avx512bf16 && !CPUFeatures.current.hasBF16Kernel { throw ModelError.bf16Unsupported() }
            kernel = bf16Kernel
        }
        var m = self
        m.precision = precision
        m.bf16Kernel = kernel
        m.encoder.patchEmbedding.projection = encoder.patchEmbedding.projection.withBF16(kernel)
        m.encoder.blocks = encoder.blocks.map { $0.withBF16(kernel) }
        if var d = decoder {
            d.embed = d.embed.withBF16(kernel)
            d.blocks = d.blocks.map { $0.withBF16(kernel) }
            d.pred = d.pred.withBF16(kernel)
            m.decoder = d
        }
        return m
    }
}

extension EncoderBlock {
    /// The block with the Linear layers its forward pass multiplies by in bf16 for `kernel`.
    func withBF16(_ kernel: BF16Kernel?) -> EncoderBlock {
        var b = self
        b.attention.packed = attention.packed.withBF16(kernel)
        b.attention.out = attention.out.withBF16(kernel)
        b.moe.packed = moe.packed.withBF16(kernel)
        b.moe.experts = moe.experts.map { $0.withBF16(kernel) }
        b.moe.w2 = moe.w2.withBF16(kernel)
        return b
    }
}
