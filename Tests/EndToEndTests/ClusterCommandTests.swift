import Foundation
import XCTest

/// `moemae plan`, `moemae map --manifest` and `moemae gather` end to end (docs/scaling.md): the real
/// binary on real shared scenes plus copies with other product ids, the bundled model, GDAL's tools
/// and the vendored STAC schemas as references; a real single-node Slurm cluster
/// (scripts/slurm-local.sh) for the array-job test.
class ClusterTestCase: XCTestCase {
    static let weights = "\(repositoryRoot)/models/default/weights.safetensors"
    static let probe = "\(repositoryRoot)/models/default/probe-bigearthnet19.safetensors"
    /// Real C2 L2 scenes of the shared data (512×512, three UTM zones and the Antarctic polar grid).
    static let real = ["LC08_L2SP_005009_20150710_20200908_02_T2", "LC08_L2SP_008059_20191201_20200825_02_T1",
                       "LC08_L2SP_017036_20130419_20200913_02_T2", antarctic]

    var dir = ""
    override func setUpWithError() throws { dir = makeTempDirectory("moemae-cluster") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// A copy of a shared scene under another product id (processing date `day` instead of the real
    /// one): symbolic links to its rasters under the new names and its MTL text with the id replaced.
    func copyScene(_ product: String, day: Int) throws -> String {
        var parts = product.split(separator: "_").map(String.init)
        parts[4] = String(parts[4].prefix(6)) + String(format: "%02d", day)
        let id = parts.joined(separator: "_")
        let target = dir + "/copies/" + id
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        for f in try FileManager.default.contentsOfDirectory(atPath: sceneFolder(product)) where !f.contains("_MTL.") {
            try FileManager.default.createSymbolicLink(atPath: target + "/" + f.replacingOccurrences(of: product, with: id),
                                                       withDestinationPath: sceneFolder(product) + "/" + f)
        }
        let mtl = try String(contentsOfFile: scenePath(product, "MTL.txt"), encoding: .utf8)
        try mtl.replacingOccurrences(of: product, with: id).write(toFile: target + "/\(id)_MTL.txt", atomically: true, encoding: .utf8)
        return target
    }

    /// Six scenes (four real, two copies) planned into `dir/manifest.jsonl`; returns the product ids in line order.
    @discardableResult
    func planSix() throws -> [String] {
        let copies = [try copyScene(Self.real[0], day: 1), try copyScene(Self.real[1], day: 2)]
        let r = try moemae(["plan"] + Self.real.map(sceneFolder) + copies + ["--out", dir + "/manifest.jsonl"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return try manifestIDs()
    }

    func manifestIDs() throws -> [String] {
        try String(contentsOfFile: dir + "/manifest.jsonl", encoding: .utf8).split(separator: "\n").map {
            (try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])["id"] as! String
        }
    }

    func mapArgs(_ out: String) -> [String] {
        ["map", "--manifest", dir + "/manifest.jsonl", "--out", out, "--weights", Self.weights, "--probe", Self.probe, "--quiet"]
    }

    /// SHA-256 of every raster (`.tif`) and VRT of an output folder, by file name.
    func rasterHashes(_ folder: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for f in try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        where (f.hasSuffix(".tif") || f.hasSuffix(".vrt")) && !f.hasPrefix("mosaic-") && !f.hasPrefix(".") {
            let r = try runProcess("/usr/bin/sha256sum", ["\(folder)/\(f)"])
            out[f] = r.stdout.split(separator: " ").first.map(String.init) ?? ""
        }
        return out
    }

    /// Every task summary of a folder (`run-summary-*.json`), decoded.
    func taskSummaries(_ folder: String) throws -> [[String: Any]] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("run-summary-") }.sorted().map {
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/" + $0))) as! [String: Any]
        }
    }

