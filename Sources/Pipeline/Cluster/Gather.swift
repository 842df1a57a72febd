import ContentDigest
import Diagnostics
import Foundation
import GeoRaster

/// A STAC Collection (spec v1.0.0, `collection-spec/json-schema/collection.json`, vendored under
/// `schemas/stac/`) over the finished scene Items of an output folder.
public struct STACCollection: Codable, Equatable, Sendable {
    public var type = "Collection"
    public var stacVersion = "1.0.0"
    public var stacExtensions: [String] = []
    public var id: String
    public var title: String?
    public var description: String
    /// SPDX identifier or `various`/`proprietary` (STAC 1.0.0); maps of public-domain Landsat data made
    /// with models of other licences: `various`.
    public var license: String
    public var extent: Extent
    /// Values over the Items: `platform`, `instruments`, `proj:epsg`, and the label classes.
    public var summaries: Summaries
    public var links: [STACItem.Link]

    enum CodingKeys: String, CodingKey {
        case type, stacVersion = "stac_version", stacExtensions = "stac_extensions", id, title, description, license
        case extent, summaries, links
    }

    public struct Extent: Codable, Equatable, Sendable {
        public var spatial: Spatial
        public var temporal: Temporal
        public struct Spatial: Codable, Equatable, Sendable {
            /// `[[west, south, east, north]]`: the union of the Items' bboxes (degrees).
            public var bbox: [[Double]]
        }
        public struct Temporal: Codable, Equatable, Sendable {
            /// `[[first, last]]` acquisition times (RFC 3339).
            public var interval: [[String?]]
        }
    }

    public struct Summaries: Codable, Equatable, Sendable {
        public var platform: [String]?
        public var instruments: [String]?
        public var projEPSG: [Int]?
        public var classes: [STACItem.ClassificationClass]?
        enum CodingKeys: String, CodingKey {
            case platform, instruments, projEPSG = "proj:epsg", classes = "classification:classes"
        }
    }

    public func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(self)
    }
}

/// `moemae gather DIR --manifest M`: turns the per-scene outputs of many array tasks into one catalogue.
///
/// Reads each manifest line's STAC Item (`<product>.stac.json`, published last, so its presence means
/// the scene is complete) and nothing else per scene: no raster pixels. Writes into DIR, each file
/// atomically: `collection.json` (Collection over the finished Items), `missing.json` (lines without
/// a finished Item, with the commands that resubmit exactly those), per-CRS VRT mosaics of labels and
/// experts (`mosaic-labels-EPSG-<code>.vrt`, `mosaic-experts-EPSG-<code>.vrt`: scenes in different UTM
/// zones cannot share one VRT), and with `mosaicCRS` one Cloud Optimized GeoTIFF per product warped
/// into that CRS (`mosaic-labels.tif`, `mosaic-experts.tif` + `mosaic-experts.vrt` with every band's
/// palette, nearest neighbour).
public enum Gather {
    public struct Options: Sendable {
        public var directory: String
        public var manifest: String
        public var collectionID = "moemae-maps"
        public var vrt = true
        /// `EPSG:…` (or any CRS GDAL reads) for the one-CRS COG mosaics; nil = none.
        public var mosaicCRS: String?
        /// Pixel size of the COG mosaics in `mosaicCRS` units.
        public var resolution: Double?
        /// The commands that map exactly the missing manifest lines (sorted line numbers), by engine name
        /// (`slurm`, `kubernetes`, `aws_batch`, `local`), recorded in `missing.json`: the front end's, as
        /// they are written in its syntax (`moemae gather` supplies its own); none by default.
        public var resubmitCommands: @Sendable (_ lines: [Int]) -> [String: String] = { _ in [:] }
        public init(directory: String, manifest: String) { self.directory = directory; self.manifest = manifest }
    }

    public struct Missing: Codable, Equatable, Sendable {
        public var index: Int
        public var id: String
        public var source: String
    }

    /// `missing.json`.
    public struct MissingReport: Codable, Equatable, Sendable {
        public var format = "moemae-gather-missing"
        public var formatVersion = 1
        public var manifest: String
        public var lines: Int
        public var finished: Int
        public var missing: [Missing]
        /// Commands that map exactly the missing lines: Slurm by line (`sbatch --array=3,17 …`), the
        /// line list for a Kubernetes Indexed Job or AWS Batch array (`--lines`), and one local command.
        public var resubmit: [String: String]
        enum CodingKeys: String, CodingKey { case format, formatVersion = "format_version", manifest, lines, finished, missing, resubmit }
    }

