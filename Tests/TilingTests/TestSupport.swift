import Foundation
// Shared-data paths, temporary folders, runTool/runPython/gdaltransform (Tests/TestSupport): visible in
// every file of this target.
@_exported import TestSupport
import Landsat
import Tiling

/// The pre-collection scene's bands 1–7 + BQA described by hand (independent of MTL parsing).
func preCollectionSource() -> SceneSource {
    SceneSource(facts: SceneFacts(id: preCollection, spacecraft: .landsat(8), sensor: .oliTirs, collection: .preCollection,
                                  processingLevel: .l1t, acquisition: AcquisitionTime(iso8601: "2015-08-04T16:19:21.79Z")!),
                week: 32, hour: 16 + 19.0 / 60 + 21.7917421 / 3600,
                bands: (1...7).map { SceneSource.BandFile(name: "B\($0)", path: scenePath(preCollection, "B\($0).TIF")) },
                qaFile: scenePath(preCollection, "BQA.TIF"), readiness: .requiresOverride("pre-collection Level-1 digital numbers"),
                metadataFiles: [scenePath(preCollection, "MTL.txt")])
}

/// MTL text value of `key` (first occurrence), unquoted.
func mtlValue(_ mtl: String, _ key: String) -> String? {
    for line in mtl.split(separator: "\n") {
        let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.count == 2, parts[0] == key { return parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
    }
    return nil
}
