/// The MoE-MAE encoder (docs/model.md, "Encoder forward").
///
/// Token sequence per tile: `[week, hour, lat, lon, CLS, patch_0 … patch_99]` (CLS at index 4)
/// plus the learned `pos_embed`; then the pre-norm blocks and a final LayerNorm. With a mask
/// (`keep`), only the kept patches follow CLS, each with its own `pos_embed` row.
///
/// All tiles of a batch are processed together: every Linear is one GEMM over
/// `tiles · tokens` rows. Activations live in a ``Workspace``; after ``forward`` the
/// un-normalised tokens are in `ws.x` and the normalised ones in `ws.xn` (`[tiles, tokens, D]`).
public struct Encoder: Sendable {
    public let config: ModelConfig
    public internal(set) var patchEmbedding: PatchEmbedding
    public let metadataEmbedding: MetadataEmbedding
    /// `cls_token` [D].
    public let clsToken: [Float]
    /// `pos_embed` [105, D].
    public let positionEmbedding: [Float]
    public internal(set) var blocks: [EncoderBlock]
    /// The final LayerNorm (`encoder.norm`).
    public let norm: LayerNorm

    public init(config: ModelConfig, patchEmbedding: PatchEmbedding, metadataEmbedding: MetadataEmbedding,
                clsToken: [Float], positionEmbedding: [Float], blocks: [EncoderBlock], norm: LayerNorm) {
        self.config = config; self.patchEmbedding = patchEmbedding; self.metadataEmbedding = metadataEmbedding
        self.clsToken = clsToken; self.positionEmbedding = positionEmbedding; self.blocks = blocks; self.norm = norm
    }

    public var dim: Int { config.embedDim }

    /// Builds the token sequence of `tiles` tiles in `ws.x`.
    ///
    /// - Parameters:
    ///   - images: normalised pixels `[tiles, C, S, S]` (``InputEncoding``).
    ///   - meta: `[tiles, 8]` encoded metadata, or nil for none (zero vectors).
    ///   - keep: `[tiles, kept]` patch numbers to keep, in token order; nil keeps all patches in order.
    package func embed(images: UnsafePointer<Float>, meta: UnsafePointer<Float>?, tiles: Int, keep: UnsafePointer<Int32>?, kept: Int,
               ws: Workspace) {
        let d = dim, tokens = ModelConfig.prefixTokens + kept
        patchEmbedding.forward(images: images, tiles: tiles, perTile: kept, keep: keep, ws: ws)
        positionEmbedding.withUnsafeBufferPointer { posBuf in
            clsToken.withUnsafeBufferPointer { cls in
                let pos = posBuf.baseAddress!
                for b in 0..<tiles {
                    let base = ws.x + b * tokens * d
                    metadataEmbedding.forward(meta: meta.map { $0 + 8 * b }, into: base, ld: d)
                    (base + ModelConfig.clsIndex * d).update(from: cls.baseAddress!, count: d)
                    for r in 0..<ModelConfig.prefixTokens {
                        VectorKernels.addRows(base + r * d, ld: d, rows: 1, n: d, pos + r * d)
                    }
                    for k in 0..<kept {
                        let patch = keep.map { Int($0[b * kept + k]) } ?? k
                        let row = base + (ModelConfig.prefixTokens + k) * d
                        row.update(from: ws.patchOut + (b * kept + k) * d, count: d)
                        VectorKernels.addRows(row, ld: d, rows: 1, n: d, pos + (ModelConfig.prefixTokens + patch) * d)
                    }
                }
            }
        }
    }

    /// Runs the encoder on `tiles` tiles: after it, `ws.x` holds the tokens after the last block and
    /// `ws.xn` the same after the final LayerNorm, `[tiles, 5 + kept, D]`.
    ///
    /// - Parameters:
    ///   - experts, gates: optional outputs `[tiles, L, 5 + kept, 2]`: per layer and token the two
    ///     chosen experts, largest gate first, and their gate weights.
    public func forward(images: UnsafePointer<Float>, meta: UnsafePointer<Float>?, tiles: Int,
                        keep: UnsafePointer<Int32>? = nil, kept: Int? = nil, ws: Workspace,
                        experts: UnsafeMutablePointer<UInt8>? = nil, gates: UnsafeMutablePointer<Float>? = nil) {
        let kept = keep == nil ? config.patchCount : (kept ?? config.patchCount)
        let tokens = ModelConfig.prefixTokens + kept
        precondition(tiles <= ws.maxTiles && tokens <= ws.maxTokens && ws.dim == dim, "workspace too small for this batch")
        embed(images: images, meta: meta, tiles: tiles, keep: keep, kept: kept, ws: ws)
        let layers = blocks.count
        for (l, block) in blocks.enumerated() {
            block.forward(tiles: tiles, tokens: tokens, ws: ws)
            if experts != nil || gates != nil {
                for b in 0..<tiles {
                    let dst = (b * layers + l) * tokens * 2, src = b * tokens * 2
                    if let experts {
                        for i in 0..<(2 * tokens) { experts[dst + i] = UInt8(truncatingIfNeeded: ws.routeExpert[src + i]) }
                    }
                    if let gates { (gates + dst).update(from: ws.routeGate + src, count: 2 * tokens) }
                }
            }
        }
        norm.forward(ws.x, ldx: dim, rows: tiles * tokens, into: ws.xn, ldo: dim)
    }
}
