import Foundation
import XCTest
@testable import Landsat

/// Every real MTL file parses, and its typed values equal the values written in the file text.
final class MTLParsingTests: XCTestCase {
    func testEveryRealMTLFileParsesToTheValuesWrittenInIt() throws {
        let files = try SharedData.allMTLFiles()
        XCTAssertGreaterThanOrEqual(files.count, 31, "expected the shared MTL files")
        for file in files {
            let name = file.lastPathComponent
            let text = try SharedData.text(file)
            let m: LandsatMetadata
            do { m = try LandsatMetadata(contentsOf: file) } catch {
                XCTFail("\(name): \(error)")
                continue
            }
            XCTAssertEqual(m.source, file.path)

            // Identity.
            let productID = SharedData.value("LANDSAT_PRODUCT_ID", in: text) ?? SharedData.value("LANDSAT_SCENE_ID", in: text)
            XCTAssertEqual(m.productID, productID, name)
            XCTAssertTrue(name.hasPrefix(m.productID + "_MTL."), "\(name): product id \(m.productID)")
            let level = SharedData.value("PROCESSING_LEVEL", in: text) ?? SharedData.value("DATA_TYPE", in: text)
            XCTAssertEqual(m.processingLevel, level, name)
            let craft = try XCTUnwrap(SharedData.value("SPACECRAFT_ID", in: text), name)
            XCTAssertEqual(m.spacecraft, craft, name)
            XCTAssertEqual(m.landsatNumber, Int(craft.dropFirst("LANDSAT_".count)), name)
            XCTAssertEqual(m.sensor.mtlName, SharedData.value("SENSOR_ID", in: text), name)
            if let number = SharedData.value("COLLECTION_NUMBER", in: text) {
                XCTAssertEqual(m.collection, number == "02" ? .collection2 : .collection1, name)
            } else {
                XCTAssertEqual(m.collection, .preCollection, name)
            }

            // Acquisition time, from the raw text.
            let date = try XCTUnwrap(SharedData.value("DATE_ACQUIRED", in: text), name)
            let time = try XCTUnwrap(SharedData.value("SCENE_CENTER_TIME", in: text), name)
            let d = date.split(separator: "-").compactMap { Int($0) }
            XCTAssertEqual([m.acquisition.year, m.acquisition.month, m.acquisition.day], d, name)
            let t = try XCTUnwrap(SharedData.firstMatch(#"^(\d\d:\d\d:\d\d\.\d+)Z$"#, in: time), "\(name): time '\(time)'")
            let hms = t.split(separator: ":")
            let seconds = try XCTUnwrap(Double(hms[2]))
            XCTAssertEqual(m.acquisition.hour, Int(hms[0]), name)
            XCTAssertEqual(m.acquisition.minute, Int(hms[1]), name)
            XCTAssertEqual(m.acquisition.second, Int(seconds), name)
            XCTAssertEqual(m.acquisition.fractionDigits, String(hms[2].split(separator: ".")[1]), name)
            XCTAssertEqual(m.acquisition.iso8601, "\(date)T\(t)Z", name)
            let expectedHour = Double(hms[0])! + Double(hms[1])! / 60 + seconds / 3600
            XCTAssertEqual(m.acquisition.hourOfDay, expectedHour, accuracy: 1e-12, name)

            // The product's own files: the first FILE_NAME_* of the file is the product group's.
            let product = SharedData.section("PRODUCT_CONTENTS", in: text) ?? SharedData.section("PRODUCT_METADATA", in: text)
            let productText = try XCTUnwrap(product, name)
            let listed = SharedData.allMatches(#"(?m)^\s*FILE_NAME_BAND_([0-9A-Z_]+) = "([^"]+)""#, in: productText)
                + SharedData.allMatches(#"<FILE_NAME_BAND_([0-9A-Z_]+)>"#, in: productText)
                + SharedData.allMatches(#""FILE_NAME_BAND_([0-9A-Z_]+)":"#, in: productText)
            XCTAssertFalse(listed.isEmpty, name)
            for designation in listed where designation != "QUALITY" {
                let file = SharedData.value("FILE_NAME_BAND_\(designation)", in: productText)
                XCTAssertEqual(m.bandFileNames[designation], file, "\(name) band \(designation)")
                XCTAssertTrue(file?.hasPrefix(m.productID) ?? false, "\(name): \(file ?? "nil") belongs to another product")
            }
            XCTAssertEqual(m.bandFileNames.count, listed.filter { $0 != "QUALITY" }.count, name)
            let qa = SharedData.value("FILE_NAME_QUALITY_L1_PIXEL", in: productText) ?? SharedData.value("FILE_NAME_BAND_QUALITY", in: productText)
            XCTAssertEqual(m.qaFileName, qa, name)
            XCTAssertEqual(m.qaKind, m.collection == .collection2 ? .qaPixel : .bqa, name)

            // Surface reflectance scaling from the Level-2 group only.
            if let l2 = SharedData.section("LEVEL2_SURFACE_REFLECTANCE_PARAMETERS", in: text) {
                XCTAssertTrue(m.isLevel2, name)
                let bands = SharedData.allMatches(#"REFLECTANCE_MULT_BAND_(\d+)"#, in: l2)
                XCTAssertFalse(bands.isEmpty, name)
                for b in Set(bands) {
                    let n = try XCTUnwrap(Int(b))
                    let mult = try XCTUnwrap(SharedData.value("REFLECTANCE_MULT_BAND_\(n)", in: l2).flatMap(Double.init))
                    let add = try XCTUnwrap(SharedData.value("REFLECTANCE_ADD_BAND_\(n)", in: l2).flatMap(Double.init))
                    XCTAssertEqual(m.surfaceReflectanceScaling[n], LinearScaling(mult: mult, add: add), "\(name) band \(n)")
                }
                XCTAssertEqual(m.surfaceReflectanceScaling.count, Set(bands).count, name)
            } else {
                XCTAssertTrue(m.surfaceReflectanceScaling.isEmpty, name)
            }

            // Projection and corners.
            let projection = try XCTUnwrap(m.projection, name)
            XCTAssertEqual(projection.name, SharedData.value("MAP_PROJECTION", in: text), name)
            XCTAssertEqual(projection.datum, SharedData.value("DATUM", in: text), name)
            XCTAssertEqual(projection.utmZone, SharedData.value("UTM_ZONE", in: text).flatMap { Int($0) }, name)
            XCTAssertEqual(projection.trueScaleLatitude, SharedData.value("TRUE_SCALE_LAT", in: text).flatMap(Double.init), name)
            let corners = try XCTUnwrap(m.corners, name)
            for (label, point) in zip(["UL", "UR", "LL", "LR"], corners.all) {
                XCTAssertEqual(point.latitude, SharedData.value("CORNER_\(label)_LAT_PRODUCT", in: text).flatMap(Double.init), "\(name) \(label)")
                XCTAssertEqual(point.longitude, SharedData.value("CORNER_\(label)_LON_PRODUCT", in: text).flatMap(Double.init), "\(name) \(label)")
            }
        }
    }

    /// The three encodings of one product hold exactly the same values under the same group paths,
    /// and give the same typed metadata.
    func testTextJSONAndXMLOfTheSameProductAgree() throws {
        let groups = Dictionary(grouping: try SharedData.allMTLFiles()) { $0.lastPathComponent.components(separatedBy: "_MTL.")[0] }
        var compared = 0
        for (product, files) in groups.sorted(by: { $0.key < $1.key }) where files.count > 1 {
            let documents = try files.map { try MTLDocument(contentsOf: $0) }
            let reference = documents[0]
            let referenceValues = Dictionary(reference.entries.map { ($0.path, $0.value) }, uniquingKeysWith: { a, _ in a })
            XCTAssertEqual(referenceValues.count, reference.entries.count, "\(product): duplicate paths")
            for other in documents.dropFirst() {
                let values = Dictionary(other.entries.map { ($0.path, $0.value) }, uniquingKeysWith: { a, _ in a })
                XCTAssertEqual(values, referenceValues, "\(product): \(reference.format) vs \(other.format)")
                compared += 1
            }
            let typed = try documents.map { try LandsatMetadata(document: $0) }
            for m in typed.dropFirst() {
                XCTAssertEqual(m.productID, typed[0].productID)
                XCTAssertEqual(m.acquisition, typed[0].acquisition)
                XCTAssertEqual(m.bandFileNames, typed[0].bandFileNames)
                XCTAssertEqual(m.fileNames, typed[0].fileNames)
                XCTAssertEqual(m.surfaceReflectanceScaling, typed[0].surfaceReflectanceScaling)
                XCTAssertEqual(m.toaReflectanceScaling, typed[0].toaReflectanceScaling)
                XCTAssertEqual(m.projection, typed[0].projection)
                XCTAssertEqual(m.corners, typed[0].corners)
            }
        }
        XCTAssertGreaterThanOrEqual(compared, 11, "4 scenes × 2 + 3 mtl pairs")
    }

    /// `REFLECTANCE_MULT_BAND_1` sits in both the Level-1 and Level-2 groups of an L2 file with different
    /// values; surface reflectance scaling must come from the Level-2 group.
    func testSurfaceReflectanceScalingComesFromTheLevel2Group() throws {
        let scene = SharedData.scenesFolder.appendingPathComponent("LC08_L2SP_008059_20191201_20200825_02_T1")
        for ext in ["txt", "json", "xml"] {
            let url = scene.appendingPathComponent("LC08_L2SP_008059_20191201_20200825_02_T1_MTL.\(ext)")
            let doc = try MTLDocument(contentsOf: url)
            let l1 = doc.value(at: "LANDSAT_METADATA_FILE/LEVEL1_RADIOMETRIC_RESCALING/REFLECTANCE_MULT_BAND_1")
            let l2 = doc.value(at: "LANDSAT_METADATA_FILE/LEVEL2_SURFACE_REFLECTANCE_PARAMETERS/REFLECTANCE_MULT_BAND_1")
            XCTAssertNotNil(l1, ext)
            XCTAssertNotEqual(l1.flatMap(Double.init), l2.flatMap(Double.init), "the two groups must differ for this test to mean anything")
            let m = try LandsatMetadata(document: doc)
            for band in 1...7 {
                XCTAssertEqual(m.surfaceReflectanceScaling[band], LinearScaling(mult: 2.75e-05, add: -0.2), "\(ext) band \(band)")
                XCTAssertEqual(m.toaReflectanceScaling[band]?.mult, 2.0e-05, "\(ext) band \(band)")
            }
            XCTAssertEqual(m.surfaceReflectanceScaling[1]?.apply(10_000) ?? .nan, 0.075, accuracy: 1e-12)
            // The product's files, not those of the Level-1 product it was made from.
            XCTAssertEqual(m.bandFileNames["1"], "LC08_L2SP_008059_20191201_20200825_02_T1_SR_B1.TIF")
            XCTAssertEqual(doc.value(at: "LANDSAT_METADATA_FILE/LEVEL1_PROCESSING_RECORD/FILE_NAME_BAND_1"),
                           "LC08_L1TP_008059_20191201_20200825_02_T1_B1.TIF")
            XCTAssertEqual(m.sceneID, "LC80080592019335LGN00")
        }
    }

    func testPreCollectionFileWithOldGroupNames() throws {
        let url = SharedData.scenesFolder.appendingPathComponent("LC80200392015216LGN00/LC80200392015216LGN00_MTL.txt")
        let m = try LandsatMetadata(contentsOf: url)
        XCTAssertEqual(m.collection, .preCollection)
        XCTAssertEqual(m.productID, "LC80200392015216LGN00")
        XCTAssertEqual(m.processingLevel, "L1T")
        XCTAssertEqual(m.sensor, .oliTirs)
        XCTAssertEqual(m.acquisition.iso8601, "2015-08-04T16:19:21.7917421Z")
        XCTAssertEqual(m.acquisition.iso8601(fractionDigits: 2), "2015-08-04T16:19:21.79Z")
        XCTAssertEqual(m.acquisition.isoWeek, 32)
        XCTAssertEqual(m.acquisition.hourOfDay, 16.3227, accuracy: 5e-5)
        XCTAssertEqual(m.projection?.utmZone, 16)
        XCTAssertEqual(m.qaKind, .bqa)
        XCTAssertEqual(m.qaFileName, "LC80200392015216LGN00_BQA.TIF")
        XCTAssertEqual(m.bandFileNames["8"], "LC80200392015216LGN00_B8.TIF")
        XCTAssertTrue(m.surfaceReflectanceScaling.isEmpty)
        XCTAssertEqual(m.toaReflectanceScaling[4], LinearScaling(mult: 2.0e-05, add: -0.1))
    }

    func testPolarStereographicProjectionHasNoZone() throws {
        let url = SharedData.scenesFolder.appendingPathComponent("LC08_L2SR_099120_20191129_20201016_02_T2/LC08_L2SR_099120_20191129_20201016_02_T2_MTL.json")
        let m = try LandsatMetadata(contentsOf: url)
        let p = try XCTUnwrap(m.projection)
        XCTAssertTrue(p.isPolarStereographic)
        XCTAssertNil(p.utmZone)
        XCTAssertEqual(p.trueScaleLatitude, -71)
        XCTAssertEqual(p.verticalLongitudeFromPole, 0)
        XCTAssertEqual(p.falseEasting, 0)
        let lats = try XCTUnwrap(m.corners).all.map(\.latitude)
        XCTAssertTrue(lats.allSatisfy { $0 > -83.5 && $0 < -79.5 }, "\(lats)")
    }

    /// The oldest ODL layout (before 2012): PRODUCT_TYPE, ACQUISITION_DATE, SCENE_CENTER_SCAN_TIME (unquoted),
    /// BANDn_FILE_NAME, PRODUCT_UL_CORNER_LAT, UTM zone in UTM_PARAMETERS/ZONE_NUMBER, no product or scene id.
    func testOldestPreCollectionLayout() throws {
        let folder = try TemporaryFolder()
        let url = try folder.write("L71092085_08520100315_MTL.txt", """
        GROUP = L1_METADATA_FILE
          GROUP = METADATA_FILE_INFO
            ORIGIN = "Image courtesy of the U.S. Geological Survey"
            PRODUCT_CREATION_TIME = 2011-10-25T05:14:51Z
          END_GROUP = METADATA_FILE_INFO
          GROUP = PRODUCT_METADATA
            PRODUCT_TYPE = "L1T"
            SPACECRAFT_ID = "Landsat7"
            SENSOR_ID = "ETM+"
            ACQUISITION_DATE = 2010-03-15
            SCENE_CENTER_SCAN_TIME = 23:55:11.6634891Z
            WRS_PATH = 92
            STARTING_ROW = 85
            PRODUCT_UL_CORNER_LAT = -35.0700000
            PRODUCT_UL_CORNER_LON = 144.8700000
            PRODUCT_UR_CORNER_LAT = -35.0700000
            PRODUCT_UR_CORNER_LON = 147.5900000
            PRODUCT_LL_CORNER_LAT = -37.0000000
            PRODUCT_LL_CORNER_LON = 144.8700000
            PRODUCT_LR_CORNER_LAT = -37.0000000
            PRODUCT_LR_CORNER_LON = 147.5900000
            BAND1_FILE_NAME = "L71092085_08520100315_B10.TIF"
            BAND2_FILE_NAME = "L71092085_08520100315_B20.TIF"
            BAND61_FILE_NAME = "L71092085_08520100315_B61.TIF"
            BAND_COMBINATION = "123456678"
          END_GROUP = PRODUCT_METADATA
          GROUP = PROJECTION_PARAMETERS
            REFERENCE_DATUM = "WGS84"
            REFERENCE_ELLIPSOID = "WGS84"
            GRID_CELL_SIZE_REF = 30.000
            ORIENTATION = "NUP"
            MAP_PROJECTION = "UTM"
          END_GROUP = PROJECTION_PARAMETERS
          GROUP = UTM_PARAMETERS
            ZONE_NUMBER = 55
          END_GROUP = UTM_PARAMETERS
        END_GROUP = L1_METADATA_FILE
        END
        """)
        let m = try LandsatMetadata(contentsOf: url)
        XCTAssertEqual(m.productID, "L71092085_08520100315")
        XCTAssertNil(m.sceneID)
        XCTAssertEqual(m.collection, .preCollection)
        XCTAssertEqual(m.processingLevel, "L1T")
        XCTAssertEqual(m.spacecraft, "LANDSAT_7")
        XCTAssertEqual(m.sensor, .etm)
        XCTAssertEqual(m.acquisition.iso8601, "2010-03-15T23:55:11.6634891Z")
        XCTAssertEqual(m.wrsPath, 92)
        XCTAssertEqual(m.wrsRow, 85)
        XCTAssertEqual(m.bandFileNames, ["1": "L71092085_08520100315_B10.TIF", "2": "L71092085_08520100315_B20.TIF",
                                         "61": "L71092085_08520100315_B61.TIF"])
        XCTAssertEqual(m.projection?.utmZone, 55)
        XCTAssertEqual(m.projection?.datum, "WGS84")
        XCTAssertEqual(m.projection?.reflectiveCellSize, 30)
        XCTAssertEqual(m.corners?.lowerRight, GeographicPoint(latitude: -37, longitude: 147.59))
    }

    /// A Collection 1 Level-1 layout: L1_METADATA_FILE with LANDSAT_PRODUCT_ID and COLLECTION_NUMBER = 01.
    func testCollection1Layout() throws {
        let doc = try MTLDocument(data: Data("""
        GROUP = L1_METADATA_FILE
          GROUP = METADATA_FILE_INFO
            LANDSAT_SCENE_ID = "LC80200392017221LGN00"
            LANDSAT_PRODUCT_ID = "LC08_L1TP_020039_20170809_20170824_01_T1"
            COLLECTION_NUMBER = 01
          END_GROUP = METADATA_FILE_INFO
          GROUP = PRODUCT_METADATA
            DATA_TYPE = "L1TP"
            COLLECTION_CATEGORY = "T1"
            SPACECRAFT_ID = "LANDSAT_8"
            SENSOR_ID = "OLI_TIRS"
            DATE_ACQUIRED = 2017-08-09
            SCENE_CENTER_TIME = "16:19:46.9432740Z"
            FILE_NAME_BAND_1 = "LC08_L1TP_020039_20170809_20170824_01_T1_B1.TIF"
            FILE_NAME_BAND_QUALITY = "LC08_L1TP_020039_20170809_20170824_01_T1_BQA.TIF"
          END_GROUP = PRODUCT_METADATA
        END_GROUP = L1_METADATA_FILE
        END
        """.utf8), path: "c1_MTL.txt")
        let m = try LandsatMetadata(document: doc)
        XCTAssertEqual(m.collection, .collection1)
        XCTAssertEqual(m.collectionCategory, "T1")
        XCTAssertEqual(m.productID, "LC08_L1TP_020039_20170809_20170824_01_T1")
        XCTAssertEqual(m.sceneID, "LC80200392017221LGN00")
        XCTAssertEqual(m.processingLevel, "L1TP")
        XCTAssertEqual(m.qaKind, .bqa)
        XCTAssertEqual(m.bandFileNames, ["1": "LC08_L1TP_020039_20170809_20170824_01_T1_B1.TIF"])
        XCTAssertNil(m.projection)
    }

    /// USGS pads some MTL files with NUL bytes; they are ignored in every encoding.
    func testNULPaddingIsIgnored() throws {
        let scene = SharedData.scenesFolder.appendingPathComponent("LC08_L2SP_005009_20150710_20200908_02_T2")
        let folder = try TemporaryFolder()
        for ext in ["txt", "json", "xml"] {
            let original = scene.appendingPathComponent("LC08_L2SP_005009_20150710_20200908_02_T2_MTL.\(ext)")
            var data = try Data(contentsOf: original)
            data.append(Data(repeating: 0, count: 4096))
            let padded = try folder.write("padded_MTL.\(ext)", data)
            let a = try MTLDocument(contentsOf: original)
            let b = try MTLDocument(contentsOf: padded)
            XCTAssertEqual(a.entries, b.entries, ext)
            XCTAssertEqual(try LandsatMetadata(contentsOf: padded).acquisition, try LandsatMetadata(contentsOf: original).acquisition)
        }
        // Padding before the first group too (seen in files written by fixed-size record tools).
        let odl = Data(repeating: 0, count: 16) + (try Data(contentsOf: scene.appendingPathComponent("LC08_L2SP_005009_20150710_20200908_02_T2_MTL.txt")))
        XCTAssertEqual(try LandsatMetadata(document: MTLDocument(data: odl, path: "x_MTL.txt")).productID,
                       "LC08_L2SP_005009_20150710_20200908_02_T2")
    }

    /// USGS writes every JSON value as a string; JSON numbers written by other tools are read too.
    /// The parsers trim with their own scalar-wise helper instead of Foundation's (bridging through
    /// NSString made reading an MTL file cost ~4 ms); it must trim exactly what Foundation trims.
    func testWhitespaceTrimmingMatchesFoundation() {
        let samples = ["", " ", "\t\t", "a", " a ", "\tKEY = \"v\" \t", "\u{00A0}x\u{3000}", "\u{2003} y \u{202F}",
                       "\n z \r\n", "\u{0085}w\u{2028}", "\u{2029}\u{000B}\u{000C}", "é ", " \u{301}a", "a b  c",
                       "\u{1680}ogham", "zero\u{200B}", "\u{FEFF}bom", "\u{0}x\u{0}", "🙂 ", "\r"]
        for sample in samples {
            XCTAssertEqual(sample.trimmingWhitespace(), sample.trimmingCharacters(in: .whitespaces), sample.debugDescription)
            XCTAssertEqual(sample.trimmingWhitespaceAndNewlines(), sample.trimmingCharacters(in: .whitespacesAndNewlines),
                           sample.debugDescription)
            let sub = ("<" + sample + ">").dropFirst().dropLast()
            XCTAssertEqual(sub.trimmingWhitespace(), sample.trimmingCharacters(in: .whitespaces), sample.debugDescription)
        }
    }

    /// ODL lines end at `\n`, `\r\n` or `\r`, split byte-wise as the characters would split them; a file
    /// that is not UTF-8 is read as ISO 8859-1.
    func testODLLineEndsAndLatin1() throws {
        let text = "GROUP = L1_METADATA_FILE\r\nGROUP = A\rK = \"é\"\n\nEND_GROUP = A\r\n\r\nEND_GROUP = L1_METADATA_FILE\nEND\n"
        XCTAssertEqual(ODLParser.splitLines(text), text.split(omittingEmptySubsequences: false,
                                                              whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }))
        XCTAssertEqual(try MTLDocument(data: Data(text.utf8), path: "x_MTL.txt").value(at: "L1_METADATA_FILE/A/K"), "é")
        var latin1 = Data(text.utf8)
        latin1.replaceSubrange(latin1.range(of: Data("é".utf8))!, with: [0xE9])
        XCTAssertEqual(try MTLDocument(data: latin1, path: "x_MTL.txt").value(at: "L1_METADATA_FILE/A/K"), "é")
        XCTAssertThrowsError(try MTLDocument(data: Data("GROUP = A\r\nK = (1,\r\n".utf8), path: "x_MTL.txt")) { error in
            XCTAssertTrue("\(error)".contains("line 2"), "\(error)")
        }
    }

    func testJSONNumbersAsStringsOrNumbers() throws {
        let json = """
        {"LANDSAT_METADATA_FILE": {
          "PRODUCT_CONTENTS": {"LANDSAT_PRODUCT_ID": "LC08_L2SP_008059_20191201_20200825_02_T1", "PROCESSING_LEVEL": "L2SP",
                               "COLLECTION_NUMBER": 2, "FILE_NAME_BAND_1": "b1.TIF"},
          "IMAGE_ATTRIBUTES": {"SPACECRAFT_ID": "LANDSAT_8", "SENSOR_ID": "OLI_TIRS", "DATE_ACQUIRED": "2019-12-01",
                               "SCENE_CENTER_TIME": "15:13:51.8610990Z", "WRS_PATH": 8, "CLOUD_COVER": "81.02"},
          "PROJECTION_ATTRIBUTES": {"MAP_PROJECTION": "UTM", "UTM_ZONE": 18, "DATUM": "WGS84"},
          "LEVEL2_SURFACE_REFLECTANCE_PARAMETERS": {"REFLECTANCE_MULT_BAND_1": 2.75e-05, "REFLECTANCE_ADD_BAND_1": "-0.2"}
        }}
        """
        let m = try LandsatMetadata(document: MTLDocument(data: Data(json.utf8), path: "n_MTL.json"))
        XCTAssertEqual(m.collection, .collection2)
        XCTAssertEqual(m.wrsPath, 8)
        XCTAssertEqual(m.cloudCover, 81.02)
        XCTAssertEqual(m.projection?.utmZone, 18)
        XCTAssertEqual(m.surfaceReflectanceScaling[1], LinearScaling(mult: 2.75e-05, add: -0.2))
        XCTAssertEqual(m.acquisition.iso8601, "2019-12-01T15:13:51.8610990Z")
    }

    func testEncodingIsDetectedFromContentWhenTheExtensionSaysNothing() throws {
        let scene = SharedData.scenesFolder.appendingPathComponent("LC08_L2SP_017036_20130419_20200913_02_T2")
        for (ext, format) in [("txt", MTLDocument.Format.odl), ("json", .json), ("xml", .xml)] {
            let data = try Data(contentsOf: scene.appendingPathComponent("LC08_L2SP_017036_20130419_20200913_02_T2_MTL.\(ext)"))
            XCTAssertEqual(try MTLDocument(data: data, path: "MTL").format, format)
        }
    }

    func testQuotedAndUnquotedODLValues() throws {
        let doc = try MTLDocument(data: Data("""
        GROUP = LANDSAT_METADATA_FILE\r
          GROUP = IMAGE_ATTRIBUTES\r
            A = "quoted = with equals"\r
            B = 2019-12-01\r
            C = ("x", "y",
                 "z")\r
            D = "a multi
        line string"
          END_GROUP = IMAGE_ATTRIBUTES\r
        END_GROUP = LANDSAT_METADATA_FILE\r
        END\r
        """.utf8), path: "q_MTL.txt")
        XCTAssertEqual(doc.value("A", inGroup: "LANDSAT_METADATA_FILE/IMAGE_ATTRIBUTES"), "quoted = with equals")
        XCTAssertEqual(doc.value("B", inGroup: "LANDSAT_METADATA_FILE/IMAGE_ATTRIBUTES"), "2019-12-01")
        XCTAssertEqual(doc.value("C", inGroup: "LANDSAT_METADATA_FILE/IMAGE_ATTRIBUTES"), #"("x", "y","z")"#)
        XCTAssertEqual(doc.value("D", inGroup: "LANDSAT_METADATA_FILE/IMAGE_ATTRIBUTES"), "a multi line string")
        XCTAssertEqual(doc.topLevelGroups, ["IMAGE_ATTRIBUTES"])
    }

    /// Bad files give a clear error that names the file, never a crash.
    func testMalformedAndEmptyFilesGiveErrorsNamingTheFile() throws {
        let folder = try TemporaryFolder()
        let realTXT = try SharedData.text(SharedData.scenesFolder.appendingPathComponent("LC08_L2SP_008059_20191201_20200825_02_T1/LC08_L2SP_008059_20191201_20200825_02_T1_MTL.txt"))
        let realXML = try SharedData.text(SharedData.scenesFolder.appendingPathComponent("LC08_L2SP_008059_20191201_20200825_02_T1/LC08_L2SP_008059_20191201_20200825_02_T1_MTL.xml"))
        let realJSON = try SharedData.text(SharedData.scenesFolder.appendingPathComponent("LC08_L2SP_008059_20191201_20200825_02_T1/LC08_L2SP_008059_20191201_20200825_02_T1_MTL.json"))
        let cases: [(String, Data, LandsatError.Code, String)] = [
            ("empty_MTL.txt", Data(), .empty, "empty"),
            ("nul_MTL.txt", Data(repeating: 0, count: 512), .empty, "NUL"),
            ("blank_MTL.json", Data("  \n".utf8), .empty, "empty"),
            ("truncated_MTL.txt", Data(realTXT.prefix(realTXT.count / 2).utf8), .malformed, "line "),
            ("cut_MTL.txt", Data(realTXT.components(separatedBy: "\n").prefix(100).joined(separator: "\n").utf8), .malformed, "still open"),
            ("garbage_MTL.txt", Data("GROUP = LANDSAT_METADATA_FILE\nthis is not odl\n".utf8), .malformed, "line 2"),
            ("mismatch_MTL.txt", Data("GROUP = A\n  GROUP = B\n    K = 1\n  END_GROUP = A\nEND_GROUP = A\nEND\n".utf8), .malformed, "closes group B"),
            ("truncated_MTL.xml", Data(realXML.prefix(realXML.count / 2).utf8), .malformed, "XML"),
            ("truncated_MTL.json", Data(realJSON.prefix(realJSON.count / 2).utf8), .malformed, "JSON"),
            ("array_MTL.json", Data("[1, 2]".utf8), .malformed, "object"),
            ("other_MTL.xml", Data("<SENTINEL><A><B>1</B></A></SENTINEL>".utf8), .notLandsatMetadata, "SENTINEL"),
            ("nodate_MTL.txt", Data(realTXT.replacingOccurrences(of: "DATE_ACQUIRED", with: "DATE_XXX").utf8), .missingKey, "DATE_ACQUIRED"),
            ("badtime_MTL.txt", Data(realTXT.replacingOccurrences(of: "15:13:51.8610990Z", with: "25:13:51.8610990Z").utf8), .invalidValue, "25:13:51"),
            ("badzone_MTL.txt", Data(realTXT.replacingOccurrences(of: "UTM_ZONE = 18", with: "UTM_ZONE = eighteen").utf8), .invalidValue, "UTM_ZONE"),
        ]
        for (name, data, code, fragment) in cases {
            let url = try folder.write(name, data)
            XCTAssertThrowsError(try LandsatMetadata(contentsOf: url), name) { error in
                guard let e = error as? LandsatError else { return XCTFail("\(name): \(error)") }
                XCTAssertEqual(e.code, code, "\(name): \(e)")
                XCTAssertEqual(e.path, url.path, name)
                XCTAssertTrue("\(e)".hasPrefix(url.path + ": "), "\(name): \(e)")
                XCTAssertTrue(e.message.contains(fragment), "\(name): '\(e.message)' should mention '\(fragment)'")
            }
        }
        XCTAssertThrowsError(try LandsatMetadata(contentsOf: folder.file("absent_MTL.txt"))) { error in
            XCTAssertEqual((error as? LandsatError)?.code, .unreadable)
            XCTAssertTrue("\(error)".contains("absent_MTL.txt"))
        }
    }
}
