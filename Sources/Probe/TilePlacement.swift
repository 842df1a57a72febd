import Foundation
import GeoRaster
import Tiling

/// Where the tiles of a dataset lie on the ground: each scene's CRS and geotransform (from the dataset
/// manifest) and the pixel offset of its tile grid.
///
/// A tile (row, col) of a scene covers pixels `[x₀ + col·S, x₀ + (col+1)·S) × [y₀ + row·S, y₀ + (row+1)·S)`
/// of the scene raster, S the tile size and (x₀, y₀) the grid origin: (0, 0) for Landsat scenes (the
/// grid is anchored at the top-left pixel), and the centre crop `((w − S)/2, (h − S)/2)` for a
/// BigEarthNet patch (recognised by its `*_labels_metadata.json` file in the manifest's `files`), as
/// `moemae tile` cuts them.
public struct TilePlacement: Sendable {
    public let manifest: DatasetManifest
    public let path: String

    public init(manifest: DatasetManifest, path: String) { self.manifest = manifest; self.path = path }

    public var tileSize: Int { manifest.tileSize }

    /// The scene entry of index `scene`; throws when out of range.
    public func scene(_ index: Int) throws -> DatasetManifest.Scene {
        guard index >= 0 && index < manifest.scenes.count else {
            throw ProbeError(path: path, "a tile refers to scene \(index) but the dataset has \(manifest.scenes.count) scenes; were the embeddings computed from this dataset?")
        }
        return manifest.scenes[index]
    }

    /// The pixel origin of the scene's tile grid.
    public func gridOrigin(_ scene: DatasetManifest.Scene) -> (column: Int, row: Int) {
        if scene.files.contains(where: { $0.hasSuffix("_labels_metadata.json") }) {
            return ((scene.width - tileSize) / 2, (scene.height - tileSize) / 2)
        }
        return (0, 0)
    }

    /// The grid of a horizontal strip of tiles `cols` in tile row `row` of `scene`: S rows high, one
    /// tile per column, in the scene's CRS.
    public func strip(scene index: Int, row: Int, cols: ClosedRange<Int>) throws -> LabelGrid {
        let s = try scene(index)
        guard let gt = GeoTransform(gdal: s.geotransform) else {
            throw ProbeError(path: path, "scene '\(s.id)' has an invalid geotransform \(s.geotransform)")
        }
        let crs: CoordinateReferenceSystem
        do { crs = try CoordinateReferenceSystem(definition: s.crsWKT2) } catch {
            throw ProbeError(path: path, "scene '\(s.id)' has a CRS GDAL cannot parse: \(error)")
        }
        let origin = gridOrigin(s)
        let S = tileSize
        return LabelGrid(crs: crs, geoTransform: gt.offset(columns: origin.column + cols.lowerBound * S, rows: origin.row + row * S),
                         width: cols.count * S, height: S)
    }
}
