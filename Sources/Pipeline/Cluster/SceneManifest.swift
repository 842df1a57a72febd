import ContentDigest
import Diagnostics
import Foundation
import GeoRaster
import Tiling

/// One line of a scene manifest (`moemae plan`, `schemas/scene-manifest.schema.json`): a scene with
/// the facts that sharding, claims and gathering need, read from its metadata and raster headers
/// (no pixels).
public struct ManifestEntry: Codable, Equatable, Sendable {
    /// 0-based line number in the manifest: the `--index` of `moemae map` and the Slurm array index of
    /// a by-line resubmission.
    public var index: Int
    /// Landsat product id: the prefix of every output file of the scene.
    public var id: String
    /// Where the scene is read (``ManifestSource``): a scene folder or MTL path (absolute), a STAC Item
    /// file (absolute) or URL, `<collection>#<item id>` for one item of an ItemCollection, or a remote
    /// scene prefix / MTL URL.
    public var source: String
    /// Acquisition time, RFC 3339 UTC (from the MTL).
    public var acquired: String
    /// `EPSG:<code>`, or the WKT2 text when the CRS has no EPSG code.
    public var crs: String
    /// EPSG code of the CRS, nil when it has none.
    public var epsg: Int?
    /// Raster grid of the bands: size in pixels and GDAL geotransform `[x0, dx, rx, y0, ry, dy]`.
    public var grid: Grid
    /// Tile edge in pixels the estimate uses (the map's tile size).
    public var tileSize: Int
    /// Tiles of the map's grid: ⌈width / tileSize⌉ × ⌈height / tileSize⌉ (edge tiles are padded). The
    /// weight of a line when shards are balanced (``ShardPlan``).
    public var estimatedTiles: Int
    /// ``SceneManifest/contentHash(of:)``: SHA-256 over the MTL bytes and the name and size of every
    /// raster read. `moemae map --manifest` refuses a scene whose inputs changed since planning.
    public var contentSHA256: String

    public struct Grid: Codable, Equatable, Sendable {
        public var width: Int
        public var height: Int
        public var geotransform: [Double]
        public init(width: Int, height: Int, geotransform: [Double]) { self.width = width; self.height = height; self.geotransform = geotransform }
    }

    enum CodingKeys: String, CodingKey {
        case index, id, source, acquired, crs, epsg, grid, tileSize = "tile_size", estimatedTiles = "estimated_tiles"
        case contentSHA256 = "content_sha256"
    }

    public init(index: Int, id: String, source: String, acquired: String, crs: String, epsg: Int?, grid: Grid, tileSize: Int,
                estimatedTiles: Int, contentSHA256: String) {
        self.index = index; self.id = id; self.source = source; self.acquired = acquired; self.crs = crs; self.epsg = epsg
        self.grid = grid; self.tileSize = tileSize; self.estimatedTiles = estimatedTiles; self.contentSHA256 = contentSHA256
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index); try c.encode(id, forKey: .id); try c.encode(source, forKey: .source)
        try c.encode(acquired, forKey: .acquired); try c.encode(crs, forKey: .crs)
        try c.encode(epsg, forKey: .epsg)   // explicit null when the CRS has no EPSG code
        try c.encode(grid, forKey: .grid); try c.encode(tileSize, forKey: .tileSize)
        try c.encode(estimatedTiles, forKey: .estimatedTiles); try c.encode(contentSHA256, forKey: .contentSHA256)
    }
}

/// An input that `moemae plan` could not turn into a manifest line, and why (`<manifest>.rejected.jsonl`).
public struct RejectedInput: Codable, Equatable, Sendable {
    public var source: String
    public var error: String
    public init(source: String, error: String) { self.source = source; self.error = error }
}

/// A scene manifest: JSON Lines, one ``ManifestEntry`` per line, sorted by product id (then source),
/// so the same inputs always give the same bytes and the same line numbers.
public struct SceneManifest: Equatable, Sendable {
    public var entries: [ManifestEntry]
    public init(entries: [ManifestEntry]) { self.entries = entries }

    /// What planning produced: the manifest and the inputs it could not use.
    public struct Plan: Sendable {
        public var manifest: SceneManifest
        public var rejected: [RejectedInput]
    }

