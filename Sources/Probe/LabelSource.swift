import Diagnostics
import Foundation
import Tiling

/// Where tile labels come from (`--labels`).
public enum LabelSource: Sendable {
    /// A BigEarthNet patch folder or its `labels/` folder (``BigEarthNetLabels``).
    case bigEarthNet(path: String)
    /// A categorical raster GDAL reads (``RasterLabels``).
    case raster(path: String)
    /// Labelled polygons OGR reads, class in attribute `classField` (``VectorLabels``).
    case vector(path: String, classField: String)

    /// A folder is a BigEarthNet labels folder; a file is labelled polygons when `classField` is given,
    /// a label raster otherwise.
    public init(path: String, classField: String?) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw Failure(.open, path: path, "no such label source (a BigEarthNet labels folder, a label raster, or a vector file with its class attribute named)",
                          settings: [.classField])
        }
        if isDir.boolValue {
            self = .bigEarthNet(path: path)
        } else if let classField {
            self = .vector(path: path, classField: classField)
        } else {
            let vectorExtensions: Set<String> = ["geojson", "json", "gpkg", "shp", "fgb", "kml", "gml", "sqlite"]
            if vectorExtensions.contains((path as NSString).pathExtension.lowercased()) {
                throw Failure(.invalidArgument, path: path, "looks like a vector file: name its class attribute", settings: [.classField])
            }
            self = .raster(path: path)
        }
    }

    public var path: String {
        switch self {
        case .bigEarthNet(let p), .raster(let p), .vector(let p, _): return p
        }
    }

    /// Labels of `tiles` of the dataset described by `manifest` (at `datasetPath`).
    public func labels(for tiles: [TileRef], manifest: DatasetManifest, datasetPath: String, task: ProbeTask,
                       minFraction: Double) throws -> TileLabels {
        guard minFraction > 0 && minFraction <= 1 else {
            throw Failure(.invalidArgument, "the minimum label fraction of a tile must lie in (0, 1], got \(minFraction)", settings: [.minFraction])
        }
        let placement = TilePlacement(manifest: manifest, path: datasetPath)
        switch self {
        case .bigEarthNet(let p):
            return try BigEarthNetLabels(path: p).labels(for: tiles, sceneIDs: manifest.scenes.map(\.id), task: task)
        case .raster(let p):
            return try RasterLabels(path: p).labels(for: tiles, placement: placement, task: task, minFraction: minFraction)
        case .vector(let p, let field):
            return try VectorLabels(path: p, classField: field).labels(for: tiles, placement: placement, task: task, minFraction: minFraction)
        }
    }
}
