import Foundation
import XCTest

/// `moemae pretrain` end to end: the gradient check against the reference file (the CI check of the
/// training implementation), a short real pretraining run on tiled BigEarthNet patches, and an exact resume.
final class PretrainCommandTests: XCTestCase {
    func testVerifyGradientsAgainstReference() throws {
        let golden = "\(sharedDirectory)/golden"
        guard FileManager.default.fileExists(atPath: "\(golden)/grads-public.safetensors") else { throw XCTSkip("no golden gradients") }
        let r = try moemae(["pretrain", "--verify-gradients", "\(golden)/grads-public.safetensors",
                            "--weights", "\(golden)/weights-public.safetensors"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("PASS"), r.stdout)
        XCTAssertTrue(r.stdout.contains("loss_masked"), r.stdout)
    }

    func testVerifyGradientsFailsOnOtherWeights() throws {
        let golden = "\(sharedDirectory)/golden"
        guard FileManager.default.fileExists(atPath: "\(golden)/grads-public.safetensors") else { throw XCTSkip("no golden gradients") }
        // The XXS weights do not fit the S gradients: a clear error, non-zero exit.
        let r = try moemae(["pretrain", "--verify-gradients", "\(golden)/grads-public.safetensors",
                            "--weights", "\(golden)/weights-xxs-public.safetensors"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("grad.") || r.stderr.contains("shape"), r.stderr)
    }

    /// XXS, 2 epochs of batch 16 on 48 tiles: the log has one line per step, weights carry the metadata,
    /// and stopping after 3 steps then resuming gives bit-identical weights to an uninterrupted run.
    func testPretrainAndExactResume() throws {
        let tmp = NSTemporaryDirectory() + "moemae-pretrain-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let data = tmp + "/data"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        var r = try moemae(["tile", "\(sharedDirectory)/data/patches/bigearthnet-l-sample", "--out", data, "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let common = ["--preset", "XXS", "--epochs", "2", "--batch-size", "64", "--seed", "5", "--workers", "2", "--checkpoint-every", "0"]
        r = try moemae(["pretrain", data, "--out", tmp + "/a"] + common)
        XCTAssertEqual(r.status, 0, r.stderr)
        let log = try String(contentsOfFile: tmp + "/a/train.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(log.count, 8)   // 199 tiles → 4 steps of ≤ 64 per epoch
        let first = try JSONSerialization.jsonObject(with: Data(log[0].utf8)) as? [String: Any]
        for key in ["step", "epoch", "loss", "loss_masked", "loss_unmasked", "moe_loss", "lr", "tiles_per_s"] {
            XCTAssertNotNil(first?[key], key)
        }
        r = try moemae(["pretrain", data, "--out", tmp + "/b", "--max-steps", "3"] + common)
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try moemae(["pretrain", "--resume", tmp + "/b", "--threads", "2"])   // the old name of --workers still works
        XCTAssertEqual(r.status, 0, r.stderr)
        let a = try Data(contentsOf: URL(fileURLWithPath: tmp + "/a/weights.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: tmp + "/b/weights.safetensors"))
        XCTAssertEqual(a, b, "resumed run differs from the uninterrupted one")
        let logB = try String(contentsOfFile: tmp + "/b/train.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(logB.count, 8)
        // A new run into a folder holding a finished run refuses (one line, exit 1) and leaves it intact;
        // --overwrite starts afresh.
        r = try moemae(["pretrain", data, "--out", tmp + "/a", "--max-steps", "1"] + common)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderr, "error: \(tmp)/a/weights.safetensors: already exists (an earlier pretraining run); continue it with --resume \(tmp)/a, choose another --out, or pass --overwrite to start afresh\n")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: tmp + "/a/weights.safetensors")), a, "the earlier model is untouched")
        r = try moemae(["pretrain", data, "--out", tmp + "/a", "--max-steps", "1", "--overwrite"] + common)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try String(contentsOfFile: tmp + "/a/train.jsonl", encoding: .utf8).split(separator: "\n").count, 1)
        // --init decides the model size: a contradicting --preset is refused, not ignored.
        let xxs = "\(sharedDirectory)/golden/weights-xxs-public.safetensors"
        r = try moemae(["pretrain", data, "--out", tmp + "/d", "--init", xxs, "--preset", "S", "--max-steps", "1"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderr, "error: --preset S conflicts with --init \(xxs), which holds preset XXS weights; leave out --preset\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp + "/d/weights.safetensors"))
        // Bad input: a clear error naming the file.
        r = try moemae(["pretrain", tmp + "/nothing", "--out", tmp + "/c"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("nothing"), r.stderr)
    }
}
