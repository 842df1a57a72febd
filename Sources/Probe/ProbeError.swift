import Diagnostics
/// A failure of the probe module: which file (or option) is wrong, what is wrong, and where useful what
/// to do about it.
public struct ProbeError: Error, CustomStringConvertible, Equatable {
    /// The file (or option) at fault.
    public var path: String
    public var message: String

    public init(path: String, _ message: String) { self.path = path; self.message = message }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }

    static func cannotRead(path: String, reason: String) -> ProbeError { ProbeError(path: path, reason) }
}

extension ProbeError: DiagnosedError {
    public var kind: FailureKind { path.isEmpty ? .invalidArgument : .read }
    public var file: String? { path.isEmpty ? nil : path }
}