    public struct Outcome {
        public var collectionPath: String
        public var items: Int
        public var missing: MissingReport
        /// Mosaic files written (VRTs and COGs), paths.
        public var mosaics: [String]
    }

    public static func run(_ options: Options, note: (String) -> Void = { _ in }) throws -> Outcome {
        let manifest = try SceneManifest(contentsOf: options.manifest)
        if options.mosaicCRS != nil && options.resolution == nil {
            throw MapOptionsError("a mosaic CRS needs a resolution R (pixel size in the CRS's units, e.g. 1200 for 30 m × 40-pixel tiles in UTM)",
                                  settings: [.resolution])
        }
        // An s3:// prefix: one LIST for the names, a GET per finished Item, the outputs written in a local
        // folder and uploaded into the prefix (all through GDAL's /vsis3/); rasters are referenced in
        // place (`/vsis3/…` sources in the VRTs).
        let bucket = try RemoteGatherLocation(options.directory)
        let dir = bucket?.workDirectory ?? options.directory
        defer { if let bucket { try? FileManager.default.removeItem(atPath: bucket.workDirectory) } }
        var isDir: ObjCBool = false
        if bucket == nil {
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw ClusterError(path: dir, "is not an output folder of moemae map (it does not exist)")
            }
        }
        let decoder = JSONDecoder()
        var items: [STACItem] = []
        var missing: [Missing] = []
        // From a bucket, the finished Items are fetched up front, several GETs at a time (latency-bound).
        let fetched = try bucket?.readAll(manifest.entries.map { "\($0.id).stac.json" })
        for e in manifest.entries {
            let name = "\(e.id).stac.json"
            let path = bucket?.location(name) ?? (dir as NSString).appendingPathComponent(name)
            let data: Data?
            if let fetched { data = fetched[name] } else { data = FileManager.default.contents(atPath: path) }
            guard let data else {
                missing.append(.init(index: e.index, id: e.id, source: e.source)); continue
            }
            do {
                let item = try decoder.decode(STACItem.self, from: data)
                guard item.id == e.id else { throw ClusterError(path: path, "is the Item of \(item.id), not of \(e.id)") }
                items.append(item)
            } catch let error as ClusterError {
                throw error
            } catch {
                throw ClusterError(path: path, "is not a STAC Item written by moemae map (\(SceneManifest.reason(error))); map the scene again, replacing its outputs",
                                   settings: [.overwrite])
            }
        }

        // Collection.
        let collectionPath = (dir as NSString).appendingPathComponent("collection.json")
        let collection = makeCollection(items: items, id: options.collectionID, manifestLines: manifest.entries.count)
        try writeAtomically(try collection.jsonData(), to: collectionPath)

        // Missing lines and how to map exactly those.
        let lines = missing.map(\.index)
        let resubmit = lines.isEmpty ? [:] : options.resubmitCommands(lines)
        let report = MissingReport(manifest: options.manifest, lines: manifest.entries.count, finished: items.count,
                                   missing: missing, resubmit: resubmit)
        let e = JSONEncoder(); e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try writeAtomically(try e.encode(report), to: (dir as NSString).appendingPathComponent("missing.json"))

