import Foundation
import XCTest

/// Options shared by several subcommands (declared once, Sources/moemae/OptionGroups.swift): `bench
/// encoder` takes the encoder's `--workers` and `--blas-threads`, the training commands (pretrain,
/// bench train) take `--workers` with `--threads` as its hidden old name.
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

    /// One validation of the encoder options: the same usage error, before any file is opened, in every
    /// command that takes them.
    func testEncoderOptionsAreValidatedAlikeEverywhere() throws {
        let commands = [["map", "scene", "--weights", "w", "--probe", "p", "--out", "o"],
                        ["embed", "dataset", "--weights", "w", "--out", "o"],
                        ["bench", "encoder"]]
        for command in commands {
            for (option, value, message) in [("--workers", "65", "workers must be between 1 and 64 (got 65) (option --workers)"),
                                             ("--blas-threads", "0", "blas-threads must be between 1 and 256 (got 0) (option --blas-threads)"),
                                             ("--batch-size", "0", "batch-size must be between 1 and 4096 (got 0) (option --batch-size)")] {
                let r = try moemae(command + [option, value])
                XCTAssertEqual(r.status, 64, "\(command) \(option) \(value): \(r.stderr)")
                XCTAssertTrue(r.stderr.contains(message), "\(command) \(option) \(value): \(r.stderr)")
            }
        }
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
