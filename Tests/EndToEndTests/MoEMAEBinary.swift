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
