import Foundation
import XCTest
@testable import Probe

/// `.npy`/`.npz` sizes come from the file; they must never overflow or allocate without bound
/// (docs/reliability.md, "Limits").
final class NumpyArrayLimitsTests: XCTestCase {
    private func npy(header: String, data: [UInt8] = []) -> Data {
        var h = Array(header.utf8)
        while (10 + h.count + 1) % 64 != 0 { h.append(0x20) }
        h.append(0x0A)
        return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h + data)
    }

    func testShapeWhoseSizeOverflowsIsAnError() {
        let data = npy(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }")
        XCTAssertThrowsError(try NumpyArray(npy: data, name: "p.npz:coef.npy")) { error in
            XCTAssertTrue("\(error)".hasPrefix("p.npz:coef.npy: not a readable .npy array"), "\(error)")
        }
        let ok = npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data: [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40])
        XCTAssertEqual(try NumpyArray(npy: ok, name: "ok").values, [1, 2])
    }

    /// An archive whose records declare more than ``NumpyArray/maxArchiveBytes`` is refused before any
    /// record is inflated (a zip bomb of zeros, written with Python's zipfile; 257 MiB declared).
    func testArchiveDeclaringMoreThanTheLimitIsRefused() throws {
        let dir = NSTemporaryDirectory() + "npz-limits-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/bomb.npz"
        let script = """
        import sys, zipfile
        with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
            with z.open("coef.npy", "w", force_zip64=True) as f:
                chunk = bytes(1 << 20)
                for _ in range(257):
                    f.write(chunk)
        """
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", script, path]
        try python.run()
        python.waitUntilExit()
        XCTAssertEqual(python.terminationStatus, 0)
        XCTAssertThrowsError(try NumpyArray.archive(path: path)) { error in
            XCTAssertTrue("\(error)".contains("more than \(NumpyArray.maxArchiveBytes) bytes"), "\(error)")
        }
    }
}
