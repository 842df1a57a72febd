import Foundation
import XCTest
@testable import Landsat

/// STAC Items in the USGS and stactools forms → band assets by common name, QA, MTL, metadata from
/// properties with the local readiness rules, disagreement with the MTL.
final class STACSceneItemTests: XCTestCase {
    static let product = "LC08_L2SP_008059_20191201_20200825_02_T1"
    static let common = ["coastal", "blue", "green", "red", "nir08", "swir16", "swir22"]

    func mtl() throws -> LandsatMetadata {
        try LandsatMetadata(contentsOf: SharedData.scenesFolder.appendingPathComponent("\(Self.product)/\(Self.product)_MTL.txt"))
    }

    /// The stactools form: keys SR_Bn, eo:bands common names, no MTL; `extra` merged into properties.
    func stactools(_ extra: [String: Any] = [:], dropping: String? = nil) -> [String: Any] {
        var assets: [String: Any] = [:]
        for (i, c) in Self.common.enumerated() where c != dropping {
            assets["SR_B\(i + 1)"] = ["href": "./\(Self.product)_SR_B\(i + 1).TIF", "eo:bands": [["name": "SR_B\(i + 1)", "common_name": c]], "roles": ["data"]]
        }
        assets["QA_PIXEL"] = ["href": "./\(Self.product)_QA_PIXEL.TIF"]
        assets["thumbnail"] = ["href": "./thumb.jpg", "roles": ["thumbnail"]]
        var props: [String: Any] = ["datetime": "2019-12-01T15:13:51.861099Z", "platform": "landsat-8", "instruments": ["oli", "tirs"],
                                    "landsat:correction": "L2SP", "landsat:collection_number": "02", "landsat:wrs_path": "008",
                                    "view:sun_elevation": 55.5, "proj:epsg": 32618, "eo:cloud_cover": 40.5]
        for (k, v) in extra { props[k] = v }
        return ["type": "Feature", "id": Self.product, "properties": props, "assets": assets,
                "links": [["rel": "self", "href": "https://example.org/items/\(Self.product)"]]]
    }

    func testStactoolsItemGivesAModelReadySceneFromItsProperties() throws {
        let item = try STACSceneItem(object: stactools(), location: "/data/item.json")
        XCTAssertEqual(item.selfHref, "https://example.org/items/\(Self.product)")
        XCTAssertNil(item.mtlAsset)
        let m = try item.metadataFromProperties()
        XCTAssertEqual(m.productID, Self.product)
        XCTAssertEqual(m.sensor, .oliTirs)
        XCTAssertEqual(m.collection, .collection2)
        let local = try mtl()
        XCTAssertEqual(m.acquisition.hourOfDay, local.acquisition.hourOfDay, accuracy: 1e-9)
        XCTAssertEqual(m.acquisition.isoWeek, local.acquisition.isoWeek)
        let set = LandsatBandSet(metadata: m)
        XCTAssertEqual(set.names, LandsatBandSet.modelBandNames)
        XCTAssertEqual(set.bands.map(\.fileName), (1...7).map { "./\(Self.product)_SR_B\($0).TIF" })
        XCTAssertEqual(set.qaFileName, "./\(Self.product)_QA_PIXEL.TIF")
        XCTAssertTrue(set.modelReadiness.isReady)
        XCTAssertEqual(item.provenanceProperties["landsat:wrs_path"], .string("008"))
        XCTAssertEqual(item.provenanceProperties["view:sun_elevation"], .number(55.5))
        XCTAssertNil(item.provenanceProperties["eo:cloud_cover"])
    }

