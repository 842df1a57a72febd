import Foundation
import SafeTensors
import XCTest

/// Runs the built `moemae` binary: `moemae weights --help | import | info`.
/// The binary is the one beside the running test bundle (`swift build --product moemae` first;
/// scripts/test.sh does).
final class WeightsCommandEndToEndTests: XCTestCase {
    private struct Run { var status: Int32; var stdout: String; var stderr: String }

    private static var binary: URL? {
        let fm = FileManager.default
        var folders = [Bundle.main.bundleURL, Bundle(for: WeightsCommandEndToEndTests.self).bundleURL,
                       URL(fileURLWithPath: CommandLine.arguments.first ?? "")]
        folders += folders.map { $0.deletingLastPathComponent() }
        return folders.map { $0.appendingPathComponent("moemae") }.first {
            var isDir: ObjCBool = false
            return fm.fileExists(atPath: $0.path, isDirectory: &isDir) && !isDir.boolValue && fm.isExecutableFile(atPath: $0.path)
        }
    }

    /// `../shared/golden` beside the repository root.
    private static func golden(_ name: String) -> String {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/", !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir.deletingLastPathComponent().appendingPathComponent("shared/golden/\(name)").path
    }

    private func moemae(_ arguments: [String]) throws -> Run {
        guard let binary = Self.binary else {
            XCTFail("the moemae binary is not beside the test bundle; run `swift build -c release --product moemae` first")
            throw CocoaError(.fileNoSuchFile)
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        // stderr goes to a file and stdout through a pipe read to the end before waiting,
        // so neither can fill up and block the child.
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("moemae-e2e-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let errHandle = try FileHandle(forWritingTo: errURL)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = errHandle
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try errHandle.close()
        let errData = try Data(contentsOf: errURL)
        return Run(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                   stderr: String(decoding: errData, as: UTF8.self))
    }

    private var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("moemae-weights-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testWeightsHelpListsImportAndInfo() throws {
        let run = try moemae(["weights", "--help"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("import"), run.stdout)
        XCTAssertTrue(run.stdout.contains("info"), run.stdout)
        let importHelp = try moemae(["weights", "import", "--help"])
        XCTAssertEqual(importHelp.status, 0)
        XCTAssertTrue(importHelp.stdout.contains("--out"), importHelp.stdout)
        XCTAssertTrue(importHelp.stdout.contains("ever executed"), importHelp.stdout)
    }

    func testImportPublicCheckpointThenInfo() throws {
        let out = dir.appendingPathComponent("s.safetensors").path
        let run = try moemae(["weights", "import", Self.golden("checkpoint-public.pth"), "--out", out])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("wrote 692 tensors"), run.stdout)

        let imported = try SafeTensorsFile(path: out)
        let reference = try SafeTensorsFile(path: Self.golden("weights-public.safetensors"))
        XCTAssertEqual(Set(imported.names), Set(reference.names))
        for ref in reference.tensors {
            let got = try imported.require(ref.name)
            XCTAssertEqual(got.dtype, ref.dtype)
            XCTAssertEqual(got.shape, ref.shape)
            XCTAssertTrue(imported.rawBytes(got).elementsEqual(reference.rawBytes(ref)), ref.name)
        }
        XCTAssertEqual(imported.metadata["epoch"], "8")

        let info = try moemae(["weights", "info", out])
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("preset: S\n"), info.stdout)
        XCTAssertTrue(info.stdout.contains("parameters: 2,537,562"), info.stdout)
        XCTAssertTrue(info.stdout.contains("encoder parameters: 2,366,798"), info.stdout)
        XCTAssertTrue(info.stdout.contains("encoder.layers.14.moe.experts.4.W2.weight"), info.stdout)

        // The output exists now: a second import refuses to overwrite it without --overwrite (the flag
        // name of every command): one line, exit 1, no usage text; --force is still accepted.
        let again = try moemae(["weights", "import", Self.golden("checkpoint-public.pth"), "--out", out])
        XCTAssertEqual(again.status, 1, again.stderr)
        XCTAssertEqual(again.stderr, "error: \(out): already exists; choose another --out or pass --overwrite to replace it\n")
        // A safetensors file given to import: named as such, nothing written.
        let twice = try moemae(["weights", "import", out, "--out", out + ".again"])
        XCTAssertEqual(twice.status, 1, twice.stderr)
        XCTAssertTrue(twice.stderr.contains("\(out): already a safetensors file, nothing to import"), twice.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + ".again"))
        for flag in ["--overwrite", "--force"] {
            let replaced = try moemae(["weights", "import", Self.golden("checkpoint-xxs-public.pth"), "--out", out, flag])
            XCTAssertEqual(replaced.status, 0, replaced.stderr)
        }
    }

    func testInfoReadsACheckpointDirectly() throws {
        let run = try moemae(["weights", "info", Self.golden("checkpoint-xxs-public.pth")])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("preset: XXS\n"), run.stdout)
        XCTAssertTrue(run.stdout.contains("parameters: 824,693"), run.stdout)
        XCTAssertTrue(run.stdout.contains("epoch: 0"), run.stdout)
        XCTAssertTrue(run.stdout.contains("tensors: 452"), run.stdout)
        XCTAssertNotNil(run.stdout.range(of: #"encoder\.pos_embed +F32 +\[1, 105, 108\]"#, options: .regularExpression), run.stdout)
    }

    func testImportOfABrokenFileFailsCleanly() throws {
        let bogus = dir.appendingPathComponent("bogus.pth").path
        try Data("not a checkpoint".utf8).write(to: URL(fileURLWithPath: bogus))
        let out = dir.appendingPathComponent("never.safetensors").path
        let run = try moemae(["weights", "import", bogus, "--out", out])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains(bogus), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + ".partial"))

        let info = try moemae(["weights", "info", bogus])
        XCTAssertNotEqual(info.status, 0)
        XCTAssertTrue(info.stderr.contains(bogus), info.stderr)
        XCTAssertTrue(info.stderr.contains("zip"), "a .pth is read as a checkpoint: \(info.stderr)")
    }
}
