import Foundation
import XCTest
import GeoRaster
import Landsat
@testable import Tiling

final class TileStripReaderTests: XCTestCase {
    func testGridOfPreCollectionSceneIs16By16PadAnd15By15Drop() throws {
        let rasters = try SceneRasters(source: preCollectionSource())
        XCTAssertEqual(rasters.width, 627); XCTAssertEqual(rasters.height, 603)
        let pad = TileGrid(width: rasters.width, height: rasters.height, tileSize: 40, edge: .pad)
        XCTAssertEqual([pad.rows, pad.cols], [16, 16])
        let drop = TileGrid(width: rasters.width, height: rasters.height, tileSize: 40, edge: .drop)
        XCTAssertEqual([drop.rows, drop.cols], [15, 15])
        XCTAssertEqual(try TileStripReader(rasters: rasters, options: TilingOptions(edge: .drop)).grid.cols, 15)
    }

    func testTilePixelsAreTheSceneWindowBandMajor() throws {
        let source = preCollectionSource()
        let reader = try TileStripReader(source: source, options: TilingOptions())
        let tiles = try reader.readRow(3)
        XCTAssertEqual(tiles.count, 16)
        let t = tiles[5]
        XCTAssertEqual([t.metadata.row, t.metadata.col], [3, 5])
        XCTAssertEqual(t.metadata.footprint, RasterWindow(column: 200, row: 120, width: 40, height: 40))
        for b in [0, 3, 6] {
            let ds = try RasterDataset(path: source.bands[b].path)
            let direct: [UInt16] = try ds.read(band: 1, window: RasterWindow(column: 200, row: 120, width: 40, height: 40))
            XCTAssertEqual(Array(t.pixels[(b * 1600)..<((b + 1) * 1600)]), direct, "band \(b + 1)")
        }
    }

    func testPaddedCornerTileHasFillOutsideTheRaster() throws {
        let reader = try TileStripReader(source: preCollectionSource(), options: TilingOptions())
        let t = try XCTUnwrap(try reader.readRow(15).last)
        XCTAssertEqual([t.metadata.row, t.metadata.col], [15, 15])
        // Inside: columns 600..<627 (27), rows 600..<603 (3).
        for y in 0..<40 {
            for x in 0..<40 where x >= 27 || y >= 3 {
                XCTAssertEqual(t.valid[y * 40 + x], 0)
                for b in 0..<7 { XCTAssertEqual(t.pixels[b * 1600 + y * 40 + x], 0) }
            }
        }
        let inside = (0..<3).flatMap { y in (0..<27).map { y * 40 + $0 } }
        let validInside = inside.filter { t.valid[$0] == 1 }.count
        XCTAssertEqual(t.validFraction, Double(validInside) / 1600, accuracy: 1e-12)
        XCTAssertLessThanOrEqual(t.validFraction, 81.0 / 1600)
    }

    func testValidityFollowsFillDNAndQABit0() throws {
        // The Greenland scene has fill (DN 0) outside its rotated footprint.
        let id = "LC08_L2SP_005009_20150710_20200908_02_T2"
        let facts = SceneFacts(id: id, spacecraft: .landsat(8), sensor: .oliTirs, collection: .collection2, processingLevel: .l2sp,
                               acquisition: AcquisitionTime(iso8601: "2015-07-10T00:00:00Z")!)
        let source = SceneSource(facts: facts, week: 28, hour: 0,
                                 bands: (1...7).map { SceneSource.BandFile(name: "SR_B\($0)", path: scenePath(id, "SR_B\($0).TIF")) },
                                 qaFile: scenePath(id, "QA_PIXEL.TIF"), readiness: .ready)
        let reader = try TileStripReader(source: source, options: TilingOptions())
        let qaDS = try RasterDataset(path: scenePath(id, "QA_PIXEL.TIF"))
        var sawInvalid = false, sawValid = false
        for r in [0, 6] {
            for t in try reader.readRow(r) {
                let fp = t.metadata.footprint.clipped(toWidth: 512, height: 512)
                var qa = [UInt16](repeating: 1, count: 1600)
                try qa.withUnsafeMutableBufferPointer { try qaDS.read(band: 1, window: fp, into: $0, lineStride: 40) }
                for i in 0..<1600 {
                    let (y, x) = (i / 40, i % 40)
                    let inside = y < fp.height && x < fp.width
                    let anyZero = (0..<7).contains { t.pixels[$0 * 1600 + i] == 0 }
                    let expected: UInt8 = inside && !anyZero && qa[y * 40 + x] & 1 == 0 ? 1 : 0
                    XCTAssertEqual(t.valid[i], expected)
                    if expected == 0 { sawInvalid = true } else { sawValid = true }
                }
            }
        }
        XCTAssertTrue(sawInvalid && sawValid)
    }

