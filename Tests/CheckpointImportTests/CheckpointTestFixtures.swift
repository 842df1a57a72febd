import Foundation
import ZIPFoundation

/// Helpers for the checkpoint tests: hand-assembled pickle programs (the opcodes `torch.save`
/// writes, byte for byte as in CPython's `pickle` protocol 2) and zip containers written with
/// ZIPFoundation, plus the location of the shared golden files.
enum CheckpointFixtures {
    /// `../shared/golden` beside the repository root (the folder holding Package.swift).
    static var goldenFolder: URL {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                return dir.deletingLastPathComponent().appendingPathComponent("shared/golden")
            }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: "/work/shared/golden")
    }

    static func golden(_ name: String) -> String { goldenFolder.appendingPathComponent(name).path }

    /// A fresh temporary folder for one test.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("moemae-checkpoint-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes a torch.save-style zip: `<folder>/data.pkl` (when given), `<folder>/data/<key>`,
    /// `<folder>/byteorder` (when given), `<folder>/version`.
    static func writeCheckpoint(to url: URL, folder: String = "archive", pickle: [UInt8]?,
                                storages: [String: [UInt8]] = [:], byteorder: String? = "little") throws {
        let archive = try Archive(url: url, accessMode: .create)
        func add(_ path: String, _ bytes: [UInt8]) throws {
            let data = Data(bytes)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count)) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        if let pickle { try add("\(folder)/data.pkl", pickle) }
        if let byteorder { try add("\(folder)/byteorder", Array(byteorder.utf8)) }
        for key in storages.keys.sorted() { try add("\(folder)/data/\(key)", storages[key]!) }
        try add("\(folder)/version", Array("3\n".utf8))
    }

    static func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
}

/// Assembles pickle programs opcode by opcode (CPython `Lib/pickletools.py` for the encodings).
struct PickleBuilder {
    var bytes: [UInt8] = []

    init(protocol p: UInt8 = 2) { bytes = [0x80, p] }

    mutating func raw(_ b: UInt8...) { bytes += b }
    mutating func mark() { raw(0x28) }
    mutating func stop() { raw(0x2E) }
    mutating func none() { raw(0x4E) }
    mutating func bool(_ v: Bool) { raw(v ? 0x88 : 0x89) }
    mutating func emptyTuple() { raw(0x29) }
    mutating func tuple() { raw(0x74) }
    mutating func emptyDict() { raw(0x7D) }
    mutating func emptyList() { raw(0x5D) }
    mutating func setItem() { raw(0x73) }
    mutating func setItems() { raw(0x75) }
    mutating func append() { raw(0x61) }
    mutating func reduce() { raw(0x52) }
    mutating func build() { raw(0x62) }
    mutating func binPersId() { raw(0x51) }
    mutating func put(_ i: UInt8) { raw(0x71, i) }
    mutating func get(_ i: UInt8) { raw(0x68, i) }

    /// BINUNICODE (4-byte length).
    mutating func string(_ s: String) {
        let u = Array(s.utf8)
        raw(0x58)
        bytes += le32(UInt32(u.count))
        bytes += u
    }

    /// The shortest integer opcode, as CPython's pickler chooses it.
    mutating func int(_ v: Int) {
        if v >= 0 && v < 256 { raw(0x4B, UInt8(v)) }
        else if v >= 0 && v < 65536 { raw(0x4D, UInt8(v & 0xFF), UInt8(v >> 8)) }
        else if v >= Int(Int32.min) && v <= Int(Int32.max) { raw(0x4A); bytes += le32(UInt32(bitPattern: Int32(v))) }
        else {
            var b: [UInt8] = []
            var x = v
            repeat { b.append(UInt8(truncatingIfNeeded: x)); x >>= 8 } while !(x == 0 && b.last! & 0x80 == 0) && !(x == -1 && b.last! & 0x80 != 0)
            raw(0x8A, UInt8(b.count))
            bytes += b
        }
    }

    /// BINFLOAT (big-endian double).
    mutating func float(_ d: Double) {
        raw(0x47)
        let bits = d.bitPattern
        for k in (0..<8).reversed() { bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(k)))) }
    }

    mutating func global(_ module: String, _ name: String) {
        raw(0x63)
        bytes += Array("\(module)\n\(name)\n".utf8)
    }

    mutating func intTuple(_ values: [Int]) {
        mark()
        for v in values { int(v) }
        tuple()
    }

    /// `OrderedDict()` as torch.save writes it: GLOBAL, EMPTY_TUPLE, REDUCE.
    mutating func orderedDict() {
        global("collections", "OrderedDict")
        emptyTuple()
        reduce()
    }

    /// `_rebuild_tensor_v2(('storage', torch.<type>, key, 'cpu', numel), offset, size, stride, False, OrderedDict())`.
    mutating func tensor(storageType: String = "FloatStorage", key: String, numel: Int,
                         offset: Int = 0, size: [Int], stride: [Int]) {
        global("torch._utils", "_rebuild_tensor_v2")
        mark()
        mark()
        string("storage")
        global("torch", storageType)
        string(key)
        string("cpu")
        int(numel)
        tuple()
        binPersId()
        int(offset)
        intTuple(size)
        intTuple(stride)
        bool(false)
        orderedDict()
        tuple()
        reduce()
    }

    /// A row-major tensor over a whole storage.
    mutating func contiguousTensor(storageType: String = "FloatStorage", key: String, shape: [Int]) {
        var stride = [Int](repeating: 1, count: shape.count)
        var s = 1
        for k in shape.indices.reversed() { stride[k] = s; s *= shape[k] }
        tensor(storageType: storageType, key: key, numel: s, size: shape, stride: stride)
    }

    /// `{'epoch': e, 'model_state': <state>, 'opt_state': {}, 'scaler_state': {}, 'best_train_loss': loss}`,
    /// with `state` writing the state dict's key/tensor pairs between MARK and SETITEMS.
    mutating func trainingCheckpoint(epoch: Int, bestTrainLoss: Double, state: (inout PickleBuilder) -> Void) {
        emptyDict()
        mark()
        string("epoch"); int(epoch)
        string("model_state")
        orderedDict()
        mark()
        state(&self)
        setItems()
        string("opt_state"); emptyDict()
        string("scaler_state"); emptyDict()
        string("best_train_loss"); float(bestTrainLoss)
        setItems()
        stop()
    }

    private func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
}
