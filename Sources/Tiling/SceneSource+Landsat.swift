import Foundation
import Landsat

extension SceneSource {
    /// The tiling input of a Landsat scene: its band set (`SR_B1…SR_B7` for C2 L2; the OLI/TM bands of
    /// other products, as the Landsat module lists them), its QA band, and its MTL's acquisition time
    /// (ISO week and true UTC hour from ``AcquisitionTime``).
    public init(landsat scene: LandsatScene) {
        self.init(metadata: scene.metadata, bandSet: scene.bandSet, bandPaths: scene.bandFiles.map(\.path),
                  qaFile: scene.qaFile?.path, metadataFiles: [scene.mtlFile.path])
    }

    /// The tiling input of a product described by `metadata`, its bands read from `bandPaths` (in
    /// `bandSet` order; local paths or GDAL `/vsis3/`, `/vsicurl/` paths) and its QA band from `qaFile`.
    public init(metadata m: LandsatMetadata, bandSet: LandsatBandSet, bandPaths: [String], qaFile: String?, metadataFiles: [String]) {
        // The manifest contract records the acquisition time with two fraction digits
        // (`2015-08-04T16:19:21.79Z`); the hour keeps the MTL's full precision.
        self.init(facts: SceneFacts(metadata: m, fractionDigits: 2),
                  week: m.acquisition.isoWeek, hour: m.acquisition.hourOfDay,
                  bands: zip(bandSet.names, bandPaths).map { BandFile(name: $0, path: $1) },
                  qaFile: qaFile, readiness: bandSet.modelReadiness, metadataFiles: metadataFiles)
    }

    /// Opens a Landsat scene folder or MTL path; errors name the path and say what is wrong.
    public init(landsatPath path: String) throws {
        do {
            self.init(landsat: try LandsatScene(path: path))
        } catch let e as LandsatError {
            throw TilingError(path: e.path, e.message, hint: "give a Landsat scene folder (band GeoTIFFs next to their *_MTL.txt/.json/.xml) or the MTL file itself")
        }
    }
}
