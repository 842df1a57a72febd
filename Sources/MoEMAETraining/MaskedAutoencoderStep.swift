import MoEMAE
/// The terms of the pretraining loss of one batch (docs/model.md, "Decoder"):
/// `loss = lossMasked + 0.1·lossUnmasked + 0.5·moeLoss`.
public struct LossTerms: Sendable, Equatable {
    /// Sum of squared errors over the masked patches' 112 values, divided by the number of masked patches.
    public var lossMasked: Double
    /// The same over the kept patches.
    public var lossUnmasked: Double
    /// The encoder's auxiliary load-balancing loss summed over its layers.
    public var moeLoss: Double
    public var loss: Double { lossMasked + LossTerms.unmaskedWeight * lossUnmasked + LossTerms.moeWeight * moeLoss }

    public static let unmaskedWeight = 0.1
    public static let moeWeight = 0.5

    public init(lossMasked: Double, lossUnmasked: Double, moeLoss: Double) {
        self.lossMasked = lossMasked; self.lossUnmasked = lossUnmasked; self.moeLoss = moeLoss
    }
}

/// One evaluation of the masked-autoencoder pretraining loss and its gradient with respect to every
/// unique parameter: the training forward pass of the model's own layers (``MoEMAEModel``'s encoder and
/// decoder, with activations kept) followed by the backward pass, every matrix product through BLAS.
///
/// The reference's `MOEMAE.forward` (docs/model.md): the encoder sees `[4 metadata, CLS, kept patches]`
/// with each kept patch's own `pos_embed` row; the decoder sees `decoder_embed` of all normalised
/// encoder tokens, the kept patches put back at their slots and `mask_token` elsewhere, plus
/// `decoder_pos_embed` on the 100 patch slots; `decoder_pred` of the normalised patch slots predicts the
/// z-scored pixels of every patch in unfold order. The decoder's auxiliary losses are not part of the loss.
///
/// Allocates its activation memory once for up to `maxTiles` tiles with `kept` kept patches and reuses
/// it on every call. A class because it owns that memory; not thread-safe.
public final class MaskedAutoencoderStep {
    public let layout: ParameterLayout
    public let maxTiles: Int
    public let kept: Int
    package let config: ModelConfig
    package let decoderConfig: ModelConfig.DecoderConfig
    package let encoderTokens: Int, decoderTokens: Int
    package let unfolded, patchOut, normalized, decoderIn, decoderNorm, prediction, target: FloatBuffer
    package let residual: [FloatBuffer]
    package let decoderResidual: [FloatBuffer]
    package let encoderActs: [BlockActivations]
    package let decoderActs: [BlockActivations]
    package let encoderScratch: BlockGradientScratch
    package let decoderScratch: BlockGradientScratch
    package let dx, dxDecoder, dDecoderNorm, dPrediction, dNormalized, dDecoderIn, dPatch: FloatBuffer
    package let slot: IndexBuffer

