import Foundation

/// The dimensions of an MoE-MAE model (encoder and decoder), serialised as JSON
/// (schema: `schemas/model-config.schema.json`).
///
/// Source: docs/model.md ("Presets") — the authors' implementation of arXiv 2509.10919.
/// Every size the engine uses comes from here; nothing about S is hard-coded in the layers.
public struct ModelConfig: Codable, Sendable, Equatable {
    /// Preset name (`S`, `XS`, `XXS`) or `custom`.
    public var preset: String
    /// Input bands (7: SR_B1…SR_B7).
    public var inChannels: Int
    /// Tile edge in pixels (40).
    public var imageSize: Int
    /// Patch edge in pixels (4 → a 10×10 grid of patches).
    public var patchSize: Int
    /// Encoder token width D.
    public var embedDim: Int
    /// Number of encoder blocks L.
    public var depth: Int
    /// Query heads H (head width D/H).
    public var heads: Int
    /// Key/value groups G (query head h reads group h mod G).
    public var kvGroups: Int
    /// Expert hidden size of the first and last encoder layer; layers in between follow
    /// `floor(((L-1-i)/(L-1))·(first-last)) + last`.
    public var expertHiddenFirst: Int
    public var expertHiddenLast: Int
    /// Experts of the three depth stages (layer i is in stage `min(i / (L/3), 2)`).
    public var expertsPerStage: [Int]
    /// Experts chosen per token (2).
    public var topK: Int
    /// LayerNorm epsilon (1e-5, PyTorch's default).
    public var layerNormEpsilon: Float
    /// The masked-autoencoder decoder; nil for an encoder-only model.
    public var decoder: DecoderConfig?

    /// Decoder dimensions (docs/model.md, "Decoder"): the same for every preset.
    public struct DecoderConfig: Codable, Sendable, Equatable {
        public var embedDim: Int
        public var depth: Int
        public var heads: Int
        public var kvGroups: Int
        public var expertHidden: Int
        public var experts: Int
        public init(embedDim: Int = 108, depth: Int = 2, heads: Int = 6, kvGroups: Int = 3, expertHidden: Int = 54, experts: Int = 3) {
            self.embedDim = embedDim; self.depth = depth; self.heads = heads; self.kvGroups = kvGroups
            self.expertHidden = expertHidden; self.experts = experts
        }
        enum CodingKeys: String, CodingKey {
            case embedDim = "embed_dim", depth, heads, kvGroups = "kv_groups", expertHidden = "expert_hidden", experts
        }
    }

    public init(preset: String = "custom", inChannels: Int = 7, imageSize: Int = 40, patchSize: Int = 4,
                embedDim: Int, depth: Int, heads: Int, kvGroups: Int, expertHiddenFirst: Int, expertHiddenLast: Int,
                expertsPerStage: [Int] = [3, 4, 5], topK: Int = 2, layerNormEpsilon: Float = 1e-5,
                decoder: DecoderConfig? = DecoderConfig()) {
        self.preset = preset; self.inChannels = inChannels; self.imageSize = imageSize; self.patchSize = patchSize
        self.embedDim = embedDim; self.depth = depth; self.heads = heads; self.kvGroups = kvGroups
        self.expertHiddenFirst = expertHiddenFirst; self.expertHiddenLast = expertHiddenLast
        self.expertsPerStage = expertsPerStage; self.topK = topK; self.layerNormEpsilon = layerNormEpsilon
        self.decoder = decoder
    }

    package enum CodingKeys: String, CodingKey {
        case preset, inChannels = "in_channels", imageSize = "image_size", patchSize = "patch_size"
        case embedDim = "embed_dim", depth, heads, kvGroups = "kv_groups"
        case expertHiddenFirst = "expert_hidden_first", expertHiddenLast = "expert_hidden_last"
        case expertsPerStage = "experts_per_stage", topK = "top_k", layerNormEpsilon = "layer_norm_epsilon", decoder
    }

    // MARK: presets (docs/model.md, "Presets")

