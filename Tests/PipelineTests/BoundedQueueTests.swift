import Foundation
import XCTest
@testable import Pipeline

final class BoundedQueueTests: XCTestCase {
    func testDeliversInOrderAndFinishesAfterEveryProducer() {
        let q = BoundedQueue<Int>(capacity: 3, producers: 2)
        XCTAssertTrue(q.push(1)); XCTAssertTrue(q.push(2))
        q.finishProducing()
        XCTAssertTrue(q.push(3))
        XCTAssertEqual(q.pop(), 1); XCTAssertEqual(q.pop(), 2); XCTAssertEqual(q.pop(), 3)
        q.finishProducing()
        XCTAssertNil(q.pop(), "finished and drained")
    }

    func testProducerBlocksWhileFullUntilConsumerTakes() {
        let q = BoundedQueue<Int>(capacity: 2)
        q.push(0); q.push(1)
        let pushed = DispatchSemaphore(value: 0)
        Thread.detachNewThread { q.push(2); pushed.signal() }
        XCTAssertEqual(pushed.wait(timeout: .now() + 0.3), .timedOut, "push into a full queue must block")
        XCTAssertEqual(q.pop(), 0)
        XCTAssertEqual(pushed.wait(timeout: .now() + 5), .success, "push resumes once there is room")
        XCTAssertEqual(q.highWaterMark, 2)
        XCTAssertGreaterThan(q.producerWaitSeconds, 0.2)
    }

    func testCancellationWakesBlockedProducerAndConsumer() {
        let token = CancellationToken()
        let full = BoundedQueue<Int>(capacity: 1, cancellation: token)
        let empty = BoundedQueue<Int>(capacity: 1, cancellation: token)
        full.push(0)
        let woke = DispatchSemaphore(value: 0)
        var pushResult = true
        var popResult: Int? = 42
        Thread.detachNewThread { pushResult = full.push(1); woke.signal() }
        Thread.detachNewThread { popResult = empty.pop(); woke.signal() }
        Thread.sleep(forTimeInterval: 0.1)
        token.cancel()
        XCTAssertEqual(woke.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(woke.wait(timeout: .now() + 5), .success)
        XCTAssertFalse(pushResult)
        XCTAssertNil(popResult)
        XCTAssertFalse(full.push(3), "a cancelled queue refuses elements")
    }

    func testReorderBufferReleasesConsecutiveItems() {
        var r = ReorderBuffer<String>()
        XCTAssertEqual(r.insert("c", at: 2), [])
        XCTAssertEqual(r.insert("b", at: 1), [])
        XCTAssertEqual(r.insert("a", at: 0), ["a", "b", "c"])
        XCTAssertEqual(r.insert("d", at: 3), ["d"])
        XCTAssertEqual(r.pendingCount, 0)
        XCTAssertEqual(r.nextSequence, 4)
    }

    func testInFlightWindowBlocksAtLimitAndThrowsOnCancel() throws {
        let token = CancellationToken()
        let w = InFlightWindow(limit: 2, cancellation: token)
        try w.acquire(); try w.acquire()
        let got = DispatchSemaphore(value: 0)
        Thread.detachNewThread { if (try? w.acquire()) != nil { got.signal() } }
        XCTAssertEqual(got.wait(timeout: .now() + 0.2), .timedOut)
        w.release()
        XCTAssertEqual(got.wait(timeout: .now() + 5), .success)
        token.cancel()
        XCTAssertThrowsError(try w.acquire())
    }
}
