import Foundation
import XCTest
@testable import Pipeline

final class STACItemTests: XCTestCase {
    /// An item as `map` writes it for a UTM scene (values of LC08_L2SP_008059, 512×512 at ~450 m).
    func sampleItem(epsg: Int?) -> STACItem {
        let sceneGrid = STACItem.ProjectionGrid(epsg: epsg, wkt2: "PROJCRS[\"WGS 84 / UTM zone 18N\"]",
                                                geotransform: [499_785, 450, 0, 1_048_215, 0, -450], width: 512, height: 512)
        var labelGrid = sceneGrid
        labelGrid.geotransform = [499_785, 18_000, 0, 1_048_215, 0, -18_000]
        labelGrid.width = 13; labelGrid.height = 13
        let classes = [STACItem.ClassificationClass(value: 0, name: "Urban fabric", rgb: [230, 0, 77]),
                       STACItem.ClassificationClass(value: 1, name: "Arable land", rgb: [255, 255, 168])]
        let assets: [String: STACItem.Asset] = [
            "labels": .init(href: "./LC08_labels.tif", type: STACItem.Asset.cogType, title: "Land-cover labels",
                            roles: ["data", "labels"], grid: labelGrid, classes: classes),
            "summary": .init(href: "./run-summary.json", type: STACItem.Asset.jsonType, title: "Run summary", roles: ["metadata"]),
        ]
        let ring = [[-75.0, 9.47], [-73.3, 9.47], [-73.3, 7.8], [-75.0, 7.8]]
        return STACItem(id: "LC08_L2SP_008059_20191201_20200825_02_T1", acquired: Date(timeIntervalSince1970: 1_575_213_561.79),
                        footprint: ring, grid: sceneGrid, assets: assets)
    }

    func testFieldsFollowTheSpecAndExtensions() throws {
        let item = sampleItem(epsg: 32618)
        let json = try JSONSerialization.jsonObject(with: item.jsonData()) as! [String: Any]
        XCTAssertEqual(json["stac_version"] as? String, "1.0.0")
        XCTAssertEqual(json["bbox"] as? [Double], [-75.0, 7.8, -73.3, 9.47])
        let ring = ((json["geometry"] as! [String: Any])["coordinates"] as! [[[Double]]])[0]
        XCTAssertEqual(ring.first, ring.last, "closed ring")
        let props = json["properties"] as! [String: Any]
        XCTAssertEqual(props["datetime"] as? String, "2019-12-01T15:19:21.790Z")
        XCTAssertEqual(props["proj:epsg"] as? Int, 32618)
        XCTAssertEqual(props["proj:transform"] as? [Double], [450, 0, 499_785, 0, -450, 1_048_215])
        XCTAssertEqual(props["proj:shape"] as? [Int], [512, 512])
        let labels = (json["assets"] as! [String: [String: Any]])["labels"]!
        let classes = labels["classification:classes"] as! [[String: Any]]
        XCTAssertEqual(classes[0]["color_hint"] as? String, "E6004D")
        XCTAssertEqual(labels["proj:shape"] as? [Int], [13, 13])
        XCTAssertEqual((json["stac_extensions"] as? [String])?.count, 2)
        // No EPSG code (e.g. a polar CRS without one): explicit null, as the projection extension allows.
        let noCode = try JSONSerialization.jsonObject(with: sampleItem(epsg: nil).jsonData()) as! [String: Any]
        XCTAssertTrue((noCode["properties"] as! [String: Any])["proj:epsg"] is NSNull)
    }

