import CGDAL
import Foundation

/// Locations of files that may live on object storage or a web server, and their GDAL virtual file
/// system paths (GDAL "GDAL Virtual File Systems" documentation, `/vsis3/` and `/vsicurl/`).
///
/// moemae never speaks HTTP or S3 itself: every remote read and write goes through GDAL, which honours
/// GDAL's standard configuration and credentials (`AWS_ACCESS_KEY_ID`, `AWS_PROFILE`, `AWS_REQUEST_PAYER`,
/// `AWS_S3_ENDPOINT`, `AWS_HTTPS`, `AWS_VIRTUAL_HOSTING`, `AWS_NO_SIGN_REQUEST`, `GDAL_HTTP_*`…).
public enum RemoteLocation {
    /// True for `s3://…`, `http://…`, `https://…` and GDAL `/vsis3/`, `/vsicurl/` paths.
    public static func isRemote(_ location: String) -> Bool {
        let l = location.lowercased()
        return l.hasPrefix("s3://") || l.hasPrefix("http://") || l.hasPrefix("https://")
            || l.hasPrefix("/vsis3/") || l.hasPrefix("/vsicurl/")
    }

    /// True for `s3://…` and `/vsis3/…`.
    public static func isS3(_ location: String) -> Bool {
        location.lowercased().hasPrefix("s3://") || location.hasPrefix("/vsis3/")
    }

    /// The GDAL path of a location: `s3://bucket/key` → `/vsis3/bucket/key`, `http(s)://…` →
    /// `/vsicurl/http(s)://…`; local paths and `/vsi…` paths are returned unchanged.
    public static func gdalPath(_ location: String) -> String {
        let l = location.lowercased()
        if l.hasPrefix("s3://") { return "/vsis3/" + location.dropFirst(5) }
        if l.hasPrefix("http://") || l.hasPrefix("https://") { return "/vsicurl/" + location }
        return location
    }

    /// The location a user wrote, for messages: the inverse of ``gdalPath(_:)``.
    public static func displayURL(_ path: String) -> String {
        if path.hasPrefix("/vsis3/") { return "s3://" + path.dropFirst(7) }
        if path.hasPrefix("/vsicurl/") { return String(path.dropFirst(9)) }
        return path
    }

    /// Resolves `href` (absolute URL, `s3://`, absolute path, or relative reference) against the
    /// location of the document that holds it (a local file path or a URL).
    public static func resolve(_ href: String, against base: String) -> String {
        if isRemote(href) || href.hasPrefix("/") { return href }
        if href.hasPrefix("file://") { return URL(string: href)?.path ?? String(href.dropFirst(7)) }
        if isRemote(base) {
            let b = displayURL(base)
            let folder = b.hasSuffix("/") ? b : String(b[..<(b.lastIndex(of: "/").map { b.index(after: $0) } ?? b.endIndex)])
            var parts = folder.components(separatedBy: "/")
            if parts.last == "" { parts.removeLast() }
            for p in href.components(separatedBy: "/") {
                if p == "." || p.isEmpty { continue }
                if p == ".." { if parts.count > 3 { parts.removeLast() }; continue }
                parts.append(p)
            }
            return parts.joined(separator: "/")
        }
        let folder = URL(fileURLWithPath: base).deletingLastPathComponent()
        return folder.appendingPathComponent(href).standardizedFileURL.path
    }
}

/// Reading, inspecting, uploading and deleting files through GDAL's virtual file systems (`VSIFOpenExL`,
/// `VSIStatExL`, `VSIUnlink`, cpl_vsi.h). Works the same for local paths.
public enum VirtualFileSystem {
    /// Size and modification time of a file as the file system (or the server) reports them.
    public struct Status: Equatable, Sendable {
        /// Bytes.
        public var size: Int64
        /// Seconds since 1970 (0 when the server does not say).
        public var modified: Int64
    }

