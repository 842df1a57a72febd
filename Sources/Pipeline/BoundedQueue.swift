import Foundation

/// A first-in first-out queue of at most `capacity` elements between two pipeline stages.
///
/// Back-pressure: ``push(_:)`` blocks while the queue is full, so a fast stage waits for a slow one
/// instead of filling memory (the same idea as the bounded buffer of swift-async-algorithms, built on a
/// condition variable because our stages are threads). ``pop()`` blocks while the queue is empty.
/// The queue is *finished* when all of its `producers` called ``finishProducing()``: consumers then
/// drain what is left and receive nil. On cancellation every blocked call returns at once
/// (`push` → false, `pop` → nil) and the remaining elements are dropped.
///
/// Waiting time is accumulated (``producerWaitSeconds``, ``consumerWaitSeconds``) for the run summary.
public final class BoundedQueue<Element>: @unchecked Sendable {
    /// Maximum number of queued elements (≥ 1).
    public let capacity: Int
    private let condition = NSCondition()
    /// Ring buffer of `capacity` slots; a popped slot is cleared at once so the queue never keeps a
    /// consumed element (and its memory) alive.
    private var ring: [Element?]
    private var head = 0
    private var count = 0
    private var openProducers: Int
    private var cancelled = false
    private var _producerWait: Double = 0
    private var _consumerWait: Double = 0
    private var _highWater = 0
    private var token: CancellationToken?
    private var handlerID: Int?

    /// - Parameters:
    ///   - capacity: maximum queued elements; values below 1 are treated as 1.
    ///   - producers: how many producers will call ``finishProducing()`` before the queue is finished.
    ///   - cancellation: when given, cancelling it cancels the queue.
    public init(capacity: Int, producers: Int = 1, cancellation: CancellationToken? = nil) {
        self.capacity = max(1, capacity)
        self.openProducers = max(1, producers)
        ring = Array(repeating: nil, count: self.capacity)
        if let cancellation {
            token = cancellation
            handlerID = cancellation.onCancel { [weak self] in self?.cancel() }
        }
    }

    deinit {
        if let token, let handlerID { token.removeHandler(handlerID) }
    }

    /// Appends `element`, blocking while the queue is full. Returns false (dropping the element) when
    /// the queue was cancelled. Pushing after every producer finished is a programming error.
    @discardableResult
    public func push(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if count >= capacity && !cancelled {
            let start = DispatchTime.now().uptimeNanoseconds
            while count >= capacity && !cancelled { condition.wait() }
            _producerWait += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        if cancelled { return false }
        precondition(openProducers > 0, "BoundedQueue.push after every producer finished")
        ring[(head + count) % capacity] = element
        count += 1
        _highWater = max(_highWater, count)
        condition.broadcast()
        return true
    }

    /// Removes the oldest element, blocking while the queue is empty and not finished. Returns nil when
    /// the queue is finished and drained, or cancelled.
    public func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        if count == 0 && openProducers > 0 && !cancelled {
            let start = DispatchTime.now().uptimeNanoseconds
            while count == 0 && openProducers > 0 && !cancelled { condition.wait() }
            _consumerWait += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        if cancelled || count == 0 { return nil }
        let element = ring[head]
        ring[head] = nil
        head = (head + 1) % capacity
        count -= 1
        condition.broadcast()
        return element
    }

    /// One producer is done. When all are, consumers drain the queue and then get nil.
    public func finishProducing() {
        condition.lock()
        if openProducers > 0 { openProducers -= 1 }
        condition.broadcast()
        condition.unlock()
    }

    /// Wakes every blocked producer and consumer and drops the queued elements.
    public func cancel() {
        condition.lock()
        cancelled = true
        for i in 0..<capacity { ring[i] = nil }
        head = 0
        count = 0
        condition.broadcast()
        condition.unlock()
    }

    /// Seconds producers spent blocked because the queue was full (summed over producers).
    public var producerWaitSeconds: Double { condition.lock(); defer { condition.unlock() }; return _producerWait }
    /// Seconds consumers spent blocked because the queue was empty (summed over consumers).
    public var consumerWaitSeconds: Double { condition.lock(); defer { condition.unlock() }; return _consumerWait }
    /// The largest number of elements ever queued at once (≤ ``capacity``).
    public var highWaterMark: Int { condition.lock(); defer { condition.unlock() }; return _highWater }
    /// Elements queued now.
    public var currentCount: Int { condition.lock(); defer { condition.unlock() }; return count }
}
