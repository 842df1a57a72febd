/// Patch embedding: `Conv2d(C→D, kernel p, stride p)` computed as one GEMM over the unfolded
/// patches of the whole batch (docs/model.md, "Encoder forward" step 1).
///
/// An unfolded patch holds `C·p·p` values ordered channel, then row, then column (PyTorch
/// `F.unfold` order, feature `c·p² + i·p + j`), which is exactly the row-major flattening of the
/// convolution weight `[D, C, p, p]`; patches are numbered row-major over the grid.
public struct PatchEmbedding: Sendable {
    public let channels: Int
    public let imageSize: Int
    public let patchSize: Int
    /// Conv weight `[D, C, p, p]` viewed as a Linear `[D, C·p·p]`, and bias `[D]`.
    public internal(set) var projection: Linear

    public init(channels: Int, imageSize: Int, patchSize: Int, projection: Linear) {
        self.channels = channels; self.imageSize = imageSize; self.patchSize = patchSize; self.projection = projection
    }

    public var gridSize: Int { imageSize / patchSize }
    public var features: Int { channels * patchSize * patchSize }

    /// Unfolds patch `patch` of one image `[C, S, S]` into `out[features]` (F.unfold order).
    @inline(__always)
    public func unfold(image: UnsafePointer<Float>, patch: Int, into out: UnsafeMutablePointer<Float>) {
        let p = patchSize, s = imageSize
        let r0 = (patch / gridSize) * p, c0 = (patch % gridSize) * p
        var f = 0
        for c in 0..<channels {
            let plane = image + c * s * s
            for i in 0..<p {
                let row = plane + (r0 + i) * s + c0
                for j in 0..<p { out[f] = row[j]; f += 1 }
            }
        }
    }

    /// Embeds `perTile` patches of each of `tiles` images `[tiles, C, S, S]` into `ws.patchOut`
    /// `[tiles·perTile, D]`. `keep` (`[tiles, perTile]`, patch numbers) selects and orders the patches;
    /// nil means all patches in order.
    package func forward(images: UnsafePointer<Float>, tiles: Int, perTile: Int, keep: UnsafePointer<Int32>?, ws: Workspace) {
        let f = features, imageStride = channels * imageSize * imageSize
        for b in 0..<tiles {
            for k in 0..<perTile {
                let patch = keep.map { Int($0[b * perTile + k]) } ?? k
                unfold(image: images + b * imageStride, patch: patch, into: ws.patches + (b * perTile + k) * f)
            }
        }
        projection.forward(ws.patches, ldx: f, rows: tiles * perTile, into: ws.patchOut, ldy: projection.outFeatures)
    }
}