        // Mosaics: group by CRS (EPSG code, else the WKT's hash).
        var mosaics: [String] = []
        if options.vrt || options.mosaicCRS != nil {
            var groups: [String: [STACItem]] = [:]
            for item in items { groups[crsKey(item), default: []].append(item) }
            for key in groups.keys.sorted() where options.vrt {
                let group = groups[key]!
                for product in ["labels", "experts"] {
                    let sources = group.compactMap { assetPath($0, product, dir, in: bucket) }
                    guard !sources.isEmpty else { continue }
                    let vrt = (dir as NSString).appendingPathComponent("mosaic-\(product)-\(key).vrt")
                    // The experts' own VRT beside each scene carries the per-band palettes.
                    let palette = product == "experts" ? palettedExpertsVRT(sources[0], in: bucket) : nil
                    try RasterMosaic.buildVRT(sources: sources, to: vrt, paletteSource: palette)
                    mosaics.append(vrt)
                    note("\(vrt): \(sources.count) scenes in \(key)")
                }
            }
            if let crs = options.mosaicCRS, let resolution = options.resolution, !items.isEmpty {
                for product in ["labels", "experts"] {
                    let sources = items.compactMap { assetPath($0, product, dir, in: bucket) }
                    guard !sources.isEmpty else { continue }
                    let cog = (dir as NSString).appendingPathComponent("mosaic-\(product).tif")
                    let palette = product == "experts" ? palettedExpertsVRT(sources[0], in: bucket) : nil
                    try RasterMosaic.warpToCOG(sources: sources, to: cog, crs: crs, resolution: resolution, paletteSource: palette)
                    mosaics.append(cog)
                    if let palette {
                        // A multi-band TIFF holds one colour table at most: a VRT beside it gives every band its
                        // palette, as `<product>_experts.vrt` does for each scene.
                        let vrt = (dir as NSString).appendingPathComponent("mosaic-\(product).vrt")
                        try RasterMosaic.buildVRT(sources: [cog], to: vrt, paletteSource: palette)
                        mosaics.append(vrt)
                    }
                    note("\(cog): \(sources.count) scenes warped into \(crs) at \(resolution)")
                }
            }
        }
        if let bucket {
            // Mosaics first, the Collection last: a Collection in the prefix links only what is there.
            for file in mosaics + [(dir as NSString).appendingPathComponent("missing.json"), collectionPath] { try bucket.upload(file) }
            return Outcome(collectionPath: bucket.location("collection.json"), items: items.count, missing: report,
                           mosaics: mosaics.map { bucket.location(($0 as NSString).lastPathComponent) })
        }
        return Outcome(collectionPath: collectionPath, items: items.count, missing: report, mosaics: mosaics)
    }

    /// `EPSG-32617`, or `crs-<first 12 hex of SHA-256 of the WKT2>` for a CRS without an EPSG code.
    static func crsKey(_ item: STACItem) -> String {
        if let code = item.properties.projEPSG { return "EPSG-\(code)" }
        let wkt = item.properties.projWKT2 ?? ""
        return "crs-" + MessageDigest.hex(MessageDigest.hash(.sha256, data: Data(wkt.utf8)).prefix(6))
    }

    static func assetPath(_ item: STACItem, _ key: String, _ dir: String, in bucket: RemoteGatherLocation? = nil) -> String? {
        guard let href = item.assets[key]?.href else { return nil }
        let name = href.hasPrefix("./") ? String(href.dropFirst(2)) : href
        if let bucket, !name.hasPrefix("/") {
            return bucket.names.contains(name) ? RemoteLocation.gdalPath(bucket.location(name)) : nil
        }
        let path = name.hasPrefix("/") ? name : (dir as NSString).appendingPathComponent(name)
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    static func palettedExpertsVRT(_ tif: String, in bucket: RemoteGatherLocation? = nil) -> String? {
        let vrt = (tif as NSString).deletingPathExtension + ".vrt"
        if let bucket, RemoteLocation.isRemote(vrt) {
            return bucket.names.contains((vrt as NSString).lastPathComponent) ? vrt : nil
        }
        return FileManager.default.fileExists(atPath: vrt) ? vrt : nil
    }

    /// The Collection over `items`: bbox union, first/last acquisition, summaries, a link per Item.
    public static func makeCollection(items: [STACItem], id: String, manifestLines: Int) -> STACCollection {
        var west = 180.0, south = 90.0, east = -180.0, north = -90.0
        for i in items where i.bbox.count == 4 {
            west = min(west, i.bbox[0]); south = min(south, i.bbox[1]); east = max(east, i.bbox[2]); north = max(north, i.bbox[3])
        }
        let bbox = items.isEmpty ? [-180.0, -90.0, 180.0, 90.0] : [west, south, east, north]
        let times = items.map(\.properties.datetime).sorted()
        let platforms = Set(items.compactMap(\.properties.platform)).sorted()
        let instruments = Set(items.flatMap { $0.properties.instruments ?? [] }).sorted()
        let epsg = Set(items.compactMap(\.properties.projEPSG)).sorted()
        let classes = items.first?.assets["labels"]?.classes
        var links: [STACItem.Link] = [
            .init(rel: "root", href: "./collection.json", type: "application/json", title: id),
            .init(rel: "self", href: "./collection.json", type: "application/json"),
        ]
        for item in items.sorted(by: { $0.id < $1.id }) {
            links.append(.init(rel: "item", href: "./\(item.id).stac.json", type: "application/geo+json", title: item.id))
        }
        return STACCollection(
            id: id, title: "moemae land-cover and expert maps",
            description: "Land-cover labels and MoE-MAE expert maps of \(items.count) Landsat scenes (of \(manifestLines) planned), one Item per scene, written by moemae map and gathered by moemae gather.",
            license: "various",
            extent: .init(spatial: .init(bbox: [bbox]), temporal: .init(interval: [[times.first, times.last]])),
            summaries: .init(platform: platforms.isEmpty ? nil : platforms, instruments: instruments.isEmpty ? nil : instruments,
                             projEPSG: epsg.isEmpty ? nil : epsg, classes: classes),
            links: links)
    }
}

