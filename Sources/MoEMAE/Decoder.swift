/// The masked-autoencoder decoder (docs/model.md, "Decoder").
///
/// `decoder_embed` (D→D') on the encoder's normalised tokens; the decoder sequence is the 5
/// projected metadata+CLS tokens (no positional embedding) followed by the 100 patch slots in
/// their original order — kept patches projected, masked ones the learned `mask_token` — plus
/// `decoder_pos_embed` on the patch slots; then the blocks, `decoder_norm`, and `decoder_pred`
/// (D'→112) on the patch slots: the predicted z-scored pixels of each patch in unfold order.
public struct Decoder: Sendable {
    public let config: ModelConfig.DecoderConfig
    public let patchCount: Int
    public internal(set) var embed: Linear
    /// `mask_token` [D'].
    public let maskToken: [Float]
    /// `decoder_pos_embed` [100, D'].
    public let positionEmbedding: [Float]
    public internal(set) var blocks: [EncoderBlock]
    public let norm: LayerNorm
    public internal(set) var pred: Linear

    public init(config: ModelConfig.DecoderConfig, patchCount: Int, embed: Linear, maskToken: [Float], positionEmbedding: [Float],
                blocks: [EncoderBlock], norm: LayerNorm, pred: Linear) {
        self.config = config; self.patchCount = patchCount; self.embed = embed; self.maskToken = maskToken
        self.positionEmbedding = positionEmbedding; self.blocks = blocks; self.norm = norm; self.pred = pred
    }

    /// Reconstructs `tiles` tiles.
    ///
    /// - Parameters:
    ///   - encoded: the encoder's normalised tokens `[tiles, 5 + kept, D]` (row stride D).
    ///   - keep: `[tiles, kept]` kept patch numbers in encoder token order; nil = all patches in order.
    ///   - ws: a decoder workspace (``Workspace/init(decoder:maxTiles:)``).
    ///   - prediction: output `[tiles, 100, 112]`.
    public func forward(encoded: UnsafePointer<Float>, tiles: Int, keep: UnsafePointer<Int32>?, kept: Int,
                        ws: Workspace, prediction: UnsafeMutablePointer<Float>) {
        let de = config.embedDim, inTokens = ModelConfig.prefixTokens + kept
        let tokens = ModelConfig.prefixTokens + patchCount
        precondition(tiles <= ws.maxTiles && tokens <= ws.maxTokens && ws.dim == de, "decoder workspace too small")
        // Project all encoder tokens in one GEMM (into ws.gathered, [tiles·inTokens, D']).
        embed.forward(encoded, ldx: embed.inFeatures, rows: tiles * inTokens, into: ws.gathered, ldy: de)
        let slot = ws.listToken   // patch → kept position (or -1), reused scratch of ≥ 100 entries
        maskToken.withUnsafeBufferPointer { mask in
            positionEmbedding.withUnsafeBufferPointer { pos in
                for b in 0..<tiles {
                    let src = ws.gathered + b * inTokens * de
                    let dst = ws.x + b * tokens * de
                    dst.update(from: src, count: ModelConfig.prefixTokens * de)
                    for p in 0..<patchCount { slot[p] = -1 }
                    for k in 0..<kept {
                        let p = keep.map { Int($0[b * kept + k]) } ?? k
                        slot[p] = Int32(k)
                    }
                    for p in 0..<patchCount {
                        let row = dst + (ModelConfig.prefixTokens + p) * de
                        if slot[p] >= 0 {
                            row.update(from: src + (ModelConfig.prefixTokens + Int(slot[p])) * de, count: de)
                        } else {
                            row.update(from: mask.baseAddress!, count: de)
                        }
                        VectorKernels.addRows(row, ld: de, rows: 1, n: de, pos.baseAddress! + p * de)
                    }
                }
            }
        }
        for block in blocks { block.forward(tiles: tiles, tokens: tokens, ws: ws) }
        // Normalise only the patch slots, packed as [tiles·100, D'] for one prediction GEMM.
        for b in 0..<tiles {
            norm.forward(ws.x + (b * tokens + ModelConfig.prefixTokens) * de, ldx: de, rows: patchCount,
                         into: ws.patches + b * patchCount * de, ldo: de)
        }
        pred.forward(ws.patches, ldx: de, rows: tiles * patchCount, into: prediction, ldy: pred.outFeatures)
    }
}