    /// Plans `inputs`: scene folders, MTL files, folders of scene folders (expanded one level, in name
    /// order), STAC Items and ItemCollections (local files or URLs; each item a line with source
    /// `<collection>#<item id>`), remote scene prefixes and MTL files (``ManifestSource``). Each scene is
    /// opened as `moemae map` opens it (metadata, band headers through GDAL, one pixel grid); nothing is
    /// read beyond headers. Unreadable inputs, a collection's broken items and repeated product ids are
    /// returned in ``Plan/rejected`` with the reason, never dropped silently; `warn` receives
    /// disagreements between an item and its MTL.
    public static func plan(inputs: [String], tileSize: Int = 40, warn: (String) -> Void = { _ in }) -> Plan {
        var candidates: [String] = []
        for input in inputs { candidates.append(contentsOf: expand(input)) }
        var entries: [ManifestEntry] = []
        var rejected: [RejectedInput] = []
        for input in candidates {
            for candidate in ManifestSource.candidates(of: input, warn: warn) {
                do {
                    entries.append(try entry(for: candidate.result.get(), source: candidate.source, tileSize: tileSize))
                } catch {
                    rejected.append(RejectedInput(source: candidate.source, error: String(describing: error)))
                }
            }
        }
        entries.sort { ($0.id, $0.source) < ($1.id, $1.source) }
        var unique: [ManifestEntry] = []
        for e in entries {
            if let first = unique.last, first.id == e.id {
                rejected.append(RejectedInput(source: e.source, error: "is product \(e.id), already planned from \(first.source); each product is mapped once (its outputs are named after it)"))
                continue
            }
            var line = e
            line.index = unique.count
            unique.append(line)
        }
        return Plan(manifest: SceneManifest(entries: unique), rejected: rejected.sorted { $0.source < $1.source })
    }

    /// A folder without an MTL file of its own is a folder of scenes: its sub-folders, in name order.
    static func expand(_ input: String) -> [String] {
        if RemoteLocation.isRemote(input) { return [input] }
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let absolute = URL(fileURLWithPath: input).standardizedFileURL.path
        guard fm.fileExists(atPath: absolute, isDirectory: &isDir), isDir.boolValue,
              let names = try? fm.contentsOfDirectory(atPath: absolute) else { return [absolute] }
        if names.contains(where: { $0.uppercased().contains("_MTL.") }) { return [absolute] }
        let subfolders = names.sorted().map { (absolute as NSString).appendingPathComponent($0) }.filter {
            var d: ObjCBool = false
            return fm.fileExists(atPath: $0, isDirectory: &d) && d.boolValue && !($0 as NSString).lastPathComponent.hasPrefix(".")
        }
        return subfolders.isEmpty ? [absolute] : subfolders
    }

    /// The manifest line of one manifest source (``ManifestSource``; index 0: ``plan(inputs:tileSize:warn:)``
    /// numbers them).
    public static func entry(for source: String, tileSize: Int = 40) throws -> ManifestEntry {
        try entry(for: ManifestSource.open(source, warn: { _ in }), source: source, tileSize: tileSize)
    }

    static func entry(for opened: ManifestSource.Opened, source path: String, tileSize: Int) throws -> ManifestEntry {
        let source = opened.scene
        let rasters = try SceneRasters(source: source)
        let crsText = rasters.crs.epsg.map { "EPSG:\($0)" } ?? rasters.crs.wkt2
        let rows = (rasters.height + tileSize - 1) / tileSize, cols = (rasters.width + tileSize - 1) / tileSize
        return ManifestEntry(index: 0, id: source.id, source: path, acquired: source.facts.acquisition.iso8601, crs: crsText, epsg: rasters.crs.epsg,
                             grid: .init(width: rasters.width, height: rasters.height, geotransform: rasters.geoTransform.gdal),
                             tileSize: tileSize, estimatedTiles: rows * cols, contentSHA256: try contentHash(of: opened))
    }

