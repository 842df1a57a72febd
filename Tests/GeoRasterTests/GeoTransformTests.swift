import XCTest
@testable import GeoRaster

final class GeoTransformTests: XCTestCase {
    func testOffsetMovesOriginAndKeepsRotation() {
        let t = GeoTransform(originX: 1000, pixelWidth: 30, rowRotation: 2, originY: 5000, columnRotation: -3, pixelHeight: -30)
        let o = t.offset(columns: 40, rows: 80)
        XCTAssertEqual(o.originX, 1000 + 40 * 30 + 80 * 2)
        XCTAssertEqual(o.originY, 5000 + 40 * -3 + 80 * -30)
        XCTAssertEqual([o.pixelWidth, o.rowRotation, o.columnRotation, o.pixelHeight], [30, 2, -3, -30])
        // The tile's pixel (c, r) is the scene's pixel (40 + c, 80 + r).
        let a = o.apply(column: 3.5, row: 7.25), b = t.apply(column: 43.5, row: 87.25)
        XCTAssertEqual(a.x, b.x, accuracy: 1e-9); XCTAssertEqual(a.y, b.y, accuracy: 1e-9)
    }

    func testCentreIsHalfTheFootprint() {
        let t = GeoTransform(originX: 452475, pixelWidth: 30, originY: 3408645, pixelHeight: -30)
        let c = t.centre(column: 40, row: 0, width: 40, height: 40)
        XCTAssertEqual(c.x, 452475 + 60 * 30)
        XCTAssertEqual(c.y, 3408645 - 20 * 30)
    }

    func testInverseRoundTrips() throws {
        let t = GeoTransform(originX: 10, pixelWidth: 2, rowRotation: 0.5, originY: 20, columnRotation: 0.25, pixelHeight: -3)
        let inv = try XCTUnwrap(t.inverse)
        let p = t.apply(column: 12.5, row: -4)
        let back = inv.apply(column: p.x, row: p.y)
        XCTAssertEqual(back.x, 12.5, accuracy: 1e-12); XCTAssertEqual(back.y, -4, accuracy: 1e-12)
        XCTAssertNil(GeoTransform(originX: 0, pixelWidth: 0, originY: 0, pixelHeight: 0).inverse)
        XCTAssertTrue(t.isClose(to: t.offset(columns: 0, rows: 0)))
        XCTAssertFalse(t.isClose(to: t.offset(columns: 1, rows: 0)))
    }
}
