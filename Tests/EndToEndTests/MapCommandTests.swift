import Foundation
import SafeTensors
import XCTest

/// `moemae map` and `moemae run` end to end: the real binary on real shared scenes with the golden S
/// weights, checked with GDAL's own tools (`gdalinfo -json`, `gdal_translate -of XYZ`) and against
/// `moemae tile` + `moemae embed` + an independent numpy evaluation of the probe (expected_map.py).
final class MapCommandTests: XCTestCase {
    static let weights = "\(sharedDirectory)/golden/weights-public.safetensors"
    static let classes = ["Urban fabric", "Arable land", "Forests", "Inland waters"]
    static let colors: [[Int]] = [[230, 0, 77], [255, 255, 168], [0, 166, 0], [0, 204, 242]]

    static func sha256(_ path: String) throws -> String {
        let (status, out) = try capture("/usr/bin/sha256sum", [path])
        guard status == 0, let hash = out.split(separator: " ").first else { throw NSError(domain: "sha256sum failed", code: 1) }
        return String(hash)
    }

    /// A multi-class probe with fixed pseudo-random coefficients, recording `weightsSHA` as its encoder.
    static func writeProbe(to path: String, dimension d: Int, weightsSHA: String) throws {
        var w: [Float] = []
        for i in 0..<(classes.count * d) { w.append(Float(sin(Double(i) * 12.9898) * 2)) }
        let colors = "[" + Self.colors.map { "[\($0[0]),\($0[1]),\($0[2])]" }.joined(separator: ",") + "]"
        let names = "[" + classes.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        try SafeTensors.write([Tensor("weight", w, shape: [classes.count, d]), Tensor("bias", [Float](repeating: 0, count: classes.count), shape: [classes.count])],
                              metadata: ["format": "moemae-probe", "format_version": "1", "task": "multiclass", "classes": names,
                                         "colors": colors, "thresholds": "[]", "feature": "embedding", "weights_sha256": weightsSHA],
                              to: path)
    }

