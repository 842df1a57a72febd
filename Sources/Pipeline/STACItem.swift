import Foundation
import Landsat

/// A STAC Item (SpatioTemporal Asset Catalog, spec v1.0.0) describing the map outputs of one scene.
///
/// Extensions used (schemas vendored under `schemas/stac/`):
/// - projection v1.0.0: `proj:epsg` (null when the CRS has no EPSG code), `proj:wkt2`, `proj:transform`,
///   `proj:shape` — on the Item for the source scene's grid and on each raster asset for its own grid;
/// - classification v1.1.0: `classification:classes` on the label asset (value, name, description,
///   `color_hint` as `RRGGBB`);
/// - the extensions of the `landsat:*` and `view:*` properties kept from the source scene's Item
///   (``keepSourceProperties(_:sourceExtensions:)``): the URLs the source Item listed, else view v1.0.0
///   and landsat v2.0.0.
/// Geometry and bbox are in WGS84 longitude/latitude (RFC 7946), computed by the caller from the
/// scene's footprint through PROJ.
public struct STACItem: Codable, Equatable, Sendable {
    public static let projectionExtension = "https://stac-extensions.github.io/projection/v1.0.0/schema.json"
    public static let classificationExtension = "https://stac-extensions.github.io/classification/v1.1.0/schema.json"
    /// The view extension (`view:sun_elevation`, `view:off_nadir`, …) when the source Item names none.
    public static let viewExtension = "https://stac-extensions.github.io/view/v1.0.0/schema.json"
    /// The community Landsat extension (made from USGS's `landsat-extension/v1.1.1`) when the source
    /// Item names none.
    public static let landsatExtension = "https://stac-extensions.github.io/landsat/v2.0.0/schema.json"
    /// The prefixes of source properties an output Item keeps, with the default extension of each and how
    /// an extension URL of that prefix is recognised (USGS: `…/landsat-extension/v1.1.1/…`, community:
    /// `…/landsat/v2.0.0/…`, view: `…/view/v1.0.0/…`).
    static let keptPrefixes: [(prefix: String, defaultExtension: String, urlContains: [String])] = [
        ("landsat", landsatExtension, ["/landsat-extension/", "/landsat/"]), ("view", viewExtension, ["/view/"]),
    ]

    public var type = "Feature"
    public var stacVersion = "1.0.0"
    public var stacExtensions: [String]
    public var id: String
    public var geometry: Polygon
    /// [west, south, east, north] in degrees.
    public var bbox: [Double]
    public var properties: Properties
    public var links: [Link]
    public var assets: [String: Asset]

    enum CodingKeys: String, CodingKey {
        case type, stacVersion = "stac_version", stacExtensions = "stac_extensions", id, geometry, bbox
        case properties, links, assets
    }

    /// A GeoJSON Polygon: one closed exterior ring of [longitude, latitude] pairs.
    public struct Polygon: Codable, Equatable, Sendable {
        public var type = "Polygon"
        public var coordinates: [[[Double]]]
        public init(ring: [[Double]]) {
            var r = ring
            if let first = r.first, let last = r.last, first != last { r.append(first) }
            coordinates = [r]
        }
    }

    public struct Link: Codable, Equatable, Sendable {
        public var rel: String
        public var href: String
        public var type: String?
        public var title: String?
        public init(rel: String, href: String, type: String? = nil, title: String? = nil) {
            self.rel = rel; self.href = href; self.type = type; self.title = title
        }
    }

    /// Grid of a raster in the projection extension's terms.
    public struct ProjectionGrid: Equatable, Sendable {
        /// EPSG code of the CRS, nil when it has none (encoded as JSON null, as the extension allows).
        public var epsg: Int?
        /// The CRS as WKT2.
        public var wkt2: String
        /// GDAL geotransform `[x0, dx, rx, y0, ry, dy]`.
        public var geotransform: [Double]
        public var width: Int
        public var height: Int
        public init(epsg: Int?, wkt2: String, geotransform: [Double], width: Int, height: Int) {
            self.epsg = epsg; self.wkt2 = wkt2; self.geotransform = geotransform; self.width = width; self.height = height
        }
        /// `proj:transform`: the affine in row-major order `[dx, rx, x0, ry, dy, y0]` (the order of
        /// rasterio's `Affine`, which the projection extension uses), from GDAL's `[x0, dx, rx, y0, ry, dy]`.
        public var stacTransform: [Double] {
            let g = geotransform
            return [g[1], g[2], g[0], g[4], g[5], g[3]]
        }
        /// `proj:shape`: `[rows, columns]`.
        public var stacShape: [Int] { [height, width] }
    }

