import Foundation
import SafeTensors
import XCTest

/// `map` and `pretrain` killed at 20 seeded random moments each, the kills chained through `--resume`
/// (KillTests has the helpers and the `tile` case; docs/reliability.md, "Killed at any moment").
extension KillTests {
    /// XXS on a 13×13-tile scene with scores and embeddings; kills chained through `--resume`.
    func testMapKilledAtRandomMomentsThenResumedIsByteIdentical() throws {
        guard let binary = moemaeBinary else { throw XCTSkip("moemae binary not built") }
        let probe = dir + "/probe.safetensors"
        try MapCommandTests.writeProbe(to: probe, dimension: 108, weightsSHA: try MapCommandTests.sha256(Self.xxsWeights))
        func args(_ out: String) -> [String] {
            ["map", sceneFolder(Self.product), "--weights", Self.xxsWeights, "--probe", probe, "--out", out, "--quiet",
             "--scores", "--embeddings", "--batch-size", "16", "--resume"]
        }
        // When and how fast the run went (run-summary.json, <scene>_summary.json, the STAC Item's `created`)
        // and how it got there (`resumedRows`, `alreadyComplete`): everything else must be byte-identical.
        let timeKeys: Set<String> = ["started", "wall_s", "timings", "created", "resumed_rows", "already_complete"]
        let reference = dir + "/reference"
        let duration = try run(binary, args(reference), "uninterrupted run")
        let expected = Self.comparable(try Self.finalFiles(reference), dropping: timeKeys)
        XCTAssertTrue(expected.keys.contains("\(Self.product)_labels.tif"), "\(expected.keys.sorted())")

        var rng = SeededGenerator(seed: 14)
        let out = dir + "/out"
        var killedWhileRunning = 0
        for k in 0..<20 {
            // Up to a fifth of a whole run: each resumed run gets a little further before it is killed.
            if try kill(binary, args(out), after: Double(rng.next() % 1000) / 1000 * duration / 5) { killedWhileRunning += 1 }
            let after = Self.comparable(try Self.finalFiles(out), dropping: timeKeys)
            for (name, data) in after {
                XCTAssertEqual(data, expected[name], "kill \(k): \(name) under its final name differs from the uninterrupted run's (partial?)")
            }
        }
        try run(binary, args(out), "the last resume")
        XCTAssertEqual(Self.comparable(try Self.finalFiles(out), dropping: timeKeys), expected, "resumed after 20 kills ≠ uninterrupted run")
        XCTAssertGreaterThanOrEqual(killedWhileRunning, 15, "too few kills landed while map was running")
    }

    /// XXS pretraining (2 epochs of 4 steps on the tiled BigEarthNet sample), a checkpoint every step;
    /// kills chained through `--resume` (or a fresh start while no checkpoint exists yet).
    func testPretrainKilledAtRandomMomentsThenResumedIsByteIdentical() throws {
        guard let binary = moemaeBinary else { throw XCTSkip("moemae binary not built") }
        let data = dir + "/data"
        try run(binary, ["tile", "\(sharedDirectory)/data/patches/bigearthnet-l-sample", "--out", data, "--quiet"], "tile")
        let common = ["--preset", "XXS", "--epochs", "2", "--batch-size", "64", "--seed", "5", "--workers", "2", "--checkpoint-every", "1"]
        let reference = dir + "/reference"
        let duration = try run(binary, ["pretrain", data, "--out", reference] + common, "uninterrupted run")
        // tiles_per_s is a speed, the one field two uninterrupted runs differ in.
        let expected = Self.comparable(try Self.finalFiles(reference), dropping: ["tiles_per_s"])
        XCTAssertNotNil(expected["weights.safetensors"])

        var rng = SeededGenerator(seed: 15)
        let out = dir + "/out"
        var killedWhileRunning = 0
        for k in 0..<20 {
            let resumable = FileManager.default.fileExists(atPath: out + "/checkpoint.safetensors")
            let args = resumable ? ["pretrain", "--resume", out] : ["pretrain", data, "--out", out, "--overwrite"] + common
            if try kill(binary, args, after: Double(rng.next() % 1000) / 1000 * duration / 5) { killedWhileRunning += 1 }
            let after = try Self.finalFiles(out)
            if let checkpoint = after["checkpoint.safetensors"] {
                XCTAssertNoThrow(try SafeTensorsFile(path: out + "/checkpoint.safetensors"), "kill \(k): partial checkpoint (\(checkpoint.count) bytes)")
            }
            if let weights = after["weights.safetensors"] {
                XCTAssertEqual(weights, expected["weights.safetensors"], "kill \(k): weights.safetensors differs from the uninterrupted run's (partial?)")
            }
            if let log = after["train.jsonl"], !log.isEmpty {
                XCTAssertEqual(log.last, 0x0A, "kill \(k): train.jsonl ends in a partial line")
            }
        }
        let resumable = FileManager.default.fileExists(atPath: out + "/checkpoint.safetensors")
        try run(binary, resumable ? ["pretrain", "--resume", out] : ["pretrain", data, "--out", out, "--overwrite"] + common, "the last run")
        XCTAssertEqual(Self.comparable(try Self.finalFiles(out), dropping: ["tiles_per_s"]), expected, "resumed after 20 kills ≠ uninterrupted run")
        XCTAssertGreaterThanOrEqual(killedWhileRunning, 15, "too few kills landed while pretrain was running")
    }
}
