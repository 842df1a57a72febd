import Foundation
import GeoRaster
import Landsat
import Tiling
import XCTest
@testable import Probe

/// Label rasters and labelled polygons in another CRS and resolution, placed on the tiles of a real
/// scene (LC08 path 8 row 59, UTM 18N, 512×512 px of ~450 m) and compared with GDAL's own command-line
/// tools (`gdalwarp -et 0 -r near`, `ogr2ogr` + `gdal_rasterize`) run onto the scene's tile grid.
final class GridLabelsTests: XCTestCase {
    static let sceneFolder = LinearProbeFileTests.repositoryRoot
        .appendingPathComponent("../shared/data/scenes/LC08_L2SP_008059_20191201_20200825_02_T1").standardized.path
    static let band1 = sceneFolder + "/LC08_L2SP_008059_20191201_20200825_02_T1_SR_B1.TIF"

    var folder: URL!
    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("grid-labels-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: folder) }
    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// The scene as `moemae tile` describes it: 12×12 tiles of 40 px (edge policy drop).
    func sceneManifest() throws -> (DatasetManifest, CoordinateReferenceSystem, GeoTransform) {
        let ds = try RasterDataset(path: Self.band1)
        let crs = try XCTUnwrap(try ds.crs())
        let gt = try XCTUnwrap(ds.geoTransform)
        let facts = SceneFacts(id: "LC08_L2SP_008059_20191201_20200825_02_T1", spacecraft: .landsat(8), sensor: .oliTirs,
                               collection: .collection2, processingLevel: .l2sp, acquisition: AcquisitionTime(iso8601: "2019-12-01T15:20:00Z")!)
        let scene = DatasetManifest.Scene(
            facts: facts, crsWKT2: crs.wkt2, epsg: crs.epsg, geotransform: gt.gdal,
            width: ds.width, height: ds.height, gridRows: 12, gridCols: 12, files: [Self.band1], modelReady: true)
        let manifest = DatasetManifest(tileSize: 40, bands: LandsatBandSet.modelBandNames, edge: .drop, hourPolicy: .utc,
                                       metadata: true, minValid: 0, shards: [], scenes: [scene])
        return (manifest, crs, gt)
    }

    static let allTiles = (0..<12).flatMap { r in (0..<12).map { TileRef(scene: 0, row: r, col: $0) } }

    @discardableResult
    func tool(_ name: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [name] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw NSError(domain: name, code: Int(p.terminationStatus), userInfo: [NSLocalizedDescriptionKey: "\(name) \(args): \(String(decoding: e, as: UTF8.self))"])
        }
        return String(decoding: o, as: UTF8.self)
    }

    /// Per-tile class counts of a reference raster on the 480×480 tile region (value `nodata` ignored).
    func referenceCounts(_ file: String, nodata: Int32) throws -> [[Int32: Int]] {
        let ds = try RasterDataset(path: file)
        XCTAssertEqual(ds.width, 480); XCTAssertEqual(ds.height, 480)
        let v = try ds.read(band: 1, window: RasterWindow(column: 0, row: 0, width: 480, height: 480), as: Int32.self)
        return Self.allTiles.map { t in
            var c: [Int32: Int] = [:]
            for y in 0..<40 { for x in 0..<40 {
                let value = v[(t.row * 40 + y) * 480 + t.col * 40 + x]
                if value != nodata { c[value, default: 0] += 1 }
            } }
            return c
        }
    }

    /// The class indices the reference counts imply, by the documented rules.
    func expectedLabels(_ counts: [[Int32: Int]], classCodes: [Int32], task: ProbeTask, minFraction: Double) -> [[Int]?] {
        counts.map { c in
            let total = c.values.reduce(0, +)
            guard total > 0 else { return nil }
            let index = { (code: Int32) in classCodes.firstIndex(of: code)! }
            if task == .multiclass {
                let top = c.values.max()!
                return [c.filter { $0.value == top }.map { index($0.key) }.min()!]
            }
            let set = c.filter { Double($0.value) >= minFraction * Double(total) }.map { index($0.key) }.sorted()
            return set.isEmpty ? nil : set
        }
    }

