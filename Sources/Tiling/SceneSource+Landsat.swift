import Foundation
import Landsat

extension SceneSource {
    /// The tiling input of a Landsat scene: its band set (`SR_B1…SR_B7` for C2 L2; the OLI/TM bands of
    /// other products, as the Landsat module lists them), its QA band, and its MTL's acquisition time
    /// (ISO week and true UTC hour from ``AcquisitionTime``).
    public init(landsat scene: LandsatScene) {
        let m = scene.metadata
        self.init(id: scene.productID, sensor: m.sensor.mtlName, spacecraft: m.spacecraft, collection: m.collection.rawValue,
                  level: m.processingLevel,
                  // The manifest contract's form: two fraction digits (`2015-08-04T16:19:21.79Z`); the
                  // hour tensor keeps the full precision.
                  acquired: scene.acquisition.iso8601(fractionDigits: min(2, scene.acquisition.fractionDigits.count)),
                  week: scene.acquisition.isoWeek, hour: scene.acquisition.hourOfDay,
                  bands: zip(scene.bandNames, scene.bandFiles).map { BandFile(name: $0, path: $1.path) },
                  qaFile: scene.qaFile?.path, modelReady: scene.modelReadiness.isReady,
                  metadataFiles: [scene.mtlFile.path])
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
