import Foundation
import GeoRaster
import Tiling

/// A scene read through Tiling's ``TileStripReader`` — the same reading, validity and tile metadata
/// code as `moemae tile` and `embed` — for the map pipeline.
///
/// The reader stage calls ``read(rows:)`` (GDAL reads of one tile row = `tileSize` pixel rows of every
/// band and QA, the strip reader's block-cache-capped unit; validity and metadata through the strip
/// reader's own PROJ locator), the tiler stage ``tiles(from:minValid:)`` (status under `--min-valid`,
/// packing the mapped tiles' pixels and metadata). Edge tiles are always padded (`pad`), so the map
/// covers the whole scene.
public final class StripReaderSource: SceneTileSource {
    public typealias Strip = [[Tile]]
    public let reader: TileStripReader
    public var gridRows: Int { reader.grid.rows }
    public var gridCols: Int { reader.grid.cols }
    /// One tile row per read: the strip reader's unit (its GDAL block cache keeps the blocks a row
    /// touches, so block-aligned files are decoded once).
    public var rowsPerStrip: Int { 1 }

    /// Opens the scene's rasters (checked to share one grid) with `metadata` false for `--no-metadata`.
    public init(scene: SceneSource, tileSize: Int = 40, metadata: Bool = true) throws {
        reader = try TileStripReader(source: scene, options: TilingOptions(tileSize: tileSize, edge: .pad, minValid: 0, metadata: metadata))
    }

    /// The facts the map outputs need (product id, time, grid, CRS, files).
    public func mapScene() -> MapScene {
        let r = reader.rasters, s = r.source
        return MapScene(product: s.id, acquired: s.facts.acquired, crs: r.crs, geoTransform: r.geoTransform, width: r.width,
                        height: r.height, tileSize: reader.options.tileSize, inputFiles: s.files,
                        platform: s.facts.spacecraft.stacPlatform, instruments: s.facts.sensor.stacInstruments,
                        trueColorBands: Self.trueColorBands(s), provenance: s.provenance)
    }

    /// The red, green and blue surface-reflectance band files of a C2 L2 SR scene (OLI: SR_B4, SR_B3,
    /// SR_B2; TM/ETM+: SR_B3, SR_B2, SR_B1), nil for other scenes.
    static func trueColorBands(_ s: SceneSource) -> [String]? {
        guard s.modelReady else { return nil }
        let oli = s.facts.spacecraft == .landsat(8) || s.facts.spacecraft == .landsat(9)
        let names = oli ? ["SR_B4", "SR_B3", "SR_B2"] : ["SR_B3", "SR_B2", "SR_B1"]
        let paths = names.compactMap { n in s.bands.first { $0.name == n }?.path }
        return paths.count == 3 ? paths : nil
    }

    public func read(rows: Range<Int>) throws -> [[Tile]] {
        try rows.map { try reader.readRow($0, minValid: 0) }
    }

    public func tiles(from strip: [[Tile]], minValid: Double) throws -> TileStrip {
        let first = strip.first?.first.map { $0.metadata.row } ?? 0
        var out = TileStrip(firstRow: first, rowCount: strip.count, tiles: [], pixels: [], week: [], hour: [], lat: [], lon: [])
        out.tiles.reserveCapacity(strip.count * gridCols)
        for row in strip {
            for tile in row {
                let status = TileStatus.classify(validFraction: tile.validFraction, minValid: minValid)
                out.tiles.append(TileRef(row: tile.metadata.row, col: tile.metadata.col, status: status,
                                         validFraction: Float(tile.validFraction)))
                guard status == .mapped else { continue }
                out.mapped.pixels.append(contentsOf: tile.pixels)
                out.mapped.week.append(tile.metadata.week); out.mapped.hour.append(tile.metadata.hour)
                out.mapped.lat.append(tile.metadata.lat); out.mapped.lon.append(tile.metadata.lon)
            }
        }
        return out
    }
}