    /// - Parameters: `kept` patches kept per tile (25 for mask ratio 0.75).
    public init(layout: ParameterLayout, maxTiles: Int, kept: Int) {
        self.layout = layout
        self.maxTiles = maxTiles
        self.kept = kept
        let config = layout.config
        let decoderConfig = layout.config.decoder ?? ModelConfig.DecoderConfig()
        self.config = config
        self.decoderConfig = decoderConfig
        let d = config.embedDim, de = decoderConfig.embedDim, f = config.patchFeatures, np = config.patchCount
        let encoderTokens = ModelConfig.prefixTokens + kept
        let decoderTokens = ModelConfig.prefixTokens + np
        self.encoderTokens = encoderTokens
        self.decoderTokens = decoderTokens
        let r = maxTiles * encoderTokens, rd = maxTiles * decoderTokens
        unfolded = FloatBuffer(maxTiles * kept * f); patchOut = FloatBuffer(maxTiles * kept * d)
        normalized = FloatBuffer(r * d); decoderIn = FloatBuffer(r * de)
        decoderNorm = FloatBuffer(maxTiles * np * de); prediction = FloatBuffer(maxTiles * np * f); target = FloatBuffer(maxTiles * np * f)
        residual = (0...config.depth).map { _ in FloatBuffer(r * d) }
        decoderResidual = (0...decoderConfig.depth).map { _ in FloatBuffer(rd * de) }
        let kv = config.kvGroups * config.headDim
        encoderActs = (0..<config.depth).map {
            BlockActivations(dim: d, heads: config.heads, kvWidth: kv, hidden: config.expertHidden(layer: $0),
                             experts: config.expertCount(layer: $0), maxTiles: maxTiles, maxTokens: encoderTokens)
        }
        let dkv = decoderConfig.kvGroups * (de / decoderConfig.heads)
        decoderActs = (0..<decoderConfig.depth).map { _ in
            BlockActivations(dim: de, heads: decoderConfig.heads, kvWidth: dkv, hidden: decoderConfig.expertHidden,
                             experts: decoderConfig.experts, maxTiles: maxTiles, maxTokens: decoderTokens)
        }
        let maxHidden = (0..<config.depth).map { config.expertHidden(layer: $0) }.max() ?? 1
        let maxExperts = (0..<config.depth).map { config.expertCount(layer: $0) }.max() ?? 2
        encoderScratch = BlockGradientScratch(dim: d, kvWidth: kv, hidden: maxHidden, experts: maxExperts, maxTiles: maxTiles,
                                              maxTokens: encoderTokens, workers: 1)
        decoderScratch = BlockGradientScratch(dim: de, kvWidth: dkv, hidden: decoderConfig.expertHidden, experts: decoderConfig.experts,
                                              maxTiles: maxTiles, maxTokens: decoderTokens, workers: 1)
        dx = FloatBuffer(r * d); dxDecoder = FloatBuffer(rd * de); dDecoderNorm = FloatBuffer(maxTiles * np * de)
        dPrediction = FloatBuffer(maxTiles * np * f); dNormalized = FloatBuffer(r * d); dDecoderIn = FloatBuffer(r * de)
        dPatch = FloatBuffer(maxTiles * kept * d)
        slot = IndexBuffer(np)
    }

