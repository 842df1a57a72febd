import Foundation
import XCTest

/// The repository root (the folder holding Package.swift), found from this file's path.
func repositoryRoot(file: String = #filePath) -> URL {
    var url = URL(fileURLWithPath: file).deletingLastPathComponent()
    while url.path != "/" {
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        url = url.deletingLastPathComponent()
    }
    fatalError("Package.swift not found above \(file)")
}

/// A fresh temporary folder, removed at the end of the test.
func temporaryFolder(_ test: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "moemae-pipeline-tests-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// Runs a program, returns (exit status, stdout + stderr).
func runProcess(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Runs `body` on a background thread and fails the test if it does not return within `seconds`
/// (a hang detector for pipeline tests, not a timing assertion).
func finishes<T>(within seconds: Double, _ body: @escaping () throws -> T, file: StaticString = #filePath, line: UInt = #line) throws -> Result<T, Error> {
    let done = DispatchSemaphore(value: 0)
    var result: Result<T, Error>?
    Thread.detachNewThread {
        result = Result { try body() }
        done.signal()
    }
    guard done.wait(timeout: .now() + seconds) == .success, let r = result else {
        XCTFail("did not finish within \(seconds) s (hang)", file: file, line: line)
        throw XCTSkip("hang")
    }
    return r
}
