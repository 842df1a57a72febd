import Foundation
import SafeTensors
import XCTest

/// `moemae probe …` run as a user runs it: the built binary on a dataset folder whose scenes are the
/// 200 real BigEarthNet-Landsat patches (ids = patch names, labels from their real label files) and on
/// a real Landsat scene's georeferencing (label rasters). The embeddings are synthetic here (a noisy
/// function of the true labels) so the test does not depend on the encoder; the real encoder's figures
/// are in docs/probes.md. Figures are checked against scikit-learn, outputs against the JSON Schemas.
final class ProbeEndToEndTests: XCTestCase {
    // MARK: Helpers (prefixed to stay clear of other end-to-end files' helpers)

    struct Run { var status: Int32; var stdout: String; var stderr: String }

    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { url.deleteLastPathComponent() }
        return url
    }()
    static let shared = root.appendingPathComponent("../shared").standardized.path
    static let patches = shared + "/data/patches/bigearthnet-l-sample"
    static let sceneBand = shared + "/data/scenes/LC08_L2SP_008059_20191201_20200825_02_T1/LC08_L2SP_008059_20191201_20200825_02_T1_SR_B1.TIF"

    static let binary: String? = {
        var dirs = [Bundle(for: ProbeEndToEndTests.self).bundleURL.deletingLastPathComponent(),
                    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        dirs.append(root.appendingPathComponent(".build/release"))
        for dir in dirs {
            var d = dir
            for _ in 0..<3 {
                let p = d.appendingPathComponent("moemae").path
                if FileManager.default.isExecutableFile(atPath: p) { return p }
                d.deleteLastPathComponent()
            }
        }
        return nil
    }()

    static func execute(_ executable: String, _ args: [String], in folder: String? = nil) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        if let folder { p.currentDirectoryURL = URL(fileURLWithPath: folder) }
        // stdout through a pipe, stderr into a file: neither can fill up and block the child.
        let errFile = NSTemporaryDirectory() + "probe-e2e-stderr-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: errFile, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errFile) }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errFile))
        try p.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let errData = FileManager.default.contents(atPath: errFile) ?? Data()
        return Run(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    func probe(_ args: [String]) throws -> Run {
        guard let binary = Self.binary else { throw XCTSkip("moemae binary not built (swift build -c release --product moemae)") }
        return try Self.execute(binary, ["probe"] + args)
    }

    func python(_ script: String, _ args: [String] = []) throws -> String {
        let r = try Self.execute("/usr/bin/env", ["python3", "-c", script] + args, in: folder)
        guard r.status == 0 else { XCTFail("python3 failed (scripts/setup.sh installs its packages):\n\(r.stderr)"); return "" }
        return r.stdout
    }

    func gdal(_ name: String, _ args: [String]) throws -> String {
        let r = try Self.execute("/usr/bin/env", [name] + args)
        guard r.status == 0 else { XCTFail("\(name) failed: \(r.stderr)"); return "" }
        return r.stdout
    }

    var folder: String!
    func path(_ name: String) -> String { folder + "/" + name }
    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "probe-e2e-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    /// A dataset folder with one scene per real BigEarthNet patch (as `moemae tile` names them) and
    /// embeddings whose dimensions encode the patch's true 19-class labels plus Gaussian noise.
    /// The embeddings record the SHA-256 of `weights.bin`, written beside them.
    func makeBigEarthNetInputs(dimension: Int = 24) throws {
        _ = try python("""
        import json, os, sys, hashlib, numpy as np
        from safetensors.numpy import save_file
        patches = sys.argv[1]
        names = sorted(f[:-4] for f in os.listdir(patches + "/images") if f.endswith(".tif"))
        corine = {"Continuous urban fabric": 0, "Discontinuous urban fabric": 0, "Industrial or commercial units": 1,
          "Non-irrigated arable land": 2, "Permanently irrigated land": 2, "Rice fields": 2, "Vineyards": 3,
          "Fruit trees and berry plantations": 3, "Olive groves": 3, "Annual crops associated with permanent crops": 3,
          "Pastures": 4, "Complex cultivation patterns": 5,
          "Land principally occupied by agriculture, with significant areas of natural vegetation": 6,
          "Agro-forestry areas": 7, "Broad-leaved forest": 8, "Coniferous forest": 9, "Mixed forest": 10,
          "Natural grassland": 11, "Sparsely vegetated areas": 11, "Moors and heathland": 12, "Sclerophyllous vegetation": 12,
          "Transitional woodland/shrub": 13, "Beaches, dunes, sands": 14, "Inland marshes": 15, "Peatbogs": 15,
          "Salt marshes": 16, "Salines": 16, "Water courses": 17, "Water bodies": 17, "Coastal lagoons": 18,
          "Estuaries": 18, "Sea and ocean": 18}
        D = int(sys.argv[2]); rng = np.random.default_rng(5); proj = rng.normal(size=(19, D))
        Y = np.zeros((len(names), 19))
        for i, n in enumerate(names):
            f = f"{patches}/labels/{n}_labels_metadata.json"
            if os.path.exists(f):
                for l in json.load(open(f))["labels"]:
                    if l in corine: Y[i, corine[l]] = 1
        E = (Y @ proj + 0.8 * rng.normal(size=(len(names), D))).astype(np.float32)
        C = (Y @ proj + 1.5 * rng.normal(size=(len(names), D))).astype(np.float32)
        open("weights.bin", "wb").write(b"moemae test weights")
        sha = hashlib.sha256(b"moemae test weights").hexdigest()
        n = len(names); z = np.zeros(n, np.int32)
        save_file({"embedding": E, "cls": C, "row": z, "col": z, "scene": np.arange(n, dtype=np.int32)}, "embeddings.safetensors",
                  metadata={"weights_sha256": sha, "preset": "test", "dataset": "dataset"})
        os.makedirs("dataset", exist_ok=True)
        scenes = [{"id": nm, "sensor": "OLI_TIRS", "spacecraft": "LANDSAT_8", "collection": "C2", "level": "L2SP",
                   "acquired": "2017-06-13T10:10:31Z", "crs_wkt2": "EPSG:32634", "epsg": 32634,
                   "geotransform": [500000, 30, 0, 7000000, 0, -30], "width": 41, "height": 41, "grid_rows": 1, "grid_cols": 1,
                   "files": [f"{patches}/images/{nm}.tif", f"{patches}/labels/{nm}_labels_metadata.json"], "model_ready": True} for nm in names]
        json.dump({"format": "moemae-dataset", "format_version": 1, "tile_size": 40, "bands": [f"SR_B{i}" for i in range(1, 8)],
                   "edge": "pad", "hour_policy": "utc", "metadata": True, "min_valid": 0.0,
                   "shards": [{"file": "tiles-00000.safetensors", "tiles": n}], "scenes": scenes}, open("dataset/manifest.json", "w"))
        """, [Self.patches, String(dimension)])
    }

    // MARK: Multi-label on BigEarthNet labels

    func testFitEvalPredictMultilabelOnBigEarthNetLabelsAgreesWithScikitLearn() throws {
        try makeBigEarthNetInputs()
        let common = ["--dataset", path("dataset"), "--embeddings", path("embeddings.safetensors"), "--labels", Self.patches,
                      "--test-fraction", "0.3"]
        let fit = try probe(["fit"] + common + ["--split", "train", "--task", "multilabel", "--C", "0.5", "--out", path("p.safetensors")])
        XCTAssertEqual(fit.status, 0, fit.stderr)
        XCTAssertTrue(fit.stdout.contains("19 classes × 24 dimensions"), fit.stdout)
        XCTAssertTrue(fit.stderr.contains("no label file"), "the sample's one unlabelled patch is reported: \(fit.stderr)")
        let eval = try probe(["eval"] + common + ["--split", "test", "--probe", path("p.safetensors"), "--json", path("eval.json")])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stdout.contains("micro mAP") && eval.stdout.contains("baseline"), eval.stdout)

        // scikit-learn, from the same files: the documented split, OneVsRest LogisticRegression(C=0.5), its metrics.
        let out = try python("""
        import json, sys, os, hashlib, warnings, numpy as np, jsonschema
        warnings.simplefilter("ignore")
        from safetensors.numpy import load_file
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import average_precision_score, f1_score
        patches, schema = sys.argv[1], sys.argv[2]
        report = json.load(open("eval.json")); jsonschema.validate(report, json.load(open(schema)))
        m = json.load(open("dataset/manifest.json")); ids = [s["id"] for s in m["scenes"]]
        names = json.loads(__import__("safetensors").safe_open("p.safetensors", "np").metadata()["classes"])
        assert names[10] == "Mixed forest" and len(names) == 19
        E = load_file("embeddings.safetensors")["embedding"].astype(np.float64)
        def labels(n):
            f = f"{patches}/labels/{n}_labels_metadata.json"
            return json.load(open(f))["labels"] if os.path.exists(f) else None
        mapping = {l: i for i, c in enumerate([
          ["Continuous urban fabric", "Discontinuous urban fabric"], ["Industrial or commercial units"],
          ["Non-irrigated arable land", "Permanently irrigated land", "Rice fields"],
          ["Vineyards", "Fruit trees and berry plantations", "Olive groves", "Annual crops associated with permanent crops"],
          ["Pastures"], ["Complex cultivation patterns"], ["Land principally occupied by agriculture, with significant areas of natural vegetation"],
          ["Agro-forestry areas"], ["Broad-leaved forest"], ["Coniferous forest"], ["Mixed forest"],
          ["Natural grassland", "Sparsely vegetated areas"], ["Moors and heathland", "Sclerophyllous vegetation"],
          ["Transitional woodland/shrub"], ["Beaches, dunes, sands"], ["Inland marshes", "Peatbogs"], ["Salt marshes", "Salines"],
          ["Water courses", "Water bodies"], ["Coastal lagoons", "Estuaries", "Sea and ocean"]]) for l in c}
        def test(key): return int.from_bytes(hashlib.sha1(key.encode()).digest()[:8], "big") / 2**64 < 0.3
        rows = {"train": [], "test": []}; Y = np.zeros((len(ids), 19), int)
        for i, n in enumerate(ids):
            ls = labels(n)
            if ls is None: continue
            for l in ls:
                if l in mapping: Y[i, mapping[l]] = 1
            if Y[i].sum() == 0: continue
            rows["test" if test(n) else "train"].append(i)
        tr, te = rows["train"], rows["test"]
        S = np.zeros((len(te), 19))
        for c in range(19):
            col = Y[tr, c]
            if col.min() == col.max():
                S[:, c] = 1 / (1 + np.exp(30)) if col.max() == 0 else 1 / (1 + np.exp(-30))
            else:
                S[:, c] = LogisticRegression(C=0.5, tol=1e-10, max_iter=100000).fit(E[tr], col).predict_proba(E[te])[:, 1]
        Yt = Y[te]; P = Yt.sum(0) > 0
        print(json.dumps({"tiles": len(te), "micro_map": average_precision_score(Yt, S, average="micro"),
          "macro_map": average_precision_score(Yt[:, P], S[:, P], average="macro"),
          "micro_f1": f1_score(Yt, (S >= 0.5).astype(int), average="micro"),
          "macro_f1": f1_score(Yt[:, P], (S >= 0.5).astype(int)[:, P], average="macro"), "report": report}))
        """, [Self.patches, Self.root.appendingPathComponent("schemas/probe-eval.schema.json").path])
        let ref = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let report = try XCTUnwrap(ref["report"] as? [String: Any])
        XCTAssertEqual(report["tiles"] as? Int, ref["tiles"] as? Int)
        for key in ["micro_map", "macro_map"] {
            // Scores agree with scikit-learn's to ~1e-6, so the rankings (and AP) agree to that order.
            XCTAssertEqual(report[key] as! Double, ref[key] as! Double, accuracy: 1e-4, key)
        }
        for key in ["micro_f1", "macro_f1"] { XCTAssertEqual(report[key] as! Double, ref[key] as! Double, accuracy: 1e-4, key) }
        let baseline = try XCTUnwrap(report["baseline"] as? [String: Any])
        XCTAssertEqual(baseline["frequencies_from"] as? String, "training")
        XCTAssertGreaterThan(report["micro_map"] as! Double, baseline["micro_map"] as! Double)

        // predict: every tile, scores + thresholded labels + positions, readable from Python.
        let predict = try probe(["predict", "--embeddings", path("embeddings.safetensors"), "--probe", path("p.safetensors"), "--out", path("scores.safetensors")])
        XCTAssertEqual(predict.status, 0, predict.stderr)
        let scores = try SafeTensorsFile(path: path("scores.safetensors"))
        XCTAssertEqual(try scores.check("scores", dtype: .f32).shape, [200, 19])
        XCTAssertEqual(try scores.check("labels", dtype: .u8).shape, [200, 19])
        XCTAssertEqual(try scores.ints("scene"), Array(0..<200))
        let s = try scores.array("scores", as: Float.self), l = try scores.array("labels", as: UInt8.self)
        XCTAssertEqual(l, s.map { $0 >= 0.5 ? 1 : 0 })
        let validated = try python("""
        import json, struct, sys, jsonschema
        for f, schema in [("scores.safetensors", "probe-scores"), ("p.safetensors", "probe")]:
            with open(f, "rb") as h:
                n = struct.unpack("<Q", h.read(8))[0]; header = json.loads(h.read(n))
            jsonschema.validate(header, json.load(open(sys.argv[1] + "/" + schema + ".schema.json")))
        print("valid")
        """, [Self.root.appendingPathComponent("schemas").path])
        XCTAssertEqual(validated.trimmingCharacters(in: .whitespacesAndNewlines), "valid")
    }

    // MARK: Multi-class, import, refusals

    func testMulticlassFitOnClsAndImportedProbeFromScikitLearn() throws {
        try makeBigEarthNetInputs()
        let common = ["--dataset", path("dataset"), "--embeddings", path("embeddings.safetensors"), "--labels", Self.patches + "/labels"]
        let fit = try probe(["fit"] + common + ["--task", "multiclass", "--feature", "cls", "--standardize", "--weights", path("weights.bin"), "--out", path("mc.safetensors")])
        XCTAssertEqual(fit.status, 0, fit.stderr)
        XCTAssertTrue(fit.stderr.contains("several classes"), "multi-label patches are left out of the multi-class task: \(fit.stderr)")
        let eval = try probe(["eval"] + common + ["--probe", path("mc.safetensors"), "--json", path("mc.json")])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stdout.contains("overall accuracy") && eval.stdout.contains("confusion matrix"), eval.stdout)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("mc.json")))) as? [String: Any])
        for key in ["overall_accuracy", "macro_f1", "confusion_matrix", "baseline"] { XCTAssertNotNil(report[key], key) }

        // A scikit-learn model exported with np.savez, imported, then scored like scikit-learn scores it.
        _ = try python("""
        import numpy as np
        from safetensors.numpy import load_file, save_file
        from sklearn.linear_model import LogisticRegression
        E = load_file("embeddings.safetensors")["embedding"]; y = (E[:, 0] > 0).astype(int) + (E[:, 1] > 0).astype(int)
        m = LogisticRegression(C=2.0).fit(E, y)
        np.savez("coef.npz", coef=m.coef_, intercept=m.intercept_)
        save_file({"p": m.predict_proba(E).astype(np.float32)}, "sk.safetensors")
        open("names.json", "w").write('["low", "mid", "high"]')
        """)
        let imported = try probe(["import", path("coef.npz"), "--classes-file", path("names.json"), "--weights", path("weights.bin"), "--out", path("imp.safetensors")])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        // weights.bin is not a safetensors file: only its SHA-256 is recorded, and the output says the dimension is unchecked.
        XCTAssertTrue(imported.stdout.contains("weights.bin is not a safetensors file") && imported.stdout.contains("not checked"), imported.stdout)
        let predict = try probe(["predict", "--embeddings", path("embeddings.safetensors"), "--probe", path("imp.safetensors"), "--out", path("imp-scores.safetensors")])
        XCTAssertEqual(predict.status, 0, predict.stderr)
        let ours = try SafeTensorsFile(path: path("imp-scores.safetensors")).array("scores", as: Float.self)
        let theirs = try SafeTensorsFile(path: path("sk.safetensors")).array("p", as: Float.self)
        XCTAssertLessThan(zip(ours, theirs).map { abs($0 - $1) }.max()!, 1e-5)
        XCTAssertEqual(try SafeTensorsFile(path: path("imp-scores.safetensors")).check("labels", dtype: .i32).shape, [200])
    }

    /// `probe import --weights W` with real (safetensors) weights: the coefficients must have W's embedding
    /// dimension (XXS: 108), or the import is refused naming both files (`map` would refuse the pair later).
    func testImportChecksTheDimensionAgainstRealWeights() throws {
        let xxs = sharedDirectory + "/golden/weights-xxs-public.safetensors"
        _ = try python("""
        import numpy as np
        rng = np.random.default_rng(1)
        for d in (100, 108):
            np.savez(f"coef{d}.npz", coef=rng.normal(size=(3, d)), intercept=rng.normal(size=3))
        """)
        var r = try probe(["import", path("coef100.npz"), "--classes", "a,b,c", "--weights", xxs, "--out", path("p100.safetensors")])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderr, "error: \(path("coef100.npz")): coef has 100 columns (embedding dimension) but --weights \(xxs) is a XXS encoder of dimension 108; fit the coefficients on embeddings of these weights\n")
        XCTAssertFalse(exists("p100.safetensors") || exists("p100.safetensors.partial"))
        r = try probe(["import", path("coef108.npz"), "--classes", "a,b,c", "--weights", xxs, "--out", path("p108.safetensors")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("3 classes × 108 dimensions") && !r.stdout.contains("not checked"), r.stdout)
    }

    func testBadInputsFailClearlyAndWriteNothing() throws {
        try makeBigEarthNetInputs()
        let base = ["--dataset", path("dataset"), "--embeddings", path("embeddings.safetensors")]

        // A label file naming no known class.
        let bad = path("bad-labels")
        try FileManager.default.createDirectory(atPath: bad, withIntermediateDirectories: true)
        let first = try String(contentsOfFile: path("dataset/manifest.json")).components(separatedBy: "\"id\": \"")[1].components(separatedBy: "\"")[0]
        try Data(#"{"labels": ["Lava fields"]}"#.utf8).write(to: URL(fileURLWithPath: bad + "/\(first)_labels_metadata.json"))
        var r = try probe(["fit"] + base + ["--labels", bad, "--task", "multilabel", "--out", path("x.safetensors")])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("'Lava fields'") && r.stderr.contains("_labels_metadata.json"), r.stderr)
        XCTAssertFalse(exists("x.safetensors") || exists("x.safetensors.partial"))

        // Fewer than two classes: only patches whose single class is Coniferous forest, in a folder of their own.
        let one = path("one-class")
        try FileManager.default.createDirectory(atPath: one, withIntermediateDirectories: true)
        try Data(#"{"labels": ["Coniferous forest"]}"#.utf8).write(to: URL(fileURLWithPath: one + "/\(first)_labels_metadata.json"))
        r = try probe(["fit"] + base + ["--labels", one, "--task", "multiclass", "--out", path("x.safetensors")])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("fewer than two classes") || r.stderr.contains("at least two"), r.stderr)
        XCTAssertFalse(exists("x.safetensors"))

        // A probe of another dimension, and one of another encoder.
        r = try probe(["fit"] + base + ["--labels", Self.patches, "--task", "multilabel", "--out", path("p.safetensors")])
        XCTAssertEqual(r.status, 0, r.stderr)
        _ = try python("""
        import numpy as np
        from safetensors.numpy import load_file, save_file
        t = load_file("embeddings.safetensors")
        save_file({"embedding": t["embedding"][:, :20].copy(), "row": t["row"], "col": t["col"], "scene": t["scene"]}, "e20.safetensors",
                  metadata={"weights_sha256": ""})
        save_file(t, "other.safetensors", metadata={"weights_sha256": "0" * 64})
        """)
        r = try probe(["predict", "--embeddings", path("e20.safetensors"), "--probe", path("p.safetensors"), "--out", path("s.safetensors")])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("dimension 20") && r.stderr.contains("expects 24"), r.stderr)
        XCTAssertFalse(exists("s.safetensors"))
        r = try probe(["eval"] + ["--dataset", path("dataset"), "--embeddings", path("other.safetensors"), "--labels", Self.patches,
                                  "--probe", path("p.safetensors"), "--json", path("e.json")])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("refit"), r.stderr)
        XCTAssertFalse(exists("e.json"))

        // An existing output is kept unless --overwrite: one line naming it, exit 1 (not a usage error, 64).
        r = try probe(["fit"] + base + ["--labels", Self.patches, "--task", "multilabel", "--out", path("p.safetensors")])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("\(path("p.safetensors")): already exists"), r.stderr)
        XCTAssertFalse(r.stderr.contains("Usage:"), r.stderr)
    }

    func testLabelRasterThatDoesNotOverlapTheTilesIsRefused() throws {
        // A dataset of one real scene (UTM 18N, Colombia) and a label raster over Bavaria (UTM 32N).
        let info = try gdal("gdalinfo", ["-json", Self.sceneBand])
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(info.utf8)) as? [String: Any])
        let gt = try XCTUnwrap(json["geoTransform"] as? [Double])
        let wkt = try gdal("gdalsrsinfo", ["-o", "wkt2", "--single-line", Self.sceneBand]).trimmingCharacters(in: .whitespacesAndNewlines)
        let manifest: [String: Any] = [
            "format": "moemae-dataset", "format_version": 1, "tile_size": 40, "bands": (1...7).map { "SR_B\($0)" }, "edge": "drop",
            "hour_policy": "utc", "metadata": true, "min_valid": 0.0, "shards": [["file": "tiles-00000.safetensors", "tiles": 144]],
            "scenes": [["id": "LC08_L2SP_008059_20191201_20200825_02_T1", "sensor": "OLI_TIRS", "spacecraft": "LANDSAT_8",
                        "collection": "02", "level": "L2SP", "acquired": "2019-12-01T15:20:00Z", "crs_wkt2": wkt, "epsg": 32618,
                        "geotransform": gt, "width": 512, "height": 512, "grid_rows": 12, "grid_cols": 12, "files": [Self.sceneBand],
                        "model_ready": true]],
        ]
        try FileManager.default.createDirectory(atPath: path("scene"), withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: path("scene/manifest.json")))
        let rows = (0..<144).map { Int32($0 / 12) }, cols = (0..<144).map { Int32($0 % 12) }
        try SafeTensors.write([
            Tensor("embedding", (0..<(144 * 8)).map { Float(($0 * 37) % 11) / 11 }, shape: [144, 8]),
            Tensor("row", rows, shape: [144]), Tensor("col", cols, shape: [144]), Tensor("scene", [Int32](repeating: 0, count: 144), shape: [144]),
        ], to: path("scene-emb.safetensors"))
        let asc = "ncols 4\nnrows 4\nxllcorner 680000\nyllcorner 5330000\ncellsize 1000\nNODATA_value 0\n" + String(repeating: "1 2 1 2\n", count: 4)
        try Data(asc.utf8).write(to: URL(fileURLWithPath: path("far.asc")))
        _ = try gdal("gdal_translate", ["-q", "-a_srs", "EPSG:32632", path("far.asc"), path("far.tif")])
        let r = try probe(["fit", "--dataset", path("scene"), "--embeddings", path("scene-emb.safetensors"), "--labels", path("far.tif"),
                           "--task", "multiclass", "--out", path("x.safetensors")])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("far.tif") && r.stderr.contains("does not overlap"), r.stderr)
        XCTAssertFalse(exists("x.safetensors"))

        // The same scene with a label raster that does cover it: a probe is written.
        let x0 = gt[0], y1 = gt[3], x1 = x0 + 512 * gt[1], y0 = y1 + 512 * gt[5]
        let near = "ncols 2\nnrows 1\nxllcorner \(x0)\nyllcorner \(y0)\ncellsize \((x1 - x0) / 2)\nNODATA_value 0\n1 2\n"
        try Data(near.utf8).write(to: URL(fileURLWithPath: path("near.asc")))
        _ = try gdal("gdal_translate", ["-q", "-a_srs", "EPSG:32618", path("near.asc"), path("near.tif")])
        let ok = try probe(["fit", "--dataset", path("scene"), "--embeddings", path("scene-emb.safetensors"), "--labels", path("near.tif"),
                            "--task", "multiclass", "--out", path("y.safetensors")])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(exists("y.safetensors"))
    }

    // MARK: The real pipeline: tile → embed (published weights) → probe fit/eval

    func testRealPatchesTileEmbedFitEvalReproduceTheDocumentedFigures() throws {
        guard let binary = Self.binary else { throw XCTSkip("moemae binary not built") }
        let weights = Self.shared + "/golden/weights-public.safetensors"
        var r = try Self.execute(binary, ["tile", Self.patches, "--out", path("ds"), "--hour", "published", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try Self.execute(binary, ["embed", path("ds"), "--weights", weights, "--out", path("emb.safetensors"), "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let common = ["--dataset", path("ds"), "--embeddings", path("emb.safetensors"), "--labels", Self.patches, "--test-fraction", "0.25"]
        r = try probe(["fit"] + common + ["--split", "train", "--task", "multilabel", "--out", path("p.safetensors")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("fitted on 146 tiles"), r.stdout)
        r = try probe(["eval"] + common + ["--split", "test", "--probe", path("p.safetensors"), "--json", path("eval.json")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("eval.json")))) as? [String: Any])
        let baseline = try XCTUnwrap(report["baseline"] as? [String: Any])
        XCTAssertEqual(report["tiles"] as? Int, 53)
        // docs/probes.md, "Real-data check": micro mAP 53.33, macro mAP 43.26, baseline 27.07 / 16.51.
        XCTAssertEqual(report["micro_map"] as! Double, 0.5333, accuracy: 0.005)
        XCTAssertEqual(report["macro_map"] as! Double, 0.4326, accuracy: 0.005)
        XCTAssertEqual(baseline["micro_map"] as! Double, 0.2707, accuracy: 0.0005)
        // The probe records the SHA-256 of the weights file.
        let hash = try Self.execute("/usr/bin/env", ["sha256sum", weights]).stdout.split(separator: " ").first.map(String.init)
        let meta = try SafeTensorsFile(path: path("p.safetensors")).metadata
        XCTAssertEqual(meta["weights_sha256"], hash)
        // ... and the model-input encoding of its training embeddings, which `map` then follows.
        XCTAssertEqual(meta["hour_policy"], "published")
        XCTAssertEqual(meta["metadata"], "true")
        XCTAssertFalse(r.stderr.contains("warning"), "eval on embeddings of the same encoding: no warning: \(r.stderr)")
        // The same embeddings labelled as made with the utc hour policy: predict warns.
        let relabel = try Self.execute("/usr/bin/env", ["python3", "-c", """
        import sys, json, struct
        from safetensors.numpy import load_file, save_file
        with open(sys.argv[1], "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]; meta = json.loads(f.read(n))["__metadata__"]
        meta["hour_policy"] = "utc"
        save_file(load_file(sys.argv[1]), sys.argv[2], metadata=meta)
        """, path("emb.safetensors"), path("emb-utc.safetensors")])
        XCTAssertEqual(relabel.status, 0, relabel.stderr)
        r = try probe(["predict", "--embeddings", path("emb-utc.safetensors"), "--probe", path("p.safetensors"), "--out", path("s-utc.safetensors")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("warning: \(path("p.safetensors")) was fitted on embeddings made with hour policy published, but \(path("emb-utc.safetensors")) was made with utc"), r.stderr)
    }

    func testHelpDescribesTheSubcommands() throws {
        let r = try probe(["--help"])
        XCTAssertEqual(r.status, 0)
        for sub in ["fit", "import", "predict", "eval"] { XCTAssertTrue(r.stdout.contains(sub), r.stdout) }
        let fit = try probe(["fit", "--help"])
        XCTAssertTrue(fit.stdout.contains("--min-fraction") && fit.stdout.contains("--class-field") && fit.stdout.contains("--C"), fit.stdout)
    }
}
