import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One tensor's entry in a safetensors header.
public struct TensorInfo: Sendable, Equatable {
    public var name: String
    public var dtype: DType
    /// Row-major shape; `[]` is a scalar.
    public var shape: [Int]
    /// Byte range inside the data buffer (after the header), `begin..<end`.
    public var dataOffsets: Range<Int>

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { elementCount * dtype.size }
}

/// A read-only, memory-mapped safetensors file.
///
/// Format (https://github.com/huggingface/safetensors): 8-byte little-endian header length `n`,
/// `n` bytes of UTF-8 JSON mapping tensor names to `{dtype, shape, data_offsets}` plus an optional
/// `__metadata__` string map, then the little-endian tensor data. Offsets are relative to the
/// start of the data buffer.
///
/// The whole header is validated when the file is opened: every dtype is known, every byte range
/// lies inside the file, matches `shape × dtype size`, and no two ranges overlap. A file that
/// breaks any of these throws ``SafeTensorsError`` naming the file and the tensor.
/// Tensor data is read lazily through the mapping, so a large file costs no memory until used.
public final class SafeTensorsFile: @unchecked Sendable {
    public let path: String
    /// Tensors in the order of their data offsets.
    public let tensors: [TensorInfo]
    /// The optional `__metadata__` map.
    public let metadata: [String: String]

    private let byName: [String: Int]
    private let mapping: UnsafeMutableRawPointer?
    private let mappedLength: Int
    private let dataStart: Int

    /// Largest JSON header read, in bytes: 100 MB, the limit of the reference implementation
    /// (huggingface/safetensors `MAX_HEADER_SIZE`). The data after it is memory-mapped, never copied,
    /// and every tensor's byte range is checked against the file size before use.
    public static let maxHeaderBytes = 100_000_000