    /// How often each product was published (`status: mapped`) over all task summaries of a folder.
    func mappedCounts(_ folder: String) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for s in try taskSummaries(folder) {
            for line in s["scenes"] as! [[String: Any]] where line["status"] as? String == "mapped" {
                counts[line["id"] as! String, default: 0] += 1
            }
        }
        return counts
    }

    func validateSchema(_ schema: String, jsonLines file: String) throws -> String {
        try runPython("""
        import json, sys
        from jsonschema import Draft202012Validator
        v = Draft202012Validator(json.load(open(sys.argv[1])))
        bad = [f"line {n}: {e.message}" for n, l in enumerate(open(sys.argv[2])) for e in v.iter_errors(json.loads(l))]
        print("\\n".join(bad) if bad else "ok")
        """, ["\(repositoryRoot)/schemas/\(schema)", file]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func validateCollection(_ path: String) throws -> String {
        let r = try runProcess("/usr/bin/env", ["python3", "\(repositoryRoot)/Tests/EndToEndTests/Python/validate_stac_collection.py",
                                                 "\(repositoryRoot)/schemas/stac", path])
        return (r.stdout + r.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
    }

}

final class ClusterCommandTests: ClusterTestCase {
    // MARK: plan

    /// The manifest is sorted, deterministic, valid against its schema; bad inputs are listed with the reason.
    func testPlanWritesSortedDeterministicManifestAndListsRejectedInputs() throws {
        let ids = try planSix()
        XCTAssertEqual(ids, ids.sorted())
        XCTAssertEqual(ids.count, 6)
        let first = try Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.jsonl"))
        XCTAssertEqual(try validateSchema("scene-manifest.schema.json", jsonLines: dir + "/manifest.jsonl"), "ok")
        let line = try JSONSerialization.jsonObject(with: first.split(separator: 0x0A)[0]) as! [String: Any]
        XCTAssertEqual(line["estimated_tiles"] as? Int, 13 * 13, "512×512 pixels in 40-pixel tiles, edges padded")
        XCTAssertEqual(line["index"] as? Int, 0)

        // Same inputs in another order, plus a missing path and a folder without a scene: same manifest
        // bytes; the bad inputs are in manifest.rejected.jsonl and on stderr.
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        let copies = try FileManager.default.contentsOfDirectory(atPath: dir + "/copies").map { dir + "/copies/" + $0 }
        let r = try moemae(["plan", dir + "/nope"] + copies.reversed() + Self.real.reversed().map(sceneFolder)
                           + [dir + "/empty", "--out", dir + "/manifest.jsonl"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.jsonl")), first)
        let rejected = try String(contentsOfFile: dir + "/manifest.rejected.jsonl", encoding: .utf8)
        XCTAssertEqual(rejected.split(separator: "\n").count, 2, rejected)
        XCTAssertTrue(rejected.contains(dir + "/nope") && rejected.contains(dir + "/empty"), rejected)
        XCTAssertTrue(r.stderr.contains("rejected: \(dir)/nope"), r.stderr)

        // The same product twice (folder and its MTL) is rejected, not planned twice.
        let twice = try moemae(["plan", sceneFolder(Self.real[0]), scenePath(Self.real[0], "MTL.txt"), "--out", dir + "/m2.jsonl"])
        XCTAssertEqual(twice.status, 0, twice.stderr)
        XCTAssertEqual(try String(contentsOfFile: dir + "/m2.jsonl", encoding: .utf8).split(separator: "\n").count, 1)
        XCTAssertTrue(try String(contentsOfFile: dir + "/m2.rejected.jsonl", encoding: .utf8).contains("already planned"))

        // Nothing usable: error, no manifest.
        let none = try moemae(["plan", dir + "/nope", "--out", dir + "/m3.jsonl"])
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.stderr.contains("no usable scene"), none.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/m3.jsonl"))
    }

    // MARK: shards from the engines' environments

    /// Kubernetes (JOB_COMPLETION_INDEX + --shard-count) and AWS Batch (AWS_BATCH_JOB_ARRAY_INDEX +
    /// AWS_BATCH_JOB_ARRAY_SIZE): N local processes give the same outputs as one process; every task
    /// says which variable it used; every scene is mapped exactly once; the shards are disjoint and
    /// cover the manifest. Also: the Kubernetes recipe parses.
    func testKubernetesAndAWSBatchIndexContractsGiveTheSameOutputsAsOneProcess() throws {
        let ids = try planSix()
        guard let binary = moemaeBinary else { throw XCTSkip("moemae binary not built") }
        let single = try moemae(mapArgs(dir + "/single"))
        XCTAssertEqual(single.status, 0, single.stderr)
        XCTAssertTrue(single.stderr.contains("no shard given"), single.stderr)
        let reference = try rasterHashes(dir + "/single")
        XCTAssertEqual(reference.count, ids.count * 3, "labels, experts and the experts VRT of every scene")

        for (name, env) in [("k8s", { (i: Int) in ["JOB_COMPLETION_INDEX": "\(i)"] }),
                            ("batch", { (i: Int) in ["AWS_BATCH_JOB_ARRAY_INDEX": "\(i)", "AWS_BATCH_JOB_ARRAY_SIZE": "3"] })] {
            let out = dir + "/" + name
            var runs: [(Process, Pipe)] = []
            for i in 0..<3 {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: binary)
                p.arguments = mapArgs(out) + (name == "k8s" ? ["--shard-count", "3"] : [])
                var environment = ProcessInfo.processInfo.environment
                for key in ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"] { environment[key] = nil }
                environment.merge(env(i)) { $1 }
                p.environment = environment
                let err = Pipe()
                p.standardError = err; p.standardOutput = FileHandle.nullDevice
                try p.run()
                runs.append((p, err))
            }
            for (i, (p, err)) in runs.enumerated() {
                let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                p.waitUntilExit()
                XCTAssertEqual(p.terminationStatus, 0, text)
                XCTAssertTrue(text.contains(name == "k8s" ? "JOB_COMPLETION_INDEX=\(i) of shard count 3" : "AWS_BATCH_JOB_ARRAY_INDEX=\(i) of AWS_BATCH_JOB_ARRAY_SIZE=3"), text)
            }
            XCTAssertEqual(try rasterHashes(out), reference, "\(name): same bytes as one process")
            XCTAssertEqual(try mappedCounts(out), Dictionary(uniqueKeysWithValues: ids.map { ($0, 1) }), "\(name): each scene once")
            let lines = try taskSummaries(out).flatMap { ($0["shard"] as! [String: Any])["lines"] as! [Int] }
            XCTAssertEqual(lines.sorted(), Array(0..<ids.count), "\(name): disjoint shards covering the manifest")
            for s in try FileManager.default.contentsOfDirectory(atPath: out).filter({ $0.hasPrefix("run-summary-") }) {
                XCTAssertEqual(try validateSchema("shard-summary.schema.json", jsonLines: try compactJSONLine(out + "/" + s)), "ok", s)
            }
        }

        // Kubernetes needs the count; a shard index without it is refused before anything is written.
        var environment = ProcessInfo.processInfo.environment
        environment["JOB_COMPLETION_INDEX"] = "1"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary); p.arguments = mapArgs(dir + "/nocount"); p.environment = environment
        let err = Pipe(); p.standardError = err; p.standardOutput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 1)
        XCTAssertTrue(text.contains("--shard-count"), text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/nocount"))

        // The Kubernetes recipe parses as Kubernetes objects (kubectl, offline) and is an Indexed Job
        // with per-index retries.
        let k = try runProcess("/usr/bin/env", ["kubectl", "label", "--local", "-f", "\(repositoryRoot)/deploy/kubernetes/map-indexed-job.yaml",
                                                 "moemae-test=1", "-o", "yaml"])
        guard k.status == 0 else {
            if k.stderr.contains("No such file") || k.stderr.contains("not found") { throw XCTSkip("kubectl not installed") }
            return XCTFail(k.stderr)
        }
        XCTAssertTrue(k.stdout.contains("completionMode: Indexed") && k.stdout.contains("backoffLimitPerIndex:"), k.stdout)
        XCTAssertTrue(k.stdout.contains("--shard-count"), k.stdout)
    }

    /// One pretty-printed JSON file as a one-line JSON Lines file (for validateSchema).
    func compactJSONLine(_ path: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        let line = dir + "/" + (path as NSString).lastPathComponent + ".jsonl"
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: line))
        return line
    }

    // MARK: overlap, SIGKILL

    /// Two processes with overlapping shards on one output folder, then a task killed with SIGKILL while
    /// mapping and run again: every scene is complete exactly once (one `mapped` over all summaries),
    /// final-named files are complete, no claim is left.
    func testOverlappingShardsAndAKilledTaskPublishEverySceneExactlyOnce() throws {
        let ids = try planSix()
        guard let binary = moemaeBinary else { throw XCTSkip("moemae binary not built") }
        let out = dir + "/out"
        // --shard 0/1 is every line; --shard 0/2 is half of them: they overlap on that half.
        let a = try BoundedRun(binary, mapArgs(out) + ["--shard", "0/1"])
        let b = try BoundedRun(binary, mapArgs(out) + ["--shard", "0/2"])
        let errA = a.wait(atMost: 600), errB = b.wait(atMost: 600)
        XCTAssertEqual(a.process.terminationStatus, 0, errA)
        XCTAssertEqual(b.process.terminationStatus, 0, errB)
        XCTAssertEqual(try mappedCounts(out), Dictionary(uniqueKeysWithValues: ids.map { ($0, 1) }), errA + errB)
        for id in ids { XCTAssertTrue(FileManager.default.fileExists(atPath: "\(out)/\(id).stac.json")) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out + "/.moemae-claims"), [], "claims released")

        // SIGKILL in the middle, then the same task again.
        let killed = dir + "/killed"
        let k = try BoundedRun(binary, mapArgs(killed))
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let published = (try? FileManager.default.contentsOfDirectory(atPath: killed))?.filter { $0.hasSuffix(".stac.json") }.count ?? 0
            let staging = (try? FileManager.default.contentsOfDirectory(atPath: killed))?.contains { $0.hasPrefix(".moemae-partial-") } ?? false
            if published >= 2 && staging { break }
            usleep(5_000)
        }
        k.send(SIGKILL)
        _ = k.wait(atMost: 30)
        let before = (try FileManager.default.contentsOfDirectory(atPath: killed)).filter { $0.hasSuffix(".stac.json") }
        XCTAssertLessThan(before.count, ids.count, "killed before the end")
        // Every final-named Item has all its outputs (the Item is published last).
        for item in before {
            let id = String(item.dropLast(".stac.json".count))
            for suffix in ["_labels.tif", "_experts.tif", "_summary.json"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: "\(killed)/\(id)\(suffix)"), id + suffix)
            }
        }
        let again = try moemae(mapArgs(killed))
        XCTAssertEqual(again.status, 0, again.stderr)
        let summary = try taskSummaries(killed).first!
        let statuses = (summary["scenes"] as! [[String: Any]]).map { $0["status"] as! String }
        XCTAssertEqual(statuses.filter { $0 == "complete" }.count, before.count, "scenes finished before the kill are kept")
        XCTAssertEqual(statuses.filter { $0 == "mapped" }.count, ids.count - before.count)
        XCTAssertEqual(try rasterHashes(killed), try rasterHashes(out), "same bytes as the uninterrupted run")
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: killed).contains { $0.hasPrefix(".moemae-partial-") })
    }

    // MARK: gather

    /// gather: Collection valid against the vendored STAC schemas, missing lines with the exact
    /// resubmission, per-CRS VRTs with the class colour table, and a one-CRS COG with class names.
    func testGatherWritesCollectionMissingListVRTsAndOneCRSMosaic() throws {
        let ids = try planSix()
        let out = dir + "/out"
        // Map all but lines 1 and 4.
        let r = try moemae(mapArgs(out) + ["--lines", "0,2,3,5"])
        XCTAssertEqual(r.status, 0, r.stderr)
        var g = try moemae(["gather", out, "--manifest", dir + "/manifest.jsonl"])
        XCTAssertEqual(g.status, 0, g.stderr)
        XCTAssertTrue(g.stdout.contains("missing: 2 lines: 1,4"), g.stdout)
        XCTAssertTrue(g.stdout.contains("sbatch --array=1,4 --export=ALL,MOEMAE_BY_LINE=1 deploy/slurm/map-array.sbatch"), g.stdout)
        let missing = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/missing.json"))) as! [String: Any]
        XCTAssertEqual((missing["missing"] as! [[String: Any]]).map { $0["id"] as! String }, [ids[1], ids[4]])
        XCTAssertEqual(try validateCollection(out + "/collection.json"), "ok 4 items")

        // The resubmission the local command names completes the set.
        let rest = try moemae(mapArgs(out) + ["--lines", "1,4"])
        XCTAssertEqual(rest.status, 0, rest.stderr)
        g = try moemae(["gather", out, "--manifest", dir + "/manifest.jsonl", "--mosaic-crs", "EPSG:3857", "--resolution", "20000"])
        XCTAssertEqual(g.status, 0, g.stderr)
        XCTAssertTrue(g.stdout.contains("missing: none"), g.stdout)
        XCTAssertEqual(try validateCollection(out + "/collection.json"), "ok 6 items")
        let collection = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/collection.json"))) as! [String: Any]
        let summaries = collection["summaries"] as! [String: Any]
        let epsg = (summaries["proj:epsg"] as! [Int]).sorted()
        XCTAssertEqual(epsg.count, 4, "three UTM zones and the Antarctic polar stereographic grid")

        // One VRT per CRS and product: the Items' own EPSG codes; labels carry the colour table and class names.
        let vrts = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix("mosaic-") && $0.contains("-EPSG-") }.sorted()
        XCTAssertEqual(vrts, epsg.flatMap { ["mosaic-experts-EPSG-\($0).vrt", "mosaic-labels-EPSG-\($0).vrt"] }.sorted())
        let utm = "EPSG-\(try crsOf(ids, Self.real[0], out))"
        let info = try runTool("gdalinfo", ["\(out)/mosaic-labels-\(utm).vrt"])
        XCTAssertTrue(info.contains("Color Table") && info.contains("Categories:"), info)
        let vrtText = try String(contentsOfFile: "\(out)/mosaic-labels-\(utm).vrt", encoding: .utf8)
        XCTAssertEqual(vrtText.components(separatedBy: "<ComplexSource").count + vrtText.components(separatedBy: "<SimpleSource").count - 2, 2,
                       "the real scene and its copy share the zone")

        // The COG: one CRS, nearest neighbour, colour table and class names; a COG by GDAL's own check.
        let cog = try runTool("gdalinfo", ["-json", "\(out)/mosaic-labels.tif"])
        XCTAssertTrue(cog.contains("\"LAYOUT\":\"COG\"") || cog.contains("\"LAYOUT\": \"COG\""), cog)
        XCTAssertTrue(cog.contains("colorTable"), "colour table kept")
        XCTAssertTrue(cog.contains("\"categories\""), "class names kept")
        XCTAssertTrue(cog.contains("3857"), cog)
        let expertsCOG = try runTool("gdalinfo", ["\(out)/mosaic-experts.tif"])
        XCTAssertTrue(expertsCOG.contains("Band 2"), "one band per encoder layer")
        // Every band's palette through the VRT beside it (a multi-band TIFF holds one colour table).
        let expertsVRT = try runTool("gdalinfo", ["\(out)/mosaic-experts.vrt"])
        let bands = expertsVRT.components(separatedBy: "\nBand ").count - 1
        XCTAssertGreaterThan(bands, 1)
        XCTAssertEqual(expertsVRT.components(separatedBy: "Color Table").count - 1, bands, "a palette on every band")

        // A manifest line edited out of order is refused with the line named.
        var text = try String(contentsOfFile: dir + "/manifest.jsonl", encoding: .utf8).split(separator: "\n").map(String.init)
        text.swapAt(0, 1)
        try (text.joined(separator: "\n") + "\n").write(toFile: dir + "/bad.jsonl", atomically: true, encoding: .utf8)
        let bad = try moemae(["gather", out, "--manifest", dir + "/bad.jsonl"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("line 1 has index 1"), bad.stderr)
    }

    func crsOf(_ ids: [String], _ id: String, _ out: String) throws -> Int {
        let item = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/\(id).stac.json"))) as! [String: Any]
        return (item["properties"] as! [String: Any])["proj:epsg"] as! Int
    }

    /// gather over 10,000 tiny generated Items (no rasters: --no-vrt) finishes in reasonable time and
    /// lists nothing missing; the time is printed for docs/scaling.md.
    func testGatherScalesToTenThousandItems() throws {
        let out = dir + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        _ = try runPython("""
        import json, sys
        out, manifest = sys.argv[1], sys.argv[2]
        with open(manifest, "w") as m:
            for i in range(10000):
                pid = f"LC08_L2SP_{i // 100:03d}{i % 100:03d}_20200101_20200102_02_T1"
                m.write(json.dumps({"index": i, "id": pid, "source": f"/data/{pid}", "acquired": "2020-01-01T10:00:00.00Z",
                  "crs": "EPSG:32633", "epsg": 32633, "grid": {"width": 40, "height": 40, "geotransform": [500000, 30, 0, 6000000, 0, -30]},
                  "tile_size": 40, "estimated_tiles": 1, "content_sha256": "0" * 64}, sort_keys=True) + "\\n")
                lon, lat = 12 + (i % 100) * 0.01, 50 + (i // 100) * 0.01
                ring = [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01], [lon, lat]]
                item = {"type": "Feature", "stac_version": "1.0.0", "stac_extensions": [], "id": pid,
                  "geometry": {"type": "Polygon", "coordinates": [ring]}, "bbox": [lon, lat, lon + 0.01, lat + 0.01],
                  "properties": {"datetime": "2020-01-01T10:00:00.000Z", "proj:epsg": 32633, "platform": "landsat-8"},
                  "links": [], "assets": {"labels": {"href": f"./{pid}_labels.tif", "roles": ["data"]}}}
                if i % 1000 != 7:
                    json.dump(item, open(f"{out}/{pid}.stac.json", "w"))
        """, [out, dir + "/manifest.jsonl"])
        let start = Date()
        let g = try moemae(["gather", out, "--manifest", dir + "/manifest.jsonl", "--no-vrt"])
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(g.status, 0, g.stderr)
        XCTAssertTrue(g.stdout.contains("9990 of 10000"), g.stdout)
        XCTAssertTrue(g.stdout.contains("missing: 10 lines: 7,1007,2007"), g.stdout)
        print("gather over 10,000 Items: \(String(format: "%.2f", seconds)) s")
        XCTAssertLessThan(seconds, 120)
        let collection = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/collection.json"))) as! [String: Any]
        XCTAssertEqual((collection["links"] as! [[String: Any]]).filter { $0["rel"] as? String == "item" }.count, 9990)
    }
}
