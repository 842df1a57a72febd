import Foundation
import Landsat
import GeoRaster
import SafeTensors
import Diagnostics

/// Writes a dataset folder (the contract in `schemas/dataset-manifest.schema.json`):
/// safetensors shards (or GeoTIFF chips), `manifest.json` and `tiles.gpkg`.
///
/// Everything is written under a hidden temporary folder beside the output (`.<name>.partial-<pid>`)
/// and renamed to the output name by ``finish()``; ``abort()`` (or dropping the writer) removes it, and
/// the folders that killed runs left (their pid no longer running) are removed when the next writer for
/// the same output starts (``AtomicFile/removeAbandonedTemporaries(of:)``). An
/// existing output is refused unless `overwrite` is set, and then replaced only after the new one is
/// complete.
///
/// Shards hold at most `shardSize` tiles; one shard is buffered in memory
/// (≈ shardSize × (bands × size² × 2 + size² + 40) bytes: 96 MB for 4096 tiles of 7×40×40).
public final class DatasetWriter {
    public let outputPath: String
    public let temporaryPath: String
    public let options: TilingOptions
    public let layout: DatasetLayout
    public let shardSize: Int
    public let overwrite: Bool
    public private(set) var bands: [String] = []
    public private(set) var scenes: [DatasetManifest.Scene] = []
    public private(set) var shards: [DatasetManifest.Shard] = []
    public private(set) var tileCount = 0

    private var sceneCRS: [CoordinateReferenceSystem] = []
    private var sceneLayer: [Int] = []
    private var layerCRS: [CoordinateReferenceSystem] = []
    private var vector: VectorWriter?
    private var finished = false

    // The shard being filled.
    private var pixels: [UInt16] = []
    private var valid: [UInt8] = []
    private var lat: [Double] = [], lon: [Double] = []
    private var week: [Int32] = [], row: [Int32] = [], col: [Int32] = [], scene: [Int32] = []
    private var hour: [Float] = [], validFraction: [Float] = []

    static let tileFields = [VectorField("shard", .integer), VectorField("index", .integer), VectorField("scene", .integer),
                             VectorField("scene_id", .string), VectorField("row", .integer), VectorField("col", .integer),
                             VectorField("lat", .real), VectorField("lon", .real), VectorField("valid_fraction", .real)]

