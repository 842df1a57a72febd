import Foundation

/// The typed content of a Landsat MTL metadata file, whichever its encoding and generation.
///
/// Reads Collection 2 files (root group `LANDSAT_METADATA_FILE`; Landsat 8-9 OLI/TIRS C2 L2 DFCB, LSDS-1328;
/// Landsat 8-9 OLI/TIRS C2 L1 DFCB, LSDS-1822; the matching DFCBs of TM, ETM+ and MSS) and Collection 1 / pre-collection
/// files (root `L1_METADATA_FILE` with `METADATA_FILE_INFO`, `PRODUCT_METADATA`, …; the oldest files use
/// `ACQUISITION_DATE`, `SCENE_CENTER_SCAN_TIME`, `PRODUCT_TYPE`, `BANDn_FILE_NAME`).
///
/// Every value is taken from an explicit group: the product's own file names from `PRODUCT_CONTENTS`
/// (never from the `LEVEL1_PROCESSING_RECORD` of the Level-1 product it was made from), surface
/// reflectance scaling from `LEVEL2_SURFACE_REFLECTANCE_PARAMETERS` (never the Level-1 TOA
/// `REFLECTANCE_MULT_BAND_n`).
public struct LandsatMetadata: Sendable {
    /// The MTL file read (as given).
    public let source: String
    /// Its encoding.
    public let format: MTLDocument.Format

    /// `LANDSAT_PRODUCT_ID` (`LC08_L2SP_008059_20191201_20200825_02_T1`); for pre-collection products the
    /// `LANDSAT_SCENE_ID` (`LC80200392015216LGN00`); for the oldest files without either, the MTL file
    /// name without `_MTL.*`.
    public let productID: String
    /// `LANDSAT_SCENE_ID` when the file has one (`LC80080592019335LGN00`).
    public let sceneID: String?
    public let collection: LandsatCollection
    /// `COLLECTION_CATEGORY`: `T1`, `T2`, `RT` (nil for pre-collection).
    public let collectionCategory: String?
    /// `PROCESSING_LEVEL` (C2: `L2SP`, `L2SR`, `L1TP`, `L1GT`, `L1GS`) or `DATA_TYPE`/`PRODUCT_TYPE`
    /// (C1 and pre-collection: `L1TP`, `L1T`, `L1GT`, …).
    public let processingLevel: String
    /// Normalised `SPACECRAFT_ID`: `LANDSAT_8` (old files write `Landsat7`).
    public let spacecraft: String
    /// The Landsat mission number (1…9), nil if `SPACECRAFT_ID` names none.
    public let landsatNumber: Int?
    public let sensor: LandsatSensor
    /// `DATE_ACQUIRED` + `SCENE_CENTER_TIME`, UTC.
    public let acquisition: AcquisitionTime
    /// `WRS_PATH`, `WRS_ROW` (Worldwide Reference System 1 or 2).
    public let wrsPath: Int?
    public let wrsRow: Int?
    /// `CLOUD_COVER`, percent of the scene (−1 when USGS could not compute it).
    public let cloudCover: Double?

    /// The product's band files by band designation: `"1"` … `"11"` from `FILE_NAME_BAND_n`,
    /// `"ST_B10"`, `"6_VCID_1"`, or from old `BANDn_FILE_NAME` keys (`"61"`). File names, relative to
    /// the MTL's folder.
    public let bandFileNames: [String: String]
    /// The pixel quality band: `FILE_NAME_QUALITY_L1_PIXEL` (`QA_PIXEL`, Collection 2) or
    /// `FILE_NAME_BAND_QUALITY` (`BQA`, Collection 1 and pre-collection Landsat 8).
    public let qaFileName: String?
    /// Which quality band `qaFileName` is.
    public let qaKind: QAKind?
    /// Every `FILE_NAME_*` entry of the product group (`FILE_NAME_QUALITY_L2_AEROSOL` → file name).
    public let fileNames: [String: String]

