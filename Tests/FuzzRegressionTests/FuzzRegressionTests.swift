import Foundation
import XCTest
import FuzzTargets

/// Every input a fuzz run ever crashed on (`Fuzz/Regressions/<target>/`, one file each) goes through
/// the same target function again in the ordinary test run: it must now end in an error or a result,
/// never a crash (docs/reliability.md, "Fuzzing"). A crash here takes the test process down, which
/// fails the run as surely as an assertion.
final class FuzzRegressionTests: XCTestCase {
    static var regressionsFolder: URL {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { break }
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("Fuzz/Regressions")
    }

    func testEverySavedCrashInputIsReplayed() throws {
        let fm = FileManager.default
        let folders = try fm.contentsOfDirectory(atPath: Self.regressionsFolder.path).filter { !$0.hasPrefix(".") }.sorted()
        var replayed = 0
        for target in folders {
            let folder = Self.regressionsFolder.appendingPathComponent(target)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            let run = try XCTUnwrap(FuzzTargets.all[target], "Fuzz/Regressions/\(target) names no fuzz target (\(FuzzTargets.all.keys.sorted()))")
            for name in try fm.contentsOfDirectory(atPath: folder.path).sorted() where !name.hasPrefix(".") {
                _ = run(FuzzInput(try Data(contentsOf: folder.appendingPathComponent(name))))
                replayed += 1
            }
        }
        XCTAssertGreaterThan(replayed, 0, "no regression inputs found under \(Self.regressionsFolder.path)")
    }

    /// Real files of each kind are accepted by their targets (so the targets exercise the real parsers).
    func testRealFilesPassThroughTheirTargets() throws {
        let shared = Self.regressionsFolder.deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared")
        let scene = shared.appendingPathComponent("data/scenes/LC08_L2SP_008059_20191201_20200825_02_T1/LC08_L2SP_008059_20191201_20200825_02_T1")
        XCTAssertTrue(FuzzTargets.mtlOdl(FuzzInput(try Data(contentsOf: URL(fileURLWithPath: scene.path + "_MTL.txt")))))
        XCTAssertTrue(FuzzTargets.mtlJson(FuzzInput(try Data(contentsOf: URL(fileURLWithPath: scene.path + "_MTL.json")))))
        XCTAssertTrue(FuzzTargets.mtlXml(FuzzInput(try Data(contentsOf: URL(fileURLWithPath: scene.path + "_MTL.xml")))))
        XCTAssertTrue(FuzzTargets.geotiffBand(FuzzInput(try Data(contentsOf: URL(fileURLWithPath: scene.path + "_SR_B1.TIF")))))
        XCTAssertTrue(FuzzTargets.safetensors(FuzzInput(try Data(contentsOf: shared.appendingPathComponent("golden/weights-xxs-public.safetensors")))))
        // A STAC Item in the stactools form for that scene (as Fuzz/make-seeds.py writes them).
        let product = scene.lastPathComponent
        var assets: [String: Any] = ["QA_PIXEL": ["href": "./\(product)_QA_PIXEL.TIF"]]
        for (i, c) in ["coastal", "blue", "green", "red", "nir08", "swir16", "swir22"].enumerated() {
            assets["SR_B\(i + 1)"] = ["href": "./\(product)_SR_B\(i + 1).TIF", "eo:bands": [["common_name": c]]]
        }
        let item: [String: Any] = ["type": "Feature", "id": product, "assets": assets, "properties": [
            "datetime": "2019-12-01T15:13:51.861099Z", "platform": "landsat-8", "instruments": ["oli", "tirs"],
            "landsat:correction": "L2SP", "landsat:collection_number": "02"]]
        XCTAssertTrue(FuzzTargets.stacItem(FuzzInput(try JSONSerialization.data(withJSONObject: item))))
        XCTAssertTrue(FuzzTargets.stacItem(FuzzInput(try JSONSerialization.data(withJSONObject: ["type": "FeatureCollection", "features": [item, 7]]))))
    }
}