    public init(path: String, options: TilingOptions, layout: DatasetLayout = .safetensors, shardSize: Int = 4096, overwrite: Bool = false) throws {
        try options.validate()
        guard shardSize >= 1 else { throw Failure(.invalidArgument, "shard size must be at least 1 tile (got \(shardSize))", settings: [.shardSize]) }
        let url = URL(fileURLWithPath: path).standardizedFileURL
        outputPath = url.path
        temporaryPath = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial-\(getpid())").path
        self.options = options; self.layout = layout; self.shardSize = shardSize; self.overwrite = overwrite
        let fm = FileManager.default
        if fm.fileExists(atPath: outputPath) && !overwrite {
            throw OutputExists(path: path)
        }
        if fm.fileExists(atPath: outputPath) && overwrite && !Self.isReplaceable(outputPath) {
            // --overwrite replaces a dataset; it must never delete a user's file or folder given as --out
            // by mistake (publishing removes the old output recursively).
            throw TilingError(path: path, "exists and is not a moemae dataset folder (no manifest.json written by `moemae tile`), so overwriting does not replace it",
                              hint: "write the dataset elsewhere, or remove it yourself if it is no longer needed", settings: [.out])
        }
        var isDir: ObjCBool = false
        let parent = url.deletingLastPathComponent().path
        guard fm.fileExists(atPath: parent, isDirectory: &isDir), isDir.boolValue else {
            throw TilingError(path: parent, "the folder to write the dataset into does not exist", hint: "create it first")
        }
        try? fm.removeItem(atPath: temporaryPath)
        // What a run killed before publishing left (SIGKILL runs no cleanup); a live run's folder stays.
        AtomicFile.removeAbandonedTemporaries(of: outputPath)
        do {
            try fm.createDirectory(atPath: temporaryPath, withIntermediateDirectories: false)
            if layout == .geotiff {
                try fm.createDirectory(atPath: temporaryPath + "/images", withIntermediateDirectories: false)
                try fm.createDirectory(atPath: temporaryPath + "/labels", withIntermediateDirectories: false)
            }
        } catch {
            // The POSIX reason ("Permission denied", "No such file or directory") when Foundation has one.
            let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
            let reason = underlying.map { $0.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32($0.code))) : $0.localizedDescription }
                ?? error.localizedDescription
            throw TilingError(path: outputPath, "cannot create the temporary dataset folder \(temporaryPath) in \(parent) (\(reason))",
                              hint: "write the dataset into a writable folder (check permissions and free space)", settings: [.out])
        }
    }

    deinit { if !finished { abort() } }

    /// Registers a scene (its manifest entry) and returns its index for ``add(_:scene:)``.
    /// All scenes must have the same band names.
    public func addScene(_ rasters: SceneRasters, grid: TileGrid) throws -> Int {
        let s = rasters.source
        let names = s.bands.map(\.name)
        if scenes.isEmpty { bands = names } else if names != bands {
            throw TilingError(path: s.id, "has bands \(names.joined(separator: ",")) but the first scene has \(bands.joined(separator: ","))",
                              hint: "tile scenes with the same band set into one dataset (e.g. only Collection 2 Level-2 scenes)")
        }
        scenes.append(DatasetManifest.Scene(
            facts: s.facts, crsWKT2: rasters.crs.wkt2, epsg: rasters.crs.epsg, geotransform: rasters.geoTransform.gdal,
            width: rasters.width, height: rasters.height, gridRows: grid.rows, gridCols: grid.cols,
            files: s.files.map(RemoteLocation.displayURL), modelReady: s.modelReady))
        sceneCRS.append(rasters.crs)
        // One GeoPackage layer per CRS (a layer has one CRS).
        if let i = try layerCRS.firstIndex(where: { try $0.isSame(as: rasters.crs) }) {
            sceneLayer.append(i)
        } else {
            if vector == nil { vector = try wrap { try VectorWriter(path: temporaryPath + "/tiles.gpkg") } }
            let crs = rasters.crs
            let name = layerCRS.isEmpty ? "tiles" : "tiles_" + (crs.epsg.map { "epsg\($0)" } ?? "crs\(layerCRS.count)")
            let index = try wrap { try vector!.createLayer(name: name, crs: crs, fields: Self.tileFields) }
            layerCRS.append(crs)
            sceneLayer.append(index)
        }
        return scenes.count - 1
    }

    /// Appends tiles of scene `sceneIndex` (as ``TileStripReader/readRow(_:minValid:)`` returns them).
    public func add(_ tiles: [Tile], scene sceneIndex: Int) throws {
        for t in tiles {
            let (shardIndex, indexInShard) = layout == .safetensors ? (shards.count, lat.count) : (-1, tileCount)
            switch layout {
            case .safetensors: try append(t, scene: sceneIndex)
            case .geotiff: try writeChip(t, scene: sceneIndex)
            }
            let m = t.metadata
            try wrap {
                try vector?.addPolygon(m.geoTransform.corners(column: 0, row: 0, width: t.size, height: t.size), values: [
                    shardIndex >= 0 ? .integer(shardIndex) : .null, .integer(indexInShard), .integer(sceneIndex), .string(scenes[sceneIndex].id),
                    .integer(m.row), .integer(m.col), .real(m.lat), .real(m.lon), .real(t.validFraction),
                ], layer: sceneLayer[sceneIndex])
            }
            tileCount += 1
            if layout == .safetensors, lat.count == shardSize { try flushShard() }
        }
    }

    private func append(_ t: Tile, scene sceneIndex: Int) throws {
        if pixels.isEmpty {
            pixels.reserveCapacity(min(shardSize, 4096) * t.pixels.count)
            valid.reserveCapacity(min(shardSize, 4096) * t.valid.count)
        }
        let m = t.metadata
        pixels.append(contentsOf: t.pixels); valid.append(contentsOf: t.valid)
        lat.append(m.lat); lon.append(m.lon); week.append(Int32(m.week)); hour.append(Float(m.hour))
        row.append(Int32(m.row)); col.append(Int32(m.col)); scene.append(Int32(sceneIndex)); validFraction.append(Float(t.validFraction))
    }

    private func flushShard() throws {
        let n = lat.count
        guard n > 0 else { return }
        let s = options.tileSize, b = bands.count
        let file = String(format: "tiles-%05d.safetensors", shards.count)
        let path = temporaryPath + "/" + file
        do {
            let w = try SafeTensorsStreamWriter(path: path, tensors: [
                TensorSpec("pixels", .u16, [n, b, s, s]), TensorSpec("valid", .u8, [n, s, s]),
                TensorSpec("lat", .f64, [n]), TensorSpec("lon", .f64, [n]), TensorSpec("week", .i32, [n]), TensorSpec("hour", .f32, [n]),
                TensorSpec("row", .i32, [n]), TensorSpec("col", .i32, [n]), TensorSpec("scene", .i32, [n]),
                TensorSpec("valid_fraction", .f32, [n]),
            ], metadata: ["format": DatasetManifest.formatName, "bands": bands.joined(separator: ","), "tile_size": "\(s)"])
            try pixels.withUnsafeBytes { try w.write("pixels", raw: $0, dtype: .u16) }
            try valid.withUnsafeBytes { try w.write("valid", raw: $0, dtype: .u8) }
            try w.write("lat", lat); try w.write("lon", lon); try w.write("week", week); try w.write("hour", hour)
            try w.write("row", row); try w.write("col", col); try w.write("scene", scene); try w.write("valid_fraction", validFraction)
            try w.finish()
        } catch {
            throw TilingError(path: path, "cannot write the shard: \(error)", hint: "check free disk space")
        }
        shards.append(DatasetManifest.Shard(file: file, tiles: n))
        pixels.removeAll(keepingCapacity: true); valid.removeAll(keepingCapacity: true)
        lat.removeAll(keepingCapacity: true); lon.removeAll(keepingCapacity: true); week.removeAll(keepingCapacity: true)
        hour.removeAll(keepingCapacity: true); row.removeAll(keepingCapacity: true); col.removeAll(keepingCapacity: true)
        scene.removeAll(keepingCapacity: true); validFraction.removeAll(keepingCapacity: true)
    }

    /// The chip's base name: `<scene id>_<row>_<col>`.
    public static func chipName(scene: String, row: Int, col: Int) -> String { "\(scene)_\(row)_\(col)" }

    private func writeChip(_ t: Tile, scene sceneIndex: Int) throws {
        let sc = scenes[sceneIndex], m = t.metadata
        let name = Self.chipName(scene: sc.id, row: m.row, col: m.col)
        let image = temporaryPath + "/images/\(name).tif"
        try wrap {
            let w = try RasterWriter(path: image, width: t.size, height: t.size, bandCount: t.bandCount, dataType: .uint16, options: .plain)
            try w.setGeoTransform(m.geoTransform)
            try w.setCRS(sceneCRS[sceneIndex])
            for (i, band) in bands.enumerated() { try w.setDescription(band: i + 1, band); try w.setNoData(band: i + 1, 0) }
            let window = RasterWindow(column: 0, row: 0, width: t.size, height: t.size)
            try w.write(window: window, bandSequential: t.pixels)
            // The tile's per-pixel validity as the chip's internal GDAL mask (what rasterio's
            // dataset_mask() returns); the bands also declare nodata 0, Landsat's fill value.
            try w.writeMask(window: window, valid: t.valid)
            try w.finish()
        }
        let corners = m.geoTransform.corners(column: 0, row: 0, width: t.size, height: t.size)
        let label = ChipLabel(labels: [], coordinates: .init(ulx: corners[0].x, uly: corners[0].y, lrx: corners[2].x, lry: corners[2].y),
                              projection: sc.crsWKT2, epsg: sc.epsg, acquisitionDate: Self.bigEarthNetDate(sc.facts.acquisition), acquired: sc.facts.acquisition.iso8601,
                              productID: sc.id, row: m.row, col: m.col, lat: m.lat, lon: m.lon, week: m.week, hour: m.hour,
                              validFraction: t.validFraction, geotransform: m.geoTransform.gdal, metadata: options.metadata)
        let path = temporaryPath + "/labels/\(name)_metadata.json"
        do {
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            try enc.encode(label).write(to: URL(fileURLWithPath: path))
        } catch {
            throw TilingError(path: path, "cannot write the chip metadata: \(error.localizedDescription)")
        }
    }

    /// `2015-08-04T16:19:21.79Z` → `2015-08-04 16:19:21` (BigEarthNet's `acquisition_date` format).
    static func bigEarthNetDate(_ time: AcquisitionTime) -> String {
        var s = time.iso8601(fractionDigits: 0).replacingOccurrences(of: "T", with: " ")
        s.removeLast()   // the `Z`
        return s
    }

    /// Writes the last shard, `manifest.json` and `tiles.gpkg`, then renames the folder to its final
    /// name (replacing an existing output when `overwrite` is set). Throws when no tile was written.
    @discardableResult
    public func finish() throws -> DatasetManifest {
        guard !finished else { throw TilingError(path: outputPath, "dataset already finished") }
        do {
            guard tileCount > 0 else {
                let why = options.minValid > 0 ? "every tile has a valid fraction below the minimum \(options.minValid)"
                    : options.edge == .drop ? "the scenes are smaller than one \(options.tileSize)×\(options.tileSize) tile and the edge policy drop drops partial tiles"
                    : "the scenes produced no tiles"
                throw TilingError(path: scenes.map(\.id).joined(separator: ", "), "no tiles to write: \(why)",
                                  hint: "lower the minimum valid fraction, pad partial edge tiles, or check that the scenes hold data (not only fill)",
                                  settings: [.minValid, .edge])
            }
            if layout == .safetensors { try flushShard() }
            try wrap { try vector?.finish() }
            let manifest = DatasetManifest(tileSize: options.tileSize, bands: bands, edge: options.edge, hourPolicy: options.hourPolicy,
                                           metadata: options.metadata, minValid: options.minValid, shards: shards, scenes: scenes, layout: layout)
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let manifestPath = temporaryPath + "/manifest.json"
            do { try enc.encode(manifest).write(to: URL(fileURLWithPath: manifestPath)) } catch {
                throw TilingError(path: manifestPath, "cannot write the manifest: \(error.localizedDescription)")
            }
            try publish()
            finished = true
            return manifest
        } catch {
            abort()
            throw error
        }
    }

    /// Whether `--overwrite` may replace `path`: an empty folder, or a folder holding the
    /// `manifest.json` of a moemae dataset (`"format": "moemae-dataset"`). A file, or a folder with other
    /// content, is never replaced.
    static func isReplaceable(_ path: String) -> Bool {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else { return false }
        if (try? fm.contentsOfDirectory(atPath: path))?.isEmpty == true { return true }
        guard let data = fm.contents(atPath: (path as NSString).appendingPathComponent("manifest.json")),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return object["format"] as? String == DatasetManifest.formatName
    }

    private func publish() throws {
        let fm = FileManager.default
        var old: String?
        if fm.fileExists(atPath: outputPath) {
            guard overwrite else { throw OutputExists(path: outputPath) }
            let o = temporaryPath + "-old"
            do { try fm.moveItem(atPath: outputPath, toPath: o) } catch {
                throw TilingError(path: outputPath, "cannot move the existing output aside: \(error.localizedDescription)")
            }
            old = o
        }
        do { try fm.moveItem(atPath: temporaryPath, toPath: outputPath) } catch {
            if let old { try? fm.moveItem(atPath: old, toPath: outputPath) }
            throw TilingError(path: outputPath, "cannot rename the finished dataset to its final name: \(error.localizedDescription)")
        }
        if let old { try? fm.removeItem(atPath: old) }
    }

    /// Abandons the dataset: removes the temporary folder (an existing output is left untouched).
    public func abort() {
        vector?.abort()
        vector = nil
        try? FileManager.default.removeItem(atPath: temporaryPath)
        finished = true
    }

    private func wrap<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as GeoRasterError {
            throw TilingError(path: e.path ?? outputPath, e.message + (e.libraryMessages.isEmpty ? "" : " (\(e.libraryMessages.joined(separator: "; ")))"),
                              hint: e.hint)
        }
    }
}

/// `labels/<id>_<row>_<col>_metadata.json` of a GeoTIFF-layout dataset: BigEarthNet's label-file keys
/// (`labels`, `coordinates`, `projection`, `acquisition_date`) plus the tile's own metadata, so the
/// chips can be read back as a BigEarthNet-style folder.
struct ChipLabel: Codable {
    struct Coordinates: Codable { var ulx, uly, lrx, lry: Double }
    var labels: [String]
    var coordinates: Coordinates
    var projection: String
    var epsg: Int?
    var acquisitionDate: String
    var acquired: String
    var productID: String
    var row, col: Int
    var lat, lon: Double
    var week: Int
    var hour: Double
    var validFraction: Double
    var geotransform: [Double]
    var metadata: Bool

    enum CodingKeys: String, CodingKey {
        case labels, coordinates, projection, epsg, acquisitionDate = "acquisition_date", acquired, productID = "product_id"
        case row, col, lat, lon, week, hour, validFraction = "valid_fraction", geotransform, metadata
    }
}
