import Foundation
import XCTest
@testable import Landsat

/// Damaged and hostile MTL files: every one gives a ``LandsatError`` naming the file, never a crash,
/// and no file can make the parsers allocate or recurse past ``MTLLimits`` (docs/reliability.md).
final class MTLHostileInputTests: XCTestCase {
    /// Issue 13's report, replayed: Collection 2 `*_MTL.xml` files with a few bytes changed inside tag
    /// names made Foundation's `XMLParser` trap (SIGILL; 166 of 600 inputs made with `random.seed(13)`
    /// did). Each input is the shared file (path under ../shared/data) with (offset, byte) changes.
    static let xmlParserCrashes: [(String, [(Int, UInt8)])] = [
        ("scenes/LC08_L2SR_099120_20191129_20201016_02_T2/LC08_L2SR_099120_20191129_20201016_02_T2_MTL.xml", [(14713, 0xED)]),
        ("scenes/LC08_L2SP_005009_20150710_20200908_02_T2/LC08_L2SP_005009_20150710_20200908_02_T2_MTL.xml", [(94, 0xD9), (1963, 0x48), (17600, 0xE3), (21884, 0x51)]),
        ("scenes/LC08_L2SR_099120_20191129_20201016_02_T2/LC08_L2SR_099120_20191129_20201016_02_T2_MTL.xml", [(7050, 0x6A), (8173, 0x6E), (9376, 0xC0), (16958, 0x4A)]),
        ("scenes/LC08_L2SP_017036_20130419_20200913_02_T2/LC08_L2SP_017036_20130419_20200913_02_T2_MTL.xml", [(11117, 0x94), (15914, 0xC7)]),
        ("scenes/LC08_L2SP_008059_20191201_20200825_02_T1/LC08_L2SP_008059_20191201_20200825_02_T1_MTL.xml", [(1967, 0x97), (4803, 0xA5), (17296, 0xDE)]),
        ("scenes/LC08_L2SR_099120_20191129_20201016_02_T2/LC08_L2SR_099120_20191129_20201016_02_T2_MTL.xml", [(3339, 0x44), (9684, 0xFE)]),
        ("scenes/LC08_L2SP_005009_20150710_20200908_02_T2/LC08_L2SP_005009_20150710_20200908_02_T2_MTL.xml", [(7188, 0xDB)]),
        ("scenes/LC08_L2SP_005009_20150710_20200908_02_T2/LC08_L2SP_005009_20150710_20200908_02_T2_MTL.xml", [(4206, 0x4B), (7902, 0x06), (11438, 0x70), (20989, 0xDA)]),
        ("scenes/LC08_L2SP_008059_20191201_20200825_02_T1/LC08_L2SP_008059_20191201_20200825_02_T1_MTL.xml", [(14732, 0x0D), (15815, 0xD2), (16984, 0x1F), (20090, 0xF4)]),
        ("scenes/LC08_L2SP_017036_20130419_20200913_02_T2/LC08_L2SP_017036_20130419_20200913_02_T2_MTL.xml", [(15582, 0xDC), (16206, 0x51)]),
        ("scenes/LC08_L2SP_008059_20191201_20200825_02_T1/LC08_L2SP_008059_20191201_20200825_02_T1_MTL.xml", [(5694, 0xF3), (19642, 0x96)]),
        ("scenes/LC08_L2SP_017036_20130419_20200913_02_T2/LC08_L2SP_017036_20130419_20200913_02_T2_MTL.xml", [(4256, 0xC4), (6522, 0x63), (9644, 0xD5), (10129, 0x27)]),
    ]

    func testDamagedTagNamesThatCrashedFoundationXMLParserAreErrors() throws {
        let folder = try TemporaryFolder()
        for (i, (source, changes)) in Self.xmlParserCrashes.enumerated() {
            var bytes = [UInt8](try Data(contentsOf: SharedData.root.appendingPathComponent(source)))
            for (offset, byte) in changes { bytes[offset] = byte }
            let url = try folder.write("crash\(i)_MTL.xml", Data(bytes))
            XCTAssertThrowsError(try MTLDocument(contentsOf: url), "\(i)") { error in
                guard let e = error as? LandsatError else { return XCTFail("\(i): \(error)") }
                XCTAssertEqual(e.code, .malformed, "\(i): \(e)")
                XCTAssertEqual(e.path, url.path)
                XCTAssertTrue(e.message.contains("not valid XML at line"), e.message)
            }
        }
    }

