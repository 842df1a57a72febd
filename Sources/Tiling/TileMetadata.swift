import GeoRaster

/// Where a tile is and when it was seen: the tile-level facts written with every tile.
public struct TileMetadata: Sendable, Equatable {
    /// Tile indices in the scene's grid.
    public var row: Int
    public var col: Int
    /// The full footprint in scene pixels (may reach past the raster for padded edge tiles).
    public var footprint: RasterWindow
    /// The tile's own geotransform: the scene's with the origin moved to the footprint's top-left
    /// corner, rotation terms kept.
    public var geoTransform: GeoTransform
    /// Centre of the footprint (or of the whole raster, see ``SceneSource/LocationPoint``) in the scene CRS.
    public var centreX: Double
    public var centreY: Double
    /// WGS 84 degrees of that centre (zeros with `--no-metadata`).
    public var lat: Double
    public var lon: Double
    /// ISO-8601 week of the UTC acquisition date (0 with `--no-metadata`).
    public var week: Int
    /// True UTC hour of day with fraction (0 with `--no-metadata`).
    public var hour: Double
}

/// Computes every tile's ``TileMetadata`` — the one place where a tile's geotransform, centre,
/// latitude/longitude, week and hour are derived (used by `tile`, `embed` and `map`).
///
/// Owns a PROJ transformer: one locator per thread.
public final class TileLocator {
    public let grid: TileGrid
    public let sceneGeoTransform: GeoTransform
    public let rasterWidth: Int
    public let rasterHeight: Int
    public let week: Int
    public let hour: Double
    public let metadata: Bool
    public let locationPoint: SceneSource.LocationPoint
    private let transformer: CoordinateTransformer
    private let path: String

    public init(grid: TileGrid, geoTransform: GeoTransform, crs: CoordinateReferenceSystem, rasterWidth: Int, rasterHeight: Int,
                week: Int, hour: Double, metadata: Bool, locationPoint: SceneSource.LocationPoint = .tileCentre, path: String = "") throws {
        self.grid = grid; self.sceneGeoTransform = geoTransform; self.rasterWidth = rasterWidth; self.rasterHeight = rasterHeight
        self.week = week; self.hour = hour; self.metadata = metadata; self.locationPoint = locationPoint; self.path = path
        do { transformer = try CoordinateTransformer(from: crs) } catch let e as GeoRasterError {
            throw TilingError(path: path, "cannot transform its CRS to latitude/longitude: \(e)")
        }
    }

    /// The locator for a scene's rasters.
    public convenience init(rasters: SceneRasters, options: TilingOptions) throws {
        let s = rasters.source
        let region = s.region ?? RasterWindow(column: 0, row: 0, width: rasters.width, height: rasters.height)
        try self.init(grid: TileGrid(region: region, tileSize: options.tileSize, edge: options.edge), geoTransform: rasters.geoTransform,
                      crs: rasters.crs, rasterWidth: rasters.width, rasterHeight: rasters.height, week: s.week, hour: s.hour,
                      metadata: options.metadata, locationPoint: s.locationPoint, path: s.id)
    }

    /// Metadata of tile (row, col). The centre is that of the full `size`×`size` footprint in GDAL's
    /// pixel-is-area convention (column + size/2, row + size/2), transformed to WGS 84 by PROJ.
    public func metadata(row: Int, col: Int) throws -> TileMetadata {
        let fp = grid.footprint(row: row, col: col)
        let centre: (x: Double, y: Double)
        switch locationPoint {
        case .tileCentre: centre = sceneGeoTransform.centre(column: fp.column, row: fp.row, width: fp.width, height: fp.height)
        case .rasterCentre: centre = sceneGeoTransform.centre(column: 0, row: 0, width: rasterWidth, height: rasterHeight)
        }
        var lat = 0.0, lon = 0.0
        if metadata {
            do { (lon, lat) = try transformer.lonLat(x: centre.x, y: centre.y) } catch let e as GeoRasterError {
                throw TilingError(path: path, "tile (\(row), \(col)): \(e)")
            }
        }
        return TileMetadata(row: row, col: col, footprint: fp, geoTransform: sceneGeoTransform.offset(columns: fp.column, rows: fp.row),
                            centreX: centre.x, centreY: centre.y, lat: lat, lon: lon,
                            week: metadata ? week : 0, hour: metadata ? hour : 0)
    }
}

@available(*, unavailable, message: "owns a PROJ transformer: one per thread")
extension TileLocator: Sendable {}
