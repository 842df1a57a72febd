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
