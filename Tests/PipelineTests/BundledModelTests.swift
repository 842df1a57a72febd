import Foundation
import XCTest
@testable import Pipeline

/// Where the bundled demonstration model is looked for, and what happens when it is missing.
final class BundledModelTests: XCTestCase {
    func makeModel(in dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in [BundledModel.weightsFileName, BundledModel.probeFileName] {
            try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/" + f))
        }
    }

    func testSearchOrderNextToTheExecutableThenThePrefixThenTheEnvironment() throws {
        let root = try temporaryFolder(self)
        let exe = root + "/prefix/bin/moemae"
        let env = ["MOEMAE_MODEL_DIR": root + "/env"]
        XCTAssertEqual(BundledModel.searchDirectories(executablePath: exe, environment: env),
                       [root + "/prefix/bin/models/default", root + "/prefix/share/moemae", root + "/env"])
        // A SwiftPM build inside a checkout also finds the checkout's models/default.
        XCTAssertEqual(BundledModel.searchDirectories(executablePath: "/src/moemae/.build/x86_64-unknown-linux-gnu/release/moemae", environment: [:]),
                       ["/src/moemae/.build/x86_64-unknown-linux-gnu/release/models/default", "/src/moemae/models/default",
                        "/src/moemae/.build/x86_64-unknown-linux-gnu/share/moemae"])

        XCTAssertThrowsError(try BundledModel.locate(executablePath: exe, environment: env)) { error in
            let m = "\(error)"
            for place in [root + "/prefix/bin/models/default", root + "/prefix/share/moemae", root + "/env"] {
                XCTAssertTrue(m.contains(place), m)
            }
        }
        try makeModel(in: root + "/env")
        XCTAssertEqual(try BundledModel.locate(executablePath: exe, environment: env).directory, root + "/env")
        try makeModel(in: root + "/prefix/share/moemae")
        XCTAssertEqual(try BundledModel.locate(executablePath: exe, environment: env).directory, root + "/prefix/share/moemae")
        try makeModel(in: root + "/prefix/bin/models/default")
        XCTAssertEqual(try BundledModel.locate(executablePath: exe, environment: env).directory, root + "/prefix/bin/models/default")
        // A folder with only the weights does not count.
        try FileManager.default.removeItem(atPath: root + "/prefix/bin/models/default/" + BundledModel.probeFileName)
        XCTAssertEqual(try BundledModel.locate(executablePath: exe, environment: env).directory, root + "/prefix/share/moemae")
    }

    func testResolveFillsOnlyWhatIsMissingAndSaysSoOnce() throws {
        let root = try temporaryFolder(self)
        let exe = root + "/bin/moemae"
        try makeModel(in: root + "/share/moemae")
        var notes: [String] = []
        let given = try BundledModel.resolve(weights: "w", probe: "p", executablePath: exe, environment: [:]) { notes.append($0) }
        XCTAssertEqual(given.weights, "w"); XCTAssertEqual(given.probe, "p"); XCTAssertEqual(notes, [])
        let both = try BundledModel.resolve(weights: nil, probe: nil, executablePath: exe, environment: [:]) { notes.append($0) }
        XCTAssertEqual(both.weights, root + "/share/moemae/weights.safetensors")
        XCTAssertEqual(both.probe, root + "/share/moemae/probe-bigearthnet19.safetensors")
        XCTAssertEqual(notes.count, 1)
        XCTAssertTrue(notes[0].contains("demonstration model") && notes[0].contains("model-card.md"), notes[0])
        let probeOnly = try BundledModel.resolve(weights: nil, probe: "p", needsWeights: false, executablePath: exe, environment: [:]) { notes.append($0) }
        XCTAssertEqual(probeOnly.probe, "p"); XCTAssertEqual(notes.count, 1, "nothing needed from the bundled model")
    }

    /// A pipeline file without weights/probe gets the bundled model (this test binary lives in the
    /// checkout's .build folder, so the checkout's models/default is found).
    func testPipelineFileWithoutWeightsUsesTheBundledModel() throws {
        var notes: [String] = []
        let o = try PipelineFile.parse(yaml: "scenes: s\nout: o\n", path: "x.yaml", baseDirectory: nil) { notes.append($0) }
        XCTAssertTrue(o.weights.hasSuffix("models/default/weights.safetensors"), o.weights)
        XCTAssertTrue(o.probe.hasSuffix("models/default/probe-bigearthnet19.safetensors"), o.probe)
        XCTAssertEqual(notes.count, 1)
    }
}