    /// Forward pass of a part of a batch: `tiles` tiles (their own slice of the batch) through the
    /// encoder and decoder with activations kept; fills ``BlockActivations/importance`` / `load` of every
    /// encoder layer and the loss gradient at the prediction. Returns the part's sums of squared
    /// errors over masked and over kept patches. The loss normalisation uses the whole batch's counts
    /// `maskedTotal` and `keptTotal` (patches), so the parts' gradients add up to the batch's.
    ///
    /// - Parameters:
    ///   - model: the model whose parameters are differentiated.
    ///   - images: z-scored pixels `[tiles, C, S, S]`.
    ///   - meta: `[tiles, 8]` encoded metadata, or nil (all zero).
    ///   - keep: `[tiles, kept]` kept patch numbers in encoder token order (the others are masked).
    ///   - mode: gate noise and expert dropout, drawn from each tile's own random stream `rngs[tile]`.
    package func forward(model: MoEMAEModel, images: UnsafePointer<Float>, meta: UnsafePointer<Float>?, tiles: Int,
                 keep: UnsafePointer<Int32>, mode: TrainingMode, rngs: inout [TrainingRandom],
                 maskedTotal: Int, keptTotal: Int) -> (sumMasked: Double, sumKept: Double) {
        precondition(tiles <= maxTiles, "batch of \(tiles) exceeds the step's capacity \(maxTiles)")
        guard let decoder = model.decoder else { preconditionFailure("training needs the decoder") }
        let encoder = model.encoder
        let d = config.embedDim, de = decoderConfig.embedDim, f = config.patchFeatures, np = config.patchCount
        let te = encoderTokens, td = decoderTokens, pre = ModelConfig.prefixTokens
        let r = tiles * te
        let imageStride = config.inChannels * config.imageSize * config.imageSize

        // ---- Encoder embedding: unfolded kept patches → patch_proj, metadata tokens, CLS, pos_embed.
        for b in 0..<tiles {
            for k in 0..<kept {
                encoder.patchEmbedding.unfold(image: images + b * imageStride, patch: Int(keep[b * kept + k]),
                                              into: unfolded.p + (b * kept + k) * f)
            }
        }
        encoder.patchEmbedding.projection.forward(unfolded.p, ldx: f, rows: tiles * kept, into: patchOut.p, ldy: d)
        let x0 = residual[0].p
        encoder.positionEmbedding.withUnsafeBufferPointer { posBuf in
            encoder.clsToken.withUnsafeBufferPointer { cls in
                let pos = posBuf.baseAddress!
                for b in 0..<tiles {
                    let base = x0 + b * te * d
                    encoder.metadataEmbedding.forward(meta: meta.map { $0 + 8 * b }, into: base, ld: d)
                    (base + ModelConfig.clsIndex * d).update(from: cls.baseAddress!, count: d)
                    for t in 0..<pre { VectorKernels.addRows(base + t * d, ld: d, rows: 1, n: d, pos + t * d) }
                    for k in 0..<kept {
                        let row = base + (pre + k) * d
                        row.update(from: patchOut.p + (b * kept + k) * d, count: d)
                        VectorKernels.addRows(row, ld: d, rows: 1, n: d, pos + (pre + Int(keep[b * kept + k])) * d)
                    }
                }
            }
        }
        // ---- Encoder blocks and final LayerNorm.
        for (l, block) in encoder.blocks.enumerated() {
            block.trainingForward(tiles: tiles, tokens: te, input: residual[l].p, output: residual[l + 1].p, act: encoderActs[l],
                                  mode: mode, auxiliary: true, rngs: &rngs)
        }
        let xL = residual[encoder.blocks.count].p
        encoder.norm.forward(xL, ldx: d, rows: r, into: normalized.p, ldo: d)

        // ---- Decoder input: decoder_embed of every token, kept patches back at their slots, mask_token elsewhere.
        decoder.embed.forward(normalized.p, ldx: d, rows: r, into: decoderIn.p, ldy: de)
        let xd0 = decoderResidual[0].p
        decoder.maskToken.withUnsafeBufferPointer { mask in
            decoder.positionEmbedding.withUnsafeBufferPointer { pos in
                for b in 0..<tiles {
                    let src = decoderIn.p + b * te * de, dst = xd0 + b * td * de
                    dst.update(from: src, count: pre * de)
                    fillSlots(keep: keep + b * kept)
                    for p in 0..<np {
                        let row = dst + (pre + p) * de
                        let s = Int(slot.p[p])
                        if s >= 0 { row.update(from: src + (pre + s) * de, count: de) } else { row.update(from: mask.baseAddress!, count: de) }
                        VectorKernels.addRows(row, ld: de, rows: 1, n: de, pos.baseAddress! + p * de)
                    }
                }
            }
        }
        for (j, block) in decoder.blocks.enumerated() {
            block.trainingForward(tiles: tiles, tokens: td, input: decoderResidual[j].p, output: decoderResidual[j + 1].p,
                                  act: decoderActs[j], mode: mode, auxiliary: false, rngs: &rngs)
        }
        let xdL = decoderResidual[decoder.blocks.count].p
        for b in 0..<tiles {
            decoder.norm.forward(xdL + (b * td + pre) * de, ldx: de, rows: np, into: decoderNorm.p + b * np * de, ldo: de)
        }
        decoder.pred.forward(decoderNorm.p, ldx: de, rows: tiles * np, into: prediction.p, ldy: f)

        // ---- Loss: squared error per patch, averaged over masked and over kept patches separately.
        for b in 0..<tiles {
            for p in 0..<np {
                encoder.patchEmbedding.unfold(image: images + b * imageStride, patch: p, into: target.p + (b * np + p) * f)
            }
        }
        var sumMasked = 0.0, sumKept = 0.0
        let maskedCount = maskedTotal, keptCount = keptTotal
        var isKept = [Bool](repeating: false, count: np)
        for b in 0..<tiles {
            for p in 0..<np { isKept[p] = false }
            for k in 0..<kept { isKept[Int(keep[b * kept + k])] = true }
            for p in 0..<np {
                let o = (b * np + p) * f
                var sse: Float = 0
                for i in 0..<f { let e = prediction.p[o + i] - target.p[o + i]; sse += e * e }
                if isKept[p] { sumKept += Double(sse) } else { sumMasked += Double(sse) }
                let w: Float = isKept[p] ? (keptCount > 0 ? Float(2 * LossTerms.unmaskedWeight / Double(keptCount)) : 0)
                                         : (maskedCount > 0 ? Float(2 / Double(maskedCount)) : 0)
                for i in 0..<f { dPrediction.p[o + i] = w * (prediction.p[o + i] - target.p[o + i]) }
            }
        }
        return (sumMasked, sumKept)
    }

