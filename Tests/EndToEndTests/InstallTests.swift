import Foundation
import XCTest

/// A newcomer's first hour (issue 15): `scripts/install.sh` into a temporary prefix, then the installed
/// `moemae map` with no model options (the bundled demonstration model), its PNG quick-looks, and
/// `moemae info` on the scene, the outputs and a dataset, checked against `schemas/info.schema.json`.
final class InstallTests: XCTestCase {
    let scene = repositoryRoot + "/examples/LC08_L2SP_008059_20191201_20200825_02_T1"
    let product = "LC08_L2SP_008059_20191201_20200825_02_T1"

    /// Runs `executable args…` with `env` changes (`nil` value = unset).
    func run(_ executable: String, _ args: [String], env: [String: String?] = [:], in folder: String? = nil) throws -> RunResult {
        var envArgs: [String] = []
        for (k, v) in env.sorted(by: { $0.key < $1.key }) { envArgs += v.map { ["\(k)=\($0)"] } ?? ["-u", k] }
        return try runProcess("/usr/bin/env", envArgs + [executable] + args, in: folder)
    }

    /// Pixel size of an image, read by GDAL (`gdalinfo -json`), and its metadata.
    func image(_ path: String) throws -> (width: Int, height: Int, bands: Int, metadata: [String: String]) {
        let info = try JSONSerialization.jsonObject(with: Data(try runTool("gdalinfo", ["-json", path]).utf8)) as! [String: Any]
        let size = info["size"] as! [Int]
        let meta = ((info["metadata"] as? [String: Any])?[""] as? [String: String]) ?? [:]
        XCTAssertEqual(info["driverShortName"] as? String, "PNG", path)
        return (size[0], size[1], (info["bands"] as! [Any]).count, meta)
    }

