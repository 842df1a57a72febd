import GeoRaster
import Landsat

/// Everything tiling needs to know about one scene: which raster bands to read (in output order), the
/// quality band, the scene-level facts for the manifest, and the acquisition time.
///
/// Built from an input path by ``SceneInput`` (a Landsat scene: `SceneSource(landsat:)`; a BigEarthNet
/// patch: ``BigEarthNetFolder``); a Swift user can also build one by hand.
public struct SceneSource: Sendable, Equatable {
    /// One band to read: a file and a 1-based band index in it.
    public struct BandFile: Sendable, Equatable {
        public var name: String
        public var path: String
        public var band: Int
        public init(name: String, path: String, band: Int = 1) { self.name = name; self.path = path; self.band = band }
    }

    /// Where the tile's latitude/longitude is taken.
    public enum LocationPoint: String, Sendable, Equatable {
        /// The centre of the tile's full footprint (scenes).
        case tileCentre
        /// The centre of the whole raster (BigEarthNet patches: the centre of the uncropped patch).
        case rasterCentre
    }

    /// Product id, sensor, spacecraft, collection, level and acquisition time (typed; the manifest
    /// writes them as strings).
    public var facts: SceneFacts
    /// Product id (scenes) or file stem (patches).
    public var id: String { facts.id }
    /// ISO-8601 week of the UTC acquisition date (1…53).
    public var week: Int
    /// True UTC hour of day with fraction (16.3227 for 16:19:21.79).
    public var hour: Double
    /// The bands, in the order of the `pixels` tensor.
    public var bands: [BandFile]
    /// `QA_PIXEL` (Collection 2) or `BQA` (Collection 1 / pre-collection): bit 0 = designated fill
    /// (USGS Landsat 8-9 C2 L2 Science Product Guide, table 6-3; Landsat 8 QA band, bit 0).
    public var qaFile: String?
    /// Whether the model may read these bands (C2 L2 surface reflectance SR_B1…SR_B7), and why not.
    public var readiness: ModelReadiness
    /// True when the bands are C2 L2 surface reflectance SR_B1…SR_B7 (what the model expects).
    public var modelReady: Bool { readiness.isReady }
    /// The MTL or label file, listed in the manifest's `files` with the band files.
    public var metadataFiles: [String]
    /// The part of the raster to tile (nil = whole raster).
    public var region: RasterWindow?
    public var locationPoint: LocationPoint
    /// Where the scene came from when it was described by a STAC Item (nil for folders and MTL files).
    public var provenance: SceneProvenance?

    public init(facts: SceneFacts, week: Int, hour: Double, bands: [BandFile], qaFile: String?, readiness: ModelReadiness,
                metadataFiles: [String] = [], region: RasterWindow? = nil, locationPoint: LocationPoint = .tileCentre) {
        self.facts = facts; self.week = week; self.hour = hour; self.bands = bands; self.qaFile = qaFile
        self.readiness = readiness; self.metadataFiles = metadataFiles; self.region = region; self.locationPoint = locationPoint
    }

    /// Every file read, metadata first, without repeats (remote files as GDAL `/vsis3/`, `/vsicurl/` paths).
    public var files: [String] {
        var out: [String] = []
        for f in metadataFiles + bands.map(\.path) + (qaFile.map { [$0] } ?? []) where !out.contains(f) { out.append(f) }
        return out
    }
}

/// The STAC Item a scene was read from: linked from derived items (`derived_from`) and the source of the
/// `landsat:*` and `view:*` properties they keep.
public struct SceneProvenance: Sendable, Equatable {
    /// The item's URL or file path (its `self` link when it has one).
    public var itemHref: String
    /// The item's `landsat:*` and `view:*` properties, as written.
    public var properties: [String: JSONValue]
    /// The item's `stac_extensions` (the schema URLs of those properties among them).
    public var extensions: [String]
    public init(itemHref: String, properties: [String: JSONValue], extensions: [String] = []) {
        self.itemHref = itemHref; self.properties = properties; self.extensions = extensions
    }
}
