import Foundation
import XCTest

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
struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `moemae args…` and waits.
func moemae(_ args: [String]) throws -> RunResult {
    guard let binary = moemaeBinary else {
        throw XCTSkip("moemae binary not built next to the tests (swift build --product moemae)")
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out; p.standardError = err
    try p.run()
    // Read both pipes concurrently so a chatty child cannot block.
    var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    return RunResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}

/// `../shared` beside the repository root.
let sharedDirectory: String = {
    var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while url.path != "/" {
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            return url.deletingLastPathComponent().appendingPathComponent("shared").path
        }
        url.deleteLastPathComponent()
    }
    return "../shared"
}()

func sceneFolder(_ product: String) -> String { "\(sharedDirectory)/data/scenes/\(product)" }

func makeTempDirectory(_ prefix: String) -> String {
    let dir = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Runs a tool (gdal_translate …) and fails on a non-zero exit.
func tool(_ name: String, _ args: [String]) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [name] + args
    p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
    try p.run(); p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw NSError(domain: "\(name) \(args) failed", code: Int(p.terminationStatus)) }
}

/// A copy of a scene folder made of symbolic links (cheap), optionally leaving some files out.
func linkScene(_ product: String, into dir: String, except: Set<String> = []) throws -> String {
    let target = dir + "/" + product
    try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
    for f in try FileManager.default.contentsOfDirectory(atPath: sceneFolder(product)) where !except.contains(where: { f.hasSuffix($0) }) {
        try FileManager.default.createSymbolicLink(atPath: target + "/" + f, withDestinationPath: sceneFolder(product) + "/" + f)
    }
    return target
}
