/// Seeded random masking for the masked autoencoder (docs/model.md, "Decoder").
///
/// Like the reference: per tile draw one uniform noise value per patch, sort patches by noise
/// (ascending) and keep the first `int(100·(1−ratio))` in that order. The noise comes from SplitMix64
/// seeded with `seed` and the tile's index in the dataset, so a tile's mask does not depend on the
/// batch it falls in (it cannot equal PyTorch's `torch.rand` stream).
public enum PatchMask {
    /// Patches kept for `ratio` of `patchCount` (`int(patchCount·(1−ratio))`, at least 1).
    public static func keptCount(ratio: Double, patchCount: Int) -> Int {
        max(1, min(patchCount, Int(Double(patchCount) * (1 - ratio))))
    }

    /// The kept patch numbers of tile `tileIndex`, in encoder token order.
    public static func keep(tileIndex: Int, seed: UInt64, patchCount: Int, kept: Int) -> [Int32] {
        var state = seed &+ UInt64(truncatingIfNeeded: tileIndex) &* 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let noise = (0..<patchCount).map { _ in next() >> 11 }
        let order = (0..<patchCount).sorted { (noise[$0], $0) < (noise[$1], $1) }
        return order.prefix(kept).map { Int32($0) }
    }
}
