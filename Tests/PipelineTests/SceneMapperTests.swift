import Diagnostics
import Foundation
import GeoRaster
import XCTest
@testable import Pipeline

/// A synthetic scene source: deterministic statuses, 4 "pixel" values per tile, metadata from the tile
/// position. Counts reads so resume can be checked.
final class SyntheticSource: SceneTileSource {
    typealias Strip = Range<Int>
    let gridRows: Int, gridCols: Int, rowsPerStrip: Int
    var rowsRead: [Int] = []
    init(rows: Int, cols: Int, rowsPerStrip: Int = 2) { gridRows = rows; gridCols = cols; self.rowsPerStrip = rowsPerStrip }

    static func validFraction(_ r: Int, _ c: Int) -> Double {
        if (r + c) % 7 == 0 { return 0 }
        return (r * c) % 11 == 3 ? 0.2 : 0.9
    }

    func read(rows: Range<Int>) throws -> Range<Int> { rowsRead.append(contentsOf: rows); return rows }

    func tiles(from rows: Range<Int>, minValid: Double) throws -> TileStrip {
        var strip = TileStrip(firstRow: rows.lowerBound, rowCount: rows.count, tiles: [], pixels: [], week: [], hour: [], lat: [], lon: [])
        for r in rows {
            for c in 0..<gridCols {
                let f = Self.validFraction(r, c)
                let status = TileStatus.classify(validFraction: f, minValid: minValid)
                strip.tiles.append(TileRef(row: r, col: c, status: status, validFraction: Float(f)))
                if status == .mapped {
                    strip.pixels += [UInt16(r), UInt16(c), 7, 9]
                    strip.week.append(32); strip.hour.append(16.3); strip.lat.append(Double(r)); strip.lon.append(Double(c))
                }
            }
        }
        return strip
    }
}

/// A synthetic encoder: label and routing are functions of the tile position (read back from the pixels).
final class SyntheticEncoder: TileBatchEncoder {
    let layout: MapOutputLayout
    let failAfterTiles: Int?
    let counter: Counter
    final class Counter: @unchecked Sendable {
        let lock = NSLock(); var tiles = 0
        func add(_ n: Int) -> Int { lock.lock(); defer { lock.unlock() }; tiles += n; return tiles }
    }
    struct Failure: Error, CustomStringConvertible { var description: String { "synthetic encoder failure" } }

    init(layout: MapOutputLayout, counter: Counter, failAfterTiles: Int? = nil) {
        self.layout = layout; self.counter = counter; self.failAfterTiles = failAfterTiles
    }

    static func label(_ r: Int, _ c: Int, classes: Int) -> UInt8 { UInt8((r * 3 + c) % classes) }
    /// First choice of token t in layer l of tile (r, c); patch tokens lean to expert (r + l) % E.
    static func expert(_ r: Int, _ c: Int, _ l: Int, _ t: Int, experts e: Int) -> UInt8 {
        t >= 5 && (t - 5) % 3 != 0 ? UInt8((r + l) % e) : UInt8((c + t) % e)
    }

    func encode(_ batch: TileBatch) throws -> BatchResult {
        let n = batch.mappedCount
        if let limit = failAfterTiles, counter.add(n) > limit { throw Failure() } else if failAfterTiles == nil { _ = counter.add(n) }
        let L = layout.layers, T = layout.tokens, C = layout.classCount
        var labels: [UInt8] = [], routing: [UInt8] = [], scores: [Float] = [], embeddings: [Float] = []
        for m in 0..<n {
            let r = Int(batch.pixels[m * 4]), c = Int(batch.pixels[m * 4 + 1])
            labels.append(Self.label(r, c, classes: C))
            for l in 0..<L {
                for t in 0..<T {
                    let first = Self.expert(r, c, l, t, experts: layout.expertsPerLayer[l])
                    routing += [first, (first + 1) % UInt8(layout.expertsPerLayer[l])]
                }
            }
            for k in 0..<C { scores.append(Float(k == Int(Self.label(r, c, classes: C)) ? 0.9 : 0.1 / Double(C - 1))) }
            for k in 0..<(layout.embeddingDimension ?? 0) { embeddings.append(Float(r * 100 + c) + Float(k) / 10) }
        }
        return BatchResult(sequence: batch.sequence, tiles: batch.tiles, labels: labels, routing: routing,
                           scores: layout.writeScores ? scores : nil, embeddings: layout.embeddingDimension == nil ? nil : embeddings)
    }
}

