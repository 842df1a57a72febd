/// Which pixel quality band a Landsat product carries.
public enum QAKind: String, Sendable, Hashable, CustomStringConvertible {
    /// Collection 2 `QA_PIXEL` (MTL key `FILE_NAME_QUALITY_L1_PIXEL`), decoded by ``QAPixel``.
    case qaPixel = "QA_PIXEL"
    /// Collection 1 / pre-collection `BQA` (MTL key `FILE_NAME_BAND_QUALITY`), decoded by ``BQA``.
    case bqa = "BQA"

    /// The fill bit, common to both: bit 0 (`QA_PIXEL` "Fill", `BQA` "Designated Fill").
    public static let fillMask: UInt16 = 1 << 0

    /// True when `value` marks a fill pixel (bit 0 set) — the same bit in both kinds.
    @inlinable
    public func isFill(_ value: UInt16) -> Bool { value & QAKind.fillMask != 0 }

    public var description: String { rawValue }
}

/// Confidence levels of the two-bit fields of `QA_PIXEL` and `BQA`.
public enum QAConfidence: UInt8, Sendable, Hashable {
    /// 0b00: not determined / none.
    case none = 0
    /// 0b01.
    case low = 1
    /// 0b10 (cloud confidence only; reserved for the other fields in `QA_PIXEL`).
    case medium = 2
    /// 0b11.
    case high = 3
}

/// One `QA_PIXEL` value of a Collection 2 product (Level-1 and Level-2 carry the same band).
///
/// Bit layout from the QA_PIXEL bit table of the Landsat 8-9 Collection 2 Level 2 Science Product Guide
/// (LSDS-1619) and the Landsat 8-9 OLI/TIRS C2 L2 DFCB (LSDS-1328);
/// values are produced by CFMask. For Landsat 4-7 (LSDS-1618) bit 2 (cirrus) and bits 14-15 (cirrus
/// confidence) are unused and always 0.
///
/// | bit | meaning |
/// |---|---|
/// | 0 | fill |
/// | 1 | dilated cloud |
/// | 2 | cirrus (high confidence) |
/// | 3 | cloud |
/// | 4 | cloud shadow |
/// | 5 | snow |
/// | 6 | clear (neither cloud nor dilated cloud) |
/// | 7 | water |
/// | 8-9 | cloud confidence |
/// | 10-11 | cloud shadow confidence |
/// | 12-13 | snow/ice confidence |
/// | 14-15 | cirrus confidence |
public struct QAPixel: Sendable, Hashable {
    public let rawValue: UInt16
    @inlinable public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let fillBit = 0
    public static let dilatedCloudBit = 1
    public static let cirrusBit = 2
    public static let cloudBit = 3
    public static let cloudShadowBit = 4
    public static let snowBit = 5
    public static let clearBit = 6
    public static let waterBit = 7

    @inlinable func bit(_ n: Int) -> Bool { rawValue & (1 << n) != 0 }
    @inlinable func confidence(at n: Int) -> QAConfidence {
        QAConfidence(rawValue: UInt8(truncatingIfNeeded: (rawValue >> n) & 0b11)) ?? .none
    }

    /// Bit 0: no data (outside the imaged footprint).
    @inlinable public var isFill: Bool { bit(QAPixel.fillBit) }
    /// Bit 1: cloud dilated by CFMask's buffer.
    @inlinable public var isDilatedCloud: Bool { bit(QAPixel.dilatedCloudBit) }
    /// Bit 2: high-confidence cirrus (OLI band 9; Landsat 8-9 only).
    @inlinable public var isCirrus: Bool { bit(QAPixel.cirrusBit) }
    /// Bit 3: high-confidence cloud.
    @inlinable public var isCloud: Bool { bit(QAPixel.cloudBit) }
    /// Bit 4: high-confidence cloud shadow.
    @inlinable public var isCloudShadow: Bool { bit(QAPixel.cloudShadowBit) }
    /// Bit 5: high-confidence snow.
    @inlinable public var isSnow: Bool { bit(QAPixel.snowBit) }
    /// Bit 6: clear — set when bits 1 and 3 (dilated cloud, cloud) are both unset.
    @inlinable public var isClear: Bool { bit(QAPixel.clearBit) }
    /// Bit 7: water.
    @inlinable public var isWater: Bool { bit(QAPixel.waterBit) }
    /// Bits 8-9.
    public var cloudConfidence: QAConfidence { confidence(at: 8) }
    /// Bits 10-11.
    public var cloudShadowConfidence: QAConfidence { confidence(at: 10) }
    /// Bits 12-13.
    public var snowIceConfidence: QAConfidence { confidence(at: 12) }
    /// Bits 14-15 (Landsat 8-9).
    public var cirrusConfidence: QAConfidence { confidence(at: 14) }
}

/// One `BQA` value of a Collection 1 or pre-collection product.
///
/// Only bit 0 ("Designated Fill") has the same meaning in every generation: the other bits moved
/// between pre-collection Landsat 8 (Landsat 8 Data Users Handbook v1, QA band: bits 4-5 water,
/// 10-11 snow/ice, 12-13 cirrus, 14-15 cloud confidence) and Collection 1 (Landsat Collection 1
/// Level-1 Quality Assessment Band, USGS: bit 4 cloud, 5-6 cloud confidence, 7-8 cloud shadow,
/// 9-10 snow/ice, 11-12 cirrus confidence). We therefore decode fill only; it is all tiling needs.
public struct BQA: Sendable, Hashable {
    public let rawValue: UInt16
    @inlinable public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// Bit 0: designated fill (no data).
    @inlinable public var isFill: Bool { rawValue & 1 != 0 }
}
