import Foundation
import ZIPFoundation

/// A floating-point array read from NumPy's `.npy` format (NumPy Enhancement Proposal 1,
/// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html): magic `\x93NUMPY`, version
/// bytes, a little-endian header length (2 bytes in version 1, 4 in versions 2 and 3), a Python-literal
/// header dict with `descr`, `fortran_order` and `shape`, then the data.
///
/// Accepted: `descr` `<f4` or `<f8` (little-endian float32/float64), C or Fortran order (scikit-learn's
/// multinomial `coef_` is a Fortran-ordered view, so `np.savez(coef=clf.coef_)` writes Fortran order);
/// values are returned in C (row-major) order.
public struct NumpyArray: Sendable, Equatable {
    public var shape: [Int]
    /// Row-major values converted to Double.
    public var values: [Double]

    /// Parses `.npy` bytes; `name` labels errors.
    public init(npy data: Data, name: String) throws {
        let bytes = [UInt8](data)
        func fail(_ why: String) -> ProbeError { ProbeError(path: name, "not a readable .npy array: \(why)") }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw fail("missing the \\x93NUMPY magic")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8; headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24; headerStart = 12
        default:
            throw fail("unsupported format version \(major)")
        }
        guard headerStart + headerLength <= bytes.count else { throw fail("truncated header") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = Self.value(of: "descr", in: header)?.trimmingCharacters(in: CharacterSet(charactersIn: "'\"")) else {
            throw fail("header has no 'descr'")
        }
        guard let fortran = Self.value(of: "fortran_order", in: header) else { throw fail("header has no 'fortran_order'") }
        guard fortran == "False" || fortran == "True" else { throw fail("fortran_order is '\(fortran)', expected True or False") }
        guard let shapeText = Self.value(of: "shape", in: header) else { throw fail("header has no 'shape'") }
        let dims = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for d in dims {
            guard let v = Int(d), v >= 0 else { throw fail("shape \(shapeText) is not a tuple of integers") }
            shape.append(v)
        }
        let start = headerStart + headerLength
        let size: Int
        switch descr {
        case "<f4": size = 4
        case "<f8": size = 8
        default: throw fail("dtype '\(descr)' is not supported (use float32 '<f4' or float64 '<f8')")
        }
        // Sizes come from the file: multiply with overflow checks (docs/reliability.md, "Limits").
        var count = 1, overflow = false
        for d in shape where !overflow { (count, overflow) = count.multipliedReportingOverflow(by: d) }
        if !overflow { (_, overflow) = count.multipliedReportingOverflow(by: size) }
        guard !overflow, bytes.count - start >= count * size else {
            throw fail("holds \(bytes.count - start) data bytes, shape \(shape) of \(descr) needs \(count * size)")
        }
        var values = [Double](repeating: 0, count: count)
        for i in 0..<count {
            let o = start + i * size
            if size == 4 {
                var bits: UInt32 = 0
                for b in 0..<4 { bits |= UInt32(bytes[o + b]) << (8 * b) }
                values[i] = Double(Float(bitPattern: bits))
            } else {
                var bits: UInt64 = 0
                for b in 0..<8 { bits |= UInt64(bytes[o + b]) << (8 * b) }
                values[i] = Double(bitPattern: bits)
            }
        }
        self.shape = shape
        self.values = fortran == "True" && shape.count > 1 ? Self.rowMajor(fromColumnMajor: values, shape: shape) : values
    }

    /// Reorders column-major (Fortran) values of `shape` into row-major order.
    static func rowMajor(fromColumnMajor v: [Double], shape: [Int]) -> [Double] {
        var out = [Double](repeating: 0, count: v.count)
        var index = [Int](repeating: 0, count: shape.count)
        for f in 0..<v.count {
            // f enumerates column-major positions: the first index varies fastest.
            var r = 0
            for a in 0..<shape.count { r = r * shape[a] + index[a] }
            out[r] = v[f]
            for a in 0..<shape.count {
                index[a] += 1
                if index[a] < shape[a] { break }
                index[a] = 0
            }
        }
        return out
    }

    /// The text of `key`'s value in a Python dict literal (up to the next top-level comma).
    private static func value(of key: String, in header: String) -> String? {
        guard let r = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else { return nil }
        var rest = header[r.upperBound...].drop { $0 == " " }
        guard rest.first == ":" else { return nil }
        rest = rest.dropFirst().drop { $0 == " " }
        var depth = 0
        var out = ""
        for ch in rest {
            if ch == "(" || ch == "[" { depth += 1 }
            if ch == ")" || ch == "]" { depth -= 1 }
            if (ch == "," || ch == "}") && depth == 0 { break }
            out.append(ch)
        }
        return out.trimmingCharacters(in: .whitespaces)
    }

    /// Most bytes the `.npy` records of one `.npz` may declare in total (256 MiB; a 19-class probe of
    /// 144-d embeddings is 22 KB).
    public static let maxArchiveBytes: UInt64 = 256 << 20

    /// The arrays of a `.npz` archive (a zip of `.npy` files, `numpy.savez`), by name without `.npy`.
    public static func archive(path: String) throws -> [String: NumpyArray] {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw ProbeError(path: path, "not a readable .npz (zip) archive: \(error)")
        }
        var out: [String: NumpyArray] = [:]
        var total: UInt64 = 0
        for entry in archive where entry.type == .file && entry.path.hasSuffix(".npy") {
            // A probe is kilobytes; a record (or all of them) inflating past the limit is a zip bomb.
            total += entry.uncompressedSize
            guard total <= Self.maxArchiveBytes else {
                throw ProbeError(path: path, "the .npy records declare more than \(Self.maxArchiveBytes) bytes; not a probe (limit: docs/reliability.md)")
            }
            var data = Data()
            do {
                _ = try archive.extract(entry) { chunk in
                    guard UInt64(data.count + chunk.count) <= entry.uncompressedSize else {
                        throw ProbeError(path: path, "\(entry.path) inflates past its declared \(entry.uncompressedSize) bytes")
                    }
                    data.append(chunk)
                }
            } catch let error as ProbeError {
                throw error
            } catch {
                throw ProbeError(path: path, "cannot extract \(entry.path): \(error)")
            }
            let name = String(entry.path.dropLast(4))
            out[name] = try NumpyArray(npy: data, name: "\(path):\(entry.path)")
        }
        return out
    }
}
