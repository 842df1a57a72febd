import Foundation
import XCTest

/// `moemae plan` over STAC Items and ItemCollections (docs/scaling.md, "plan"): local item files that
/// point at the shared scenes (no network), each item a manifest line, a collection's items named
/// `<collection>#<item id>`, broken items listed in the rejected file rather than dropped.
final class ClusterSTACTests: ClusterTestCase {
    static let commonNames = ["coastal", "blue", "green", "red", "nir08", "swir16", "swir22"]

    /// A USGS-form STAC Item of the scene in `folder` (product `id`): band assets keyed by common name with
    /// absolute hrefs, `qa_pixel`, and the MTL as `mtl.txt`; `dropping` leaves out one band asset.
    func item(_ folder: String, id: String, itemID: String? = nil, dropping: String? = nil) -> [String: Any] {
        var assets: [String: Any] = [:]
        for (i, c) in Self.commonNames.enumerated() where c != dropping {
            assets[c] = ["href": "\(folder)/\(id)_SR_B\(i + 1).TIF", "type": "image/tiff; application=geotiff",
                         "eo:bands": [["name": "SR_B\(i + 1)", "common_name": c]], "roles": ["data"]]
        }
        assets["qa_pixel"] = ["href": "\(folder)/\(id)_QA_PIXEL.TIF", "roles": ["cloud"]]
        assets["mtl.txt"] = ["href": "\(folder)/\(id)_MTL.txt", "roles": ["metadata"]]
        return ["type": "Feature", "stac_version": "1.0.0", "id": itemID ?? id, "properties": ["platform": "landsat-8"],
                "geometry": NSNull(), "assets": assets, "links": []]
    }

    func write(_ object: Any, _ path: String) throws {
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
    }

    func manifestLines(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    /// One Item file and a collection of three items (a real scene, a copy under another product id, and
    /// one without a band asset) plus a non-object feature: three lines, sources as documented, the same
    /// facts and content hash as planning the scene folder, the broken features in the rejected list.
    func testPlanTakesItemsAndCollectionsAndListsBrokenItems() throws {
        let copy = try copyScene(Self.real[1], day: 3)
        let copyID = (copy as NSString).lastPathComponent
        try write(item(sceneFolder(Self.real[0]), id: Self.real[0]), dir + "/single.json")
        try write(["type": "FeatureCollection", "features": [
            item(sceneFolder(Self.real[1]), id: Self.real[1], itemID: "scene-a"),
            item(copy, id: copyID, itemID: "scene-b"),
            item(sceneFolder(Self.real[2]), id: Self.real[2], itemID: "scene-c", dropping: "nir08"),
            "not a feature",
        ]], dir + "/search.json")

        let r = try moemae(["plan", dir + "/single.json", dir + "/search.json", "--out", dir + "/manifest.jsonl"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try validateSchema("scene-manifest.schema.json", jsonLines: dir + "/manifest.jsonl"), "ok")
        let lines = try manifestLines(dir + "/manifest.jsonl")
        let sources = Dictionary(uniqueKeysWithValues: lines.map { ($0["id"] as! String, $0["source"] as! String) })
        XCTAssertEqual(sources, [Self.real[0]: dir + "/single.json", Self.real[1]: dir + "/search.json#scene-a",
                                 copyID: dir + "/search.json#scene-b"])
        XCTAssertEqual(lines.map { $0["index"] as! Int }, [0, 1, 2])

        // Rejected: the item without a band asset and the non-object feature, each named, with the reason.
        let rejected = try String(contentsOfFile: dir + "/manifest.rejected.jsonl", encoding: .utf8)
        XCTAssertEqual(rejected.split(separator: "\n").count, 2, rejected)
        XCTAssertTrue(rejected.contains("search.json#scene-c") && rejected.contains("nir08"), rejected)
        XCTAssertTrue(rejected.contains("feature 4 of 4") && rejected.contains("not a JSON object"), rejected)
        XCTAssertTrue(r.stderr.contains("rejected: \(dir)/search.json#scene-c"), r.stderr)

        // map --manifest opens both kinds of line: the Item file, and one item of the collection (only that
        // one is built); the output Items link the source item they were derived from.
        let index = { (id: String) in lines.first { $0["id"] as? String == id }!["index"] as! Int }
        let mapped = try moemae(mapArgs(dir + "/out") + ["--lines", "\(index(Self.real[0])),\(index(Self.real[1]))"])
        XCTAssertEqual(mapped.status, 0, mapped.stderr)
        XCTAssertEqual(try mappedCounts(dir + "/out"), [Self.real[0]: 1, Self.real[1]: 1])
        for (id, source) in [(Self.real[0], dir + "/single.json"), (Self.real[1], dir + "/search.json")] {
            let item = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/out/\(id).stac.json"))) as! [String: Any]
            let derived = (item["links"] as! [[String: Any]]).filter { $0["rel"] as? String == "derived_from" }.compactMap { $0["href"] as? String }
            XCTAssertEqual(derived, [source], id)
        }

        // An item line has the facts of the scene folder's line, content hash aside (the item's JSON is hashed too).
        let folder = try moemae(["plan", sceneFolder(Self.real[0]), "--out", dir + "/folder.jsonl"])
        XCTAssertEqual(folder.status, 0, folder.stderr)
        var a = try manifestLines(dir + "/folder.jsonl")[0], b = lines.first { $0["id"] as? String == Self.real[0] }!
        XCTAssertNotEqual(a["content_sha256"] as? String, b["content_sha256"] as? String)
        for key in ["source", "content_sha256", "index"] { a[key] = nil; b[key] = nil }
        XCTAssertEqual(NSDictionary(dictionary: a), NSDictionary(dictionary: b))

        // Editing another feature of the collection leaves scene-a's line as it was; editing scene-a changes it.
        let before = try String(contentsOfFile: dir + "/manifest.jsonl", encoding: .utf8)
        var collection = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/search.json"))) as! [String: Any]
        var features = collection["features"] as! [Any]
        features.removeLast(2)
        var second = features[1] as! [String: Any]
        second["properties"] = ["platform": "landsat-8", "eo:cloud_cover": 12.5]
        features[1] = second
        collection["features"] = features
        try write(collection, dir + "/search.json")
        let again = try moemae(["plan", dir + "/single.json", dir + "/search.json", "--out", dir + "/manifest.jsonl"])
        XCTAssertEqual(again.status, 0, again.stderr)
        let after = try manifestLines(dir + "/manifest.jsonl")
        let old = try before.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        func hash(_ l: [[String: Any]], _ id: String) -> String? { l.first { $0["id"] as? String == id }?["content_sha256"] as? String }
        XCTAssertEqual(hash(after, Self.real[1]), hash(old, Self.real[1]), "another feature edited: line unchanged")
        XCTAssertNotEqual(hash(after, copyID), hash(old, copyID), "its own feature edited: content hash changed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/manifest.rejected.jsonl"), "no rejected inputs left listed")

        // A collection that cannot be read at all is one rejected input; nothing usable: error, no manifest.
        try Data("{\"type\": \"FeatureCollection\"".utf8).write(to: URL(fileURLWithPath: dir + "/broken.json"))
        let none = try moemae(["plan", dir + "/broken.json", "--out", dir + "/m3.jsonl"])
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.stderr.contains("rejected: \(dir)/broken.json"), none.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/m3.jsonl"))
    }
}
