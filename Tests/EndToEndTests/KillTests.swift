import Foundation
import TestSupport
import XCTest

/// `moemae tile` killed with SIGKILL (no handler runs, nothing is cleaned up) at 20 seeded random
/// moments: after every kill no file exists under the final name unless it is complete, and running
/// the command again gives output byte-identical to an uninterrupted run (docs/reliability.md).
final class KillTests: XCTestCase {
    var dir: String!
    override func setUp() { dir = makeTempDirectory("e2e-kill") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// Every file under `folder` (relative path → bytes); empty when the folder does not exist.
    private func snapshot(_ folder: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        guard let e = FileManager.default.enumerator(atPath: folder) else { return out }
        for case let name as String in e {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isDirectory)
            if !isDirectory.boolValue { out[name] = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)) }
        }
        return out
    }

    private func start(_ binary: String, _ args: [String]) throws -> Process {
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

    func testTileKilledAtRandomMomentsThenRerunIsByteIdentical() throws {
        guard let binary = moemaeBinary else { throw XCTSkip("moemae binary not built") }
        let scene = sceneFolder("LC08_L2SP_008059_20191201_20200825_02_T1")
        let reference = dir + "/reference"
        let began = Date()
        let full = try start(binary, ["tile", scene, "--out", reference])
        full.waitUntilExit()
        XCTAssertEqual(full.terminationStatus, 0)
        let duration = Date().timeIntervalSince(began)
        let expected = try snapshot(reference)
        XCTAssertEqual(Set(expected.keys), ["manifest.json", "tiles-00000.safetensors", "tiles.gpkg"])

        var rng = SeededGenerator(seed: 13)
        let out = dir + "/out"
        var killedWhileRunning = 0
        for k in 0..<20 {
            try? FileManager.default.removeItem(atPath: out)
            let p = try start(binary, ["tile", scene, "--out", out])
            usleep(UInt32(Double(rng.next() % 1000) / 1000 * duration * 1_000_000))
            if p.isRunning { killedWhileRunning += 1 }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            // Nothing partial under the final name: either no dataset at all, or the complete one.
            let after = try snapshot(out)
            XCTAssertTrue(after.isEmpty || after == expected, "kill \(k): \(out) holds a partial dataset (\(after.keys.sorted()))")
            if after.isEmpty {
                let rerun = try start(binary, ["tile", scene, "--out", out])
                rerun.waitUntilExit()
                XCTAssertEqual(rerun.terminationStatus, 0, "kill \(k): the rerun failed")
            }
            XCTAssertEqual(try snapshot(out), expected, "kill \(k): the rerun differs from the uninterrupted run")
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
