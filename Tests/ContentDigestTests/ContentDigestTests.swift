import ContentDigest
import Foundation
import XCTest

/// `MessageDigest` against the FIPS 180-4 example vectors (NIST's "SHA256.pdf"/"SHA1.pdf" examples) and
/// `sha256sum` on a real file, fed in one piece and in uneven pieces.
final class ContentDigestTests: XCTestCase {
    func testFIPSExampleVectors() {
        XCTAssertEqual(MessageDigest.sha256Hex(Data("abc".utf8)),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(MessageDigest.sha256Hex(Data()),
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(MessageDigest.hex(MessageDigest.hash(.sha1, data: Data("abc".utf8))),
                       "a9993e364706816aba3e25717850c26c9cd0d89d")
        let twoBlocks = Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        XCTAssertEqual(MessageDigest.sha256Hex(twoBlocks),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(MessageDigest.hash(.sha256, data: twoBlocks).count, 32)
        XCTAssertEqual(MessageDigest.hash(.sha1, data: twoBlocks).count, 20)
    }

    func testPiecewiseUpdatesEqualOneShotAndSha256sum() throws {
        let path = "../shared/golden/weights-xxs-public.safetensors"
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let digest = MessageDigest(.sha256)
        var offset = 0, step = 1
        while offset < data.count {
            let end = min(data.count, offset + step)
            digest.update(data: data.subdata(in: offset..<end))
            offset = end; step = step * 3 + 7
        }
        let piecewise = MessageDigest.hex(digest.finalize())
        XCTAssertEqual(piecewise, MessageDigest.sha256Hex(data))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(String(output.prefix(64)), piecewise)
    }
}
