import XCTest
@testable import CheckpointImport

/// What a pickle program may make the reader hold or recurse into (docs/reliability.md, "Limits"):
/// each limit is exceeded by a program of a few bytes per step, and refused with the file and offset.
final class PickleLimitsTests: XCTestCase {
    private let proto: [UInt8] = [PickleOpcode.proto.rawValue, 2]
    private let none = PickleOpcode.none.rawValue, stop = PickleOpcode.stop.rawValue

    private func assertRefused(_ program: [UInt8], _ contains: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try PickleReader(bytes: program, path: "x.pth").read(), file: file, line: line) { error in
            XCTAssertTrue("\(error)".hasPrefix("x.pth: data.pkl offset ") && "\(error)".contains(contains), "\(error)", file: file, line: line)
        }
    }

    func testStackDeeperThanTheLimitIsRefused() {
        assertRefused(proto + [UInt8](repeating: none, count: PickleReader.maxStackEntries + 1) + [stop], "objects on the pickle stack")
    }

    func testMoreMemoEntriesThanTheLimitAreRefused() {
        let memoize = PickleOpcode.memoize.rawValue
        assertRefused(proto + [none] + [UInt8](repeating: memoize, count: PickleReader.maxMemoEntries + 1) + [stop], "memo entries")
    }

    func testNestingDeeperThanTheLimitIsRefusedAndJustBelowIsRead() throws {
        let tuple1 = PickleOpcode.tuple1.rawValue
        assertRefused(proto + [none] + [UInt8](repeating: tuple1, count: PickleReader.maxNesting + 1) + [stop], "nest deeper")
        var v = try PickleReader(bytes: proto + [none] + [UInt8](repeating: tuple1, count: PickleReader.maxNesting - 1) + [stop], path: "x.pth").read()
        var depth = 0
        while case let .tuple(items) = v, items.count == 1 { v = items[0]; depth += 1 }
        XCTAssertEqual(depth, PickleReader.maxNesting - 1)
    }

    /// A million TUPLE1 opcodes keep one entry on the stack but would build a value nested a million deep,
    /// whose release recurses past the thread's stack: refused while it is built, at the nesting limit.
    func testAMillionNestedTuplesAreRefusedWhileBuilt() {
        let tuple1 = PickleOpcode.tuple1.rawValue
        assertRefused(proto + [none] + [UInt8](repeating: tuple1, count: 1 << 20) + [stop], "nest deeper")
    }
}
