import Foundation
import XCTest
@testable import Diagnostics

final class DiagnosticsTests: XCTestCase {
    func folder() throws -> String {
        let path = NSTemporaryDirectory() + "moemae-diagnostics-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// The write replaces an existing file through rename(2) (same inode never half-written: a reader
    /// holding the old file keeps reading the old bytes) and leaves no temporary file behind.
    func testAtomicWriteReplacesByRenameAndLeavesNoTemporaryFile() throws {
        let dir = try folder(), path = dir + "/out.json"
        try AtomicFile.write(Data("old".utf8), to: path)
        let reader = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        try AtomicFile.write(Data("new contents".utf8), to: path)
        XCTAssertEqual(String(decoding: reader.readDataToEndOfFile(), as: UTF8.self), "old", "the old file stays intact for its readers")
        XCTAssertEqual(String(decoding: FileManager.default.contents(atPath: path)!, as: UTF8.self), "new contents")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.json"])
    }

    func testPublishRenamesOverTheFinalNameAndNamesItOnFailure() throws {
        let dir = try folder()
        let partial = AtomicFile.temporaryPath(for: dir + "/a.tif")
        XCTAssertTrue((partial as NSString).lastPathComponent.hasPrefix(".a.tif.partial-"))
        FileManager.default.createFile(atPath: dir + "/a.tif", contents: Data("old".utf8))
        FileManager.default.createFile(atPath: partial, contents: Data("new".utf8))
        try AtomicFile.publish(partial, as: dir + "/a.tif")
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/a.tif"), Data("new".utf8))
        XCTAssertFalse(FileManager.default.fileExists(atPath: partial))

        XCTAssertThrowsError(try AtomicFile.publish(dir + "/missing", as: dir + "/b.tif")) { e in
            let f = e as? Failure
            XCTAssertEqual(f?.kind, .write)
            XCTAssertEqual(f?.file, dir + "/b.tif")
            XCTAssertTrue("\(e)".hasPrefix("\(dir)/b.tif: cannot open the finished temporary file \(dir)/missing"), "\(e)")
        }
    }

    /// A killed run's `.<name>.partial-<pid>` (its pid gone) is removed; a live process's (pid 1, this
    /// process) and unrelated names stay.
    func testAbandonedTemporariesOfDeadProcessesAreRemovedAndLiveOnesKept() throws {
        let dir = try folder(), fm = FileManager.default
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let dead = ".out.partial-\(finished.processIdentifier)"
        for name in [dead, ".out.partial-1", ".out.partial-\(getpid())", ".out.partial-x1", ".other.partial-\(finished.processIdentifier)"] {
            try fm.createDirectory(atPath: dir + "/" + name, withIntermediateDirectories: false)
            fm.createFile(atPath: dir + "/" + name + "/shard", contents: Data("x".utf8))
        }
        AtomicFile.removeAbandonedTemporaries(of: dir + "/out")
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: dir).sorted(),
                       [".other.partial-\(finished.processIdentifier)", ".out.partial-1", ".out.partial-\(getpid())", ".out.partial-x1"].sorted())
    }

    /// One refusal: the library's detail, the command line's advice.
    func testOutputExistsSaysWhatIsWrongAndTheCommandLineAddsItsAdvice() throws {
        let dir = try folder()
        XCTAssertNoThrow(try OutputExists.refuse(dir + "/x"))
        FileManager.default.createFile(atPath: dir + "/x", contents: nil)
        XCTAssertThrowsError(try adviseOnExistingOutput("pass --overwrite to replace it") {
            try OutputExists.refuse(dir + "/x", detail: "an earlier run")
        }) { e in
            XCTAssertEqual((e as? OutputExists)?.kind, .outputExists)
            XCTAssertEqual("\(e)", "\(dir)/x: already exists (an earlier run); pass --overwrite to replace it")
        }
        XCTAssertEqual("\(OutputExists(path: "/o"))", "/o: already exists")
    }

    func testFailureRendersFileMessageCauseAndHint() {
        struct Cause: Error, CustomStringConvertible { var description: String { "No space left on device" } }
        let f = Failure(.write, path: "/o/a.json", "cannot write", hint: "free space, then run again", underlying: Cause())
        XCTAssertEqual(f.description, "/o/a.json: cannot write (No space left on device). Free space, then run again")
        XCTAssertEqual(Failure(.invalidArgument, "bad value").description, "bad value")
    }

    /// Settings are named by identifier, never by a flag: the library's rendering lists them after the
    /// diagnosis; a notice written as a literal is a note without settings.
    func testSettingsAndNoticesRenderWithoutFlags() {
        let f = Failure(.invalidArgument, "minimum valid fraction 2.0 is not between 0 and 1", settings: [.minValid])
        XCTAssertEqual(f.description, "minimum valid fraction 2.0 is not between 0 and 1 (setting: min-valid)")
        XCTAssertEqual(f.diagnosis, "minimum valid fraction 2.0 is not between 0 and 1")
        XCTAssertEqual((f as DiagnosedError).settings, [.minValid])
        XCTAssertEqual(Setting.mention([.shard, .shardCount]), " (settings: shard, shard-count)")
        XCTAssertEqual(Setting.mention([]), "")
        let id = "LC08"
        let n: Notice = "\(id): resuming at tile row 3"
        XCTAssertEqual(n, Notice(.note, "LC08: resuming at tile row 3"))
        XCTAssertEqual(Notice.warning("x differs", settings: [.hour]).description, "warning: x differs (setting: hour)")
        XCTAssertFalse(Setting.allCases.contains { $0.rawValue.hasPrefix("-") })
    }
}