final class SceneMapperTests: XCTestCase {
    let classNames = ["Urban fabric", "Arable land", "Forests", "Inland waters"]
    let classColors: [[UInt8]] = [[230, 0, 77], [255, 255, 168], [0, 166, 0], [0, 204, 242]]

    /// The georeferencing of a real shared scene (UTM 18N).
    func realScene() throws -> MapScene {
        let band = repositoryRoot().appendingPathComponent("../shared/data/scenes/LC08_L2SP_008059_20191201_20200825_02_T1/LC08_L2SP_008059_20191201_20200825_02_T1_SR_B1.TIF").standardized.path
        let ds = try RasterDataset(path: band)
        return MapScene(product: "LC08_L2SP_008059_20191201_20200825_02_T1", acquired: Date(timeIntervalSince1970: 1_575_213_561.79),
                        crs: try XCTUnwrap(ds.crs()), geoTransform: try XCTUnwrap(ds.geoTransform), width: ds.width, height: ds.height,
                        inputFiles: [band], platform: "landsat-8", instruments: ["oli", "tirs"])
    }

    func layout(rows: Int, cols: Int, tokens: [Int] = [1], scores: Bool = true, embeddings: Int? = 3) -> MapOutputLayout {
        MapOutputLayout(gridRows: rows, gridCols: cols, expertsPerLayer: [3, 4, 5], classNames: classNames, classColors: classColors,
                        tokenLayers: tokens, writeScores: scores, embeddingDimension: embeddings)
    }

    func options(out: String) -> MapOptions {
        var o = MapOptions(scenes: ["s"], weights: "w", probe: "p", out: out)
        o.workers = 2; o.batchSize = 5; o.queueDepth = 2; o.minValid = 0.5; o.quiet = true
        o.checkpointInterval = 0   // checkpoint every row: deterministic resume tests
        return o
    }

    func gdalinfo(_ path: String) throws -> [String: Any] {
        let (status, out) = try runProcess("/usr/bin/gdalinfo", ["-json", path])
        XCTAssertEqual(status, 0, out)
        return try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
    }

    func testMapsEveryTileIntoGeoreferencedCOGsWithLegendsAndAValidSTACItem() throws {
        let out = try temporaryFolder(self) + "/maps"
        let scene = try realScene()
        let rows = 13, cols = 13   // 512 px / 40, edge tiles padded
        let lay = layout(rows: rows, cols: cols)
        let counter = SyntheticEncoder.Counter()
        let result = try SceneMapper.run(scene: scene, source: SyntheticSource(rows: rows, cols: cols), layout: lay, options: options(out: out),
                                         fingerprint: "f", cancellation: CancellationToken(), progressMode: .quiet, note: { _ in }) { _ in
            SyntheticEncoder(layout: lay, counter: counter)
        }
        let p = scene.product
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(),
                       ["\(p).stac.json", "\(p)_embeddings.tif", "\(p)_experts.tif", "\(p)_experts.vrt", "\(p)_labels.tif", "\(p)_labels.tif.aux.xml",
                        "\(p)_scores.tif", "\(p)_summary.json", "\(p)_token_experts.tif", "\(p)_token_experts.vrt"], "final names only, no staging folder left")

        // Labels: grid size, CRS, geotransform ×40 with the same origin, nodata, colour table, category names, COG.
        let info = try gdalinfo(out + "/\(p)_labels.tif")
        XCTAssertEqual(info["size"] as? [Int], [cols, rows])
        let gt = scene.geoTransform.gdal
        let expectedGT = [gt[0], gt[1] * 40, gt[2] * 40, gt[3], gt[4] * 40, gt[5] * 40]
        XCTAssertEqual(info["geoTransform"] as? [Double], expectedGT)
        let srs = (info["coordinateSystem"] as? [String: Any])?["wkt"] as? String ?? ""
        XCTAssertTrue(try CoordinateReferenceSystem(definition: srs).isSame(as: scene.crs))
        let band = (info["bands"] as! [[String: Any]])[0]
        XCTAssertEqual(band["noDataValue"] as? Double, 255)
        XCTAssertEqual(band["type"] as? String, "Byte")
        XCTAssertEqual(band["categories"] as? [String], classNames)
        let entries = (band["colorTable"] as! [String: Any])["entries"] as! [[Int]]
        XCTAssertEqual(entries[2], [0, 166, 0, 255])
        let structure = (info["metadata"] as! [String: Any])["IMAGE_STRUCTURE"] as! [String: String]
        XCTAssertEqual(structure["LAYOUT"], "COG")
        XCTAssertEqual(structure["COMPRESSION"], "DEFLATE")

