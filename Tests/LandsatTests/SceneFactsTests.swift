import Foundation
import XCTest
import Landsat

/// Typed scene facts: enums for spacecraft, sensor, collection and processing level; the acquisition
/// time kept to the recorded fraction digits, as a `Date` at STAC's millisecond resolution.
final class SceneFactsTests: XCTestCase {
    func testFactsOfACollection2Level2Scene() throws {
        let id = "LC08_L2SP_008059_20191201_20200825_02_T1"
        let mtl = SharedData.scenesFolder.appendingPathComponent("\(id)/\(id)_MTL.txt")
        let facts = SceneFacts(metadata: try LandsatMetadata(contentsOf: mtl))
        XCTAssertEqual(facts.id, id)
        XCTAssertEqual(facts.spacecraft, .landsat(8))
        XCTAssertEqual(facts.sensor, .oliTirs)
        XCTAssertEqual(facts.collection, .collection2)
        XCTAssertEqual(facts.processingLevel, .l2sp)
        // SCENE_CENTER_TIME 15:13:51.8610990Z, kept to two digits (truncated), Date to the millisecond.
        XCTAssertEqual(facts.acquisition.iso8601, "2019-12-01T15:13:51.86Z")
        XCTAssertEqual(facts.acquired, Date(timeIntervalSince1970: 1_575_213_231.86))
        XCTAssertEqual(facts.spacecraft.stacPlatform, "landsat-8")
        XCTAssertEqual(facts.sensor.stacInstruments, ["oli", "tirs"])
    }

    func testMTLSpellingsRoundTrip() {
        for text in ["LANDSAT_8", "LANDSAT_9", "LANDSAT_5"] { XCTAssertEqual(LandsatSpacecraft(mtlValue: text).mtlName, text) }
        XCTAssertEqual(LandsatSpacecraft(mtlValue: "Landsat7"), .landsat(7))
        for text in ["L2SP", "L2SR", "L1TP", "L1GT", "L1GS", "L1T", "L1G"] {
            XCTAssertEqual(LandsatProcessingLevel(mtlValue: text).mtlName, text)
        }
        XCTAssertTrue(LandsatProcessingLevel.l2sr.isLevel2)
        XCTAssertFalse(LandsatProcessingLevel.l1tp.isLevel2)
        XCTAssertEqual(AcquisitionTime(iso8601: "2015-08-04T16:19:21.79Z")?.iso8601, "2015-08-04T16:19:21.79Z")
        XCTAssertNil(AcquisitionTime(iso8601: "2015-08-04 16:19:21"))
    }
}