    /// `-te`/`-ts` of the 12×12-tile region in the scene CRS.
    func regionArguments(_ gt: GeoTransform) -> [String] {
        let x0 = gt.originX, y1 = gt.originY
        let x1 = x0 + 480 * gt.pixelWidth, y0 = y1 + 480 * gt.pixelHeight
        return ["-te", "\(x0)", "\(y0)", "\(x1)", "\(y1)", "-ts", "480", "480"]
    }

    func testLabelRasterInGeographicCRSMatchesGdalwarpOntoTheTiles() throws {
        let (manifest, crs, gt) = try sceneManifest()
        // A class raster in the scene's UTM zone at 150 m, partly nodata (0), not aligned with the tiles,
        // covering only part of the scene; then reprojected to WGS 84 at 0.0015° as the user's input.
        let cell = 150.0, cols = 1200, rows = 1100
        let xll = gt.originX + 20_000, yll = gt.originY - 230_000 + 60_000 - 40_000
        var asc = "ncols \(cols)\nnrows \(rows)\nxllcorner \(xll)\nyllcorner \(yll)\ncellsize \(cell)\nNODATA_value 0\n"
        for r in 0..<rows {
            let y = yll + (Double(rows - r) - 0.5) * cell
            asc += (0..<cols).map { c -> String in
                let x = xll + (Double(c) + 0.5) * cell
                if abs(x - xll - 90_000) < 6_000 && abs(y - yll - 80_000) < 9_000 { return "0" }  // a nodata hole
                return String(1 + (Int((x - xll) / 13_000) + Int((y - yll) / 17_000)) % 3)
            }.joined(separator: " ") + "\n"
        }
        try Data(asc.utf8).write(to: URL(fileURLWithPath: path("classes.asc")))
        try tool("gdal_translate", ["-q", "-a_srs", "EPSG:32618", "-ot", "Byte", path("classes.asc"), path("classes-utm.tif")])
        try tool("gdalwarp", ["-q", "-t_srs", "EPSG:4326", "-r", "near", "-tr", "0.0015", "0.0015", "-srcnodata", "0", "-dstnodata", "0",
                              path("classes-utm.tif"), path("labels-4326.tif")])
        // The reference: GDAL's warper (exact transformer) onto the tile region in one piece.
        try Data(crs.wkt2.utf8).write(to: URL(fileURLWithPath: path("scene.wkt")))
        try tool("gdalwarp", ["-q", "-et", "0", "-r", "near", "-t_srs", path("scene.wkt")] + regionArguments(gt) +
                 ["-dstnodata", "0", "-ot", "Int32", path("labels-4326.tif"), path("reference.tif")])
        let reference = try referenceCounts(path("reference.tif"), nodata: 0)
        let codes = Array(Set(reference.flatMap(\.keys))).sorted()
        XCTAssertEqual(codes, [1, 2, 3])
        let unlabelled = reference.filter { $0.isEmpty }.count
        XCTAssertGreaterThan(unlabelled, 10, "the raster covers only part of the scene")
        XCTAssertLessThan(unlabelled, 120)

        let placement = TilePlacement(manifest: manifest, path: "dataset")
        for (task, fraction) in [(ProbeTask.multiclass, 0.5), (.multilabel, 0.3)] {
            let labels = try RasterLabels(path: path("labels-4326.tif")).labels(for: Self.allTiles, placement: placement, task: task, minFraction: fraction)
            XCTAssertEqual(labels.classes.map(\.name), ["1", "2", "3"])
            let expected = expectedLabels(reference, classCodes: codes, task: task, minFraction: fraction)
            XCTAssertEqual(labels.labels.count, 144)
            let mismatches = (0..<144).filter { labels.labels[$0] != expected[$0] }
            XCTAssertEqual(mismatches, [], "\(task): tiles whose labels differ from gdalwarp's")
            XCTAssertTrue(labels.notes.contains { $0.contains("no labelled pixel") })
        }
        // Mixed tiles exist, so the multi-label sets are not all singletons.
        let ml = try RasterLabels(path: path("labels-4326.tif")).labels(for: Self.allTiles, placement: placement, task: .multilabel, minFraction: 0.3)
        XCTAssertTrue(ml.labels.contains { ($0?.count ?? 0) > 1 })
    }