/// The `s3://` prefix `moemae gather` reads from and writes into: its object names (one LIST through
/// GDAL's `VSIReadDir`, which follows S3's pagination), Item reads (16 at a time), and uploads of what
/// gather writes in ``workDirectory`` first.
struct RemoteGatherLocation: Sendable {
    /// `s3://bucket/prefix` without a trailing slash.
    let url: String
    /// Names of the objects directly under the prefix.
    let names: Set<String>
    let workDirectory: String

    /// nil for a local folder. - Throws: ``ClusterError`` for `http(s)://` (cannot be listed or written)
    /// and for a prefix that cannot be listed or holds nothing.
    init?(_ directory: String) throws {
        guard RemoteLocation.isRemote(directory) else { return nil }
        guard RemoteLocation.isS3(directory) else {
            throw ClusterError(path: directory, "gather reads and writes an s3:// prefix or a local folder; HTTP locations cannot be listed or written")
        }
        var u = RemoteLocation.displayURL(RemoteLocation.gdalPath(directory))
        while u.hasSuffix("/") { u.removeLast() }
        url = u
        guard let listed = VirtualFileSystem.list(u), !listed.isEmpty else {
            throw ClusterError(path: u, "holds no outputs of moemae map (the prefix is empty or cannot be listed: check the bucket, the credentials and AWS_S3_ENDPOINT)")
        }
        names = Set(listed)
        workDirectory = (NSTemporaryDirectory() as NSString).appendingPathComponent("moemae-gather-\(UUID().uuidString)")
        try OutputTransaction.makeDirectories(workDirectory)
    }

    func location(_ name: String) -> String { url + "/" + name }

    /// The object `name`, nil when the listing does not have it.
    /// - Throws: ``ClusterError`` when a listed object cannot be read.
    func read(_ name: String) throws -> Data? {
        guard names.contains(name) else { return nil }
        do { return try VirtualFileSystem.read(location(name)) } catch {
            throw ClusterError(path: location(name), "cannot read the STAC Item: \(error)")
        }
    }

    /// The listed objects among `wanted`, name → bytes, read with up to `concurrency` GETs in flight (each
    /// read has its own GDAL file handle; GDAL's `/vsis3/` is thread-safe). One GET at a time would make
    /// 10,000 Items cost 10,000 round trips one after another.
    /// - Throws: ``ClusterError`` for the first listed object that cannot be read.
    func readAll(_ wanted: [String], concurrency: Int = 16) throws -> [String: Data] {
        let present = wanted.filter { names.contains($0) }
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var data: [String: Data] = [:]
            var error: Error?
        }
        let results = Results()
        let slots = DispatchSemaphore(value: max(1, concurrency))
        let group = DispatchGroup()
        let queue = DispatchQueue(label: "moemae.gather.read", attributes: .concurrent)
        for name in present {
            slots.wait()
            queue.async(group: group) {
                defer { slots.signal() }
                do {
                    let d = try self.read(name)
                    results.lock.lock(); results.data[name] = d; results.lock.unlock()
                } catch {
                    results.lock.lock(); if results.error == nil { results.error = error }; results.lock.unlock()
                }
            }
        }
        group.wait()
        if let error = results.error { throw error }
        return results.data
    }

    /// Uploads a file gather wrote in ``workDirectory`` to the prefix under its name.
    func upload(_ file: String) throws {
        let name = (file as NSString).lastPathComponent
        do { try VirtualFileSystem.upload(file: file, to: location(name)) } catch {
            throw ClusterError(path: location(name), "upload failed: \(error)")
        }
    }
}
