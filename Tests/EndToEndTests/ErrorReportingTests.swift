import Foundation
import XCTest

/// Every subcommand reports a runtime error the same way (MoEMAECommand.reportFailure): one line
/// `error: <message naming the file>` on stderr and exit status 1; usage errors keep ArgumentParser's
/// `Error: …` with the usage text and exit status 64.
final class ErrorReportingTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = makeTempDirectory("e2e-errors") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// Asserts one `error: ` line naming `path`, exit 1, and returns the line.
    @discardableResult
    func assertRuntimeError(_ args: [String], naming path: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try moemae(args)
        let name = "moemae " + args.joined(separator: " ")
        XCTAssertEqual(r.status, 1, "\(name): \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix("error: "), "\(name): \(r.stderr)", file: file, line: line)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(name): one line expected: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(path), "\(name) does not name \(path): \(r.stderr)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Usage:") || r.stderr.contains("USAGE:"), "\(name): \(r.stderr)", file: file, line: line)
        return r.stderr
    }

    func testRuntimeErrorsOfEverySubcommandAreOneErrorLineWithStatus1() throws {
        let missing = dir + "/missing"
        let weights = sharedDirectory + "/golden/weights-xxs-public.safetensors"
        try assertRuntimeError(["tile", missing, "--out", dir + "/t", "--quiet"], naming: missing)
        try assertRuntimeError(["embed", missing, "--weights", weights, "--out", dir + "/e.safetensors", "--quiet"], naming: missing)
        try assertRuntimeError(["map", missing, "--weights", missing + ".safetensors", "--probe", missing + ".probe", "--out", dir + "/m", "--quiet"], naming: missing)
        try assertRuntimeError(["run", missing + ".yaml"], naming: missing + ".yaml")
        try assertRuntimeError(["probe", "predict", "--embeddings", missing + ".safetensors", "--probe", missing + ".probe", "--out", dir + "/s.safetensors"], naming: missing)
        try assertRuntimeError(["weights", "info", missing + ".safetensors"], naming: missing + ".safetensors")
        try assertRuntimeError(["weights", "import", missing + ".pth", "--out", dir + "/w.safetensors"], naming: missing + ".pth")
        try assertRuntimeError(["bench", "encoder", "--weights", missing + ".safetensors"], naming: missing + ".safetensors")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/t") || FileManager.default.fileExists(atPath: dir + "/e.safetensors"))
    }

    /// `pretrain --resume` of a folder that does not exist, of a file, and of a folder without a
    /// checkpoint: each says which, naming it (it used to be "invalid model input:" with the usage text, exit 64).
    func testPretrainResumeOfAMissingOrForeignFolderNamesIt() throws {
        let hint = "--resume takes the --out folder of an earlier `moemae pretrain` run\n"
        var e = try assertRuntimeError(["pretrain", "--resume", dir + "/nope"], naming: dir + "/nope")
        XCTAssertEqual(e, "error: \(dir)/nope: no such folder; " + hint)
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/file"))
        e = try assertRuntimeError(["pretrain", "--resume", dir + "/file"], naming: dir + "/file")
        XCTAssertEqual(e, "error: \(dir)/file: is a file, not a folder; " + hint)
        e = try assertRuntimeError(["pretrain", "--resume", dir], naming: dir)
        XCTAssertEqual(e, "error: \(dir): not a moemae training folder (it holds no checkpoint.safetensors); " + hint)
        // A checkpoint that is not one: the checkpoint reader's message, still one line naming the file.
        try Data("not safetensors".utf8).write(to: URL(fileURLWithPath: dir + "/checkpoint.safetensors"))
        try assertRuntimeError(["pretrain", "--resume", dir], naming: dir + "/checkpoint.safetensors")
    }

    func testUsageErrorsKeepTheUsageTextAndStatus64() throws {
        for args in [["pretrain"], ["embed"], ["pretrain", "--resume", dir, "--workers", "2", "--threads", "2"],
                     ["bench", "train", "--workers", "0"], ["bench", "encoder", "--workers", "0"]] {
            let r = try moemae(args)
            XCTAssertEqual(r.status, 64, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("Error: ") && r.stderr.contains("Usage: moemae"), "\(args): \(r.stderr)")
        }
    }
}
