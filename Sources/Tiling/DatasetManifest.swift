import Foundation

/// How the `hour` metadata of a tile is turned into the model's hour input.
///
/// The dataset always stores the true UTC hour of day (with fraction); the policy is applied when the
/// model input is encoded (see `MetadataEncoding` in the MoEMAE module).
public enum HourPolicy: String, Codable, Sendable, CaseIterable {
    /// φ = 2π·hour/24 with the true UTC hour of day, fraction included.
    case utc
    /// The convention of the published pretraining (docs/model.md, "Known quirks"): only the first
    /// digit of the two-digit UTC hour was kept, so the model hour is `floor(hour) / 10` (10:10 → 1,
    /// 09:30 → 0, 16:19 → 1).
    case published
}

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
        /// Landsat product id (or a patch's file stem for BigEarthNet folders).
        public var id: String
        public var sensor: String
        public var spacecraft: String
        public var collection: String
        public var level: String
        /// Acquisition time, ISO-8601 UTC (`2015-08-04T16:19:21.79Z`).
        public var acquired: String
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

        public init(id: String, sensor: String, spacecraft: String, collection: String, level: String, acquired: String,
                    crsWKT2: String, epsg: Int?, geotransform: [Double], width: Int, height: Int, gridRows: Int,
                    gridCols: Int, files: [String], modelReady: Bool) {
            self.id = id; self.sensor = sensor; self.spacecraft = spacecraft; self.collection = collection
            self.level = level; self.acquired = acquired; self.crsWKT2 = crsWKT2; self.epsg = epsg
            self.geotransform = geotransform; self.width = width; self.height = height; self.gridRows = gridRows
            self.gridCols = gridCols; self.files = files; self.modelReady = modelReady
        }

        enum CodingKeys: String, CodingKey {
            case id, sensor, spacecraft, collection, level, acquired
            case crsWKT2 = "crs_wkt2", epsg, geotransform, width, height
            case gridRows = "grid_rows", gridCols = "grid_cols", files, modelReady = "model_ready"
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

    /// The band order the published model expects (docs/model.md, "Input normalisation").
    public static let modelBands = ["SR_B1", "SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6", "SR_B7"]
}
