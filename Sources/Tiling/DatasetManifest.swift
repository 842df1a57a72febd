import Foundation
import Landsat

/// What happens to the partial tiles at the right and bottom edges of a scene.
public enum EdgePolicy: String, Codable, Sendable, CaseIterable {
    /// Partial tiles are kept, padded with fill (DN 0, marked invalid) and flagged by their valid fraction.
    case pad
    /// Partial tiles are dropped.
    case drop
}

/// How the tiles of a dataset folder are stored.
public enum DatasetLayout: String, Codable, Sendable, CaseIterable {
    /// `tiles-00000.safetensors`, … (the default; what `embed`, `probe` and `pretrain` read).
    case safetensors
    /// BigEarthNet-style chips: `images/<id>_<row>_<col>.tif` + `labels/<id>_<row>_<col>_metadata.json`.
    case geotiff
}

/// `manifest.json` of a dataset folder written by `moemae tile`.
/// Schema: `schemas/dataset-manifest.schema.json`.
public struct DatasetManifest: Codable, Sendable, Equatable {
    public static let formatName = "moemae-dataset"
    public static let currentVersion = 1

    public var format: String = DatasetManifest.formatName
    public var formatVersion: Int = DatasetManifest.currentVersion
    /// Tile edge length in pixels (40 for the model).
    public var tileSize: Int
    /// Band names in the order of the `pixels` tensor's second axis (`SR_B1` … `SR_B7` for model-ready scenes).
    public var bands: [String]
    public var edge: EdgePolicy
    public var hourPolicy: HourPolicy
    /// False when the dataset was written with `--no-metadata`: lat/lon/week/hour are zeros and the model
    /// must use zero metadata vectors.
    public var metadata: Bool
    /// Tiles whose valid fraction is below this were not written.
    public var minValid: Double
    public var shards: [Shard]
    public var scenes: [Scene]
    /// How tiles are stored; absent in older manifests (= safetensors).
    public var layout: DatasetLayout?

    public struct Shard: Codable, Sendable, Equatable {
        /// File name relative to the dataset folder.
        public var file: String
        public var tiles: Int
        public init(file: String, tiles: Int) { self.file = file; self.tiles = tiles }
    }

    public struct Scene: Codable, Sendable, Equatable {
        /// Product id, sensor, spacecraft, collection, level and acquisition time, written as the
        /// strings `id`, `sensor`, `spacecraft`, `collection`, `level`, `acquired`
        /// (`2015-08-04T16:19:21.79Z`).
        public var facts: SceneFacts
        /// Landsat product id (or a patch's file stem for BigEarthNet folders).
        public var id: String { facts.id }
        /// CRS as WKT2 (GDAL `OSRExportToWkt` with `FORMAT=WKT2`).
        public var crsWKT2: String
        /// EPSG code of the CRS, when it has one.
        public var epsg: Int?
        /// GDAL geotransform `[x0, dx, rx, y0, ry, dy]` (GDAL data model: pixel-is-area, origin at the
        /// top-left corner of pixel (0,0)).
        public var geotransform: [Double]
        public var width: Int
        public var height: Int
        public var gridRows: Int
        public var gridCols: Int
        /// Source files read (paths as given).
        public var files: [String]
        /// True when the bands are Collection 2 Level-2 surface reflectance SR_B1…SR_B7 (what the model expects).
        public var modelReady: Bool

        public init(facts: SceneFacts, crsWKT2: String, epsg: Int?, geotransform: [Double], width: Int, height: Int,
                    gridRows: Int, gridCols: Int, files: [String], modelReady: Bool) {
            self.facts = facts; self.crsWKT2 = crsWKT2; self.epsg = epsg
            self.geotransform = geotransform; self.width = width; self.height = height; self.gridRows = gridRows
            self.gridCols = gridCols; self.files = files; self.modelReady = modelReady
        }