    static func capture(_ exe: String, _ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe; p.standardError = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func gdalinfo(_ path: String) throws -> [String: Any] {
        let (status, out) = try capture("/usr/bin/gdalinfo", ["-json", path])
        guard status == 0 else { throw NSError(domain: "gdalinfo \(path) failed", code: Int(status)) }
        return try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
    }

    /// Band `band` of a raster as values in row-major order (GDAL's XYZ output).
    static func values(_ path: String, band: Int = 1) throws -> [Double] {
        let (status, out) = try capture("/usr/bin/gdal_translate", ["-q", "-b", "\(band)", "-of", "XYZ", path, "/vsistdout/"])
        guard status == 0 else { throw NSError(domain: "gdal_translate \(path) failed", code: Int(status)) }
        return out.split(separator: "\n").compactMap { line in line.split(separator: " ").last.flatMap { Double($0) } }
    }

    /// Maps `product` with the golden weights, then checks the outputs against tile + embed + numpy.
    func checkSceneAgainstEmbed(_ product: String) throws {
        let dir = makeTempDirectory("moemae-map")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let probe = dir + "/probe.safetensors"
        try Self.writeProbe(to: probe, dimension: 144, weightsSHA: try Self.sha256(Self.weights))
        let out = dir + "/maps"
        let map = try moemae(["map", sceneFolder(product), "--weights", Self.weights, "--probe", probe, "--out", out,
                              "--quiet", "--scores", "--token-experts", "0,14", "--batch-size", "32"])
        XCTAssertEqual(map.status, 0, map.stderr)
        XCTAssertTrue(map.stdout.contains("\(out)/\(product)_labels.tif"), map.stdout)
        XCTAssertEqual(map.stderr, "", "--quiet prints nothing on success")

        // Georeferencing: the scene's CRS; geotransform = the scene's with pixel size × 40; size = tile grid.
        let sceneInfo = try Self.gdalinfo("\(sceneFolder(product))/\(product)_SR_B1.TIF")
        let labelsPath = "\(out)/\(product)_labels.tif"
        let info = try Self.gdalinfo(labelsPath)
        let sceneSize = sceneInfo["size"] as! [Int]
        let cols = (sceneSize[0] + 39) / 40, rows = (sceneSize[1] + 39) / 40   // the tile grid, edge tiles padded
        XCTAssertEqual(info["size"] as? [Int], [cols, rows])
        let g = sceneInfo["geoTransform"] as! [Double]
        XCTAssertEqual(info["geoTransform"] as? [Double], [g[0], g[1] * 40, g[2] * 40, g[3], g[4] * 40, g[5] * 40])
        let wkt = { (i: [String: Any]) in (i["coordinateSystem"] as? [String: Any])?["wkt"] as? String }
        XCTAssertEqual(wkt(info), wkt(sceneInfo))
        let band = (info["bands"] as! [[String: Any]])[0]
        XCTAssertEqual(band["noDataValue"] as? Double, 255)
        XCTAssertEqual(band["categories"] as? [String], Self.classes)
        let entries = (band["colorTable"] as? [String: Any])?["entries"] as? [[Int]]
        XCTAssertEqual(entries?.prefix(4).map { Array($0.prefix(3)) }, Self.colors)
        XCTAssertEqual(((info["metadata"] as? [String: Any])?["IMAGE_STRUCTURE"] as? [String: String])?["LAYOUT"], "COG")

        let expertsPath = "\(out)/\(product)_experts.tif"
        let expertsInfo = try Self.gdalinfo(expertsPath)
        XCTAssertEqual((expertsInfo["bands"] as! [[String: Any]]).count, 15)
        XCTAssertEqual((expertsInfo["bands"] as! [[String: Any]])[14]["description"] as? String,
                       "encoder layer 14 (5 experts): majority top-1 expert of the 100 patch tokens")
        let vrtBands = try Self.gdalinfo("\(out)/\(product)_experts.vrt")["bands"] as! [[String: Any]]
        XCTAssertNotNil(vrtBands[14]["colorTable"], "every layer has a palette in the VRT")

        // Token experts at pixel size × 4; scores named after the classes; STAC Item and summary.
        let tokenInfo = try Self.gdalinfo("\(out)/\(product)_token_experts.tif")
        XCTAssertEqual(tokenInfo["size"] as? [Int], [cols * 10, rows * 10])
        XCTAssertEqual((tokenInfo["geoTransform"] as? [Double])?[1], g[1] * 4)
        let scoreBands = try Self.gdalinfo("\(out)/\(product)_scores.tif")["bands"] as! [[String: Any]]
        XCTAssertEqual(scoreBands.map { $0["description"] as? String }, Self.classes)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/run-summary.json"))) as! [String: Any]
        let scene = (summary["scenes"] as! [[String: Any]])[0]
        XCTAssertEqual(scene["tiles_read"] as? Int, rows * cols)
        XCTAssertEqual((scene["experts"] as! [[String: Any]]).count, 15)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let (stacStatus, stacOut) = try Self.capture("/usr/bin/env", ["python3", root + "/Tests/PipelineTests/Python/validate_stac_item.py",
                                                                      root + "/schemas/stac", "\(out)/\(product).stac.json"])
        XCTAssertEqual(stacStatus, 0, stacOut)

        // Values: every tile's label equals tile → embed + the probe evaluated independently in numpy
        // (except exact near-ties), skipped tiles are nodata; experts equal embed's routing.
        guard try moemae(["--help"]).stdout.contains(" embed ") else {
            throw XCTSkip("moemae embed is not available in this build: pixel values not compared")
        }
        let dataset = dir + "/dataset", embeddings = dir + "/embeddings.safetensors"
        let tile = try moemae(["tile", sceneFolder(product), "--out", dataset, "--quiet"])
        XCTAssertEqual(tile.status, 0, tile.stderr)
        let embed = try moemae(["embed", dataset, "--weights", Self.weights, "--out", embeddings, "--quiet"])
        XCTAssertEqual(embed.status, 0, embed.stderr)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/expected_map.py").path
        let (pyStatus, pyOut) = try Self.capture("/usr/bin/env", ["python3", script, dataset, embeddings, probe])
        XCTAssertEqual(pyStatus, 0, pyOut)
        let expected = try JSONSerialization.jsonObject(with: Data(pyOut.utf8)) as! [String: Any]
        XCTAssertEqual(expected["rows"] as? Int, rows); XCTAssertEqual(expected["cols"] as? Int, cols)
        let expectedLabels = expected["labels"] as! [Int], margins = expected["margins"] as! [Double]
        let expectedExperts = expected["experts"] as! [[Int]]
        XCTAssertEqual(scene["tiles_mapped"] as? Int, expectedLabels.filter { $0 != 255 }.count)
        let labels = try Self.values(labelsPath).map { Int($0) }
        XCTAssertEqual(labels.count, rows * cols)
        var compared = 0, nearTies = 0
        for k in 0..<(rows * cols) {
            if expectedLabels[k] == 255 { XCTAssertEqual(labels[k], 255, "tile \(k) has no valid pixel: nodata"); continue }
            if margins[k] < 1e-4 { nearTies += 1; continue }
            XCTAssertEqual(labels[k], expectedLabels[k], "tile \(k / cols),\(k % cols)")
            compared += 1
        }
        XCTAssertGreaterThan(compared, 50)
        XCTAssertLessThan(nearTies, 3)

        // Experts: band l = majority first choice of the patch tokens, from embed's experts tensor.
        for l in [0, 7, 14] {
            let v = try Self.values(expertsPath, band: l + 1).map { Int($0) }
            var mismatches = 0
            for k in 0..<(rows * cols) where v[k] != expectedExperts[l][k] { mismatches += 1 }
            XCTAssertEqual(mismatches, 0, "layer \(l)")
        }
    }

    func testUTMSceneMatchesTileEmbedAndProbe() throws {
        try checkSceneAgainstEmbed("LC08_L2SP_008059_20191201_20200825_02_T1")
    }

    func testPolarSceneMatchesTileEmbedAndProbe() throws {
        try checkSceneAgainstEmbed("LC08_L2SR_099120_20191129_20201016_02_T2")
    }

    // MARK: Refusals: a clear message, exit 1, no output with a final name, input untouched.

    func assertRefused(_ args: [String], out: String, contains text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        // The inputs: every argument naming an existing file or folder (scene folders, weights, probe).
        let inputs = args.filter { $0 != out && FileManager.default.fileExists(atPath: $0) }
        func checksums() throws -> [[String: String]] {
            try inputs.map { path in
                var isFolder: ObjCBool = false
                FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
                return isFolder.boolValue ? try sceneChecksums(path) : [path: try Self.sha256(path)]
            }
        }
        let before = try checksums()
        let r = try moemae(args)
        XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix("error: ") && r.stderr.contains(text), r.stderr, file: file, line: line)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
        XCTAssertTrue(left.allSatisfy { $0.hasPrefix(".moemae-partial-") }, "no final-named output: \(left)", file: file, line: line)
        XCTAssertEqual(try checksums(), before, "the inputs are untouched", file: file, line: line)
    }

    func testRefusesProbeOfOtherWeightsMissingBandsNonSRAndUnwritableOutput() throws {
        let dir = makeTempDirectory("moemae-map-refuse")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let scene = sceneFolder("LC08_L2SP_008059_20191201_20200825_02_T1")
        let other = dir + "/other.safetensors"
        try Self.writeProbe(to: other, dimension: 144, weightsSHA: String(repeating: "ab", count: 32))
        try assertRefused(["map", scene, "--weights", Self.weights, "--probe", other, "--out", dir + "/o1"], out: dir + "/o1",
                          contains: "was fitted on embeddings of encoder weights with SHA-256 abababababab")
        let probe = dir + "/probe.safetensors"
        try Self.writeProbe(to: probe, dimension: 144, weightsSHA: try Self.sha256(Self.weights))
        let noB5 = try linkScene("LC08_L2SP_008059_20191201_20200825_02_T1", into: dir, except: ["_SR_B5.TIF"])
        try assertRefused(["map", noB5, "--weights", Self.weights, "--probe", probe, "--out", dir + "/o2"], out: dir + "/o2",
                          contains: "SR_B5")
        try assertRefused(["map", sceneFolder("LC80200392015216LGN00"), "--weights", Self.weights, "--probe", probe, "--out", dir + "/o3"],
                          out: dir + "/o3", contains: "--allow-non-sr")
        try assertRefused(["map", scene, "--weights", Self.weights, "--probe", probe, "--out", "/proc/moemae-map-out"],
                          out: "/proc/moemae-map-out", contains: "cannot create the output folder")
        try assertRefused(["map", scene, "--weights", Self.weights, "--probe", probe, "--out", dir + "/o4", "--token-experts", "15"],
                          out: dir + "/o4", contains: "layer 15 does not exist")
    }

