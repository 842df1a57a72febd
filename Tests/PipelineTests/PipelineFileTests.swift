import Foundation
import XCTest
@testable import Pipeline

final class PipelineFileTests: XCTestCase {
    func testParsesEveryFieldWithCommandLineNamesAndResolvesPathsAgainstTheFile() throws {
        let yaml = """
        description: test run
        scenes: [a/scene1, /abs/scene2]
        weights: w.safetensors
        probe: ../p.safetensors
        out: out
        workers: 3
        batch-size: 32
        blas-threads: 2
        queue-depth: 8
        min-valid: 0.25
        token-experts: [0, 5]
        scores: true
        embeddings: true
        resume: true
        quiet: true
        hour: published
        no-metadata: true
        allow-non-sr: true
        overwrite: true
        """
        let o = try PipelineFile.parse(yaml: yaml, path: "x.yaml", baseDirectory: "/data/pipelines")
        XCTAssertEqual(o.scenes, ["/data/pipelines/a/scene1", "/abs/scene2"])
        XCTAssertEqual(o.weights, "/data/pipelines/w.safetensors")
        XCTAssertEqual(o.probe, "/data/p.safetensors")
        XCTAssertEqual(o.out, "/data/pipelines/out")
        XCTAssertEqual([o.workers, o.batchSize, o.blasThreads, o.queueDepth], [3, 32, 2, 8])
        XCTAssertEqual(o.minValid, 0.25)
        XCTAssertEqual(o.tokenExperts, .layers([0, 5]))
        XCTAssertTrue(o.scores && o.embeddings && o.resume && o.quiet && o.noMetadata && o.allowNonSR && o.overwrite)
        XCTAssertEqual(o.hour, .published)
    }

    func testDefaultsMatchTheCommandLine() throws {
        let o = try PipelineFile.parse(yaml: "scenes: s\nweights: w\nprobe: p\nout: o\n", path: "x.yaml", baseDirectory: nil)
        XCTAssertEqual(o, MapOptions(scenes: ["s"], weights: "w", probe: "p", out: "o"))
    }

