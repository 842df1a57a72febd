import Foundation
import GeoRaster
import Landsat

/// A BigEarthNet-style patch folder: `images/<name>.tif` (7-band uint16 SR_B1…SR_B7 patches,
/// 41–45 px) and `labels/<name>_labels_metadata.json` (CORINE labels, `acquisition_date` in UTC,
/// `coordinates`, `projection`), as in the MoE-MAE authors' BigEarthNet-Landsat sample.
///
/// Each patch becomes one scene with one tile: the centre crop `top = (h − 40) / 2`,
/// `left = (w − 40) / 2` (integer division — the crop of the published pretraining), whose metadata are
/// the label file's acquisition time and the latitude/longitude of the centre of the WHOLE patch.
public struct BigEarthNetFolder: Sendable {
    public let path: String
    /// Names (file stems of `images/*.tif`) of the patches that have a label file, sorted.
    public let patches: [String]
    /// Images without a label file (no acquisition time, so no metadata): skipped, reported by the CLI.
    public let unlabelled: [String]

    /// True when `path` is a folder holding `images/` and `labels/` subfolders.
    public static func isBigEarthNetFolder(_ path: String) -> Bool {
        var a: ObjCBool = false, b: ObjCBool = false
        return FileManager.default.fileExists(atPath: path + "/images", isDirectory: &a) && a.boolValue
            && FileManager.default.fileExists(atPath: path + "/labels", isDirectory: &b) && b.boolValue
    }

    public init(path: String) throws {
        self.path = path
        guard Self.isBigEarthNetFolder(path) else {
            throw TilingError(path: path, "is not a BigEarthNet-style folder (images/ and labels/ subfolders)")
        }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: path + "/images")) ?? []
        let all = files.filter { $0.lowercased().hasSuffix(".tif") || $0.lowercased().hasSuffix(".tiff") }
            .map { ($0 as NSString).deletingPathExtension }.sorted()
        guard !all.isEmpty else { throw TilingError(path: path + "/images", "holds no .tif patches") }
        let labelled = all.filter { FileManager.default.fileExists(atPath: "\(path)/labels/\($0)_labels_metadata.json") }
        patches = labelled
        unlabelled = all.filter { !labelled.contains($0) }
        guard !patches.isEmpty else {
            throw TilingError(path: path + "/labels", "holds no <patch>_labels_metadata.json for any image", hint: "each images/<name>.tif needs labels/<name>_labels_metadata.json")
        }
    }

    public func imagePath(_ patch: String) -> String {
        let tif = "\(path)/images/\(patch).tif"
        return FileManager.default.fileExists(atPath: tif) ? tif : "\(path)/images/\(patch).tiff"
    }

    public func labelPath(_ patch: String) -> String { "\(path)/labels/\(patch)_labels_metadata.json" }

    /// The label file's fields tiling uses.
    struct Label: Decodable {
        var acquisitionDate: String
        enum CodingKeys: String, CodingKey { case acquisitionDate = "acquisition_date" }
    }

    /// The tiling input of every labelled patch, in sorted name order. `tileSize` is the crop size (40).
    public func sources(tileSize: Int = 40) throws -> [SceneSource] {
        try patches.map { try source(patch: $0, tileSize: tileSize) }
    }

    /// The tiling input of one patch: one tile, the centre crop.
    public func source(patch: String, tileSize: Int = 40) throws -> SceneSource {
        let image = imagePath(patch), labelFile = labelPath(patch)
        guard let data = FileManager.default.contents(atPath: labelFile) else {
            throw TilingError(path: labelFile, "is missing: every patch in images/ needs its label file",
                              hint: "add labels/\(patch)_labels_metadata.json or remove the image")
        }
        let label: Label
        do { label = try JSONDecoder().decode(Label.self, from: data) } catch {
            throw TilingError(path: labelFile, "has no readable acquisition_date: \(error)")
        }
        // "2017-06-13 10:10:31" (UTC, as BigEarthNet writes it); a "T" separator is accepted too.
        let parts = label.acquisitionDate.replacingOccurrences(of: "T", with: " ").split(separator: " ")
        guard parts.count == 2, let time = AcquisitionTime(date: String(parts[0]), time: String(parts[1])) else {
            throw TilingError(path: labelFile, "acquisition_date '\(label.acquisitionDate)' is not 'YYYY-MM-DD HH:MM:SS'")
        }
        let ds: RasterDataset
        do { ds = try RasterDataset(path: image) } catch let e as GeoRasterError {
            throw TilingError(path: image, "cannot open: \(e.message) \(e.libraryMessages.joined(separator: "; "))")
        }
        guard ds.bandCount == 7 else {
            throw TilingError(path: image, "has \(ds.bandCount) bands; BigEarthNet-Landsat patches have 7 (SR_B1…SR_B7)")
        }
        guard ds.width >= tileSize, ds.height >= tileSize else {
            throw TilingError(path: image, "is \(ds.width)×\(ds.height) pixels, smaller than one \(tileSize)×\(tileSize) tile")
        }
        let crop = RasterWindow(column: (ds.width - tileSize) / 2, row: (ds.height - tileSize) / 2, width: tileSize, height: tileSize)
        // BigEarthNet-Landsat patches are Landsat 8 OLI/TIRS Collection 2 Level-2 SR_B1…SR_B7 crops.
        let facts = SceneFacts(id: patch, spacecraft: .landsat(8), sensor: .oliTirs, collection: .collection2,
                               processingLevel: .l2sp, acquisition: time.truncated(fractionDigits: 0))
        return SceneSource(facts: facts, week: time.isoWeek, hour: time.hourOfDay,
                           bands: LandsatBandSet.modelBandNames.enumerated().map { SceneSource.BandFile(name: $1, path: image, band: $0 + 1) },
                           qaFile: nil, readiness: .ready, metadataFiles: [labelFile], region: crop, locationPoint: .rasterCentre)
    }
}
