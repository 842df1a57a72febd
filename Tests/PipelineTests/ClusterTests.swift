import Diagnostics
import Foundation
import XCTest
@testable import Pipeline

/// Shard selection from options and engine environments, the balanced split, and per-scene claims.
final class ClusterTests: XCTestCase {
    func entries(_ tiles: [Int]) -> [ManifestEntry] {
        tiles.enumerated().map {
            ManifestEntry(index: $0, id: "P\($0)", source: "/s/\($0)", acquired: "2020-01-01T00:00:00Z", crs: "EPSG:32633", epsg: 32633,
                          grid: .init(width: 40, height: 40, geotransform: [0, 30, 0, 0, 0, -30]), tileSize: 40,
                          estimatedTiles: $1, contentSHA256: String(repeating: "0", count: 64))
        }
    }

    func testExplicitOptionsWinOverTheEnvironment() throws {
        let slurm = ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "4", "SLURM_ARRAY_TASK_COUNT": "3"]
        XCTAssertEqual(try ShardSelection.resolve(shard: "2/7", shardCount: nil, index: nil, environment: slurm),
                       ShardSelection(index: 2, count: 7, origin: "shard 2/7 given"))
        XCTAssertEqual(try ShardSelection.resolve(shard: nil, shardCount: nil, index: 9, environment: slurm).line, 9)
        let s = try ShardSelection.resolve(shard: nil, shardCount: nil, index: nil, environment: slurm)
        XCTAssertEqual([s.index, s.count], [1, 3], "task id relative to SLURM_ARRAY_TASK_MIN")
        XCTAssertEqual(s.origin, "SLURM_ARRAY_TASK_ID=5 - SLURM_ARRAY_TASK_MIN=4 of SLURM_ARRAY_TASK_COUNT=3")
        XCTAssertEqual(s.summaryFileName, "run-summary-1-of-3.json")
        // With --shard-count the raw task id is the shard (a resubmission of --array=1 of 3 shards).
        let raw = try ShardSelection.resolve(shard: nil, shardCount: 3, index: nil, environment: ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "1", "SLURM_ARRAY_TASK_MIN": "1"])
        XCTAssertEqual([raw.index, raw.count], [1, 3])
    }

    func testKubernetesAndAWSBatchEnvironments() throws {
        let k = try ShardSelection.resolve(shard: nil, shardCount: 4, index: nil, environment: ["JOB_COMPLETION_INDEX": "3"])
        XCTAssertEqual([k.index, k.count], [3, 4])
        XCTAssertThrowsError(try ShardSelection.resolve(shard: nil, shardCount: nil, index: nil, environment: ["JOB_COMPLETION_INDEX": "3"])) {
            XCTAssertEqual(($0 as? DiagnosedError)?.settings, [.shardCount], "\($0)")
        }
        let b = try ShardSelection.resolve(shard: nil, shardCount: nil, index: nil,
                                           environment: ["AWS_BATCH_JOB_ARRAY_INDEX": "0", "AWS_BATCH_JOB_ARRAY_SIZE": "2"])
        XCTAssertEqual([b.index, b.count], [0, 2])
        XCTAssertThrowsError(try ShardSelection.resolve(shard: nil, shardCount: nil, index: nil, environment: ["AWS_BATCH_JOB_ARRAY_INDEX": "0"]))
        XCTAssertThrowsError(try ShardSelection.resolve(shard: nil, shardCount: 2, index: nil, environment: ["JOB_COMPLETION_INDEX": "2"]))
        XCTAssertThrowsError(try ShardSelection.resolve(shard: nil, shardCount: nil, index: nil, environment: ["JOB_COMPLETION_INDEX": "x"]))
        XCTAssertEqual(try ShardSelection.resolve(shard: nil, shardCount: nil, index: nil, environment: [:]).count, 1)
        for bad in ["3/3", "-1/2", "1", "a/b", "0/0"] {
            XCTAssertThrowsError(try ShardSelection.resolve(shard: bad, shardCount: nil, index: nil, environment: [:]), bad)
        }
    }

    /// Longest processing time first: deterministic, covers every line once, balanced.
    func testAssignmentIsDeterministicDisjointAndBalanced() throws {
        let tiles = [100, 40000, 38000, 169, 169, 20000, 19000, 500, 39000, 1]
        let e = entries(tiles)
        let shards = ShardPlan.assign(e, count: 3)
        XCTAssertEqual(shards, ShardPlan.assign(e, count: 3))
        XCTAssertEqual(shards.flatMap { $0 }.sorted(), Array(0..<tiles.count))
        let loads = shards.map { $0.map { tiles[$0] }.reduce(0, +) }
        let ideal = Double(tiles.reduce(0, +)) / 3
        XCTAssertLessThanOrEqual(Double(loads.max()!), ideal * 4 / 3, "\(loads)")
        // Equal weights: round-robin in line order.
        XCTAssertEqual(ShardPlan.assign(entries([5, 5, 5, 5, 5]), count: 2), [[0, 2, 4], [1, 3]])
        // More shards than lines: the extra shards are empty.
        XCTAssertEqual(ShardPlan.assign(entries([1]), count: 3), [[0], [], []])
        // --lines restricts before sharding; --index picks one line.
        let manifest = SceneManifest(entries: e)
        let sel = ShardSelection(index: 1, count: 2, origin: "test")
        // Lines 3, 4, 7 weigh 169, 169, 500: 7 alone in shard 0, 3 and 4 in shard 1.
        let lines = try ShardPlan.lines(of: manifest, selection: sel, restrictedTo: [3, 4, 7])
        XCTAssertEqual(lines.map(\.index), [3, 4])
        XCTAssertEqual(try ShardPlan.lines(of: manifest, selection: .init(index: 0, count: 1, line: 8, origin: "t"), restrictedTo: nil).map(\.index), [8])
        XCTAssertThrowsError(try ShardPlan.lines(of: manifest, selection: .init(index: 0, count: 1, line: 10, origin: "t"), restrictedTo: nil))
        XCTAssertEqual(try ShardPlan.parseLines("3,17,20-22,3"), [3, 17, 20, 21, 22])
        XCTAssertEqual(ShardPlan.compactList([7, 3, 4, 5, 9, 10]), "3-5,7,9,10")
        XCTAssertThrowsError(try ShardPlan.parseLines("3,x"))
    }

    func testManifestRoundTripAndRefusals() throws {
        let dir = NSTemporaryDirectory() + "moemae-manifest-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let m = SceneManifest(entries: entries([1, 2, 3]))
        try m.jsonLines().write(to: URL(fileURLWithPath: dir + "/m.jsonl"))
        XCTAssertEqual(try SceneManifest(contentsOf: dir + "/m.jsonl"), m)
        try Data("{\"index\": 0}\n".utf8).write(to: URL(fileURLWithPath: dir + "/bad.jsonl"))
        XCTAssertThrowsError(try SceneManifest(contentsOf: dir + "/bad.jsonl")) { XCTAssertTrue("\($0)".contains("line 1"), "\($0)") }
        XCTAssertThrowsError(try SceneManifest(contentsOf: dir + "/missing.jsonl")) { XCTAssertTrue("\($0)".contains("moemae plan"), "\($0)") }
    }

    func testClaimIsExclusiveTakesOverDeadOwnersAndNoticesLoss() throws {
        let dir = NSTemporaryDirectory() + "moemae-claims-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard case .acquired(let first) = try SceneClaim.acquire(directory: dir, product: "P", task: "a", heartbeatInterval: 0.2) else {
            return XCTFail("first claim refused")
        }
        // A live owner (this process): busy.
        guard case .busy(let owner) = try SceneClaim.acquire(directory: dir, product: "P", task: "b", heartbeatInterval: 0.2) else {
            return XCTFail("second claim of a live owner granted")
        }
        XCTAssertEqual(owner?.token, first.owner.token)
        // The heartbeat keeps it fresh past the stale limit.
        usleep(700_000)
        guard case .busy = try SceneClaim.acquire(directory: dir, product: "P", task: "b", heartbeatInterval: 0.2, staleAfter: 0.5) else {
            return XCTFail("a claim with a live heartbeat was taken over")
        }
        // Someone else's claim replaced ours: the owner notices at its next heartbeat.
        let lost = expectation(description: "lost")
        first.onLost { lost.fulfill() }
        let e = JSONEncoder()
        var other = first.owner; other.token = "other"
        try e.encode(other).write(to: URL(fileURLWithPath: first.path))
        wait(for: [lost], timeout: 5)
        XCTAssertFalse(first.isHeld)
        first.release()
        XCTAssertTrue(FileManager.default.fileExists(atPath: first.path), "release leaves another owner's claim alone")

        // A claim of a dead process on this host is stale at once.
        var dead = first.owner; dead.token = "dead"; dead.pid = 999_999_9
        try e.encode(dead).write(to: URL(fileURLWithPath: first.path))
        guard case .acquired(let taken) = try SceneClaim.acquire(directory: dir, product: "P", task: "c", heartbeatInterval: 30) else {
            return XCTFail("a dead owner's claim was not taken over")
        }
        XCTAssertTrue(taken.isHeld)
        // A claim whose heartbeat is old (another host) is stale after staleAfter.
        taken.release()
        XCTAssertFalse(FileManager.default.fileExists(atPath: first.path))
        var remote = first.owner; remote.host = "elsewhere"; remote.token = "remote"
        try e.encode(remote).write(to: URL(fileURLWithPath: first.path))
        guard case .busy = try SceneClaim.acquire(directory: dir, product: "P", task: "d", heartbeatInterval: 30, staleAfter: 60) else {
            return XCTFail("a fresh remote claim was taken over")
        }
        var old = [timeval(tv_sec: time(nil) - 120, tv_usec: 0), timeval(tv_sec: time(nil) - 120, tv_usec: 0)]
        XCTAssertEqual(utimes(first.path, &old), 0)
        guard case .acquired(let fresh) = try SceneClaim.acquire(directory: dir, product: "P", task: "d", heartbeatInterval: 30, staleAfter: 60) else {
            return XCTFail("a stale remote claim was not taken over")
        }
        fresh.release()
    }
}