    /// Backward pass of the last ``forward`` (same arguments): writes the part's gradient with respect
    /// to every parameter of ``layout`` to `grads` (`[layout.totalCount]`, overwritten). The encoder
    /// layers' auxiliary-loss gradients must have been set for the whole batch first
    /// (``BlockActivations/setAuxiliary(importance:load:)``).
    package func backward(model: MoEMAEModel, meta: UnsafePointer<Float>?, tiles: Int, keep: UnsafePointer<Int32>, mode: TrainingMode,
                  grads: UnsafeMutablePointer<Float>) {
        guard let decoder = model.decoder else { preconditionFailure("training needs the decoder") }
        let encoder = model.encoder
        let d = config.embedDim, de = decoderConfig.embedDim, f = config.patchFeatures, np = config.patchCount
        let te = encoderTokens, td = decoderTokens, pre = ModelConfig.prefixTokens
        let r = tiles * te, rd = tiles * td
        let xL = residual[encoder.blocks.count].p, xdL = decoderResidual[decoder.blocks.count].p
        grads.update(repeating: 0, count: layout.totalCount)
        // ---- Backward: decoder_pred, decoder_norm, decoder blocks.
        decoder.pred.backward(input: decoderNorm.p, ldx: de, outputGradient: dPrediction.p, lddy: f, rows: tiles * np,
                              inputGradient: dDecoderNorm.p, lddx: de, accumulate: false,
                              dWeight: grads + layout.offset("decoder_pred.weight"), dBias: grads + layout.offset("decoder_pred.bias"))
        dxDecoder.p.update(repeating: 0, count: rd * de)
        for b in 0..<tiles {
            decoder.norm.backward(input: xdL + (b * td + pre) * de, ldx: de, outputGradient: dDecoderNorm.p + b * np * de, lddy: de,
                                  rows: np, addingTo: dxDecoder.p + (b * td + pre) * de, lddx: de,
                                  dWeight: grads + layout.offset("decoder_norm.weight"), dBias: grads + layout.offset("decoder_norm.bias"))
        }
        for (j, block) in decoder.blocks.enumerated().reversed() {
            block.trainingBackward(tiles: tiles, tokens: td, input: decoderResidual[j].p, dx: dxDecoder.p, act: decoderActs[j],
                                   mode: mode, auxiliaryWeight: 0, scratch: decoderScratch, grads: grads,
                                   offsets: layout.decoderBlocks[j])
        }
        // ---- Decoder input: positional embedding, mask token, back to the projected encoder tokens.
        let dMask = grads + layout.offset("mask_token"), dDecPos = grads + layout.offset("decoder_pos_embed")
        dDecoderIn.p.update(repeating: 0, count: r * de)
        for b in 0..<tiles {
            let src = dxDecoder.p + b * td * de, dst = dDecoderIn.p + b * te * de
            dst.update(from: src, count: pre * de)
            fillSlots(keep: keep + b * kept)
            for p in 0..<np {
                let row = src + (pre + p) * de
                TrainingKernels.axpy(1, row, dDecPos + p * de, de)
                let s = Int(slot.p[p])
                if s >= 0 { TrainingKernels.axpy(1, row, dst + (pre + s) * de, de) } else { TrainingKernels.axpy(1, row, dMask, de) }
            }
        }
        decoder.embed.backward(input: normalized.p, ldx: d, outputGradient: dDecoderIn.p, lddy: de, rows: r,
                               inputGradient: dNormalized.p, lddx: d, accumulate: false,
                               dWeight: grads + layout.offset("decoder_embed.weight"), dBias: grads + layout.offset("decoder_embed.bias"))
        // ---- Encoder: final norm, blocks (with the auxiliary loss at weight 0.5), embedding.
        dx.p.update(repeating: 0, count: r * d)
        encoder.norm.backward(input: xL, ldx: d, outputGradient: dNormalized.p, lddy: d, rows: r, addingTo: dx.p, lddx: d,
                              dWeight: grads + layout.offset("encoder.norm.weight"), dBias: grads + layout.offset("encoder.norm.bias"))
        for (l, block) in encoder.blocks.enumerated().reversed() {
            block.trainingBackward(tiles: tiles, tokens: te, input: residual[l].p, dx: dx.p, act: encoderActs[l], mode: mode,
                                   auxiliaryWeight: LossTerms.moeWeight, scratch: encoderScratch, grads: grads,
                                   offsets: layout.encoderBlocks[l])
        }
        let dPos = grads + layout.offset("encoder.pos_embed"), dCls = grads + layout.offset("encoder.cls_token")
        let metaNames = ["week", "hour", "lat", "lon"]
        for b in 0..<tiles {
            let base = dx.p + b * te * d
            for t in 0..<pre { TrainingKernels.axpy(1, base + t * d, dPos + t * d, d) }
            TrainingKernels.axpy(1, base + ModelConfig.clsIndex * d, dCls, d)
            for (j, name) in metaNames.enumerated() {
                let row = base + j * d
                TrainingKernels.axpy(1, row, grads + layout.offset("encoder.\(name)_proj.bias"), d)
                if let meta {
                    let a = meta[8 * b + 2 * j], c = meta[8 * b + 2 * j + 1]
                    let w = grads + layout.offset("encoder.\(name)_proj.weight")
                    for i in 0..<d { w[2 * i] += row[i] * a; w[2 * i + 1] += row[i] * c }
                }
            }
            for k in 0..<kept {
                let row = base + (pre + k) * d
                TrainingKernels.axpy(1, row, dPos + (pre + Int(keep[b * kept + k])) * d, d)
                (dPatch.p + (b * kept + k) * d).update(from: row, count: d)
            }
        }
        encoder.patchEmbedding.projection.backward(input: unfolded.p, ldx: f, outputGradient: dPatch.p, lddy: d, rows: tiles * kept,
                                                   inputGradient: nil, lddx: f, accumulate: false,
                                                   dWeight: grads + layout.offset("encoder.patch_proj.weight"),
                                                   dBias: grads + layout.offset("encoder.patch_proj.bias"))
    }

    /// `slot[p]` = position of patch p among the kept patches of one tile, or −1 if masked.
    private func fillSlots(keep: UnsafePointer<Int32>) {
        for p in 0..<config.patchCount { slot.p[p] = -1 }
        for k in 0..<kept { slot.p[Int(keep[k])] = Int32(k) }
    }
}
