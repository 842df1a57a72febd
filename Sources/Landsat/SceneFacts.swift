import Foundation

/// The Landsat mission that acquired a scene, from the MTL's `SPACECRAFT_ID`.
public enum LandsatSpacecraft: Sendable, Hashable, CustomStringConvertible {
    /// Landsat 1…9 (`LANDSAT_8`; old files write `Landsat7`).
    case landsat(Int)
    /// Any other value, kept as written.
    case other(String)

    /// Interprets a `SPACECRAFT_ID` (`LANDSAT_8`, `Landsat7`); a value naming no mission number is kept.
    public init(mtlValue: String) {
        let digits = mtlValue.filter(\.isNumber)
        if mtlValue.uppercased().hasPrefix("LANDSAT"), let n = Int(digits) { self = .landsat(n) } else { self = .other(mtlValue) }
    }

    /// The Collection 2 spelling: `LANDSAT_8`.
    public var mtlName: String {
        switch self {
        case .landsat(let n): return "LANDSAT_\(n)"
        case .other(let s): return s
        }
    }

    /// STAC `platform` (`landsat-8`; STAC Landsat extension), nil when the spacecraft is unknown.
    public var stacPlatform: String? {
        mtlName.isEmpty ? nil : mtlName.lowercased().replacingOccurrences(of: "_", with: "-")
    }

    public var description: String { mtlName }
}

/// The processing level of a Landsat product: `PROCESSING_LEVEL` (Collection 2) or `DATA_TYPE` /
/// `PRODUCT_TYPE` (Collection 1, pre-collection). Landsat 8-9 C2 L2 DFCB (LSDS-1328) and C2 L1 DFCB
/// (LSDS-1822).
public enum LandsatProcessingLevel: Sendable, Hashable, CustomStringConvertible {
    /// Level-2 science product: surface reflectance and surface temperature.
    case l2sp
    /// Level-2 surface reflectance only (no surface temperature, e.g. polar scenes).
    case l2sr
    /// Level-1 precision and terrain corrected.
    case l1tp
    /// Level-1 systematic terrain corrected.
    case l1gt
    /// Level-1 systematic.
    case l1gs
    /// Pre-collection Level-1 terrain corrected.
    case l1t
    /// Any other value, kept as written.
    case other(String)

    /// Interprets the MTL value (case-insensitive).
    public init(mtlValue: String) {
        switch mtlValue.uppercased() {
        case "L2SP": self = .l2sp
        case "L2SR": self = .l2sr
        case "L1TP": self = .l1tp
        case "L1GT": self = .l1gt
        case "L1GS": self = .l1gs
        case "L1T": self = .l1t
        default: self = .other(mtlValue)
        }
    }

    /// The MTL spelling (`L2SP`).
    public var mtlName: String {
        switch self {
        case .l2sp: return "L2SP"
        case .l2sr: return "L2SR"
        case .l1tp: return "L1TP"
        case .l1gt: return "L1GT"
        case .l1gs: return "L1GS"
        case .l1t: return "L1T"
        case .other(let s): return s
        }
    }

    /// True for Level-2 products (surface reflectance bands).
    public var isLevel2: Bool { mtlName.uppercased().hasPrefix("L2") }

    public var description: String { mtlName }
}

/// What is known about one scene (or one BigEarthNet patch) independently of its pixels: the facts a
/// dataset manifest, a map's STAC Item and the run summary record. Typed here; strings only where a
/// file format needs them (``DatasetManifest``'s `id`, `sensor`, `spacecraft`, `collection`, `level`,
/// `acquired`).
public struct SceneFacts: Sendable, Hashable {
    /// Landsat product id (`LC08_L2SP_…_02_T1`; pre-collection: the scene id) or a patch's file stem.
    public var id: String
    public var spacecraft: LandsatSpacecraft
    public var sensor: LandsatSensor
    public var collection: LandsatCollection
    public var processingLevel: LandsatProcessingLevel
    /// Acquisition time in UTC with the fraction digits that are recorded (two for Landsat scenes,
    /// `2015-08-04T16:19:21.79Z`, none for BigEarthNet patches). The tiles' hour keeps the MTL's full
    /// precision (``SceneFacts`` does not feed the model).
    public var acquisition: AcquisitionTime

    public init(id: String, spacecraft: LandsatSpacecraft, sensor: LandsatSensor, collection: LandsatCollection,
                processingLevel: LandsatProcessingLevel, acquisition: AcquisitionTime) {
        self.id = id; self.spacecraft = spacecraft; self.sensor = sensor; self.collection = collection
        self.processingLevel = processingLevel; self.acquisition = acquisition
    }

    /// The facts of a Landsat product, its acquisition time kept to `fractionDigits` digits
    /// (truncated; the manifest contract records two).
    public init(metadata m: LandsatMetadata, fractionDigits: Int = 2) {
        self.init(id: m.productID, spacecraft: LandsatSpacecraft(mtlValue: m.spacecraft), sensor: m.sensor,
                  collection: m.collection, processingLevel: LandsatProcessingLevel(mtlValue: m.processingLevel),
                  acquisition: m.acquisition.truncated(fractionDigits: fractionDigits))
    }

    /// The acquisition instant at millisecond resolution (the resolution of STAC `datetime`), computed
    /// from the exact components as `Date(timeIntervalSince1970: milliseconds / 1000)`.
    public var acquired: Date {
        let a = acquisition
        let days = GregorianDate.daysSince1970(year: a.year, month: a.month, day: a.day)
        let milliseconds = (days * 86_400 + a.hour * 3_600 + a.minute * 60 + a.second) * 1_000 + a.nanosecond / 1_000_000
        return Date(timeIntervalSince1970: Double(milliseconds) / 1_000)
    }
}

extension AcquisitionTime {
    /// The same time with at most `digits` fraction digits (truncated, not rounded).
    public func truncated(fractionDigits digits: Int) -> AcquisitionTime {
        AcquisitionTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second,
                        fractionDigits: String(fractionDigits.prefix(max(0, digits))))!
    }

    /// Parses ISO-8601 UTC text as the manifests write it: `2015-08-04T16:19:21.79Z` (any number of
    /// fraction digits, or none; `Z` required). Returns nil for any other form or an impossible time.
    public init?(iso8601 text: String) {
        let parts = text.split(separator: "T", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, text.hasSuffix("Z") else { return nil }
        self.init(date: String(parts[0]), time: String(parts[1]))
    }
}