    /// The published model: D 144, 15 layers, 8 heads, 4 KV groups, experts 144 → 72.
    public static let s = ModelConfig(preset: "S", embedDim: 144, depth: 15, heads: 8, kvGroups: 4,
                                      expertHiddenFirst: 144, expertHiddenLast: 72)
    /// D 128, 12 layers, 8 heads, 4 groups, experts 96 → 32.
    public static let xs = ModelConfig(preset: "XS", embedDim: 128, depth: 12, heads: 8, kvGroups: 4,
                                       expertHiddenFirst: 96, expertHiddenLast: 32)
    /// D 108, 9 layers, 6 heads, 3 groups, experts 81 → 27.
    public static let xxs = ModelConfig(preset: "XXS", embedDim: 108, depth: 9, heads: 6, kvGroups: 3,
                                        expertHiddenFirst: 81, expertHiddenLast: 27)
    public static let presets: [ModelConfig] = [.s, .xs, .xxs]

    /// The preset called `name` (case-insensitive), or nil.
    public static func preset(named name: String) -> ModelConfig? {
        presets.first { $0.preset.lowercased() == name.lowercased() }
    }

    // MARK: derived sizes

    /// Patches per tile edge (10).
    public var gridSize: Int { imageSize / patchSize }
    /// Patches per tile (100).
    public var patchCount: Int { gridSize * gridSize }
    /// Values of one unfolded patch, channel-major then row then column (7·4·4 = 112).
    public var patchFeatures: Int { inChannels * patchSize * patchSize }
    /// Metadata tokens (week, hour, lat, lon) before CLS.
    public static let metadataTokens = 4
    /// Index of the CLS token in the sequence.
    public static let clsIndex = 4
    /// Tokens before the patches: 4 metadata + CLS.
    public static let prefixTokens = 5
    /// Tokens per whole tile: 4 metadata + CLS + patches (105).
    public var tokenCount: Int { Self.prefixTokens + patchCount }
    /// Head width D/H.
    public var headDim: Int { embedDim / heads }

    /// Expert hidden size of encoder layer `i`: `floor(((L-1-i)/(L-1))·(first-last)) + last`
    /// (docs/model.md; S: 144,138,133,…,77,72). Computed in Double like the reference's Python.
    public func expertHidden(layer i: Int) -> Int {
        guard depth > 1 else { return expertHiddenFirst }
        let frac = Double(depth - 1 - i) / Double(depth - 1)
        return Int((frac * Double(expertHiddenFirst - expertHiddenLast)).rounded(.down)) + expertHiddenLast
    }

    /// Experts of encoder layer `i`: `expertsPerStage[min(i / (L/3), 2)]`.
    public func expertCount(layer i: Int) -> Int {
        let per = max(depth / 3, 1)
        return expertsPerStage[min(i / per, expertsPerStage.count - 1)]
    }

    /// Checks that the dimensions are consistent. Throws ``ModelError/invalidConfig(_:)``.
    public func validate() throws {
        func fail(_ s: String) throws -> Never { throw ModelError.invalidConfig(s) }
        if inChannels <= 0 || imageSize <= 0 || patchSize <= 0 || imageSize % patchSize != 0 {
            try fail("image_size \(imageSize) must be a positive multiple of patch_size \(patchSize)")
        }
        if embedDim <= 0 || depth <= 0 || heads <= 0 || kvGroups <= 0 { try fail("embed_dim, depth, heads and kv_groups must be positive") }
        if embedDim % heads != 0 { try fail("embed_dim \(embedDim) is not divisible by heads \(heads)") }
        if heads % kvGroups != 0 { try fail("heads \(heads) is not divisible by kv_groups \(kvGroups)") }
        if expertHiddenFirst <= 0 || expertHiddenLast <= 0 { try fail("expert hidden sizes must be positive") }
        if topK != 2 { try fail("top_k \(topK) is not supported (the model routes each token to 2 experts)") }
        if expertsPerStage.isEmpty || expertsPerStage.contains(where: { $0 < topK || $0 > 255 }) {
            try fail("experts_per_stage \(expertsPerStage) must hold counts between top_k (\(topK)) and 255")
        }
        if let d = decoder {
            if d.embedDim <= 0 || d.heads <= 0 || d.kvGroups <= 0 || d.embedDim % d.heads != 0 || d.heads % d.kvGroups != 0
                || d.experts < topK || d.experts > 255 || d.expertHidden <= 0 {
                try fail("decoder dimensions are inconsistent (embed_dim \(d.embedDim), heads \(d.heads), kv_groups \(d.kvGroups), experts \(d.experts))")
            }
        }
    }

