/// The instrument that acquired a Landsat scene, from the MTL's `SENSOR_ID`.
public enum LandsatSensor: Sendable, Hashable, CustomStringConvertible {
    /// Operational Land Imager and Thermal Infrared Sensor (Landsat 8, 9): `OLI_TIRS`.
    case oliTirs
    /// OLI only (`OLI`; products acquired without TIRS).
    case oli
    /// TIRS only (`TIRS`).
    case tirs
    /// Enhanced Thematic Mapper Plus (Landsat 7): `ETM` in Collection 2, `ETM+` in older files.
    case etm
    /// Thematic Mapper (Landsat 4, 5): `TM`.
    case tm
    /// Multispectral Scanner (Landsat 1-5): `MSS`.
    case mss
    /// Any other value, kept as written.
    case other(String)

    /// Interprets an MTL `SENSOR_ID` (case-insensitive).
    public init(mtlValue: String) {
        switch mtlValue.uppercased() {
        case "OLI_TIRS", "OLI/TIRS": self = .oliTirs
        case "OLI": self = .oli
        case "TIRS": self = .tirs
        case "ETM", "ETM+": self = .etm
        case "TM": self = .tm
        case "MSS": self = .mss
        default: self = .other(mtlValue)
        }
    }

    /// The Collection 2 spelling (`OLI_TIRS`, `ETM`, `TM`, …).
    public var mtlName: String {
        switch self {
        case .oliTirs: return "OLI_TIRS"
        case .oli: return "OLI"
        case .tirs: return "TIRS"
        case .etm: return "ETM"
        case .tm: return "TM"
        case .mss: return "MSS"
        case .other(let s): return s
        }
    }

    /// True for OLI data (OLI_TIRS or OLI): the sensor with coastal/aerosol band 1 whose bands
    /// 1-7 are the model's band set.
    public var hasOLIBands: Bool { self == .oliTirs || self == .oli }

    /// STAC `instruments` (STAC Landsat extension): the lower-case parts of the MTL name
    /// (`OLI_TIRS` → `oli`, `tirs`); nil when the sensor is unknown.
    public var stacInstruments: [String]? {
        let parts = mtlName.lowercased().split(separator: "_").map(String.init).filter { !$0.isEmpty }
        return parts.isEmpty ? nil : parts
    }

    public var description: String { mtlName }
}

/// The Landsat archive generation a product belongs to.
///
/// Collection 2 (2020-) and Collection 1 (2016-2022) products carry a `LANDSAT_PRODUCT_ID`
/// (`LC08_L2SP_…_02_T1`); pre-collection products (before 2016) only a `LANDSAT_SCENE_ID`
/// (`LC80200392015216LGN00`).
public enum LandsatCollection: String, Sendable, Hashable, CustomStringConvertible {
    case collection2 = "C2"
    case collection1 = "C1"
    case preCollection = "pre-collection"

    public var description: String { rawValue }
}
