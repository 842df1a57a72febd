/// The four metadata tokens: week, hour, lat and lon 2-vectors `(sin, cos)` each through its own
/// `Linear(2, D)` (docs/model.md, "Encoder forward" step 2). Missing metadata is the zero vector,
/// so the token equals the Linear's bias.
public struct MetadataEmbedding: Sendable {
    /// week, hour, lat, lon projections, in token order.
    public let projections: [Linear]

    public init(week: Linear, hour: Linear, lat: Linear, lon: Linear) {
        projections = [week, hour, lat, lon]
    }

    /// Writes token j (0…3) of one tile, `W_j·meta[2j..<2j+2] + b_j`, to `out + j·ld`;
    /// `meta` nil means no metadata.
    @inline(__always)
    package func forward(meta: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>, ld: Int) {
        for (j, lin) in projections.enumerated() {
            let o = out + j * ld
            let a = meta?[2 * j] ?? 0, c = meta?[2 * j + 1] ?? 0
            lin.weight.withUnsafeBufferPointer { w in
                lin.bias.withUnsafeBufferPointer { bias in
                    for d in 0..<lin.outFeatures { o[d] = w[2 * d] * a + w[2 * d + 1] * c + bias[d] }
                }
            }
        }
    }
}
