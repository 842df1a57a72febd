import Foundation
import XCTest
@testable import GeoRaster

final class WriterTests: XCTestCase {
    var dir: String!
    override func setUp() { dir = makeTempDirectory("gr-write") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testGeoTIFFRoundTripsPixelsGeoreferencingAndBandFacts() throws {
        let crs = try CoordinateReferenceSystem(epsg: 32616)
        let gt = GeoTransform(originX: 452475, pixelWidth: 30, originY: 3408645, pixelHeight: -30)
        let path = dir + "/chip.tif"
        let w = try RasterWriter(path: path, width: 4, height: 3, bandCount: 2, dataType: .uint16, options: .plain)
        try w.setGeoTransform(gt); try w.setCRS(crs)
        try w.setDescription(band: 1, "SR_B1"); try w.setDescription(band: 2, "SR_B2")
        try w.setNoData(band: 1, 0)
        try w.write(window: RasterWindow(column: 0, row: 0, width: 4, height: 3), bandSequential: (0..<24).map { UInt16($0 * 100) })
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "no final name before finish()")
        try w.finish()
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".partial"))

        let ds = try RasterDataset(path: path)
        XCTAssertEqual(ds.geoTransform, gt)
        XCTAssertEqual(try ds.crs()?.epsg, 32616)
        XCTAssertEqual(try ds.band(1).description, "SR_B1")
        XCTAssertEqual(try ds.band(1).nodata, 0)
        XCTAssertEqual(try ds.read(band: 2, window: RasterWindow(column: 0, row: 0, width: 4, height: 3), as: UInt16.self),
                       (12..<24).map { UInt16($0 * 100) })
    }

    func testCOGWithColourTableAndCategoryNames() throws {
        let path = dir + "/labels.tif"
        let w = try RasterWriter(path: path, width: 600, height: 520, bandCount: 1, dataType: .uint8, options: .cog)
        try w.setGeoTransform(GeoTransform(originX: 0, pixelWidth: 30, originY: 0, pixelHeight: -30))
        try w.setCRS(try CoordinateReferenceSystem(epsg: 32616))
        try w.setColorTable(band: 1, [ColorEntry(red: 230, green: 0, blue: 77), ColorEntry(red: 0, green: 166, blue: 0)])
        try w.setCategoryNames(band: 1, ["Urban fabric", "Forest"])
        try w.setNoData(band: 1, 255)
        try w.write(band: 1, window: RasterWindow(column: 0, row: 0, width: 600, height: 520),
                    values: (0..<(600 * 520)).map { UInt8(($0 / 600) % 2) })
        try w.finish()
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".partial-tiled.tif"))
        let info = try runTool("gdalinfo", [path])
        XCTAssertTrue(info.contains("LAYOUT=COG"), info)
        XCTAssertTrue(info.contains("Color Table"), info)
        XCTAssertTrue(info.contains("Urban fabric") && info.contains("Forest"), info)
        XCTAssertTrue(info.contains("0: 230,0,77,255"), info)
        XCTAssertTrue(info.contains("Overviews"), info)
    }

    func testAbandonedWriterLeavesNoFile() throws {
        let path = dir + "/gone.tif"
        do {
            let w = try RasterWriter(path: path, width: 8, height: 8, bandCount: 1, dataType: .uint8)
            try w.write(band: 1, window: RasterWindow(column: 0, row: 0, width: 8, height: 8), values: [UInt8](repeating: 1, count: 64))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }

    func testGeoPackagePolygonsWithAttributes() throws {
        let path = dir + "/tiles.gpkg"
        let crs = try CoordinateReferenceSystem(epsg: 32616)
        let v = try VectorWriter(path: path, layerName: "tiles", crs: crs,
                                 fields: [VectorField("row", .integer), VectorField("lat", .real), VectorField("name", .string)])
        let gt = GeoTransform(originX: 452475, pixelWidth: 30, originY: 3408645, pixelHeight: -30)
        try v.addPolygon(gt.corners(column: 0, row: 0, width: 40, height: 40), values: [.integer(0), .real(30.8), .string("a")])
        try v.addPolygon(gt.corners(column: 40, row: 0, width: 40, height: 40), values: [.integer(1), .real(30.7), .string("b")])
        try v.finish()
        let info = try runTool("ogrinfo", ["-al", "-so", path])
        XCTAssertTrue(info.contains("Feature Count: 2"), info)
        XCTAssertTrue(info.contains("Geometry: Polygon"), info)
        XCTAssertTrue(info.contains("32616"), info)
        let all = try runTool("ogrinfo", ["-al", path])
        XCTAssertTrue(all.contains("POLYGON ((452475 3408645,453675 3408645,453675 3407445,452475 3407445,452475 3408645))"), all)
        XCTAssertTrue(all.contains("name (String) = b"), all)
    }
}

/// ``RasterWriter`` on a disk that fills up, and the size of its intermediate COG file.
final class WriterDiskTests: XCTestCase {
    /// The intermediate (uncompressed) GeoTIFF of a COG has tiles no larger than the raster, rounded up
    /// to TIFF's multiple of 16: GDAL writes every uncompressed tile in full.
    func testIntermediateTilesAreNoLargerThanTheRaster() {
        func blocks(_ w: Int, _ h: Int) -> [String] {
            RasterCreationOptions.cog.gtiffOptions(width: w, height: h).filter { $0.0.hasPrefix("BLOCK") }.map { "\($0.0)=\($0.1)" }
        }
        XCTAssertEqual(blocks(13, 13), ["BLOCKXSIZE=16", "BLOCKYSIZE=16"])
        XCTAssertEqual(blocks(130, 40), ["BLOCKXSIZE=144", "BLOCKYSIZE=48"])
        XCTAssertEqual(blocks(600, 520), ["BLOCKXSIZE=512", "BLOCKYSIZE=512"])
    }

    /// A real full disk (a 64 KiB tmpfs; root only, else skipped) under a COG of incompressible bytes:
    /// GDAL reports the failure only when it flushes; the error names the file, quotes GDAL and says
    /// the disk is full, and neither the final name nor any partial file is left.
    func testAFullDiskIsAClearErrorAndLeavesNoFile() throws {
        let dir = makeTempDirectory("gr-full")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        if let why = mountTmpfs(at: dir, kib: 64) { throw XCTSkip(why) }
        defer { unmountTmpfs(dir) }
        let path = dir + "/noise.tif"
        var generator = SystemRandomNumberGenerator()
        let values = (0..<(600 * 520)).map { _ in UInt8.random(in: 0...254, using: &generator) }
        let error: Error? = {
            do {
                let w = try RasterWriter(path: path, width: 600, height: 520, bandCount: 1, dataType: .uint8, options: .cog)
                try w.write(band: 1, window: RasterWindow(column: 0, row: 0, width: 600, height: 520), values: values)
                try w.finish()
                return nil
            } catch { return error }
        }()
        let e = try XCTUnwrap(error as? GeoRasterError, "a 300 KiB raster cannot fit on a 64 KiB disk")
        XCTAssertEqual(e.code, .write)
        XCTAssertEqual(e.path, path)
        XCTAssertTrue(e.description.contains("No space left on device"), e.description)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "no final name, no partial file")
    }
}
