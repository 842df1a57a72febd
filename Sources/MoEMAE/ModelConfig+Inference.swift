extension ModelConfig {
    /// Infers the configuration from the tensor shapes of a state dict.
    ///
    /// Widths, depths, expert hidden sizes and expert counts are read off the shapes. The number of
    /// heads is not visible in any shape (only the ratio G/H = k_proj rows / D is), so the heads and
    /// KV groups are taken from the preset with the same width, depth and ratio (S, XS, XXS); a model
    /// that matches none needs an explicit configuration. The decoder, when present, likewise takes
    /// heads/groups from the standard decoder (6 heads, 3 groups) if its ratio matches.
    /// Throws ``ModelError/cannotInferConfig(path:reason:)``.
    public static func infer(from weights: StateDict) throws -> ModelConfig {
        func fail(_ reason: String) throws -> Never { throw ModelError.cannotInferConfig(path: weights.source, reason: reason) }
        guard let pos = weights.shape("encoder.pos_embed"), pos.count == 3 else { try fail("no encoder.pos_embed [1, tokens, D]") }
        let d = pos[2]
        guard let patch = weights.shape("encoder.patch_proj.weight"), patch.count == 4, patch[0] == d, patch[2] == patch[3] else {
            try fail("no encoder.patch_proj.weight [D, C, p, p]")
        }
        let channels = patch[1], p = patch[2]
        let patches = pos[1] - prefixTokens
        let grid = Int(Double(patches).squareRoot().rounded())
        guard patches > 0, grid * grid == patches else { try fail("encoder.pos_embed has \(pos[1]) tokens, not 5 + a square number of patches") }
        var depth = 0
        while weights.shape("encoder.layers.\(depth).norm1.weight") != nil { depth += 1 }
        guard depth > 0 else { try fail("no encoder.layers.0.*") }
        guard let k0 = weights.shape("encoder.layers.0.attn.k_proj.weight"), k0.count == 2 else {
            try fail("no encoder.layers.0.attn.k_proj.weight")
        }
        let kvWidth = k0[0]
        func experts(_ prefix: String) -> Int {
            var e = 0
            while weights.shape("\(prefix).moe.experts.\(e).W.weight") != nil { e += 1 }
            return e
        }
        func hidden(_ prefix: String) throws -> Int {
            guard let w = weights.shape("\(prefix).moe.experts.0.W.weight"), w.count == 2 else { try fail("no \(prefix).moe.experts.0.W.weight") }
            return w[0]
        }
        let first = try hidden("encoder.layers.0"), last = try hidden("encoder.layers.\(depth - 1)")
        let per = max(depth / 3, 1)
        let stages = Set((0..<depth).map { min($0 / per, 2) }).sorted().map { experts("encoder.layers.\($0 * per)") }
        guard let preset = presets.first(where: { $0.embedDim == d && $0.kvGroups * $0.headDim == kvWidth })
                ?? presets.first(where: { $0.kvGroups * $0.headDim * d == kvWidth * $0.embedDim }) else {
            try fail("no preset has width \(d) with k/v width \(kvWidth); the number of heads cannot be read from shapes")
        }
        guard kvWidth >= preset.kvGroups, kvWidth % preset.kvGroups == 0, d % (kvWidth / preset.kvGroups) == 0 else {
            try fail("k/v width \(kvWidth) is not a multiple of \(preset.kvGroups) groups dividing D = \(d)")
        }
        var decoder: DecoderConfig? = nil
        if let de = weights.shape("decoder_embed.weight"), de.count == 2 {
            var dd = DecoderConfig()
            dd.embedDim = de[0]
            var ddepth = 0
            while weights.shape("decoder_layers.\(ddepth).norm1.weight") != nil { ddepth += 1 }
            dd.depth = ddepth
            if ddepth > 0 {
                dd.expertHidden = try hidden("decoder_layers.0")
                dd.experts = experts("decoder_layers.0")
                if let dk = weights.shape("decoder_layers.0.attn.k_proj.weight"), dk.count == 2,
                   dk[0] * dd.heads != dd.kvGroups * dd.embedDim {
                    try fail("decoder k/v width \(dk[0]) does not match 6 heads / 3 groups of width \(dd.embedDim)")
                }
            }
            decoder = dd
        }
        let c = ModelConfig(preset: (d == preset.embedDim && depth == preset.depth && first == preset.expertHiddenFirst
                                     && last == preset.expertHiddenLast && stages == preset.expertsPerStage) ? preset.preset : "custom",
                            inChannels: channels, imageSize: grid * p, patchSize: p, embedDim: d, depth: depth,
                            heads: d / (kvWidth / preset.kvGroups), kvGroups: preset.kvGroups,
                            expertHiddenFirst: first, expertHiddenLast: last, expertsPerStage: stages, topK: 2,
                            decoder: decoder)
        do { try c.validate() } catch { try fail("\(error)") }
        return c
    }
}