    /// Opens and validates `path`. Throws ``SafeTensorsError``.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw SafeTensorsError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw SafeTensorsError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw SafeTensorsError.cannotOpen(path: path, reason: "is a directory")
        }
        let fileSize = Int(st.st_size)
        guard fileSize >= 8 else {
            throw SafeTensorsError.truncated(path: path, detail: "\(fileSize) bytes, shorter than the 8-byte header length")
        }
        #if canImport(Glibc)
        let prot = PROT_READ
        let flags = MAP_PRIVATE
        #else
        let prot = PROT_READ
        let flags = MAP_PRIVATE
        #endif
        guard let base = mmap(nil, fileSize, prot, flags, fd, 0), base != MAP_FAILED else {
            throw SafeTensorsError.cannotOpen(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        mapping = base
        mappedLength = fileSize
        // A class whose init throws runs no deinit: a refused file is unmapped here, or every refused
        // file would leak a mapping of its whole size (found by the safetensors fuzz target, which ran
        // out of mappings after ~69,000 refused inputs).
        do {
            (dataStart, tensors, metadata, byName) = try Self.readHeader(base, fileSize: fileSize, path: path)
        } catch {
            munmap(base, fileSize)
            throw error
        }
    }

    /// Validates the header of the mapped file at `base`: (data start, tensors in data order, metadata, index by name).
    private static func readHeader(_ base: UnsafeMutableRawPointer, fileSize: Int, path: String) throws
        -> (Int, [TensorInfo], [String: String], [String: Int])
    {
        var headerLength: UInt64 = 0
        withUnsafeMutableBytes(of: &headerLength) { $0.copyMemory(from: UnsafeRawBufferPointer(start: base, count: 8)) }
        headerLength = UInt64(littleEndian: headerLength)
        // A safetensors header is a JSON object, so byte 8 is '{'. Anything else is another kind of file
        // (a PyTorch .pth zip, a GeoTIFF, text), not a truncated safetensors file: say so, with the way
        // out for the common mix-up of passing a checkpoint where weights are expected.
        if fileSize > 8, base.load(fromByteOffset: 8, as: UInt8.self) != UInt8(ascii: "{") {
            let start = UnsafeRawBufferPointer(start: base, count: min(fileSize, 4))
            let isZip = start.starts(with: [0x50, 0x4B, 0x03, 0x04])
            throw SafeTensorsError.badHeader(path: path, detail: isZip
                ? "not a safetensors file but a zip archive, probably a PyTorch checkpoint (.pth): convert it with `moemae weights import` and pass the safetensors file it writes"
                : "not a safetensors file (it does not start with an 8-byte header length followed by a JSON header)")
        }
        guard headerLength <= UInt64(SafeTensorsFile.maxHeaderBytes) else {
            throw SafeTensorsError.badHeader(path: path, detail: "header claims \(headerLength) bytes, more than the \(SafeTensorsFile.maxHeaderBytes) a safetensors header may have (docs/reliability.md)")
        }
        guard headerLength <= UInt64(fileSize - 8) else {
            throw SafeTensorsError.truncated(path: path, detail: "header claims \(headerLength) bytes but the file has \(fileSize - 8) after the length")
        }
        let n = Int(headerLength)
        let dataStart = 8 + n
        let headerData = Data(bytes: base + 8, count: n)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerData)
        } catch {
            throw SafeTensorsError.badHeader(path: path, detail: "not valid JSON (\(error.localizedDescription))")
        }
        guard let object = json as? [String: Any] else {
            throw SafeTensorsError.badHeader(path: path, detail: "the header is not a JSON object")
        }
        let dataLength = fileSize - dataStart
        var infos: [TensorInfo] = []
        var meta: [String: String] = [:]
        for (key, value) in object {
            if key == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw SafeTensorsError.badHeader(path: path, detail: "__metadata__ is not an object")
                }
                for (k, v) in m {
                    guard let s = v as? String else {
                        throw SafeTensorsError.badHeader(path: path, detail: "__metadata__ value for '\(k)' is not a string")
                    }
                    meta[k] = s
                }
                continue
            }
            guard let entry = value as? [String: Any] else {
                throw SafeTensorsError.badTensor(path: path, name: key, detail: "header entry is not an object")
            }
            guard let dtypeName = entry["dtype"] as? String else {
                throw SafeTensorsError.badTensor(path: path, name: key, detail: "missing dtype")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw SafeTensorsError.badTensor(path: path, name: key, detail: "unsupported dtype \(dtypeName)")
            }
            guard let shapeAny = entry["shape"] as? [Any] else {
                throw SafeTensorsError.badTensor(path: path, name: key, detail: "missing shape")
            }
            var shape: [Int] = []
            for d in shapeAny {
                guard let n = (d as? NSNumber)?.intValue, n >= 0 else {
                    throw SafeTensorsError.badTensor(path: path, name: key, detail: "shape \(shapeAny) is not a list of non-negative integers")
                }
                shape.append(n)
            }
            guard let offs = entry["data_offsets"] as? [Any], offs.count == 2,
                  let b = (offs[0] as? NSNumber)?.intValue, let e = (offs[1] as? NSNumber)?.intValue,
                  b >= 0, e >= b
            else {
                throw SafeTensorsError.badTensor(path: path, name: key, detail: "data_offsets is not a pair [begin, end] with begin ≤ end")
            }
            // The element and byte counts come from the file: multiply with overflow checks, so a shape
            // like [2^40, 2^40] is an error instead of a trap (docs/reliability.md, "Limits").
            var elements = 1, overflow = false
            for d in shape where !overflow { (elements, overflow) = elements.multipliedReportingOverflow(by: d) }
            if !overflow { (_, overflow) = elements.multipliedReportingOverflow(by: dtype.size) }
            guard !overflow else {
                throw SafeTensorsError.badTensor(path: path, name: key, detail: "shape \(shape) of \(dtype.rawValue) has more bytes than a 64-bit size can count")
            }
            let info = TensorInfo(name: key, dtype: dtype, shape: shape, dataOffsets: b..<e)
            guard info.byteCount == e - b else {
                throw SafeTensorsError.badTensor(path: path, name: key, detail: "data_offsets span \(e - b) bytes but shape \(shape) of \(dtype.rawValue) needs \(info.byteCount)")
            }
            guard e <= dataLength else {
                throw SafeTensorsError.truncated(path: path, detail: "tensor '\(key)' ends at byte \(e) of the data but the file holds only \(dataLength) data bytes")
            }
            infos.append(info)
        }
        infos.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound) }
        for i in infos.indices.dropFirst() where infos[i].dataOffsets.lowerBound < infos[i - 1].dataOffsets.upperBound {
            throw SafeTensorsError.badTensor(path: path, name: infos[i].name, detail: "data overlaps tensor '\(infos[i - 1].name)'")
        }
        var index: [String: Int] = [:]
        for (i, t) in infos.enumerated() { index[t.name] = i }
        return (dataStart, infos, meta, index)
    }

    deinit {
        if let mapping { munmap(mapping, mappedLength) }
    }

    /// Tensor names in data order.
    public var names: [String] { tensors.map(\.name) }

    /// The header entry of `name`, or nil.
    public func info(_ name: String) -> TensorInfo? { byName[name].map { tensors[$0] } }

    /// The header entry of `name`; throws ``SafeTensorsError/missingTensor(path:name:)``.
    public func require(_ name: String) throws -> TensorInfo {
        guard let i = info(name) else { throw SafeTensorsError.missingTensor(path: path, name: name) }
        return i
    }

    /// The raw little-endian bytes of a tensor, valid while this file object lives.
    public func rawBytes(_ info: TensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: mapping! + dataStart + info.dataOffsets.lowerBound, count: info.byteCount)
    }

    /// Raw bytes of elements `[first, first+count)` along the flattened tensor.
    public func rawBytes(_ info: TensorInfo, elements range: Range<Int>) -> UnsafeRawBufferPointer {
        precondition(range.lowerBound >= 0 && range.upperBound <= info.elementCount)
        let s = info.dtype.size
        return UnsafeRawBufferPointer(start: mapping! + dataStart + info.dataOffsets.lowerBound + range.lowerBound * s,
                                      count: range.count * s)
    }

    /// Checks dtype and (optionally) shape of `name`; `-1` in `shape` matches any size.
    @discardableResult
    public func check(_ name: String, dtype: DType? = nil, shape: [Int]? = nil) throws -> TensorInfo {
        let i = try require(name)
        if let dtype, i.dtype != dtype {
            throw SafeTensorsError.wrongDType(path: path, name: name, expected: dtype.rawValue, found: i.dtype)
        }
        if let shape {
            let ok = shape.count == i.shape.count && zip(shape, i.shape).allSatisfy { $0 == -1 || $0 == $1 }
            if !ok { throw SafeTensorsError.wrongShape(path: path, name: name, expected: shape, found: i.shape) }
        }
        return i
    }

    /// A tensor's elements as `T`, which must be exactly its dtype. Optionally a sub-range of
    /// the flattened elements.
    public func array<T: SafeTensorScalar>(_ name: String, as type: T.Type = T.self, elements range: Range<Int>? = nil) throws -> [T] {
        let i = try check(name, dtype: T.dtype)
        let r = range ?? 0..<i.elementCount
        let raw = rawBytes(i, elements: r)
        return [T](unsafeUninitializedCapacity: r.count) { buf, n in
            // Data inside the file is not necessarily aligned to T: copy bytes.
            UnsafeMutableRawBufferPointer(buf).copyMemory(from: raw)
            n = r.count
        }
    }

    /// A floating-point tensor (F32, F16, BF16 or F64) converted to Float.
    public func floats(_ name: String, elements range: Range<Int>? = nil) throws -> [Float] {
        let i = try require(name)
        let r = range ?? 0..<i.elementCount
        let raw = rawBytes(i, elements: r)
        switch i.dtype {
        case .f32:
            return try array(name, as: Float.self, elements: r)
        case .f64:
            return try array(name, as: Double.self, elements: r).map { Float($0) }
        case .f16:
            return (0..<r.count).map { k in
                let bits = UInt16(raw[2 * k]) | (UInt16(raw[2 * k + 1]) << 8)
                return Float(halfBits: bits)
            }
        case .bf16:
            return (0..<r.count).map { k in
                let bits = UInt32(raw[2 * k]) << 16 | UInt32(raw[2 * k + 1]) << 24
                return Float(bitPattern: bits)
            }
        default:
            throw SafeTensorsError.wrongDType(path: path, name: name, expected: "F32, F16, BF16 or F64", found: i.dtype)
        }
    }

    /// An integer tensor of any integer dtype converted to Int.
    public func ints(_ name: String) throws -> [Int] {
        let i = try require(name)
        switch i.dtype {
        case .u8: return try array(name, as: UInt8.self).map(Int.init)
        case .i8: return try array(name, as: Int8.self).map(Int.init)
        case .u16: return try array(name, as: UInt16.self).map(Int.init)
        case .i16: return try array(name, as: Int16.self).map(Int.init)
        case .u32: return try array(name, as: UInt32.self).map(Int.init)
        case .i32: return try array(name, as: Int32.self).map(Int.init)
        case .i64: return try array(name, as: Int64.self).map(Int.init)
        case .u64: return try array(name, as: UInt64.self).map { Int(truncatingIfNeeded: $0) }
        default:
            throw SafeTensorsError.wrongDType(path: path, name: name, expected: "an integer type", found: i.dtype)
        }
    }
}

extension Float {
    /// IEEE 754 binary16 → binary32, exact (subnormals, infinities and NaN included).
    public init(halfBits h: UInt16) {
        let sign = UInt32(h & 0x8000) << 16
        let exp = Int((h >> 10) & 0x1f)
        let mant = UInt32(h & 0x3ff)
        if exp == 0 {
            // zero or subnormal: mant × 2^-24
            let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
            self = sign != 0 ? -v : v
        } else if exp == 31 {
            self = Float(bitPattern: sign | 0x7f80_0000 | (mant << 13))
        } else {
            self = Float(bitPattern: sign | (UInt32(exp - 15 + 127) << 23) | (mant << 13))
        }
    }

    /// binary32 → binary16 bits, round to nearest even (via the platform's Float16 where present).
    public var halfBits: UInt16 {
        #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
        return Float16(self).bitPattern
        #else
        fatalError("Float16 unavailable")
        #endif
    }
}