    /// Surface reflectance scaling per band number from `LEVEL2_SURFACE_REFLECTANCE_PARAMETERS`
    /// (`REFLECTANCE_MULT_BAND_n`, `REFLECTANCE_ADD_BAND_n`): reflectance = mult × DN + add, unitless
    /// (2.75e-05 and −0.2 for every Collection 2 SR band: Landsat 8-9 C2 L2 Science Product Guide, LSDS-1619). Empty for Level-1 files.
    public let surfaceReflectanceScaling: [Int: LinearScaling]
    /// Top-of-atmosphere reflectance scaling per band number from `LEVEL1_RADIOMETRIC_RESCALING`
    /// (`RADIOMETRIC_RESCALING` in older files); not sun-angle corrected (LSDS-1822).
    public let toaReflectanceScaling: [Int: LinearScaling]
    /// `MAP_PROJECTION`, zone, datum, polar stereographic parameters.
    public let projection: MapProjection?
    /// Product corner latitudes/longitudes.
    public let corners: ProductCorners?

    /// True for Level-2 products (`L2SP`, `L2SR`): the SR bands are surface reflectance.
    public var isLevel2: Bool { processingLevel.uppercased().hasPrefix("L2") }

    /// Reads and interprets an MTL file (`.txt`, `.json` or `.xml`).
    /// - Throws: ``LandsatError`` naming the file: unreadable, empty, malformed, not an MTL, a required
    ///   key missing (`productID`, spacecraft, sensor, level, date, scene-centre time) or a value that is
    ///   not a date, time or number.
    public init(contentsOf url: URL) throws {
        try self.init(document: MTLDocument(contentsOf: url))
    }

