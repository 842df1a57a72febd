import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The declaration of a tensor to be written: name, dtype and shape.
public struct TensorSpec: Sendable, Equatable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    public init(_ name: String, _ dtype: DType, _ shape: [Int]) {
        self.name = name; self.dtype = dtype; self.shape = shape
    }
    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { elementCount * dtype.size }
}

/// Writes a safetensors file whose tensors are declared up front and whose data is then
/// streamed in, in any order, by element offset (`pwrite`). This lets a writer fill a
/// `[N, …]` tensor tile by tile without holding it in memory.
///
/// The file is written at `path + ".partial"` and renamed to `path` by ``finish()``, so an
/// interrupted run never leaves a file with the final name. Tensors are laid out contiguously
/// in declaration order, with the header padded by spaces to a multiple of 8 bytes, which is
/// what the reference Python `safetensors` package requires to load a file.
public final class SafeTensorsStreamWriter {
    public let path: String
    public let partialPath: String
    public let specs: [TensorSpec]
    private var fd: Int32
    private var offsets: [String: (spec: TensorSpec, start: Int)] = [:]
    private var finished = false

    public init(path: String, tensors specs: [TensorSpec], metadata: [String: String] = [:]) throws {
        self.path = path
        self.partialPath = path + ".partial"
        self.specs = specs
        var seen = Set<String>()
        for s in specs where !seen.insert(s.name).inserted {
            throw SafeTensorsError.writeFailed(path: path, reason: "tensor '\(s.name)' declared twice")
        }
        // Header JSON with keys in declaration order (JSONSerialization does not keep order).
        var parts: [String] = []
        if !metadata.isEmpty {
            let m = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            parts.append("\"__metadata__\":{\(m.joined(separator: ","))}")
        }
        var cursor = 0
        for s in specs {
            parts.append("\(jsonString(s.name)):{\"dtype\":\"\(s.dtype.rawValue)\",\"shape\":[\(s.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(cursor),\(cursor + s.byteCount)]}")
            cursor += s.byteCount
        }
        var header = Array("{\(parts.joined(separator: ","))}".utf8)
        while (8 + header.count) % 8 != 0 { header.append(0x20) }
        let dataStart = 8 + header.count
        var running = dataStart
        for s in specs {
            offsets[s.name] = (s, running)
            running += s.byteCount
        }
        fd = open(partialPath, O_CREAT | O_TRUNC | O_RDWR, 0o644)
        guard fd >= 0 else {
            throw SafeTensorsError.writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
        var lengthLE = UInt64(header.count).littleEndian
        var prefix = [UInt8](repeating: 0, count: 8)
        withUnsafeBytes(of: &lengthLE) { raw in for i in 0..<8 { prefix[i] = raw[i] } }
        try writeAll(prefix + header, at: 0)
        // Size the file now so unwritten regions read as zeros and a full disk shows up early.
        if ftruncate(fd, off_t(running)) != 0 {
            let reason = String(cString: strerror(errno))
            close(fd); unlink(partialPath)
            throw SafeTensorsError.writeFailed(path: path, reason: reason)
        }
    }

    deinit {
        if !finished {
            close(fd)
            unlink(partialPath)
        }
    }

    private func writeAll(_ bytes: [UInt8], at offset: Int) throws {
        try bytes.withUnsafeBytes { try writeAll(raw: $0, at: offset) }
    }

    private func writeAll(raw: UnsafeRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < raw.count {
            let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw SafeTensorsError.writeFailed(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { throw SafeTensorsError.writeFailed(path: path, reason: "no space written (disk full?)") }
            done += n
        }
    }

    /// Writes `values` into tensor `name` starting at flattened element `elementOffset`.
    public func write<T: SafeTensorScalar>(_ name: String, _ values: [T], at elementOffset: Int = 0) throws {
        try values.withUnsafeBytes { try write(name, raw: $0, dtype: T.dtype, at: elementOffset) }
    }

    /// Writes raw little-endian elements of `dtype` into tensor `name` at `elementOffset`.
    public func write(_ name: String, raw: UnsafeRawBufferPointer, dtype: DType, at elementOffset: Int = 0) throws {
        guard let entry = offsets[name] else {
            throw SafeTensorsError.writeFailed(path: path, reason: "tensor '\(name)' was not declared")
        }
        guard entry.spec.dtype == dtype else {
            throw SafeTensorsError.writeFailed(path: path, reason: "tensor '\(name)' is \(entry.spec.dtype.rawValue), got \(dtype.rawValue) data")
        }
        let count = raw.count / dtype.size
        guard elementOffset >= 0, elementOffset + count <= entry.spec.elementCount else {
            throw SafeTensorsError.writeFailed(path: path, reason: "write of \(count) elements at \(elementOffset) overruns tensor '\(name)' of \(entry.spec.elementCount)")
        }
        try writeAll(raw: raw, at: entry.start + elementOffset * dtype.size)
    }

    /// Flushes to disk and renames the partial file to its final name.
    public func finish() throws {
        guard !finished else { return }
        if fsync(fd) != 0 {
            throw SafeTensorsError.writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
        close(fd)
        finished = true
        if rename(partialPath, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(partialPath)
            throw SafeTensorsError.writeFailed(path: path, reason: reason)
        }
    }

    /// Abandons the file: removes the partial file.
    public func abort() {
        guard !finished else { return }
        close(fd)
        unlink(partialPath)
        finished = true
    }
}

/// An in-memory tensor to write in one go.
public struct Tensor: Sendable {
    public var spec: TensorSpec
    public var bytes: [UInt8]

    public init<T: SafeTensorScalar>(_ name: String, _ values: [T], shape: [Int]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values of '\(name)'")
        spec = TensorSpec(name, T.dtype, shape)
        bytes = values.withUnsafeBytes { Array($0) }
    }

    public init(_ name: String, dtype: DType, shape: [Int], bytes: [UInt8]) {
        precondition(shape.reduce(1, *) * dtype.size == bytes.count)
        spec = TensorSpec(name, dtype, shape)
        self.bytes = bytes
    }
}

public enum SafeTensors {
    /// Writes `tensors` (in the given order) to `path` atomically (temporary name, then rename).
    public static func write(_ tensors: [Tensor], metadata: [String: String] = [:], to path: String) throws {
        let w = try SafeTensorsStreamWriter(path: path, tensors: tensors.map(\.spec), metadata: metadata)
        for t in tensors {
            try t.bytes.withUnsafeBytes { try w.write(t.spec.name, raw: $0, dtype: t.spec.dtype) }
        }
        try w.finish()
    }
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}