    /// Reads a whole file (metadata files, STAC Items) of at most `limit` bytes.
    /// - Throws: ``GeoRasterError`` `.open` or `.read` naming the location (as the user wrote it) with
    ///   GDAL's messages and a hint for HTTP 403/404 (``CloudConfiguration/hint(for:messages:)``).
    public static func read(_ location: String, limit: Int = 64 << 20) throws -> Data {
        CloudConfiguration.applyDefaults()
        let path = RemoteLocation.gdalPath(location)
        return try GDALCall.run { log in
            VSIErrorReset()
            guard let fp = VSIFOpenExL(path, "rb", 1) else {
                let messages = log.messages + vsiError()
                throw GeoRasterError(.open, path: RemoteLocation.displayURL(path), "cannot open", hint: CloudConfiguration.hint(for: path, messages: messages),
                                     libraryMessages: messages)
            }
            defer { VSIFCloseL(fp) }
            var data = Data()
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = chunk.withUnsafeMutableBytes { VSIFReadL($0.baseAddress, 1, $0.count, fp) }
                if n > 0 { data.append(contentsOf: chunk[0..<n]) }
                if data.count > limit {
                    throw GeoRasterError(.read, path: RemoteLocation.displayURL(path), "is larger than \(limit) bytes; not a metadata file")
                }
                if n < chunk.count {
                    if VSIFEofL(fp) == 0 || !log.errors.isEmpty {
                        let messages = log.messages + vsiError()
                        throw GeoRasterError(.read, path: RemoteLocation.displayURL(path), "read failed after \(data.count) bytes",
                                             hint: CloudConfiguration.hint(for: path, messages: messages), libraryMessages: messages)
                    }
                    break
                }
            }
            return data
        }
    }

    /// Size and time of `location`, nil when it does not exist (HTTP 404, no such object or file).
    /// - Throws: ``GeoRasterError`` `.open` for other failures (403, unreachable server).
    public static func status(_ location: String) throws -> Status? {
        CloudConfiguration.applyDefaults()
        let path = RemoteLocation.gdalPath(location)
        return try GDALCall.run { log in
            VSIErrorReset()
            // VSIStatBufL is `struct stat64`, which Swift imports only as an opaque pointer; on 64-bit
            // Linux it has the layout of `struct stat` (room for two, to be safe).
            let buffer = UnsafeMutablePointer<stat>.allocate(capacity: 2)
            defer { buffer.deallocate() }
            if VSIStatExL(path, OpaquePointer(buffer), VSI_STAT_EXISTS_FLAG | VSI_STAT_SIZE_FLAG | VSI_STAT_SET_ERROR_FLAG) == 0 {
                return Status(size: Int64(buffer.pointee.st_size), modified: Int64(buffer.pointee.st_mtim.tv_sec))
            }
            let messages = log.messages + vsiError()
            let text = messages.joined(separator: " ")
            if messages.isEmpty || text.contains("404") || text.contains("does not exist") || text.contains("No such file")
                || text.contains("NoSuchKey") {
                return nil
            }
            throw GeoRasterError(.open, path: RemoteLocation.displayURL(path), "cannot inspect", hint: CloudConfiguration.hint(for: path, messages: messages),
                                 libraryMessages: messages)
        }
    }

    /// Copies the local file `source` to `location` (an `s3://`/`/vsis3/` object or a local path) in
    /// 8 MiB chunks, then checks the destination's size. S3 objects appear only when the upload completes
    /// (GDAL finishes the multipart upload in `VSIFCloseL`), so an interrupted upload leaves no object.
    /// - Throws: ``GeoRasterError`` `.write` naming the destination.
    public static func upload(file source: String, to location: String) throws {
        CloudConfiguration.applyDefaults()
        let path = RemoteLocation.gdalPath(location)
        let display = RemoteLocation.displayURL(path)
        guard let input = FileHandle(forReadingAtPath: source) else {
            throw GeoRasterError(.write, path: source, "cannot open the finished local file to upload it")
        }
        defer { try? input.close() }
        var written: Int64 = 0
        try GDALCall.run { log in
            VSIErrorReset()
            guard let fp = VSIFOpenExL(path, "wb", 1) else {
                let messages = log.messages + vsiError()
                throw GeoRasterError(.write, path: display, "cannot create the object", hint: CloudConfiguration.hint(for: path, messages: messages),
                                     libraryMessages: messages)
            }
            var failed = false
            while true {
                let chunk = (try? input.read(upToCount: 8 << 20)) ?? Data()
                if chunk.isEmpty { break }
                let n = chunk.withUnsafeBytes { VSIFWriteL($0.baseAddress, 1, $0.count, fp) }
                if n != chunk.count { failed = true; break }
                written += Int64(n)
            }
            let closed = VSIFCloseL(fp)
            if failed || closed != 0 {
                let messages = log.messages + vsiError()
                throw GeoRasterError(.write, path: display, "upload failed after \(written) bytes",
                                     hint: CloudConfiguration.hint(for: path, messages: messages), libraryMessages: messages)
            }
        }
        guard let st = try status(path), st.size == written else {
            throw GeoRasterError(.write, path: display, "the uploaded object does not have the \(written) bytes sent",
                                 hint: "check the object store and run again")
        }
    }

    /// Forgets what GDAL cached about remote files under `location` (a file or a prefix: existence,
    /// size, content regions; `VSICurlPartialClearCache`), so the next read asks the server. Needed when
    /// another process may have rewritten an object this process read before (per-scene claims on S3).
    public static func forgetCached(_ location: String) {
        let path = RemoteLocation.gdalPath(location)
        guard RemoteLocation.isRemote(path) else { return }
        GDALCall.run { _ in VSICurlPartialClearCache(path) }
    }

    /// Deletes `location`; missing files are fine.
    public static func remove(_ location: String) {
        let path = RemoteLocation.gdalPath(location)
        GDALCall.run { _ in _ = VSIUnlink(path) }
    }

    /// Names in the folder `location` (`VSIReadDir`; a LIST request on S3); nil when it cannot be listed.
    public static func list(_ location: String) -> [String]? {
        CloudConfiguration.applyDefaults()
        var path = RemoteLocation.gdalPath(location)
        if path.hasSuffix("/") { path.removeLast() }
        return GDALCall.run { _ in
            guard let list = VSIReadDir(path) else { return nil }
            defer { CSLDestroy(list) }
            var out: [String] = []
            var i = 0
            while let s = list[i] { out.append(String(cString: s)); i += 1 }
            return out
        }
    }

    /// GDAL's last VSI error (`VSIGetLastErrorMsg`), as a one-element list, or empty.
    static func vsiError() -> [String] {
        guard VSIGetLastErrorNo() != 0, let m = VSIGetLastErrorMsg() else { return [] }
        let s = String(cString: m)
        return s.isEmpty ? [] : [s]
    }
}

