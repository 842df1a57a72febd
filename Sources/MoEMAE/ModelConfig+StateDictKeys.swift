extension ModelConfig {
    /// Every state-dict key of this configuration with its shape, in the reference's state-dict order
    /// (docs/model.md, "Checkpoints"; `keys-public.txt`). Shared tensors appear under every key that
    /// aliases them (each expert's `V`/`W2`, `patch_embed.*` = `encoder.patch_proj.*`).
    public var stateDictShapes: [(key: String, shape: [Int])] {
        var out: [(String, [Int])] = []
        let d = embedDim
        func lin(_ p: String, _ i: Int, _ o: Int) { out.append(("\(p).weight", [o, i])); out.append(("\(p).bias", [o])) }
        func norm(_ p: String, _ n: Int) { out.append(("\(p).weight", [n])); out.append(("\(p).bias", [n])) }
        func block(_ p: String, dim: Int, heads: Int, groups: Int, hidden: Int, experts: Int) {
            let kv = groups * (dim / heads)
            norm("\(p).norm1", dim)
            lin("\(p).attn.q_proj", dim, dim); lin("\(p).attn.k_proj", dim, kv)
            lin("\(p).attn.v_proj", dim, kv); lin("\(p).attn.out_proj", dim, dim)
            norm("\(p).norm2", dim)
            for e in 0..<experts {
                lin("\(p).moe.experts.\(e).W", dim, hidden); lin("\(p).moe.experts.\(e).V", dim, hidden)
                lin("\(p).moe.experts.\(e).W2", hidden, dim)
            }
            lin("\(p).moe.gate.Wg", dim, experts); lin("\(p).moe.gate.Wnoise", dim, experts)
        }
        if let dec = decoder {
            out.append(("mask_token", [1, 1, dec.embedDim]))
            out.append(("decoder_pos_embed", [1, patchCount, dec.embedDim]))
        }
        out.append(("encoder.pos_embed", [1, tokenCount, d]))
        out.append(("encoder.cls_token", [1, 1, d]))
        out.append(("encoder.patch_proj.weight", [d, inChannels, patchSize, patchSize])); out.append(("encoder.patch_proj.bias", [d]))
        for m in ["week", "hour", "lat", "lon"] { lin("encoder.\(m)_proj", 2, d) }
        for i in 0..<depth {
            block("encoder.layers.\(i)", dim: d, heads: heads, groups: kvGroups, hidden: expertHidden(layer: i), experts: expertCount(layer: i))
        }
        norm("encoder.norm", d)
        if let dec = decoder {
            out.append(("patch_embed.weight", [d, inChannels, patchSize, patchSize])); out.append(("patch_embed.bias", [d]))
            lin("decoder_embed", d, dec.embedDim)
            for j in 0..<dec.depth {
                block("decoder_layers.\(j)", dim: dec.embedDim, heads: dec.heads, groups: dec.kvGroups, hidden: dec.expertHidden, experts: dec.experts)
            }
            norm("decoder_norm", dec.embedDim)
            lin("decoder_pred", dec.embedDim, patchFeatures)
        }
        return out
    }
}

extension StateDict {
    /// Seeded random weights for `config` (benchmarks, tests, a training start): Linear weights and
    /// biases uniform in ±1/√fan_in (PyTorch's default `Linear` init), LayerNorm weight 1 and bias 0,
    /// embeddings and tokens uniform in ±0.02. Shared tensors get the same values under every alias.
    public static func random(config: ModelConfig, seed: UInt64 = 0) -> StateDict {
        var state = seed &+ 0x2545_F491_4F6C_DD1D
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
        var entries: [String: Entry] = [:]
        let shapes = config.stateDictShapes
        var shapeOf: [String: [Int]] = [:]
        for (k, s) in shapes { shapeOf[k] = s }
        for (key, shape) in shapes {
            let n = shape.reduce(1, *)
            var alias = key
            if let r = key.range(of: #"moe\.experts\.\d+\.(V|W2)\."#, options: .regularExpression) {
                let name = key[r].contains(".V.") ? "V." : "W2."
                alias = key.replacingCharacters(in: r, with: "moe.experts.0.\(name)")
            }
            if key.hasPrefix("patch_embed.") { alias = "encoder.patch_proj." + key.dropFirst("patch_embed.".count) }
            if alias != key, let e = entries[alias] { entries[key] = e; continue }
            let values: [Float]
            if key.hasSuffix("norm.weight") || key.hasSuffix("norm1.weight") || key.hasSuffix("norm2.weight") {
                values = [Float](repeating: 1, count: n)
            } else if key.hasSuffix("norm.bias") || key.hasSuffix("norm1.bias") || key.hasSuffix("norm2.bias") {
                values = [Float](repeating: 0, count: n)
            } else if key.hasSuffix(".weight") || key.hasSuffix(".bias") {
                let fanIn = key.hasSuffix(".weight") ? shape.dropFirst().reduce(1, *)
                    : (shapeOf[key.dropLast(4) + "weight"]?.dropFirst().reduce(1, *) ?? 1)
                let bound = 1 / Float(max(fanIn, 1)).squareRoot()
                values = (0..<n).map { _ in next() * bound }
            } else {
                values = (0..<n).map { _ in next() * 0.02 }
            }
            entries[key] = Entry(shape: shape, values: values)
        }
        return StateDict(source: "random weights (seed \(seed))", entries: entries)
    }
}
