import Foundation
import XCTest

/// Options shared by several subcommands have the same names and defaults everywhere: the encoder's
/// `--workers`, `--batch-size`, `--blas-threads` (map, embed, bench encoder) and `--workers` for the
/// training threads (pretrain, bench train; `--threads` is their hidden old name).
final class CommandOptionsTests: XCTestCase {
    /// The help entry of `option` (e.g. "--workers <workers>   … (default: 2)", wrapped lines joined) in
    /// `moemae args… --help`; empty when the option is not listed.
    func helpLine(_ args: [String], _ option: String) throws -> String {
        let r = try moemae(args + ["--help"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let start = lines.firstIndex(where: { $0.hasPrefix(option + " ") }) else { return "" }
        let rest = lines[(start + 1)...].prefix { !$0.hasPrefix("-") && !$0.isEmpty }
        return ([lines[start]] + rest).joined(separator: " ")
    }

    func defaultValue(in line: String) -> String? {
        guard let r = line.range(of: "(default: ") else { return nil }
        return String(line[r.upperBound...].prefix { $0 != ")" })
    }

    func testEmbedHasTheEncoderDefaultsOfMap() throws {
        for option in ["--workers", "--batch-size", "--blas-threads"] {
            let map = defaultValue(in: try helpLine(["map"], option))
            let embed = defaultValue(in: try helpLine(["embed"], option))
            XCTAssertNotNil(map, option)
            XCTAssertEqual(embed, map, "embed \(option) default differs from map's")
        }
        XCTAssertEqual(defaultValue(in: try helpLine(["embed"], "--workers")), "2")
        XCTAssertEqual(defaultValue(in: try helpLine(["embed"], "--blas-threads")), "1")
    }

    func testTrainingCommandsTakeWorkersAndHideTheOldThreads() throws {
        for command in [["pretrain"], ["bench", "train"]] {
            let help = try moemae(command + ["--help"]).stdout
            XCTAssertTrue(help.contains("--workers <workers>"), "\(command): \(help)")
            XCTAssertFalse(help.contains("--threads"), "\(command): --threads is a hidden alias: \(help)")
        }
    }

    func testBenchEncoderMeasuresOnlyTheGivenSetting() throws {
        XCTAssertFalse(try helpLine(["bench", "encoder"], "--workers").isEmpty)
        XCTAssertFalse(try helpLine(["bench", "encoder"], "--blas-threads").isEmpty)
        // XXS random weights, tiny batch, short measurement: checks which settings run, not speed.
        let r = try moemae(["bench", "encoder", "--preset", "XXS", "--batch-size", "2", "--seconds", "0.1",
                            "--workers", "1", "--blas-threads", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        // Each setting appears in its measurement line and in the summary: the distinct settings named.
        let settings = Set(r.stdout.split(separator: "\n").filter { $0.contains("worker(s) ×") }
            .map { $0.trimmingCharacters(in: .whitespaces).components(separatedBy: ":")[0] })
        XCTAssertEqual(settings, ["1 worker(s) × 1 BLAS thread(s)"], r.stdout)
        XCTAssertTrue(r.stdout.contains("sgemm peak with 1 thread(s)") && !r.stdout.contains("sgemm peak with 2 thread(s)"), r.stdout)
    }
}