/// The GDAL configuration moemae sets for remote reads unless the user set it (environment variable or
/// `--config`), and how failures are explained.
///
/// Defaults (docs/cloud.md), each applied only when `CPLGetConfigOption(key)` is unset (GDAL reads
/// environment variables there too):
/// - `GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR`: opening a COG does not list its folder (on S3 a LIST per
///   band file costs a request and, on requester-pays buckets, money).
/// - `GDAL_HTTP_MAX_RETRY=5`, `GDAL_HTTP_RETRY_DELAY=1`: retry HTTP 429/5xx and dropped connections,
///   GDAL doubling the delay each time (1, 2, 4, 8, 16 s).
/// - `GDAL_CACHEMAX=256`: a bounded raster block cache (MiB); the strip reader lowers it further per scene.
/// - `CPL_VSIL_CURL_ALLOWED_EXTENSIONS` is left alone; `VSI_CACHE` stays off.
public enum CloudConfiguration {
    /// The defaults: key, value.
    public static let defaults: [(key: String, value: String)] = [
        ("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR"),
        ("GDAL_HTTP_MAX_RETRY", "5"),
        ("GDAL_HTTP_RETRY_DELAY", "1"),
        ("GDAL_CACHEMAX", "256"),
    ]

    /// The settings a user may give (through the environment) that GDAL honours for S3 and HTTP.
    public static let userSettings = ["AWS_REQUEST_PAYER", "AWS_S3_ENDPOINT", "AWS_HTTPS", "AWS_VIRTUAL_HOSTING",
                                      "AWS_NO_SIGN_REQUEST", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_REGION",
                                      "AWS_DEFAULT_REGION", "GDAL_HTTP_MAX_RETRY", "GDAL_HTTP_RETRY_DELAY",
                                      "GDAL_DISABLE_READDIR_ON_OPEN", "GDAL_CACHEMAX"]

    private static let applied: Void = {
        _ = GDALCall.registered
        for (key, value) in defaults where CPLGetConfigOption(key, nil) == nil {
            CPLSetConfigOption(key, value)
        }
    }()

    /// Sets the ``defaults`` the user did not set (once per process; later calls do nothing).
    public static func applyDefaults() { _ = applied }

    /// The value GDAL uses for `key` (configuration option or environment variable), nil when unset.
    public static func value(_ key: String) -> String? {
        _ = GDALCall.registered
        return CPLGetConfigOption(key, nil).map { String(cString: $0) }
    }

    /// What to do about a failed remote access, from GDAL's messages: HTTP 403 on S3 names
    /// `AWS_REQUEST_PAYER` when it is not set (USGS's `s3://usgs-landsat` is requester-pays) and the
    /// credential settings; 404 says the object does not exist; a refused connection names the endpoint.
    public static func hint(for path: String, messages: [String]) -> String? {
        let text = messages.joined(separator: " ")
        let s3 = RemoteLocation.isS3(path)
        if text.contains("403") || text.contains("AccessDenied") || text.contains("Access Denied") || text.contains("Forbidden") {
            if s3 && value("AWS_REQUEST_PAYER") == nil {
                return "access denied (HTTP 403). AWS_REQUEST_PAYER is not set: requester-pays buckets (such as USGS's s3://usgs-landsat) refuse requests without AWS_REQUEST_PAYER=requester; also check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE), or AWS_NO_SIGN_REQUEST=YES for a public bucket"
            }
            if s3 {
                return "access denied (HTTP 403) although AWS_REQUEST_PAYER=\(value("AWS_REQUEST_PAYER") ?? ""); check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE) and the bucket's permissions"
            }
            return "access denied (HTTP 403); signed URLs (Planetary Computer) expire after about an hour: sign the item again"
        }
        if text.contains("404") || text.contains("does not exist") || text.contains("NoSuchKey") || text.contains("NoSuchBucket") {
            return "no such object (HTTP 404): check the URL, the bucket and the key"
        }
        if text.contains("Couldn't connect") || text.contains("Connection refused") || text.contains("Could not resolve") || text.contains("timed out") {
            return "the server could not be reached\(s3 ? " (AWS_S3_ENDPOINT=\(value("AWS_S3_ENDPOINT") ?? "s3.amazonaws.com"))" : ""); check the network and the endpoint, then run again"
        }
        return nil
    }
}
