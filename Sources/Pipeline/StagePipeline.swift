import Diagnostics
import Dispatch
import Foundation

/// An error that stopped a run: which stage failed and the error it threw.
public struct StageFailure: DiagnosedError {
    /// Stage name as registered (`reader`, `encoder`, `writer`, …).
    public let stage: String
    /// The stage's error (its description is the message shown to the user).
    public let cause: Error
    public init(stage: String, underlying: Error) { self.stage = stage; self.cause = underlying }

    public var underlying: Error? { cause }
    /// The kind and file of the stage's error when it has them.
    public var kind: FailureKind { (cause as? DiagnosedError)?.kind ?? .internal }
    public var file: String? { (cause as? DiagnosedError)?.file }
    public var message: String { "failed in the \(stage) stage" }
    public var description: String { "\(cause) (in the \(stage) stage)" }
}

/// A run that was cancelled (signal or caller) rather than failing.
///
/// The unfinished scene never has outputs under final names. Scenes of the same `map` call that were
/// complete before the interruption keep theirs: ``completedScenes`` lists them (product ids), so the
/// message does not claim that nothing was written. How to finish the run is the caller's advice
/// (``hint``; `moemae map` names its `--resume`, a sharded run is finished by running the shard again).
public struct PipelineInterrupted: DiagnosedError {
    public let reason: CancellationReason
    /// Scenes published before the interruption (their outputs have final names), in run order.
    public var completedScenes: [String]
    public var hint: String?
    public init(reason: CancellationReason, completedScenes: [String] = [], hint: String? = nil) {
        self.reason = reason; self.completedScenes = completedScenes; self.hint = hint
    }
    public var kind: FailureKind { .interrupted }
    public var message: String {
        guard !completedScenes.isEmpty else { return "\(reason); nothing was written under a final name" }
        return "\(reason); the unfinished scene was not written under a final name; \(completedScenes.count) scene(s) completed "
            + "before it kept their outputs (\(completedScenes.joined(separator: ", ")))"
    }
    public var description: String { message + (hint.map { "; " + $0 } ?? "") }

    /// The same interruption with the caller's advice on how to finish the run.
    public func withHint(_ hint: String) -> PipelineInterrupted {
        PipelineInterrupted(reason: reason, completedScenes: completedScenes, hint: hint)
    }
}

/// Time accounting of one stage, for the run summary.
///
/// `busy` is wall time minus time spent blocked on queues; with several workers the busy and wait
/// figures are sums over workers and `wall` is the longest worker's wall time.
public struct StageTiming: Codable, Equatable, Sendable {
    public var stage: String
    public var workers: Int
    /// Items the stage handed downstream (batches, strips, tiles; see the stage's documentation).
    public var items: Int
    public var wallSeconds: Double
    public var busySeconds: Double
    public var waitInputSeconds: Double
    public var waitOutputSeconds: Double

    enum CodingKeys: String, CodingKey {
        case stage, workers, items
        case wallSeconds = "wall_s", busySeconds = "busy_s"
        case waitInputSeconds = "wait_input_s", waitOutputSeconds = "wait_output_s"
    }
}

/// What a stage's body receives: its name, the run's cancellation token and queue helpers that
/// account waiting time and stop the stage on cancellation.
public final class StageContext: @unchecked Sendable {
    public let stage: String
    /// Index of this worker among the stage's workers (0 for single-worker stages).
    public let worker: Int
    public let cancellation: CancellationToken
    var waitInput: Double = 0
    var waitOutput: Double = 0
    var items = 0

    init(stage: String, worker: Int, cancellation: CancellationToken) {
        self.stage = stage; self.worker = worker; self.cancellation = cancellation
    }

    /// Next element of `queue`, or nil when it is finished and drained. Throws ``PipelineCancelled``
    /// when the run was cancelled.
    public func receive<T>(_ queue: BoundedQueue<T>) throws -> T? {
        let start = DispatchTime.now().uptimeNanoseconds
        let element = queue.pop()
        waitInput += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if element == nil { try cancellation.check() }
        return element
    }

    /// Sends `element` downstream, blocking while `queue` is full. Throws ``PipelineCancelled`` when
    /// the run was cancelled.
    public func send<T>(_ element: T, to queue: BoundedQueue<T>) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let ok = queue.push(element)
        waitOutput += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard ok else { throw PipelineCancelled() }
        items += 1
    }

    /// Counts an item produced without a queue (e.g. the writer's rows).
    public func count(_ n: Int = 1) { items += n }

    /// Throws ``PipelineCancelled`` when the run was cancelled.
    public func checkCancelled() throws { try cancellation.check() }
}