    func testLabelRasterOutsideTheTilesIsAnError() throws {
        let (manifest, _, _) = try sceneManifest()
        // A class raster over Bavaria (UTM 32N), nowhere near the scene in Colombia.
        let asc = "ncols 4\nnrows 4\nxllcorner 680000\nyllcorner 5330000\ncellsize 1000\nNODATA_value 0\n" + String(repeating: "1 2 1 2\n", count: 4)
        try Data(asc.utf8).write(to: URL(fileURLWithPath: path("far.asc")))
        try tool("gdal_translate", ["-q", "-a_srs", "EPSG:32632", path("far.asc"), path("far.tif")])
        let placement = TilePlacement(manifest: manifest, path: "dataset")
        XCTAssertThrowsError(try RasterLabels(path: path("far.tif")).labels(for: Self.allTiles, placement: placement, task: .multiclass, minFraction: 0.5)) { error in
            XCTAssertTrue("\(error)".contains("does not overlap any of the 144 tiles"), "\(error)")
        }
    }

    func testPolygonsInGeographicCRSMatchGdalRasterize() throws {
        let (manifest, crs, gt) = try sceneManifest()
        // Scene corners in lon/lat, then three class bands and an overlapping later polygon.
        let t = try CoordinateTransformer(from: crs)
        let nw = try t.lonLat(x: gt.originX, y: gt.originY)
        let se = try t.lonLat(x: gt.originX + 480 * gt.pixelWidth, y: gt.originY + 480 * gt.pixelHeight)
        func lon(_ f: Double) -> Double { nw.lon + f * (se.lon - nw.lon) }
        func lat(_ f: Double) -> Double { nw.lat + f * (se.lat - nw.lat) }
        func box(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double) -> String {
            "[[[\(lon(x0)),\(lat(y0))],[\(lon(x1)),\(lat(y0))],[\(lon(x1)),\(lat(y1))],[\(lon(x0)),\(lat(y1))],[\(lon(x0)),\(lat(y0))]]]"
        }
        // Sorted class values: forest (0), urban (1), water (2); `code` is for the gdal_rasterize reference only.
        let features: [(String, Int, String)] = [
            ("forest", 0, box(-0.1, -0.1, 0.63, 0.37)), ("water", 2, box(-0.1, 0.37, 1.1, 0.71)),
            ("urban", 1, box(0.2, 0.71, 0.9, 0.95)), ("water", 2, box(0.45, 0.2, 0.58, 0.5)),
        ]
        let json = """
        {"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"features":[
        \(features.map { #"{"type":"Feature","properties":{"landcover":"\#($0.0)","code":\#($0.1)},"geometry":{"type":"Polygon","coordinates":\#($0.2)}}"# }.joined(separator: ",\n"))
        ]}
        """
        try Data(json.utf8).write(to: URL(fileURLWithPath: path("landcover.geojson")))
        try Data(crs.wkt2.utf8).write(to: URL(fileURLWithPath: path("scene.wkt")))
        try tool("ogr2ogr", ["-t_srs", path("scene.wkt"), path("landcover-utm.gpkg"), path("landcover.geojson")])
        try tool("gdal_rasterize", ["-q", "-a", "code", "-init", "255", "-a_nodata", "255", "-ot", "Int32"] + regionArguments(gt) +
                 [path("landcover-utm.gpkg"), path("reference.tif")])
        let reference = try referenceCounts(path("reference.tif"), nodata: 255)
        let placement = TilePlacement(manifest: manifest, path: "dataset")
        for (task, fraction) in [(ProbeTask.multiclass, 0.5), (.multilabel, 0.25)] {
            let labels = try VectorLabels(path: path("landcover.geojson"), classField: "landcover")
                .labels(for: Self.allTiles, placement: placement, task: task, minFraction: fraction)
            XCTAssertEqual(labels.classes.map(\.name), ["forest", "urban", "water"])
            let expected = expectedLabels(reference, classCodes: [0, 1, 2], task: task, minFraction: fraction)
            let mismatches = (0..<144).filter { labels.labels[$0] != expected[$0] }
            XCTAssertEqual(mismatches, [], "\(task): tiles whose labels differ from gdal_rasterize's")
            XCTAssertTrue(labels.labels.contains { $0 == nil }, "the bottom strip has no polygon")
        }
        XCTAssertThrowsError(try VectorLabels(path: path("landcover.geojson"), classField: "class")
            .labels(for: Self.allTiles, placement: placement, task: .multiclass, minFraction: 0.5)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("no attribute 'class'") && text.contains("landcover"), text)
        }
    }
}