    func testBandsAreFoundByCommonNameWhateverTheKey() throws {
        // USGS form: keys are the common names, hrefs need an EROS login, the S3 copy is the alternate.
        var assets: [String: Any] = [:]
        for (i, c) in Self.common.enumerated() {
            assets[c] = ["href": "https://landsatlook.usgs.gov/x_SR_B\(i + 1).TIF", "eo:bands": [["common_name": c]],
                         "alternate": ["s3": ["href": "s3://usgs-landsat/x_SR_B\(i + 1).TIF"]]]
        }
        assets["qa_pixel"] = ["href": "https://landsatlook.usgs.gov/x_QA_PIXEL.TIF"]
        assets["mtl.json"] = ["href": "https://landsatlook.usgs.gov/x_MTL.json"]
        assets["mtl.txt"] = ["href": "https://landsatlook.usgs.gov/x_MTL.txt"]
        let item = try STACSceneItem(object: ["type": "Feature", "id": "x", "properties": [:], "assets": assets], location: "x.json")
        XCTAssertEqual(item.bandAsset(designation: "5", sensor: .oliTirs)?.readHref, "s3://usgs-landsat/x_SR_B5.TIF")
        XCTAssertEqual(item.bandAsset(designation: "1", sensor: .oliTirs)?.key, "coastal")
        XCTAssertEqual(item.mtlAsset?.key, "mtl.txt", "ODL text preferred, as for folders")
        XCTAssertEqual(item.qaPixelAsset?.key, "qa_pixel")
        // TM numbering: red is band 3.
        XCTAssertEqual(item.bandAsset(designation: "3", sensor: .tm)?.key, "red")
    }

    func testAMissingBandMakesTheSceneIncompatibleAndMissingPropertiesAreNamed() throws {
        let item = try STACSceneItem(object: stactools(dropping: "nir08"), location: "item.json")
        XCTAssertNil(item.bandAsset(designation: "5", sensor: .oliTirs))
        XCTAssertFalse(LandsatBandSet(metadata: try item.metadataFromProperties()).modelReadiness.allowsModel(allowNonSR: true))
        var o = stactools()
        var p = o["properties"] as! [String: Any]
        p.removeValue(forKey: "datetime")
        o["properties"] = p
        XCTAssertThrowsError(try STACSceneItem(object: o, location: "item.json").metadataFromProperties()) { e in
            XCTAssertTrue("\(e)".contains("datetime") && "\(e)".contains("item.json"), "\(e)")
        }
        // A Level-1 item needs --allow-non-sr, like a local L1 scene.
        let l1 = try STACSceneItem(object: stactools(["landsat:correction": "L1TP"]), location: "i.json").metadataFromProperties()
        XCTAssertEqual(LandsatBandSet(metadata: l1).modelReadiness.allowsModel(allowNonSR: false), false)
        XCTAssertEqual(LandsatBandSet(metadata: l1).modelReadiness.allowsModel(allowNonSR: true), true)
    }

    func testDisagreementsWithTheMTL() throws {
        let local = try mtl()
        XCTAssertEqual(try STACSceneItem(object: stactools(), location: "i.json").disagreements(with: local), [])
        let late = try STACSceneItem(object: stactools(["datetime": "2019-12-01T16:13:51.861099Z"]), location: "i.json")
        XCTAssertEqual(late.disagreements(with: local).count, 1)
        XCTAssertTrue(late.disagreements(with: local)[0].contains("datetime"))
        let zone = try STACSceneItem(object: stactools(["proj:epsg": 32619]), location: "i.json")
        XCTAssertTrue(zone.disagreements(with: local).first?.contains("UTM zone 18") == true)
    }

    func testCollectionsKeepBrokenFeaturesApart() throws {
        let broken: [String: Any] = ["type": "Feature", "id": "broken", "properties": [:], "assets": [:]]
        let doc: [String: Any] = ["type": "FeatureCollection", "features": [stactools(), broken, stactools()]]
        let data = try JSONSerialization.data(withJSONObject: doc)
        guard case .collection(let items) = try STACDocument(data: data, location: "search.json") else { return XCTFail("not a collection") }
        XCTAssertEqual(items.count, 3)
        XCTAssertNotNil(try? items[0].get())
        if case .failure(let e) = items[1] {
            XCTAssertTrue(e.path.contains("feature 2 of 3") && e.path.contains("broken"), e.path)
        } else { XCTFail("the broken feature parsed") }
        XCTAssertThrowsError(try STACDocument(data: Data("{\"LANDSAT_METADATA_FILE\": {}}".utf8), location: "m.json"))
    }
}
