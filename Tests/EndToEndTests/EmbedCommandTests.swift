import Foundation
import SafeTensors
import XCTest

/// `moemae embed` end to end: a shard built from the golden public patches must give the reference's
/// embeddings, CLS tokens, routing and reconstruction.
final class EmbedCommandTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = makeTempDirectory("e2e-embed") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    var golden: String { sharedDirectory + "/golden/golden-public.safetensors" }
    var weights: String { sharedDirectory + "/golden/weights-public.safetensors" }

    func relativeMaxDiff(_ a: [Float], _ b: [Float]) -> Float {
        XCTAssertEqual(a.count, b.count)
        var diff: Float = 0, scale: Float = 0
        for i in 0..<min(a.count, b.count) { diff = max(diff, abs(a[i] - b[i])); scale = max(scale, abs(b[i])) }
        return diff / max(scale, 1e-30)
    }

    /// A bare shard with the golden pixels and metadata (lat/lon as f64, hour f32, week i32, row/col/scene).
    func writeShard(_ path: String) throws -> Int {
        let g = try SafeTensorsFile(path: golden)
        let n = try g.require("pixels").shape[0]
        try SafeTensors.write([
            Tensor("pixels", try g.array("pixels", as: UInt16.self), shape: [n, 7, 40, 40]),
            Tensor("lat", try g.floats("lat").map(Double.init), shape: [n]),
            Tensor("lon", try g.floats("lon").map(Double.init), shape: [n]),
            Tensor("week", try g.array("week", as: Int32.self), shape: [n]),
            Tensor("hour", try g.floats("hour"), shape: [n]),
            Tensor("row", (0..<n).map { Int32($0 / 4) }, shape: [n]),
            Tensor("col", (0..<n).map { Int32($0 % 4) }, shape: [n]),
            Tensor("scene", [Int32](repeating: 3, count: n), shape: [n]),
        ], to: path)
        return n
    }

    func writeDatasetFolder(_ folder: String, bands: [String], metadata: Bool, n: Int) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        _ = try writeShard(folder + "/tiles-00000.safetensors")
        let manifest: [String: Any] = ["format": "moemae-dataset", "format_version": 1, "tile_size": 40, "bands": bands,
                                       "edge": "pad", "hour_policy": "utc", "metadata": metadata, "min_valid": 0.0,
                                       "shards": [["file": "tiles-00000.safetensors", "tiles": n]], "scenes": [] as [Any]]
        try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: folder + "/manifest.json"))
    }

    func testEmbedOfAGoldenShardReproducesTheReference() throws {
        let shard = dir + "/golden.safetensors"
        let n = try writeShard(shard)
        let out = dir + "/emb.safetensors"
        let r = try moemae(["embed", shard, "--weights", weights, "--out", out, "--tokens", "--reconstruct",
                            "--batch-size", "5", "--workers", "2", "--blas-threads", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("16/16 tiles"), r.stderr)
        let e = try SafeTensorsFile(path: out), g = try SafeTensorsFile(path: golden)
        for (ours, ref) in [("embedding", "embedding_mean_preln"), ("cls", "cls_preln"), ("tokens", "tokens_ln"),
                            ("reconstruction", "recon_pred"), ("gates", "gates_top2")] {
            XCTAssertEqual(e.info(ours)?.shape, g.info(ref)?.shape, ours)
            XCTAssertLessThanOrEqual(relativeMaxDiff(try e.floats(ours), try g.floats(ref)), 1e-4, ours)
        }
        try e.check("experts", dtype: .u8, shape: [n, 15, 105, 2])
        XCTAssertEqual(try e.ints("experts"), try g.ints("experts_top2"))
        XCTAssertEqual(try e.ints("row"), (0..<n).map { $0 / 4 })
        XCTAssertEqual(try e.ints("col"), (0..<n).map { $0 % 4 })
        XCTAssertEqual(try e.ints("scene"), [Int](repeating: 3, count: n))
        XCTAssertEqual(e.info("reconstruction_mse")?.shape, [n])
        XCTAssertEqual(e.metadata["preset"], "S")
        XCTAssertEqual(e.metadata["dataset"], shard)
        // The recorded fingerprint is the weights file's SHA-256 (checked with sha256sum).
        let p = Process(), pipe = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env"); p.arguments = ["sha256sum", weights]; p.standardOutput = pipe
        try p.run(); p.waitUntilExit()
        let sum = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ").first.map(String.init)
        XCTAssertEqual(e.metadata["weights_sha256"], sum)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + ".partial"))
    }

    func testDatasetWithoutMetadataUsesZeroMetadata() throws {
        let folder = dir + "/nometa"
        try writeDatasetFolder(folder, bands: ["SR_B1", "SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6", "SR_B7"], metadata: false, n: 16)
        let out = dir + "/nometa.safetensors"
        let r = try moemae(["embed", folder, "--weights", weights, "--out", out, "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let e = try SafeTensorsFile(path: out), g = try SafeTensorsFile(path: golden)
        XCTAssertLessThanOrEqual(relativeMaxDiff(try e.floats("embedding"), try g.floats("embedding_mean_preln_nometa")), 1e-4)
        XCTAssertEqual(e.metadata["metadata"], "false")
    }

    func testNonSurfaceReflectanceDatasetIsRefusedUnlessAllowed() throws {
        let folder = dir + "/toa"
        try writeDatasetFolder(folder, bands: ["B1", "B2", "B3", "B4", "B5", "B6", "B7"], metadata: true, n: 16)
        let out = dir + "/toa.safetensors"
        let r = try moemae(["embed", folder, "--weights", weights, "--out", out])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("SR_B1") && r.stderr.contains("--allow-non-sr"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let ok = try moemae(["embed", folder, "--weights", weights, "--out", out, "--allow-non-sr", "--quiet"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        // docs/bands.md: with --allow-non-sr the command says the results are not meaningful (even --quiet).
        XCTAssertTrue(ok.stderr.hasPrefix("warning: \(folder): bands B1,B2,B3,B4,B5,B6,B7; embedded anyway because non-SR inputs are allowed"), ok.stderr)
        XCTAssertTrue(ok.stderr.contains("these embeddings are not meaningful (option --allow-non-sr)"), ok.stderr)
    }

    func testBadWeightsFailClearlyAndWriteNothing() throws {
        let shard = dir + "/golden.safetensors"
        _ = try writeShard(shard)
        let out = dir + "/emb.safetensors"
        // A weights file that is really a tile shard: integer tensors, no model keys.
        let r = try moemae(["embed", shard, "--weights", shard, "--out", out])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("'pixels'") && r.stderr.contains("F32"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + ".partial"))
        let m = try moemae(["embed", shard, "--weights", dir + "/missing.safetensors", "--out", out])
        XCTAssertNotEqual(m.status, 0)
        XCTAssertTrue(m.stderr.contains("missing.safetensors"), m.stderr)
        let mask = try moemae(["embed", shard, "--weights", weights, "--out", out, "--mask-ratio", "0.5"])
        XCTAssertNotEqual(mask.status, 0)
        XCTAssertTrue(mask.stderr.contains("--reconstruct"), mask.stderr)
    }

    func testMaskedReconstructionIsSeeded() throws {
        let shard = dir + "/golden.safetensors"
        _ = try writeShard(shard)
        var results: [[Float]] = []
        for (i, seed) in ["1", "1", "2"].enumerated() {
            let out = dir + "/m\(i).safetensors"
            let r = try moemae(["embed", shard, "--weights", weights, "--out", out, "--reconstruct", "--mask-ratio", "0.75",
                                "--seed", seed, "--quiet", "--batch-size", "16"])
            XCTAssertEqual(r.status, 0, r.stderr)
            results.append(try SafeTensorsFile(path: out).floats("reconstruction_mse"))
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertNotEqual(results[0], results[2])
    }

    /// Without speed options embed runs as `moemae map` does: 2 workers × 1 BLAS thread (docs/performance.md).
    func testDefaultsAreTwoWorkersOfOneBLASThread() throws {
        let shard = dir + "/shard.safetensors"
        _ = try writeShard(shard)
        let r = try moemae(["embed", shard, "--weights", sharedDirectory + "/golden/weights-xxs-public.safetensors", "--out", dir + "/e.safetensors"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("2 worker(s) × 1 BLAS thread(s)"), r.stderr)
    }

    func testHelpDocumentsTheOutputs() throws {
        let r = try moemae(["embed", "--help"])
        XCTAssertEqual(r.status, 0)
        for word in ["--weights", "--tokens", "--reconstruct", "--mask-ratio", "--workers", "--blas-threads", "--allow-non-sr", "experts u8"] {
            XCTAssertTrue(r.stdout.contains(word), word)
        }
    }
}
