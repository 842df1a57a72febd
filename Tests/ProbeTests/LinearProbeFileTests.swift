import Foundation
import Landsat
import SafeTensors
import XCTest
@testable import Probe

/// The probe file: round trip, the contract's keys as Python reads them, the JSON Schema, scoring, and
/// the refusals (dimension, encoder).
final class LinearProbeFileTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("probe-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    static var repositoryRoot: URL {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url
    }

    func sampleProbe(task: ProbeTask) -> LinearProbe {
        let k = 3, d = 4
        return LinearProbe(task: task, classes: LinearProbe.defaultClasses(["Arable land", "water", "forest"]),
                           feature: .embedding, weightsSHA256: String(repeating: "ab", count: 32), dimension: d,
                           weight: (0..<(k * d)).map { Float($0 % 5) * 0.25 - 0.5 }, bias: [0.1, -0.2, 0.3],
                           classFrequencies: [0.5, 0.3, 0.2], trainingTiles: 10, C: 1, standardized: false,
                           source: "test")
    }

    func testRoundTripAndPythonReadsTheContract() throws {
        let probe = sampleProbe(task: .multilabel)
        let path = folder.appendingPathComponent("p.safetensors").path
        try probe.write(to: path)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".partial"))
        let back = try LinearProbe(contentsOf: path)
        XCTAssertEqual(back, probe)
        XCTAssertEqual(back.classes[0].color, RGB(255, 255, 168), "BigEarthNet class names keep their CORINE colour")
        XCTAssertEqual(back.thresholds, [0.5, 0.5, 0.5])

        let schema = Self.repositoryRoot.appendingPathComponent("schemas/probe.schema.json").path
        let py = try PythonReference()
        defer { py.cleanUp() }
        let out = try py.run("""
        import json, struct, sys, jsonschema
        from safetensors.numpy import load_file
        from safetensors import safe_open
        path, schema_path = sys.argv[1], sys.argv[2]
        t = load_file(path)
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]; header = json.loads(f.read(n))
        schema = json.load(open(schema_path))
        jsonschema.validate(header, schema)
        meta = header["__metadata__"]
        decoded = {k: json.loads(meta[k]) for k in ["classes", "colors", "thresholds", "class_frequencies"]}
        jsonschema.validate(decoded, {**schema["$defs"]["decoded_metadata"], "$defs": schema["$defs"]})
        print(json.dumps({"w": list(t["weight"].shape), "b": list(t["bias"].shape), "dtype": str(t["weight"].dtype),
                          "task": meta["task"], "classes": decoded["classes"], "colors": decoded["colors"],
                          "feature": meta["feature"], "sha": meta["weights_sha256"]}))
        """, [path, schema])
        let ref = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
        XCTAssertEqual(ref["w"] as! [Int], [3, 4])
        XCTAssertEqual(ref["b"] as! [Int], [3])
        XCTAssertEqual(ref["dtype"] as! String, "float32")
        XCTAssertEqual(ref["task"] as! String, "multilabel")
        XCTAssertEqual(ref["classes"] as! [String], ["Arable land", "water", "forest"])
        XCTAssertEqual((ref["colors"] as! [[Int]])[0], [255, 255, 168])
        XCTAssertEqual(ref["feature"] as! String, "embedding")
        XCTAssertEqual(ref["sha"] as! String, String(repeating: "ab", count: 32))
    }

    func testScoresAreSoftmaxOrSigmoidOfTheLinearMap() {
        for task in ProbeTask.allCases {
            let probe = sampleProbe(task: task)
            let x: [Float] = [1, 2, 3, 4, -1, 0.5, 0, 2]
            let s = probe.scores(x, count: 2)
            for i in 0..<2 {
                let z = (0..<3).map { c in Double(probe.bias[c]) + (0..<4).reduce(0.0) { $0 + Double(probe.weight[c * 4 + $1]) * Double(x[i * 4 + $1]) } }
                let expected: [Double]
                if task == .multiclass {
                    let e = z.map { exp($0 - z.max()!) }
                    expected = e.map { $0 / e.reduce(0, +) }
                } else {
                    expected = z.map { 1 / (1 + exp(-$0)) }
                }
                for c in 0..<3 { XCTAssertEqual(Double(s[i * 3 + c]), expected[c], accuracy: 1e-6) }
            }
            if task == .multiclass {
                let labels = probe.multiclassLabels(scores: s)
                XCTAssertEqual(labels.count, 2)
                XCTAssertEqual(Int(labels[0]), (0..<3).max { s[$0] < s[$1] }!)
            } else {
                XCTAssertEqual(probe.multilabelLabels(scores: s), s.map { $0 >= 0.5 ? 1 : 0 })
            }
        }
    }

    func testRefusesOtherDimensionAndOtherEncoder() {
        let probe = sampleProbe(task: .multiclass)
        XCTAssertThrowsError(try probe.checkCompatible(dimension: 5, weightsSHA256: "", source: "e.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("dimension 5"), "\(error)")
        }
        XCTAssertThrowsError(try probe.checkCompatible(dimension: 4, weightsSHA256: String(repeating: "cd", count: 32), source: "e")) { error in
            XCTAssertTrue("\(error)".contains("refit"), "\(error)")
        }
        XCTAssertNoThrow(try probe.checkCompatible(dimension: 4, weightsSHA256: String(repeating: "AB", count: 32), source: "e"))
        XCTAssertNoThrow(try probe.checkCompatible(dimension: 4, weightsSHA256: "", source: "e"))
    }

    /// The model-input encoding of the training embeddings (`hour_policy`, `metadata`, as in the
    /// embeddings file) survives a round trip, and bad values are refused naming the file.
    func testInputEncodingRoundTripAndBadValues() throws {
        var probe = sampleProbe(task: .multiclass)
        probe.inputHourPolicy = .published
        probe.inputMetadata = false
        XCTAssertEqual(probe.fileMetadata["hour_policy"], "published")
        XCTAssertEqual(probe.fileMetadata["metadata"], "false")
        let path = folder.appendingPathComponent("p.safetensors").path
        try probe.write(to: path)
        let back = try LinearProbe(contentsOf: path)
        XCTAssertEqual(back.inputHourPolicy, .published)
        XCTAssertEqual(back.inputMetadata, false)
        XCTAssertEqual(back, probe)
        XCTAssertNil(sampleProbe(task: .multiclass).fileMetadata["hour_policy"], "unknown encoding: no key")

        var meta = probe.fileMetadata
        meta["hour_policy"] = "local"
        let bad = folder.appendingPathComponent("bad.safetensors").path
        try SafeTensors.write([Tensor("weight", probe.weight, shape: [3, 4]), Tensor("bias", probe.bias, shape: [3])], metadata: meta, to: bad)
        XCTAssertThrowsError(try LinearProbe(contentsOf: bad)) { error in
            XCTAssertTrue("\(error)".contains(bad) && "\(error)".contains("hour_policy is 'local'"), "\(error)")
        }
    }

    func testRejectsFilesThatAreNotProbes() throws {
        let path = folder.appendingPathComponent("x.safetensors").path
        try SafeTensors.write([Tensor("weight", [Float](repeating: 0, count: 6), shape: [2, 3])], metadata: ["task": "multiclass"], to: path)
        XCTAssertThrowsError(try LinearProbe(contentsOf: path)) { error in
            XCTAssertTrue("\(error)".contains("not a probe file"), "\(error)")
        }
    }

    func testSHA256OfFileMatchesPython() throws {
        let path = folder.appendingPathComponent("blob.bin").path
        var rng = SeededRandom(seed: 3)
        // Larger than one 4 MiB read so the streaming path is exercised.
        let bytes = (0..<(5 << 20)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let ours = try FileDigest.sha256(ofFile: path)
        let py = try PythonReference()
        defer { py.cleanUp() }
        let theirs = try py.run("import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], 'rb').read()).hexdigest())", [path])
        XCTAssertEqual(ours, theirs.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func testImportFromNumpyArchiveMatchesScikitLearnProbabilities() throws {
        let py = try PythonReference()
        defer { py.cleanUp() }
        // Fit in scikit-learn, export coef/intercept (float64 multiclass, float32 binary), score in both.
        try py.run("""
        import numpy as np
        from sklearn.linear_model import LogisticRegression
        from safetensors.numpy import save_file
        rng = np.random.default_rng(0)
        X = rng.normal(size=(60, 5)); y = rng.integers(0, 3, 60); y2 = (X[:, 0] > 0).astype(int)
        m = LogisticRegression(C=0.7).fit(X, y); b = LogisticRegression(C=0.7).fit(X, y2)
        np.savez("multi.npz", coef=m.coef_, intercept=m.intercept_)
        np.savez("binary.npz", coef=b.coef_.astype(np.float32), intercept=b.intercept_.astype(np.float32))
        save_file({"x": X.astype(np.float32), "pm": m.predict_proba(X), "pb": b.predict_proba(X)}, "ref.safetensors")
        """)
        let ref = try SafeTensorsFile(path: py.path("ref.safetensors"))
        let x = try ref.array("x", as: Float.self)
        let multi = try LinearProbe.imported(npz: py.path("multi.npz"), classNames: ["a", "b", "c"], task: .multiclass,
                                             feature: .embedding, weightsSHA256: "")
        let binary = try LinearProbe.imported(npz: py.path("binary.npz"), classNames: ["no", "yes"], task: .multiclass,
                                              feature: .cls, weightsSHA256: "")
        for (probe, name) in [(multi, "pm"), (binary, "pb")] {
            let ours = probe.scores(x, count: 60)
            let theirs = try ref.array(name, as: Double.self)
            XCTAssertLessThan(zip(ours, theirs).map { abs(Double($0) - $1) }.max()!, 1e-5, name)
        }
        XCTAssertThrowsError(try LinearProbe.imported(npz: py.path("multi.npz"), classNames: ["a", "b"], task: .multiclass,
                                                      feature: .embedding, weightsSHA256: "")) { error in
            XCTAssertTrue("\(error)".contains("3 rows but 2 class names"), "\(error)")
        }
    }
}
