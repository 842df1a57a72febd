/// The one error model of every moemae module: what kind of failure, the file concerned, what is wrong
/// (in our words), what to do about it, and the error underneath.
///
/// Library errors say what is wrong (`message`) and, where the library knows it, what to do in terms of
/// files and values (`hint`); they never name command-line flags. The command line adds how to fix it
/// with its flags (``withHint(_:)``), e.g. "pass --overwrite to replace it" for ``FailureKind/outputExists``.
/// ``GeoRasterError`` is the model this shape was taken from.
public protocol DiagnosedError: Error, CustomStringConvertible {
    /// What kind of operation failed (stable; the command line chooses its advice by it).
    var kind: FailureKind { get }
    /// The file, folder or URL concerned, or nil.
    var file: String? { get }
    /// What went wrong, in our words.
    var message: String { get }
    /// What the user can do about it, or nil.
    var hint: String? { get }
    /// The error that caused this one (a system call, a parser, another module), or nil.
    var underlying: Error? { get }
    /// The settings that fix it (the one whose value is wrong, or those that would let it succeed), by
    /// identifier: the command line adds its advice with the flags for them. Empty when no setting helps.
    var settings: [Setting] { get }
}

/// Kinds of failure shared by every module.
public enum FailureKind: String, Sendable, Equatable {
    /// A file could not be opened or found.
    case open
    /// A file could not be read or is malformed.
    case read
    /// A file or folder could not be created, written or published.
    case write
    /// An output exists already under its final name (the command line offers `--overwrite`).
    case outputExists
    /// Inputs that do not fit together (weights vs probe, bands vs model, options vs each other).
    case incompatible
    /// A value outside its allowed range or of the wrong form.
    case invalidArgument
    /// A coordinate reference system or transformation failed.
    case coordinates
    /// An invariant of the program itself was broken (a bug).
    case `internal`
    /// The run was stopped by a signal or by its caller before it finished.
    case interrupted
}

extension DiagnosedError {
    public var file: String? { nil }
    public var hint: String? { nil }
    public var underlying: Error? { nil }
    public var settings: [Setting] { [] }

    /// `<path>: <message> (<underlying>). <Hint>.` — the standard rendering, without the settings
    /// (``Setting/mention(_:)`` or the command line's advice adds them).
    public var diagnosis: String {
        var s = file.map { "\($0): \(message)" } ?? message
        if let underlying { s += " (\(underlying))" }
        if let hint, !hint.isEmpty { s += ". " + hint.prefix(1).uppercased() + hint.dropFirst() }
        return s
    }
}

/// A failure in the one shape, for code that has no error type of its own.
public struct Failure: DiagnosedError, Sendable {
    public var kind: FailureKind
    public var file: String?
    public var message: String
    public var hint: String?
    /// The underlying error's description (kept as text so the failure stays `Sendable`).
    public var cause: String?
    public var underlying: Error? { cause.map(Cause.init) }
    public var settings: [Setting]

    public init(_ kind: FailureKind, path: String? = nil, _ message: String, hint: String? = nil, underlying: Error? = nil,
                settings: [Setting] = []) {
        self.kind = kind; self.file = path; self.message = message; self.hint = hint
        cause = underlying.map { "\($0)" }
        self.settings = settings
    }

    /// ``DiagnosedError/diagnosis`` and the settings that fix it (``Setting/mention(_:)``).
    public var description: String { diagnosis + Setting.mention(settings) }

    struct Cause: Error, CustomStringConvertible { let description: String }
}

/// An output that exists already under its final name: the one refusal every writer uses.
///
/// Rendered `<path>: already exists (<detail>); <hint>`: the library gives the detail (which run made
/// it), the command line the hint with its flags (``OutputExists/refuse(_:detail:)``, ``withHint(_:)``).
public struct OutputExists: DiagnosedError, Sendable, Equatable {
    public var kind: FailureKind { .outputExists }
    public var path: String
    public var file: String? { path }
    public var detail: String?
    public var hint: String?
    public var message: String { "already exists" + (detail.map { " (\($0))" } ?? "") }

    public init(path: String, detail: String? = nil, hint: String? = nil) {
        self.path = path; self.detail = detail; self.hint = hint
    }

    public var description: String {
        "\(path): " + message + (hint.map { "; " + $0 } ?? "")
    }

    /// Throws when `path` exists (file or folder).
    public static func refuse(_ path: String, detail: String? = nil) throws {
        if FileSystem.exists(path) { throw OutputExists(path: path, detail: detail) }
    }

    /// The same refusal with the command line's advice.
    public func withHint(_ hint: String) -> OutputExists {
        var e = self; e.hint = hint; return e
    }
}

/// Runs `body`; an ``OutputExists`` it throws gets `hint` (the command line's advice with its flags).
public func adviseOnExistingOutput<T>(_ hint: String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as OutputExists where e.hint == nil { throw e.withHint(hint) }
}
