import Foundation

/// The 19-class BigEarthNet nomenclature (Sumbul et al., 2021, "BigEarthNet-MM", Table 1; the
/// published MoE-MAE BigEarthNet-Landsat probe uses it) and its mapping from the 43 CORINE Land Cover
/// level-3 labels that BigEarthNet label files name (docs/bigearthnet.md in the shared docs).
///
/// Colours: the official CORINE Land Cover legend colour (EEA, `clc_legend`) of one listed member of each
/// class, given with its CLC code in ``classes``' comments and in docs/probes.md.
public enum BigEarthNetNomenclature {
    /// The 19 classes in index order.
    public static let classes: [ProbeClass] = [
        ProbeClass(name: "Urban fabric", color: RGB(230, 0, 77)),                  // 111
        ProbeClass(name: "Industrial or commercial units", color: RGB(204, 77, 242)),  // 121
        ProbeClass(name: "Arable land", color: RGB(255, 255, 168)),               // 211
        ProbeClass(name: "Permanent crops", color: RGB(230, 128, 0)),             // 221
        ProbeClass(name: "Pastures", color: RGB(230, 230, 77)),                   // 231
        ProbeClass(name: "Complex cultivation patterns", color: RGB(255, 230, 77)),  // 242
        ProbeClass(name: "Land principally occupied by agriculture, with significant areas of natural vegetation",
                   color: RGB(230, 204, 77)),                                      // 243
        ProbeClass(name: "Agro-forestry areas", color: RGB(242, 204, 166)),       // 244
        ProbeClass(name: "Broad-leaved forest", color: RGB(128, 255, 0)),         // 311
        ProbeClass(name: "Coniferous forest", color: RGB(0, 166, 0)),             // 312
        ProbeClass(name: "Mixed forest", color: RGB(77, 255, 0)),                 // 313
        ProbeClass(name: "Natural grassland and sparsely vegetated areas", color: RGB(204, 242, 77)),  // 321
        ProbeClass(name: "Moors, heathland and sclerophyllous vegetation", color: RGB(166, 255, 128)),  // 322
        ProbeClass(name: "Transitional woodland, shrub", color: RGB(166, 242, 0)),  // 324
        ProbeClass(name: "Beaches, dunes, sands", color: RGB(230, 230, 230)),     // 331
        ProbeClass(name: "Inland wetlands", color: RGB(166, 166, 255)),           // 411
        ProbeClass(name: "Coastal wetlands", color: RGB(204, 204, 255)),          // 421
        ProbeClass(name: "Inland waters", color: RGB(0, 204, 242)),               // 511
        ProbeClass(name: "Marine waters", color: RGB(230, 242, 255)),             // 523
    ]

    /// The 43 CORINE level-3 labels as BigEarthNet label files spell them → 19-class index, or nil for
    /// the 11 labels without a 19-class target (dropped).
    public static let corineToClass: [String: Int?] = [
        "Continuous urban fabric": 0, "Discontinuous urban fabric": 0,
        "Industrial or commercial units": 1,
        "Non-irrigated arable land": 2, "Permanently irrigated land": 2, "Rice fields": 2,
        "Vineyards": 3, "Fruit trees and berry plantations": 3, "Olive groves": 3,
        "Annual crops associated with permanent crops": 3,
        "Pastures": 4,
        "Complex cultivation patterns": 5,
        "Land principally occupied by agriculture, with significant areas of natural vegetation": 6,
        "Agro-forestry areas": 7,
        "Broad-leaved forest": 8,
        "Coniferous forest": 9,
        "Mixed forest": 10,
        "Natural grassland": 11, "Sparsely vegetated areas": 11,
        "Moors and heathland": 12, "Sclerophyllous vegetation": 12,
        "Transitional woodland/shrub": 13,
        "Beaches, dunes, sands": 14,
        "Inland marshes": 15, "Peatbogs": 15,
        "Salt marshes": 16, "Salines": 16,
        "Water courses": 17, "Water bodies": 17,
        "Coastal lagoons": 18, "Estuaries": 18, "Sea and ocean": 18,
        "Road and rail networks and associated land": nil, "Port areas": nil, "Airports": nil,
        "Mineral extraction sites": nil, "Dump sites": nil, "Construction sites": nil,
        "Green urban areas": nil, "Sport and leisure facilities": nil, "Bare rock": nil,
        "Burnt areas": nil, "Intertidal flats": nil,
    ]

    /// The result of looking up one label name.
    public enum Lookup: Equatable {
        /// A 19-class index.
        case mapped(Int)
        /// One of the 11 CORINE labels without a 19-class target.
        case dropped
        /// Neither a CORINE label nor a 19-class name.
        case unknown
    }

    private static let normalizedCorine: [String: Int?] = Dictionary(
        uniqueKeysWithValues: corineToClass.map { (normalize($0.key), $0.value) })
    private static let normalizedClasses: [String: Int] = Dictionary(
        uniqueKeysWithValues: classes.enumerated().map { (normalize($1.name), $0) })

    /// Maps a label as a label file names it: one of the 43 CORINE labels, or (for files already in the
    /// 19-class nomenclature) one of the 19 class names. Case and surrounding spaces are ignored.
    public static func lookup(_ label: String) -> Lookup {
        let key = normalize(label)
        if let entry = normalizedCorine[key] {
            if let index = entry { return .mapped(index) }
            return .dropped
        }
        if let index = normalizedClasses[key] { return .mapped(index) }
        return .unknown
    }

    private static func normalize(_ s: String) -> String {
        s.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }
}
