import Diagnostics
/// An error from the raster/vector/coordinate layer.
///
/// Carries the file (when there is one), what went wrong in our words, what to do about it, and the
/// messages GDAL or PROJ emitted while the failing call ran (collected by an error handler installed
/// around every GDAL call, see ``GDALCall``; PROJ's through its log function and
/// `proj_context_errno_string`).
public struct GeoRasterError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of operation failed.
    public enum Code: String, Sendable {
        /// A raster or vector file could not be opened (missing, unreadable, not a format GDAL reads).
        case open
        /// Pixels could not be read (truncated or corrupt file, window outside the raster).
        case read
        /// A file could not be created or written.
        case write
        /// A coordinate reference system could not be parsed, identified or exported.
        case crs
        /// A coordinate transformation could not be created or failed for a point.
        case transform
        /// The caller passed arguments that do not fit the raster (band index, window, buffer size).
        case invalidArgument
    }

    public var code: Code
    /// The file concerned, or nil.
    public var path: String?
    /// What went wrong, in our words.
    public var message: String
    /// What the user can do about it, or nil.
    public var hint: String?
    /// The messages GDAL or PROJ emitted for the failing call, in order.
    public var libraryMessages: [String]
    /// The settings that fix it (``DiagnosedError/settings``).
    public var settings: [Setting]

    public init(_ code: Code, path: String? = nil, _ message: String, hint: String? = nil, libraryMessages: [String] = [],
                settings: [Setting] = []) {
        self.code = code; self.path = path; self.message = message; self.hint = hint
        self.libraryMessages = libraryMessages
        self.settings = settings
    }

    public var description: String { diagnosis + Setting.mention(settings) }
}

extension GeoRasterError: DiagnosedError {
    public var kind: FailureKind {
        switch code {
        case .open: return .open
        case .read: return .read
        case .write: return .write
        case .crs, .transform: return .coordinates
        case .invalidArgument: return .invalidArgument
        }
    }
    public var file: String? { path }
    /// GDAL's or PROJ's own messages for the failing call, as the cause.
    public var underlying: Error? {
        libraryMessages.isEmpty ? nil : Failure(.read, libraryMessages.joined(separator: "; "))
    }
}