    func testItemValidatesAgainstTheVendoredSTACSchemas() throws {
        let dir = try temporaryFolder(self)
        let root = repositoryRoot()
        for (name, epsg) in [("utm", 32618), ("no-epsg", nil) as (String, Int?)] {
            let path = dir + "/\(name).json"
            try sampleItem(epsg: epsg).jsonData().write(to: URL(fileURLWithPath: path))
            let (status, output) = try runProcess("/usr/bin/env", ["python3", root.path + "/Tests/PipelineTests/Python/validate_stac_item.py",
                                                                   root.path + "/schemas/stac", path])
            XCTAssertEqual(status, 0, output)
            XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines), "ok")
        }
    }

    func testTheValidatorRejectsABrokenItem() throws {
        // The validation test is only worth something if it can fail: a colour hint with '#' and a
        // datetime without a zone must be refused.
        let dir = try temporaryFolder(self)
        var item = sampleItem(epsg: 32618)
        item.assets["labels"]!.classes![0].colorHint = "#E6004D"
        item.properties.datetime = "2019-12-01T15:19:21"
        let path = dir + "/bad.json"
        try item.jsonData().write(to: URL(fileURLWithPath: path))
        let root = repositoryRoot()
        let (status, output) = try runProcess("/usr/bin/env", ["python3", root.path + "/Tests/PipelineTests/Python/validate_stac_item.py",
                                                               root.path + "/schemas/stac", path])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(output.contains("color_hint") || output.contains("#E6004D"), output)
        XCTAssertTrue(output.contains("datetime") || output.contains("2019-12-01T15:19:21'"), output)
    }

    /// Kept source properties (landsat:*, view:*) bring their extensions: the source Item's URLs for those
    /// prefixes when it listed them, the defaults otherwise; the result validates (vendored view v1.0.0 and
    /// landsat v2.0.0), and without the extensions the validator refuses the prefixed properties.
    func testKeptSourcePropertiesListTheirExtensions() throws {
        var defaults = sampleItem(epsg: 32618)
        let source = try JSONDecoder().decode(type(of: defaults.properties.source), from: Data("""
            {"landsat:scene_id": "LC80080592019335LGN00", "landsat:collection_category": "T1", "landsat:collection_number": "02",
             "landsat:wrs_type": "2", "landsat:wrs_path": "008", "landsat:wrs_row": "059", "landsat:cloud_cover_land": 40.5,
             "landsat:correction": "L2SP", "view:sun_elevation": 55.5, "view:sun_azimuth": 131.2, "eo:cloud_cover": 40.5}
            """.utf8))
        defaults.keepSourceProperties(source, sourceExtensions: [])
        XCTAssertEqual(defaults.stacExtensions, [STACItem.projectionExtension, STACItem.classificationExtension,
                                                 STACItem.landsatExtension, STACItem.viewExtension])
        XCTAssertNil(defaults.properties.source["eo:cloud_cover"], "only landsat:* and view:* are kept")
        var usgs = sampleItem(epsg: 32618)
        let usgsLandsat = "https://landsat.usgs.gov/stac/landsat-extension/v1.1.1/schema.json"
        usgs.keepSourceProperties(source, sourceExtensions: [usgsLandsat, "https://stac-extensions.github.io/eo/v1.0.0/schema.json"])
        XCTAssertEqual(usgs.stacExtensions.suffix(2), [usgsLandsat, STACItem.viewExtension])

        let dir = try temporaryFolder(self)
        let root = repositoryRoot()
        func validate(_ item: STACItem, _ name: String) throws -> (Int32, String) {
            try item.jsonData().write(to: URL(fileURLWithPath: dir + "/\(name).json"))
            return try runProcess("/usr/bin/env", ["python3", root.path + "/Tests/PipelineTests/Python/validate_stac_item.py",
                                                   root.path + "/schemas/stac", dir + "/\(name).json"])
        }
        let (status, output) = try validate(defaults, "defaults")
        XCTAssertEqual(status, 0, output)
        var unlisted = defaults
        unlisted.stacExtensions.removeLast(2)
        let (refused, why) = try validate(unlisted, "unlisted")
        XCTAssertEqual(refused, 1)
        XCTAssertTrue(why.contains("no extension for the landsat: prefix") && why.contains("no extension for the view: prefix"), why)
        var incomplete = defaults
        incomplete.properties.source["landsat:scene_id"] = nil
        let (missing, whyMissing) = try validate(incomplete, "incomplete")
        XCTAssertEqual(missing, 1)
        XCTAssertTrue(whyMissing.contains("landsat:scene_id"), whyMissing)
    }
}