    func testMinValidSkipsTiles() throws {
        let reader = try TileStripReader(source: preCollectionSource(), options: TilingOptions(minValid: 0.5))
        let last = try reader.readRow(15)
        XCTAssertTrue(last.allSatisfy { $0.validFraction >= 0.5 })
        XCTAssertLessThan(last.count, 16)  // the bottom row is 3 pixels high: every tile < 0.5
    }

    func testTileGeotransformAndCentreAgreeWithGdaltransform() throws {
        let source = preCollectionSource()
        let rasters = try SceneRasters(source: source)
        let locator = try TileLocator(rasters: rasters, options: TilingOptions())
        let m = try locator.metadata(row: 7, col: 9)
        XCTAssertEqual(m.geoTransform.gdal, [452475 + 360 * 30, 30, 0, 3408645 - 280 * 30, 0, -30])
        XCTAssertEqual(m.centreX, 452475 + 380 * 30)
        XCTAssertEqual(m.centreY, 3408645 - 300 * 30)
        let ref = try gdaltransform("EPSG:32616", m.centreX, m.centreY)
        XCTAssertEqual(m.lat, ref.lat, accuracy: 1e-6)
        XCTAssertEqual(m.lon, ref.lon, accuracy: 1e-6)
        XCTAssertEqual(m.week, 32)
        XCTAssertEqual(m.hour, 16.3227, accuracy: 1e-4)
        // A padded edge tile's centre is still the centre of its full 40×40 footprint.
        let e = try locator.metadata(row: 15, col: 15)
        XCTAssertEqual(e.centreX, 452475 + 620 * 30)
        XCTAssertEqual(e.centreY, 3408645 - 620 * 30)
    }

    func testNoMetadataWritesZeros() throws {
        let rasters = try SceneRasters(source: preCollectionSource())
        let m = try TileLocator(rasters: rasters, options: TilingOptions(metadata: false)).metadata(row: 1, col: 1)
        XCTAssertEqual([m.lat, m.lon, Double(m.week), m.hour], [0, 0, 0, 0])
    }

    func testAntarcticTileLatitudesAgreeWithMTLCorners() throws {
        let mtl = try String(contentsOfFile: scenePath(antarctic, "MTL.txt"), encoding: .utf8)
        let cornerLats = ["CORNER_UL_LAT_PRODUCT", "CORNER_UR_LAT_PRODUCT", "CORNER_LL_LAT_PRODUCT", "CORNER_LR_LAT_PRODUCT"]
            .compactMap { mtlValue(mtl, $0).flatMap(Double.init) }
        XCTAssertEqual(cornerLats.count, 4)
        let facts = SceneFacts(id: antarctic, spacecraft: .landsat(8), sensor: .oliTirs, collection: .collection2, processingLevel: .l2sr,
                               acquisition: AcquisitionTime(iso8601: "2019-11-29T00:00:00Z")!)
        let source = SceneSource(facts: facts, week: 48, hour: 0,
                                 bands: (1...7).map { SceneSource.BandFile(name: "SR_B\($0)", path: scenePath(antarctic, "SR_B\($0).TIF")) },
                                 qaFile: scenePath(antarctic, "QA_PIXEL.TIF"), readiness: .ready)
        let reader = try TileStripReader(source: source, options: TilingOptions())
        var lats: [Double] = []
        for r in 0..<reader.grid.rows { for c in 0..<reader.grid.cols { lats.append(try reader.locator.metadata(row: r, col: c).lat) } }
        let (lo, hi) = (lats.min()!, lats.max()!)
        XCTAssertGreaterThan(lo, -83.2); XCTAssertLessThan(hi, -79.6)
        // Tile centres lie inside the corner latitudes' span (the footprint's extreme corners).
        XCTAssertGreaterThanOrEqual(lo, cornerLats.min()! - 0.05)
        XCTAssertLessThanOrEqual(hi, cornerLats.max()! + 0.05)
        XCTAssertEqual(lo, cornerLats.min()!, accuracy: 0.3)
        XCTAssertEqual(hi, cornerLats.max()!, accuracy: 0.3)
    }

