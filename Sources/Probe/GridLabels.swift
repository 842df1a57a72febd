import Foundation
import GeoRaster

/// Labels of tiles from a source that gives a class code per pixel on any grid (a resampled label
/// raster, or rasterized polygons): the pixels of each tile are counted per class, nodata (no label)
/// ignored, then
///
/// - multi-class: the majority class of the tile's labelled pixels (ties: the class listed first);
/// - multi-label: every class covering at least `minFraction` of the tile's labelled pixels.
///
/// A tile without any labelled pixel, or (multi-label) with no class reaching `minFraction`, is left out.
/// If no tile has a labelled pixel the source does not overlap the tiles: an error.
struct GridLabels {
    let placement: TilePlacement
    let sourcePath: String
    let describe: String

    /// Per-pixel class codes over each strip of tiles: tiles are grouped by scene and tile row, and each
    /// group is read as one strip spanning its columns.
    func counts(for tiles: [TileRef], codes: (LabelGrid) throws -> [Int32]) throws -> [[Int32: Int]] {
        var out = [[Int32: Int]](repeating: [:], count: tiles.count)
        let groups = Dictionary(grouping: tiles.indices) { [tiles] i in SceneRow(scene: tiles[i].scene, row: tiles[i].row) }
        let S = placement.tileSize
        for (key, members) in groups.sorted(by: { ($0.key.scene, $0.key.row) < ($1.key.scene, $1.key.row) }) {
            let cols = members.map { tiles[$0].col }
            let first = cols.min()!, last = cols.max()!
            let grid = try placement.strip(scene: key.scene, row: key.row, cols: first...last)
            let values = try codes(grid)
            for i in members {
                let x0 = (tiles[i].col - first) * S
                var c: [Int32: Int] = [:]
                for y in 0..<S {
                    let base = y * grid.width + x0
                    for x in 0..<S {
                        let v = values[base + x]
                        if v != LabelGrid.noLabel { c[v, default: 0] += 1 }
                    }
                }
                out[i] = c
            }
        }
        return out
    }

    /// Turns per-tile counts into label sets over `classCodes` (the class list, in order).
    func labels(counts: [[Int32: Int]], classCodes: [Int32], task: ProbeTask, minFraction: Double) throws -> ([[Int]?], [String]) {
        let index = Dictionary(uniqueKeysWithValues: classCodes.enumerated().map { ($1, $0) })
        var unlabelled = 0, belowFraction = 0
        var out: [[Int]?] = []
        for c in counts {
            let total = c.values.reduce(0, +)
            guard total > 0 else { unlabelled += 1; out.append(nil); continue }
            switch task {
            case .multiclass:
                let best = c.max { a, b in a.value != b.value ? a.value < b.value : index[a.key]! > index[b.key]! }!
                out.append([index[best.key]!])
            case .multilabel:
                let set = c.filter { Double($0.value) >= minFraction * Double(total) }.map { index[$0.key]! }.sorted()
                if set.isEmpty { belowFraction += 1; out.append(nil) } else { out.append(set) }
            }
        }
        if unlabelled == counts.count {
            throw ProbeError(path: sourcePath, "the \(describe) does not overlap any of the \(counts.count) tiles (every tile pixel is nodata or outside it); check that it covers the dataset's scenes")
        }
        var notes: [String] = []
        if unlabelled > 0 { notes.append("\(unlabelled) tile(s) have no labelled pixel and are left out") }
        if belowFraction > 0 { notes.append("\(belowFraction) tile(s) have no class covering ≥ \(minFraction) of their labelled pixels and are left out") }
        return (out, notes)
    }

    private struct SceneRow: Hashable { var scene: Int; var row: Int }
}

/// Labels from a categorical raster (class codes), resampled onto the tiles with GDAL's warper (nearest
/// neighbour). Classes are the codes present in the tiles, in increasing order; they are named by the
/// raster's category names when it has them (else by the code) and coloured by its colour table when
/// it has one (else by the default palette).
public struct RasterLabels {
    public let path: String
    public let band: Int

    public init(path: String, band: Int = 1) { self.path = path; self.band = band }

    public func labels(for tiles: [TileRef], placement: TilePlacement, task: ProbeTask, minFraction: Double) throws -> TileLabels {
        let warper: CategoricalRasterWarper
        do { warper = try CategoricalRasterWarper(path: path, band: band) } catch let e as GeoRasterError {
            throw ProbeError(path: path, "cannot use as a label raster: \(e)")
        }
        let grid = GridLabels(placement: placement, sourcePath: path, describe: "label raster")
        let counts: [[Int32: Int]]
        do { counts = try grid.counts(for: tiles) { try warper.resample(onto: $0) } } catch let e as GeoRasterError {
            throw ProbeError(path: path, "cannot resample onto the tiles: \(e)")
        }
        let codes = Array(Set(counts.flatMap(\.keys))).sorted()
        let (labels, notes) = try grid.labels(counts: counts, classCodes: codes, task: task, minFraction: minFraction)
        let names = warper.categoryNames(), colors = warper.colorTable()
        let palette = ProbeClass.defaultPalette
        let classes = codes.enumerated().map { i, code -> ProbeClass in
            let name = names[Int(code)] ?? String(code)
            let color = colors[Int(code)].map { RGB($0.red, $0.green, $0.blue) } ?? palette[i % palette.count]
            return ProbeClass(name: name, color: color)
        }
        return TileLabels(classes: classes, labels: labels, notes: notes)
    }
}

/// Labels from polygons with a class attribute (any OGR vector format), rasterized onto the tiles with
/// GDAL (pixel centres inside a polygon; later features win where polygons overlap). Classes are the
/// attribute's distinct values (numeric order when all are integers), coloured by the default palette.
public struct VectorLabels {
    public let path: String
    public let classField: String

    public init(path: String, classField: String) { self.path = path; self.classField = classField }

    public func labels(for tiles: [TileRef], placement: TilePlacement, task: ProbeTask, minFraction: Double) throws -> TileLabels {
        let rasterizer: PolygonRasterizer
        do { rasterizer = try PolygonRasterizer(path: path, classField: classField) } catch let e as GeoRasterError {
            throw ProbeError(path: path, "cannot use as labelled polygons: \(e)")
        }
        let grid = GridLabels(placement: placement, sourcePath: path, describe: "polygon layer")
        let counts: [[Int32: Int]]
        do { counts = try grid.counts(for: tiles) { try rasterizer.rasterize(onto: $0) } } catch let e as GeoRasterError {
            throw ProbeError(path: path, "cannot rasterize onto the tiles: \(e)")
        }
        let codes = (0..<Int32(rasterizer.classValues.count)).map { $0 }
        var (labels, notes) = try grid.labels(counts: counts, classCodes: codes, task: task, minFraction: minFraction)
        if rasterizer.skippedFeatures > 0 {
            notes.append("\(rasterizer.skippedFeatures) feature(s) without a polygon or a '\(classField)' value were ignored")
        }
        return TileLabels(classes: ProbeClass.withDefaultColors(rasterizer.classValues), labels: labels, notes: notes)
    }
}
