import Foundation
import XCTest

/// `tile`, `map` and `pretrain` killed with SIGKILL (no handler runs, nothing is cleaned up) at 20 seeded
/// random moments each. After every kill, every file under its final name is complete (equal to the
/// uninterrupted run's, or for `pretrain`'s checkpoint a readable safetensors file); the command is then
/// rerun (`tile`) or resumed (`map --resume`, `pretrain --resume`) and the end result is byte-identical to
/// an uninterrupted run (docs/reliability.md, "Killed at any moment"). The kills of `map` and `pretrain`
/// are chained (kill, resume, kill the resumed run, …) so twenty kills cost about one run plus restarts.
final class KillTests: XCTestCase {
    var dir: String!
    override func setUp() { dir = makeTempDirectory("e2e-kill") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    static let product = "LC08_L2SP_008059_20191201_20200825_02_T1"
    static let xxsWeights = "\(sharedDirectory)/golden/weights-xxs-public.safetensors"

    /// Every file under `folder` whose path has no hidden component (relative path → bytes): the files
    /// under their final names. Empty when the folder does not exist.
    static func finalFiles(_ folder: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        guard let e = FileManager.default.enumerator(atPath: folder) else { return out }
        for case let name as String in e {
            if name.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isDirectory)
            if !isDirectory.boolValue { out[name] = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)) }
        }
        return out
    }

    /// JSON with the keys that record when or how fast a run went removed (the only bytes that differ
    /// between two uninterrupted runs); other files unchanged.
    static func comparable(_ name: String, _ data: Data, dropping keys: Set<String>) -> Data {
        func strip(_ v: Any) -> Any {
            if let o = v as? [String: Any] { return o.filter { !keys.contains($0.key) }.mapValues(strip) }
            if let a = v as? [Any] { return a.map(strip) }
            return v
        }
        if name.hasSuffix(".json"), let v = try? JSONSerialization.jsonObject(with: data),
           let d = try? JSONSerialization.data(withJSONObject: strip(v), options: [.sortedKeys]) { return d }
        if name.hasSuffix(".jsonl") {
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            return Data(lines.map { line -> String in
                guard let v = try? JSONSerialization.jsonObject(with: Data(line.utf8)),
                      let d = try? JSONSerialization.data(withJSONObject: strip(v), options: [.sortedKeys]) else { return String(line) }
                return String(decoding: d, as: UTF8.self)
            }.joined(separator: "\n").utf8)
        }
        return data
    }

    static func comparable(_ files: [String: Data], dropping keys: Set<String>) -> [String: Data] {
        Dictionary(uniqueKeysWithValues: files.map { ($0.key, comparable($0.key, $0.value, dropping: keys)) })
    }

    func start(_ binary: String, _ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        // GeoPackage writers stamp the current time into gpkg_contents; GDAL takes a fixed one from here.
        var env = ProcessInfo.processInfo.environment
        env["OGR_CURRENT_DATE"] = "2000-01-01T00:00:00.000Z"
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Runs to the end; returns the wall time.
    @discardableResult
    func run(_ binary: String, _ args: [String], _ what: String) throws -> TimeInterval {
        let began = Date()
        let p = try start(binary, args)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "\(what): moemae \(args.joined(separator: " "))")
        return Date().timeIntervalSince(began)
    }

    /// Starts `args`, waits `seconds`, sends SIGKILL; true when the process was still running then.
    func kill(_ binary: String, _ args: [String], after seconds: Double) throws -> Bool {
        let p = try start(binary, args)
        usleep(UInt32(seconds * 1_000_000))
        let running = p.isRunning
        Foundation.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        return running && p.terminationReason == .uncaughtSignal
    }

    func testTileKilledAtRandomMomentsThenRerunIsByteIdentical() throws {
        guard let binary = moemaeBinary else { throw XCTSkip("moemae binary not built") }
        let scene = sceneFolder(Self.product)
        let reference = dir + "/reference"
        // The faster of two uninterrupted runs sets the kill moments: with one reference run, a slow one
        // under a fluctuating load made too few kills land while tile was running (6 and 7 of 20, in two
        // of six runs on the shared 2-core machine).
        let first = try run(binary, ["tile", scene, "--out", reference], "uninterrupted run")
        let second = try run(binary, ["tile", scene, "--out", dir + "/reference-2"], "second uninterrupted run")
        let duration = min(first, second)
        let expected = try Self.finalFiles(reference)
        XCTAssertEqual(Set(expected.keys), ["manifest.json", "tiles-00000.safetensors", "tiles.gpkg"])
        XCTAssertEqual(try Self.finalFiles(dir + "/reference-2"), expected, "two uninterrupted runs differ")

        var rng = SeededGenerator(seed: 13)
        let out = dir + "/out"
        // Another run's temporary folder (pid 1 is always alive): the reruns must not remove it.
        let live = dir + "/.out.partial-1"
        try FileManager.default.createDirectory(atPath: live, withIntermediateDirectories: false)
        var killedWhileRunning = 0
        for k in 0..<20 {
            try? FileManager.default.removeItem(atPath: out)
            if try kill(binary, ["tile", scene, "--out", out], after: Double(rng.next() % 1000) / 1000 * duration) { killedWhileRunning += 1 }
            // Nothing partial under the final name: either no dataset at all, or the complete one.
            let after = try Self.finalFiles(out)
            XCTAssertTrue(after.isEmpty || after == expected, "kill \(k): \(out) holds a partial dataset (\(after.keys.sorted()))")
            if after.isEmpty { try run(binary, ["tile", scene, "--out", out], "kill \(k): the rerun") }
            XCTAssertEqual(try Self.finalFiles(out), expected, "kill \(k): the rerun differs from the uninterrupted run")
            // The killed run's hidden `.out.partial-<pid>` folder is gone (removed by the rerun, or never
            // left because the kill came after publishing); the live run's stays.
            let temporaries = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".out.partial-") }
            XCTAssertEqual(temporaries, [".out.partial-1"], "kill \(k): temporary folders left beside the output")
        }
        XCTAssertGreaterThanOrEqual(killedWhileRunning, 10, "too few kills landed while tile was running")
    }
}

/// SplitMix64 (Steele et al. 2014): the kill moments are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
