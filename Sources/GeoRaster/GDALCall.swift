import CGDAL
import Foundation

/// GDAL's messages emitted during one wrapped call (collected by ``GDALCall/run(_:)``).
final class GDALMessageLog {
    /// Failure and fatal messages, oldest first, prefixed with GDAL's error number name.
    var errors: [String] = []
    /// Warnings, oldest first.
    var warnings: [String] = []

    /// Errors if any, else warnings (a failed call sometimes only warns first, e.g. TIFF reads).
    var messages: [String] { errors.isEmpty ? warnings : errors + warnings }
}

/// The C error handler: appends to the ``GDALMessageLog`` passed as the handler's user data.
/// GDAL keeps the handler stack per thread (CPLPushErrorHandlerEx, cpl_error.h), so concurrent calls
/// on different threads collect into their own logs.
private let collectingErrorHandler: CPLErrorHandler = { errorClass, _, message in
    guard let userData = CPLGetErrorHandlerUserData() else { return }
    let log = Unmanaged<GDALMessageLog>.fromOpaque(userData).takeUnretainedValue()
    let text = message.map { String(cString: $0) } ?? "(no message)"
    switch errorClass {
    case CE_Failure, CE_Fatal: log.errors.append(text)
    case CE_Warning: log.warnings.append(text)
    default: break
    }
}

/// Runs GDAL calls with GDAL registered and GDAL's messages collected instead of printed.
///
/// Every GDAL call in this module goes through here (the swift-system shape: one wrapper, everything
/// else calls it), so a thrown ``GeoRasterError`` can carry GDAL's own words.
enum GDALCall {
    /// Registers all drivers once per process (`GDALAllRegister`, gdal.h). Swift initialises a global
    /// lazily and exactly once, so concurrent first uses are safe.
    static let registered: Void = {
        GDALAllRegister()
    }()

    static func run<T>(_ body: (GDALMessageLog) throws -> T) rethrows -> T {
        _ = registered
        let log = GDALMessageLog()
        CPLErrorReset()
        CPLPushErrorHandlerEx(collectingErrorHandler, Unmanaged.passUnretained(log).toOpaque())
        defer { CPLPopErrorHandler() }
        return try withExtendedLifetime(log) { try body(log) }
    }

    /// Runs `body` (an open of `path`) with GDAL allowed to list the folder of a local `path`, so that
    /// side-car files (`.aux.xml` with category names and statistics, `.ovr`) are found. Remote reads set
    /// `GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR` for the whole process (``CloudConfiguration``); without
    /// this thread-local override a process that has read from S3 would then lose the PAM side-car of
    /// every local file it reopens (a COG written from its intermediate GeoTIFF would lose its class names).
    /// `/vsi…` paths keep the process setting.
    static func withSiblingFiles<T>(of path: String, _ body: () throws -> T) rethrows -> T {
        guard !path.hasPrefix("/vsi") else { return try body() }
        let key = "GDAL_DISABLE_READDIR_ON_OPEN"
        let previous = CPLGetThreadLocalConfigOption(key, nil).map { String(cString: $0) }
        CPLSetThreadLocalConfigOption(key, "NO")
        defer { CPLSetThreadLocalConfigOption(key, previous) }
        return try body()
    }

    /// Opens `path` read-only with `GDALOpenEx` (`kind`: `GDAL_OF_RASTER` or `GDAL_OF_VECTOR`, gdal.h) and
    /// verbose errors. Throws ``GeoRasterError`` `.open` naming the file: "no such file" when it does not
    /// exist (GDAL virtual paths `/vsi…` are passed to GDAL unchecked), else `failure` with `hint` and
    /// GDAL's own messages.
    static func openReadOnly(_ path: String, kind: Int32, failure: String, hint: String) throws -> GDALDatasetH {
        guard path.hasPrefix("/vsi") || FileManager.default.fileExists(atPath: path) else {
            throw GeoRasterError(.open, path: path, "no such file", hint: "check the path")
        }
        let flags = UInt32(kind) | UInt32(GDAL_OF_READONLY) | UInt32(GDAL_OF_VERBOSE_ERROR)
        return try run { log in
            guard let h = withSiblingFiles(of: path, { GDALOpenEx(path, flags, nil, nil, nil) }) else {
                throw GeoRasterError(.open, path: path, failure, hint: hint, libraryMessages: log.messages)
            }
            return h
        }
    }
}

/// A GDAL string list (`char **`, cpl_string.h) owned by Swift and destroyed with `CSLDestroy`.
final class CStringList {
    private(set) var pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?

    init() {}

    /// `KEY=VALUE` options, in order.
    convenience init(options: [(String, String)]) {
        self.init()
        for (k, v) in options { pointer = CSLSetNameValue(pointer, k, v) }
    }

    convenience init(strings: [String]) {
        self.init()
        for s in strings { pointer = CSLAddString(pointer, s) }
    }

    deinit { CSLDestroy(pointer) }

    /// The list as `const char * const *`, as some GDAL functions take it.
    var constPointer: UnsafePointer<UnsafePointer<CChar>?>? {
        pointer.map { UnsafeRawPointer($0).assumingMemoryBound(to: UnsafePointer<CChar>?.self) }
    }

    /// Reads a NULL-terminated C string list that we do not own.
    static func strings(_ list: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> [String] {
        guard let list else { return [] }
        var out: [String] = []
        var i = 0
        while let s = list[i] { out.append(String(cString: s)); i += 1 }
        return out
    }
}

/// Global GDAL settings that affect every dataset of the process.
public enum GDALSettings {
    /// Caps GDAL's raster block cache (`GDALSetCacheMax64`). GDAL's default is 5 % of physical
    /// memory; streaming readers set a fixed cap so peak memory does not grow with scene size.
    public static func setBlockCacheLimit(bytes: Int) {
        _ = GDALCall.registered
        GDALSetCacheMax64(GIntBig(bytes))
    }

    /// The current block cache cap in bytes.
    public static var blockCacheLimit: Int {
        _ = GDALCall.registered
        return Int(GDALGetCacheMax64())
    }

    /// GDAL's release name, e.g. "3.6.2".
    public static var version: String {
        _ = GDALCall.registered
        return String(cString: GDALVersionInfo("RELEASE_NAME"))
    }
}
