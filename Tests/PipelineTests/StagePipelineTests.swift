import Diagnostics
import Foundation
import XCTest
@testable import Pipeline

/// Synthetic stages: source → square (N workers, out of order) → ordered sink, as `map` wires
/// reader → … → encoder workers → writer.
final class StagePipelineTests: XCTestCase {
    struct Numbered { var sequence: Int; var value: Int }

    /// Builds source → workers → ordered sink. `work` runs in the workers; `sink` sees values in order.
    func makePipeline(count: Int, workers: Int, depth: Int, window: Int, token: CancellationToken,
                      produce: @escaping (Int) throws -> Void = { _ in },
                      work: @escaping (Int) throws -> Int,
                      sink: @escaping (Int) throws -> Void) -> (StagePipeline, InFlightWindow, Box) {
        let p = StagePipeline(cancellation: token)
        let input = BoundedQueue<Numbered>(capacity: depth, cancellation: token)
        let output = BoundedQueue<Numbered>(capacity: depth, producers: workers, cancellation: token)
        let inFlight = InFlightWindow(limit: window, cancellation: token)
        let box = Box()
        p.addStage("source", finishing: [input]) { ctx in
            for i in 0..<count {
                try produce(i)
                try inFlight.acquire()
                box.produced(i)
                try ctx.send(Numbered(sequence: i, value: i), to: input)
            }
        }
        p.addStage("worker", workers: workers, finishing: [output]) { ctx in
            while let item = try ctx.receive(input) {
                try ctx.send(Numbered(sequence: item.sequence, value: try work(item.value)), to: output)
            }
        }
        p.addStage("sink") { ctx in
            var reorder = ReorderBuffer<Int>()
            while let item = try ctx.receive(output) {
                box.pending(reorder.pendingCount + 1)
                for v in reorder.insert(item.value, at: item.sequence) {
                    try sink(v)
                    box.consumed()
                    inFlight.release()
                    ctx.count()
                }
            }
        }
        return (p, inFlight, box)
    }

    final class Box: @unchecked Sendable {
        let lock = NSLock()
        var producedCount = 0, consumedCount = 0, maxOutstanding = 0, maxPending = 0
        func produced(_ i: Int) {
            lock.lock(); producedCount += 1; maxOutstanding = max(maxOutstanding, producedCount - consumedCount); lock.unlock()
        }
        func consumed() { lock.lock(); consumedCount += 1; lock.unlock() }
        func pending(_ n: Int) { lock.lock(); maxPending = max(maxPending, n); lock.unlock() }
    }

    func testWorkersRunOutOfOrderAndTheSinkSeesEveryItemInOrder() throws {
        var seen: [Int] = []
        let (p, _, _) = makePipeline(count: 500, workers: 3, depth: 4, window: 16, token: CancellationToken(),
                                     work: { v in if v % 7 == 0 { usleep(300) }; return v * v },
                                     sink: { seen.append($0) })
        let timings = try finishes(within: 60) { try p.run() }.get()
        XCTAssertEqual(seen, (0..<500).map { $0 * $0 })
        XCTAssertEqual(timings.map(\.stage), ["source", "worker", "sink"])
        XCTAssertEqual(timings[1].workers, 3)
        XCTAssertEqual(timings[1].items, 500)
        XCTAssertEqual(timings[2].items, 500)
    }

    func testAStageThatThrowsMidStreamStopsTheRunWithItsError() throws {
        struct Broken: Error, CustomStringConvertible { var description: String { "tile 123 is broken" } }
        var sunk = 0
        let (p, _, _) = makePipeline(count: 100_000, workers: 2, depth: 4, window: 8, token: CancellationToken(),
                                     work: { v in if v == 123 { throw Broken() }; return v },
                                     sink: { _ in sunk += 1 })
        let result = try finishes(within: 30) { try p.run() }
        XCTAssertThrowsError(try result.get()) { error in
            guard let failure = error as? StageFailure else { return XCTFail("unexpected \(error)") }
            XCTAssertEqual(failure.stage, "worker")
            XCTAssertEqual(failure.description, "tile 123 is broken (in the worker stage)")
        }
        XCTAssertLessThan(sunk, 200, "the run stopped soon after the failure")
    }