    /// SHA-256 (hex) over the scene's metadata files' bytes and `name|size` of each raster file (band and
    /// QA, in read order). Cheap at scale (no pixel bytes hashed) and changes when a file is replaced
    /// by another product or truncated. Remote files are read and sized through GDAL (`Content-Length`);
    /// for one item of a collection the item's own JSON (keys sorted) stands for the collection file.
    public static func contentHash(of opened: ManifestSource.Opened) throws -> String {
        let source = opened.scene
        let hasher = MessageDigest(.sha256)
        hasher.update(data: Data("moemae-scene-content-v1\n".utf8))
        if let feature = opened.featureJSON {
            hasher.update(data: Data("feature \(source.id) \(feature.count)\n".utf8))
            hasher.update(data: feature)
        }
        for m in source.metadataFiles where m != opened.collection {
            let data: Data
            if RemoteLocation.isRemote(m) {
                do { data = try VirtualFileSystem.read(m) } catch { throw TilingError(path: RemoteLocation.displayURL(m), "cannot read the metadata file: \(error)") }
            } else {
                guard let d = FileManager.default.contents(atPath: m) else { throw TilingError(path: m, "cannot read the metadata file") }
                data = d
            }
            hasher.update(data: Data("metadata \((m as NSString).lastPathComponent) \(data.count)\n".utf8))
            hasher.update(data: data)
        }
        for f in source.files where !source.metadataFiles.contains(f) {
            let size: Int64
            if RemoteLocation.isRemote(f) {
                let status: VirtualFileSystem.Status?
                do { status = try VirtualFileSystem.status(f) } catch { throw TilingError(path: RemoteLocation.displayURL(f), "cannot inspect the raster file: \(error)") }
                guard let status else { throw TilingError(path: RemoteLocation.displayURL(f), "the raster file does not exist") }
                size = status.size
            } else {
                var st = stat()
                guard stat(f, &st) == 0 else { throw TilingError(path: f, "cannot read the raster file: \(String(cString: strerror(errno)))") }
                size = Int64(st.st_size)
            }
            hasher.update(data: Data("raster \((RemoteLocation.displayURL(f) as NSString).lastPathComponent) \(size)\n".utf8))
        }
        return MessageDigest.hex(hasher.finalize())
    }

    /// ``contentHash(of:)-swift.type.method`` of a scene folder or MTL file.
    public static func contentHash(of source: SceneSource) throws -> String {
        try contentHash(of: ManifestSource.Opened(scene: source))
    }

    /// JSON Lines: one compact JSON object per line, keys sorted, `\n` after each line.
    public func jsonLines() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out = Data()
        for entry in entries { out.append(try e.encode(entry)); out.append(0x0A) }
        return out
    }

    /// Reads a manifest written by ``jsonLines()``; errors name the file and line. Line `k` must have
    /// `index` k (a manifest edited by hand so that lines moved would send array tasks to other scenes).
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ClusterError(path: path, "cannot read the manifest (does it exist?); write one with moemae plan (scenes in, this file out)")
        }
        let decoder = JSONDecoder()
        var entries: [ManifestEntry] = []
        for (n, line) in data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
            let entry: ManifestEntry
            do { entry = try decoder.decode(ManifestEntry.self, from: Data(line)) } catch {
                throw ClusterError(path: path, "line \(n + 1) is not a manifest entry (\(Self.reason(error))); write manifests with moemae plan")
            }
            guard entry.index == entries.count else {
                throw ClusterError(path: path, "line \(n + 1) has index \(entry.index) but is entry \(entries.count); the manifest was edited or reordered — plan it again with moemae plan")
            }
            entries.append(entry)
        }
        if entries.isEmpty { throw ClusterError(path: path, "the manifest has no scenes") }
        var seen: Set<String> = []
        for e in entries where !seen.insert(e.id).inserted {
            throw ClusterError(path: path, "product \(e.id) is in the manifest twice (line \(e.index + 1)); plan it again with moemae plan")
        }
        self.entries = entries
    }

    static func reason(_ error: Error) -> String {
        if case DecodingError.keyNotFound(let key, _) = error { return "no '\(key.stringValue)'" }
        if case DecodingError.typeMismatch(_, let c) = error { return "wrong type at \(c.codingPath.map(\.stringValue).joined(separator: "."))" }
        if case DecodingError.dataCorrupted = error { return "not JSON" }
        return String(describing: error)
    }
}

/// A refusal of the cluster commands (plan, sharded map, gather): the file concerned and what to do.
public struct ClusterError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    /// The settings that fix it (``DiagnosedError/settings``).
    public let settings: [Setting]
    public init(path: String, _ message: String, settings: [Setting] = []) { self.path = path; self.message = message; self.settings = settings }
    /// `<path>: <message> (setting: …)`.
    public var description: String { "\(path): \(message)" + Setting.mention(settings) }
}

extension ClusterError: DiagnosedError {
    public var kind: FailureKind { .read }
    public var file: String? { path }
}
