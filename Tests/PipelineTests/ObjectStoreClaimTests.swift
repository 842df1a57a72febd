import Foundation
import XCTest
import GeoRaster
import TestSupport
@testable import Pipeline

/// ``ObjectStoreClaim`` against a real S3 API: exclusive among concurrent contenders, busy while the
/// owner's heartbeat is fresh, taken over when stale or when the owner's process is gone, loss noticed.
final class ObjectStoreClaimTests: XCTestCase {
    func testObjectStoreClaimIsExclusiveTakesOverStaleClaimsAndNoticesLoss() throws {
        let s3 = try LocalS3Server(buckets: ["moemae-claims-test"])
        defer { s3.stop() }
        s3.configureThisProcess()
        let url = "s3://moemae-claims-test/maps/run1"

        // Four contenders at once: exactly one owns the scene, the others see its token.
        final class Results: @unchecked Sendable { let lock = NSLock(); var outcomes: [ObjectStoreClaim.Outcome] = [] }
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            let o = try! ObjectStoreClaim.acquire(url: url, product: "P", task: "task \(i)", heartbeatInterval: 0.5, settle: 1)
            results.lock.lock(); results.outcomes.append(o); results.lock.unlock()
        }
        let owners = results.outcomes.compactMap { if case .acquired(let c) = $0 { return c } else { return nil } }
        XCTAssertEqual(owners.count, 1, "one owner among concurrent contenders")
        guard let first = owners.first else { return }
        for case .busy(let o) in results.outcomes { XCTAssertEqual(o?.token, first.owner.token) }
        XCTAssertEqual(first.path, "s3://moemae-claims-test/maps/run1/.moemae-claims/P.claim")
        XCTAssertTrue(first.isHeld)

        // The heartbeat keeps Last-Modified fresh past a 2 s stale limit.
        sleep(3)
        guard case .busy = try ObjectStoreClaim.acquire(url: url, product: "P", task: "late", heartbeatInterval: 30, staleAfter: 2, settle: 0.2) else {
            return XCTFail("a claim with a live heartbeat was taken over")
        }

        // Someone else's claim replaced ours: the owner notices at its next heartbeat and stops beating;
        // release leaves the other owner's claim alone.
        let lost = expectation(description: "lost")
        first.onLost { lost.fulfill() }
        var other = first.owner; other.token = "other"; other.host = "elsewhere"
        try ObjectStoreClaim.write(other, to: first.path)
        wait(for: [lost], timeout: 10)
        XCTAssertFalse(first.isHeld)
        first.release()
        XCTAssertEqual(try ObjectStoreClaim.read(first.path)?.owner?.token, "other")

        // Another host's claim without heartbeat is stale after staleAfter (Last-Modified, 1 s resolution).
        guard case .busy = try ObjectStoreClaim.acquire(url: url, product: "P", task: "x", heartbeatInterval: 30, staleAfter: 60, settle: 0.2) else {
            return XCTFail("a fresh claim of another host was taken over")
        }
        sleep(3)
        guard case .acquired(let taken) = try ObjectStoreClaim.acquire(url: url, product: "P", task: "x", heartbeatInterval: 30, staleAfter: 2, settle: 0.2) else {
            return XCTFail("a stale claim was not taken over")
        }
        taken.release()
        XCTAssertNil(try ObjectStoreClaim.read(first.path), "release deletes our own claim object")

        // A claim of a dead process on this host is stale at once.
        var dead = first.owner; dead.token = "dead"; dead.pid = 999_999_9
        try ObjectStoreClaim.write(dead, to: first.path)
        guard case .acquired(let again) = try ObjectStoreClaim.acquire(url: url, product: "P", task: "y", heartbeatInterval: 30, settle: 0.2) else {
            return XCTFail("a dead owner's claim was not taken over")
        }
        again.release()
    }
}