/// A set of stages connected by ``BoundedQueue``s, each stage worker running on its own serial
/// `DispatchQueue` (so a blocked stage holds its own thread and never starves another stage).
///
/// The first error thrown by any worker cancels the run: every queue wakes its waiters, every stage
/// returns, and ``run()`` throws a ``StageFailure`` naming the stage. A cancellation by signal or by the
/// caller makes ``run()`` throw ``PipelineInterrupted``. ``run()`` returns only when every worker has
/// returned, so nothing keeps running behind the caller's back.
public final class StagePipeline: @unchecked Sendable {
    public let cancellation: CancellationToken
    private struct Stage {
        let name: String
        let workers: Int
        let outputs: [() -> Void]
        let body: (StageContext) throws -> Void
    }
    private var stages: [Stage] = []
    private let lock = NSLock()
    private var firstError: StageFailure?

    public init(cancellation: CancellationToken = CancellationToken()) {
        self.cancellation = cancellation
    }

    /// Registers a stage of `workers` identical workers running `body`. When a worker returns (or
    /// throws), it calls `finishProducing()` on each of `outputs`, so the output queue must be created
    /// with `producers: workers`.
    public func addStage(_ name: String, workers: Int = 1, finishing outputs: [FinishableQueue] = [],
                         _ body: @escaping (StageContext) throws -> Void) {
        stages.append(Stage(name: name, workers: max(1, workers),
                            outputs: outputs.map { q in { q.finishProducing() } }, body: body))
    }

    /// Starts every stage and waits for all of them. Returns the stages' timings.
    /// Throws ``StageFailure`` (first error) or ``PipelineInterrupted`` (cancelled).
    @discardableResult
    public func run() throws -> [StageTiming] {
        let group = DispatchGroup()
        var contexts: [[StageContext]] = []
        let walls = WallClock()
        for (s, stage) in stages.enumerated() {
            var ctxs: [StageContext] = []
            walls.seconds.append(Array(repeating: 0, count: stage.workers))
            for w in 0..<stage.workers {
                let ctx = StageContext(stage: stage.name, worker: w, cancellation: cancellation)
                ctxs.append(ctx)
                let queue = DispatchQueue(label: "moemae.pipeline.\(stage.name).\(w)", qos: .userInitiated)
                group.enter()
                queue.async { [self] in
                    let start = DispatchTime.now().uptimeNanoseconds
                    do {
                        try stage.body(ctx)
                    } catch is PipelineCancelled {
                        // Another stage failed or the run was interrupted; that is reported instead.
                    } catch {
                        record(StageFailure(stage: stage.name, underlying: error))
                    }
                    for finish in stage.outputs { finish() }
                    let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    walls.set(s, w, wall)
                    group.leave()
                }
            }
            contexts.append(ctxs)
        }
        group.wait()
        if let failure = lock.withLock({ firstError }) { throw failure }
        if let reason = cancellation.reason { throw PipelineInterrupted(reason: reason) }
        return stages.enumerated().map { s, stage in
            let ctxs = contexts[s]
            let waitIn = ctxs.reduce(0) { $0 + $1.waitInput }
            let waitOut = ctxs.reduce(0) { $0 + $1.waitOutput }
            let stageWalls = walls.seconds[s]
            let wallSum = stageWalls.reduce(0, +)
            return StageTiming(stage: stage.name, workers: stage.workers, items: ctxs.reduce(0) { $0 + $1.items },
                               wallSeconds: stageWalls.max() ?? 0, busySeconds: max(0, wallSum - waitIn - waitOut),
                               waitInputSeconds: waitIn, waitOutputSeconds: waitOut)
        }
    }

    private func record(_ failure: StageFailure) {
        lock.lock()
        let first = firstError == nil
        if first { firstError = failure }
        lock.unlock()
        if first { cancellation.cancel(.failure) }
    }
}

/// A queue whose producers can say they are done (type-erased so stages of different element types
/// can be listed together).
public protocol FinishableQueue: AnyObject {
    func finishProducing()
}

extension BoundedQueue: FinishableQueue {}

/// Per-worker wall times, written by the workers under a lock.
private final class WallClock: @unchecked Sendable {
    private let lock = NSLock()
    var seconds: [[Double]] = []
    func set(_ s: Int, _ w: Int, _ value: Double) { lock.lock(); seconds[s][w] = value; lock.unlock() }
}
