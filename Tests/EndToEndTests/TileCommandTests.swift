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

    /// The same scene given twice (as a folder and as its MTL) is refused: its tiles would be in the
    /// dataset twice.
    func testSameSceneTwiceIsRefused() throws {
        let scene = sceneFolder(c2)
        try assertFails(["tile", scene, scene + "/\(c2)_MTL.txt", "--out", dir + "/ds"], out: dir + "/ds",
                        mentions: ["scene \(c2) is given more than once", "Give each scene once"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/ds"))
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
        // A dataset is replaced again...
        let again = try moemae(["tile", sceneFolder(pre), "--out", out, "--overwrite", "--quiet"])
        XCTAssertEqual(again.status, 0, again.stderr)
        // ...but --overwrite never deletes a folder or file that is not a dataset (given as --out by mistake).
        let folder = dir + "/my-data", file = dir + "/scene.tif"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: folder + "/notes.txt"))
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: file))
        for target in [folder, file] {
            let r = try moemae(["tile", sceneFolder(c2), "--out", target, "--overwrite", "--quiet"])
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertTrue(r.stderr.hasPrefix("error: \(target): exists and is not a moemae dataset folder"), r.stderr)
        }
        XCTAssertEqual(try String(contentsOfFile: folder + "/notes.txt", encoding: .utf8), "keep me")
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "keep me")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("partial") }, [])
    }

    func testEveryTileFilteredOut() throws {
        // A scene whose reflectance bands are all fill (DN 0): every tile has valid fraction 0.
        let scene = try linkScene(c2, into: dir + "/in", except: Set((1...7).map { "_SR_B\($0).TIF" }))
        for b in 1...7 {
            let name = "\(c2)_SR_B\(b).TIF"
            try runTool("gdal_translate", ["-q", "-scale", "0", "65535", "0", "0", "-ot", "UInt16", sceneFolder(c2) + "/" + name, scene + "/" + name])
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

    // MARK: As a user runs it

    func testRelativePathsAndSpacesInPaths() throws {
        let scene = try linkScene(c2, into: dir + "/my scenes")
        let r = try moemae(["tile", "my scenes/\(c2)/\(c2)_MTL.json", "--out", "out ds", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("out ds"), r.stdout)
        let scenes = try manifest(dir + "/out ds")["scenes"] as! [[String: Any]]
        let files = try XCTUnwrap(scenes.first?["files"] as? [String])
        XCTAssertEqual(files.count, 9)  // MTL, SR_B1…SR_B7, QA_PIXEL
        for f in files {
            XCTAssertTrue(f.hasPrefix("/") && f.contains("/my scenes/"), "manifest file paths must be absolute: \(f)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: f), f)
        }
        XCTAssertEqual(files.first, URL(fileURLWithPath: scene + "/\(c2)_MTL.json").standardizedFileURL.path)
    }

    /// A real full disk (a tmpfs of 64 KiB: the tile index fills it; 128 KiB: the shard does; root only,
    /// else skipped): exit 1, the file named and the disk said to be full, no dataset and no partial folder.
    func testFullDiskIsAClearErrorAndLeavesNothing() throws {
        let dir = makeTempDirectory("e2e-tile-full")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for kib in [64, 128] {
            if let why = mountTmpfs(at: dir, kib: kib) { throw XCTSkip(why) }
            defer { unmountTmpfs(dir) }
            let r = try moemae(["tile", sceneFolder("LC08_L2SP_008059_20191201_20200825_02_T1"), "--out", dir + "/ds", "--quiet"])
            XCTAssertEqual(r.status, 1, "\(kib) KiB: \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("error: \(dir)/.ds.partial-") && r.stderr.contains("No space left on device"), "\(kib) KiB: \(r.stderr)")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "\(kib) KiB: nothing left")
        }
    }

    func testUnwritableOutputFolder() throws {
        // /proc refuses new folders even to root (a chmod'ed folder would not stop root).
        let out = "/proc/moemae-e2e-\(UUID().uuidString)"
        let r = try moemae(["tile", sceneFolder(c2), "--out", out])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains(out) && r.stderr.contains("writable"), r.stderr)
        XCTAssertFalse(r.stderr.contains(".."), "doubled full stop: \(r.stderr)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testMissingOutputParentFolder() throws {
        try assertFails(["tile", sceneFolder(c2), "--out", dir + "/no/such/ds"], out: dir + "/no", mentions: [dir + "/no/such", "does not exist"])
    }

    func testBadShardSizeFailsBeforeReadingScenes() throws {
        let r = try moemae(["tile", sceneFolder(pre), "--out", dir + "/ds", "--shard-size", "0"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--shard-size"), r.stderr)
        XCTAssertFalse(r.stderr.contains("note:"), "options must be checked before scenes are opened: \(r.stderr)")
    }

    /// Ctrl-C while tiles are being written: exit 130, a message, no dataset and no temporary folder.
    func testInterruptLeavesNoDataset() throws {
        guard let binary = moemaeBinary else { throw XCTSkip("moemae binary not built") }
        let out = dir + "/ds", errPath = dir + "/stderr.txt"
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        // The same scene as 20 products (symbolic links to its bands, its MTL with another scene id; the
        // same product twice is refused): long enough to be interrupted while tiling (and at most 20
        // scenes, so progress is reported every 20 tile rows, starting with the first).
        let mtl = try String(contentsOfFile: sceneFolder(pre) + "/\(pre)_MTL.txt", encoding: .utf8)
        var copies: [String] = []
        for i in 0..<20 {
            let copy = try linkScene(pre, into: dir + "/in\(i)", except: ["_MTL.txt"])
            try mtl.replacingOccurrences(of: "LANDSAT_SCENE_ID = \"\(pre)\"", with: "LANDSAT_SCENE_ID = \"\(pre)-\(i)\"")
                .write(toFile: copy + "/\(pre)_MTL.txt", atomically: true, encoding: .utf8)
            copies.append(copy)
        }
        p.arguments = ["tile"] + copies + ["--out", out]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        func stderr() -> String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
        while p.isRunning, Date() < deadline, !stderr().contains("tiles written") { usleep(10_000) }
        XCTAssertTrue(p.isRunning, "tiling finished before it could be interrupted: \(stderr())")
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .exit, "killed by the signal instead of stopping cleanly")
        XCTAssertEqual(p.terminationStatus, 130, stderr())
        XCTAssertTrue(stderr().contains("SIGINT") && stderr().contains(out), stderr())
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).filter { !$0.hasPrefix("in") }, ["stderr.txt"],
                       "a dataset or temporary folder was left")
    }

    /// The dataset the command writes loads with safetensors + numpy (the example script, then the values:
    /// a tile's centre against gdaltransform of the centre computed here from the manifest's geotransform,
    /// a pixel against gdallocationinfo).
    func testDatasetLoadsInPythonWithIndependentlyCheckedValues() throws {
        let out = dir + "/ds"
        XCTAssertEqual(try moemae(["tile", sceneFolder(pre), "--out", out, "--quiet"]).status, 0)
        let example = try runTool("python3", [repositoryRoot + "/examples/load_dataset.py", out])
        let summary = try JSONSerialization.jsonObject(with: Data(example.utf8)) as! [String: Any]
        XCTAssertEqual(summary["tiles"] as? Int, 256)

        let (row, col) = (11, 4)
        let py = try runPython("""
        import json, sys, numpy as np
        from safetensors.numpy import load_file
        t = load_file(sys.argv[1] + "/tiles-00000.safetensors")
        i = int(np.flatnonzero((t["row"] == int(sys.argv[2])) & (t["col"] == int(sys.argv[3])))[0])
        print(json.dumps({"lat": float(t["lat"][i]), "lon": float(t["lon"][i]), "week": int(t["week"][i]), "hour": float(t["hour"][i]),
                          "scene": int(t["scene"][i]), "b4": int(t["pixels"][i, 3, 5, 10]), "valid": int(t["valid"][i, 5, 10])}))
        """, [out, "\(row)", "\(col)"])
        let v = try JSONSerialization.jsonObject(with: Data(py.utf8)) as! [String: Any]
        let scene = (try manifest(out)["scenes"] as! [[String: Any]])[0]
        let gt = scene["geotransform"] as! [Double]
        let (pixel, line) = (Double(col * 40 + 20), Double(row * 40 + 20))  // centre of the 40×40 footprint, pixel-is-area
        let x = gt[0] + pixel * gt[1] + line * gt[2], y = gt[3] + pixel * gt[4] + line * gt[5]
        let ref = try gdaltransform(scene["crs_wkt2"] as! String, x, y)
        XCTAssertEqual(v["lon"] as! Double, ref.lon, accuracy: 1e-6)
        XCTAssertEqual(v["lat"] as! Double, ref.lat, accuracy: 1e-6)
        XCTAssertEqual(v["week"] as? Int, 32)
        XCTAssertEqual(v["hour"] as! Double, 16.3227, accuracy: 1e-4)
        XCTAssertEqual(v["scene"] as? Int, 0)
        let b4 = try runTool("gdallocationinfo", ["-valonly", sceneFolder(pre) + "/\(pre)_B4.TIF", "\(col * 40 + 10)", "\(row * 40 + 5)"])
        XCTAssertEqual(Int(b4.trimmingCharacters(in: .whitespacesAndNewlines)), v["b4"] as? Int)
        XCTAssertEqual(v["valid"] as? Int, 1)
    }

    /// `--format geotiff`: each chip carries the tile's per-pixel validity as an internal GDAL mask.
    func testGeoTIFFChipsCarryTheValidityMask() throws {
        // Greenland: fill (DN 0) outside the rotated footprint gives partly valid tiles.
        let greenland = "LC08_L2SP_005009_20150710_20200908_02_T2"
        let out = dir + "/chips"
        let r = try moemae(["tile", sceneFolder(greenland), "--out", out, "--format", "geotiff", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        var partial: (name: String, fraction: Double)?
        for f in try FileManager.default.contentsOfDirectory(atPath: out + "/labels").sorted() {
            let label = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/labels/" + f))) as! [String: Any]
            let fraction = label["valid_fraction"] as! Double
            if fraction > 0.2, fraction < 0.8 { partial = (String(f.dropLast("_metadata.json".count)), fraction); break }
        }
        let chip = try XCTUnwrap(partial, "no partly valid tile in the Greenland scene")
        let image = out + "/images/\(chip.name).tif"
        let info = try runTool("gdalinfo", ["-json", image])
        let json = try JSONSerialization.jsonObject(with: Data(info.utf8)) as! [String: Any]
        for band in json["bands"] as! [[String: Any]] {
            let mask = try XCTUnwrap(band["mask"] as? [String: Any], "band without mask: \(band)")
            XCTAssertEqual(mask["flags"] as? [String], ["PER_DATASET"])
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: image + ".msk"), "the mask must be inside the GeoTIFF")
        let grid = dir + "/mask.asc"
        try runTool("gdal_translate", ["-q", "-b", "mask", "-of", "AAIGrid", image, grid])
        // Header lines (ncols, nrows, xllcorner, …) start with a letter; the rest are the 40 rows of values.
        let values = try String(contentsOfFile: grid, encoding: .utf8).split(separator: "\n").filter { !($0.first?.isLetter ?? true) }
            .flatMap { $0.split(separator: " ") }.compactMap { Int($0) }
        XCTAssertEqual(values.count, 1600)
        XCTAssertEqual(Set(values), [0, 255])
        XCTAssertEqual(Double(values.filter { $0 == 255 }.count) / 1600, chip.fraction, accuracy: 1e-9)
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