    public struct Properties: Codable, Equatable, Sendable {
        /// Acquisition time, RFC 3339 UTC with `Z`.
        public var datetime: String
        public var created: String?
        public var platform: String?
        public var instruments: [String]?
        public var title: String?
        public var description: String?
        public var projEPSG: Int?
        public var projWKT2: String?
        public var projTransform: [Double]?
        public var projShape: [Int]?
        /// Free-form run facts under our own prefix (weights and probe fingerprints, tile size).
        public var moemae: [String: String]?
        /// Properties copied from the source scene's STAC Item (`landsat:*`, `view:*`), written as they were.
        public var source: [String: JSONValue] = [:]

        enum CodingKeys: String, CodingKey {
            case datetime, created, platform, instruments, title, description
            case projEPSG = "proj:epsg", projWKT2 = "proj:wkt2", projTransform = "proj:transform", projShape = "proj:shape"
            case moemae = "moemae:run"
        }

        public init(datetime: String, grid: ProjectionGrid?) {
            self.datetime = datetime
            if let grid {
                projEPSG = grid.epsg; projWKT2 = grid.wkt2; projTransform = grid.stacTransform; projShape = grid.stacShape
            }
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(datetime, forKey: .datetime)
            try c.encodeIfPresent(created, forKey: .created)
            try c.encodeIfPresent(platform, forKey: .platform)
            try c.encodeIfPresent(instruments, forKey: .instruments)
            try c.encodeIfPresent(title, forKey: .title)
            try c.encodeIfPresent(description, forKey: .description)
            if projWKT2 != nil { try c.encode(projEPSG, forKey: .projEPSG) } // explicit null when no EPSG code
            try c.encodeIfPresent(projWKT2, forKey: .projWKT2)
            try c.encodeIfPresent(projTransform, forKey: .projTransform)
            try c.encodeIfPresent(projShape, forKey: .projShape)
            try c.encodeIfPresent(moemae, forKey: .moemae)
            var extra = encoder.container(keyedBy: AnyKey.self)
            for (k, v) in source where CodingKeys(stringValue: k) == nil { try extra.encode(v, forKey: AnyKey(k)) }
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            datetime = try c.decode(String.self, forKey: .datetime)
            created = try c.decodeIfPresent(String.self, forKey: .created)
            platform = try c.decodeIfPresent(String.self, forKey: .platform)
            instruments = try c.decodeIfPresent([String].self, forKey: .instruments)
            title = try c.decodeIfPresent(String.self, forKey: .title)
            description = try c.decodeIfPresent(String.self, forKey: .description)
            projEPSG = try c.decodeIfPresent(Int.self, forKey: .projEPSG)
            projWKT2 = try c.decodeIfPresent(String.self, forKey: .projWKT2)
            projTransform = try c.decodeIfPresent([Double].self, forKey: .projTransform)
            projShape = try c.decodeIfPresent([Int].self, forKey: .projShape)
            moemae = try c.decodeIfPresent([String: String].self, forKey: .moemae)
            let all = try decoder.container(keyedBy: AnyKey.self)
            for key in all.allKeys where key.stringValue.hasPrefix("landsat:") || key.stringValue.hasPrefix("view:") {
                source[key.stringValue] = try all.decode(JSONValue.self, forKey: key)
            }
        }

