import MoEMAE
/// Where every unique trainable parameter of an MoE-MAE model lives in one flat `Float` buffer.
///
/// Parameters that the reference shares are ONE entry here: each layer's `V` and `W2` (stored in
/// a state dict under every expert's key) and `patch_embed.*` (the same tensor as
/// `encoder.patch_proj.*`); ``Entry/aliases`` lists the other keys that name it. One flat buffer
/// makes AdamW, weight decay and the global gradient norm single loops, and the order is chosen
/// so that the layers' fused GEMMs write their weight gradients in place: within a block,
/// `q|k|v` weights are adjacent (then their biases), as are `V|Wg` (the model's packed V/gate
/// Linear) — the same stacking ``GroupedQueryAttention/packed`` and ``MixtureOfExperts/packed`` use.
public struct ParameterLayout: Sendable {
    public struct Entry: Sendable {
        /// The canonical state-dict key (docs/model.md, "Checkpoints").
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
        /// Other state-dict keys holding the same tensor.
        public let aliases: [String]
    }

    /// Offsets of one transformer block's parameters (encoder or decoder).
    public struct BlockOffsets: Sendable {
        public let dim: Int, kvWidth: Int, hidden: Int, experts: Int
        public let norm1Weight: Int, norm1Bias: Int
        /// `[q; k; v]` weights `[(D + 2·kv), D]` and biases.
        public let qkvWeight: Int, qkvBias: Int
        public let outWeight: Int, outBias: Int
        public let norm2Weight: Int, norm2Bias: Int
        /// `[V; Wg]` weights `[(h + E), D]` and biases (V first).
        public let vGateWeight: Int, vGateBias: Int
        public let noiseWeight: Int, noiseBias: Int
        public let w2Weight: Int, w2Bias: Int
        /// Per expert: `W_e` weight `[h, D]` and bias.
        public let expertWeight: [Int], expertBias: [Int]
    }

    public let config: ModelConfig
    public private(set) var entries: [Entry] = []
    public private(set) var index: [String: Int] = [:]
    public private(set) var totalCount = 0
    public private(set) var encoderBlocks: [BlockOffsets] = []
    public private(set) var decoderBlocks: [BlockOffsets] = []

    /// Builds the layout of `config`, which must have a decoder (training is the masked autoencoder).
    /// Throws ``ModelError/invalidConfig(_:)`` otherwise.
    public init(config: ModelConfig) throws {
        try config.validate()
        guard let dec = config.decoder else {
            throw ModelError.invalidConfig("training needs the masked-autoencoder decoder; the configuration has none")
        }
        self.config = config
        let d = config.embedDim, c = config.inChannels, p = config.patchSize
        add("encoder.patch_proj.weight", [d, c, p, p], aliases: ["patch_embed.weight"])
        add("encoder.patch_proj.bias", [d], aliases: ["patch_embed.bias"])
        for m in ["week", "hour", "lat", "lon"] {
            add("encoder.\(m)_proj.weight", [d, 2]); add("encoder.\(m)_proj.bias", [d])
        }
        add("encoder.pos_embed", [1, config.tokenCount, d])
        add("encoder.cls_token", [1, 1, d])
        for i in 0..<config.depth {
            encoderBlocks.append(addBlock("encoder.layers.\(i)", dim: d, kv: config.kvGroups * config.headDim,
                                          hidden: config.expertHidden(layer: i), experts: config.expertCount(layer: i)))
        }
        add("encoder.norm.weight", [d]); add("encoder.norm.bias", [d])
        let e = dec.embedDim
        add("decoder_embed.weight", [e, d]); add("decoder_embed.bias", [e])
        add("mask_token", [1, 1, e])
        add("decoder_pos_embed", [1, config.patchCount, e])
        for j in 0..<dec.depth {
            decoderBlocks.append(addBlock("decoder_layers.\(j)", dim: e, kv: dec.kvGroups * (e / dec.heads),
                                          hidden: dec.expertHidden, experts: dec.experts))
        }
        add("decoder_norm.weight", [e]); add("decoder_norm.bias", [e])
        add("decoder_pred.weight", [config.patchFeatures, e]); add("decoder_pred.bias", [config.patchFeatures])
    }

