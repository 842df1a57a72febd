import Diagnostics
import Foundation

/// Why a pipeline run stopped before the end.
public enum CancellationReason: Equatable, Sendable, CustomStringConvertible {
    /// The process received this signal (SIGINT from Ctrl-C, SIGTERM from `kill`).
    case signal(Int32)
    /// A stage failed; the run's error says which and why.
    case failure
    /// Cancelled by the library user (``CancellationToken/cancel(_:)`` without a signal).
    case requested

    public var description: String {
        switch self {
        case .signal(let s): return "interrupted by \(signalName(s))"
        case .failure: return "stopped after an error"
        case .requested: return "cancelled"
        }
    }
}

/// The conventional name of a POSIX signal number (SIGINT, SIGTERM, …), for messages.
public func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGINT: return "SIGINT"
    case SIGTERM: return "SIGTERM"
    case SIGHUP: return "SIGHUP"
    case SIGQUIT: return "SIGQUIT"
    default: return "signal \(signal)"
    }
}

/// A one-shot, thread-safe cancellation flag shared by every stage of a run.
///
/// Cancelling runs the registered handlers once (outside the lock); handlers registered after
/// cancellation run immediately. ``BoundedQueue`` and ``InFlightWindow`` register handlers that wake
/// their blocked producers and consumers, so a cancelled run never leaves a thread waiting.
public final class CancellationToken: @unchecked Sendable {
    private let lock = NSLock()
    private var _reason: CancellationReason?
    private var handlers: [Int: () -> Void] = [:]
    private var nextHandlerID = 0

    public init() {}

    /// True once ``cancel(_:)`` was called.
    public var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return _reason != nil }

    /// The first reason given to ``cancel(_:)``; nil while the run goes on.
    public var reason: CancellationReason? { lock.lock(); defer { lock.unlock() }; return _reason }

    /// Cancels the run. Only the first call has an effect (its reason is kept).
    public func cancel(_ reason: CancellationReason = .requested) {
        lock.lock()
        guard _reason == nil else { lock.unlock(); return }
        _reason = reason
        let toRun = handlers.sorted { $0.key < $1.key }.map(\.value)
        handlers.removeAll()
        lock.unlock()
        for handler in toRun { handler() }
    }

    /// Registers `handler` to run once on cancellation (immediately if already cancelled).
    /// Returns an id for ``removeHandler(_:)``.
    @discardableResult
    public func onCancel(_ handler: @escaping () -> Void) -> Int {
        lock.lock()
        if _reason != nil { lock.unlock(); handler(); return -1 }
        let id = nextHandlerID
        nextHandlerID += 1
        handlers[id] = handler
        lock.unlock()
        return id
    }

    /// Forgets a handler registered with ``onCancel(_:)``.
    public func removeHandler(_ id: Int) {
        lock.lock(); handlers[id] = nil; lock.unlock()
    }

    /// Throws ``PipelineCancelled`` when the run was cancelled; stages call it between units of work.
    public func check() throws {
        if isCancelled { throw PipelineCancelled() }
    }
}

/// Thrown inside a stage when the run was cancelled (by a signal, by another stage's error, or by the
/// caller). The stage runner does not report it as the run's error: the cancellation reason is.
public struct PipelineCancelled: DiagnosedError {
    public init() {}
    public var kind: FailureKind { .interrupted }
    public var message: String { description }
    public var description: String { "the pipeline was cancelled" }
}