    func testMismatchedGridsNameBothFiles() throws {
        var s = preCollectionSource()
        s.bands[2] = SceneSource.BandFile(name: "B8", path: scenePath(preCollection, "B8.TIF"))
        XCTAssertThrowsError(try SceneRasters(source: s)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("B8.TIF") && text.contains("B1.TIF") && text.contains("1254×1207"), text)
        }
    }

    func testMissingBandFileIsNamed() throws {
        var s = preCollectionSource()
        s.bands[4].path = "/nonexistent/B5.TIF"
        XCTAssertThrowsError(try SceneRasters(source: s)) { e in XCTAssertTrue("\(e)".contains("/nonexistent/B5.TIF"), "\(e)") }
    }
}

/// Streaming: GDAL is asked for block-aligned windows, each raster row once, whatever the block layout.
final class BlockAlignedReadTests: XCTestCase {
    /// Row ranges read: contiguous from the top, no overlap, covering every row once; each read
    /// starts on a block boundary.
    func assertBlockAligned(_ reads: [Range<Int>], height: Int, block: Int, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(reads.first?.lowerBound, 0, file: file, line: line)
        XCTAssertEqual(reads.last?.upperBound, height, file: file, line: line)
        for (a, b) in zip(reads, reads.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound, "gap or overlap: \(reads)", file: file, line: line) }
        for r in reads { XCTAssertEqual(r.lowerBound % block, 0, "read \(r) does not start on a \(block)-row block boundary", file: file, line: line) }
    }

    func testStripOrganisedSceneIsReadInWholeStripsOnce() throws {
        // The pre-collection bands are stored in 6-row strips: 40-row tile strips straddle them.
        let reader = try TileStripReader(source: preCollectionSource(), options: TilingOptions())
        XCTAssertEqual(reader.rasters.blockHeight, 6)
        try reader.forEachRow { _, _ in }
        assertBlockAligned(reader.blocks.reads, height: 603, block: 6)
        XCTAssertEqual(reader.blocks.reads.count, 16)
    }

    func testTiledCopyGivesTheSameTilesFromBlockAlignedReads() throws {
        // The same scene rewritten as 128×128-tiled DEFLATE GeoTIFFs (the layout of USGS's COGs, smaller blocks).
        let dir = makeTempDirectory("tiling-tiled")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var tiled = preCollectionSource()
        for i in tiled.bands.indices {
            let copy = dir + "/B\(i + 1).TIF"
            try runTool("gdal_translate", ["-q", "-co", "TILED=YES", "-co", "BLOCKXSIZE=128", "-co", "BLOCKYSIZE=128", "-co", "COMPRESS=DEFLATE",
                                           tiled.bands[i].path, copy])
            tiled.bands[i].path = copy
        }
        try runTool("gdal_translate", ["-q", "-co", "TILED=YES", "-co", "BLOCKXSIZE=128", "-co", "BLOCKYSIZE=128", tiled.qaFile!, dir + "/BQA.TIF"])
        tiled.qaFile = dir + "/BQA.TIF"

        let reader = try TileStripReader(source: tiled, options: TilingOptions())
        XCTAssertEqual(reader.rasters.blockHeight, 128)
        let original = try TileStripReader(source: preCollectionSource(), options: TilingOptions())
        var compared = 0
        try reader.forEachRow { row, tiles in
            let reference = try original.readRow(row)
            XCTAssertEqual(tiles.count, reference.count)
            for (t, r) in zip(tiles, reference) {
                XCTAssertEqual(t.pixels, r.pixels, "tile \(t.metadata.row),\(t.metadata.col)")
                XCTAssertEqual(t.valid, r.valid)
                compared += 1
            }
        }
        XCTAssertEqual(compared, 256)
        // 603 rows in 128-row blocks: 5 reads, the last one the partial bottom block row.
        XCTAssertEqual(reader.blocks.reads, [0..<128, 128..<256, 256..<384, 384..<512, 512..<603])
        assertBlockAligned(reader.blocks.reads, height: 603, block: 128)
    }

    func testRowsInAnyOrderAreStillRight() throws {
        let reader = try TileStripReader(source: preCollectionSource(), options: TilingOptions())
        let forward = try (0..<16).map { try reader.readRow($0) }
        for r in [15, 3, 2, 9, 0] {
            XCTAssertEqual(try reader.readRow(r).map(\.pixels), forward[r].map(\.pixels), "tile row \(r)")
        }
    }
}

