import Foundation
import SafeTensors
@testable import MoEMAE

/// `../shared` beside the repository root (walk up from this file to the folder holding Package.swift).
func sharedFolder(_ file: String = #filePath) -> String {
    var url = URL(fileURLWithPath: file).deletingLastPathComponent()
    while url.path != "/" {
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            return url.deletingLastPathComponent().appendingPathComponent("shared").path
        }
        url = url.deletingLastPathComponent()
    }
    return "/work/shared"
}

func goldenPath(_ name: String) -> String { sharedFolder() + "/golden/" + name }

/// A fresh temporary folder.
func temporaryFolder() -> String {
    let p = NSTemporaryDirectory() + "moemae-tests-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
    return p
}

/// max |a − b| / max |b|: the parity measure of the golden README.
func relativeMaxDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "sizes \(a.count) vs \(b.count)")
    var diff: Float = 0, scale: Float = 0
    for i in a.indices { diff = max(diff, abs(a[i] - b[i])); scale = max(scale, abs(b[i])) }
    return scale > 0 ? diff / scale : diff
}

/// Models are large to parse; load each golden set once per test run.
enum Golden {
    static let lock = NSLock()
    nonisolated(unsafe) static var models: [String: MoEMAEModel] = [:]

    static func model(_ set: String) throws -> MoEMAEModel {
        lock.lock(); defer { lock.unlock() }
        if let m = models[set] { return m }
        let m = try MoEMAEModel.load(path: goldenPath("weights-\(set).safetensors"))
        models[set] = m
        return m
    }
}