    /// Interprets a parsed MTL document.
    public init(document doc: MTLDocument) throws {
        guard let root = doc.rootGroup, Self.roots.contains(root) else {
            throw LandsatError(.notLandsatMetadata, path: doc.path,
                               "not a Landsat MTL file: root group is \(doc.rootGroup.map { "'\($0)'" } ?? "missing"), expected LANDSAT_METADATA_FILE (Collection 2) or L1_METADATA_FILE (Collection 1, pre-collection)")
        }
        let r = Lookup(doc: doc, root: root)
        source = doc.path
        format = doc.format

        // Identity.
        let productContents = ["PRODUCT_CONTENTS", "METADATA_FILE_INFO", "PRODUCT_METADATA"]
        let scene = r.find(["LANDSAT_SCENE_ID"], in: ["LEVEL1_PROCESSING_RECORD", "METADATA_FILE_INFO", "PRODUCT_METADATA"])
        sceneID = scene?.value
        if let id = r.find(["LANDSAT_PRODUCT_ID"], in: productContents) ?? scene {
            productID = id.value
        } else {
            var stem = URL(fileURLWithPath: doc.path).deletingPathExtension().lastPathComponent
            if stem.uppercased().hasSuffix("_MTL") { stem.removeLast(4) }
            productID = stem
        }
        if let number = try r.int(["COLLECTION_NUMBER"], in: productContents) {
            switch number {
            case 2: collection = .collection2
            case 1: collection = .collection1
            default:
                throw LandsatError(.invalidValue, path: doc.path, "COLLECTION_NUMBER = \(number) is not a known Landsat collection (1 or 2)")
            }
        } else {
            collection = root == "LANDSAT_METADATA_FILE" ? .collection2 : .preCollection
        }
        collectionCategory = r.find(["COLLECTION_CATEGORY"], in: productContents)?.value
        processingLevel = try r.require(["PROCESSING_LEVEL", "DATA_TYPE", "PRODUCT_TYPE"], in: productContents).value

        // Image attributes.
        let image = ["IMAGE_ATTRIBUTES", "PRODUCT_METADATA"]
        let craft = try r.require(["SPACECRAFT_ID"], in: image).value
        landsatNumber = Int(craft.filter(\.isNumber))
        spacecraft = landsatNumber.map { "LANDSAT_\($0)" } ?? craft.uppercased()
        sensor = LandsatSensor(mtlValue: try r.require(["SENSOR_ID"], in: image).value)
        let date = try r.require(["DATE_ACQUIRED", "ACQUISITION_DATE"], in: image)
        let time = try r.require(["SCENE_CENTER_TIME", "SCENE_CENTER_SCAN_TIME"], in: image)
        guard let acquired = AcquisitionTime(date: date.value, time: time.value) else {
            throw LandsatError(.invalidValue, path: doc.path,
                               "\(date.path) = '\(date.value)' and \(time.path) = '\(time.value)' are not a valid UTC date (YYYY-MM-DD) and time (HH:MM:SS.fffffffZ)")
        }
        guard acquired.isInLandsatEra() else {
            throw LandsatError(.invalidValue, path: doc.path,
                               "\(date.path) = '\(date.value)' is outside the Landsat era (Landsat 1 launched \(AcquisitionTime.landsatEraStart); a scene cannot be acquired later than today, UTC); the MTL is damaged or not a Landsat file")
        }
        acquisition = acquired
        wrsPath = try r.int(["WRS_PATH"], in: image)
        wrsRow = try r.int(["WRS_ROW", "STARTING_ROW"], in: image)
        cloudCover = try r.double(["CLOUD_COVER"], in: image)

        // Files of this product.
        let fileGroup = root == "LANDSAT_METADATA_FILE" ? "PRODUCT_CONTENTS" : "PRODUCT_METADATA"
        var bands: [String: String] = [:]
        var files: [String: String] = [:]
        var qa: (String, QAKind)?
        for entry in doc.entries(inGroup: root + "/" + fileGroup) {
            let key = entry.key
            if key.hasPrefix("FILE_NAME_") {
                files[key] = entry.value
                if key == "FILE_NAME_BAND_QUALITY" {
                    qa = (entry.value, .bqa)
                } else if key == "FILE_NAME_QUALITY_L1_PIXEL" {
                    qa = (entry.value, .qaPixel)
                } else if key.hasPrefix("FILE_NAME_BAND_") {
                    bands[String(key.dropFirst("FILE_NAME_BAND_".count))] = entry.value
                }
            } else if key.hasPrefix("BAND"), key.hasSuffix("_FILE_NAME") {
                // Pre-2012 files: BAND1_FILE_NAME, BAND61_FILE_NAME.
                files[key] = entry.value
                let designation = key.dropFirst(4).dropLast("_FILE_NAME".count)
                if !designation.isEmpty { bands[String(designation)] = entry.value }
            }
        }
        bandFileNames = bands
        fileNames = files
        qaFileName = qa?.0
        qaKind = qa?.1

        // Radiometric scaling.
        surfaceReflectanceScaling = try r.scaling(in: ["LEVEL2_SURFACE_REFLECTANCE_PARAMETERS"])
        toaReflectanceScaling = try r.scaling(in: ["LEVEL1_RADIOMETRIC_RESCALING", "RADIOMETRIC_RESCALING"])

        // Projection.
        let projectionGroups = ["PROJECTION_ATTRIBUTES", "LEVEL1_PROJECTION_PARAMETERS", "PROJECTION_PARAMETERS",
                                "UTM_PARAMETERS", "PS_PARAMETERS"]
        if let name = r.find(["MAP_PROJECTION"], in: projectionGroups)?.value {
            projection = MapProjection(
                name: name,
                datum: r.find(["DATUM", "REFERENCE_DATUM"], in: projectionGroups)?.value,
                ellipsoid: r.find(["ELLIPSOID", "REFERENCE_ELLIPSOID"], in: projectionGroups)?.value,
                utmZone: try r.int(["UTM_ZONE", "ZONE_NUMBER"], in: projectionGroups),
                verticalLongitudeFromPole: try r.double(["VERTICAL_LON_FROM_POLE"], in: projectionGroups),
                trueScaleLatitude: try r.double(["TRUE_SCALE_LAT"], in: projectionGroups),
                falseEasting: try r.double(["FALSE_EASTING"], in: projectionGroups),
                falseNorthing: try r.double(["FALSE_NORTHING"], in: projectionGroups),
                reflectiveCellSize: try r.double(["GRID_CELL_SIZE_REFLECTIVE", "GRID_CELL_SIZE_REF"], in: projectionGroups),
                orientation: r.find(["ORIENTATION"], in: projectionGroups)?.value)
        } else {
            projection = nil
        }
        let cornerGroups = ["PROJECTION_ATTRIBUTES", "PRODUCT_METADATA"]
        func corner(_ c: String) throws -> GeographicPoint? {
            guard let lat = try r.double(["CORNER_\(c)_LAT_PRODUCT", "PRODUCT_\(c)_CORNER_LAT"], in: cornerGroups),
                  let lon = try r.double(["CORNER_\(c)_LON_PRODUCT", "PRODUCT_\(c)_CORNER_LON"], in: cornerGroups)
            else { return nil }
            return GeographicPoint(latitude: lat, longitude: lon)
        }
        if let ul = try corner("UL"), let ur = try corner("UR"), let ll = try corner("LL"), let lr = try corner("LR") {
            corners = ProductCorners(upperLeft: ul, upperRight: ur, lowerLeft: ll, lowerRight: lr)
        } else {
            corners = nil
        }
    }