        /// A property name not known in advance.
        struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ s: String) { stringValue = s }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
    }

    /// One class of a classification asset (classification extension v1.1.0 "Class Object").
    public struct ClassificationClass: Codable, Equatable, Sendable {
        public var value: Int
        public var name: String
        public var description: String
        /// `RRGGBB` hexadecimal, no `#`.
        public var colorHint: String?
        enum CodingKeys: String, CodingKey { case value, name, description, colorHint = "color_hint" }
        public init(value: Int, name: String, description: String? = nil, rgb: [Int]?) {
            self.value = value; self.name = name; self.description = description ?? name
            if let rgb, rgb.count >= 3 {
                colorHint = rgb.prefix(3).map { String(format: "%02X", max(0, min(255, $0))) }.joined()
            }
        }
    }

    public struct Asset: Codable, Equatable, Sendable {
        public static let cogType = "image/tiff; application=geotiff; profile=cloud-optimized"
        public static let jsonType = "application/json"
        public static let pngType = "image/png"
        public var href: String
        public var type: String?
        public var title: String?
        public var description: String?
        public var roles: [String]
        public var projEPSG: Int?
        public var projTransform: [Double]?
        public var projShape: [Int]?
        public var classes: [ClassificationClass]?
        enum CodingKeys: String, CodingKey {
            case href, type, title, description, roles
            case projEPSG = "proj:epsg", projTransform = "proj:transform", projShape = "proj:shape"
            case classes = "classification:classes"
        }
        public init(href: String, type: String?, title: String?, description: String? = nil, roles: [String],
                    grid: ProjectionGrid? = nil, classes: [ClassificationClass]? = nil) {
            self.href = href; self.type = type; self.title = title; self.description = description; self.roles = roles
            if let grid { projEPSG = grid.epsg; projTransform = grid.stacTransform; projShape = grid.stacShape }
            self.classes = classes
        }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(href, forKey: .href)
            try c.encodeIfPresent(type, forKey: .type)
            try c.encodeIfPresent(title, forKey: .title)
            try c.encodeIfPresent(description, forKey: .description)
            try c.encode(roles, forKey: .roles)
            if projTransform != nil { try c.encode(projEPSG, forKey: .projEPSG) }
            try c.encodeIfPresent(projTransform, forKey: .projTransform)
            try c.encodeIfPresent(projShape, forKey: .projShape)
            try c.encodeIfPresent(classes, forKey: .classes)
        }
    }

    /// Builds an Item.
    /// - Parameters:
    ///   - footprint: exterior ring of the scene footprint in WGS84 [longitude, latitude] degrees; the bbox
    ///     is its extent (scenes crossing the antimeridian are not split — documented limitation).
    ///   - acquired: acquisition time (UTC).
    ///   - grid: the source scene's grid (Item-level projection fields).
    public init(id: String, acquired: Date, footprint: [[Double]], grid: ProjectionGrid?, assets: [String: Asset],
                links: [Link] = []) {
        self.id = id
        geometry = Polygon(ring: footprint)
        let lons = footprint.map { $0[0] }, lats = footprint.map { $0[1] }
        bbox = [lons.min() ?? 0, lats.min() ?? 0, lons.max() ?? 0, lats.max() ?? 0]
        properties = Properties(datetime: STACItem.rfc3339(acquired), grid: grid)
        self.assets = assets
        self.links = links
        var ext: [String] = []
        if grid != nil || assets.values.contains(where: { $0.projTransform != nil }) { ext.append(Self.projectionExtension) }
        if assets.values.contains(where: { $0.classes != nil }) { ext.append(Self.classificationExtension) }
        stacExtensions = ext
    }

    /// Keeps the source scene Item's `landsat:*` and `view:*` `properties` as written and lists, in
    /// `stac_extensions`, the schema of each prefix they use: the URLs among `sourceExtensions` (the source
    /// Item's `stac_extensions`) for that prefix, since the properties were written to those versions;
    /// else ``landsatExtension`` / ``viewExtension``. Other properties are ignored.
    public mutating func keepSourceProperties(_ properties: [String: JSONValue], sourceExtensions: [String]) {
        let kept = properties.filter { key, _ in Self.keptPrefixes.contains { key.hasPrefix($0.prefix + ":") } }
        self.properties.source = kept
        for p in Self.keptPrefixes where kept.keys.contains(where: { $0.hasPrefix(p.prefix + ":") }) {
            let listed = sourceExtensions.filter { url in p.urlContains.contains { url.contains($0) } }
            for url in listed.isEmpty ? [p.defaultExtension] : listed where !stacExtensions.contains(url) {
                stacExtensions.append(url)
            }
        }
    }

    /// RFC 3339 UTC with milliseconds and `Z` (`2015-08-04T16:19:21.790Z`).
    public static func rfc3339(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }

    /// Pretty-printed JSON with sorted keys (stable output for diffs and tests).
    public func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(self)
    }
}
