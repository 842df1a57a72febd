import Diagnostics
/// An error while tiling a scene or writing a dataset: the file concerned, what is wrong, what to do.
public struct TilingError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var message: String
    public var hint: String?

    public init(path: String, _ message: String, hint: String? = nil) {
        self.path = path; self.message = message; self.hint = hint
    }

    public var description: String {
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