    func testInstallIntoATemporaryPrefixThenMapWithTheBundledModelAndDescribeEverything() throws {
        guard let binary = moemaeBinary else { throw XCTSkip("moemae binary not built next to the tests") }
        let prefix = makeTempDirectory("moemae-prefix")
        let work = makeTempDirectory("moemae-first-hour")
        addTeardownBlock { try? FileManager.default.removeItem(atPath: prefix); try? FileManager.default.removeItem(atPath: work) }

        // Install (twice: re-running is harmless), with the binary built for the tests.
        for _ in 0..<2 {
            let r = try run("/bin/bash", [repositoryRoot + "/scripts/install.sh"], env: ["PREFIX": prefix, "MOEMAE_BINARY": binary])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("installed \(prefix)/bin/moemae"), r.stdout)
        }
        let installed = prefix + "/bin/moemae"
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: installed))
        for f in ["weights.safetensors", "probe-bigearthnet19.safetensors", "model-card.md"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(prefix)/share/moemae/\(f)"), f)
        }
        for (f, marker) in [("share/bash-completion/completions/moemae", "complete"), ("share/zsh/site-functions/_moemae", "#compdef moemae"),
                            ("share/fish/vendor_completions.d/moemae.fish", "complete -c 'moemae'")] {
            let text = (try? String(contentsOfFile: "\(prefix)/\(f)", encoding: .utf8)) ?? ""
            XCTAssertTrue(text.contains(marker) && text.contains("map"), "\(f): \(text.prefix(200))")
        }

        // Map with no model options, from another working folder, with the installed command.
        let out = work + "/maps"
        let map = try run(installed, ["map", scene, "--out", out, "--preview", "--token-experts", "0", "--quiet"],
                          env: ["MOEMAE_MODEL_DIR": nil], in: work)
        XCTAssertEqual(map.status, 0, map.stderr)
        XCTAssertEqual(map.stderr.components(separatedBy: "bundled demonstration model").count - 1, 1, "said once: \(map.stderr)")
        XCTAssertTrue(map.stderr.contains("\(prefix)/share/moemae/weights.safetensors") && map.stderr.contains("model-card.md"), map.stderr)

        // The run summary and the STAC Item record the files used and their SHA-256.
        let sha = { (p: String) in try runTool("sha256sum", [p]).split(separator: " ")[0] }
        let summary = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: out + "/run-summary.json"))) as! [String: Any]
        XCTAssertEqual(summary["weights"] as? String, "\(prefix)/share/moemae/weights.safetensors")
        XCTAssertEqual(summary["probe"] as? String, "\(prefix)/share/moemae/probe-bigearthnet19.safetensors")
        XCTAssertEqual((summary["weights_sha256"] as? String).map { Substring($0) }, try sha("\(prefix)/share/moemae/weights.safetensors"))
        let item = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: "\(out)/\(product).stac.json"))) as! [String: Any]
        let facts = (item["properties"] as! [String: Any])["moemae:run"] as! [String: String]
        XCTAssertEqual(facts["weights"], "\(prefix)/share/moemae/weights.safetensors")
        XCTAssertEqual(facts["probe_sha256"].map { Substring($0) }, try sha("\(prefix)/share/moemae/probe-bigearthnet19.safetensors"))
        let assets = item["assets"] as! [String: [String: Any]]
        XCTAssertEqual(assets["thumbnail"]?["href"] as? String, "./\(product)_labels.png")
        XCTAssertEqual(assets["thumbnail"]?["type"] as? String, "image/png")
        XCTAssertEqual(assets["thumbnail"]?["roles"] as? [String], ["thumbnail", "overview"])
        XCTAssertEqual(assets["overview_rgb"]?["href"] as? String, "./\(product)_rgb.png")
        XCTAssertEqual(assets["overview_experts_layer0"]?["roles"] as? [String], ["overview"])

        // The PNGs decode (GDAL) and have the expected size; the legend names the probe's classes.
        let labels = try image("\(out)/\(product)_labels.png")
        let grid = try runTool("gdalinfo", ["\(out)/\(product)_labels.tif"])
        XCTAssertTrue(grid.contains("Size is 13, 13"), grid)
        // 13 tiles × 40 = 520-pixel map, plus margins, title and legend beside it.
        XCTAssertEqual(labels.bands, 4)
        XCTAssertGreaterThanOrEqual(labels.width, 520 + 3 * 12 + 24)
        XCTAssertGreaterThanOrEqual(labels.height, 520 + 2 * 12 + 28)
        let classes = try runPython("""
            import json, struct, sys
            b = open(sys.argv[1], 'rb').read(); n = struct.unpack('<Q', b[:8])[0]
            print(json.dumps(json.loads(json.loads(b[8:8 + n])['__metadata__']['classes'])))
            """, ["\(prefix)/share/moemae/probe-bigearthnet19.safetensors"])
        let names = try JSONSerialization.jsonObject(with: Data(classes.utf8)) as! [String]
        XCTAssertEqual(names.count, 19)
        for (i, name) in names.enumerated() {
            XCTAssertTrue(labels.metadata["legend_\(i)"]?.hasSuffix(" " + name) == true, "legend_\(i): \(labels.metadata["legend_\(i)"] ?? "missing")")
        }
        // Every class colour is drawn (its legend swatch), counted by Python over the decoded pixels.
        let colours = names.indices.map { labels.metadata["legend_\($0)"]!.prefix(7).dropFirst() }
        try runTool("gdal_translate", ["-q", "-of", "ENVI", "-co", "INTERLEAVE=BSQ", "\(out)/\(product)_labels.png", work + "/labels.raw"])
        let missing = try runPython("""
            import sys
            import numpy as np
            w, h = int(sys.argv[2]), int(sys.argv[3])
            px = np.fromfile(sys.argv[1], dtype=np.uint8).reshape(4, h, w)
            seen = {'%02X%02X%02X' % c for c in set(zip(px[0].ravel().tolist(), px[1].ravel().tolist(), px[2].ravel().tolist()))}
            print(' '.join(c for c in sys.argv[4:] if c not in seen))
            """, [work + "/labels.raw", String(labels.width), String(labels.height)] + colours.map(String.init))
        XCTAssertEqual(missing.trimmingCharacters(in: .whitespacesAndNewlines), "", "class colours not drawn")
        let rgb = try image("\(out)/\(product)_rgb.png")
        XCTAssertEqual([rgb.width, rgb.height, rgb.bands], [512, 512, 4], "the scene's 512×512 pixels, RGB + alpha")
        let experts = try image("\(out)/\(product)_experts_layer0.png")
        XCTAssertGreaterThanOrEqual(experts.width, 520)   // 130 token pixels × 4
        XCTAssertTrue(experts.metadata["legend_0"]?.hasSuffix("expert 0") == true, "\(experts.metadata)")

        // `moemae info` on the scene, the outputs, a dataset, the weights and probe; JSON valid against the schema.
        let dataset = work + "/dataset"
        let tile = try run(installed, ["tile", scene, "--out", dataset], in: work)
        XCTAssertEqual(tile.status, 0, tile.stderr)
        let paths = [scene, out, "\(out)/\(product).stac.json", dataset, "\(prefix)/share/moemae/weights.safetensors",
                     "\(prefix)/share/moemae/probe-bigearthnet19.safetensors",
                     sharedDirectory + "/data/mtl/LC09_L2SP_010065_20220129_20220131_02_T1_MTL.txt"]
        let text = try run(installed, ["info"] + paths)
        XCTAssertEqual(text.status, 0, text.stderr)
        for expected in ["Landsat scene \(product)", "model-ready: yes", "13 × 13 = 169 tiles", "moemae map output",
                         "STAC Item \(product)", "moemae dataset", "MoE-MAE encoder weights", "linear probe", "Urban fabric",
                         "Landsat MTL of LC09_L2SP_010065_20220129_20220131_02_T1", "cannot be opened"] {
            XCTAssertTrue(text.stdout.contains(expected), "info lacks '\(expected)':\n\(text.stdout)")
        }
        let json = try run(installed, ["info", "--json"] + paths)
        XCTAssertEqual(json.status, 0, json.stderr)
        try json.stdout.write(toFile: work + "/info.json", atomically: true, encoding: .utf8)
        let check = try runPython("""
            import json, sys
            from jsonschema import Draft202012Validator
            schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))
            Draft202012Validator.check_schema(schema)
            errors = [e.message for e in Draft202012Validator(schema).iter_errors(doc)]
            print(' | '.join(errors) if errors else 'ok ' + ','.join(d['kind'] for d in doc))
            """, [repositoryRoot + "/schemas/info.schema.json", work + "/info.json"])
        XCTAssertEqual(check.trimmingCharacters(in: .whitespacesAndNewlines), "ok scene,map_output,stac_item,dataset,weights,probe,mtl")

        // Uninstall removes what install put there.
        let un = try run("/bin/bash", [repositoryRoot + "/scripts/install.sh", "--uninstall"], env: ["PREFIX": prefix])
        XCTAssertEqual(un.status, 0, un.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: installed))
        XCTAssertFalse(FileManager.default.fileExists(atPath: prefix + "/share/moemae"))
    }

    /// A binary with no bundled model beside it, under its prefix, or in $MOEMAE_MODEL_DIR, and no
    /// --weights: one error naming every folder it looked in, exit 1, nothing written.
    func testAMissingBundledModelIsAnErrorNamingWhereItLooked() throws {
        guard let binary = moemaeBinary else { throw XCTSkip("moemae binary not built next to the tests") }
        let root = makeTempDirectory("moemae-no-model")
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: binary, toPath: root + "/bin/moemae")
        let empty = root + "/empty-model-dir"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        for env: [String: String?] in [["MOEMAE_MODEL_DIR": nil], ["MOEMAE_MODEL_DIR": empty]] {
            let r = try run(root + "/bin/moemae", ["map", scene, "--out", root + "/maps"], env: env)
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertTrue(r.stderr.hasPrefix("error: "), r.stderr)
            XCTAssertTrue(r.stderr.contains("bundled model"), r.stderr)
            for place in ["\(root)/bin/models/default", "\(root)/share/moemae"] {
                XCTAssertTrue(r.stderr.contains(place), "does not name \(place): \(r.stderr)")
            }
            if env["MOEMAE_MODEL_DIR"]! == nil {
                XCTAssertTrue(r.stderr.contains("$MOEMAE_MODEL_DIR is not set"), r.stderr)
            } else {
                XCTAssertTrue(r.stderr.contains(empty), r.stderr)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/maps"))
        }
        // The same for embed and probe predict.
        let embed = try run(root + "/bin/moemae", ["embed", root + "/nodataset", "--out", root + "/e.safetensors"], env: ["MOEMAE_MODEL_DIR": nil])
        XCTAssertEqual(embed.status, 1)
        XCTAssertTrue(embed.stderr.contains("\(root)/share/moemae"), embed.stderr)
    }
}