    static let roots: Set<String> = ["LANDSAT_METADATA_FILE", "L1_METADATA_FILE"]
}

/// Key lookup in a list of candidate groups under the root (first key, then first group, wins).
private struct Lookup {
    let doc: MTLDocument
    let root: String

    /// The first value present; USGS writes `NULL` for values it does not have, treated as absent.
    func find(_ keys: [String], in groups: [String]) -> (value: String, path: String)? {
        for key in keys {
            for group in groups {
                let path = "\(root)/\(group)/\(key)"
                if let v = doc.value(at: path), v.uppercased() != "NULL" { return (v, path) }
            }
        }
        return nil
    }

    func require(_ keys: [String], in groups: [String]) throws -> (value: String, path: String) {
        if let found = find(keys, in: groups), !found.value.isEmpty { return found }
        let names = keys.joined(separator: " or ")
        let places = groups.map { "\(root)/\($0)" }.joined(separator: ", ")
        throw LandsatError(.missingKey, path: doc.path,
                           "required MTL key \(names) is missing or empty (looked in \(places)); the file is incomplete — re-download the scene's MTL")
    }

    func double(_ keys: [String], in groups: [String]) throws -> Double? {
        guard let (text, path) = find(keys, in: groups) else { return nil }
        guard let v = Double(text.trimmingWhitespace()), v.isFinite else {
            throw LandsatError(.invalidValue, path: doc.path, "\(path) = '\(text)' is not a number")
        }
        return v
    }

    func int(_ keys: [String], in groups: [String]) throws -> Int? {
        guard let (text, path) = find(keys, in: groups) else { return nil }
        guard let v = Int(text.trimmingWhitespace()) else {
            throw LandsatError(.invalidValue, path: doc.path, "\(path) = '\(text)' is not an integer")
        }
        return v
    }

    /// `REFLECTANCE_MULT_BAND_n` / `REFLECTANCE_ADD_BAND_n` pairs of the first group that has any.
    func scaling(in groups: [String]) throws -> [Int: LinearScaling] {
        for group in groups {
            var result: [Int: LinearScaling] = [:]
            for entry in doc.entries(inGroup: "\(root)/\(group)") where entry.key.hasPrefix("REFLECTANCE_MULT_BAND_") {
                guard let band = Int(entry.key.dropFirst("REFLECTANCE_MULT_BAND_".count)) else { continue }
                // Bands USGS could not calibrate carry NULL (seen in MSS files): no scaling for them.
                guard let mult = try double([entry.key], in: [group]) else { continue }
                guard let add = try double(["REFLECTANCE_ADD_BAND_\(band)"], in: [group]) else {
                    throw LandsatError(.missingKey, path: doc.path,
                                       "\(root)/\(group) has \(entry.key) but no REFLECTANCE_ADD_BAND_\(band)")
                }
                result[band] = LinearScaling(mult: mult, add: add)
            }
            if !result.isEmpty { return result }
        }
        return [:]
    }
}
