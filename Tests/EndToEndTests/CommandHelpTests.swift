import Foundation
import XCTest

/// `moemae --help` and the help of every subcommand (and nested subcommand) the binary registers,
/// found from the root help itself so a new subcommand is covered without editing this test.
final class CommandHelpTests: XCTestCase {
    /// The names listed under `SUBCOMMANDS:` in an ArgumentParser help text.
    func subcommands(in help: String) -> [String] {
        guard let start = help.range(of: "SUBCOMMANDS:\n") else { return [] }
        var names: [String] = []
        for line in help[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            // Entries are indented by exactly two spaces; continuation lines by more.
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { continue }
            let name = line.dropFirst(2).split(separator: " ").first.map(String.init) ?? ""
            if name == "See" { break }
            names.append(name)
        }
        return names
    }

    func testRootHelpListsTheSubcommandsAndVersion() throws {
        let r = try moemae(["--help"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("OVERVIEW:") && r.stdout.contains("USAGE: moemae <subcommand>"), r.stdout)
        let names = subcommands(in: r.stdout)
        XCTAssertTrue(names.contains("tile"), "root help lists \(names):\n\(r.stdout)")
        // The three main jobs, one command each.
        let jobs = r.stdout.components(separatedBy: "\nEXAMPLES:\n").last ?? ""
        for job in ["moemae tile ", "moemae map ", "--token-experts all"] {
            XCTAssertTrue(jobs.contains(job), "root help lacks \(job):\n\(r.stdout)")
        }
        let version = try moemae(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertFalse(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }

    /// `moemae SUB --help` and `moemae help SUB` for every subcommand, recursively.
    func testEverySubcommandHasHelp() throws {
        var queue: [[String]] = subcommands(in: try moemae(["--help"]).stdout).map { [$0] }
        var checked: [String] = []
        while let path = queue.first {
            queue.removeFirst()
            let r = try moemae(path + ["--help"])
            let name = path.joined(separator: " ")
            XCTAssertEqual(r.status, 0, "moemae \(name) --help: \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("OVERVIEW:"), "moemae \(name) --help has no overview:\n\(r.stdout)")
            XCTAssertTrue(r.stdout.contains("USAGE: moemae \(name)"), "moemae \(name) --help:\n\(r.stdout)")
            XCTAssertTrue(r.stdout.contains("-h, --help"), r.stdout)
            XCTAssertEqual(r.stderr, "", "moemae \(name) --help wrote to stderr")
            let viaHelp = try moemae(["help"] + path)
            XCTAssertEqual(viaHelp.status, 0)
            XCTAssertEqual(viaHelp.stdout, r.stdout, "moemae help \(name) differs from moemae \(name) --help")
            // The help ends with real examples of this very command.
            let examples = r.stdout.components(separatedBy: "\nEXAMPLES:\n").last ?? ""
            XCTAssertTrue(r.stdout.contains("\nEXAMPLES:\n"), "moemae \(name) --help has no examples:\n\(r.stdout)")
            let commands = examples.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.hasPrefix("#") }
            XCTAssertTrue((1...2).contains(commands.count), "moemae \(name): \(commands)")
            XCTAssertTrue(commands.allSatisfy { $0.hasPrefix("moemae \(name)") }, "moemae \(name) examples: \(commands)")
            queue += subcommands(in: r.stdout).map { path + [$0] }
            checked.append(name)
        }
        XCTAssertTrue(checked.contains("tile"), "\(checked)")
    }

    func testUnknownSubcommandFailsNamingIt() throws {
        let r = try moemae(["frobnicate"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("frobnicate"), r.stderr)
    }
}
