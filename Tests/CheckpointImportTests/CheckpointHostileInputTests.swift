import Foundation
import SafeTensors
import XCTest
@testable import CheckpointImport
import MoEMAE

/// Hostile and broken checkpoints: refused with a message naming the file and the problem,
/// never executed, never a crash, never a half-written output.
final class CheckpointHostileInputTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try CheckpointFixtures.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func write(_ pickle: [UInt8]?, storages: [String: [UInt8]] = [:], name: String = "bad.pth") throws -> String {
        let url = dir.appendingPathComponent(name)
        try CheckpointFixtures.writeCheckpoint(to: url, pickle: pickle, storages: storages)
        return url.path
    }

    /// Asserts that opening `path` fails and the message contains every fragment.
    private func assertRefused(_ path: String, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try TorchCheckpoint(path: path), file: file, line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(path), "message does not name the file: \(message)", file: file, line: line)
            for f in fragments {
                XCTAssertTrue(message.contains(f), "message lacks '\(f)': \(message)", file: file, line: line)
            }
        }
    }

    func testOsSystemGlobalIsRefusedWithoutExecuting() throws {
        let marker = dir.appendingPathComponent("pwned").path
        // The classic exploit: os.system("touch <marker>") via GLOBAL + REDUCE.
        var p = PickleBuilder()
        p.global("os", "system")
        p.string("touch \(marker)")
        p.raw(0x85) // TUPLE1
        p.reduce()
        p.stop()
        let path = try write(p.bytes)
        assertRefused(path, ["os.system", "refusing global", "offset 2"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "the payload ran")
    }

    func testStackGlobalOfBuiltinsEvalIsRefused() throws {
        var p = PickleBuilder(protocol: 4)
        p.raw(0x8C, 8); p.bytes += Array("builtins".utf8)
        p.raw(0x8C, 4); p.bytes += Array("eval".utf8)
        p.raw(0x93) // STACK_GLOBAL
        p.stop()
        assertRefused(try write(p.bytes), ["builtins.eval"])
    }

    func testTorchNamesOutsideTheWhitelistAreRefused() throws {
        var p = PickleBuilder()
        p.global("torch", "load")
        p.stop()
        assertRefused(try write(p.bytes), ["torch.load"])
        var q = PickleBuilder()
        q.global("torch._utils", "_rebuild_qtensor")
        q.stop()
        assertRefused(try write(q.bytes, name: "q.pth"), ["torch._utils._rebuild_qtensor"])
    }

    func testObjectConstructionOpcodesAreRefusedByName() throws {
        var p = PickleBuilder()
        p.global("collections", "OrderedDict")
        p.emptyTuple()
        p.raw(0x81) // NEWOBJ
        p.stop()
        assertRefused(try write(p.bytes), ["NEWOBJ", "0x81", "offset 28"])
    }

    func testUnknownOpcodeIsNamedWithItsOffset() throws {
        var p = PickleBuilder()
        p.emptyDict()
        p.raw(0xFF)
        assertRefused(try write(p.bytes), ["unknown opcode 0xff", "offset 3"])
    }

    func testTruncatedPickleIsAnError() throws {
        var p = PickleBuilder()
        p.emptyDict()
        p.mark()
        p.string("epoch")
        let cut = Array(p.bytes.dropLast(3)) // inside the string
        assertRefused(try write(cut), ["truncated"])
        assertRefused(try write(p.bytes, name: "nostop.pth"), ["without STOP"])
    }

    func testMalformedStackAndMemoAreErrorsNotCrashes() throws {
        var underflow = PickleBuilder()
        underflow.raw(0x73) // SETITEM on an empty stack
        assertRefused(try write(underflow.bytes), ["stack underflow"])

        var memo = PickleBuilder()
        memo.get(9)
        memo.stop()
        assertRefused(try write(memo.bytes, name: "memo.pth"), ["memo index 9"])

        // A list that contains itself: L = []; L.append(L).
        var cycle = PickleBuilder()
        cycle.emptyList(); cycle.put(0); cycle.get(0); cycle.append(); cycle.stop()
        assertRefused(try write(cycle.bytes, name: "cycle.pth"), ["contains itself"])

        // REDUCE of something that is not a whitelisted callable.
        var call = PickleBuilder()
        call.string("x"); call.emptyTuple(); call.reduce(); call.stop()
        assertRefused(try write(call.bytes, name: "call.pth"), ["REDUCE"])
    }

    func testTruncatedZipIsRefused() throws {
        var p = PickleBuilder()
        p.trainingCheckpoint(epoch: 0, bestTrainLoss: 0) { p in p.string("w"); p.contiguousTensor(key: "0", shape: [256]) }
        let path = try write(p.bytes, storages: ["0": CheckpointFixtures.bytes([Float](repeating: 1, count: 256))])
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        let cutPath = dir.appendingPathComponent("cut.pth").path
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: cutPath))
        assertRefused(cutPath, ["zip"])
        // The real checkpoint cut short, too.
        let real = try Data(contentsOf: URL(fileURLWithPath: CheckpointFixtures.golden("checkpoint-xxs-public.pth")))
        let realCut = dir.appendingPathComponent("real-cut.pth").path
        try real.prefix(real.count - 100).write(to: URL(fileURLWithPath: realCut))
        assertRefused(realCut, ["zip"])
    }

    func testNonZipAndLegacyFilesAreRefused() throws {
        let text = dir.appendingPathComponent("notes.pth").path
        try Data("hello".utf8).write(to: URL(fileURLWithPath: text))
        assertRefused(text, ["not a readable zip archive"])
        let legacy = dir.appendingPathComponent("legacy.pth").path
        try Data([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46]).write(to: URL(fileURLWithPath: legacy))
        assertRefused(legacy, ["legacy"])
        assertRefused(dir.appendingPathComponent("missing.pth").path, ["no such file"])
    }

    func testZipWithoutDataPklIsRefused() throws {
        let path = try write(nil, storages: ["0": [0, 0, 0, 0]])
        assertRefused(path, ["data.pkl"])
    }

    func testMissingStorageRecordNamesTheTensor() throws {
        var p = PickleBuilder()
        p.trainingCheckpoint(epoch: 0, bestTrainLoss: 0) { p in
            p.string("encoder.norm.weight"); p.contiguousTensor(key: "5", shape: [4])
        }
        let ckpt = try TorchCheckpoint(path: try write(p.bytes))
        let out = dir.appendingPathComponent("out.safetensors").path
        XCTAssertThrowsError(try ckpt.importWeights(to: out)) { error in
            let m = "\(error)"
            XCTAssertTrue(m.contains("encoder.norm.weight") && m.contains("data/5") && m.contains(ckpt.path), m)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + ".partial"))
    }

    func testStorageTooShortForSizeAndStrideNamesTheTensor() throws {
        // The persistent id declares 12 elements, the record holds 6.
        var p = PickleBuilder()
        p.trainingCheckpoint(epoch: 0, bestTrainLoss: 0) { p in
            p.string("w"); p.tensor(key: "0", numel: 12, offset: 2, size: [3, 2], stride: [1, 3])
        }
        let short = try TorchCheckpoint(path: try write(p.bytes, storages: ["0": CheckpointFixtures.bytes([Float](repeating: 0, count: 6))]))
        XCTAssertThrowsError(try short.loadStateDict()) { error in
            let m = "\(error)"
            XCTAssertTrue(m.contains("tensor 'w'") && m.contains("data/0") && m.contains("24 bytes"), m)
        }
        // The view reaches past the storage its own persistent id declares.
        var q = PickleBuilder()
        q.trainingCheckpoint(epoch: 0, bestTrainLoss: 0) { p in
            p.string("v"); p.tensor(key: "0", numel: 6, offset: 2, size: [3, 2], stride: [1, 3])
        }
        let past = try TorchCheckpoint(path: try write(q.bytes, storages: ["0": CheckpointFixtures.bytes([Float](repeating: 0, count: 6))], name: "past.pth"))
        XCTAssertThrowsError(try past.loadStateDict()) { error in
            let m = "\(error)"
            XCTAssertTrue(m.contains("tensor 'v'") && m.contains("stride [1, 3]") && m.contains("storage of 6"), m)
        }
    }

    func testNegativeOrOverflowingViewsAreRejectedWhileParsing() throws {
        var p = PickleBuilder()
        p.trainingCheckpoint(epoch: 0, bestTrainLoss: 0) { p in
            p.string("w"); p.tensor(key: "0", numel: 4, size: [1 << 40, 1 << 40], stride: [1, 1])
        }
        assertRefused(try write(p.bytes), ["overflows"])
        var q = PickleBuilder()
        q.trainingCheckpoint(epoch: 0, bestTrainLoss: 0) { p in
            p.string("w"); p.tensor(key: "0", numel: 4, size: [2], stride: [-1])
        }
        assertRefused(try write(q.bytes, name: "neg.pth"), ["negative stride"])
    }

    func testStorageKeyCannotEscapeTheDataFolder() throws {
        var p = PickleBuilder()
        p.trainingCheckpoint(epoch: 0, bestTrainLoss: 0) { p in
            p.string("w"); p.tensor(key: "../data.pkl", numel: 1, size: [1], stride: [1])
        }
        assertRefused(try write(p.bytes), ["storage key"])
    }

    func testNonTensorStateDictEntryAndWrongTopLevelAreRefused() throws {
        var p = PickleBuilder()
        p.trainingCheckpoint(epoch: 0, bestTrainLoss: 0) { p in p.string("w"); p.int(3) }
        assertRefused(try write(p.bytes), ["'w'", "not a tensor"])
        var q = PickleBuilder()
        q.emptyList(); q.stop()
        assertRefused(try write(q.bytes, name: "list.pth"), ["list"])
    }
}
