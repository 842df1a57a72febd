import Foundation
import XCTest
import SafeTensors
@testable import Tiling

final class BigEarthNetFolderTests: XCTestCase {
    let folder = "\(sharedDirectory)/data/patches/bigearthnet-l-sample"

    func testFolderIsRecognisedAndPatchesSorted() throws {
        XCTAssertTrue(BigEarthNetFolder.isBigEarthNetFolder(folder))
        XCTAssertFalse(BigEarthNetFolder.isBigEarthNetFolder("\(sharedDirectory)/data/scenes/\(preCollection)"))
        let f = try BigEarthNetFolder(path: folder)
        // The real sample has 200 images; one (…20171208T093351_82_79) has no label file.
        XCTAssertEqual(f.patches.count + f.unlabelled.count, 200)
        XCTAssertEqual(f.unlabelled, ["S2A_MSIL2A_20171208T093351_82_79"])
        XCTAssertEqual(f.patches, f.patches.sorted())
        XCTAssertEqual(f.patches.first, "S2A_MSIL2A_20170613T101031_11_66")
    }

    /// The first 16 patches tiled by us equal the reference implementation's inputs
    /// (/work/shared/golden/golden-public.safetensors): centre-crop pixels, ISO week, whole-patch
    /// centre lat/lon; the golden hour is whole hours, ours keeps the fraction.
    func testTilesMatchGoldenInputs() throws {
        let golden = try SafeTensorsFile(path: "\(sharedDirectory)/golden/golden-public.safetensors")
        let gPixels: [UInt16] = try golden.array("pixels", as: UInt16.self)
        let gWeek = try golden.ints("week")
        let gHour = try golden.floats("hour"), gLat = try golden.floats("lat"), gLon = try golden.floats("lon")
        let n = gWeek.count
        XCTAssertEqual(n, 16)
        let f = try BigEarthNetFolder(path: folder)
        let out = makeTempDirectory("ben") + "/ds"
        defer { try? FileManager.default.removeItem(atPath: (out as NSString).deletingLastPathComponent) }
        let sources = try Array(f.sources().prefix(n))
        let manifest = try DatasetBuilder.build(sources: sources, output: out, options: TilingOptions())
        XCTAssertEqual(manifest.tileCount, n)
        XCTAssertEqual(manifest.scenes.map(\.id), Array(f.patches.prefix(n)))
        XCTAssertEqual(manifest.scenes.map(\.gridRows), [Int](repeating: 1, count: n))
        let shard = try Dataset(path: out).shard(0)
        XCTAssertEqual(try shard.pixels(0..<n), gPixels)
        XCTAssertEqual(try shard.week(), gWeek)
        XCTAssertEqual(try shard.optionalInts("scene"), Array(0..<n))
        let hour = try shard.hour(), lat = try shard.lat(), lon = try shard.lon()
        for i in 0..<n {
            XCTAssertEqual(hour[i].rounded(.down), Double(gHour[i]), "patch \(i)")
            // The golden values are float32: ours, rounded to float32, are the same numbers.
            XCTAssertEqual(Float(lat[i]), gLat[i], "patch \(i)")
            XCTAssertEqual(Float(lon[i]), gLon[i], "patch \(i)")
        }
        // Fill patch 3 (all DN 0) is kept with valid fraction 0.
        let vf = try shard.file.floats("valid_fraction")
        XCTAssertEqual(vf[3], 0)
        XCTAssertEqual(vf[0], 1)
    }
}
