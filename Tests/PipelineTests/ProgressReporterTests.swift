import Foundation
import XCTest
@testable import Pipeline

final class ProgressReporterTests: XCTestCase {
    func testBarShowsDoneTotalRateAndETA() {
        let line = ProgressReporter.barLine(label: "LC08", done: 250, total: 1000, elapsed: 5, width: 10)
        XCTAssertEqual(line, "LC08 [##........] 250/1000 tiles  50.0 tiles/s  ETA 0:15")
    }

    func testPlainLineAndFinalLine() {
        XCTAssertEqual(ProgressReporter.plainLine(label: "s", done: 30, total: 120, elapsed: 3),
                       "s: 30/120 tiles (25.0%)  10.0 tiles/s  ETA 0:09")
        XCTAssertEqual(ProgressReporter.plainLine(label: "s", done: 120, total: 120, elapsed: 3725),
                       "s: 120/120 tiles (100.0%)  0.0 tiles/s  done in 1:02:05")
        XCTAssertTrue(ProgressReporter.plainLine(label: "s", done: 0, total: 5, elapsed: 0).hasSuffix("ETA --:--"))
    }

    func testQuietPrintsNothingAndLinesModePrintsPeriodicallyAndAtTheEnd() {
        let lock = NSLock()
        var quietOut: [String] = [], linesOut: [String] = [], barOut: [String] = []
        let quiet = ProgressReporter(total: 10, label: "q", mode: .quiet) { s in lock.lock(); quietOut.append(s); lock.unlock() }
        let lines = ProgressReporter(total: 10, label: "l", mode: .lines, lineInterval: 0.05) { s in lock.lock(); linesOut.append(s); lock.unlock() }
        let bar = ProgressReporter(total: 10, label: "b", mode: .bar) { s in lock.lock(); barOut.append(s); lock.unlock() }
        for r in [quiet, lines, bar] { r.start() }
        for _ in 0..<10 {
            for r in [quiet, lines, bar] { r.advance(by: 1) }
            Thread.sleep(forTimeInterval: 0.03)
        }
        for r in [quiet, lines, bar] { r.finish() }
        lock.lock(); defer { lock.unlock() }
        XCTAssertEqual(quietOut, [])
        XCTAssertGreaterThanOrEqual(linesOut.count, 2, "periodic lines plus the final one")
        XCTAssertTrue(linesOut.allSatisfy { $0.hasSuffix("\n") && !$0.contains("\r") })
        XCTAssertTrue(linesOut.last!.hasPrefix("l: 10/10 tiles (100.0%)"))
        XCTAssertTrue(barOut.allSatisfy { $0.hasPrefix("\r") })
        XCTAssertTrue(barOut.last!.hasSuffix("\n"), "the bar ends its line when finished")
        XCTAssertEqual(ProgressReporter.mode(quiet: true), .quiet)
    }
}
