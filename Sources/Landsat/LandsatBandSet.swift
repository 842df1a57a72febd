/// One band of a scene as tiling reads it.
public struct LandsatBand: Sendable, Hashable {
    /// Name in datasets and manifests: `SR_B1` (Level-2 surface reflectance) or `B1` (Level-1 digital numbers).
    public let name: String
    /// The MTL band designation (`"1"`; key `FILE_NAME_BAND_1`).
    public let designation: String
    /// File name as listed in the MTL.
    public let fileName: String

    public init(name: String, designation: String, fileName: String) {
        self.name = name; self.designation = designation; self.fileName = fileName
    }
}

/// The bands a scene is tiled with, their order, and whether the model may read them.
///
/// Chosen from the MTL alone (docs/bands.md):
/// - OLI (Landsat 8/9): bands 1…7 — `SR_B1…SR_B7` for Level-2, `B1…B7` for Level-1. Panchromatic
///   band 8 (15 m), cirrus band 9 and thermal bands 10/11 are not in the set.
/// - TM/ETM+ (Landsat 4, 5, 7): reflective bands 1, 2, 3, 4, 5, 7 (thermal 6 and ETM+ panchromatic 8
///   left out) — six bands, so never model input.
/// - MSS: every numeric band listed (4-7 on Landsat 1-3, 1-4 on Landsat 4-5).
public struct LandsatBandSet: Sendable, Hashable {
    /// The model's bands, in the model's channel order (docs/model.md): Landsat 8/9 Collection 2
    /// Level-2 surface reflectance bands 1-7. The one declaration of this list: datasets, BigEarthNet
    /// patches, weights metadata and the model-input checks all refer to it.
    public static let modelBandNames = ["SR_B1", "SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6", "SR_B7"]

    /// Bands in tiling order.
    public let bands: [LandsatBand]
    /// The pixel quality band name (`QA_PIXEL` or `BQA`) and MTL file name, when the MTL lists one.
    public let qaFileName: String?
    public let qaKind: QAKind?
    public let modelReadiness: ModelReadiness

    /// Band names in order.
    public var names: [String] { bands.map(\.name) }

    /// Selects the band set of a product from its metadata.
    public init(metadata m: LandsatMetadata) {
        let level2 = m.isLevel2
        let prefix = level2 ? "SR_B" : "B"
        let wanted: [Int]
        switch m.sensor {
        case .oliTirs, .oli: wanted = Array(1...7)
        case .tm, .etm: wanted = [1, 2, 3, 4, 5, 7]
        case .mss, .tirs, .other:
            wanted = m.bandFileNames.keys.compactMap { Int($0) }.sorted()
        }
        var chosen: [LandsatBand] = []
        var missing: [Int] = []
        for n in wanted {
            if let file = m.bandFileNames[String(n)] {
                chosen.append(LandsatBand(name: "\(prefix)\(n)", designation: String(n), fileName: file))
            } else {
                missing.append(n)
            }
        }
        bands = chosen
        qaFileName = m.qaFileName
        qaKind = m.qaKind
        modelReadiness = Self.readiness(metadata: m, missing: missing)
    }

    private static func readiness(metadata m: LandsatMetadata, missing: [Int]) -> ModelReadiness {
        let product = "\(m.spacecraft) \(m.sensor.mtlName) \(m.processingLevel) (\(m.collection))"
        guard m.sensor.hasOLIBands, m.landsatNumber == 8 || m.landsatNumber == 9 else {
            switch m.sensor {
            case .tm, .etm:
                return .incompatible("\(product) has no coastal/aerosol band and its reflective bands 1-5, 7 are not the OLI bands 1-7")
            default:
                return .incompatible("\(product) does not have the OLI bands 1-7")
            }
        }
        if !missing.isEmpty {
            return .incompatible("the MTL lists no file for band\(missing.count > 1 ? "s" : "") \(missing.map(String.init).joined(separator: ", ")) (FILE_NAME_BAND_n)")
        }
        let level = m.processingLevel.uppercased()
        guard m.collection == .collection2, level == "L2SP" || level == "L2SR" else {
            if m.collection != .collection2 {
                return .requiresOverride("\(product) is a \(m.collection == .collection1 ? "Collection 1" : "pre-collection") product of \(m.isLevel2 ? "Level-2" : "Level-1 digital numbers"), not Collection 2 surface reflectance")
            }
            return .requiresOverride("\(product) holds Level-1 digital numbers (top of atmosphere), not Level-2 surface reflectance")
        }
        return .ready
    }
}
