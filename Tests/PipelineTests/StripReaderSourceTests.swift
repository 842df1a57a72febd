import Foundation
import GeoRaster
import Landsat
import Tiling
import XCTest
@testable import Pipeline

/// The map pipeline on real scenes through Tiling's strip reader, with an encoder that only records what
/// it is given (label = tile row parity): checks reading, validity, status, metadata and georeferencing.
final class StripReaderSourceTests: XCTestCase {
    final class RecordingEncoder: TileBatchEncoder {
        let layout: MapOutputLayout
        let lock: NSLock
        var seen: [String: (lat: Double, lon: Double, week: Int, hour: Double)]
        init(layout: MapOutputLayout, lock: NSLock) { self.layout = layout; self.lock = lock; seen = [:] }
        static var shared: [String: (lat: Double, lon: Double, week: Int, hour: Double)] = [:]
        func encode(_ batch: TileBatch) throws -> BatchResult {
            var labels: [UInt8] = []
            var m = 0
            lock.lock()
            for t in batch.tiles where t.status == .mapped {
                Self.shared["\(t.row),\(t.col)"] = (batch.lat[m], batch.lon[m], batch.week[m], batch.hour[m])
                labels.append(UInt8(Int(t.row) % 2))
                m += 1
            }
            lock.unlock()
            let routing = [UInt8](repeating: 0, count: m * layout.layers * layout.tokens * layout.slots)
            return BatchResult(sequence: batch.sequence, tiles: batch.tiles, labels: labels, routing: routing, scores: nil, embeddings: nil)
        }
    }

    func scene(_ id: String, acquired: String) -> SceneSource {
        let dir = repositoryRoot().appendingPathComponent("../shared/data/scenes/\(id)").standardized.path
        let facts = SceneFacts(id: id, spacecraft: .landsat(8), sensor: .oliTirs, collection: .collection2, processingLevel: .l2sp,
                               acquisition: AcquisitionTime(iso8601: acquired)!)
        return SceneSource(facts: facts, week: 0, hour: 1.0104, bands: (1...7).map { .init(name: "SR_B\($0)", path: "\(dir)/\(id)_SR_B\($0).TIF") },
                           qaFile: "\(dir)/\(id)_QA_PIXEL.TIF", readiness: .ready)
    }

    func testPolarSceneMapsWithItsOwnCRSAndSkipsFill() throws {
        let id = "LC08_L2SR_099120_20191129_20201016_02_T2"
        var src = scene(id, acquired: "2019-11-29T01:00:37.5764700Z")
        src.week = 48
        let source = try StripReaderSource(scene: src)
        let scene = source.mapScene()
        XCTAssertEqual(scene.acquired.timeIntervalSince1970, 1_574_989_237.576, accuracy: 0.001)
        XCTAssertEqual(scene.platform, "landsat-8")
        let layout = MapOutputLayout(gridRows: source.gridRows, gridCols: source.gridCols, expertsPerLayer: [3, 3],
                                     classNames: ["even row", "odd row"], classColors: [[0, 0, 0], [255, 255, 255]])
        let out = try temporaryFolder(self) + "/polar"
        var o = MapOptions(scenes: [id], weights: "w", probe: "p", out: out)
        o.quiet = true; o.batchSize = 16
        RecordingEncoder.shared = [:]
        let lock = NSLock()
        let result = try SceneMapper.run(scene: scene, source: source, layout: layout, options: o, fingerprint: "f",
                                         cancellation: CancellationToken(), progressMode: .quiet, note: { _ in }) { _ in
            RecordingEncoder(layout: layout, lock: lock)
        }
        XCTAssertEqual(source.gridRows, 13); XCTAssertEqual(source.gridCols, 13)

        // Georeferencing of the label map: the scene's CRS (polar stereographic, no UTM zone), ×40 pixels.
        let (status, json) = try runProcess("/usr/bin/gdalinfo", ["-json", out + "/\(id)_labels.tif"])
        XCTAssertEqual(status, 0)
        let info = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        let gt = scene.geoTransform.gdal
        XCTAssertEqual(info["geoTransform"] as? [Double], [gt[0], gt[1] * 40, gt[2] * 40, gt[3], gt[4] * 40, gt[5] * 40])
        let wkt = ((info["coordinateSystem"] as? [String: Any])?["wkt"] as? String) ?? ""
        XCTAssertTrue(wkt.contains("Polar") || wkt.contains("polar"), wkt)
        XCTAssertTrue(try CoordinateReferenceSystem(definition: wkt).isSame(as: scene.crs))

        // Every tile is either mapped (seen by the encoder, label = row parity) or nodata; all-fill tiles are nodata.
        let labels = try RasterDataset(path: out + "/\(id)_labels.tif").read(band: 1, window: RasterWindow(column: 0, row: 0, width: 13, height: 13), as: UInt8.self)
        let b1 = try RasterDataset(path: src.bands[0].path)
        var skipped = 0
        for r in 0..<13 {
            for c in 0..<13 {
                let seen = RecordingEncoder.shared["\(r),\(c)"]
                XCTAssertEqual(labels[r * 13 + c], seen == nil ? 255 : UInt8(r % 2), "tile \(r),\(c)")
                let w = RasterWindow(column: c * 40, row: r * 40, width: min(40, 512 - c * 40), height: min(40, 512 - r * 40))
                if try b1.read(band: 1, window: w, as: UInt16.self).allSatisfy({ $0 == 0 }) {
                    XCTAssertNil(seen, "an all-fill tile \(r),\(c) must be skipped")
                    skipped += 1
                }
            }
        }
        XCTAssertGreaterThan(skipped, 0, "the rotated footprint leaves fill tiles")
        XCTAssertEqual(result.summary.skipped.noValidPixels + result.summary.tilesMapped, 169)

        // Metadata reaching the encoder: latitudes between −83° and −80°, an independent transform agrees.
        let lats = RecordingEncoder.shared.values.map(\.lat)
        XCTAssertTrue(lats.allSatisfy { $0 > -83.5 && $0 < -79.5 }, "\(lats.min()!) … \(lats.max()!)")
        XCTAssertTrue(RecordingEncoder.shared.values.allSatisfy { $0.week == 48 && abs($0.hour - 1.0104) < 1e-9 })
        let (key, m) = RecordingEncoder.shared.first!
        let rc = key.split(separator: ",").map { Int($0)! }
        let x = gt[0] + (Double(rc[1]) * 40 + 20) * gt[1], y = gt[3] + (Double(rc[0]) * 40 + 20) * gt[5]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/gdaltransform")
        p.arguments = ["-s_srs", scene.crs.wkt2, "-t_srs", "EPSG:4326", "-output_xy"]
        let input = Pipe(), output = Pipe()
        p.standardInput = input; p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(Data("\(x) \(y)\n".utf8)); try input.fileHandleForWriting.close()
        p.waitUntilExit()
        let parts = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        // gdaltransform prints x y in GDAL's traditional GIS order: longitude, latitude.
        XCTAssertEqual(parts.count, 2)
        XCTAssertEqual(m.lon, parts[0], accuracy: 1e-6)
        XCTAssertEqual(m.lat, parts[1], accuracy: 1e-6)

        let item = try String(contentsOfFile: out + "/\(id).stac.json", encoding: .utf8)
        XCTAssertTrue(item.contains("\"proj:epsg\" : 3031") || item.contains("\"proj:epsg\" : null"), "polar CRS code or null")
    }
}