        // Values: label or nodata per tile, as the synthetic encoder / source decided.
        let labels = try RasterDataset(path: out + "/\(p)_labels.tif").read(band: 1, window: RasterWindow(column: 0, row: 0, width: cols, height: rows), as: UInt8.self)
        var mapped = 0, noValid = 0, below = 0
        for r in 0..<rows {
            for c in 0..<cols {
                switch TileStatus.classify(validFraction: SyntheticSource.validFraction(r, c), minValid: 0.5) {
                case .mapped: XCTAssertEqual(labels[r * cols + c], SyntheticEncoder.label(r, c, classes: 4)); mapped += 1
                case .noValidPixels: XCTAssertEqual(labels[r * cols + c], 255); noValid += 1
                case .belowMinValid: XCTAssertEqual(labels[r * cols + c], 255); below += 1
                }
            }
        }
        XCTAssertEqual(counter.tiles, mapped, "every mapped tile was encoded exactly once")

        // Experts: one band per layer with its description; majority of the patch tokens' first choices.
        let expertsInfo = try gdalinfo(out + "/\(p)_experts.tif")
        let expertBands = expertsInfo["bands"] as! [[String: Any]]
        XCTAssertEqual(expertBands.count, 3)
        XCTAssertEqual(expertBands[2]["description"] as? String, "encoder layer 2 (5 experts): majority top-1 expert of the 100 patch tokens")
        XCTAssertEqual(expertBands[1]["noDataValue"] as? Double, 255)
        // The VRT beside it gives every layer its colour table and category names.
        let vrtBands = try gdalinfo(out + "/\(p)_experts.vrt")["bands"] as! [[String: Any]]
        XCTAssertEqual(vrtBands.count, 3)
        for (l, b) in vrtBands.enumerated() {
            XCTAssertEqual(b["categories"] as? [String], (0..<[3, 4, 5][l]).map { "expert \($0)" })
            XCTAssertEqual(((b["colorTable"] as? [String: Any])?["entries"] as? [[Int]])?.first, [31, 119, 180, 255])
        }
        let experts = try RasterDataset(path: out + "/\(p)_experts.tif")
        for l in 0..<3 {
            let v = try experts.read(band: l + 1, window: RasterWindow(column: 0, row: 0, width: cols, height: rows), as: UInt8.self)
            for r in 0..<rows {
                for c in 0..<cols where labels[r * cols + c] != 255 {
                    // 2/3 of the patch tokens pick (r + l) % E; the rest are spread: the majority is (r + l) % E.
                    XCTAssertEqual(v[r * cols + c], UInt8((r + l) % [3, 4, 5][l]), "tile \(r),\(c) layer \(l)")
                }
            }
        }

        // Token experts: pixel size × 4, 10×10 pixels per tile.
        let tokInfo = try gdalinfo(out + "/\(p)_token_experts.tif")
        XCTAssertEqual(tokInfo["size"] as? [Int], [cols * 10, rows * 10])
        XCTAssertEqual((tokInfo["geoTransform"] as? [Double])?[1], gt[1] * 4)
        let tok = try RasterDataset(path: out + "/\(p)_token_experts.tif").read(band: 1, window: RasterWindow(column: 20, row: 10, width: 10, height: 10), as: UInt8.self)
        XCTAssertEqual(TileStatus.classify(validFraction: SyntheticSource.validFraction(1, 2), minValid: 0.5), .mapped)
        for i in 0..<100 { XCTAssertEqual(tok[i], SyntheticEncoder.expert(1, 2, 1, 5 + i, experts: 4)) }   // tile (1, 2), layer 1

        // Scores: one Float32 band per class named after it; embeddings D bands.
        let scoreBands = try gdalinfo(out + "/\(p)_scores.tif")["bands"] as! [[String: Any]]
        XCTAssertEqual(scoreBands.map { $0["description"] as? String }, classNames)
        XCTAssertEqual(scoreBands[0]["type"] as? String, "Float32")
        XCTAssertEqual((try gdalinfo(out + "/\(p)_embeddings.tif")["bands"] as! [[String: Any]]).count, 3)

