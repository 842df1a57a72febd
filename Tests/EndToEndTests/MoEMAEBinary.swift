import Foundation
import XCTest
// Shared-data paths, temporary folders, runProcess/runTool/runPython/gdaltransform: visible in every file of this target.
@_exported import TestSupport

/// The `moemae` executable built next to this test bundle (`.build/<config>/moemae`).
let moemaeBinary: String? = {
    var candidates: [URL] = []
    candidates.append(Bundle.main.bundleURL)
    candidates.append(Bundle(for: BinaryLocator.self).bundleURL.deletingLastPathComponent())
    candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
    for dir in candidates {
        var d = dir
        for _ in 0..<3 {
            let p = d.appendingPathComponent("moemae").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
            d.deleteLastPathComponent()
        }
    }
    return nil
}()
private final class BinaryLocator {}

/// The result of running the binary.
typealias RunResult = ProcessResult

/// Runs `moemae args…` (in `folder`, default the test's working folder) and waits.
func moemae(_ args: [String], in folder: String? = nil) throws -> RunResult {
    guard let binary = moemaeBinary else {
        throw XCTSkip("moemae binary not built next to the tests (swift build --product moemae)")
    }
    return try runProcess(binary, args, in: folder)
}

/// Runs a tool found on PATH and fails on a non-zero exit, discarding its output.
func tool(_ name: String, _ args: [String]) throws { try runTool(name, args) }

/// A copy of a scene folder made of symbolic links (cheap), optionally leaving some files out.
func linkScene(_ product: String, into dir: String, except: Set<String> = []) throws -> String {
    let target = dir + "/" + product
    try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
    for f in try FileManager.default.contentsOfDirectory(atPath: sceneFolder(product)) where !except.contains(where: { f.hasSuffix($0) }) {
        try FileManager.default.createSymbolicLink(atPath: target + "/" + f, withDestinationPath: sceneFolder(product) + "/" + f)
    }
    return target
}

/// A child process whose stderr is collected in the background, waited for with a deadline.
final class BoundedRun {
    let process = Process()
    private let err = Pipe()
    private let group = DispatchGroup()
    private final class Collected: @unchecked Sendable { var data = Data() }  // written by one thread, read after group.wait()
    private let collected = Collected()

    /// Starts `executable args…` with stdout discarded.
    init(_ executable: String, _ args: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let handle = err.fileHandleForReading, collected = collected
        DispatchQueue.global().async(group: group) { collected.data = handle.readDataToEndOfFile() }
    }

    /// Sends `signal` to the process.
    func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits at most `seconds`; a process still running then is killed (SIGKILL) and the test fails.
    /// Returns the stderr text.
    @discardableResult
    func wait(atMost seconds: Double, file: StaticString = #filePath, line: UInt = #line) -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            XCTFail("still running after \(seconds) s: killed", file: file, line: line)
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        group.wait()
        return String(decoding: collected.data, as: UTF8.self)
    }
}

/// Every final-named (not `.moemae-partial-…`) entry of an output folder (none when it does not exist).
func finalNamedEntries(_ folder: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".moemae-partial-") }
}

/// SHA-256 of every file of a scene folder (through symbolic links), to show a run left its input untouched.
func sceneChecksums(_ folder: String) throws -> [String: String] {
    var sums: [String: String] = [:]
    for f in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() {
        let r = try runProcess("/usr/bin/sha256sum", ["\(folder)/\(f)"])
        sums[f] = r.stdout.split(separator: " ").first.map(String.init) ?? ""
    }
    return sums
}
