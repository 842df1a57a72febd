import Foundation
import SafeTensors
import XCTest
@testable import CheckpointImport
import MoEMAE

/// The pickle subset and tensor rebuilding, on hand-assembled checkpoints whose expected
/// contents are known by construction.
final class CheckpointPickleTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try CheckpointFixtures.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func checkpoint(_ pickle: PickleBuilder, storages: [String: [UInt8]], byteorder: String? = "little",
                            folder: String = "archive") throws -> TorchCheckpoint {
        let url = dir.appendingPathComponent("\(UUID().uuidString).pth")
        try CheckpointFixtures.writeCheckpoint(to: url, folder: folder, pickle: pickle.bytes, storages: storages, byteorder: byteorder)
        return try TorchCheckpoint(path: url.path)
    }

    private func floats(_ bytes: [UInt8]) -> [Float] {
        bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    func testTransposedViewWithStorageOffsetIsMaterialisedRowMajor() throws {
        var p = PickleBuilder()
        p.trainingCheckpoint(epoch: 3, bestTrainLoss: 1.5) { p in
            p.string("t")
            // size [3,2], stride [1,3], offset 2: element (i,j) = storage[2 + i + 3j].
            p.tensor(key: "0", numel: 12, offset: 2, size: [3, 2], stride: [1, 3])
        }
        let storage = CheckpointFixtures.bytes((0..<12).map(Float.init))
        let ckpt = try checkpoint(p, storages: ["0": storage])
        XCTAssertEqual(ckpt.epoch, 3)
        XCTAssertEqual(ckpt.bestTrainLoss, 1.5)
        XCTAssertFalse(ckpt.stateDict[0].tensor.isContiguous)
        let tensors = try ckpt.loadStateDict()
        XCTAssertEqual(tensors[0].spec, TensorSpec("t", .f32, [3, 2]))
        XCTAssertEqual(floats(tensors[0].bytes), [2, 5, 3, 6, 4, 7])
    }

    func testExpandedViewWithZeroStrideRepeatsRows() throws {
        var p = PickleBuilder()
        p.trainingCheckpoint(epoch: 0, bestTrainLoss: 0) { p in
            p.string("bias"); p.tensor(key: "7", numel: 3, size: [2, 3], stride: [0, 1])
        }
        let ckpt = try checkpoint(p, storages: ["7": CheckpointFixtures.bytes([Float(1), 2, 3])])
        XCTAssertEqual(floats(try ckpt.loadStateDict()[0].bytes), [1, 2, 3, 1, 2, 3])
    }

    func testDTypesArePreservedAndZeroDimTensorsWork() throws {
        let half: [UInt16] = [0x3C00, 0xC000, 0x7BFF]            // 1, -2, 65504
        let long: [Int64] = [-1, 1 << 40]
        let flags: [UInt8] = [1, 0, 1]
        let bf16: [UInt16] = [0x3F80]                            // 1.0
        var p = PickleBuilder()
        p.trainingCheckpoint(epoch: 1, bestTrainLoss: .infinity) { p in
            p.string("h"); p.contiguousTensor(storageType: "HalfStorage", key: "a", shape: [3])
            p.string("l"); p.contiguousTensor(storageType: "LongStorage", key: "b", shape: [2])
            p.string("m"); p.contiguousTensor(storageType: "BoolStorage", key: "c", shape: [3])
            p.string("s"); p.tensor(storageType: "BFloat16Storage", key: "d", numel: 1, size: [], stride: [])
        }
        let ckpt = try checkpoint(p, storages: ["a": CheckpointFixtures.bytes(half), "b": CheckpointFixtures.bytes(long),
                                                "c": flags, "d": CheckpointFixtures.bytes(bf16)])
        let out = dir.appendingPathComponent("out.safetensors").path
        try ckpt.importWeights(to: out)
        let file = try SafeTensorsFile(path: out)
        XCTAssertEqual(file.names, ["h", "l", "m", "s"])
        XCTAssertEqual(try file.check("h").dtype, .f16)
        XCTAssertEqual(try file.floats("h"), [1, -2, 65504])
        XCTAssertEqual(try file.array("l", as: Int64.self), long)
        XCTAssertEqual(try file.check("m").dtype, .bool)
        XCTAssertEqual(try file.check("s").shape, [])
        XCTAssertEqual(try file.floats("s"), [1])
        XCTAssertEqual(file.metadata["best_train_loss"], "inf")
        XCTAssertEqual(file.metadata["epoch"], "1")
    }

    func testBigEndianStoragesAreByteSwapped() throws {
        var p = PickleBuilder()
        p.trainingCheckpoint(epoch: 0, bestTrainLoss: 0) { p in
            p.string("w"); p.contiguousTensor(key: "0", shape: [2])
        }
        let values: [Float] = [1.5, -3.25]
        let bigEndian = values.flatMap { v -> [UInt8] in
            let b = v.bitPattern
            return [UInt8(b >> 24), UInt8((b >> 16) & 0xFF), UInt8((b >> 8) & 0xFF), UInt8(b & 0xFF)]
        }
        let ckpt = try checkpoint(p, storages: ["0": bigEndian], byteorder: "big")
        XCTAssertFalse(ckpt.littleEndian)
        XCTAssertEqual(floats(try ckpt.loadStateDict()[0].bytes), values)
    }

    func testBareStateDictWithSharedStorageAndAnyTopFolder() throws {
        var p = PickleBuilder()
        p.orderedDict()
        p.put(0)
        p.mark()
        p.string("encoder.patch_proj.bias"); p.contiguousTensor(key: "0", shape: [4])
        p.string("patch_embed.bias"); p.contiguousTensor(key: "0", shape: [4])
        p.setItems()
        // OrderedDict's instance state (`_metadata`) arrives through BUILD and is dropped.
        p.emptyDict(); p.mark(); p.string("_metadata"); p.orderedDict(); p.setItems()
        p.build()
        p.stop()
        let ckpt = try checkpoint(p, storages: ["0": CheckpointFixtures.bytes([Float(1), 2, 3, 4])], byteorder: nil,
                                  folder: "my_model_v2")
        XCTAssertTrue(ckpt.isBareStateDict)
        XCTAssertNil(ckpt.epoch)
        XCTAssertEqual(ckpt.stateDict.map(\.name), ["encoder.patch_proj.bias", "patch_embed.bias"])
        let tensors = try ckpt.loadStateDict()
        XCTAssertEqual(tensors[0].bytes, tensors[1].bytes)
        let inventory = TensorInventory(checkpoint: ckpt)
        XCTAssertEqual(inventory.parameterCount, 4)
        XCTAssertEqual(inventory.encoderParameterCount, 4)
        XCTAssertEqual(inventory.items[1].sharedWith, "encoder.patch_proj.bias")
    }

    func testRebuildParameterWrapsATensor() throws {
        var p = PickleBuilder()
        p.orderedDict()
        p.mark()
        p.string("w")
        p.global("torch._utils", "_rebuild_parameter")
        p.mark()
        p.contiguousTensor(key: "0", shape: [2])
        p.bool(true)
        p.orderedDict()
        p.tuple()
        p.reduce()
        p.setItems()
        p.stop()
        let ckpt = try checkpoint(p, storages: ["0": CheckpointFixtures.bytes([Float(5), 6])])
        XCTAssertTrue(ckpt.stateDict[0].tensor.requiresGrad)
        XCTAssertEqual(floats(try ckpt.loadStateDict()[0].bytes), [5, 6])
    }

    func testScalarOpcodesMemoAndContainers() throws {
        // {'a': [1, -2, 70000, -5, 2**40, -(2**40), None, True, 0.25, 'é', b'\x01'], 'b': (…memo of the list…), 'a2': …}
        var p = PickleBuilder()
        p.emptyDict()
        p.mark()
        p.string("a")
        p.emptyList(); p.put(1)
        p.mark()
        p.int(1); p.int(-2); p.int(70000); p.int(-5); p.int(1 << 40); p.int(-(1 << 40))
        p.none(); p.bool(true); p.float(0.25); p.string("é")
        p.raw(0x43, 1, 0x01) // SHORT_BINBYTES b'\x01'
        p.raw(0x65)          // APPENDS
        p.string("b")
        p.get(1)             // the same list object
        p.raw(0x85)          // TUPLE1
        p.setItems()
        // Mutating the memoised list after it was stored shows through both references.
        p.string("c"); p.get(1); p.int(9); p.append(); p.setItem()
        p.stop()
        let value = try PickleReader(bytes: p.bytes, path: "memo.pkl").read()
        let list: [PickleValue] = [.int(1), .int(-2), .int(70000), .int(-5), .int(1 << 40), .int(-(1 << 40)),
                                   .none, .bool(true), .float(0.25), .string("é"), .bytes([1]), .int(9)]
        XCTAssertEqual(value, .dict(PickleDictionary(keys: [.string("a"), .string("b"), .string("c")],
                                                     values: [.list(list), .tuple([.list(list)]), .list(list)])))
    }

    func testProtocol4SpellingsAreAccepted() throws {
        // PROTO 4, FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL of collections.OrderedDict.
        var p = PickleBuilder(protocol: 4)
        p.raw(0x95, 20, 0, 0, 0, 0, 0, 0, 0)
        p.raw(0x8C, 11); p.bytes += Array("collections".utf8); p.raw(0x94)
        p.raw(0x8C, 11); p.bytes += Array("OrderedDict".utf8); p.raw(0x94)
        p.raw(0x93, 0x94) // STACK_GLOBAL, MEMOIZE
        p.emptyTuple(); p.reduce()
        p.raw(0x8C, 1, 0x6B) // 'k'
        p.int(3)
        p.setItem()
        p.stop()
        let value = try PickleReader(bytes: p.bytes, path: "p4.pkl").read()
        XCTAssertEqual(value, .dict(PickleDictionary(keys: [.string("k")], values: [.int(3)])))
    }

    func testDictKeysKeepFirstInsertionOrderWhenReassigned() throws {
        var p = PickleBuilder()
        p.emptyDict()
        p.mark()
        p.string("x"); p.int(1)
        p.string("y"); p.int(2)
        p.string("x"); p.int(3)
        p.setItems()
        p.stop()
        let value = try PickleReader(bytes: p.bytes, path: "d.pkl").read()
        XCTAssertEqual(value, .dict(PickleDictionary(keys: [.string("x"), .string("y")], values: [.int(3), .int(2)])))
    }
}