        enum CodingKeys: String, CodingKey {
            case id, sensor, spacecraft, collection, level, acquired
            case crsWKT2 = "crs_wkt2", epsg, geotransform, width, height
            case gridRows = "grid_rows", gridCols = "grid_cols", files, modelReady = "model_ready"
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let collectionText = try c.decode(String.self, forKey: .collection)
            // `C2`, `C1`, `pre-collection` as written by `moemae tile`; the MTL's COLLECTION_NUMBER (`02`) too.
            guard let collection = LandsatCollection(rawValue: collectionText)
                    ?? Int(collectionText).flatMap({ [1: LandsatCollection.collection1, 2: .collection2][$0] }) else {
                throw DecodingError.dataCorruptedError(forKey: .collection, in: c,
                    debugDescription: "collection '\(collectionText)' is not C2, C1 or pre-collection")
            }
            let acquiredText = try c.decode(String.self, forKey: .acquired)
            guard let acquisition = AcquisitionTime(iso8601: acquiredText) else {
                throw DecodingError.dataCorruptedError(forKey: .acquired, in: c,
                    debugDescription: "acquired '\(acquiredText)' is not ISO-8601 UTC (2015-08-04T16:19:21.79Z)")
            }
            facts = SceneFacts(id: try c.decode(String.self, forKey: .id),
                               spacecraft: LandsatSpacecraft(mtlValue: try c.decode(String.self, forKey: .spacecraft)),
                               sensor: LandsatSensor(mtlValue: try c.decode(String.self, forKey: .sensor)),
                               collection: collection,
                               processingLevel: LandsatProcessingLevel(mtlValue: try c.decode(String.self, forKey: .level)),
                               acquisition: acquisition)
            crsWKT2 = try c.decode(String.self, forKey: .crsWKT2)
            epsg = try c.decodeIfPresent(Int.self, forKey: .epsg)
            geotransform = try c.decode([Double].self, forKey: .geotransform)
            width = try c.decode(Int.self, forKey: .width)
            height = try c.decode(Int.self, forKey: .height)
            gridRows = try c.decode(Int.self, forKey: .gridRows)
            gridCols = try c.decode(Int.self, forKey: .gridCols)
            files = try c.decode([String].self, forKey: .files)
            modelReady = try c.decode(Bool.self, forKey: .modelReady)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(facts.id, forKey: .id)
            try c.encode(facts.sensor.mtlName, forKey: .sensor)
            try c.encode(facts.spacecraft.mtlName, forKey: .spacecraft)
            try c.encode(facts.collection.rawValue, forKey: .collection)
            try c.encode(facts.processingLevel.mtlName, forKey: .level)
            try c.encode(facts.acquisition.iso8601, forKey: .acquired)
            try c.encode(crsWKT2, forKey: .crsWKT2)
            try c.encodeIfPresent(epsg, forKey: .epsg)
            try c.encode(geotransform, forKey: .geotransform)
            try c.encode(width, forKey: .width)
            try c.encode(height, forKey: .height)
            try c.encode(gridRows, forKey: .gridRows)
            try c.encode(gridCols, forKey: .gridCols)
            try c.encode(files, forKey: .files)
            try c.encode(modelReady, forKey: .modelReady)
        }
    }

    public init(tileSize: Int, bands: [String], edge: EdgePolicy, hourPolicy: HourPolicy, metadata: Bool,
                minValid: Double, shards: [Shard], scenes: [Scene], layout: DatasetLayout? = nil) {
        self.tileSize = tileSize; self.bands = bands; self.edge = edge; self.hourPolicy = hourPolicy
        self.metadata = metadata; self.minValid = minValid; self.shards = shards; self.scenes = scenes
        self.layout = layout
    }

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", tileSize = "tile_size", bands, edge
        case hourPolicy = "hour_policy", metadata, minValid = "min_valid", shards, scenes, layout
    }

    /// Total tiles over all shards.
    public var tileCount: Int { shards.reduce(0) { $0 + $1.tiles } }
}
