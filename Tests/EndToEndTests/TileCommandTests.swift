import Foundation
import XCTest

/// `moemae tile` run as a user runs it: the real binary, real scenes, broken copies of them.
final class TileCommandTests: XCTestCase {
    var dir: String!
    override func setUp() { dir = makeTempDirectory("e2e-tile") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    let pre = "LC80200392015216LGN00"
    let c2 = "LC08_L2SP_008059_20191201_20200825_02_T1"

    func testRootHelpListsTile() throws {
        let r = try moemae(["--help"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("tile"), r.stdout)
        XCTAssertTrue(r.stdout.contains("USAGE: moemae"), r.stdout)
    }

    func testTileHelpDocumentsEveryOption() throws {
        let r = try moemae(["tile", "--help"])
        XCTAssertEqual(r.status, 0)
        for option in ["--out", "--tile-size", "--edge", "--min-valid", "--hour", "--no-metadata", "--shard-size", "--format", "--overwrite", "BigEarthNet"] {
            XCTAssertTrue(r.stdout.contains(option), "help lacks \(option):\n\(r.stdout)")
        }
    }

    func manifest(_ out: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/manifest.json"))) as! [String: Any]
    }

    func testTilesPreCollectionSceneWithRequiredFigures() throws {
        let out = dir + "/ds"
        let r = try moemae(["tile", sceneFolder(pre), "--out", out, "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let m = try manifest(out)
        let scene = (m["scenes"] as! [[String: Any]])[0]
        XCTAssertEqual(scene["grid_rows"] as? Int, 16); XCTAssertEqual(scene["grid_cols"] as? Int, 16)
        XCTAssertEqual(scene["id"] as? String, pre)
        XCTAssertEqual(scene["acquired"] as? String, "2015-08-04T16:19:21.79Z")
        XCTAssertEqual(scene["model_ready"] as? Bool, false)
        XCTAssertEqual(scene["epsg"] as? Int, 32616)
        XCTAssertEqual((m["shards"] as! [[String: Any]]).map { $0["tiles"] as! Int }, [256])

        let drop = dir + "/drop"
        XCTAssertEqual(try moemae(["tile", sceneFolder(pre), "--out", drop, "--edge", "drop", "--hour", "published", "--quiet"]).status, 0)
        let md = try manifest(drop)
        let sd = (md["scenes"] as! [[String: Any]])[0]
        XCTAssertEqual(sd["grid_rows"] as? Int, 15); XCTAssertEqual(sd["grid_cols"] as? Int, 15)
        XCTAssertEqual(md["hour_policy"] as? String, "published")
        XCTAssertEqual(md["edge"] as? String, "drop")
    }

    func testNoMetadataAndGeoTIFFFormat() throws {
        let out = dir + "/chips"
        let r = try moemae(["tile", sceneFolder(c2), "--out", out, "--format", "geotiff", "--no-metadata", "--min-valid", "0.5", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let m = try manifest(out)
        XCTAssertEqual(m["metadata"] as? Bool, false)
        XCTAssertEqual(m["layout"] as? String, "geotiff")
        let images = try FileManager.default.contentsOfDirectory(atPath: out + "/images")
        let labels = try FileManager.default.contentsOfDirectory(atPath: out + "/labels")
        XCTAssertGreaterThan(images.count, 0)
        XCTAssertEqual(images.count, labels.count)
        let first = try XCTUnwrap(labels.sorted().first)
        let label = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/labels/" + first))) as! [String: Any]
        XCTAssertEqual(label["lat"] as? Double, 0); XCTAssertEqual(label["week"] as? Int, 0)
    }

    /// Asserts a failed run: non-zero exit, one message naming `mentions`, no output folder.
    func assertFails(_ args: [String], out: String, mentions: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try moemae(args)
        XCTAssertNotEqual(r.status, 0, "expected failure, got success", file: file, line: line)
        for m in mentions { XCTAssertTrue(r.stderr.contains(m), "stderr lacks '\(m)':\n\(r.stderr)", file: file, line: line) }
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr, file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/manifest.json"), "a complete-looking output was left", file: file, line: line)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (out as NSString).deletingLastPathComponent).filter { $0.contains(".partial") }
        XCTAssertEqual(leftovers, [], "temporary output left behind", file: file, line: line)
    }

    func testMissingBandFile() throws {
        let scene = try linkScene(c2, into: dir + "/in", except: ["_SR_B5.TIF"])
        try assertFails(["tile", scene, "--out", dir + "/ds"], out: dir + "/ds", mentions: ["SR_B5.TIF"])
    }

    func testTruncatedTIFF() throws {
        let scene = try linkScene(c2, into: dir + "/in", except: ["_SR_B3.TIF"])
        let name = "\(c2)_SR_B3.TIF"
        let data = try Data(contentsOf: URL(fileURLWithPath: sceneFolder(c2) + "/" + name))
        try data.prefix(data.count * 2 / 3).write(to: URL(fileURLWithPath: scene + "/" + name))
        try assertFails(["tile", scene, "--out", dir + "/ds"], out: dir + "/ds", mentions: [name, "truncated"])
    }

    func testFolderWithoutMTL() throws {
        let scene = try linkScene(c2, into: dir + "/in", except: ["_MTL.txt", "_MTL.json", "_MTL.xml"])
        try assertFails(["tile", scene, "--out", dir + "/ds"], out: dir + "/ds", mentions: [scene, "MTL"])
    }

    func testUnparseableMTL() throws {
        let scene = try linkScene(c2, into: dir + "/in", except: ["_MTL.txt", "_MTL.json", "_MTL.xml"])
        try Data("GROUP = LANDSAT_METADATA_FILE\n  this is = = not ODL\n".utf8).write(to: URL(fileURLWithPath: scene + "/\(c2)_MTL.txt"))
        try assertFails(["tile", scene, "--out", dir + "/ds"], out: dir + "/ds", mentions: ["\(c2)_MTL.txt"])
    }

    func testMismatchedBandGrids() throws {
        // The pre-collection MTL made to list the 15 m panchromatic file as band 3.
        let scene = try linkScene(pre, into: dir + "/in", except: ["_MTL.txt"])
        let mtl = try String(contentsOfFile: sceneFolder(pre) + "/\(pre)_MTL.txt", encoding: .utf8)
            .replacingOccurrences(of: "FILE_NAME_BAND_3 = \"\(pre)_B3.TIF\"", with: "FILE_NAME_BAND_3 = \"\(pre)_B8.TIF\"")
        try mtl.write(toFile: scene + "/\(pre)_MTL.txt", atomically: true, encoding: .utf8)
        try assertFails(["tile", scene, "--out", dir + "/ds"], out: dir + "/ds", mentions: ["\(pre)_B8.TIF", "\(pre)_B1.TIF"])
    }

    func testExistingOutputRefusedUnlessOverwrite() throws {
        let out = dir + "/ds"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        let r = try moemae(["tile", sceneFolder(c2), "--out", out])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--overwrite"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), [])
        let ok = try moemae(["tile", sceneFolder(c2), "--out", out, "--overwrite", "--quiet"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/manifest.json"))
    }

    func testEveryTileFilteredOut() throws {
        // A scene whose reflectance bands are all fill (DN 0): every tile has valid fraction 0.
        let scene = try linkScene(c2, into: dir + "/in", except: Set((1...7).map { "_SR_B\($0).TIF" }))
        for b in 1...7 {
            let name = "\(c2)_SR_B\(b).TIF"
            try tool("gdal_translate", ["-q", "-scale", "0", "65535", "0", "0", "-ot", "UInt16", sceneFolder(c2) + "/" + name, scene + "/" + name])
        }
        try assertFails(["tile", scene, "--out", dir + "/ds", "--min-valid", "0.1"], out: dir + "/ds", mentions: ["--min-valid"])
    }

    func testBadOptionValues() throws {
        let r = try moemae(["tile", sceneFolder(c2), "--out", dir + "/ds", "--edge", "wrap"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("wrap"), r.stderr)
        let m = try moemae(["tile", sceneFolder(c2), "--out", dir + "/ds", "--min-valid", "2"])
        XCTAssertNotEqual(m.status, 0)
        XCTAssertTrue(m.stderr.contains("--min-valid"), m.stderr)
    }
}

final class TileBigEarthNetCommandTests: XCTestCase {
    func testBigEarthNetFolderBecomesOneTilePerPatch() throws {
        let dir = makeTempDirectory("e2e-ben")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/ds"
        let r = try moemae(["tile", "\(sharedDirectory)/data/patches/bigearthnet-l-sample", "--out", out, "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("without a label file"), r.stderr)
        let m = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/manifest.json"))) as! [String: Any]
        let scenes = m["scenes"] as! [[String: Any]]
        XCTAssertEqual(scenes.count, 199)
        XCTAssertEqual(scenes.first?["id"] as? String, "S2A_MSIL2A_20170613T101031_11_66")
        XCTAssertEqual(scenes.first?["acquired"] as? String, "2017-06-13T10:10:31Z")
        XCTAssertEqual((m["shards"] as! [[String: Any]]).map { $0["tiles"] as! Int }, [199])
    }
}