    /// An output folder on a read-only file system (a real EROFS: as root, permission bits do not stop a
    /// write), whether the folder has to be created or already exists. Skipped where mounting needs root.
    /// A truncated weights file is reported as truncated, naming it — not as a probe fitted on other
    /// weights (its SHA-256 matches nothing, so the fingerprint check used to fire first).
    func testTruncatedWeightsAreReportedAsTruncated() throws {
        let dir = makeTempDirectory("moemae-map-truncated")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let probe = dir + "/probe.safetensors"
        try Self.writeProbe(to: probe, dimension: 144, weightsSHA: try Self.sha256(Self.weights))
        let truncated = dir + "/weights-truncated.safetensors"
        let whole = try Data(contentsOf: URL(fileURLWithPath: Self.weights))
        try whole.prefix(100_000).write(to: URL(fileURLWithPath: truncated))
        try assertRefused(["map", sceneFolder("LC08_L2SP_008059_20191201_20200825_02_T1"), "--weights", truncated, "--probe", probe,
                           "--out", dir + "/o"], out: dir + "/o", contains: "\(truncated): truncated safetensors file")

        // A band file cut short fails in the reader stage, after the output folder was created: the run
        // leaves neither outputs nor the (empty) folder it created.
        let product = "LC08_L2SP_008059_20191201_20200825_02_T1"
        let scene = try linkScene(product, into: dir, except: ["_SR_B3.TIF"])
        let band = try Data(contentsOf: URL(fileURLWithPath: "\(sceneFolder(product))/\(product)_SR_B3.TIF"))
        try band.prefix(3000).write(to: URL(fileURLWithPath: "\(scene)/\(product)_SR_B3.TIF"))
        try assertRefused(["map", scene, "--weights", Self.weights, "--probe", probe, "--out", dir + "/o2", "--quiet"], out: dir + "/o2",
                          contains: "\(scene)/\(product)_SR_B3.TIF: cannot read pixels")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/o2"), "no empty output folder is left behind")
    }

    /// A probe records the hour policy and metadata flag of its training embeddings (`probe fit`); `map`
    /// encodes scenes the same way unless told otherwise, and warns when told otherwise.
    func testHourPolicyFollowsTheProbeAndMismatchesAreWarned() throws {
        let dir = makeTempDirectory("moemae-map-probe-hour")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plain = dir + "/plain.safetensors"
        try Self.writeProbe(to: plain, dimension: 144, weightsSHA: try Self.sha256(Self.weights))
        // The same probe, recording embeddings made with the published hour convention and metadata.
        let probe = dir + "/probe.safetensors"
        let script = """
        import sys, json, struct
        from safetensors.numpy import load_file, save_file
        with open(sys.argv[1], "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]; meta = json.loads(f.read(n))["__metadata__"]
        meta.update({"hour_policy": "published", "metadata": "true"})
        save_file(load_file(sys.argv[1]), sys.argv[2], metadata=meta)
        """
        let (status, out) = try Self.capture("/usr/bin/env", ["python3", "-c", script, plain, probe])
        XCTAssertEqual(status, 0, out)
        let product = "LC08_L2SP_008059_20191201_20200825_02_T1"
        let base = ["map", sceneFolder(product), "--weights", Self.weights, "--probe", probe, "--quiet"]
        func hourPolicy(_ out: String) throws -> String? {
            let item = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/\(product).stac.json"))) as! [String: Any]
            return ((item["properties"] as? [String: Any])?["moemae:run"] as? [String: Any])?["hour_policy"] as? String
        }
        let followed = try moemae(base + ["--out", dir + "/a"])
        XCTAssertEqual(followed.status, 0, followed.stderr)
        XCTAssertEqual(followed.stderr, "", "no warning when the run encodes scenes as the probe's embeddings were")
        XCTAssertEqual(try hourPolicy(dir + "/a"), "published")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/a/run-summary.json"))) as! [String: Any]
        XCTAssertEqual((summary["options"] as? [String: Any])?["hour"] as? String, "published", "run-summary.json holds the policy used")
        XCTAssertEqual((summary["options"] as? [String: Any])?["precision"] as? String, "fp32", "run-summary.json holds the precision")
        let item = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/a/\(product).stac.json"))) as! [String: Any]
        XCTAssertEqual(((item["properties"] as? [String: Any])?["moemae:run"] as? [String: Any])?["precision"] as? String, "fp32",
                       "the STAC Item holds the precision")
        let plainRun = try moemae(["map", sceneFolder(product), "--weights", Self.weights, "--probe", plain, "--quiet", "--out", dir + "/b"])
        XCTAssertEqual(plainRun.status, 0, plainRun.stderr)
        XCTAssertEqual(try hourPolicy(dir + "/b"), "utc", "a probe without a record: the weights' policy, else utc")
        let overridden = try moemae(base + ["--out", dir + "/c", "--hour", "utc", "--no-metadata"])
        XCTAssertEqual(overridden.status, 0, overridden.stderr)
        XCTAssertEqual(try hourPolicy(dir + "/c"), "utc")
        XCTAssertTrue(overridden.stderr.contains("warning: \(probe) was fitted on embeddings made with hour policy published, but hour policy utc is chosen: the probe sees other inputs than it was fitted on (option --hour)"), overridden.stderr)
        XCTAssertTrue(overridden.stderr.contains("made with metadata (week, hour, lat, lon), but this run zeroes it; keep the metadata to map as the probe was fitted (option --no-metadata)"), overridden.stderr)
    }

