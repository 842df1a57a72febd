import Foundation
import Landsat
import SafeTensors
import Diagnostics

/// Errors reading a dataset folder or shard.
public struct DatasetError: Error, CustomStringConvertible {
    public var path: String
    public var message: String
    public init(path: String, _ message: String) { self.path = path; self.message = message }
    public var description: String { "\(path): \(message)" }
}

extension DatasetError: DiagnosedError {
    public var kind: FailureKind { message.hasPrefix("already exists") ? .outputExists : .read }
    public var file: String? { path }
}

/// A dataset as `embed`, `probe` and `pretrain` read it: either a folder written by `moemae tile`
/// (with `manifest.json`) or one bare shard file with the same tensor names, read with the default
/// conventions (bands SR_B1…SR_B7, hour policy `utc`, metadata present).
public struct Dataset: Sendable {
    /// Folder or shard path as given.
    public let path: String
    /// The manifest; nil for a bare shard.
    public let manifest: DatasetManifest?
    /// Absolute shard paths in order.
    public let shardPaths: [String]

    public var bands: [String] { manifest?.bands ?? LandsatBandSet.modelBandNames }
    public var hourPolicy: HourPolicy { manifest?.hourPolicy ?? .utc }
    public var hasMetadata: Bool { manifest?.metadata ?? true }
    public var tileSize: Int { manifest?.tileSize ?? 40 }

    /// Opens a dataset folder or a bare shard. Throws ``DatasetError`` naming the file: missing path or
    /// manifest, invalid or newer manifest, or a folder of GeoTIFF chips (layout `geotiff`, no shards).
    public init(path: String) throws {
        self.path = path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw DatasetError(path: path, "no such dataset folder or shard file")
        }
        if isDir.boolValue {
            let manifestPath = (path as NSString).appendingPathComponent("manifest.json")
            guard let data = FileManager.default.contents(atPath: manifestPath) else {
                throw DatasetError(path: path, "not a dataset folder: manifest.json is missing (write one with `moemae tile`)")
            }
            let m: DatasetManifest
            do {
                m = try JSONDecoder().decode(DatasetManifest.self, from: data)
            } catch {
                throw DatasetError(path: manifestPath, "not a valid moemae dataset manifest: \(error)")
            }
            guard m.format == DatasetManifest.formatName else {
                throw DatasetError(path: manifestPath, "format is '\(m.format)', expected '\(DatasetManifest.formatName)'")
            }
            guard m.formatVersion <= DatasetManifest.currentVersion else {
                throw DatasetError(path: manifestPath, "format_version \(m.formatVersion) is newer than this moemae reads (\(DatasetManifest.currentVersion))")
            }
            // GeoTIFF chips (`tile --format geotiff`) have no shards: reading them as a dataset would
            // silently give zero tiles (embed wrote an empty embeddings file and exited 0).
            guard m.layout != .geotiff else {
                throw Failure(.read, path: path, "holds GeoTIFF chips (images/, labels/; written by `moemae tile` in the geotiff layout), not safetensors shards; embed, probe and pretrain read shards: tile the scenes again in the safetensors layout (the default)",
                              settings: [.format])
            }
            manifest = m
            shardPaths = m.shards.map { (path as NSString).appendingPathComponent($0.file) }
        } else {
            manifest = nil
            shardPaths = [path]
        }
    }

    /// Opens shard `index` (validated header, memory-mapped).
    public func shard(_ index: Int) throws -> TileShard {
        try TileShard(path: shardPaths[index], tileSize: tileSize, bandCount: bands.count)
    }
}

/// One shard of a dataset: tensors `pixels` u16 [N,B,S,S], `lat`, `lon` f64 [N], `week` i32 [N],
/// `hour` f32 [N], and optionally `valid` u8 [N,S,S], `valid_fraction` f32 [N], `row`, `col`, `scene` i32 [N].
public struct TileShard: @unchecked Sendable {
    public let file: SafeTensorsFile
    /// Number of tiles N.
    public let count: Int
    public let tileSize: Int
    public let bandCount: Int

    public init(path: String, tileSize: Int = 40, bandCount: Int = 7) throws {
        let f = try SafeTensorsFile(path: path)
        let p = try f.check("pixels", dtype: .u16)
        guard p.shape.count == 4, p.shape[1] == bandCount, p.shape[2] == tileSize, p.shape[3] == tileSize else {
            throw SafeTensorsError.wrongShape(path: path, name: "pixels", expected: [-1, bandCount, tileSize, tileSize], found: p.shape)
        }
        let n = p.shape[0]
        try f.check("lat", shape: [n]); try f.check("lon", shape: [n])
        try f.check("week", shape: [n]); try f.check("hour", shape: [n])
        for optional in ["row", "col", "scene", "valid_fraction"] where f.info(optional) != nil {
            try f.check(optional, shape: [n])
        }
        if f.info("valid") != nil { try f.check("valid", dtype: .u8, shape: [n, tileSize, tileSize]) }
        file = f; count = n; self.tileSize = tileSize; self.bandCount = bandCount
    }

    /// Raw digital numbers of tiles `range`, [count, B, S, S] flattened.
    public func pixels(_ range: Range<Int>) throws -> [UInt16] {
        let per = bandCount * tileSize * tileSize
        return try file.array("pixels", as: UInt16.self, elements: range.lowerBound * per..<range.upperBound * per)
    }

    /// Latitudes in degrees (f64 or f32 accepted).
    public func lat() throws -> [Double] { try doubles("lat") }
    public func lon() throws -> [Double] { try doubles("lon") }
    /// ISO-8601 weeks.
    public func week() throws -> [Int] { try file.ints("week") }
    /// UTC hour of day with fraction.
    public func hour() throws -> [Double] { try doubles("hour") }
    /// Optional i32 columns (`row`, `col`, `scene`); nil when the shard lacks them.
    public func optionalInts(_ name: String) throws -> [Int]? { file.info(name) == nil ? nil : try file.ints(name) }

    private func doubles(_ name: String) throws -> [Double] {
        let i = try file.require(name)
        switch i.dtype {
        case .f64: return try file.array(name, as: Double.self)
        case .f32, .f16, .bf16: return try file.floats(name).map(Double.init)
        default: return try file.ints(name).map(Double.init)
        }
    }
}
