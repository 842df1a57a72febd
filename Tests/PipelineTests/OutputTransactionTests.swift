import Foundation
import XCTest
@testable import Pipeline

final class OutputTransactionTests: XCTestCase {
    func testNothingHasAFinalNameUntilCommit() throws {
        let dir = try temporaryFolder(self) + "/out"
        let t = try OutputTransaction(directory: dir, scene: "LC08_X", keepExisting: false)
        try Data("labels".utf8).write(to: URL(fileURLWithPath: t.stagingPath(for: "LC08_X_labels.tif")))
        try writeAtomically(Data("{}".utf8), to: t.stagingPath(for: "LC08_X.stac.json"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [".moemae-partial-LC08_X"])
        try t.commit()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["LC08_X.stac.json", "LC08_X_labels.tif"])
        XCTAssertEqual(try String(contentsOfFile: dir + "/LC08_X_labels.tif", encoding: .utf8), "labels")
    }

    func testAbortLeavesNoFinalNameAndNoStaging() throws {
        let dir = try temporaryFolder(self)
        let t = try OutputTransaction(directory: dir, scene: "S", keepExisting: false)
        try Data("x".utf8).write(to: URL(fileURLWithPath: t.stagingPath(for: "S_labels.tif")))
        t.abort()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }

    func testResumeKeepsTheStagingFolderAndAFreshStartEmptiesIt() throws {
        let dir = try temporaryFolder(self)
        let t = try OutputTransaction(directory: dir, scene: "S", keepExisting: false)
        try Data("partial".utf8).write(to: URL(fileURLWithPath: t.scratchPath("labels.partial.tif")))
        _ = try OutputTransaction(directory: dir, scene: "S", keepExisting: true)
        XCTAssertTrue(FileManager.default.fileExists(atPath: t.scratchPath("labels.partial.tif")))
        _ = try OutputTransaction(directory: dir, scene: "S", keepExisting: false)
        XCTAssertFalse(FileManager.default.fileExists(atPath: t.scratchPath("labels.partial.tif")))
    }

    func testAnUncreatableOutputFolderIsAClearError() throws {
        let dir = try temporaryFolder(self)
        try Data().write(to: URL(fileURLWithPath: dir + "/file"))
        XCTAssertThrowsError(try OutputTransaction(directory: dir + "/file", scene: "S", keepExisting: false)) {
            XCTAssertTrue("\($0)".contains("exists and is not a folder"), "\($0)")
        }
        XCTAssertThrowsError(try OutputTransaction(directory: dir + "/file/sub", scene: "S", keepExisting: false)) {
            XCTAssertTrue("\($0)".contains("cannot create the output folder: \(dir)/file is a file, not a folder"), "\($0)")
        }
        XCTAssertThrowsError(try OutputTransaction(directory: "/proc/moemae-test-out", scene: "S", keepExisting: false)) {
            XCTAssertTrue("\($0)".contains("cannot create the output folder: No such file or directory"), "\($0)")
        }
    }

    func testResumeStateRoundTripAndFingerprintMatching() throws {
        let dir = try temporaryFolder(self)
        var stats = SceneStatistics(classCount: 2, expertsPerLayer: [4, 4])
        stats.expertUsage.assignments[0][1] = 7
        stats.skipped.noValidPixels = 2
        stats.tilesMapped = 60
        stats.classCounts = [10, 50]
        let state = ResumeState(fingerprint: "f1", gridRows: 13, gridCols: 13, finishedRows: 5, statistics: stats)
        let path = dir + "/" + ResumeState.fileName
        try state.save(to: path)
        XCTAssertEqual(ResumeState.load(from: path), state)
        XCTAssertEqual(ResumeState.matching(at: path, fingerprint: "f1", gridRows: 13, gridCols: 13), state)
        XCTAssertNil(ResumeState.matching(at: path, fingerprint: "f2", gridRows: 13, gridCols: 13))
        XCTAssertNil(ResumeState.matching(at: path, fingerprint: "f1", gridRows: 14, gridCols: 13))
        XCTAssertNil(ResumeState.matching(at: dir + "/missing.json", fingerprint: "f1", gridRows: 13, gridCols: 13))
    }

    func testFingerprintChangesWithInputsModelsAndOutputOptionsOnly() throws {
        let dir = try temporaryFolder(self)
        let input = dir + "/band.tif"
        try Data("abc".utf8).write(to: URL(fileURLWithPath: input))
        XCTAssertEqual(try RunFingerprint.sha256(ofFile: input), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        var o = MapOptions(scenes: ["s"], weights: "w", probe: "p", out: "o")
        let f0 = RunFingerprint.compute(inputs: [input], weightsSHA256: "w1", probeSHA256: "p1", options: o.outputAffecting)
        o.workers = 1; o.batchSize = 7
        XCTAssertEqual(RunFingerprint.compute(inputs: [input], weightsSHA256: "w1", probeSHA256: "p1", options: o.outputAffecting), f0,
                       "speed options do not change the outputs")
        o.minValid = 0.5
        XCTAssertNotEqual(RunFingerprint.compute(inputs: [input], weightsSHA256: "w1", probeSHA256: "p1", options: o.outputAffecting), f0)
        XCTAssertNotEqual(RunFingerprint.compute(inputs: [input], weightsSHA256: "w2", probeSHA256: "p1", options: MapOptions(scenes: ["s"], weights: "w", probe: "p", out: "o").outputAffecting), f0)
        try Data("abcd".utf8).write(to: URL(fileURLWithPath: input))
        XCTAssertNotEqual(RunFingerprint.compute(inputs: [input], weightsSHA256: "w1", probeSHA256: "p1",
                                                 options: MapOptions(scenes: ["s"], weights: "w", probe: "p", out: "o").outputAffecting), f0)
    }
}
