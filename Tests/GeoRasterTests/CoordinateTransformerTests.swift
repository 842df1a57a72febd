import XCTest
@testable import GeoRaster

final class CoordinateTransformerTests: XCTestCase {
    func testUTM16NAgreesWithGdaltransform() throws {
        let crs = try CoordinateReferenceSystem(epsg: 32616)
        let t = try CoordinateTransformer(from: crs)
        let (x, y) = (461880.0, 3399600.0)
        let ours = try t.lonLat(x: x, y: y)
        let ref = try gdaltransform("EPSG:32616", x, y)
        XCTAssertEqual(ours.lon, ref.lon, accuracy: 1e-9)
        XCTAssertEqual(ours.lat, ref.lat, accuracy: 1e-9)
        XCTAssertEqual(ours.lat, 30.73, accuracy: 0.01)   // data/README: centre about 30.73 N, 87.40 W
        XCTAssertEqual(ours.lon, -87.40, accuracy: 0.01)
    }

    func testInverseReturnsToMapCoordinates() throws {
        let t = try CoordinateTransformer(from: try CoordinateReferenceSystem(epsg: 32616))
        let p = try t.lonLat(x: 461880, y: 3399600)
        let back = try t.xy(lon: p.lon, lat: p.lat)
        XCTAssertEqual(back.x, 461880, accuracy: 1e-6)
        XCTAssertEqual(back.y, 3399600, accuracy: 1e-6)
    }

    func testNorthZoneWithNegativeNorthingIsSouthOfEquator() throws {
        let t = try CoordinateTransformer(from: try CoordinateReferenceSystem(epsg: 32618))
        let ours = try t.lonLat(x: 600000, y: -250000)
        let ref = try gdaltransform("EPSG:32618", 600000, -250000)
        XCTAssertLessThan(ours.lat, 0)
        XCTAssertEqual(ours.lat, ref.lat, accuracy: 1e-9)
        XCTAssertEqual(ours.lon, ref.lon, accuracy: 1e-9)
    }

    func testPolarStereographicSceneCornersMatchGdal() throws {
        let ds = try RasterDataset(path: scenePath(antarctic, "SR_B1.TIF"))
        let crs = try XCTUnwrap(try ds.crs())
        let gt = try XCTUnwrap(ds.geoTransform)
        let t = try CoordinateTransformer(from: crs)
        for (c, r) in [(0, 0), (ds.width, ds.height), (ds.width / 2, ds.height / 2)] {
            let p = gt.apply(column: Double(c), row: Double(r))
            let ours = try t.lonLat(x: p.x, y: p.y)
            let ref = try gdaltransform(crs.wkt2, p.x, p.y)
            XCTAssertEqual(ours.lat, ref.lat, accuracy: 1e-9)
            XCTAssertEqual(ours.lon, ref.lon, accuracy: 1e-9)
            XCTAssertTrue((-83.5)...(-79.5) ~= ours.lat, "\(ours)")
        }
    }

    func testNationalGridWithDatumShift() throws {
        // British National Grid (OSGB36): a datum shift, easting/northing axes.
        let t = try CoordinateTransformer(from: try CoordinateReferenceSystem(epsg: 27700))
        let ours = try t.lonLat(x: 530000, y: 180000)
        let ref = try gdaltransform("EPSG:27700", 530000, 180000)
        XCTAssertEqual(ours.lat, ref.lat, accuracy: 1e-6)
        XCTAssertEqual(ours.lon, ref.lon, accuracy: 1e-6)
        XCTAssertEqual(ours.lat, 51.5, accuracy: 0.1)  // London
    }

    func testGeographicSourceKeepsLonLatOrder() throws {
        let t = try CoordinateTransformer(from: try CoordinateReferenceSystem(epsg: 4326))
        let p = try t.lonLat(x: -87.4, y: 30.7)
        XCTAssertEqual(p.lon, -87.4, accuracy: 1e-12)
        XCTAssertEqual(p.lat, 30.7, accuracy: 1e-12)
    }

    func testLongitudeWrapping() {
        XCTAssertEqual(CoordinateTransformer.wrapLongitude(190), -170, accuracy: 1e-12)
        XCTAssertEqual(CoordinateTransformer.wrapLongitude(-181), 179, accuracy: 1e-12)
        XCTAssertEqual(CoordinateTransformer.wrapLongitude(180), 180)
    }

    func testBadCRSCarriesGDALMessage() {
        XCTAssertThrowsError(try CoordinateReferenceSystem(definition: "NOT A CRS")) { e in
            XCTAssertEqual((e as? GeoRasterError)?.code, .crs)
        }
        XCTAssertThrowsError(try CoordinateReferenceSystem(epsg: 999_999)) { e in
            XCTAssertEqual((e as? GeoRasterError)?.code, .crs)
            // GDAL relays PROJ's "crs not found" through its error handler.
            XCTAssertTrue((e as? GeoRasterError)?.libraryMessages.joined().contains("not found") ?? false, "\(e)")
        }
    }

    func testPointOutsideDomainCarriesPROJMessage() throws {
        let t = try CoordinateTransformer(from: try CoordinateReferenceSystem(epsg: 32616))
        XCTAssertThrowsError(try t.lonLat(x: 1e30, y: 1e30)) { e in
            XCTAssertEqual((e as? GeoRasterError)?.code, .transform)
            XCTAssertTrue((e as? GeoRasterError)?.libraryMessages.joined().contains("outside") ?? false, "PROJ's message: \(e)")
        }
    }
}
