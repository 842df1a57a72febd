import Foundation
import XCTest
@testable import MoEMAE

final class ModelConfigTests: XCTestCase {
    func testSPresetLayerSizesFollowTheSpecFormulas() {
        let s = ModelConfig.s
        XCTAssertEqual((0..<15).map { s.expertHidden(layer: $0) },
                       [144, 138, 133, 128, 123, 118, 113, 108, 102, 97, 92, 87, 82, 77, 72])
        XCTAssertEqual((0..<15).map { s.expertCount(layer: $0) }, [3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5])
        XCTAssertEqual(s.tokenCount, 105)
        XCTAssertEqual(s.patchFeatures, 112)
        XCTAssertEqual(s.headDim, 18)
        XCTAssertEqual(ModelConfig.xxs.expertHidden(layer: 0), 81)
        XCTAssertEqual(ModelConfig.xxs.expertHidden(layer: 8), 27)
        XCTAssertEqual((0..<9).map { ModelConfig.xxs.expertCount(layer: $0) }, [3, 3, 3, 4, 4, 4, 5, 5, 5])
    }

    func testParameterCountsMatchThePublishedModels() {
        XCTAssertEqual(ModelConfig.s.encoderParameterCount, 2_366_798)
        XCTAssertEqual(ModelConfig.s.parameterCount, 2_537_562)
        XCTAssertEqual(ModelConfig.xxs.parameterCount, 824_693)
        XCTAssertEqual(ModelConfig.xxs.encoderParameterCount, 657_817)
    }

    func testMultiplyAddCountOfSIsAboutHalfAGigaflop() {
        let macs = ModelConfig.s.encoderMultiplyAddsPerTile
        XCTAssertEqual(macs, 245_741_472)
        XCTAssertEqual(Double(2 * macs) / 1e9, 0.49, accuracy: 0.005)
    }

    func testJSONRoundTripAndSnakeCaseKeys() throws {
        for c in ModelConfig.presets {
            let data = try c.jsonData()
            let text = String(decoding: data, as: UTF8.self)
            XCTAssertTrue(text.contains("\"expert_hidden_first\""))
            XCTAssertEqual(try JSONDecoder().decode(ModelConfig.self, from: data), c)
        }
    }

    func testConfigFileErrorsNameTheFileAndField() throws {
        let dir = temporaryFolder()
        var bad = ModelConfig.s
        bad.heads = 7
        let path = dir + "/bad.json"
        try bad.jsonData().write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ModelConfig.load(path: path)) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains(path) && m.contains("heads"), m)
        }
        XCTAssertThrowsError(try ModelConfig.load(path: dir + "/missing.json"))
    }

    /// The configurations the presets produce validate against schemas/model-config.schema.json.
    func testPresetsValidateAgainstTheSchema() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let schemaPath = root.appendingPathComponent("schemas/model-config.schema.json").path
        let dir = temporaryFolder()
        var files: [String] = []
        for c in ModelConfig.presets {
            let p = dir + "/\(c.preset).json"
            try c.jsonData().write(to: URL(fileURLWithPath: p))
            files.append(p)
        }
        let script = "import json,sys,jsonschema\ns=json.load(open(sys.argv[1]))\nfor f in sys.argv[2:]: jsonschema.validate(json.load(open(f)), s)\nprint('ok')"
        let proc = Process()
        proc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        proc.arguments = ["python3", "-c", script, schemaPath] + files
        let pipe = Pipe()
        proc.standardOutput = pipe
        try proc.run()
        proc.waitUntilExit()
        XCTAssertEqual(proc.terminationStatus, 0)
        XCTAssertEqual(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self), "ok\n")
    }

    func testConfigIsInferredFromTheWeightShapes() throws {
        XCTAssertEqual(try Golden.model("public").config, ModelConfig.s)
        XCTAssertEqual(try Golden.model("xxs-public").config, ModelConfig.xxs)
    }
}

final class StateDictKeysTests: XCTestCase {
    /// The key enumeration reproduces keys-<set>.txt exactly (names, shapes, order), and random weights
    /// built from it load as a model.
    func testStateDictShapesMatchThePublishedKeyLists() throws {
        for (set, config) in [("public", ModelConfig.s), ("xxs-public", ModelConfig.xxs)] {
            let text = try String(contentsOfFile: goldenPath("keys-\(set).txt"), encoding: .utf8)
            let expected = text.split(separator: "\n").map { line -> String in
                let f = line.split(separator: "\t")
                return "\(f[0]) \(f[1].replacingOccurrences(of: " ", with: ""))"
            }
            let ours = config.stateDictShapes.map { "\($0.key) [\($0.shape.map(String.init).joined(separator: ","))]" }
            XCTAssertEqual(ours, expected, set)
            let model = try MoEMAEModel(config: config, weights: StateDict.random(config: config, seed: 1))
            XCTAssertEqual(model.encoder.blocks.count, config.depth)
        }
    }
}
