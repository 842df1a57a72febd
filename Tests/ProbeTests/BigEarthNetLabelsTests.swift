import Foundation
import XCTest
@testable import Probe

/// BigEarthNet label files (real ones from ../shared) map to the 19-class nomenclature by patch name.
final class BigEarthNetLabelsTests: XCTestCase {
    static var patches: String {
        LinearProbeFileTests.repositoryRoot.appendingPathComponent("../shared/data/patches/bigearthnet-l-sample").standardized.path
    }

    func testNomenclatureCoversThe43CorineLabels() {
        XCTAssertEqual(BigEarthNetNomenclature.corineToClass.count, 43)
        XCTAssertEqual(BigEarthNetNomenclature.corineToClass.values.filter { $0 == nil }.count, 11)
        XCTAssertEqual(Set(BigEarthNetNomenclature.corineToClass.values.compactMap { $0 }), Set(0..<19))
        XCTAssertEqual(BigEarthNetNomenclature.lookup("Peatbogs"), .mapped(15))
        XCTAssertEqual(BigEarthNetNomenclature.lookup(" inland waters "), .mapped(17), "19-class names are accepted too")
        XCTAssertEqual(BigEarthNetNomenclature.lookup("Port areas"), .dropped)
        XCTAssertEqual(BigEarthNetNomenclature.lookup("Glaciers"), .unknown)
    }

    func testRealPatchLabelsByName() throws {
        // The patch folder itself and its labels/ folder are both accepted.
        for path in [Self.patches, Self.patches + "/labels"] {
            let source = try BigEarthNetLabels(path: path)
            let scenes = ["S2A_MSIL2A_20170613T101031_11_66", "S2A_MSIL2A_20171208T093351_82_79"]
            let tiles = [TileRef(scene: 0, row: 0, col: 0), TileRef(scene: 1, row: 0, col: 0)]
            let labels = try source.labels(for: tiles, sceneIDs: scenes, task: .multilabel)
            // {"labels": ["Mixed forest", "Sea and ocean"]} → Mixed forest (10), Marine waters (18).
            XCTAssertEqual(labels.labels[0], [10, 18])
            XCTAssertNil(labels.labels[1], "the sample has no label file for this patch")
            XCTAssertEqual(labels.classes.count, 19)
            // Two classes: not a multi-class tile.
            XCTAssertNil(try source.labels(for: tiles, sceneIDs: scenes, task: .multiclass).labels[0])
        }
    }

    func testUnknownLabelIsAnErrorNamingTheFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ben-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("P1_labels_metadata.json")
        try Data(#"{"labels": ["Coniferous forest", "Lava fields"]}"#.utf8).write(to: file)
        let source = try BigEarthNetLabels(path: folder.path)
        XCTAssertThrowsError(try source.labels(for: [TileRef(scene: 0, row: 0, col: 0)], sceneIDs: ["P1"], task: .multilabel)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("P1_labels_metadata.json") && text.contains("'Lava fields'"), text)
        }
        XCTAssertThrowsError(try source.labels(for: [TileRef(scene: 0, row: 0, col: 0)], sceneIDs: ["P2"], task: .multilabel)) { error in
            XCTAssertTrue("\(error)".contains("no tile matches a label file"), "\(error)")
        }
    }
}
