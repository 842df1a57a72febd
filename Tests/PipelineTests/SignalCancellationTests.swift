import Foundation
@testable import Pipeline
import XCTest

/// ``SignalCancellation`` in this process: real signals sent with `kill(getpid(), …)`.
final class SignalCancellationTests: XCTestCase {
    /// The handler currently installed for `signal`, as an address (0 = SIG_DFL, 1 = SIG_IGN).
    func currentHandler(_ signal: Int32) -> Int {
        var action = sigaction()
        sigaction(signal, nil, &action)
        return unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self)
    }

    func waitUntil(_ condition: () -> Bool, seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() && Date() < deadline { usleep(5_000) }
        return condition()
    }

    /// Overlapping instances (nested commands) share one handler: a signal cancels every token, an
    /// instance created afterwards is cancelled at once, a burst of repeats is one request (the test
    /// process survives it), and when the last instance stops the previous actions are back.
    func testOverlappingInstancesShareOneHandlerAndTheLastRestoresThePreviousActions() throws {
        let before = (currentHandler(SIGINT), currentHandler(SIGTERM))
        let a = CancellationToken(), b = CancellationToken()
        let first = SignalCancellation(token: a)
        let second = SignalCancellation(token: b)
        XCTAssertNotEqual(currentHandler(SIGTERM), before.1, "a handler is installed")
        XCTAssertNil(SignalCancellation.received)
        for _ in 0..<4 { kill(getpid(), SIGTERM) }   // within the grace period: not a force quit
        kill(getpid(), SIGINT)
        XCTAssertTrue(waitUntil { a.isCancelled && b.isCancelled }, "every registered token is cancelled")
        XCTAssertEqual(a.reason, .signal(SIGTERM))
        XCTAssertEqual(b.reason, .signal(SIGTERM))
        XCTAssertEqual(SignalCancellation.received, SIGTERM)
        let c = CancellationToken()
        let late = SignalCancellation(token: c)
        XCTAssertEqual(c.reason, .signal(SIGTERM), "registered after the signal: cancelled at once")
        first.stop(); first.stop()   // idempotent
        XCTAssertNotEqual(currentHandler(SIGTERM), before.1, "still installed while instances are alive")
        second.stop(); late.stop()
        XCTAssertEqual(currentHandler(SIGINT), before.0)
        XCTAssertEqual(currentHandler(SIGTERM), before.1)

        // A new instance starts afresh.
        let d = CancellationToken()
        let fresh = SignalCancellation(token: d)
        XCTAssertNil(SignalCancellation.received)
        XCTAssertFalse(d.isCancelled)
        kill(getpid(), SIGINT)
        XCTAssertTrue(waitUntil { d.isCancelled })
        XCTAssertEqual(d.reason, .signal(SIGINT))
        fresh.stop()
        XCTAssertEqual(currentHandler(SIGINT), before.0)
    }

    /// Many install/stop cycles (one per command in a long test process) leak no descriptors or threads
    /// and never miss a signal.
    func testRepeatedInstallAndStopNeverMissesASignal() throws {
        for i in 0..<50 {
            let token = CancellationToken()
            let signals = SignalCancellation(token: token)
            if i % 5 == 0 {
                kill(getpid(), SIGINT)
                XCTAssertTrue(waitUntil { token.isCancelled }, "cycle \(i)")
            }
            signals.stop()
        }
        let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        for _ in 0..<20 { SignalCancellation(token: CancellationToken()).stop() }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count, fds, "no descriptor leaks")
    }
}
