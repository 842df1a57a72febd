import Foundation

/// A Landsat scene on disk: its MTL metadata and the files of the bands tiling reads.
///
/// Opened from a scene folder (the one USGS delivers: band GeoTIFFs next to `*_MTL.txt`/`.json`/`.xml`)
/// or from the path of an MTL file. Band files are located through the MTL's `FILE_NAME_BAND_n` /
/// `FILE_NAME_QUALITY_L1_PIXEL` / `FILE_NAME_BAND_QUALITY` entries, relative to the MTL's folder — never
/// by guessing names. Only the files of the band set and the QA band must exist (a C2 folder without the
/// surface temperature files is fine).
///
/// This type does not open rasters: checking that every band shares size, geotransform and CRS is the
/// tiling code's job (GeoRaster/GDAL), given ``bandFiles`` and ``qaFile``.
public struct LandsatScene: Sendable, CustomStringConvertible {
    /// The MTL file read.
    public let mtlFile: URL
    /// The folder holding the MTL (band file names are relative to it).
    public let folder: URL
    public let metadata: LandsatMetadata
    /// The bands tiling reads, their order and model readiness.
    public let bandSet: LandsatBandSet

    /// Product id (see ``LandsatMetadata/productID``).
    public var productID: String { metadata.productID }
    /// Scene-centre acquisition time, UTC.
    public var acquisition: AcquisitionTime { metadata.acquisition }
    /// Band names in tiling order (`SR_B1` … `SR_B7` for a model-ready scene).
    public var bandNames: [String] { bandSet.names }
    /// Absolute paths of the band files, in ``bandNames`` order.
    public var bandFiles: [URL] { bandSet.bands.map { folder.appendingPathComponent($0.fileName) } }
    /// Absolute path of the pixel quality band (`QA_PIXEL` or `BQA`), nil when the MTL lists none.
    public var qaFile: URL? { bandSet.qaFileName.map { folder.appendingPathComponent($0) } }
    /// Which quality band ``qaFile`` is (bit 0 = fill in both).
    public var qaKind: QAKind? { bandSet.qaKind }
    /// Whether the model may read these bands; see ``ModelReadiness`` and docs/bands.md.
    public var modelReadiness: ModelReadiness { bandSet.modelReadiness }

    /// Preference among MTL encodings when a folder holds several: ODL text, then JSON, then XML.
    public static let mtlSuffixes = ["_MTL.txt", "_MTL.json", "_MTL.xml"]

