import Foundation
import XCTest
import GeoRaster
import SafeTensors
import Diagnostics
@testable import Tiling

final class DatasetWriterTests: XCTestCase {
    var dir: String!
    override func setUp() { dir = makeTempDirectory("tiling-ds") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    var repositoryRoot: String { (sharedDirectory as NSString).deletingLastPathComponent + "/" + URL(fileURLWithPath: #filePath).pathComponents.dropLast(3).last! }

    func testShardsManifestAndTileIndexOfPreCollectionScene() throws {
        let out = dir + "/ds"
        let manifest = try DatasetBuilder.build(sources: [preCollectionSource()], output: out, options: TilingOptions(), shardSize: 100)
        XCTAssertEqual(manifest.tileCount, 256)
        XCTAssertEqual(manifest.shards.map(\.tiles), [100, 100, 56])
        XCTAssertEqual(manifest.shards.map(\.file), ["tiles-00000.safetensors", "tiles-00001.safetensors", "tiles-00002.safetensors"])
        let s = try XCTUnwrap(manifest.scenes.first)
        XCTAssertEqual([s.gridRows, s.gridCols, s.width, s.height], [16, 16, 627, 603])
        XCTAssertEqual(s.epsg, 32616)
        XCTAssertEqual(s.geotransform, [452475, 30, 0, 3408645, 0, -30])
        XCTAssertFalse(s.modelReady)
        XCTAssertEqual(s.files.count, 9)  // MTL + 7 bands + BQA

        // The folder reads back through the Dataset type others use.
        let ds = try Dataset(path: out)
        XCTAssertEqual(ds.manifest, manifest)
        XCTAssertEqual(ds.bands, ["B1", "B2", "B3", "B4", "B5", "B6", "B7"])
        let shard = try ds.shard(1)
        XCTAssertEqual(shard.count, 100)
        // Tile 1 of shard 1 is tile 101 of the scene: row 6, col 5.
        XCTAssertEqual(try shard.optionalInts("row")?[1], 6)
        XCTAssertEqual(try shard.optionalInts("col")?[1], 5)
        XCTAssertEqual(try shard.week()[1], 32)
        XCTAssertEqual(try shard.hour()[1], 16.3227, accuracy: 1e-4)
        let px = try shard.pixels(1..<2)
        let direct: [UInt16] = try RasterDataset(path: scenePath(preCollection, "B4.TIF")).read(band: 1, window: RasterWindow(column: 200, row: 240, width: 40, height: 40))
        XCTAssertEqual(Array(px[(3 * 1600)..<(4 * 1600)]), direct)
        let locator = try TileLocator(rasters: SceneRasters(source: preCollectionSource()), options: TilingOptions())
        XCTAssertEqual(try shard.lat()[1], try locator.metadata(row: 6, col: 5).lat)

        // tiles.gpkg: one polygon per tile, in the scene CRS.
        let info = try runTool("ogrinfo", ["-so", out + "/tiles.gpkg", "tiles"])
        XCTAssertTrue(info.contains("Feature Count: 256"), info)
        XCTAssertTrue(info.contains("valid_fraction: Real"), info)
        XCTAssertTrue(info.contains("UTM zone 16N"), info)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0 != "ds" }
        XCTAssertEqual(leftovers, [])
    }

    func testManifestValidatesAgainstSchemaAndShardLoadsInPython() throws {
        let out = dir + "/ds"
        try DatasetBuilder.build(sources: [preCollectionSource()], output: out, options: TilingOptions(edge: .drop, minValid: 0.25), shardSize: 4096)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let schema = root + "/schemas/dataset-manifest.schema.json"
        let validation = try runPython("""
        import json, sys, jsonschema
        schema = json.load(open(sys.argv[1])); manifest = json.load(open(sys.argv[2]))
        jsonschema.Draft202012Validator.check_schema(schema)
        jsonschema.validate(manifest, schema, cls=jsonschema.Draft202012Validator)
        # a broken manifest must fail
        bad = dict(manifest); bad["edge"] = "wrap"
        try:
            jsonschema.validate(bad, schema, cls=jsonschema.Draft202012Validator); print("bad passed")
        except jsonschema.ValidationError: print("ok")
        """, [schema, out + "/manifest.json"])
        XCTAssertEqual(validation.trimmingCharacters(in: .whitespacesAndNewlines), "ok")

        // Load the shard with safetensors.numpy and compare with what Swift wrote.
        let shard = try TileShard(path: out + "/tiles-00000.safetensors")
        let py = try runPython("""
        import json, sys, numpy as np
        from safetensors.numpy import load_file
        t = load_file(sys.argv[1])
        print(json.dumps({
          "dtypes": {k: str(v.dtype) for k, v in t.items()},
          "shapes": {k: list(v.shape) for k, v in t.items()},
          "pixel_sum": int(t["pixels"].astype(np.int64).sum()),
          "pixel_7_4_13_21": int(t["pixels"][7, 4, 13, 21]),
          "valid_sum": int(t["valid"].astype(np.int64).sum()),
          "lat": [float(v).hex() for v in t["lat"]], "lon": [float(v).hex() for v in t["lon"]], "hour0": float(t["hour"][0]),
          "week": t["week"].tolist(), "row": t["row"].tolist(), "col": t["col"].tolist(),
          "vf_matches_valid": bool(np.allclose(t["valid"].reshape(len(t["lat"]), -1).mean(axis=1), t["valid_fraction"], atol=1e-6)),
        }))
        """, [out + "/tiles-00000.safetensors"])
        let j = try JSONSerialization.jsonObject(with: Data(py.utf8)) as! [String: Any]
        let dtypes = j["dtypes"] as! [String: String]
        XCTAssertEqual(dtypes["pixels"], "uint16"); XCTAssertEqual(dtypes["valid"], "uint8"); XCTAssertEqual(dtypes["lat"], "float64")
        XCTAssertEqual(dtypes["week"], "int32"); XCTAssertEqual(dtypes["hour"], "float32"); XCTAssertEqual(dtypes["scene"], "int32")
        let shapes = j["shapes"] as! [String: [Int]]
        XCTAssertEqual(shapes["pixels"], [shard.count, 7, 40, 40])
        let pixels = try shard.pixels(0..<shard.count)
        XCTAssertEqual(j["pixel_sum"] as? Int, pixels.reduce(0) { $0 + Int($1) })
        XCTAssertEqual(j["pixel_7_4_13_21"] as? Int, Int(pixels[7 * 11200 + 4 * 1600 + 13 * 40 + 21]))
        let valid: [UInt8] = try shard.file.array("valid", as: UInt8.self)
        XCTAssertEqual(j["valid_sum"] as? Int, valid.reduce(0) { $0 + Int($1) })
        // Exact comparison: Python prints the float64 bit patterns as hex floats.
        XCTAssertEqual((j["lat"] as! [String]).map { Double($0)! }, try shard.lat())
        XCTAssertEqual((j["lon"] as! [String]).map { Double($0)! }, try shard.lon())
        XCTAssertEqual(j["week"] as? [Int], try shard.week())
        XCTAssertEqual(j["row"] as? [Int], try shard.optionalInts("row"))
        XCTAssertEqual(j["hour0"] as! Double, Double(Float(16 + 19.0 / 60 + 21.7917421 / 3600)), accuracy: 1e-9)
        XCTAssertEqual(j["vf_matches_valid"] as? Bool, true)
        XCTAssertEqual(try shard.optionalInts("col")?.max(), 14)  // drop: 15 columns
    }

    func testEveryTileFilteredOutLeavesNoOutput() throws {
        let out = dir + "/ds"
        XCTAssertThrowsError(try DatasetBuilder.build(sources: [preCollectionSource()], output: out, options: TilingOptions(minValid: 1.0001))) { e in
            XCTAssertTrue("\(e)".contains("minimum valid fraction 1.0001 is not between 0 and 1"), "\(e)")
            XCTAssertEqual((e as? DiagnosedError)?.settings, [.minValid], "\(e)")
        }
        var s = preCollectionSource()
        s.region = RasterWindow(column: 600, row: 580, width: 27, height: 23)
        XCTAssertThrowsError(try DatasetBuilder.build(sources: [s], output: out, options: TilingOptions(edge: .drop))) { e in
            XCTAssertTrue("\(e)".contains("no tiles"), "\(e)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }

    func testExistingOutputRefusedUnlessOverwrite() throws {
        let out = dir + "/ds"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: out + "/mine.txt"))
        XCTAssertThrowsError(try DatasetBuilder.build(sources: [preCollectionSource()], output: out, options: TilingOptions())) { e in
            // The library says what is wrong; `moemae tile` adds its flags (--overwrite, TileCommandTests).
            XCTAssertEqual((e as? OutputExists)?.kind, .outputExists, "\(e)")
            XCTAssertEqual("\(e)", "\(out): already exists")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/mine.txt"))
        var s = preCollectionSource()
        s.region = RasterWindow(column: 0, row: 0, width: 80, height: 40)
        // --overwrite replaces a dataset only: a folder with other content is never deleted.
        XCTAssertThrowsError(try DatasetBuilder.build(sources: [s], output: out, options: TilingOptions(), overwrite: true)) { e in
            XCTAssertTrue("\(e)".contains("is not a moemae dataset folder"), "\(e)")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/mine.txt"))
        try FileManager.default.removeItem(atPath: out + "/mine.txt")
        try DatasetBuilder.build(sources: [s], output: out, options: TilingOptions(), overwrite: true)   // an empty folder
        s.region = RasterWindow(column: 0, row: 0, width: 120, height: 40)
        try DatasetBuilder.build(sources: [s], output: out, options: TilingOptions(), overwrite: true)   // a dataset
        XCTAssertEqual(try Dataset(path: out).manifest?.tileCount, 3)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["ds"])
    }

    func testGeoTIFFChipsHaveTheirOwnGeoreferencing() throws {
        let out = dir + "/chips"
        var s = preCollectionSource()
        s.region = RasterWindow(column: 40, row: 80, width: 80, height: 40)
        let m = try DatasetBuilder.build(sources: [s], output: out, options: TilingOptions(), layout: .geotiff)
        XCTAssertEqual(m.layout, .geotiff)
        XCTAssertEqual(m.shards, [])
        let images = try FileManager.default.contentsOfDirectory(atPath: out + "/images").sorted()
        XCTAssertEqual(images, ["\(preCollection)_0_0.tif", "\(preCollection)_0_1.tif"])
        let chip = try RasterDataset(path: out + "/images/\(preCollection)_0_1.tif")
        XCTAssertEqual([chip.width, chip.height, chip.bandCount], [40, 40, 7])
        XCTAssertEqual(chip.geoTransform?.gdal, [452475 + 80 * 30, 30, 0, 3408645 - 80 * 30, 0, -30])
        XCTAssertEqual(try chip.crs()?.epsg, 32616)
        XCTAssertEqual(try chip.band(7).description, "B7")
        let direct: [UInt16] = try RasterDataset(path: scenePath(preCollection, "B7.TIF")).read(band: 1, window: RasterWindow(column: 80, row: 80, width: 40, height: 40))
        XCTAssertEqual(try chip.read(band: 7, window: RasterWindow(column: 0, row: 0, width: 40, height: 40), as: UInt16.self), direct)
        let label = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/labels/\(preCollection)_0_1_metadata.json"))) as! [String: Any]
        XCTAssertEqual(label["acquisition_date"] as? String, "2015-08-04 16:19:21")
        XCTAssertEqual(label["week"] as? Int, 32)
        XCTAssertEqual(label["row"] as? Int, 0); XCTAssertEqual(label["col"] as? Int, 1)
        let coordinates = label["coordinates"] as! [String: Double]
        XCTAssertEqual(coordinates["ulx"], 452475 + 80 * 30)
        XCTAssertEqual(coordinates["lry"], 3408645 - 120 * 30)
        // Chips have no shards: the dataset reader (embed, probe, pretrain) refuses them with a way out,
        // instead of reading zero tiles.
        XCTAssertThrowsError(try Dataset(path: out)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(out): holds GeoTIFF chips"), "\(error)")
            XCTAssertTrue("\(error)".contains("tile the scenes again in the safetensors layout"), "\(error)")
            XCTAssertEqual((error as? DiagnosedError)?.settings, [.format], "\(error)")
        }
    }

    func testScenesInTwoCRSsGetOneIndexLayerEach() throws {
        let a = try SceneSource(landsatPath: "\(sharedDirectory)/data/scenes/LC08_L2SP_008059_20191201_20200825_02_T1")
        let b = try SceneSource(landsatPath: "\(sharedDirectory)/data/scenes/LC08_L2SP_005009_20150710_20200908_02_T2")
        let out = dir + "/two"
        let m = try DatasetBuilder.build(sources: [a, b], output: out, options: TilingOptions(edge: .drop), shardSize: 100)
        XCTAssertEqual(m.scenes.map(\.epsg), [32618, 32624])
        XCTAssertEqual(m.tileCount, 2 * 12 * 12)
        XCTAssertTrue(m.scenes.allSatisfy(\.modelReady))
        let shard = try Dataset(path: out).shard(m.shards.count - 1)
        XCTAssertEqual(try shard.optionalInts("scene")?.last, 1)
        let layers = try runTool("ogrinfo", ["-q", out + "/tiles.gpkg"])
        XCTAssertTrue(layers.contains("tiles (Polygon)") && layers.contains("tiles_epsg32624 (Polygon)"), layers)
        let second = try runTool("ogrinfo", ["-so", out + "/tiles.gpkg", "tiles_epsg32624"])
        XCTAssertTrue(second.contains("Feature Count: 144"), second)
    }
}
