import Foundation
import XCTest
import Landsat
@testable import Tiling

/// `SceneInput` is the one place that decides what an input is: scene folders and MTL files, BigEarthNet
/// folders, STAC Items (local files here; URLs go the same way through GDAL) and remote locations.
final class SceneInputTests: XCTestCase {
    static let product = "LC08_L2SP_008059_20191201_20200825_02_T1"
    static let common = ["coastal", "blue", "green", "red", "nir08", "swir16", "swir22"]

    func testEachKindOfInputIsRecognisedInOnePlace() throws {
        let dir = makeTempDirectory("scene-input")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertEqual(SceneInput(path: sceneFolder(Self.product)), .landsatScene(path: sceneFolder(Self.product)))
        XCTAssertEqual(SceneInput(path: scenePath(Self.product, "MTL.txt")), .landsatScene(path: scenePath(Self.product, "MTL.txt")))
        let patches = "\(sharedDirectory)/data/patches/bigearthnet-l-sample"
        if BigEarthNetFolder.isBigEarthNetFolder(patches) {
            XCTAssertEqual(SceneInput(path: patches), .bigEarthNetFolder(path: patches))
            XCTAssertFalse(SceneInput(path: patches).isWholeScene)
        }
        XCTAssertEqual(SceneInput(path: "s3://bucket/collection02/\(Self.product)/"), .remote(url: "s3://bucket/collection02/\(Self.product)/"))
        XCTAssertEqual(SceneInput(path: "https://example.org/items/x.json"), .remote(url: "https://example.org/items/x.json"))
        let item = try writeItem(in: dir)
        XCTAssertEqual(SceneInput(path: item), .stacDocument(path: item))
        // A JSON file that is not STAC (an MTL in its JSON encoding) stays a Landsat scene input.
        XCTAssertEqual(SceneInput(path: scenePath(Self.product, "MTL.json")), .landsatScene(path: scenePath(Self.product, "MTL.json")))
    }

    /// A STAC Item describing a local scene gives the same scene (bands, QA, facts) as its folder, through
    /// the same entry point, and keeps its provenance.
    func testAnItemAndItsSceneFolderOpenToTheSameScene() throws {
        let dir = makeTempDirectory("scene-input")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let item = try writeItem(in: dir)
        let fromItem = try SceneInputs.open(paths: [item])
        let fromFolder = try SceneInputs.open(paths: [sceneFolder(Self.product)])
        let a = try XCTUnwrap(try fromItem.sources().first), b = try XCTUnwrap(try fromFolder.sources().first)
        XCTAssertEqual(a.id, Self.product)
        XCTAssertEqual(a.facts, b.facts)
        XCTAssertEqual(a.bands.map(\.name), LandsatBandSet.modelBandNames)
        XCTAssertEqual(a.bands.map { URL(fileURLWithPath: $0.path).standardized.path }, b.bands.map { URL(fileURLWithPath: $0.path).standardized.path })
        XCTAssertEqual(a.week, b.week)
        XCTAssertEqual(a.hour, b.hour)
        XCTAssertTrue(a.modelReady)
        XCTAssertEqual(a.provenance?.itemHref, "https://example.org/items/\(Self.product)")
        XCTAssertNil(b.provenance)
        XCTAssertEqual(try SceneInput.openScene(item).id, Self.product)
    }

    func testAnInputThatCannotBeReadIsNamed() {
        XCTAssertThrowsError(try SceneInputs.open(paths: ["/nonexistent/scene"])) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent/scene"), "\(e)")
        }
    }

    /// The stactools form of an item for the shared scene: band assets by `eo:bands` common name, the
    /// QA band and the MTL, hrefs absolute paths of the scene folder.
    func writeItem(in dir: String) throws -> String {
        var assets: [String: Any] = [:]
        for (i, c) in Self.common.enumerated() {
            assets["SR_B\(i + 1)"] = ["href": scenePath(Self.product, "SR_B\(i + 1).TIF"), "eo:bands": [["name": "SR_B\(i + 1)", "common_name": c]], "roles": ["data"]]
        }
        assets["qa_pixel"] = ["href": scenePath(Self.product, "QA_PIXEL.TIF")]
        assets["mtl.txt"] = ["href": scenePath(Self.product, "MTL.txt")]
        let props: [String: Any] = ["datetime": "2019-12-01T15:13:51.861099Z", "platform": "landsat-8", "instruments": ["oli", "tirs"],
                                    "landsat:correction": "L2SP", "landsat:collection_number": "02"]
        let object: [String: Any] = ["type": "Feature", "stac_version": "1.0.0", "id": Self.product, "properties": props, "assets": assets,
                                     "links": [["rel": "self", "href": "https://example.org/items/\(Self.product)"]]]
        let path = dir + "/item.json"
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        return path
    }
}
