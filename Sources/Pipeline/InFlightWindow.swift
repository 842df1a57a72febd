import Foundation

/// A counting limit on work items between an ordering point upstream and the writer that restores
/// order downstream.
///
/// Parallel encoder workers finish batches out of order, and the writer buffers early batches until
/// the missing one arrives. Bounded queues alone do not bound that reorder buffer (a slow worker lets
/// the others run ahead), so the batcher ``acquire()``s a slot per batch and the writer ``release()``s it
/// once the batch is written in order: at most `limit` batches exist anywhere in between.
public final class InFlightWindow: @unchecked Sendable {
    public let limit: Int
    private let condition = NSCondition()
    private var inFlight = 0
    private var cancelled = false
    private var token: CancellationToken?
    private var handlerID: Int?

    public init(limit: Int, cancellation: CancellationToken? = nil) {
        self.limit = max(1, limit)
        if let cancellation {
            token = cancellation
            handlerID = cancellation.onCancel { [weak self] in self?.cancel() }
        }
    }

    deinit {
        if let token, let handlerID { token.removeHandler(handlerID) }
    }

    /// Takes a slot, blocking while `limit` are taken. Throws ``PipelineCancelled`` on cancellation.
    public func acquire() throws {
        condition.lock()
        defer { condition.unlock() }
        while inFlight >= limit && !cancelled { condition.wait() }
        if cancelled { throw PipelineCancelled() }
        inFlight += 1
    }

    /// Returns a slot taken by ``acquire()``.
    public func release() {
        condition.lock()
        if inFlight > 0 { inFlight -= 1 }
        condition.broadcast()
        condition.unlock()
    }

    /// Wakes every waiter; later ``acquire()`` calls throw.
    public func cancel() {
        condition.lock(); cancelled = true; condition.broadcast(); condition.unlock()
    }

    /// Slots taken now.
    public var current: Int { condition.lock(); defer { condition.unlock() }; return inFlight }
}
