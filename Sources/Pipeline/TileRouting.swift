/// Reductions of the router's choices that the expert maps show.
///
/// Token layout (docs/model.md, "Token sequence"): 105 tokens `[week, hour, lat, lon, CLS,
/// patch_0 … patch_99]`; patches are row-major over the 10×10 grid of 4×4-pixel patches. Routing is
/// `[L, T, K]` per tile with the K = 2 choices best first, as `embed` writes `experts`.
public enum TileRouting {
    /// Index of the first patch token.
    public static let firstPatchToken = 5
    /// Patches per tile side (40 px / 4 px).
    public static let patchesPerSide = 10

    /// For one tile and each layer, the expert that most of the 100 patch tokens chose first; ties go to
    /// the lower expert index. `routing` is `[L, T, K]`; writes L values into `out`.
    public static func majorityTopExpert(routing: UnsafeBufferPointer<UInt8>, layers: Int, tokens: Int, slots: Int,
                                         into out: UnsafeMutableBufferPointer<UInt8>) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 256) { counts in
            let patches = patchesPerSide * patchesPerSide
            for l in 0..<layers {
                // Only counts[0...maxExpert] are in use; zero new entries as larger indices appear.
                var maxExpert = 0
                counts[0] = 0
                for p in 0..<patches {
                    let e = Int(routing[(l * tokens + firstPatchToken + p) * slots])
                    if e > maxExpert { for i in (maxExpert + 1)...e { counts[i] = 0 }; maxExpert = e }
                    counts[e] += 1
                }
                var best = 0
                if maxExpert > 0 { for e in 1...maxExpert where counts[e] > counts[best] { best = e } }
                out[l] = UInt8(best)
            }
        }
    }

    /// The first choice of every patch token of layer `layer`, row-major 10×10, into `out` (100 values).
    public static func patchTopExperts(routing: UnsafeBufferPointer<UInt8>, layer: Int, tokens: Int, slots: Int,
                                       into out: UnsafeMutableBufferPointer<UInt8>) {
        for p in 0..<(patchesPerSide * patchesPerSide) {
            out[p] = routing[(layer * tokens + firstPatchToken + p) * slots]
        }
    }
}