    /// Existing outputs of a later scene, or the same scene given twice, are refused before the first
    /// scene is mapped (nothing new appears in --out), as docs/pipeline.md promises.
    func testOutputRefusalsComeBeforeAnySceneIsMapped() throws {
        let dir = makeTempDirectory("moemae-map-precheck")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let probe = dir + "/probe.safetensors"
        try Self.writeProbe(to: probe, dimension: 144, weightsSHA: try Self.sha256(Self.weights))
        let a = "LC08_L2SP_008059_20191201_20200825_02_T1", b = "LC08_L2SR_099120_20191129_20201016_02_T2"
        let out = dir + "/maps"
        let common = ["--weights", Self.weights, "--probe", probe, "--out", out, "--quiet"]
        let first = try moemae(["map", sceneFolder(b)] + common)
        XCTAssertEqual(first.status, 0, first.stderr)
        let before = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        let again = try moemae(["map", sceneFolder(a), sceneFolder(b)] + common)
        XCTAssertEqual(again.status, 1, again.stderr)
        XCTAssertTrue(again.stderr.hasPrefix("error: \(out)/\(b)_labels.tif: already exists (scene \(b) was mapped into \(out) before)"), again.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(), before, "scene \(a) was not mapped first")
        let twice = try moemae(["map", sceneFolder(a), sceneFolder(a) + "/\(a)_MTL.txt"] + common)
        XCTAssertEqual(twice.status, 1, twice.stderr)
        XCTAssertTrue(twice.stderr.contains("is product \(a), already given as \(sceneFolder(a))"), twice.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(), before)
    }

