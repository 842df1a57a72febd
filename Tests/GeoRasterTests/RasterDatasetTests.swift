import Foundation
import XCTest
@testable import GeoRaster

final class RasterDatasetTests: XCTestCase {
    func testPreCollectionBandHasSizeGeotransformCRSAndBlocks() throws {
        let ds = try RasterDataset(path: scenePath(preCollection, "B1.TIF"))
        XCTAssertEqual(ds.width, 627)
        XCTAssertEqual(ds.height, 603)
        XCTAssertEqual(ds.bandCount, 1)
        XCTAssertEqual(ds.driverName, "GTiff")
        let t = try XCTUnwrap(ds.geoTransform)
        // The MTL's corner is a pixel centre (AREA_OR_POINT=Point); GDAL reports the pixel-is-area origin.
        XCTAssertEqual(t.gdal, [452475, 30, 0, 3408645, 0, -30])
        let crs = try XCTUnwrap(try ds.crs())
        XCTAssertEqual(crs.epsg, 32616)
        XCTAssertTrue(crs.wkt2.hasPrefix("PROJCRS[\"WGS 84 / UTM zone 16N\""), crs.wkt2)
        XCTAssertEqual(crs.name, "WGS 84 / UTM zone 16N")
        let b = try ds.band(1)
        XCTAssertEqual(b.dataType, .uint16)
        XCTAssertEqual(b.blockWidth, 627)
        XCTAssertEqual(b.blockHeight, 6)
        XCTAssertNil(b.nodata)
        XCTAssertEqual(ds.metadataItem("AREA_OR_POINT"), "Point")
    }

    func testWindowReadMatchesGdallocationinfo() throws {
        let path = scenePath(preCollection, "B4.TIF")
        let ds = try RasterDataset(path: path)
        let window = RasterWindow(column: 300, row: 250, width: 7, height: 5)
        let values: [UInt16] = try ds.read(band: 1, window: window)
        XCTAssertEqual(values.count, 35)
        for (c, r) in [(0, 0), (6, 4), (3, 2), (6, 0)] {
            let out = try runTool("gdallocationinfo", ["-valonly", path, "\(300 + c)", "\(250 + r)"])
            XCTAssertEqual(Int(values[r * 7 + c]), Int(out.trimmingCharacters(in: .whitespacesAndNewlines)), "pixel \(c),\(r)")
        }
        // Conversion to Float through GDAL gives the same numbers.
        let floats: [Float] = try ds.read(band: 1, window: window)
        XCTAssertEqual(floats, values.map(Float.init))
    }

    func testReadWithLineStrideFillsTopLeftOfWiderBuffer() throws {
        let ds = try RasterDataset(path: scenePath(preCollection, "B2.TIF"))
        let w = RasterWindow(column: 620, row: 600, width: 7, height: 3)  // bottom-right corner
        let direct: [UInt16] = try ds.read(band: 1, window: w)
        var padded = [UInt16](repeating: 9, count: 10 * 4)
        try padded.withUnsafeMutableBufferPointer { try ds.read(band: 1, window: w, into: $0, lineStride: 10) }
        for r in 0..<3 { XCTAssertEqual(Array(padded[(r * 10)..<(r * 10 + 7)]), Array(direct[(r * 7)..<(r * 7 + 7)])) }
        XCTAssertEqual(padded[7], 9)
        XCTAssertEqual(Array(padded[30..<40]), [UInt16](repeating: 9, count: 10))
    }

    func testMultiBandReadIsBandSequential() throws {
        let images = "\(sharedDirectory)/data/patches/bigearthnet-l-sample/images"
        let first = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: images).filter { $0.hasSuffix(".tif") }.sorted().first)
        let ds = try RasterDataset(path: "\(images)/\(first)")
        XCTAssertEqual(ds.bandCount, 7)
        let w = RasterWindow(column: 1, row: 2, width: 5, height: 4)
        var all = [UInt16](repeating: 0, count: 7 * 20)
        try all.withUnsafeMutableBufferPointer { try ds.read(bands: Array(1...7), window: w, into: $0) }
        for b in 1...7 {
            let one: [UInt16] = try ds.read(band: b, window: w)
            XCTAssertEqual(Array(all[((b - 1) * 20)..<(b * 20)]), one)
        }
    }

    func testPolarStereographicCRSHasWKT2AndNoUTMZone() throws {
        let ds = try RasterDataset(path: scenePath(antarctic, "SR_B1.TIF"))
        let crs = try XCTUnwrap(try ds.crs())
        XCTAssertTrue(crs.wkt2.contains("Polar Stereographic"), crs.wkt2)
        XCTAssertEqual(try ds.band(1).nodata, 0)
    }

    func testMissingFileNamesThePath() {
        XCTAssertThrowsError(try RasterDataset(path: "/nonexistent/x.tif")) { e in
            let g = e as? GeoRasterError
            XCTAssertEqual(g?.code, .open)
            XCTAssertTrue("\(e)".contains("/nonexistent/x.tif"))
        }
    }

    func testTruncatedTIFFFailsWithGDALsMessage() throws {
        let dir = makeTempDirectory("gr-trunc")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = try Data(contentsOf: URL(fileURLWithPath: scenePath(preCollection, "B3.TIF")))
        let path = dir + "/B3.TIF"
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        do {
            let ds = try RasterDataset(path: path)
            let _: [UInt16] = try ds.read(band: 1, window: RasterWindow(column: 0, row: 0, width: ds.width, height: ds.height))
            XCTFail("reading a truncated TIFF must fail")
        } catch let e as GeoRasterError {
            XCTAssertTrue(e.code == .read || e.code == .open)
            XCTAssertEqual(e.path, path)
            XCTAssertFalse(e.libraryMessages.isEmpty, "GDAL's own message must reach the error: \(e)")
        }
        // A file that is not a TIFF at all.
        let junk = dir + "/junk.tif"
        try Data("not a tiff".utf8).write(to: URL(fileURLWithPath: junk))
        XCTAssertThrowsError(try RasterDataset(path: junk)) { e in
            XCTAssertEqual((e as? GeoRasterError)?.code, .open)
            XCTAssertFalse((e as? GeoRasterError)?.libraryMessages.isEmpty ?? true, "\(e)")
        }
    }

    func testWindowOutsideRasterIsAnArgumentError() throws {
        let ds = try RasterDataset(path: scenePath(preCollection, "B1.TIF"))
        XCTAssertThrowsError(try ds.read(band: 1, window: RasterWindow(column: 600, row: 0, width: 40, height: 40), as: UInt16.self)) { e in
            XCTAssertEqual((e as? GeoRasterError)?.code, .invalidArgument)
        }
        XCTAssertThrowsError(try ds.band(2))
    }
}
