import Foundation
import SafeTensors
import XCTest

/// Runs a Python script (scikit-learn, numpy, safetensors; installed by scripts/setup.sh) in a fresh
/// temporary folder and returns that folder, so a test can exchange safetensors files with it.
struct PythonReference {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("probe-py-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Runs `script` with `python3 -c`; fails the test with Python's stderr on a non-zero exit.
    @discardableResult
    func run(_ script: String, _ arguments: [String] = []) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        process.currentDirectoryURL = folder
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let stdout = String(decoding: outData, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "PythonReference", code: Int(process.terminationStatus), userInfo: [
                NSLocalizedDescriptionKey: "python3 failed (run scripts/setup.sh to install scikit-learn, numpy, safetensors):\n\(String(decoding: errData, as: UTF8.self))",
            ])
        }
        return stdout
    }

    func cleanUp() { try? FileManager.default.removeItem(at: folder) }
}

/// A small deterministic random source (SplitMix64) with Gaussian draws (Box–Muller), so test data is
/// the same on every run and platform.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func gaussian() -> Double {
        let u1 = max(uniform(), 1e-300), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