/// The required figures through the Landsat module (MTL parsing → SceneSource).
final class LandsatSceneTilingTests: XCTestCase {
    func testPreCollectionSceneFigures() throws {
        let source = try SceneSource(landsatPath: "\(sharedDirectory)/data/scenes/\(preCollection)")
        XCTAssertEqual(source.id, preCollection)
        XCTAssertEqual(source.week, 32)
        XCTAssertEqual(source.hour, 16 + 19.0 / 60 + 21.7917421 / 3600, accuracy: 1e-9)  // 16.3227…
        XCTAssertEqual(source.facts.acquisition.iso8601, "2015-08-04T16:19:21.79Z")
        XCTAssertEqual(source.bands.count, 7)
        XCTAssertFalse(source.modelReady)
        let pad = try TileStripReader(source: source, options: TilingOptions())
        XCTAssertEqual([pad.grid.rows, pad.grid.cols], [16, 16])
        let drop = try TileStripReader(source: source, options: TilingOptions(edge: .drop))
        XCTAssertEqual([drop.grid.rows, drop.grid.cols], [15, 15])
        // A chosen tile's centre against an independent gdaltransform run from the scene's own WKT2.
        let m = try pad.locator.metadata(row: 11, col: 4)
        let ref = try gdaltransform(pad.rasters.crs.wkt2, m.centreX, m.centreY)
        XCTAssertEqual(m.lat, ref.lat, accuracy: 1e-6)
        XCTAssertEqual(m.lon, ref.lon, accuracy: 1e-6)
        XCTAssertEqual(m.week, 32)
        XCTAssertEqual(m.hour, 16.32, accuracy: 0.01)
    }

    func testAntarcticSceneLatitudesFromRasterCRS() throws {
        let source = try SceneSource(landsatPath: "\(sharedDirectory)/data/scenes/\(antarctic)")
        XCTAssertTrue(source.modelReady)
        XCTAssertEqual(source.bands.map(\.name), ["SR_B1", "SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6", "SR_B7"])
        let reader = try TileStripReader(source: source, options: TilingOptions())
        let tiles = try reader.readRow(reader.grid.rows / 2)
        XCTAssertFalse(tiles.isEmpty)
        for t in tiles {
            XCTAssertTrue((-83.0)...(-80.0) ~= t.metadata.lat, "\(t.metadata.lat)")
            XCTAssertTrue((-180.0)...(180.0) ~= t.metadata.lon)
        }
    }
}