    func assertRejects(_ yaml: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try PipelineFile.parse(yaml: yaml, path: "bad.yaml", baseDirectory: nil), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(expected), "message \(text) lacks \(expected)", file: file, line: line)
            XCTAssertTrue(text.hasPrefix("bad.yaml"), "message names the file: \(text)", file: file, line: line)
        }
    }

    func testRejectsWithClearMessages() {
        let base = "scenes: s\nweights: w\nprobe: p\nout: o\n"
        assertRejects("weights: w\nprobe: p\nout: o\n", "required field 'scenes' is missing")
        assertRejects(base + "batch_size: 3\n", "unknown field 'batch_size' (did you mean 'batch-size'?)")
        assertRejects(base + "workers: two\n", "'workers' must be an integer (found 'two')")
        assertRejects(base + "workers: 0\n", ": workers must be between 1 and 64 (got 0)")
        assertRejects(base + "min-valid: 1.5\n", ": min-valid must be a fraction between 0 and 1 (got 1.5)")
        assertRejects(base + "scores: maybe\n", "'scores' must be true or false")
        assertRejects(base + "hour: local\n", "'hour' must be one of utc, published (found 'local')")
        assertRejects(base + "token-experts: [1, x]\n", "every entry of 'token-experts' must be a layer index")
        assertRejects("- a\n- b\n", "must be a YAML mapping")
        assertRejects(base + "workers: [1\n", "not valid YAML")
        assertRejects(base + "weights: w2\n", "appears twice")
    }

    /// Limits (docs/reliability.md): nesting past ``PipelineFile/maxNesting`` (flow or block) and files
    /// past ``PipelineFile/maxBytes`` are refused before Yams builds its (recursive) node tree.
    func testNestingAndSizeLimits() {
        let flow = "scenes: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n"
        let block = "scenes:\n" + (1...200).map { String(repeating: " ", count: $0) + "- a\n" }.joined()
        let dashes = "scenes: s\nweights:\n" + String(repeating: "- ", count: 5_000) + "x\n"
        for (name, text, line) in [("flow", flow, 1), ("block", block, 64), ("dashes", dashes, 3)] {
            XCTAssertThrowsError(try PipelineFile.parse(yaml: text, path: "\(name).yaml", baseDirectory: nil), name) { error in
                guard let e = error as? PipelineFileError else { return XCTFail("\(name): \(error)") }
                XCTAssertEqual(e.line, line, "\(name): \(e)")
                XCTAssertTrue(e.message.contains("nested deeper than \(PipelineFile.maxNesting) levels"), "\(name): \(e)")
            }
        }
        let huge = "description: " + String(repeating: "x", count: PipelineFile.maxBytes) + "\n"
        XCTAssertThrowsError(try PipelineFile.parse(yaml: huge, path: "huge.yaml", baseDirectory: nil)) { error in
            XCTAssertTrue("\(error)".contains("more than the \(PipelineFile.maxBytes)"), "\(error)")
        }
        // The shipped pipelines are far inside the limits.
        XCTAssertNoThrow(try PipelineFile.checkLimits("scenes: [a, b]\nweights: w # [[[[\n  - x\n", path: "ok.yaml"))
    }

    func testErrorsCarryTheLineNumber() {
        XCTAssertThrowsError(try PipelineFile.parse(yaml: "scenes: s\nweights: w\nprobe: p\nout: o\nworkers: x\n",
                                                    path: "f.yaml", baseDirectory: nil)) { error in
            XCTAssertEqual((error as? PipelineFileError)?.line, 5)
        }
    }

    func testTokenExpertsCommandLineForm() throws {
        XCTAssertEqual(try TokenExpertLayers(parsing: "all"), .all)
        XCTAssertEqual(try TokenExpertLayers(parsing: "0, 3,5"), .layers([0, 3, 5]))
        XCTAssertThrowsError(try TokenExpertLayers(parsing: "1,-2"))
        XCTAssertEqual(try TokenExpertLayers.layers([5, 0, 5]).resolve(layerCount: 6), [0, 5])
        XCTAssertThrowsError(try TokenExpertLayers.layers([6]).resolve(layerCount: 6)) {
            XCTAssertTrue("\($0)".contains("layer 6 does not exist; the encoder has 6 layers"))
        }
    }

    /// The schema documents exactly the option names (plus `description`), each with a description.
    func testSchemaDocumentsEveryFieldAndNothingElse() throws {
        let url = repositoryRoot().appendingPathComponent("schemas/pipeline.schema.json")
        let schema = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let properties = schema["properties"] as! [String: [String: Any]]
        XCTAssertEqual(Set(properties.keys), Set(MapOptions.fieldNames + PipelineFile.extraFields))
        for (name, p) in properties {
            XCTAssertFalse((p["description"] as? String ?? "").isEmpty, "\(name) lacks a description")
        }
        XCTAssertEqual(schema["additionalProperties"] as? Bool, false)
    }

    /// Every shipped pipeline validates against the schema in Python (jsonschema) and loads in Swift.
    func testShippedPipelinesValidate() throws {
        let root = repositoryRoot()
        let files = try FileManager.default.contentsOfDirectory(atPath: root.path + "/pipelines")
            .filter { $0.hasSuffix(".yaml") }.sorted().map { root.path + "/pipelines/" + $0 }
        XCTAssertTrue(files.contains { $0.hasSuffix("/landcover.yaml") })
        XCTAssertTrue(files.contains { $0.hasSuffix("/experts.yaml") })
        let (status, output) = try runProcess("/usr/bin/env", ["python3", root.path + "/Tests/PipelineTests/Python/validate_pipelines.py",
                                                               root.path + "/schemas/pipeline.schema.json"] + files)
        XCTAssertEqual(status, 0, output)
        XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines), "ok \(files.count)")
        for f in files {
            let o = try PipelineFile.load(path: f)
            XCTAssertTrue(o.scenes.allSatisfy { $0.hasPrefix(root.path) }, "paths resolved against the file's folder")
        }
        // And the Python check is able to fail.
        let dir = try temporaryFolder(self)
        try "scenes: []\nweights: 3\nout: o\nworkers: 0\n".write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        let (badStatus, badOutput) = try runProcess("/usr/bin/env", ["python3", root.path + "/Tests/PipelineTests/Python/validate_pipelines.py",
                                                                     root.path + "/schemas/pipeline.schema.json", dir + "/bad.yaml"])
        XCTAssertEqual(badStatus, 1)
        XCTAssertTrue(badOutput.contains("weights") && badOutput.contains("workers"), badOutput)
    }
}
