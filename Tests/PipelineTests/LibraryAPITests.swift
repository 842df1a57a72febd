import Diagnostics
import Foundation
import GeoRaster
import Landsat
import MoEMAE
import MoEMAETraining
import Pipeline
import Probe
import Tiling
import XCTest

/// A Swift program that imports the libraries does what `moemae tile`, `embed`, `map` and `pretrain` do, without
/// the command line: the commands only parse options and call these entry points.
final class LibraryAPITests: XCTestCase {
    static let scene = "LC08_L2SP_008059_20191201_20200825_02_T1"

    func shared(_ relative: String) -> String {
        repositoryRoot().appendingPathComponent("../shared/\(relative)").standardized.path
    }

    func testTileEmbedAndMapASceneThroughTheLibraries() throws {
        let dir = try temporaryFolder(self)
        let scenePath = shared("data/scenes/\(Self.scene)")
        let weights = shared("golden/weights-xxs-public.safetensors")

        // tile: the library decides what the path is and describes the scene with typed facts.
        let inputs = try SceneInputs.open(paths: [scenePath])
        let sources = try inputs.sources()
        XCTAssertEqual(sources.map(\.id), [Self.scene])
        XCTAssertEqual(sources[0].facts.spacecraft, .landsat(8))
        XCTAssertEqual(sources[0].facts.processingLevel, .l2sp)
        XCTAssertTrue(inputs.warnings.isEmpty && inputs.notes.isEmpty)
        let manifest = try DatasetBuilder.build(sources: sources, output: dir + "/tiles", options: TilingOptions())
        let scene = try XCTUnwrap(manifest.scenes.first)
        XCTAssertGreaterThan(manifest.tileCount, 0)
        XCTAssertEqual(try Dataset(path: dir + "/tiles").bands, LandsatBandSet.modelBandNames)

        // embed: one embedding per tile, read back by Probe.
        var embed = EmbedJob(dataset: dir + "/tiles", weights: weights, out: dir + "/embeddings.safetensors")
        embed.workers = 1
        let embedded = try embed.run()
        XCTAssertEqual(embedded.tiles, manifest.tileCount)
        let table = try EmbeddingTable(path: dir + "/embeddings.safetensors", feature: .embedding)
        XCTAssertEqual(table.count, manifest.tileCount)
        XCTAssertEqual(table.dimension, embedded.dimension)

        // map: a two-class probe on these weights; one label pixel per tile of the scene's grid.
        let d = embedded.dimension
        let probe = LinearProbe(task: .multiclass, classes: LinearProbe.defaultClasses(["even", "odd"]), feature: .embedding,
                                weightsSHA256: try FileDigest.sha256(ofFile: weights), dimension: d,
                                weight: (0..<(2 * d)).map { Float($0 % 7) / 7 - 0.5 }, bias: [0, 0])
        try probe.write(to: dir + "/probe.safetensors")
        var options = MapOptions(scenes: [scenePath], weights: weights, probe: dir + "/probe.safetensors", out: dir + "/maps")
        options.quiet = true
        options.workers = 1
        let outcome = try MapJob.run(options: options, moemaeVersion: "test", cancellation: CancellationToken(), note: { _ in })
        XCTAssertEqual(outcome.scenes.map(\.summary.id), [Self.scene])
        XCTAssertGreaterThan(outcome.scenes[0].summary.tilesMapped, 0)
        let labels = try RasterDataset(path: dir + "/maps/\(Self.scene)_labels.tif")
        XCTAssertEqual(labels.width, scene.gridCols)
        XCTAssertEqual(labels.height, scene.gridRows)

        // pretrain: one optimizer step of an XXS model on these tiles, with its log and checkpoint.
        var pretrain = PretrainJob(datasets: [dir + "/tiles"], out: dir + "/run")
        pretrain.preset = "XXS"; pretrain.batchSize = 4; pretrain.maxSteps = 1; pretrain.workers = 1
        var lines: [String] = []
        let trained = try pretrain.run(progress: { lines.append($0) })
        XCTAssertEqual(trained.steps, 1)
        XCTAssertNil(trained.stoppedBy)
        XCTAssertTrue(lines.first?.hasPrefix("pretraining XXS") == true, "\(lines)")
        XCTAssertEqual(try MoEMAEModel.load(path: trained.weightsPath).config.preset, "XXS")
        XCTAssertEqual(try String(contentsOfFile: dir + "/run/train.jsonl", encoding: .utf8).split(separator: "\n").count, 1)
        XCTAssertEqual(try PretrainJob.readCheckpoint(folder: dir + "/run").optimizer.step, 1)
        // A second new run into the same folder is refused (the library names the file; the CLI adds advice).
        XCTAssertThrowsError(try pretrain.run()) { XCTAssertTrue($0 is OutputExists, "\($0)") }
    }
}