    @discardableResult
    private mutating func add(_ name: String, _ shape: [Int], aliases: [String] = []) -> Int {
        let off = totalCount
        index[name] = entries.count
        entries.append(Entry(name: name, shape: shape, offset: off, aliases: aliases))
        totalCount += shape.reduce(1, *)
        return off
    }

    private mutating func addBlock(_ prefix: String, dim d: Int, kv: Int, hidden h: Int, experts ne: Int) -> BlockOffsets {
        let n1w = add("\(prefix).norm1.weight", [d]), n1b = add("\(prefix).norm1.bias", [d])
        let qw = add("\(prefix).attn.q_proj.weight", [d, d])
        add("\(prefix).attn.k_proj.weight", [kv, d]); add("\(prefix).attn.v_proj.weight", [kv, d])
        let qb = add("\(prefix).attn.q_proj.bias", [d])
        add("\(prefix).attn.k_proj.bias", [kv]); add("\(prefix).attn.v_proj.bias", [kv])
        let ow = add("\(prefix).attn.out_proj.weight", [d, d]), ob = add("\(prefix).attn.out_proj.bias", [d])
        let n2w = add("\(prefix).norm2.weight", [d]), n2b = add("\(prefix).norm2.bias", [d])
        let m = "\(prefix).moe"
        let others = (1..<max(ne, 1)).map { $0 }
        let vw = add("\(m).experts.0.V.weight", [h, d], aliases: others.map { "\(m).experts.\($0).V.weight" })
        add("\(m).gate.Wg.weight", [ne, d])
        let vb = add("\(m).experts.0.V.bias", [h], aliases: others.map { "\(m).experts.\($0).V.bias" })
        add("\(m).gate.Wg.bias", [ne])
        let nw = add("\(m).gate.Wnoise.weight", [ne, d]), nb = add("\(m).gate.Wnoise.bias", [ne])
        let w2w = add("\(m).experts.0.W2.weight", [d, h], aliases: others.map { "\(m).experts.\($0).W2.weight" })
        let w2b = add("\(m).experts.0.W2.bias", [d], aliases: others.map { "\(m).experts.\($0).W2.bias" })
        var ew: [Int] = [], eb: [Int] = []
        for j in 0..<ne {
            ew.append(add("\(m).experts.\(j).W.weight", [h, d])); eb.append(add("\(m).experts.\(j).W.bias", [h]))
        }
        return BlockOffsets(dim: d, kvWidth: kv, hidden: h, experts: ne, norm1Weight: n1w, norm1Bias: n1b,
                            qkvWeight: qw, qkvBias: qb, outWeight: ow, outBias: ob, norm2Weight: n2w, norm2Bias: n2b,
                            vGateWeight: vw, vGateBias: vb, noiseWeight: nw, noiseBias: nb, w2Weight: w2w, w2Bias: w2b,
                            expertWeight: ew, expertBias: eb)
    }

    /// The entry named `key` (canonical name or alias), or nil.
    public func entry(_ key: String) -> Entry? {
        if let i = index[key] { return entries[i] }
        return aliasIndex[key].map { entries[$0] }
    }

    private var aliasIndex: [String: Int] {
        var m: [String: Int] = [:]
        for (i, e) in entries.enumerated() { for a in e.aliases { m[a] = i } }
        return m
    }

    /// Offset of the canonical parameter `name` (programming error if absent).
    public func offset(_ name: String) -> Int {
        guard let i = index[name] else { preconditionFailure("ParameterLayout: no parameter \(name)") }
        return entries[i].offset
    }

    /// Every state-dict key (canonical and aliases), in layout order.
    public var allKeys: [String] { entries.flatMap { [$0.name] + $0.aliases } }
}
