import ContentDigest
import Foundation

/// A deterministic train/test split by hash, so that `probe fit` and `probe eval` select complementary
/// tiles without storing a list.
///
/// A tile is in the test part when `SHA-1(key)`, its first 8 bytes read as a big-endian unsigned
/// integer and divided by 2⁶⁴, is below `testFraction`. The key is the scene id (``Unit/scene``: all tiles
/// of a scene, e.g. one BigEarthNet patch, fall on the same side) or `"<scene id>/<row>/<col>"`
/// (``Unit/tile``). SHA-1 serves only as a well-mixed, reproducible hash here (Python:
/// `int.from_bytes(hashlib.sha1(key.encode()).digest()[:8], "big") / 2**64 < fraction`).
public struct TileSplit: Sendable, Equatable {
    public enum Part: String, Sendable, CaseIterable { case train, test }
    public enum Unit: String, Sendable, CaseIterable { case scene, tile }

    public var testFraction: Double
    public var unit: Unit

    public init(testFraction: Double, unit: Unit) {
        self.testFraction = testFraction; self.unit = unit
    }

    public func key(sceneID: String, row: Int, col: Int) -> String {
        unit == .scene ? sceneID : "\(sceneID)/\(row)/\(col)"
    }

    /// The part a tile belongs to.
    public func part(sceneID: String, row: Int, col: Int) -> Part {
        Self.position(of: key(sceneID: sceneID, row: row, col: col)) < testFraction ? .test : .train
    }

    /// The key's place in [0, 1).
    public static func position(of key: String) -> Double {
        let digest = MessageDigest.hash(.sha1, data: Data(key.utf8))
        var v: UInt64 = 0
        for b in digest.prefix(8) { v = v << 8 | UInt64(b) }
        return Double(v) / 18_446_744_073_709_551_616.0
    }
}
