import Foundation
import XCTest
@testable import Landsat

final class LandsatSceneTests: XCTestCase {
    /// Every shared scene opens from its folder; the band set is found through the MTL and exists.
    func testEverySharedSceneOpens() throws {
        let folders = try SharedData.sceneFolders()
        XCTAssertEqual(folders.count, 5)
        for folder in folders {
            let scene = try LandsatScene(path: folder.path)
            let name = folder.lastPathComponent
            XCTAssertEqual(scene.productID, name)
            XCTAssertEqual(scene.mtlFile.lastPathComponent, "\(name)_MTL.txt", "prefers the ODL text MTL")
            XCTAssertEqual(scene.bandFiles.count, scene.bandNames.count)
            for file in scene.bandFiles + [try XCTUnwrap(scene.qaFile)] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: file.path), file.path)
                XCTAssertEqual(file.deletingLastPathComponent().path, folder.standardizedFileURL.path)
            }
            // File names come from the MTL text, band by band.
            let text = try SharedData.text(scene.mtlFile)
            for band in scene.bandSet.bands {
                XCTAssertEqual(band.fileName, SharedData.value("FILE_NAME_BAND_\(band.designation)", in: text), "\(name) \(band.name)")
            }
        }
    }

    func testCollection2Level2ScenesAreModelReady() throws {
        for folder in try SharedData.sceneFolders() where folder.lastPathComponent.contains("_L2S") {
            let scene = try LandsatScene(path: folder.path)
            XCTAssertEqual(scene.bandNames, LandsatBandSet.modelBandNames)
            XCTAssertEqual(scene.bandFiles.map(\.lastPathComponent),
                           (1...7).map { "\(folder.lastPathComponent)_SR_B\($0).TIF" })
            XCTAssertEqual(scene.qaKind, .qaPixel)
            XCTAssertEqual(scene.qaFile?.lastPathComponent, "\(folder.lastPathComponent)_QA_PIXEL.TIF")
            XCTAssertEqual(scene.modelReadiness, .ready)
            XCTAssertNoThrow(try scene.requireModelReady(allowNonSR: false))
        }
    }

    /// The pre-collection Level-1 scene tiles with B1..B7 digital numbers and BQA; the 15 m panchromatic
    /// B8 and the cirrus/thermal bands are not in the set; the model refuses it unless overridden.
    func testPreCollectionLevel1SceneNeedsTheOverrideFlag() throws {
        let folder = SharedData.scenesFolder.appendingPathComponent("LC80200392015216LGN00")
        let scene = try LandsatScene(path: folder.path)
        XCTAssertEqual(scene.bandNames, ["B1", "B2", "B3", "B4", "B5", "B6", "B7"])
        XCTAssertFalse(scene.bandFiles.contains { $0.lastPathComponent.hasSuffix("_B8.TIF") })
        XCTAssertEqual(scene.qaKind, .bqa)
        XCTAssertEqual(scene.qaFile?.lastPathComponent, "LC80200392015216LGN00_BQA.TIF")
        XCTAssertEqual(scene.acquisition.isoWeek, 32)
        XCTAssertEqual(scene.acquisition.hourOfDay, 16.3227, accuracy: 5e-5)
        guard case .requiresOverride(let reason) = scene.modelReadiness else {
            return XCTFail("\(scene.modelReadiness)")
        }
        XCTAssertTrue(reason.contains("pre-collection"), reason)
        XCTAssertFalse(scene.modelReadiness.allowsModel(allowNonSR: false))
        XCTAssertTrue(scene.modelReadiness.allowsModel(allowNonSR: true))
        XCTAssertThrowsError(try scene.requireModelReady(allowNonSR: false)) { error in
            XCTAssertEqual((error as? LandsatError)?.code, .notModelReady)
            XCTAssertEqual((error as? LandsatError)?.settings, [.allowNonSR], "\(error)")
            XCTAssertTrue("\(error)".contains("LC80200392015216LGN00"), "\(error)")
        }
        XCTAssertNoThrow(try scene.requireModelReady(allowNonSR: true))
        XCTAssertEqual(scene.description, "LC80200392015216LGN00 (LANDSAT_8 OLI_TIRS L1T, pre-collection) acquired 2015-08-04T16:19:21.7917421Z, bands B1 B2 B3 B4 B5 B6 B7 + BQA, model: requires allow-non-sr: \(reason)")
    }

    func testSceneFromAnMTLPathInEachEncoding() throws {
        let folder = SharedData.scenesFolder.appendingPathComponent("LC08_L2SR_099120_20191129_20201016_02_T2")
        let reference = try LandsatScene(path: folder.path)
        for ext in ["txt", "json", "xml"] {
            let scene = try LandsatScene(path: folder.appendingPathComponent("LC08_L2SR_099120_20191129_20201016_02_T2_MTL.\(ext)").path)
            XCTAssertEqual(scene.metadata.format, MTLDocument.Format(fileExtension: ext))
            XCTAssertEqual(scene.bandFiles, reference.bandFiles)
            XCTAssertEqual(scene.qaFile, reference.qaFile)
            XCTAssertEqual(scene.acquisition, reference.acquisition)
            XCTAssertEqual(scene.modelReadiness, .ready)
        }
    }

    /// A folder without the text MTL falls back to JSON, then XML.
    func testFolderPrefersTextThenJSONThenXML() throws {
        let source = SharedData.scenesFolder.appendingPathComponent("LC08_L2SP_017036_20130419_20200913_02_T2")
        let id = source.lastPathComponent
        let tmp = try TemporaryFolder()
        for band in try SharedData.contents(source) where band.pathExtension == "TIF" {
            try FileManager.default.createSymbolicLink(at: tmp.file(band.lastPathComponent), withDestinationURL: band)
        }
        for ext in ["xml", "json"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent("\(id)_MTL.\(ext)"), to: tmp.file("\(id)_MTL.\(ext)"))
        }
        XCTAssertEqual(try LandsatScene(path: tmp.url.path).mtlFile.lastPathComponent, "\(id)_MTL.json")
        try FileManager.default.removeItem(at: tmp.file("\(id)_MTL.json"))
        XCTAssertEqual(try LandsatScene(path: tmp.url.path).mtlFile.lastPathComponent, "\(id)_MTL.xml")
    }

    func testMissingBandFileIsNamed() throws {
        let source = SharedData.scenesFolder.appendingPathComponent("LC08_L2SP_008059_20191201_20200825_02_T1")
        let id = source.lastPathComponent
        let tmp = try TemporaryFolder()
        try FileManager.default.copyItem(at: source.appendingPathComponent("\(id)_MTL.txt"), to: tmp.file("\(id)_MTL.txt"))
        for band in try SharedData.contents(source) where band.pathExtension == "TIF" && !band.lastPathComponent.hasSuffix("_SR_B5.TIF") {
            try FileManager.default.createSymbolicLink(at: tmp.file(band.lastPathComponent), withDestinationURL: band)
        }
        XCTAssertThrowsError(try LandsatScene(path: tmp.url.path)) { error in
            guard let e = error as? LandsatError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.code, .missingBandFile)
            XCTAssertEqual(e.path, tmp.file("\(id)_SR_B5.TIF").standardizedFileURL.path)
            XCTAssertTrue(e.message.contains("SR_B5") && e.message.contains("FILE_NAME_BAND_5") && e.message.contains("\(id)_MTL.txt"), e.message)
        }
        // Missing QA_PIXEL is named too.
        try FileManager.default.createSymbolicLink(at: tmp.file("\(id)_SR_B5.TIF"), withDestinationURL: source.appendingPathComponent("\(id)_SR_B5.TIF"))
        try FileManager.default.removeItem(at: tmp.file("\(id)_QA_PIXEL.TIF"))
        XCTAssertThrowsError(try LandsatScene(path: tmp.url.path)) { error in
            XCTAssertEqual((error as? LandsatError)?.code, .missingBandFile)
            XCTAssertTrue("\(error)".contains("\(id)_QA_PIXEL.TIF") && "\(error)".contains("QA_PIXEL"), "\(error)")
        }
        // The surface temperature files listed in the MTL are absent from the shared folder: not needed.
        try FileManager.default.createSymbolicLink(at: tmp.file("\(id)_QA_PIXEL.TIF"), withDestinationURL: source.appendingPathComponent("\(id)_QA_PIXEL.TIF"))
        XCTAssertEqual(try LandsatScene(path: tmp.url.path).modelReadiness, .ready)
    }

    func testFoldersWithoutOrWithSeveralMTLFiles() throws {
        let tmp = try TemporaryFolder()
        XCTAssertThrowsError(try LandsatScene(path: tmp.url.path)) { error in
            XCTAssertEqual((error as? LandsatError)?.code, .noMetadataFile)
            XCTAssertTrue("\(error)".contains(tmp.url.path) && "\(error)".contains("_MTL.txt"), "\(error)")
        }
        try tmp.write("A_MTL.txt", "x")
        try tmp.write("B_MTL.txt", "y")
        XCTAssertThrowsError(try LandsatScene(path: tmp.url.path)) { error in
            XCTAssertEqual((error as? LandsatError)?.code, .noMetadataFile)
            XCTAssertTrue("\(error)".contains("A_MTL.txt, B_MTL.txt"), "\(error)")
        }
        XCTAssertThrowsError(try LandsatScene(path: tmp.file("nope").path)) { error in
            XCTAssertEqual((error as? LandsatError)?.code, .unreadable)
        }
        let band = SharedData.scenesFolder.appendingPathComponent("LC80200392015216LGN00/LC80200392015216LGN00_B1.TIF")
        XCTAssertThrowsError(try LandsatScene(path: band.path)) { error in
            XCTAssertEqual((error as? LandsatError)?.code, .noMetadataFile)
            XCTAssertTrue("\(error)".contains("LC80200392015216LGN00_B1.TIF") && "\(error)".contains("_MTL.txt"), "\(error)")
        }
    }

    /// TM/ETM+ and MSS products are recognised and tiled with their own bands, but never fed to the
    /// model, with or without the override flag.
    func testOtherSensorsAreDescribedButIncompatible() throws {
        let cases: [(String, [String])] = [
            ("LT05_L2SR_087017_20090621_20200827_02_T2", ["SR_B1", "SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B7"]),
            ("LE07_L2SP_021030_20100109_20200911_02_T1", ["SR_B1", "SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B7"]),
            ("LM01_L1GS_001010_19720908_20200909_02_T2", ["B4", "B5", "B6", "B7"]),
        ]
        for (id, bands) in cases {
            let tmp = try TemporaryFolder()
            let mtl = SharedData.mtlFolder.appendingPathComponent("\(id)_MTL.xml")
            try FileManager.default.copyItem(at: mtl, to: tmp.file(mtl.lastPathComponent))
            let metadata = try LandsatMetadata(contentsOf: mtl)
            for name in metadata.bandFileNames.values + [try XCTUnwrap(metadata.qaFileName)] { try tmp.write(name, "") }
            let scene = try LandsatScene(path: tmp.url.path)
            XCTAssertEqual(scene.bandNames, bands, id)
            XCTAssertEqual(scene.qaKind, .qaPixel, id)
            guard case .incompatible(let reason) = scene.modelReadiness else { XCTFail("\(id): \(scene.modelReadiness)"); continue }
            XCTAssertTrue(reason.contains(metadata.sensor.mtlName), reason)
            XCTAssertThrowsError(try scene.requireModelReady(allowNonSR: true), id) { error in
                XCTAssertEqual((error as? LandsatError)?.code, .notModelReady)
                XCTAssertTrue("\(error)".contains("does not apply"), "\(error)")
            }
        }
    }

    /// A Collection 2 Level-1 OLI product (digital numbers) requires the override; derived from a real
    /// L2 MTL by keeping its Level-1 processing record as the product.
    func testCollection2Level1OLIRequiresOverride() throws {
        let tmp = try TemporaryFolder()
        let text = try SharedData.text(SharedData.mtlFolder.appendingPathComponent("LC09_L2SP_010065_20220129_20220131_02_T1_MTL.txt"))
            .replacingOccurrences(of: "PROCESSING_LEVEL = \"L2SP\"", with: "PROCESSING_LEVEL = \"L1TP\"")
            .replacingOccurrences(of: "_L2SP_", with: "_L1TP_")
            .replacingOccurrences(of: "_SR_B", with: "_B")
        let mtl = try tmp.write("LC09_L1TP_010065_20220129_20220131_02_T1_MTL.txt", text)
        let metadata = try LandsatMetadata(contentsOf: mtl)
        for name in metadata.bandFileNames.values + [try XCTUnwrap(metadata.qaFileName)] { try tmp.write(name, "") }
        let scene = try LandsatScene(path: mtl.path)
        XCTAssertEqual(scene.bandNames, (1...7).map { "B\($0)" })
        guard case .requiresOverride(let reason) = scene.modelReadiness else { return XCTFail("\(scene.modelReadiness)") }
        XCTAssertTrue(reason.contains("Level-1"), reason)
    }

    /// On real data, pixels whose QA_PIXEL has the fill bit are DN 0 in every SR band (the Greenland scene
    /// has fill outside its rotated footprint). Pixel values are read with `gdallocationinfo` (gdal-bin).
    func testFillBitMatchesZeroReflectanceOnARealScene() throws {
        let scene = try LandsatScene(path: SharedData.scenesFolder.appendingPathComponent("LC08_L2SP_005009_20150710_20200908_02_T2").path)
        let points = [(0, 0), (511, 0), (0, 511), (511, 511), (256, 256), (200, 300)]
        /// One process per file; the points go in on stdin, one `x y` per line.
        func values(_ file: URL) throws -> [UInt16] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["gdallocationinfo", "-valonly", file.path]
            let input = Pipe(), output = Pipe()
            p.standardInput = input
            p.standardOutput = output
            try p.run()
            input.fileHandleForWriting.write(Data(points.map { "\($0.0) \($0.1)\n" }.joined().utf8))
            try input.fileHandleForWriting.close()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            let numbers = text.split(whereSeparator: \.isNewline).compactMap { UInt16($0.trimmingCharacters(in: .whitespaces)) }
            XCTAssertEqual(numbers.count, points.count, "\(file.path): '\(text)'")
            return numbers
        }
        let qa = try values(try XCTUnwrap(scene.qaFile)).map(QAPixel.init)
        let bands = try scene.bandFiles.map(values)
        XCTAssertEqual(bands.count, 7)
        var fill = 0, data = 0
        for (i, point) in points.enumerated() where i < qa.count && bands.allSatisfy({ i < $0.count }) {
            let dns = bands.map { $0[i] }
            if qa[i].isFill { fill += 1; XCTAssertEqual(dns, Array(repeating: 0, count: 7), "\(point)") }
            else { data += 1; XCTAssertFalse(dns.contains(0), "\(point): \(dns)") }
        }
        XCTAssertGreaterThan(fill, 0)
        XCTAssertGreaterThan(data, 0)
    }

    func testQAPixelBits() {
        // Values from the QA_PIXEL value table of LSDS-1619 (Landsat 8-9 C2 L2 Science Product Guide).
        XCTAssertTrue(QAPixel(1).isFill)
        let clear = QAPixel(21824)
        XCTAssertTrue(clear.isClear && !clear.isFill && !clear.isCloud && !clear.isWater)
        XCTAssertEqual(clear.cloudConfidence, .low)
        XCTAssertEqual(clear.cirrusConfidence, .low)
        let water = QAPixel(21952)
        XCTAssertTrue(water.isClear && water.isWater)
        let cloud = QAPixel(22280)
        XCTAssertTrue(cloud.isCloud && !cloud.isClear)
        XCTAssertEqual(cloud.cloudConfidence, .high)
        let shadow = QAPixel(23888)
        XCTAssertTrue(shadow.isCloudShadow)
        XCTAssertEqual(shadow.cloudShadowConfidence, .high)
        let snow = QAPixel(30048)
        XCTAssertTrue(snow.isSnow)
        XCTAssertEqual(snow.snowIceConfidence, .high)
        let cirrus = QAPixel(54596)
        XCTAssertTrue(cirrus.isCirrus)
        XCTAssertEqual(cirrus.cirrusConfidence, .high)
        XCTAssertTrue(QAPixel(1 << 1).isDilatedCloud)
        // Each flag reads exactly its bit.
        let flags: [(Int, (QAPixel) -> Bool)] = [(0, \.isFill), (1, \.isDilatedCloud), (2, \.isCirrus), (3, \.isCloud),
                                                   (4, \.isCloudShadow), (5, \.isSnow), (6, \.isClear), (7, \.isWater)]
        for (bit, flag) in flags {
            for other in 0..<16 { XCTAssertEqual(flag(QAPixel(1 << other)), other == bit, "bit \(bit) vs \(other)") }
        }
        // Fill is bit 0 in both QA kinds.
        XCTAssertTrue(QAKind.qaPixel.isFill(1) && QAKind.bqa.isFill(1) && BQA(1).isFill)
        XCTAssertFalse(QAKind.qaPixel.isFill(21824) || QAKind.bqa.isFill(2720) || BQA(2720).isFill)
    }
}
