import Diagnostics
/// An error while tiling a scene or writing a dataset: the file concerned, what is wrong, what to do.
public struct TilingError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var message: String
    public var hint: String?
    /// The settings that fix it (``DiagnosedError/settings``).
    public var settings: [Setting]

    public init(path: String, _ message: String, hint: String? = nil, settings: [Setting] = []) {
        self.path = path; self.message = message; self.hint = hint; self.settings = settings
    }

    /// `<path>: <message>. <Hint> (setting: …)`.
    public var description: String { diagnosis + Setting.mention(settings) }

    /// `<path>: <message>. <Hint>` (a message ending in a full stop keeps one).
    public var diagnosis: String {
        var s = "\(path): \(message)"
        if let hint {
            if s.hasSuffix(".") { s.removeLast() }
            s += ". " + hint.prefix(1).uppercased() + hint.dropFirst()
        }
        return s
    }
}

extension TilingError: DiagnosedError {
    public var kind: FailureKind { message.hasPrefix("already exists") ? .outputExists : .read }
    public var file: String? { path }
}