    /// Opens a scene from a folder or an MTL file path.
    /// - Throws: ``LandsatError`` naming the path: no such path, a folder without (or with several
    ///   products') MTL files, any MTL error, or a band/QA file listed in the MTL that does not exist.
    public init(path: String) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw LandsatError(.unreadable, path: path, "no such scene folder or MTL file")
        }
        if !isDirectory.boolValue, ["tif", "tiff"].contains(url.pathExtension.lowercased()) {
            throw LandsatError(.noMetadataFile, path: path,
                               "is a band image, not a scene: pass the scene folder or its *_MTL.txt / *_MTL.json / *_MTL.xml file")
        }
        let mtl = isDirectory.boolValue ? try Self.findMTL(inFolder: url, given: path) : url
        let metadata = try LandsatMetadata(contentsOf: mtl)
        try self.init(mtlFile: mtl, metadata: metadata)
    }

    /// A scene from already-read metadata; checks that the band set's files are distinct and exist next to `mtlFile`.
    /// - Throws: ``LandsatError/Code/invalidValue`` when two bands (or a band and the QA band) name one file,
    ///   ``LandsatError/Code/missingBandFile`` when a file is missing.
    public init(mtlFile: URL, metadata: LandsatMetadata) throws {
        self.mtlFile = mtlFile
        self.folder = mtlFile.deletingLastPathComponent()
        self.metadata = metadata
        self.bandSet = LandsatBandSet(metadata: metadata)
        guard !bandSet.bands.isEmpty else {
            throw LandsatError(.missingKey, path: mtlFile.path,
                               "the MTL lists no usable band files (FILE_NAME_BAND_n) for \(metadata.sensor.mtlName) \(metadata.processingLevel); nothing to tile")
        }
        // Two bands (or a band and the QA band) read from one file would silently tile the same
        // pixels twice under two names: refuse the MTL instead (docs/reliability.md).
        var firstBandByFile: [String: LandsatBand] = [:]
        for band in bandSet.bands {
            if let first = firstBandByFile[band.fileName] {
                throw LandsatError(.invalidValue, path: mtlFile.path,
                                   "FILE_NAME_BAND_\(first.designation) and FILE_NAME_BAND_\(band.designation) both name \(band.fileName); the MTL is inconsistent (damaged or edited): re-download the scene's MTL file")
            }
            firstBandByFile[band.fileName] = band
        }
        if let qa = bandSet.qaFileName, let band = firstBandByFile[qa] {
            throw LandsatError(.invalidValue, path: mtlFile.path,
                               "the quality band and FILE_NAME_BAND_\(band.designation) both name \(qa); the MTL is inconsistent (damaged or edited): re-download the scene's MTL file")
        }
        for band in bandSet.bands {
            try Self.checkExists(folder.appendingPathComponent(band.fileName), what: "band \(band.name) (FILE_NAME_BAND_\(band.designation))", mtl: mtlFile)
        }
        if let qa = qaFile, let kind = qaKind {
            try Self.checkExists(qa, what: "quality band \(kind.rawValue)", mtl: mtlFile)
        }
    }

    /// Throws ``LandsatError/Code/notModelReady`` unless the model may read this scene; see
    /// ``ModelReadiness/require(allowNonSR:path:)``.
    public func requireModelReady(allowNonSR: Bool) throws {
        try modelReadiness.require(allowNonSR: allowNonSR, path: "\(folder.path) (\(productID))")
    }

    /// One line for logs: `LC08_L2SP_… (LANDSAT_8 OLI_TIRS L2SP, C2) acquired 2019-12-01T15:13:51.8610990Z,
    /// bands SR_B1 … SR_B7 + QA_PIXEL, model: ready`.
    public var description: String {
        let m = metadata
        let qa = qaKind.map { " + \($0.rawValue)" } ?? ""
        return "\(productID) (\(m.spacecraft) \(m.sensor.mtlName) \(m.processingLevel), \(m.collection)) acquired \(m.acquisition.iso8601), bands \(bandNames.joined(separator: " "))\(qa), model: \(modelReadiness)"
    }

    /// The MTL file of a scene folder: `*_MTL.txt`, else `*_MTL.json`, else `*_MTL.xml`.
    /// - Throws: ``LandsatError/Code/noMetadataFile`` when there is none, or several products' MTLs.
    public static func findMTL(inFolder folder: URL, given path: String? = nil) throws -> URL {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        } catch {
            throw LandsatError(.unreadable, path: path ?? folder.path, "cannot list the scene folder: \(error.localizedDescription)")
        }
        for suffix in mtlSuffixes {
            let matches = names.filter { $0.lowercased().hasSuffix(suffix.lowercased()) }
            if matches.count > 1 {
                throw LandsatError(.noMetadataFile, path: path ?? folder.path,
                                   "the folder holds several products' MTL files (\(matches.joined(separator: ", "))); pass one MTL file path instead of the folder")
            }
            if let name = matches.first { return folder.appendingPathComponent(name) }
        }
        throw LandsatError(.noMetadataFile, path: path ?? folder.path,
                           "no Landsat metadata file (*_MTL.txt, *_MTL.json or *_MTL.xml) in the scene folder; a scene folder must hold the MTL that USGS delivers with the bands")
    }

    private static func checkExists(_ file: URL, what: String, mtl: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw LandsatError(.missingBandFile, path: file.path,
                               "\(what) listed in \(mtl.lastPathComponent) does not exist; download the scene's band files into \(mtl.deletingLastPathComponent().path)")
        }
    }
}
