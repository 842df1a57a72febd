import Foundation
import GeoRaster
import Probe
import XCTest
@testable import Pipeline

/// Map products as data (``MapProduct``), and the row store on a grid whose odd width puts the Float32
/// parts of a row record at byte offsets that are not multiples of 4. scripts/test.sh also runs this
/// class under the address sanitizer (`swift test --sanitize=address --filter MapProductTests`).
final class MapProductTests: XCTestCase {
    /// The XXS preset (golden weights) maps a real 512×512 scene (13×13 tiles: odd width) with every
    /// product; the rasters read back agree with each other: labels = arg-max of scores, scores = the
    /// probe applied to the embeddings, experts within each layer's expert count, nodata in the same tiles.
    func testXXSMapOfAnOddGridWidthWritesEveryProductConsistently() throws {
        let weights = repositoryRoot().appendingPathComponent("../shared/golden/weights-xxs-public.safetensors").standardized.path
        let sceneID = "LC08_L2SP_008059_20191201_20200825_02_T1"
        let scene = repositoryRoot().appendingPathComponent("../shared/data/scenes/\(sceneID)").standardized.path
        let dir = try temporaryFolder(self)

        // A three-class probe on the XXS embedding (dimension 108) with fixed, varied weights.
        let D = 108, C = 3
        let probe = LinearProbe(task: .multiclass,
                                classes: [.init(name: "a", color: RGB(200, 0, 0)), .init(name: "b", color: RGB(0, 200, 0)),
                                          .init(name: "c", color: RGB(0, 0, 200))],
                                feature: .embedding, weightsSHA256: try FileDigest.sha256(ofFile: weights), dimension: D,
                                weight: (0..<(C * D)).map { Float(sin(Double($0) * 0.7)) * 0.05 }, bias: [0, 0.01, -0.01])
        let probePath = dir + "/probe.safetensors"
        try probe.write(to: probePath)

        var options = MapOptions(scenes: [scene], weights: weights, probe: probePath, out: dir + "/out")
        options.tokenExperts = .layers([0, 5])
        options.scores = true
        options.embeddings = true
        options.quiet = true
        options.workers = 1
        options.batchSize = 32
        let outcome = try MapJob.run(options: options, moemaeVersion: "test", cancellation: CancellationToken(), note: { _ in })
        let summary = try XCTUnwrap(outcome.scenes.first).summary
        XCTAssertEqual(summary.tilesRead, 169)
        XCTAssertGreaterThan(summary.tilesMapped, 0)

        // The layout of this run: XXS has 9 layers, so scores start after 13 + 9·13 + 2·100·13 bytes (odd).
        let layout = MapOutputLayout(gridRows: 13, gridCols: 13, expertsPerLayer: [3, 3, 3, 4, 4, 4, 5, 5, 5],
                                     classNames: ["a", "b", "c"], classColors: [[200, 0, 0], [0, 200, 0], [0, 0, 200]],
                                     tokenLayers: [0, 5], writeScores: true, embeddingDimension: D)
        XCTAssertEqual(layout.parts.map(\.product.name), MapProduct.all.map(\.name))
        let scoresPart = try XCTUnwrap(layout.parts.first { $0.product.name == "scores" })
        XCTAssertNotEqual(scoresPart.offset % 4, 0, "the test must exercise a misaligned Float32 part")

        // Every product's files, named from its description.
        for product in MapProduct.all {
            for name in product.fileNames(product: sceneID) {
                XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/out/" + name), name)
                XCTAssertTrue(summary.outputs.contains(name), name)
            }
        }
        let item = try XCTUnwrap(outcome.scenes.first).item
        XCTAssertEqual(Set(item.assets.keys), Set(MapProduct.all.map(\.name) + ["summary"]))

        func read<T: RasterScalar>(_ product: MapProduct, _ type: T.Type) throws -> [[T]] {
            let ds = try RasterDataset(path: dir + "/out/" + product.fileName(product: sceneID))
            return try (1...ds.bandCount).map { try ds.read(band: $0, window: RasterWindow(column: 0, row: 0, width: ds.width, height: ds.height), as: T.self) }
        }
        let labels = try read(.labels, UInt8.self)[0]
        let experts = try read(.experts, UInt8.self)
        let tokens = try read(.tokenExperts, UInt8.self)
        let scores = try read(.scores, Float.self)
        let embeddings = try read(.embeddings, Float.self)
        XCTAssertEqual(experts.count, 9); XCTAssertEqual(tokens.count, 2); XCTAssertEqual(scores.count, C); XCTAssertEqual(embeddings.count, D)
        XCTAssertEqual(tokens[0].count, 130 * 130)

        var mapped = 0
        for t in 0..<169 {
            if labels[t] == 255 {
                XCTAssertTrue(experts.allSatisfy { $0[t] == 255 } && scores.allSatisfy { $0[t].isNaN } && embeddings.allSatisfy { $0[t].isNaN }, "tile \(t)")
                continue
            }
            mapped += 1
            let feature = embeddings.map { $0[t] }
            let expected = probe.scores(feature, count: 1)
            for k in 0..<C { XCTAssertEqual(scores[k][t], expected[k], accuracy: 1e-6, "tile \(t) class \(k)") }
            let best = (0..<C).max { scores[$0][t] < scores[$1][t] || (scores[$0][t] == scores[$1][t] && $0 > $1) }!
            XCTAssertEqual(Int(labels[t]), best, "tile \(t)")
            for l in 0..<9 { XCTAssertLessThan(Int(experts[l][t]), layout.expertsPerLayer[l], "tile \(t) layer \(l)") }
            let (r, c) = (t / 13, t % 13)
            for (band, l) in [0, 5].enumerated() {
                for i in 0..<10 { for j in 0..<10 {
                    XCTAssertLessThan(Int(tokens[band][(r * 10 + i) * 130 + c * 10 + j]), layout.expertsPerLayer[l])
                } }
            }
        }
        XCTAssertEqual(mapped, summary.tilesMapped)
    }

    /// Every optional product is switched on by an option that `moemae map` and pipeline files know.
    func testOptionalProductsNameMapOptions() {
        for product in MapProduct.all {
            if let option = product.option { XCTAssertTrue(MapOptions.fieldNames.contains(option), option) }
        }
        XCTAssertEqual(MapProduct.alwaysWritten.map(\.name), ["labels", "experts"])
    }
}
