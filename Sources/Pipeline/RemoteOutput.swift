import ContentDigest
import Diagnostics
import Foundation
import GeoRaster

/// Map outputs published to object storage (`--out s3://bucket/prefix/`), through GDAL's `/vsis3/`
/// (``VirtualFileSystem/upload(file:to:)``; never our own S3 client). See docs/cloud.md.
///
/// Every scene is first mapped into a local folder exactly as for a local `--out` (``localDirectory``:
/// staging folder, temporary names, atomic publication, `--resume` state). Its finished files are then
/// validated (rasters opened with GDAL, JSON parsed) and uploaded one by one, the STAC Item last: an
/// object store has no multi-object rename, so the Item is the completion marker. An S3 object appears
/// only when its upload completes, so a run killed while mapping leaves no final-named object, and one
/// killed while uploading leaves no STAC Item for the scene. After the upload the local copies are
/// removed (the staging folders of unfinished scenes stay, for `--resume`).
public struct RemoteOutput: Sendable {
    /// `s3://bucket/prefix` without a trailing slash.
    public let url: String
    /// The local folder where outputs are completed before upload:
    /// `$TMPDIR/moemae-out-<first 16 hex digits of SHA-256(url)>`, the same for every run to this URL
    /// (so `--resume` finds the rows of an interrupted run).
    public let localDirectory: String

    /// True when `out` names object storage rather than a local folder.
    public static func isRemote(_ out: String) -> Bool { RemoteLocation.isRemote(out) }

    /// - Throws: ``OutputError`` for `http(s)://` outputs (GDAL cannot write there) and bucket-less URLs.
    public init(url out: String) throws {
        guard RemoteLocation.isS3(out) else {
            throw OutputError(path: out, "cannot write outputs over HTTP; give a local folder or an s3://bucket/prefix/ (any S3-compatible store, see docs/cloud.md)")
        }
        var u = RemoteLocation.displayURL(RemoteLocation.gdalPath(out))
        while u.hasSuffix("/") { u.removeLast() }
        guard u.count > 5, !u.dropFirst(5).isEmpty else { throw OutputError(path: out, "names no bucket; give s3://bucket/prefix/") }
        url = u
        let digest = MessageDigest.sha256Hex(Data(u.utf8)).prefix(16)
        localDirectory = (NSTemporaryDirectory() as NSString).appendingPathComponent("moemae-out-\(digest)")
    }

    /// The URL of output `name`.
    public func location(_ name: String) -> String { url + "/" + name }

    /// Names among `names` that already exist as objects.
    /// - Throws: ``OutputError`` when the store cannot be asked (403, unreachable).
    public func existing(_ names: [String]) throws -> [String] {
        try names.filter { name in
            do { return try VirtualFileSystem.status(location(name)) != nil } catch let e as GeoRasterError {
                throw OutputError(path: location(name), "cannot check the output: \(e)")
            }
        }
    }

    /// The scene published earlier with the same run fingerprint (its `<product>_summary.json` says so
    /// and its STAC Item, uploaded last, exists), or nil.
    func completedEarlier(product: String, fingerprint: String) -> SceneMapResult? {
        let summaryName = "\(product)_summary.json", itemName = "\(product).stac.json"
        guard let data = try? VirtualFileSystem.read(location(summaryName)),
              var summary = try? JSONDecoder().decode(RunSummary.Scene.self, from: data),
              summary.id == product, summary.runFingerprint == fingerprint,
              let itemData = try? VirtualFileSystem.read(location(itemName)),
              let item = try? JSONDecoder().decode(STACItem.self, from: itemData),
              (try? existing(summary.outputs))?.count == summary.outputs.count else { return nil }
        summary.alreadyComplete = true
        return SceneMapResult(summary: summary, timings: [], item: item, files: summary.outputs.map(location))
    }

    /// Validates and uploads the files of a scene mapped into ``localDirectory`` (STAC Item last), then
    /// removes the local copies. Returns the result with the objects' URLs as ``SceneMapResult/files``.
    /// - Throws: ``OutputError`` naming the file or object; local copies are then kept, and `--resume`
    ///   uploads them again.
    func publish(_ result: SceneMapResult) throws -> SceneMapResult {
        let itemName = "\(result.summary.id).stac.json"
        let files = result.files.filter { ($0 as NSString).lastPathComponent != itemName }
            + result.files.filter { ($0 as NSString).lastPathComponent == itemName }
        for file in files { try Self.validate(file) }
        for file in files {
            let name = (file as NSString).lastPathComponent
            do { try VirtualFileSystem.upload(file: file, to: location(name)) } catch let e as GeoRasterError {
                throw Failure(.write, path: location(name), "upload failed: \(e). The finished outputs stay in \(localDirectory); resuming the run uploads them",
                              settings: [.resume])
            }
        }
        for file in files { try? FileManager.default.removeItem(atPath: file) }
        var published = result
        published.files = files.map { location(($0 as NSString).lastPathComponent) }
        return published
    }

    /// Uploads one finished local file (the run summary).
    func upload(_ file: String) throws {
        try Self.validate(file)
        let name = (file as NSString).lastPathComponent
        do { try VirtualFileSystem.upload(file: file, to: location(name)) } catch let e as GeoRasterError {
            throw OutputError(path: location(name), "upload failed: \(e)")
        }
    }

    /// A finished file is complete: GeoTIFFs and VRTs open with GDAL, JSON parses.
    static func validate(_ file: String) throws {
        let ext = (file as NSString).pathExtension.lowercased()
        if ext == "tif" || ext == "vrt" {
            do { _ = try RasterDataset(path: file) } catch {
                throw OutputError(path: file, "the finished output does not open as a raster (\(error)); not uploaded")
            }
        } else if ext == "json" {
            guard let data = FileManager.default.contents(atPath: file), (try? JSONSerialization.jsonObject(with: data)) != nil else {
                throw OutputError(path: file, "the finished output is not valid JSON; not uploaded")
            }
        }
    }
}