        // Summary and STAC item.
        let s = result.summary
        XCTAssertEqual(s.tilesRead, rows * cols)
        XCTAssertEqual(s.tilesMapped, mapped)
        XCTAssertEqual(s.skipped.noValidPixels, noValid)
        XCTAssertEqual(s.skipped.belowMinValid, below)
        XCTAssertEqual(s.classHistogram.reduce(0) { $0 + $1.tiles }, mapped)
        XCTAssertEqual(s.experts.map(\.experts), [3, 4, 5])
        XCTAssertEqual(s.experts[0].assignments.reduce(0, +), mapped * 105 * 2)
        XCTAssertEqual(result.timings.map(\.stage), ["reader", "tiler", "batcher", "encoder", "writer", "rasters"])
        let (status, output) = try runProcess("/usr/bin/env", ["python3", repositoryRoot().path + "/Tests/PipelineTests/Python/validate_stac_item.py",
                                                               repositoryRoot().path + "/schemas/stac", out + "/\(p).stac.json"])
        XCTAssertEqual(status, 0, output)
        let item = result.item
        XCTAssertEqual(item.properties.projEPSG, 32618)
        XCTAssertEqual(item.assets["labels"]?.projShape, [rows, cols])
        // The footprint agrees with GDAL's own WGS 84 extent of the source band (corners; ours is densified).
        let ext = (try gdalinfo(scene.inputFiles[0])["wgs84Extent"] as! [String: Any])["coordinates"] as! [[[Double]]]
        let lons = ext[0].map { $0[0] }, lats = ext[0].map { $0[1] }
        for (ours, gdal) in zip(item.bbox, [lons.min()!, lats.min()!, lons.max()!, lats.max()!]) {
            XCTAssertEqual(ours, gdal, accuracy: 0.01, "\(item.bbox)")
        }
    }

    func testAnEncoderFailureLeavesNoFinalNameAndResumeFinishesWithoutRedoingRows() throws {
        let out = try temporaryFolder(self) + "/maps"
        let scene = try realScene()
        let lay = layout(rows: 13, cols: 13, tokens: [], scores: false, embeddings: nil)
        var o = options(out: out)
        o.workers = 1
        let failing = SyntheticEncoder.Counter()
        XCTAssertThrowsError(try SceneMapper.run(scene: scene, source: SyntheticSource(rows: 13, cols: 13), layout: lay, options: o,
                                                 fingerprint: "f", cancellation: CancellationToken(), progressMode: .quiet, note: { _ in }) { _ in
            SyntheticEncoder(layout: lay, counter: failing, failAfterTiles: 60)
        }) { error in
            XCTAssertEqual("\(error)", "synthetic encoder failure (in the encoder stage)")
        }
        let staged = try FileManager.default.contentsOfDirectory(atPath: out)
        XCTAssertEqual(staged, [".moemae-partial-\(scene.product)"], "no output with a final name")
        let state = try XCTUnwrap(ResumeState.load(from: out + "/.moemae-partial-\(scene.product)/progress.json"))
        XCTAssertGreaterThan(state.finishedRows, 0)
        XCTAssertLessThan(state.finishedRows, 13)

        // A different fingerprint does not reuse the rows.
        o.resume = true
        var notes: [String] = []
        let source = SyntheticSource(rows: 13, cols: 13)
        let counter = SyntheticEncoder.Counter()
        let resumed = try SceneMapper.run(scene: scene, source: source, layout: lay, options: o, fingerprint: "f", cancellation: CancellationToken(),
                                          progressMode: .quiet, note: { notes.append("\($0)") }) { _ in SyntheticEncoder(layout: lay, counter: counter) }
        XCTAssertEqual(notes, ["\(scene.product): resuming at tile row \(state.finishedRows) of 13"])
        XCTAssertEqual(source.rowsRead.first, state.finishedRows, "finished rows are not read again")
        XCTAssertEqual(resumed.summary.resumedRows, state.finishedRows)

        // Same result as an uninterrupted run.
        let fresh = try temporaryFolder(self) + "/fresh"
        var f = options(out: fresh); f.workers = 1
        let freshResult = try SceneMapper.run(scene: scene, source: SyntheticSource(rows: 13, cols: 13), layout: lay, options: f,
                                              fingerprint: "f", cancellation: CancellationToken(), progressMode: .quiet, note: { _ in }) { _ in
            SyntheticEncoder(layout: lay, counter: SyntheticEncoder.Counter())
        }
        XCTAssertEqual(resumed.summary.tilesMapped, freshResult.summary.tilesMapped)
        XCTAssertEqual(resumed.summary.classHistogram, freshResult.summary.classHistogram)
        XCTAssertEqual(resumed.summary.experts, freshResult.summary.experts)
        let window = RasterWindow(column: 0, row: 0, width: 13, height: 13)
        for name in ["_labels.tif", "_experts.tif"] {
            let a = try RasterDataset(path: out + "/" + scene.product + name).read(band: 1, window: window, as: UInt8.self)
            let b = try RasterDataset(path: fresh + "/" + scene.product + name).read(band: 1, window: window, as: UInt8.self)
            XCTAssertEqual(a, b, name)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/.moemae-partial-\(scene.product)"))
    }

    func testResumeWithOtherOptionsStartsAfreshAndExistingOutputsNeedOverwrite() throws {
        let out = try temporaryFolder(self) + "/maps"
        let scene = try realScene()
        let lay = layout(rows: 13, cols: 13, tokens: [], scores: false, embeddings: nil)
        var o = options(out: out)
        XCTAssertThrowsError(try SceneMapper.run(scene: scene, source: SyntheticSource(rows: 13, cols: 13), layout: lay, options: o,
                                                 fingerprint: "f1", cancellation: CancellationToken(), progressMode: .quiet, note: { _ in }) { _ in
            SyntheticEncoder(layout: lay, counter: SyntheticEncoder.Counter(), failAfterTiles: 40)
        })
        o.resume = true
        var notes: [String] = []
        let source = SyntheticSource(rows: 13, cols: 13)
        _ = try SceneMapper.run(scene: scene, source: source, layout: lay, options: o, fingerprint: "f2", cancellation: CancellationToken(),
                                progressMode: .quiet, note: { notes.append("\($0)") }) { _ in SyntheticEncoder(layout: lay, counter: SyntheticEncoder.Counter()) }
        XCTAssertEqual(source.rowsRead.first, 0)
        XCTAssertTrue(notes.first?.contains("used other inputs or options; starting afresh") == true, "\(notes)")

        o.resume = false
        XCTAssertThrowsError(try SceneMapper.run(scene: scene, source: SyntheticSource(rows: 13, cols: 13), layout: lay, options: o,
                                                 fingerprint: "f2", cancellation: CancellationToken(), progressMode: .quiet, note: { _ in }) { _ in
            SyntheticEncoder(layout: lay, counter: SyntheticEncoder.Counter())
        }) { error in
            // The library says what is wrong; the command line adds its flags (--overwrite).
            XCTAssertEqual((error as? OutputExists)?.kind, .outputExists, "\(error)")
            XCTAssertTrue("\(error)".contains("already exists (") && "\(error)".contains("of this scene's outputs do)"), "\(error)")
        }
        o.overwrite = true
        XCTAssertNoThrow(try SceneMapper.run(scene: scene, source: SyntheticSource(rows: 13, cols: 13), layout: lay, options: o,
                                             fingerprint: "f2", cancellation: CancellationToken(), progressMode: .quiet, note: { _ in }) { _ in
            SyntheticEncoder(layout: lay, counter: SyntheticEncoder.Counter())
        })
    }

    func testCancellationMidRunLeavesNoFinalName() throws {
        let out = try temporaryFolder(self) + "/maps"
        let scene = try realScene()
        // Large enough (1,000,000 synthetic tiles) that an idle machine is still mid-run when the signal
        // arrives 0.2 s in: 200×200 tiles finished in under 0.5 s on an idle CI machine.
        let lay = layout(rows: 1000, cols: 1000, tokens: [], scores: false, embeddings: nil)
        let token = CancellationToken()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { token.cancel(.signal(SIGINT)) }
        let r = try finishes(within: 60) {
            try SceneMapper.run(scene: scene, source: SyntheticSource(rows: 1000, cols: 1000), layout: lay, options: self.options(out: out),
                                fingerprint: "f", cancellation: token, progressMode: .quiet, note: { _ in }) { _ in
                SyntheticEncoder(layout: lay, counter: SyntheticEncoder.Counter())
            }
        }
        XCTAssertThrowsError(try r.get()) { XCTAssertEqual(($0 as? PipelineInterrupted)?.reason, .signal(SIGINT)) }
        let left = try FileManager.default.contentsOfDirectory(atPath: out)
        XCTAssertTrue(left.allSatisfy { $0.hasPrefix(".moemae-partial-") }, "\(left)")
    }
}
