import Foundation
import GeoRaster
import Landsat
import MoEMAE
import Probe
import SafeTensors
import Tiling

/// What a file or folder is, for `moemae info PATH…`: a Landsat scene (folder or MTL), a dataset
/// written by `moemae tile`, encoder weights, a linear probe, embeddings, a map output folder (or one
/// of its run summaries) or a STAC Item. ``describe(_:)`` recognises the path and gathers its facts
/// without reading pixels; ``text`` is the readable summary; the JSON form (`--json`) follows
/// `schemas/info.schema.json` (one object per path, snake_case keys).
public struct PathInfo: Encodable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case scene, mtl, dataset, weights, probe, embeddings, mapOutput = "map_output", stacItem = "stac_item"
    }

    public var path: String
    public var kind: Kind
    public var scene: SceneFacts?
    public var mtl: MTLFacts?
    public var dataset: DatasetFacts?
    public var weights: WeightsFacts?
    public var probe: ProbeFacts?
    public var embeddings: EmbeddingsFacts?
    public var mapOutput: MapOutputFacts?
    public var stacItem: STACItemFacts?

    enum CodingKeys: String, CodingKey {
        case path, kind, scene, mtl, dataset, weights, probe, embeddings, mapOutput = "map_output", stacItem = "stac_item"
    }

    /// A Landsat scene: its typed facts, the grid of its bands and the 40×40 tile grid `map` and `tile` use.
    /// The facts become strings only in the JSON (``encode(to:)``: `id`, `sensor`, `spacecraft`,
    /// `collection`, `level`, `acquired` as `schemas/info.schema.json` has them).
    public struct SceneFacts: Encodable, Sendable, Equatable {
        /// Product id, spacecraft, sensor, collection, processing level, acquisition time (UTC).
        public var facts: Landsat.SceneFacts
        public var bands: [String]
        /// True when the bands are C2 L2 surface reflectance SR_B1…SR_B7 (what the model was trained on).
        public var modelReady: Bool
        public var crs: String
        public var epsg: Int?
        public var width: Int
        public var height: Int
        /// Ground size of a pixel in CRS units (metres for UTM), from the geotransform.
        public var pixelSize: Double
        public var tileSize: Int
        public var tileRows: Int
        public var tileCols: Int
        public var tiles: Int
        public var files: [String]
        enum CodingKeys: String, CodingKey {
            case id, sensor, spacecraft, collection, level, acquired, bands, modelReady = "model_ready", crs, epsg
            case width, height, pixelSize = "pixel_size", tileSize = "tile_size", tileRows = "tile_rows", tileCols = "tile_cols"
            case tiles, files
        }

        public func encode(to encoder: Swift.Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try PathInfo.encode(facts, into: &c, id: .id, spacecraft: .spacecraft, sensor: .sensor, collection: .collection,
                                level: .level, acquired: .acquired)
            try c.encode(bands, forKey: .bands); try c.encode(modelReady, forKey: .modelReady)
            try c.encode(crs, forKey: .crs); try c.encodeIfPresent(epsg, forKey: .epsg)
            try c.encode(width, forKey: .width); try c.encode(height, forKey: .height); try c.encode(pixelSize, forKey: .pixelSize)
            try c.encode(tileSize, forKey: .tileSize); try c.encode(tileRows, forKey: .tileRows); try c.encode(tileCols, forKey: .tileCols)
            try c.encode(tiles, forKey: .tiles); try c.encode(files, forKey: .files)
        }
    }

    /// The JSON boundary of scene facts: the MTL spellings (`LANDSAT_8`, `OLI_TIRS`, `C2`, `L2SP`) and the
    /// acquisition time as ISO-8601 UTC with the recorded fraction digits.
    static func encode<K: CodingKey>(_ f: Landsat.SceneFacts, into c: inout KeyedEncodingContainer<K>, id: K, spacecraft: K, sensor: K,
                                     collection: K, level: K, acquired: K) throws {
        try c.encode(f.id, forKey: id)
        try c.encode(f.spacecraft.mtlName, forKey: spacecraft)
        try c.encode(f.sensor.mtlName, forKey: sensor)
        try c.encode(f.collection.rawValue, forKey: collection)
        try c.encode(f.processingLevel.mtlName, forKey: level)
        try c.encode(f.acquisition.iso8601, forKey: acquired)
    }

    /// An MTL file whose band files are not beside it: the metadata alone.
    public struct MTLFacts: Encodable, Sendable, Equatable {
        /// Product id, spacecraft, sensor, collection, processing level, acquisition time (UTC, every
        /// fraction digit the MTL records); strings only in the JSON (``PathInfo/SceneFacts``).
        public var facts: Landsat.SceneFacts
        public var wrsPath: Int?
        public var wrsRow: Int?
        public var cloudCover: Double?
        /// Band files the MTL lists (band number → file name).
        public var bandFiles: [String: String]
        /// Why the scene itself cannot be opened (missing band files …).
        public var sceneProblem: String
        enum CodingKeys: String, CodingKey {
            case id, spacecraft, sensor, collection, level, acquired, wrsPath = "wrs_path", wrsRow = "wrs_row"
            case cloudCover = "cloud_cover", bandFiles = "band_files", sceneProblem = "scene_problem"
        }

        public func encode(to encoder: Swift.Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try PathInfo.encode(facts, into: &c, id: .id, spacecraft: .spacecraft, sensor: .sensor, collection: .collection,
                                level: .level, acquired: .acquired)
            try c.encodeIfPresent(wrsPath, forKey: .wrsPath); try c.encodeIfPresent(wrsRow, forKey: .wrsRow)
            try c.encodeIfPresent(cloudCover, forKey: .cloudCover)
            try c.encode(bandFiles, forKey: .bandFiles); try c.encode(sceneProblem, forKey: .sceneProblem)
        }
    }

    /// A dataset folder written by `moemae tile` (its manifest).
    public struct DatasetFacts: Codable, Sendable, Equatable {
        public var tiles: Int
        public var shards: Int
        public var tileSize: Int
        public var bands: [String]
        public var edge: String
        public var hourPolicy: String
        public var metadata: Bool
        public var minValid: Double
        public var scenes: [String]
        /// Scenes whose bands are not C2 L2 SR_B1…SR_B7.
        public var scenesNotModelReady: [String]
        enum CodingKeys: String, CodingKey {
            case tiles, shards, tileSize = "tile_size", bands, edge, hourPolicy = "hour_policy", metadata, minValid = "min_valid"
            case scenes, scenesNotModelReady = "scenes_not_model_ready"
        }
    }

    /// Encoder weights (safetensors).
    public struct WeightsFacts: Codable, Sendable, Equatable {
        public var preset: String
        public var embedDim: Int
        public var depth: Int
        public var expertsPerLayer: [Int]
        public var inChannels: Int
        /// Elements of every tensor in the file (shared tensors counted each time they are stored).
        public var storedValues: Int
        /// True when `moemae pretrain` wrote the file (normalisation and hour policy recorded).
        public var trainedByMoemae: Bool
        public var hourPolicy: String?
        public var trainedSteps: Int?
        public var sha256: String
        enum CodingKeys: String, CodingKey {
            case preset, embedDim = "embed_dim", depth, expertsPerLayer = "experts_per_layer", inChannels = "in_channels"
            case storedValues = "stored_values", trainedByMoemae = "trained_by_moemae", hourPolicy = "hour_policy"
            case trainedSteps = "trained_steps", sha256
        }
    }

    /// A linear probe (`moemae probe fit` / `probe import`).
    public struct ProbeFacts: Codable, Sendable, Equatable {
        public var task: String
        public var classes: [String]
        public var dimension: Int
        public var feature: String
        /// SHA-256 of the encoder weights the probe was fitted on ("" when unknown).
        public var weightsSHA256: String
        public var trainingTiles: Int?
        public var sha256: String
        enum CodingKeys: String, CodingKey {
            case task, classes, dimension, feature, weightsSHA256 = "weights_sha256", trainingTiles = "training_tiles", sha256
        }
    }

    /// An embeddings file written by `moemae embed`.
    public struct EmbeddingsFacts: Codable, Sendable, Equatable {
        public var tiles: Int
        public var dimension: Int
        public var weightsSHA256: String
        enum CodingKeys: String, CodingKey { case tiles, dimension, weightsSHA256 = "weights_sha256" }
    }

    /// A `moemae map` output folder (or its `run-summary.json` / `<product>_summary.json`).
    public struct MapOutputFacts: Codable, Sendable, Equatable {
        public struct Scene: Codable, Sendable, Equatable {
            public var id: String
            public var tilesRead: Int
            public var tilesMapped: Int
            /// The three classes with most tiles, "name (tiles)".
            public var topClasses: [String]
            /// Output files of the scene that exist.
            public var outputs: [String]
            /// Output files the summary lists that are missing.
            public var missing: [String]
            enum CodingKeys: String, CodingKey {
                case id, tilesRead = "tiles_read", tilesMapped = "tiles_mapped", topClasses = "top_classes", outputs, missing
            }
        }
        public var folder: String
        public var weights: String?
        public var probe: String?
        public var weightsSHA256: String?
        public var probeSHA256: String?
        public var scenes: [Scene]
        enum CodingKeys: String, CodingKey {
            case folder, weights, probe, weightsSHA256 = "weights_sha256", probeSHA256 = "probe_sha256", scenes
        }
    }

    /// A STAC Item (JSON with `"type": "Feature"` and `stac_version`).
    public struct STACItemFacts: Codable, Sendable, Equatable {
        public var id: String
        public var datetime: String?
        public var platform: String?
        public var bbox: [Double]
        /// Asset key → href.
        public var assets: [String: String]
    }

    /// A path that is none of the kinds ``PathInfo`` knows, or that cannot be read.
    public struct Unrecognised: Error, CustomStringConvertible {
        public let path: String
        public let message: String
        public var description: String { "\(path): \(message)" }
    }

    // MARK: - Recognising a path

    /// Recognises `path` and gathers its facts. Throws ``Unrecognised`` (or the reader's own error,
    /// naming the file) when the path does not exist or is none of the known kinds.
    public static func describe(_ path: String) throws -> PathInfo {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw Unrecognised(path: path, message: "no such file or folder")
        }
        let name = (path as NSString).lastPathComponent
        if isDir.boolValue {
            if FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("manifest.json")) {
                return try describeDataset(path)
            }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            if entries.contains("run-summary.json") || entries.contains(where: { $0.hasSuffix("_summary.json") }) {
                return try describeMapOutput(folder: path, summaries: entries.filter { $0.hasSuffix("_summary.json") && $0 != "run-summary.json" }.sorted())
            }
            return try describeScene(path)
        }
        let lower = name.lowercased()
        if lower.contains("_mtl.") {
            do { return try describeScene(path) } catch {
                // The MTL alone (its bands are elsewhere): what the metadata says, and why the scene does not open.
                guard let m = try? LandsatMetadata(contentsOf: URL(fileURLWithPath: path)) else { throw error }
                let scene = Landsat.SceneFacts(id: m.productID, spacecraft: LandsatSpacecraft(mtlValue: m.spacecraft), sensor: m.sensor,
                                               collection: m.collection, processingLevel: LandsatProcessingLevel(mtlValue: m.processingLevel),
                                               acquisition: m.acquisition)
                let facts = MTLFacts(facts: scene, wrsPath: m.wrsPath, wrsRow: m.wrsRow,
                                     cloudCover: m.cloudCover, bandFiles: m.bandFileNames, sceneProblem: "\(error)")
                return PathInfo(path: path, kind: .mtl, mtl: facts)
            }
        }
        if lower == "manifest.json" { return try describeDataset((path as NSString).deletingLastPathComponent) }
        if lower == "run-summary.json" {
            let folder = (path as NSString).deletingLastPathComponent
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
            return try describeMapOutput(folder: folder, summaries: entries.filter { $0.hasSuffix("_summary.json") && $0 != "run-summary.json" }.sorted(), as: path)
        }
        if lower.hasSuffix("_summary.json") {
            return try describeMapOutput(folder: (path as NSString).deletingLastPathComponent, summaries: [name], as: path)
        }
        if lower.hasSuffix(".json") { return try describeSTACItem(path) }
        if lower.hasSuffix(".safetensors") { return try describeSafeTensors(path) }
        throw Unrecognised(path: path, message: "not a Landsat scene folder or MTL, dataset, weights, probe, embeddings, map output or STAC Item that moemae recognises")
    }

    static func describeScene(_ path: String) throws -> PathInfo {
        let source = try SceneInput.openScene(path)
        // The grid `moemae map` uses (edge tiles padded).
        let reader = try StripReaderSource(scene: source)
        let m = reader.mapScene()
        let t = m.geoTransform
        let facts = SceneFacts(
            facts: source.facts, bands: source.bands.map(\.name), modelReady: source.modelReady,
            crs: m.crs.name, epsg: m.crs.epsg, width: m.width, height: m.height,
            pixelSize: (t.pixelWidth * t.pixelWidth + t.columnRotation * t.columnRotation).squareRoot(),
            tileSize: m.tileSize, tileRows: reader.gridRows, tileCols: reader.gridCols, tiles: reader.gridRows * reader.gridCols,
            files: source.files)
        return PathInfo(path: path, kind: .scene, scene: facts)
    }

    static func describeDataset(_ folder: String) throws -> PathInfo {
        let d = try Dataset(path: folder)
        guard let m = d.manifest else { throw Unrecognised(path: folder, message: "has no dataset manifest.json") }
        let facts = DatasetFacts(tiles: m.tileCount, shards: m.shards.count, tileSize: m.tileSize, bands: m.bands, edge: m.edge.rawValue,
                                 hourPolicy: m.hourPolicy.rawValue, metadata: m.metadata, minValid: m.minValid,
                                 scenes: m.scenes.map(\.id), scenesNotModelReady: m.scenes.filter { !$0.modelReady }.map(\.id))
        return PathInfo(path: folder, kind: .dataset, dataset: facts)
    }

    static func describeSafeTensors(_ path: String) throws -> PathInfo {
        let file = try SafeTensorsFile(path: path)
        switch file.metadata["format"] {
        case LinearProbe.formatName:
            let p = try LinearProbe(contentsOf: path)
            let facts = ProbeFacts(task: p.task.rawValue, classes: p.classes.map(\.name), dimension: p.dimension, feature: p.feature.rawValue,
                                   weightsSHA256: p.weightsSHA256, trainingTiles: p.trainingTiles, sha256: try FileDigest.sha256(ofFile: path))
            return PathInfo(path: path, kind: .probe, probe: facts)
        case "moemae-embeddings":
            let e = file.tensors.first { $0.name == "embedding" }
            return PathInfo(path: path, kind: .embeddings,
                            embeddings: EmbeddingsFacts(tiles: e?.shape.first ?? 0, dimension: e?.shape.last ?? 0,
                                                        weightsSHA256: file.metadata["weights_sha256"] ?? ""))
        default:
            guard file.tensors.contains(where: { $0.name == "encoder.pos_embed" }) else {
                throw Unrecognised(path: path, message: "a safetensors file that is neither MoE-MAE weights (no encoder.pos_embed), a moemae probe nor moemae embeddings")
            }
            let config = try ModelConfig.infer(from: try StateDict.load(path: path))
            let trained = try WeightsMetadata.read(metadata: file.metadata, source: path)
            let facts = WeightsFacts(preset: config.preset, embedDim: config.embedDim, depth: config.depth,
                                     expertsPerLayer: (0..<config.depth).map { config.expertCount(layer: $0) }, inChannels: config.inChannels,
                                     storedValues: file.tensors.reduce(0) { $0 + $1.elementCount }, trainedByMoemae: trained != nil,
                                     hourPolicy: trained?.hour.rawValue, trainedSteps: trained?.trainedSteps, sha256: try FileDigest.sha256(ofFile: path))
            return PathInfo(path: path, kind: .weights, weights: facts)
        }
    }

    static func describeMapOutput(folder: String, summaries: [String], as path: String? = nil) throws -> PathInfo {
        let dir = folder.isEmpty ? "." : folder
        func file(_ n: String) -> String { (dir as NSString).appendingPathComponent(n) }
        var facts = MapOutputFacts(folder: dir, scenes: [])
        if let data = FileManager.default.contents(atPath: file("run-summary.json")) {
            do {
                let run = try JSONDecoder().decode(RunSummary.self, from: data)
                facts.weights = run.weights; facts.probe = run.probe
                facts.weightsSHA256 = run.weightsSHA256; facts.probeSHA256 = run.probeSHA256
            } catch {
                throw Unrecognised(path: file("run-summary.json"), message: "is not a moemae run summary (schemas/run-summary.schema.json): \(error)")
            }
        }
        for name in summaries {
            guard let data = FileManager.default.contents(atPath: file(name)) else {
                throw Unrecognised(path: file(name), message: "cannot be read")
            }
            let s: RunSummary.Scene
            do { s = try JSONDecoder().decode(RunSummary.Scene.self, from: data) } catch {
                throw Unrecognised(path: file(name), message: "is not a moemae scene summary (schemas/run-summary.schema.json, $defs/scene): \(error)")
            }
            let top = s.classHistogram.filter { $0.tiles > 0 }.sorted { ($0.tiles, -$0.value) > ($1.tiles, -$1.value) }.prefix(3)
            let present = s.outputs.filter { FileManager.default.fileExists(atPath: file($0)) }
            facts.scenes.append(.init(id: s.id, tilesRead: s.tilesRead, tilesMapped: s.tilesMapped,
                                      topClasses: top.map { "\($0.name) (\($0.tiles))" }, outputs: present,
                                      missing: s.outputs.filter { !present.contains($0) }))
        }
        return PathInfo(path: path ?? folder, kind: .mapOutput, mapOutput: facts)
    }

    static func describeSTACItem(_ path: String) throws -> PathInfo {
        guard let data = FileManager.default.contents(atPath: path) else { throw Unrecognised(path: path, message: "cannot be read") }
        let item: STACItem
        do { item = try JSONDecoder().decode(STACItem.self, from: data) } catch {
            throw Unrecognised(path: path, message: "a JSON file that is not a STAC Item moemae can read (\(error))")
        }
        let facts = STACItemFacts(id: item.id, datetime: item.properties.datetime, platform: item.properties.platform, bbox: item.bbox,
                                  assets: item.assets.mapValues(\.href))
        return PathInfo(path: path, kind: .stacItem, stacItem: facts)
    }

    // MARK: - Output

    /// Pretty-printed JSON with sorted keys.
    public static func jsonData(_ infos: [PathInfo]) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(infos)
    }

    /// The readable summary: a heading line naming the path and its kind, then indented facts.
    public var text: String {
        var lines: [String] = []
        func add(_ k: String, _ v: String) { lines.append("  \(k): \(v)") }
        switch kind {
        case .scene:
            let s = scene!
            lines.append("\(path): Landsat scene \(s.facts.id)")
            add("sensor", Self.sensorLine(s.facts))
            add("acquired", s.facts.acquisition.iso8601)
            add("bands", s.bands.joined(separator: " "))
            add("model-ready", s.modelReady ? "yes (C2 L2 surface reflectance SR_B1…SR_B7)" : "no (not C2 L2 SR_B1…SR_B7: map takes it only with allow-non-sr, and the maps are not meaningful)")
            add("grid", "\(s.width) × \(s.height) pixels of \(Self.number(s.pixelSize)) in \(s.crs)\(s.epsg.map { " (EPSG:\($0))" } ?? "")")
            add("tiles", "\(s.tileRows) × \(s.tileCols) = \(s.tiles) tiles of \(s.tileSize)×\(s.tileSize) pixels")
            add("files", "\(s.files.count)")
        case .mtl:
            let m = mtl!
            lines.append("\(path): Landsat MTL of \(m.facts.id)")
            add("sensor", Self.sensorLine(m.facts))
            add("acquired", m.facts.acquisition.iso8601)
            if let p = m.wrsPath, let r = m.wrsRow { add("WRS path/row", "\(p)/\(r)") }
            if let c = m.cloudCover { add("cloud cover", "\(Self.number(c)) %") }
            add("band files", "\(m.bandFiles.count) listed")
            add("scene", "cannot be opened: \(m.sceneProblem)")
        case .dataset:
            let d = dataset!
            lines.append("\(path): moemae dataset")
            add("tiles", "\(d.tiles) in \(d.shards) shard\(d.shards == 1 ? "" : "s"), \(d.tileSize)×\(d.tileSize) pixels")
            add("bands", d.bands.joined(separator: " "))
            add("edge", d.edge); add("hour policy", d.hourPolicy); add("metadata", d.metadata ? "yes" : "no (zeroed)")
            add("min-valid", Self.number(d.minValid))
            add("scenes", "\(d.scenes.count): \(d.scenes.prefix(5).joined(separator: ", "))\(d.scenes.count > 5 ? ", …" : "")")
            if !d.scenesNotModelReady.isEmpty { add("not model-ready", d.scenesNotModelReady.joined(separator: ", ")) }
        case .weights:
            let w = weights!
            lines.append("\(path): MoE-MAE encoder weights")
            add("preset", "\(w.preset) (embedding \(w.embedDim), \(w.depth) layers, experts per layer \(w.expertsPerLayer.map(String.init).joined(separator: ",")), \(w.inChannels) input bands)")
            add("stored values", "\(w.storedValues)")
            add("trained by", w.trainedByMoemae ? "moemae pretrain\(w.trainedSteps.map { " (\($0) steps)" } ?? ""), hour policy \(w.hourPolicy ?? "utc")" : "not moemae pretrain (imported or foreign)")
            add("sha256", w.sha256)
        case .probe:
            let p = probe!
            lines.append("\(path): linear probe")
            add("task", "\(p.task), \(p.classes.count) classes on \(p.dimension)-d \(p.feature)")
            add("classes", p.classes.joined(separator: "; "))
            add("fitted on weights", p.weightsSHA256.isEmpty ? "unknown" : p.weightsSHA256)
            if let n = p.trainingTiles { add("training tiles", "\(n)") }
            add("sha256", p.sha256)
        case .embeddings:
            let e = embeddings!
            lines.append("\(path): embeddings")
            add("tiles", "\(e.tiles) × \(e.dimension) dimensions")
            add("weights", e.weightsSHA256.isEmpty ? "unknown" : e.weightsSHA256)
        case .mapOutput:
            let m = mapOutput!
            lines.append("\(path): moemae map output")
            if let w = m.weights { add("weights", "\(w)\(m.weightsSHA256.map { " (SHA-256 \($0.prefix(12))…)" } ?? "")") }
            if let p = m.probe { add("probe", "\(p)\(m.probeSHA256.map { " (SHA-256 \($0.prefix(12))…)" } ?? "")") }
            for s in m.scenes {
                add("scene \(s.id)", "\(s.tilesMapped) of \(s.tilesRead) tiles mapped; most tiles: \(s.topClasses.joined(separator: ", "))")
                add("  files", s.outputs.filter { !$0.hasSuffix(".aux.xml") }.joined(separator: " "))
                if !s.missing.isEmpty { add("  missing", s.missing.joined(separator: " ")) }
            }
        case .stacItem:
            let s = stacItem!
            lines.append("\(path): STAC Item \(s.id)")
            if let d = s.datetime { add("datetime", d) }
            if let p = s.platform { add("platform", p) }
            add("bbox", s.bbox.map { Self.number($0) }.joined(separator: ", "))
            for k in s.assets.keys.sorted() { add("asset \(k)", s.assets[k]!) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `LANDSAT_8 OLI_TIRS, collection C2, L2SP`.
    static func sensorLine(_ f: Landsat.SceneFacts) -> String {
        "\(f.spacecraft.mtlName) \(f.sensor.mtlName), collection \(f.collection.rawValue), \(f.processingLevel.mtlName)"
    }

    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(format: "%.6g", v)
    }
}