    /// The reporter's experiment at test time: 150 copies of each shared `*_MTL.xml` with 1–4 bytes
    /// inside tag names replaced (seeded), read through the whole metadata path: each either reads
    /// or throws a ``LandsatError`` naming the file.
    func testRandomlyDamagedTagNamesNeverCrash() throws {
        let folder = try TemporaryFolder()
        var rng = SplitMix64(seed: 13)
        let sources = try SharedData.allMTLFiles().filter { $0.pathExtension == "xml" }
        XCTAssertGreaterThan(sources.count, 10)
        var errors = 0
        for (n, source) in sources.enumerated() {
            let original = [UInt8](try Data(contentsOf: source))
            var tagBytes: [Int] = []
            var inTag = false
            for (i, b) in original.enumerated() {
                if b == UInt8(ascii: "<") { inTag = true } else if b == UInt8(ascii: ">") { inTag = false } else if inTag { tagBytes.append(i) }
            }
            for k in 0..<150 {
                var bytes = original
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    bytes[tagBytes[Int(rng.next() % UInt64(tagBytes.count))]] = UInt8(truncatingIfNeeded: rng.next())
                }
                let url = try folder.write("d\(n)_\(k)_MTL.xml", Data(bytes))
                do {
                    _ = try LandsatMetadata(contentsOf: url)
                } catch let e as LandsatError {
                    XCTAssertEqual(e.path, url.path)
                    errors += 1
                }
            }
        }
        XCTAssertGreaterThan(errors, 0)
    }

    // MARK: - Limits (MTLLimits), one file exceeding each

    func testFileLargerThanTheLimitIsRefusedBeforeReading() throws {
        let folder = try TemporaryFolder()
        let url = try folder.write("huge_MTL.txt", Data(repeating: UInt8(ascii: " "), count: MTLLimits.maxFileBytes + 1))
        assertMalformed(try MTLDocument(contentsOf: url), path: url.path, mentions: "larger than \(MTLLimits.maxFileBytes) bytes")
        assertMalformed(try MTLDocument(data: Data(repeating: 0x20, count: MTLLimits.maxFileBytes + 1), path: "x_MTL.txt"),
                        path: "x_MTL.txt", mentions: "larger than")
    }

    func testODLLineLongerThanTheLimit() throws {
        let long = String(repeating: "A", count: MTLLimits.maxLineBytes + 1)
        let text = "GROUP = LANDSAT_METADATA_FILE\n  K = \"\(long)\"\nEND_GROUP = LANDSAT_METADATA_FILE\nEND\n"
        assertMalformed(try MTLDocument(data: Data(text.utf8), path: "long_MTL.txt"), path: "long_MTL.txt", mentions: "longer than \(MTLLimits.maxLineBytes) bytes")
        // A quoted value continued over many short lines is bounded the same way.
        let lines = Array(repeating: String(repeating: "B", count: 1000), count: MTLLimits.maxLineBytes / 1000 + 2)
        let continued = "GROUP = LANDSAT_METADATA_FILE\n  K = \"start\n" + lines.joined(separator: "\n") + "\"\nEND_GROUP = LANDSAT_METADATA_FILE\nEND\n"
        assertMalformed(try MTLDocument(data: Data(continued.utf8), path: "cont_MTL.txt"), path: "cont_MTL.txt", mentions: "continues past")
    }

    /// A value continued over thousands of one-character lines is read whole (each line used to rescan the
    /// whole value: quadratic time; the debug mtl-odl fuzz target spent 23 s of CPU on one such 60 KB file
    /// without finishing).
    func testODLValueContinuedOverManyShortLines() throws {
        let text = "GROUP = LANDSAT_METADATA_FILE\n  K = \"a\n" + String(repeating: "x\n", count: 20_000) + "\"\n  L = ( 1,\n" +
            String(repeating: "2,\n", count: 5_000) + "3 )\nEND_GROUP = LANDSAT_METADATA_FILE\nEND\n"
        let document = try MTLDocument(data: Data(text.utf8), path: "many_MTL.txt")
        XCTAssertEqual(document.value("K", inGroup: "LANDSAT_METADATA_FILE"), "a" + String(repeating: " x", count: 20_000) + " ")
        XCTAssertEqual(document.value("L", inGroup: "LANDSAT_METADATA_FILE"), "( 1," + String(repeating: "2,", count: 5_000) + "3 )")
    }

    func testNestingDeeperThanTheLimitInEachEncoding() throws {
        let depth = MTLLimits.maxNesting + 1
        let names = (0..<depth).map { "G\($0)" }
        let odl = names.map { "GROUP = \($0)\n" }.joined() + "K = 1\n" + names.reversed().map { "END_GROUP = \($0)\n" }.joined() + "END\n"
        assertMalformed(try MTLDocument(data: Data(odl.utf8), path: "deep_MTL.txt"), path: "deep_MTL.txt", mentions: "nested deeper than \(MTLLimits.maxNesting)")
        let json = names.map { "{\"\($0)\": " }.joined() + "{\"K\": \"1\"}" + String(repeating: "}", count: depth)
        assertMalformed(try MTLDocument(data: Data(json.utf8), path: "deep_MTL.json"), path: "deep_MTL.json", mentions: "nested deeper than \(MTLLimits.maxNesting)")
        let xml = names.map { "<\($0)>" }.joined() + "<K>1</K>" + names.reversed().map { "</\($0)>" }.joined()
        assertMalformed(try MTLDocument(data: Data(xml.utf8), path: "deep_MTL.xml"), path: "deep_MTL.xml", mentions: "nested deeper than \(MTLLimits.maxNesting)")
        // Far deeper than any limit (100 000 levels): an error, not a stack overflow.
        let abyss = String(repeating: "<a>", count: 100_000) + String(repeating: "</a>", count: 100_000)
        assertMalformed(try MTLDocument(data: Data(abyss.utf8), path: "abyss_MTL.xml"), path: "abyss_MTL.xml", mentions: "")
        let jsonAbyss = String(repeating: "{\"a\":", count: 100_000) + "1" + String(repeating: "}", count: 100_000)
        assertMalformed(try MTLDocument(data: Data(jsonAbyss.utf8), path: "abyss_MTL.json"), path: "abyss_MTL.json", mentions: "")
        // Exactly at the limit still reads.
        let ok = names.dropLast().map { "<\($0)>" }.joined() + "<K>1</K>" + names.dropLast().reversed().map { "</\($0)>" }.joined()
        XCTAssertEqual(try MTLDocument(data: Data(ok.utf8), path: "ok_MTL.xml").entries.count, 1)
    }

    func testMoreEntriesThanTheLimit() throws {
        let n = MTLLimits.maxEntries + 1
        let odl = "GROUP = LANDSAT_METADATA_FILE\n" + (0..<n).map { "K\($0) = 1\n" }.joined() + "END_GROUP = LANDSAT_METADATA_FILE\nEND\n"
        assertMalformed(try MTLDocument(data: Data(odl.utf8), path: "many_MTL.txt"), path: "many_MTL.txt", mentions: "more than \(MTLLimits.maxEntries) values")
        let xml = "<L><G>" + (0..<n).map { "<K\($0)>1</K\($0)>" }.joined() + "</G></L>"
        assertMalformed(try MTLDocument(data: Data(xml.utf8), path: "many_MTL.xml"), path: "many_MTL.xml", mentions: "more than \(MTLLimits.maxEntries) values")
        let json = "{\"L\": {" + (0..<n).map { "\"K\($0)\": \"1\"" }.joined(separator: ",") + "}}"
        assertMalformed(try MTLDocument(data: Data(json.utf8), path: "many_MTL.json"), path: "many_MTL.json", mentions: "more than \(MTLLimits.maxEntries) values")
    }

    /// Entity expansion ("billion laughs") and external entities never run: a DOCTYPE is refused.
    func testDoctypeAndEntitiesAreRefused() throws {
        let laughs = """
        <?xml version="1.0"?>
        <!DOCTYPE L [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
        <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f SYSTEM "file:///etc/passwd">]>
        <L><G><K>&e;&e;&e;&e;&f;</K></G></L>
        """
        assertMalformed(try MTLDocument(data: Data(laughs.utf8), path: "laughs_MTL.xml"), path: "laughs_MTL.xml", mentions: "DOCTYPE")
    }

    // MARK: - Inconsistent metadata

    /// An MTL naming one file for two bands (band 6 → the band-2 file) is refused: `tile` used to read
    /// band 2 twice, once as SR_B6.
    func testTwoBandsNamingOneFileAreRefused() throws {
        let source = SharedData.scenesFolder.appendingPathComponent("LC08_L2SP_008059_20191201_20200825_02_T1")
        let id = source.lastPathComponent
        let tmp = try TemporaryFolder()
        for file in try SharedData.contents(source) where file.pathExtension == "TIF" {
            try FileManager.default.createSymbolicLink(at: tmp.file(file.lastPathComponent), withDestinationURL: file)
        }
        let text = try SharedData.text(source.appendingPathComponent("\(id)_MTL.txt"))
        let edited = text.replacingOccurrences(of: "FILE_NAME_BAND_6 = \"\(id)_SR_B6.TIF\"", with: "FILE_NAME_BAND_6 = \"\(id)_SR_B2.TIF\"")
        XCTAssertNotEqual(edited, text)
        let mtl = try tmp.write("\(id)_MTL.txt", edited)
        XCTAssertThrowsError(try LandsatScene(path: tmp.url.path)) { error in
            guard let e = error as? LandsatError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.code, .invalidValue)
            XCTAssertEqual(e.path, mtl.standardizedFileURL.path)
            XCTAssertTrue(e.message.contains("FILE_NAME_BAND_2 and FILE_NAME_BAND_6 both name \(id)_SR_B2.TIF"), e.message)
        }
        // The QA band naming a reflectance band's file is refused too.
        let qa = text.replacingOccurrences(of: "FILE_NAME_QUALITY_L1_PIXEL = \"\(id)_QA_PIXEL.TIF\"", with: "FILE_NAME_QUALITY_L1_PIXEL = \"\(id)_SR_B4.TIF\"")
        XCTAssertNotEqual(qa, text)
        try tmp.write("\(id)_MTL.txt", qa)
        XCTAssertThrowsError(try LandsatScene(path: tmp.url.path)) { error in
            XCTAssertEqual((error as? LandsatError)?.code, .invalidValue)
            XCTAssertTrue("\(error)".contains("quality band and FILE_NAME_BAND_4 both name"), "\(error)")
        }
    }

    /// Acquisition dates before Landsat 1's launch (1972-07-23) or after today are refused.
    func testAcquisitionDateOutsideTheLandsatEraIsRefused() throws {
        let source = SharedData.scenesFolder.appendingPathComponent("LC08_L2SP_008059_20191201_20200825_02_T1/LC08_L2SP_008059_20191201_20200825_02_T1_MTL.txt")
        let text = try SharedData.text(source)
        let folder = try TemporaryFolder()
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let tomorrow = utc.dateComponents([.year, .month, .day], from: Date().addingTimeInterval(86_400))
        let future = String(format: "%04d-%02d-%02d", tomorrow.year!, tomorrow.month!, tomorrow.day!)
        for date in ["1972-07-22", "1900-01-01", future, "9999-12-31"] {
            let url = try folder.write("e_MTL.txt", text.replacingOccurrences(of: "DATE_ACQUIRED = 2019-12-01", with: "DATE_ACQUIRED = \(date)"))
            XCTAssertThrowsError(try LandsatMetadata(contentsOf: url), date) { error in
                guard let e = error as? LandsatError else { return XCTFail("\(error)") }
                XCTAssertEqual(e.code, .invalidValue, date)
                XCTAssertTrue(e.message.contains("'\(date)' is outside the Landsat era"), e.message)
            }
        }
        for date in ["1972-07-23", "2019-12-01"] {
            let url = try folder.write("ok_MTL.txt", text.replacingOccurrences(of: "DATE_ACQUIRED = 2019-12-01", with: "DATE_ACQUIRED = \(date)"))
            XCTAssertEqual(try LandsatMetadata(contentsOf: url).acquisition.year, Int(date.prefix(4)))
        }
        let today = AcquisitionTime(year: 2026, month: 12, day: 7, hour: 23, minute: 59, second: 59)!
        XCTAssertTrue(today.isInLandsatEra(now: Date(timeIntervalSince1970: 1_796_601_600)))  // 2026-12-07T00:00Z
        XCTAssertFalse(today.isInLandsatEra(now: Date(timeIntervalSince1970: 1_796_601_600 - 1)))
    }

    private func assertMalformed<T>(_ expression: @autoclosure () throws -> T, path: String, mentions fragment: String,
                                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try expression(), file: file, line: line) { error in
            guard let e = error as? LandsatError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(e.code, .malformed, "\(e)", file: file, line: line)
            XCTAssertEqual(e.path, path, file: file, line: line)
            XCTAssertTrue(fragment.isEmpty || e.message.contains(fragment), "'\(e.message)' should mention '\(fragment)'", file: file, line: line)
        }
    }
}

/// A small seeded generator (SplitMix64, Steele et al. 2014), so damaged inputs are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
