import Foundation
import Landsat
import SafeTensors
import XCTest
@testable import MoEMAE

/// Bad weights files fail with errors naming the key; F16/BF16 files load.
final class WeightsLoadingTests: XCTestCase {
    /// The XXS golden weights as (spec, bytes) pairs, for writing altered copies.
    func xxsTensors() throws -> [Tensor] {
        let f = try SafeTensorsFile(path: goldenPath("weights-xxs-public.safetensors"))
        return f.tensors.map { Tensor($0.name, dtype: $0.dtype, shape: $0.shape, bytes: Array(f.rawBytes($0))) }
    }

    func write(_ tensors: [Tensor]) throws -> String {
        let path = temporaryFolder() + "/w.safetensors"
        try SafeTensors.write(tensors, to: path)
        return path
    }

    func assertFails(_ path: String, mentioning words: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try MoEMAEModel.load(path: path), file: file, line: line) { e in
            let m = "\(e)"
            for w in words { XCTAssertTrue(m.contains(w), "'\(m)' should mention '\(w)'", file: file, line: line) }
        }
    }

    func testMissingKeyIsNamed() throws {
        let key = "encoder.layers.4.attn.v_proj.bias"
        assertFails(try write(try xxsTensors().filter { $0.spec.name != key }), mentioning: [key, "no tensor"])
    }

    func testUnexpectedShapeIsNamed() throws {
        let key = "encoder.layers.2.moe.experts.1.W.weight"
        let ts = try xxsTensors().map { t -> Tensor in
            guard t.spec.name == key else { return t }
            // [h, D] stored as [D, h]: same bytes, transposed shape.
            return Tensor(key, dtype: t.spec.dtype, shape: [t.spec.shape[1], t.spec.shape[0]], bytes: t.bytes)
        }
        assertFails(try write(ts), mentioning: [key, "shape"])
    }

    func testUnsupportedDTypeIsNamed() throws {
        let key = "encoder.norm.weight"
        let ts = try xxsTensors().map { t in t.spec.name == key ? Tensor(key, dtype: .i32, shape: t.spec.shape, bytes: t.bytes) : t }
        assertFails(try write(ts), mentioning: [key, "I32"])
    }

    func testTruncatedFileIsReported() throws {
        let path = try write(try xxsTensors())
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count - 1000).write(to: URL(fileURLWithPath: path))
        assertFails(path, mentioning: ["truncated"])
    }

    func testHeaderThatLiesAboutOffsetsIsReported() throws {
        // Two tensors claiming the same bytes.
        let path = temporaryFolder() + "/lying.safetensors"
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"encoder.pos_embed":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        var bytes = [UInt8](repeating: 0, count: 8)
        let h = Array(header.utf8)
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { for i in 0..<8 { bytes[i] = $0[i] } }
        bytes += h + [UInt8](repeating: 0, count: 12)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        assertFails(path, mentioning: ["encoder.pos_embed", "overlaps"])
    }

    func testV_sharedAcrossExpertsIsChecked() throws {
        let key = "encoder.layers.1.moe.experts.2.V.bias"
        let ts = try xxsTensors().map { t -> Tensor in
            guard t.spec.name == key else { return t }
            var b = t.bytes; b[0] ^= 0x55
            return Tensor(key, dtype: t.spec.dtype, shape: t.spec.shape, bytes: b)
        }
        assertFails(try write(ts), mentioning: ["experts.2.V", "shares"])
    }

    func testHalfAndBFloat16WeightsLoadAndStayCloseToTheGolden() throws {
        let g = try SafeTensorsFile(path: goldenPath("golden-xxs-public.safetensors"))
        let batch = EncoderBatch(count: 4, pixels: try g.floats("x_norm"), meta: try g.floats("meta"))
        let reference = try g.floats("embedding_mean_preln")
        for dtype in [DType.f16, .bf16] {
            let ts = try xxsTensors().map { t -> Tensor in
                let floats = t.bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
                var out = [UInt8]()
                out.reserveCapacity(2 * floats.count)
                for v in floats {
                    let bits: UInt16 = dtype == .f16 ? v.halfBits : UInt16(truncatingIfNeeded: v.bitPattern >> 16)
                    out.append(UInt8(bits & 0xff)); out.append(UInt8(bits >> 8))
                }
                return Tensor(t.spec.name, dtype: dtype, shape: t.spec.shape, bytes: out)
            }
            let model = try MoEMAEModel.load(path: try write(ts))
            XCTAssertEqual(model.config, ModelConfig.xxs)
            let r = try InferenceEngine(model: model).encode(batch)
            let d = relativeMaxDiff(r.embedding, reference)
            print("[\(dtype.rawValue) weights] embedding rel diff \(d)")
            XCTAssertLessThan(d, dtype == .f16 ? 0.02 : 0.1)
        }
    }

    func testSeededMaskIsReproducibleAndHasTheRightSize() {
        let a = PatchMask.keep(tileIndex: 7, seed: 42, patchCount: 100, kept: PatchMask.keptCount(ratio: 0.75, patchCount: 100))
        XCTAssertEqual(a.count, 25)
        XCTAssertEqual(Set(a).count, 25)
        XCTAssertEqual(a, PatchMask.keep(tileIndex: 7, seed: 42, patchCount: 100, kept: 25))
        XCTAssertNotEqual(a, PatchMask.keep(tileIndex: 8, seed: 42, patchCount: 100, kept: 25))
        XCTAssertEqual(PatchMask.keptCount(ratio: 0, patchCount: 100), 100)
    }

    func testHourPolicies() {
        XCTAssertEqual(HourPolicy.published.modelHour(16.3227), 1)
        XCTAssertEqual(HourPolicy.published.modelHour(9.5), 0)
        XCTAssertEqual(HourPolicy.published.modelHour(10.17), 1)
        XCTAssertEqual(HourPolicy.utc.modelHour(16.3227), 16.3227)
        let m = InputEncoding(hour: .published).metadataVector(week: 31, hour: 16.3227, lat: 45, lon: -90)
        XCTAssertEqual(m[2], Float(sin(2 * Double.pi / 24)))
        XCTAssertEqual(InputEncoding(metadata: false).metadataVector(week: 31, hour: 16, lat: 45, lon: -90), [Float](repeating: 0, count: 8))
    }
}