    func testASourceErrorAndASinkErrorAreReportedByStage() throws {
        struct Unreadable: Error {}
        let (p1, _, _) = makePipeline(count: 1000, workers: 2, depth: 2, window: 4, token: CancellationToken(),
                                      produce: { if $0 == 10 { throw Unreadable() } }, work: { $0 }, sink: { _ in })
        XCTAssertThrowsError(try finishes(within: 30) { try p1.run() }.get()) {
            XCTAssertEqual(($0 as? StageFailure)?.stage, "source")
        }
        let (p2, _, _) = makePipeline(count: 1000, workers: 2, depth: 2, window: 4, token: CancellationToken(),
                                      work: { $0 }, sink: { if $0 == 50 { throw Unreadable() } })
        XCTAssertThrowsError(try finishes(within: 30) { try p2.run() }.get()) {
            XCTAssertEqual(($0 as? StageFailure)?.stage, "sink")
        }
    }

    func testASlowConsumerBoundsWhatIsInFlight() throws {
        let depth = 3, window = 6
        let (p, inFlight, box) = makePipeline(count: 300, workers: 2, depth: depth, window: window, token: CancellationToken(),
                                              work: { $0 }, sink: { _ in usleep(1000) })
        _ = try finishes(within: 60) { try p.run() }.get()
        XCTAssertEqual(box.consumedCount, 300)
        XCTAssertLessThanOrEqual(box.maxOutstanding, window, "the producer never ran more than the window ahead")
        XCTAssertLessThanOrEqual(box.maxPending, window)
        XCTAssertEqual(inFlight.current, 0)
    }

    func testASlowWorkerCannotMakeTheReorderBufferGrow() throws {
        // Item 0 takes long; the other worker races ahead until the window stops the source.
        let window = 5
        let (p, _, box) = makePipeline(count: 200, workers: 2, depth: 2, window: window, token: CancellationToken(),
                                       work: { v in if v == 0 { usleep(300_000) }; return v }, sink: { _ in })
        _ = try finishes(within: 60) { try p.run() }.get()
        XCTAssertLessThanOrEqual(box.maxPending, window)
        XCTAssertEqual(box.consumedCount, 200)
    }

    func testCancellationMidRunStopsEveryStagePromptly() throws {
        let token = CancellationToken()
        var sunk = 0
        let (p, _, _) = makePipeline(count: 10_000_000, workers: 2, depth: 4, window: 8, token: token,
                                     work: { v in usleep(50); return v }, sink: { _ in sunk += 1 })
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { token.cancel() }
        let result = try finishes(within: 30) { try p.run() }
        XCTAssertThrowsError(try result.get()) { error in
            XCTAssertEqual((error as? PipelineInterrupted)?.reason, .requested)
        }
        XCTAssertGreaterThan(sunk, 0)
    }

    func testSIGINTCancelsTheRunThroughTheSignalSource() throws {
        let token = CancellationToken()
        let signals = SignalCancellation(token: token)
        defer { signals.stop() }
        let (p, _, _) = makePipeline(count: 10_000_000, workers: 2, depth: 4, window: 8, token: token,
                                     work: { v in usleep(50); return v }, sink: { _ in })
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { kill(getpid(), SIGINT) }
        let result = try finishes(within: 30) { try p.run() }
        XCTAssertThrowsError(try result.get()) { error in
            let interrupted = error as? PipelineInterrupted
            XCTAssertEqual(interrupted?.reason, .signal(SIGINT))
            XCTAssertEqual(interrupted?.description, "interrupted by SIGINT; nothing was written under a final name")
        }
    }

    /// An interruption after earlier scenes of a `map` call were published must not claim that nothing
    /// was written: it names those scenes and says how to finish.
    func testInterruptionAfterCompletedScenesNamesThem() {
        let e = PipelineInterrupted(reason: .signal(SIGINT), completedScenes: ["LC08_A", "LC08_B"])
        // The library says what happened; `moemae map` adds how to finish with its flag.
        XCTAssertEqual(e.description, "interrupted by SIGINT; the unfinished scene was not written under a final name; "
                       + "2 scene(s) completed before it kept their outputs (LC08_A, LC08_B)")
        XCTAssertEqual(e.withHint("run the same command with --resume to map the rest").description,
                       "interrupted by SIGINT; the unfinished scene was not written under a final name; "
                       + "2 scene(s) completed before it kept their outputs (LC08_A, LC08_B); run the same command with --resume to map the rest")
        XCTAssertFalse(e.description.contains("nothing was written"))
        XCTAssertEqual(e.kind, .interrupted)
    }
}