    // MARK: parameter counts (unique parameters: shared V/W2 and patch_embed counted once)

    /// Unique parameters of the encoder (S: 2,366,798).
    public var encoderParameterCount: Int {
        let d = embedDim
        var n = d * patchFeatures + d            // patch_proj
        n += 4 * (2 * d + d)                     // week/hour/lat/lon_proj
        n += tokenCount * d + d                  // pos_embed, cls_token
        for i in 0..<depth {
            n += Self.blockParameters(dim: d, heads: heads, groups: kvGroups, hidden: expertHidden(layer: i), experts: expertCount(layer: i))
        }
        n += 2 * d                               // final norm
        return n
    }

    /// Unique parameters of the decoder (0 without one).
    public var decoderParameterCount: Int {
        guard let dec = decoder else { return 0 }
        let e = dec.embedDim
        var n = embedDim * e + e                 // decoder_embed
        n += e + patchCount * e                  // mask_token, decoder_pos_embed
        for _ in 0..<dec.depth {
            n += Self.blockParameters(dim: e, heads: dec.heads, groups: dec.kvGroups, hidden: dec.expertHidden, experts: dec.experts)
        }
        n += 2 * e + e * patchFeatures + patchFeatures   // decoder_norm, decoder_pred
        return n
    }

    /// Unique parameters of the whole model (S: 2,537,562; XXS: 824,693).
    public var parameterCount: Int { encoderParameterCount + decoderParameterCount }

    package static func blockParameters(dim d: Int, heads: Int, groups: Int, hidden h: Int, experts e: Int) -> Int {
        let kv = groups * (d / heads)
        var n = 2 * d                                    // norm1
        n += d * d + d + 2 * (kv * d + kv) + d * d + d   // q, k, v, out
        n += 2 * d                                       // norm2
        n += e * (h * d + h)                             // W_e
        n += h * d + h + d * h + d                       // shared V, W2
        n += 2 * (e * d + e)                             // gate Wg, Wnoise
        return n
    }

    /// Multiply-adds of one encoder pass over one whole tile (all patches kept, noise-free top-2).
    ///
    /// Per layer i and token: `2·D² + 2·D·G·hd` for the q/out and k/v projections, `2·T·D` for the
    /// attention scores and the weighted sum of values (T = 105 tokens), `E_i·D` for the gate and
    /// `4·h_i·D` for the mixture of experts with the shared-projection shortcut (V once, the two
    /// chosen experts' W_e, W2 once); times T tokens; plus the patch embedding `100·112·D` and
    /// the metadata projections `4·2·D`. S: 245.7 M multiply-adds ≈ 0.49 GFLOP (2 FLOP each).
    public var encoderMultiplyAddsPerTile: Int {
        let d = embedDim, t = tokenCount, kv = kvGroups * headDim
        var perToken = 0
        for i in 0..<depth {
            perToken += 2 * d * d + 2 * d * kv + 2 * t * d + expertCount(layer: i) * d + (2 + topK) * expertHidden(layer: i) * d
        }
        return perToken * t + patchCount * patchFeatures * d + Self.metadataTokens * 2 * d
    }
}

extension ModelConfig {
    /// Reads a configuration JSON file (schema `schemas/model-config.schema.json`).
    /// Throws ``ModelError/invalidConfig(_:)`` naming the file.
    public static func load(path: String) throws -> ModelConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError.invalidConfig("\(path): cannot read the model configuration file")
        }
        let c: ModelConfig
        do { c = try JSONDecoder().decode(ModelConfig.self, from: data) } catch {
            throw ModelError.invalidConfig("\(path): not a valid model configuration: \(error)")
        }
        do { try c.validate() } catch let ModelError.invalidConfig(m) {
            throw ModelError.invalidConfig("\(path): \(m)")
        }
        return c
    }

    /// Pretty JSON with sorted keys.
    public func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(self)
    }
}