    /// docs/bands.md: a scene that is not C2 L2 surface reflectance is mapped only with --allow-non-sr,
    /// and then the command says its maps are not meaningful.
    func testAllowNonSRMapsWithAWarning() throws {
        let dir = makeTempDirectory("moemae-map-non-sr")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let probe = dir + "/probe.safetensors"
        try Self.writeProbe(to: probe, dimension: 144, weightsSHA: try Self.sha256(Self.weights))
        let scene = sceneFolder("LC80200392015216LGN00")
        let r = try moemae(["map", scene, "--weights", Self.weights, "--probe", probe, "--out", dir + "/o", "--allow-non-sr", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("warning: \(scene): LC80200392015216LGN00 is not Collection 2 Level-2 surface reflectance"), r.stderr)
        XCTAssertTrue(r.stderr.contains("mapped anyway because non-SR inputs are allowed: its values get the surface-reflectance normalisation, so its maps are not meaningful (option --allow-non-sr)"), r.stderr)
    }

    /// `--resume` keeps a scene that an earlier run with the same inputs and options completed (so a
    /// multi-scene run interrupted in a later scene can be resumed), and still refuses complete outputs
    /// made with other options unless `--overwrite`.
    func testResumeKeepsScenesAlreadyCompleteWithTheSameFingerprint() throws {
        let dir = makeTempDirectory("moemae-map-resume-done")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let product = "LC08_L2SP_008059_20191201_20200825_02_T1"
        let probe = dir + "/probe.safetensors"
        try Self.writeProbe(to: probe, dimension: 144, weightsSHA: try Self.sha256(Self.weights))
        let out = dir + "/maps"
        let args = ["map", sceneFolder(product), "--weights", Self.weights, "--probe", probe, "--out", out, "--batch-size", "32"]
        let first = try moemae(args + ["--quiet"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let labels = "\(out)/\(product)_labels.tif"
        let before = try Self.sha256(labels)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/\(product)_summary.json"))) as! [String: Any]
        XCTAssertEqual((summary["run_fingerprint"] as? String)?.count, 64, "the scene summary records the run fingerprint")

        let resumed = try moemae(args + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("\(product): already complete (same inputs and options); kept its outputs"), resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains(labels), resumed.stdout)
        XCTAssertEqual(try Self.sha256(labels), before, "the complete scene is not recomputed")
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/run-summary.json"))) as! [String: Any]
        let scenes = run["scenes"] as! [[String: Any]]
        XCTAssertEqual(scenes.count, 1)
        XCTAssertEqual(scenes[0]["already_complete"] as? Bool, true)
        XCTAssertEqual(scenes[0]["tiles_read"] as? Int, 169)
        // Both summaries follow schemas/run-summary.schema.json (the scene summary is its $defs/scene);
        // a broken one does not.
        let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("schemas/run-summary.schema.json").path
        let validate = """
        import json, sys, jsonschema
        V = jsonschema.Draft202012Validator
        schema = json.load(open(sys.argv[1])); V.check_schema(schema)
        run = json.load(open(sys.argv[2])); scene = json.load(open(sys.argv[3]))
        V(schema).validate(run)
        V({**schema["$defs"]["scene"], "$defs": schema["$defs"]}).validate(scene)
        run["scenes"][0]["tiles_read"] = -1
        print("ok" if not V(schema).is_valid(run) else "a broken summary passed")
        """
        let (vs, vout) = try Self.capture("/usr/bin/env", ["python3", "-c", validate, schema, "\(out)/run-summary.json", "\(out)/\(product)_summary.json"])
        XCTAssertEqual(vs, 0, vout)
        XCTAssertEqual(vout.trimmingCharacters(in: .whitespacesAndNewlines), "ok")

        // Other options: the complete outputs are not this run's; refused as without --resume.
        let other = try moemae(args + ["--resume", "--min-valid", "0.5"])
        XCTAssertEqual(other.status, 1, other.stderr)
        XCTAssertTrue(other.stderr.contains("\(labels): already exists"), other.stderr)
        XCTAssertEqual(try Self.sha256(labels), before)
    }

    func testRefusesAnOutputFolderOnAReadOnlyFileSystem() throws {
        let dir = makeTempDirectory("moemae-map-readonly")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let probe = dir + "/probe.safetensors"
        try Self.writeProbe(to: probe, dimension: 144, weightsSHA: try Self.sha256(Self.weights))
        let scene = sceneFolder("LC08_L2SP_008059_20191201_20200825_02_T1")
        let disk = dir + "/disk"
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        try mountTmpfs(disk, kib: 1024)
        defer { unmount(disk) }
        try FileManager.default.createDirectory(atPath: disk + "/existing", withIntermediateDirectories: true)
        let remount = try runProcess("/bin/mount", ["-o", "remount,ro", disk])
        guard remount.status == 0 else { throw XCTSkip("cannot remount \(disk) read-only: \(remount.stderr)") }
        try assertRefused(["map", scene, "--weights", Self.weights, "--probe", probe, "--out", disk + "/new"], out: disk + "/new",
                          contains: "\(disk)/new: cannot create the output folder: Read-only file system")
        try assertRefused(["map", scene, "--weights", Self.weights, "--probe", probe, "--out", disk + "/existing"], out: disk + "/existing",
                          contains: "\(disk)/existing: the output folder is not writable (Read-only file system)")
    }

    func testRefusesWeightsForAnotherBandCount() throws {
        let dir = makeTempDirectory("moemae-map-bands")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // XXS golden weights cut to 6 input bands (patch embedding and reconstruction head).
        let weights = dir + "/weights-6band.safetensors"
        let script = """
        import sys
        from safetensors.numpy import load_file, save_file
        t = load_file(sys.argv[1])
        for k in ["encoder.patch_proj.weight", "patch_embed.weight"]: t[k] = t[k][:, :6].copy()
        t["decoder_pred.weight"] = t["decoder_pred.weight"][:96].copy(); t["decoder_pred.bias"] = t["decoder_pred.bias"][:96].copy()
        save_file(t, sys.argv[2])
        """
        let (status, out) = try Self.capture("/usr/bin/env", ["python3", "-c", script, "\(sharedDirectory)/golden/weights-xxs-public.safetensors", weights])
        XCTAssertEqual(status, 0, out)
        let probe = dir + "/probe.safetensors"
        try Self.writeProbe(to: probe, dimension: 108, weightsSHA: try Self.sha256(weights))
        try assertRefused(["map", sceneFolder("LC08_L2SP_008059_20191201_20200825_02_T1"), "--weights", weights, "--probe", probe, "--out", dir + "/o"],
                          out: dir + "/o", contains: "the encoder takes 6 input bands, but scene LC08_L2SP_008059_20191201_20200825_02_T1 provides 7")
    }

    /// A file-size limit reached mid-run (`ulimit -f`): clear message, no final name, the input untouched,
    /// and `--resume` finishes from the checkpointed rows.
    func testAFullDiskMidRunIsAClearErrorAndResumeFinishes() throws {
        guard let binary = moemaeBinary else { throw XCTSkip("moemae binary not built") }
        let dir = makeTempDirectory("moemae-map-full")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let product = "LC08_L2SP_008059_20191201_20200825_02_T1"
        let scene = try linkScene(product, into: dir)
        let before = try FileManager.default.attributesOfItem(atPath: "\(sceneFolder(product))/\(product)_SR_B1.TIF")
        let probe = dir + "/probe.safetensors"
        try Self.writeProbe(to: probe, dimension: 144, weightsSHA: try Self.sha256(Self.weights))
        let out = dir + "/maps"
        // Embeddings make each tile row of the row store 13 × 144 × 4 bytes; 40 KiB stops the run after a few rows.
        let args = ["map", scene, "--weights", Self.weights, "--probe", probe, "--out", out, "--quiet", "--embeddings", "--batch-size", "16"]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", "ulimit -f 40; exec \"$0\" \"$@\"", binary] + args
        let err = Pipe()
        p.standardError = err; p.standardOutput = FileHandle.nullDevice
        try p.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 1, stderr)
        XCTAssertTrue(stderr.contains("File too large") && stderr.contains("file-size limit"), stderr)
        let left = try FileManager.default.contentsOfDirectory(atPath: out)
        XCTAssertEqual(left, [".moemae-partial-\(product)"], "no final-named output")
        let after = try FileManager.default.attributesOfItem(atPath: "\(sceneFolder(product))/\(product)_SR_B1.TIF")
        XCTAssertEqual(before[.size] as? Int, after[.size] as? Int)
        XCTAssertEqual(before[.modificationDate] as? Date, after[.modificationDate] as? Date)

        let resumed = try moemae(args + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming at tile row"), resumed.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(out)/\(product)_embeddings.tif"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(out)/.moemae-partial-\(product)"))
    }

    /// Mounts a tmpfs of `kib` KiB at `path`; skips the test where mounting is not permitted (not root).
    func mountTmpfs(_ path: String, kib: Int) throws {
        if let why = TestSupport.mountTmpfs(at: path, kib: kib) { throw XCTSkip(why) }
    }

    func unmount(_ path: String) { unmountTmpfs(path) }

    /// A real file system that fills up (a size-limited tmpfs, so ENOSPC rather than `ulimit -f`'s EFBIG),
    /// at each phase of a run: while the row store is being appended (mid-run), while the GeoTIFFs and
    /// COGs are written (GDAL reports the failure at flush/close) and while the VRTs are written. Each
    /// time: exit 1, a message naming the file and saying the disk is full, nothing under a final name,
    /// the input untouched, and the checkpoint left behind is consistent: `--resume` from a copy of it on
    /// a disk with room finishes from the checkpointed row and gives the labels of an uninterrupted run.
    /// A 1 MiB disk holds the whole run (the COG writer's intermediate file has tiles no larger than the
    /// map; with 512×512 tiles it needed over 100 MiB for this 13×13-tile scene).
    func testARealFullDiskAtEachPhaseIsAClearErrorAndResumable() throws {
        guard let binary = moemaeBinary else { throw XCTSkip("moemae binary not built") }
        let dir = makeTempDirectory("moemae-map-tmpfs")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let disk = dir + "/disk"
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        let product = "LC08_L2SP_008059_20191201_20200825_02_T1"
        let scene = try linkScene(product, into: dir)
        let inputBefore = try sceneChecksums(sceneFolder(product))
        // XXS weights (fast); every optional output, so the outputs are large next to the disk.
        let weights = "\(sharedDirectory)/golden/weights-xxs-public.safetensors"
        let probe = dir + "/probe.safetensors"
        try Self.writeProbe(to: probe, dimension: 108, weightsSHA: try Self.sha256(weights))
        func args(_ out: String) -> [String] {
            ["map", scene, "--weights", weights, "--probe", probe, "--out", out, "--quiet", "--scores", "--embeddings", "--token-experts", "all"]
        }
        let out = disk + "/out"
        let staging = "\(out)/.moemae-partial-\(product)"

        // The whole run fits in 1 MiB: the reference labels.
        try mountTmpfs(disk, kib: 1024)
        let full = try BoundedRun(binary, args(out))
        let fullErr = full.wait(atMost: 120)
        XCTAssertEqual(full.process.terminationStatus, 0, fullErr)
        let reference = try Self.values("\(out)/\(product)_labels.tif")
        unmount(disk)
        XCTAssertEqual(reference.count, 169)

        // The row store (13 rows of 17 KiB) fills 128 KiB mid-run; 256 KiB fails in the first COG, 320 KiB
        // in the experts VRT, 512 KiB in the token-experts GeoTIFF (figures of GDAL 3.6).
        var failedFiles: [String] = []
        for kib in [128, 256, 320, 512] {
            try mountTmpfs(disk, kib: kib)
            defer { unmount(disk) }
            let run = try BoundedRun(binary, args(out))
            let stderr = run.wait(atMost: 120)
            XCTAssertEqual(run.process.terminationReason, .exit, "\(kib) KiB: \(stderr)")
            XCTAssertEqual(run.process.terminationStatus, 1, "\(kib) KiB: \(stderr)")
            let error = stderr.split(separator: "\n").last.map(String.init) ?? ""
            XCTAssertTrue(error.hasPrefix("error: \(staging)/"), "\(kib) KiB: names the file: \(stderr)")
            XCTAssertTrue(error.contains("No space left on device"), "\(kib) KiB: says the disk is full: \(stderr)")
            failedFiles.append(String(error.dropFirst("error: \(staging)/".count).prefix(while: { $0 != ":" })))
            XCTAssertEqual(finalNamedEntries(out), [], "\(kib) KiB: no final-named output")

            // The checkpoint: progress.json's rows are in rows.bin, and --resume on a disk with room
            // continues from them and gives the uninterrupted run's labels.
            let progressData = try Data(contentsOf: URL(fileURLWithPath: staging + "/progress.json"))
            let progress = try JSONSerialization.jsonObject(with: progressData) as! [String: Any]
            let finished = try XCTUnwrap(progress["finished_rows"] as? Int)
            XCTAssertGreaterThan(finished, 0, "\(kib) KiB: rows appended before the disk filled are checkpointed")
            let roomy = "\(dir)/resume-\(kib)"
            try FileManager.default.createDirectory(atPath: roomy, withIntermediateDirectories: true)
            try tool("cp", ["-a", staging, roomy + "/"])
            let resumed = try BoundedRun(binary, args(roomy) + ["--resume"])
            let resumedErr = resumed.wait(atMost: 120)
            XCTAssertEqual(resumed.process.terminationStatus, 0, resumedErr)
            XCTAssertTrue(resumedErr.contains("resuming at tile row \(finished) of 13"), resumedErr)
            XCTAssertEqual(try Self.values("\(roomy)/\(product)_labels.tif"), reference, "\(kib) KiB: resumed labels")
        }
        XCTAssertEqual(failedFiles.first, "rows.bin", "the smallest disk fills while the row store is appended")
        XCTAssertTrue(failedFiles.dropFirst().allSatisfy { $0.hasSuffix(".tif") || $0.hasSuffix(".vrt") },
                      "the larger disks fill while the rasters are written: \(failedFiles)")
        XCTAssertEqual(try sceneChecksums(sceneFolder(product)), inputBefore, "the input scene is untouched")
    }

    /// A larger version of a scene so a run lasts: VRT band files at 100/`percent` of the pixel size
    /// (nearest neighbour; 300 %: 9× the pixels, 1,521 tiles), MTL files linked, in `dir`/`product`.
    static func largeScene(_ product: String, into dir: String, percent: Int = 300) throws -> String {
        let big = dir + "/" + product
        try FileManager.default.createDirectory(atPath: big, withIntermediateDirectories: true)
        for f in try FileManager.default.contentsOfDirectory(atPath: sceneFolder(product)) {
            let src = "\(sceneFolder(product))/\(f)"
            if f.hasSuffix(".TIF") { try tool("gdal_translate", ["-q", "-of", "VRT", "-r", "nearest", "-outsize", "\(percent)%", "\(percent)%", src, "\(big)/\(f)"]) }
            else { try FileManager.default.createSymbolicLink(atPath: "\(big)/\(f)", withDestinationPath: src) }
        }
        return big
    }

    /// What the interruption tests share: a 3× enlarged copy of the example scene (long enough to be
    /// interrupted mid-run), a probe fitted on the test weights, and `map`'s arguments for one output folder.
    struct InterruptibleMap {
        static let product = "LC08_L2SP_008059_20191201_20200825_02_T1"
        let scene: String
        let probe: String

        init(dir: String) throws {
            scene = try MapCommandTests.largeScene(Self.product, into: dir)
            probe = dir + "/probe.safetensors"
            try MapCommandTests.writeProbe(to: probe, dimension: 144, weightsSHA: try MapCommandTests.sha256(MapCommandTests.weights))
        }

        /// One encoder worker and `batchSize` tiles per batch, writing to `out`, quiet.
        func arguments(out: String, batchSize: Int) -> [String] {
            ["map", scene, "--weights", MapCommandTests.weights, "--probe", probe, "--out", out, "--quiet",
             "--batch-size", "\(batchSize)", "--workers", "1"]
        }

        /// Waits (at most 60 s) until the run writing to `out` has created its staging folder.
        func waitForStaging(_ out: String) {
            let deadline = Date().addingTimeInterval(60)
            while !FileManager.default.fileExists(atPath: "\(out)/.moemae-partial-\(Self.product)") && Date() < deadline {
                usleep(20_000)
            }
        }
    }

    /// Ctrl-C mid-run: exit 130, one message, no final-named output.
    func testSIGINTStopsPromptlyWithoutFinalOutputs() throws {
        guard let binary = moemaeBinary else { throw XCTSkip("moemae binary not built") }
        let dir = makeTempDirectory("moemae-map-sigint")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fixture = try InterruptibleMap(dir: dir)
        let out = dir + "/maps"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = fixture.arguments(out: out, batchSize: 8)
        let err = Pipe()
        p.standardError = err; p.standardOutput = FileHandle.nullDevice
        try p.run()
        // Interrupt once the run has started writing (its staging folder exists).
        fixture.waitForStaging(out)
        usleep(500_000)
        let sent = Date()
        p.interrupt()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .exit)
        XCTAssertEqual(p.terminationStatus, 130, stderr)
        XCTAssertLessThan(Date().timeIntervalSince(sent), 20, "stops promptly (one batch of 8 tiles at most)")
        XCTAssertTrue(stderr.contains("error: interrupted by SIGINT; nothing was written under a final name"), stderr)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
        XCTAssertTrue(left.allSatisfy { $0.hasPrefix(".moemae-partial-") }, "\(left)")
    }

    /// SIGTERM and SIGINT several times in a row (a supervisor and a terminal signalling at once): one
    /// request, so the run still stops cleanly — exit 128 + the first signal received, one message,
    /// nothing under a final name — and within a bounded time (the signals are not lost, the run does
    /// not hang).
    func testABurstOfSIGTERMAndSIGINTStopsCleanlyOnce() throws {
        guard let binary = moemaeBinary else { throw XCTSkip("moemae binary not built") }
        let dir = makeTempDirectory("moemae-map-burst")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fixture = try InterruptibleMap(dir: dir)
        let out = dir + "/maps"
        let run = try BoundedRun(binary, fixture.arguments(out: out, batchSize: 8))
        fixture.waitForStaging(out)
        XCTAssertTrue(run.process.isRunning, "the run ended before it could be interrupted")
        for sig in [SIGTERM, SIGINT, SIGTERM, SIGINT, SIGTERM] { run.send(sig) }
        let stderr = run.wait(atMost: 60)
        XCTAssertEqual(run.process.terminationReason, .exit, "repeats within a second are the same request, not a force quit: \(stderr)")
        // Linux delivers pending standard signals lowest number first, so SIGINT (2) may be seen before SIGTERM (15).
        let status = run.process.terminationStatus
        XCTAssertTrue(status == 130 || status == 143, "exit \(status): \(stderr)")
        let name = status == 130 ? "SIGINT" : "SIGTERM"
        XCTAssertTrue(stderr.contains("error: interrupted by \(name); nothing was written under a final name"), stderr)
        XCTAssertEqual(stderr.components(separatedBy: "error: ").count - 1, 1, "one message: \(stderr)")
        XCTAssertEqual(finalNamedEntries(out), [])
    }

    /// A second signal more than a second after the first forces quit: while the encoder is inside one
    /// long batch (1,024 tiles, so the run cannot have stopped yet), the second SIGINT kills the process
    /// with the default action at once, after a one-line notice; nothing has a final name.
    func testASecondSIGINTAfterTheGracePeriodForcesQuit() throws {
        guard let binary = moemaeBinary else { throw XCTSkip("moemae binary not built") }
        let dir = makeTempDirectory("moemae-map-force")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fixture = try InterruptibleMap(dir: dir)
        // The first signal must land while the encoder is inside the 1,024-tile batch (≈ 10 s on one
        // worker; a batch is not interrupted). When it lands earlier — the reader still filling the batch,
        // which takes longer on a loaded machine — the run stops cleanly at once and there is nothing to
        // force, so the run is repeated with a later first signal.
        for (attempt, delay) in [UInt32(300_000), 1_500_000, 3_000_000].enumerated() {
            let out = dir + "/maps-\(attempt)"
            let run = try BoundedRun(binary, fixture.arguments(out: out, batchSize: 1024))
            fixture.waitForStaging(out)
            usleep(delay)
            run.send(SIGINT)
            usleep(1_500_000)   // past the one-second grace period
            guard run.process.isRunning else {
                let stderr = run.wait(atMost: 30)
                XCTAssertEqual(run.process.terminationStatus, 130, "stopped by the first signal: \(stderr)")
                XCTAssertEqual(finalNamedEntries(out), [])
                continue
            }
            run.send(SIGINT)
            let stderr = run.wait(atMost: 30)
            XCTAssertEqual(run.process.terminationReason, .uncaughtSignal, stderr)
            XCTAssertEqual(run.process.terminationStatus, SIGINT, stderr)
            XCTAssertTrue(stderr.contains("moemae: signalled again: quitting at once"), stderr)
            XCTAssertEqual(finalNamedEntries(out), [])
            return
        }
        XCTFail("in three runs the first SIGINT stopped the run before a second one could force it to quit")
    }

    /// Signals in the first second of a run (the process starting, loading weights, checking inputs):
    /// the run ends promptly with nothing under a final name — exit 143 and the message once the handler
    /// is installed, or the default action (killed by SIGTERM) before that.
    func testSIGTERMInTheFirstSecondEndsTheRunPromptly() throws {
        guard let binary = moemaeBinary else { throw XCTSkip("moemae binary not built") }
        let dir = makeTempDirectory("moemae-map-early")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fixture = try InterruptibleMap(dir: dir)
        var handled = 0
        for (i, delay) in [0.05, 0.3, 0.8].enumerated() {
            let out = "\(dir)/maps-\(i)"
            let run = try BoundedRun(binary, fixture.arguments(out: out, batchSize: 8))
            usleep(useconds_t(delay * 1e6))
            for _ in 0..<3 { run.send(SIGTERM) }
            let stderr = run.wait(atMost: 60)
            if run.process.terminationReason == .exit {
                XCTAssertEqual(run.process.terminationStatus, 143, "after \(delay) s: \(stderr)")
                XCTAssertTrue(stderr.contains("error: interrupted by SIGTERM; nothing was written under a final name"), stderr)
                handled += 1
            } else {
                XCTAssertEqual(run.process.terminationStatus, SIGTERM, "after \(delay) s: \(stderr)")
            }
            XCTAssertEqual(finalNamedEntries(out), [], "after \(delay) s")
        }
        XCTAssertGreaterThan(handled, 0, "the handler is installed within the first second")
    }

    // MARK: moemae run

    func testRunExecutesAPipelineFileWithTwoScenesAndRejectsABadOne() throws {
        let dir = makeTempDirectory("moemae-run")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let probe = dir + "/probe.safetensors"
        try Self.writeProbe(to: probe, dimension: 144, weightsSHA: try Self.sha256(Self.weights))
        let yaml = """
        description: test
        scenes: [\(sceneFolder("LC08_L2SP_008059_20191201_20200825_02_T1")), \(sceneFolder("LC08_L2SR_099120_20191129_20201016_02_T2"))]
        weights: \(Self.weights)
        probe: probe.safetensors
        out: maps
        quiet: true
        min-valid: 0.5
        """
        try yaml.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let r = try moemae(["run", dir + "/job.yaml"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/maps/LC08_L2SP_008059_20191201_20200825_02_T1_labels.tif"),
                      "relative paths resolve against the pipeline file's folder")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/maps/run-summary.json"))) as! [String: Any]
        XCTAssertEqual((summary["options"] as? [String: String])?["min-valid"], "0.5")
        // Two scenes, one after the other, one set of outputs each.
        XCTAssertEqual((summary["scenes"] as? [[String: Any]])?.compactMap { $0["id"] as? String },
                       ["LC08_L2SP_008059_20191201_20200825_02_T1", "LC08_L2SR_099120_20191129_20201016_02_T2"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/maps/LC08_L2SR_099120_20191129_20201016_02_T2_labels.tif"))

        try "scenes: [a]\nweights: w\nprobe: p\nout: o\nbatch_size: 3\n".write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        let bad = try moemae(["run", dir + "/bad.yaml"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("bad.yaml:5: unknown field 'batch_size' (did you mean 'batch-size'?)"), bad.stderr)
    }

    /// `--precision bf16` (map, run, bench encoder) needs AVX512_BF16: elsewhere a clear refusal naming what the
    /// CPU lacks, before any output exists; where the CPU has it, the run records bf16.
    func testBF16RunsWhereTheCPUHasItAndIsRefusedElsewhere() throws {
        let dir = makeTempDirectory("moemae-map-bf16")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let probe = dir + "/probe.safetensors"
        try Self.writeProbe(to: probe, dimension: 144, weightsSHA: try Self.sha256(Self.weights))
        let product = "LC08_L2SP_008059_20191201_20200825_02_T1"
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n")
            .first { $0.hasPrefix("flags") }.map { Set($0.split(separator: " ").map(String.init)) } ?? []
        let hasBF16 = flags.contains("avx512_bf16") && flags.contains("avx512f")
        let map = try moemae(["map", sceneFolder(product), "--weights", Self.weights, "--probe", probe, "--out", dir + "/maps",
                              "--quiet", "--precision", "bf16"])
        try "scenes: [\(sceneFolder(product))]\nweights: \(Self.weights)\nprobe: probe.safetensors\nout: run\nquiet: true\nprecision: bf16\n"
            .write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let run = try moemae(["run", dir + "/job.yaml"])
        let bench = try moemae(["bench", "encoder", "--preset", "XXS", "--batch-size", "2", "--seconds", "0.01",
                                "--workers", "1", "--blas-threads", "1", "--precision", "bf16"])
        let typo = try moemae(["map", sceneFolder(product), "--weights", Self.weights, "--probe", probe, "--out", dir + "/x", "--precision", "fp16"])
        XCTAssertEqual(typo.status, 64, "an unknown precision is a usage error")
        if hasBF16 {
            XCTAssertEqual(map.status, 0, map.stderr)
            let item = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/maps/\(product).stac.json"))) as! [String: Any]
            XCTAssertEqual(((item["properties"] as? [String: Any])?["moemae:run"] as? [String: Any])?["precision"] as? String, "bf16")
            let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/maps/run-summary.json"))) as! [String: Any]
            XCTAssertEqual((summary["options"] as? [String: Any])?["precision"] as? String, "bf16", "run-summary.json holds the precision")
            XCTAssertEqual(run.status, 0, run.stderr)
            let runSummary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/run/run-summary.json"))) as! [String: Any]
            XCTAssertEqual((runSummary["options"] as? [String: Any])?["precision"] as? String, "bf16", "the pipeline's run-summary.json too")
            XCTAssertEqual(bench.status, 0, bench.stderr)
            XCTAssertTrue(bench.stdout.contains("precision: bf16 (kernel avx512bf16)"), bench.stdout)
            return
        }
        for r in [map, run, bench] {
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertTrue(r.stderr.hasPrefix("error: unsupported precision: bf16 needs a CPU with AVX512_BF16"), r.stderr)
            XCTAssertTrue(r.stderr.contains("this CPU lacks") && r.stderr.contains("AVX512_BF16 (the VDPBF16PS instruction)"), r.stderr)
            XCTAssertTrue(r.stderr.contains("Use fp32 (the default) (option --precision)"), r.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/maps"), "nothing written before the refusal")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/run"))
    }

    func testHelpListsEveryOption() throws {
        let help = try moemae(["map", "--help"])
        XCTAssertEqual(help.status, 0)
        for option in ["--weights", "--probe", "--out", "--workers", "--batch-size", "--blas-threads", "--precision", "--queue-depth", "--min-valid",
                       "--token-experts", "--scores", "--embeddings", "--resume", "--quiet", "--hour", "--no-metadata", "--allow-non-sr", "--overwrite"] {
            XCTAssertTrue(help.stdout.contains(option), "map --help lacks \(option)")
        }
        let run = try moemae(["run", "--help"])
        XCTAssertTrue(run.stdout.contains("schemas/pipeline.schema.json"))
    }
}
