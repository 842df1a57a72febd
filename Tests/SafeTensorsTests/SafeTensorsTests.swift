import Foundation
import XCTest
@testable import SafeTensors

final class SafeTensorsTests: XCTestCase {
    var dir: String!
    override func setUp() {
        dir = NSTemporaryDirectory() + "st-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testRoundTripKeepsValuesShapesAndMetadata() throws {
        let path = dir + "/a.safetensors"
        try SafeTensors.write([
            Tensor("pixels", [UInt16](0..<24).map { $0 * 1000 }, shape: [2, 3, 4]),
            Tensor("lat", [-83.5, 30.25], shape: [2]),
            Tensor("week", [Int32(32), 53], shape: [2]),
        ], metadata: ["format": "test"], to: path)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".partial"))
        let f = try SafeTensorsFile(path: path)
        XCTAssertEqual(f.metadata["format"], "test")
        XCTAssertEqual(f.names, ["pixels", "lat", "week"])
        XCTAssertEqual(f.info("pixels")?.shape, [2, 3, 4])
        XCTAssertEqual(try f.array("pixels", as: UInt16.self)[23], 23000)
        XCTAssertEqual(try f.array("lat", as: Double.self), [-83.5, 30.25])
        XCTAssertEqual(try f.ints("week"), [32, 53])
        XCTAssertEqual(try f.array("pixels", as: UInt16.self, elements: 4..<6), [4000, 5000])
        XCTAssertThrowsError(try f.array("lat", as: Float.self)) { e in
            XCTAssertTrue("\(e)".contains("'lat'"))
        }
        XCTAssertThrowsError(try f.require("nope")) { e in XCTAssertTrue("\(e)".contains("nope")) }
    }

    func testHeaderIsPaddedToEightBytes() throws {
        let path = dir + "/p.safetensors"
        try SafeTensors.write([Tensor("x", [Float(1)], shape: [1])], to: path)
        let d = try Data(contentsOf: URL(fileURLWithPath: path))
        let n = d.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        XCTAssertEqual((8 + Int(n)) % 8, 0)
        XCTAssertEqual(d.count, 8 + Int(n) + 4)
    }

    func testStreamWriterFillsTensorsOutOfOrder() throws {
        let path = dir + "/s.safetensors"
        let w = try SafeTensorsStreamWriter(path: path, tensors: [TensorSpec("e", .f32, [3, 2]), TensorSpec("r", .i32, [3])])
        try w.write("e", [Float(5), 6], at: 4)
        try w.write("r", [Int32(1), 2, 3])
        try w.write("e", [Float(1), 2, 3, 4], at: 0)
        XCTAssertThrowsError(try w.write("e", [Float(1), 2, 3], at: 4))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        try w.finish()
        let f = try SafeTensorsFile(path: path)
        XCTAssertEqual(try f.floats("e"), [1, 2, 3, 4, 5, 6])
    }

    func testAbandonedWriterLeavesNoFile() throws {
        let path = dir + "/gone.safetensors"
        do {
            let w = try SafeTensorsStreamWriter(path: path, tensors: [TensorSpec("e", .f32, [3])])
            try w.write("e", [Float(1)])
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".partial"))
    }

    func testHalfAndBFloatConvertExactly() throws {
        let path = dir + "/h.safetensors"
        let halves: [UInt16] = [0x3c00, 0xc000, 0x0001, 0x7bff, 0x0000]  // 1, -2, 2^-24, 65504, 0
        let bf: [UInt16] = [0x3f80, 0xc040]  // 1, -3
        try SafeTensors.write([
            Tensor("h", dtype: .f16, shape: [5], bytes: halves.withUnsafeBytes { Array($0) }),
            Tensor("b", dtype: .bf16, shape: [2], bytes: bf.withUnsafeBytes { Array($0) }),
        ], to: path)
        let f = try SafeTensorsFile(path: path)
        XCTAssertEqual(try f.floats("h"), [1, -2, Float(sign: .plus, exponent: -24, significand: 1), 65504, 0])
        XCTAssertEqual(try f.floats("b"), [1, -3])
    }

    private func writeRaw(_ header: String, data: [UInt8], to path: String) {
        var bytes = [UInt8](repeating: 0, count: 8)
        let h = Array(header.utf8)
        var n = UInt64(h.count).littleEndian
        withUnsafeBytes(of: &n) { for i in 0..<8 { bytes[i] = $0[i] } }
        FileManager.default.createFile(atPath: path, contents: Data(bytes + h + data))
    }

    /// A refused file is unmapped: `init` throws after mapping the file, and a class whose init throws
    /// runs no deinit (the safetensors fuzz target ran out of mappings after ~69,000 refused inputs).
    func testRefusedFilesLeaveNoMapping() throws {
        #if os(Linux)
        let path = dir + "/refused.safetensors"
        var bytes = Data([16, 0, 0, 0, 0, 0, 0, 0])
        bytes.append(Data(#"{"a": [1, 2]}   "#.utf8))
        FileManager.default.createFile(atPath: path, contents: bytes)
        // /proc files report size 0: read them to the end through a file handle.
        func maps() throws -> String {
            let text = String(decoding: try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/maps")).readToEnd() ?? Data(), as: UTF8.self)
            XCTAssertTrue(text.contains("libswiftCore"), "could not read /proc/self/maps")
            return text
        }
        // An accepted file stays mapped while it is open and is unmapped when released.
        let good = dir + "/good.safetensors"
        try SafeTensors.write([Tensor("x", [Float(1), 2], shape: [2])], to: good)
        do {
            let f = try SafeTensorsFile(path: good)
            XCTAssertTrue(try maps().contains(good))
            XCTAssertEqual(try f.floats("x"), [1, 2])
        }
        XCTAssertFalse(try maps().contains(good))
        for _ in 0..<3 { XCTAssertThrowsError(try SafeTensorsFile(path: path)) }
        XCTAssertFalse(try maps().contains(path), "a refused file is still mapped")
        #endif
    }

    func testLyingHeadersAreRejectedWithTheTensorName() {
        let cases: [(String, [UInt8], String)] = [
            (#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, [0, 0, 0, 0], "truncated"),
            (#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, [UInt8](repeating: 0, count: 8), "'w'"),
            (#"{"w":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}}"#, [UInt8](repeating: 0, count: 8), "unsupported dtype"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, [UInt8](repeating: 0, count: 8), "overlaps"),
            ("not json", [], "JSON"),
        ]
        for (i, (header, data, needle)) in cases.enumerated() {
            let path = dir + "/bad\(i).safetensors"
            writeRaw(header, data: data, to: path)
            XCTAssertThrowsError(try SafeTensorsFile(path: path), "case \(i)") { e in
                XCTAssertTrue("\(e)".contains(needle), "case \(i): \(e)")
                XCTAssertTrue("\(e)".contains(path), "case \(i): \(e)")
            }
        }
        let short = dir + "/short.safetensors"
        FileManager.default.createFile(atPath: short, contents: Data([1, 2, 3]))
        XCTAssertThrowsError(try SafeTensorsFile(path: short))
        let huge = dir + "/huge.safetensors"
        FileManager.default.createFile(atPath: huge, contents: Data([0xff, 0xff, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d]))
        XCTAssertThrowsError(try SafeTensorsFile(path: huge)) { e in XCTAssertTrue("\(e)".contains("truncated")) }
    }

    /// Limits (docs/reliability.md): a header length over 100 MB, a shape whose byte count overflows
    /// 64 bits, and a header nested past Foundation's JSON depth limit are errors, not traps.
    func testHeaderAndShapeLimits() {
        let big = dir + "/bigheader.safetensors"
        var bytes = [UInt8](repeating: 0, count: 8)
        var n = UInt64(SafeTensorsFile.maxHeaderBytes + 1).littleEndian
        withUnsafeBytes(of: &n) { for i in 0..<8 { bytes[i] = $0[i] } }
        FileManager.default.createFile(atPath: big, contents: Data(bytes + Array("{}".utf8)))
        XCTAssertThrowsError(try SafeTensorsFile(path: big)) { e in
            XCTAssertTrue("\(e)".contains("more than the \(SafeTensorsFile.maxHeaderBytes)"), "\(e)")
        }
        let overflow = dir + "/overflow.safetensors"
        writeRaw(#"{"w":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#, data: [], to: overflow)
        XCTAssertThrowsError(try SafeTensorsFile(path: overflow)) { e in
            XCTAssertTrue("\(e)".contains("'w'") && "\(e)".contains("more bytes than a 64-bit size can count"), "\(e)")
        }
        let deep = dir + "/deep.safetensors"
        writeRaw(String(repeating: #"{"a":"#, count: 100_000) + "1" + String(repeating: "}", count: 100_000), data: [], to: deep)
        XCTAssertThrowsError(try SafeTensorsFile(path: deep)) { e in XCTAssertTrue("\(e)".contains("JSON"), "\(e)") }
    }

    /// Another kind of file is not reported as a truncated safetensors file; a PyTorch checkpoint (zip)
    /// passed where weights are expected gets the command that converts it.
    func testOtherFileTypesAreNamedNotCalledTruncated() throws {
        let checkpoint = Fixtures.shared + "/golden/checkpoint-xxs-public.pth"
        XCTAssertThrowsError(try SafeTensorsFile(path: checkpoint)) { e in
            XCTAssertEqual("\(e)", "\(checkpoint): invalid safetensors header: not a safetensors file but a zip archive, probably a PyTorch checkpoint (.pth): convert it with `moemae weights import` and pass the safetensors file it writes")
        }
        let text = dir + "/labels.geojson"
        FileManager.default.createFile(atPath: text, contents: Data(#"{"type":"FeatureCollection","features":[]}"#.utf8))
        XCTAssertThrowsError(try SafeTensorsFile(path: text)) { e in
            XCTAssertTrue("\(e)".hasPrefix("\(text): invalid safetensors header: not a safetensors file"), "\(e)")
            XCTAssertFalse("\(e)".contains("truncated"), "\(e)")
        }
    }

    func testReadsTheGoldenWeights() throws {
        let path = Fixtures.shared + "/golden/weights-public.safetensors"
        let f = try SafeTensorsFile(path: path)
        XCTAssertEqual(f.info("encoder.pos_embed")?.shape, [1, 105, 144])
        XCTAssertEqual(try f.floats("encoder.pos_embed").count, 105 * 144)
    }
}

enum Fixtures {
    /// `../shared` beside the repository root.
    static let shared: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url.deletingLastPathComponent().appendingPathComponent("shared").path
    }()
}
