import Foundation
import SafeTensors
import XCTest
@testable import CheckpointImport
import MoEMAE

/// `moemae weights info`'s library side: parameter counts with shared tensors counted once and
/// the preset read off tensor shapes.
final class CheckpointInventoryTests: XCTestCase {
    func testPublicWeightsAreSWith2537562Parameters() throws {
        for file in ["weights-public.safetensors", "checkpoint-public.pth"] {
            let inv = try TensorInventory(path: CheckpointFixtures.golden(file))
            XCTAssertEqual(inv.items.count, 692, file)
            // docs/model.md: "S has 2,366,798 encoder parameters, 2,537,562 with the decoder."
            XCTAssertEqual(inv.parameterCount, 2_537_562, file)
            XCTAssertEqual(inv.encoderParameterCount, 2_366_798, file)
            let a = try XCTUnwrap(inv.architecture)
            XCTAssertEqual(a.preset, "S", file)
            XCTAssertEqual(a.embedDim, 144)
            XCTAssertEqual(a.depth, 15)
            XCTAssertEqual(a.expertsPerLayer, [3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5])
            XCTAssertEqual(a.expertHidden, [144, 138, 133, 128, 123, 118, 113, 108, 102, 97, 92, 87, 82, 77, 72])
            XCTAssertEqual(a.decoderDepth, 2)
            XCTAssertEqual(a.decoderDim, 108)
            let shared = Dictionary(uniqueKeysWithValues: inv.items.map { ($0.name, $0.sharedWith) })
            XCTAssertEqual(shared["patch_embed.weight"], "encoder.patch_proj.weight")
            XCTAssertEqual(shared["encoder.layers.14.moe.experts.4.W2.bias"], "encoder.layers.14.moe.experts.0.W2.bias")
            XCTAssertEqual(shared["encoder.layers.14.moe.experts.4.W.weight"], .some(nil))
        }
    }

    func testXXSWeightsHave824693Parameters() throws {
        for file in ["weights-xxs-public.safetensors", "checkpoint-xxs-public.pth"] {
            let inv = try TensorInventory(path: CheckpointFixtures.golden(file))
            XCTAssertEqual(inv.parameterCount, 824_693, file)
            XCTAssertEqual(inv.architecture?.preset, "XXS", file)
            XCTAssertEqual(inv.architecture?.expertsPerLayer, [3, 3, 3, 4, 4, 4, 5, 5, 5])
        }
    }

    func testCountsAgreeWithTheModelConfigurationFormulas() throws {
        // Two independent routes to the same numbers: unique tensors in the file vs ModelConfig's formulas.
        let s = try TensorInventory(path: CheckpointFixtures.golden("weights-public.safetensors"))
        XCTAssertEqual(s.architecture?.presetConfig, ModelConfig.s)
        XCTAssertEqual(s.parameterCount, ModelConfig.s.parameterCount)
        XCTAssertEqual(s.encoderParameterCount, ModelConfig.s.encoderParameterCount)
        let xxs = try TensorInventory(path: CheckpointFixtures.golden("weights-xxs-public.safetensors"))
        XCTAssertEqual(xxs.parameterCount, ModelConfig.xxs.parameterCount)
        XCTAssertEqual(xxs.encoderParameterCount, ModelConfig.xxs.encoderParameterCount)
    }

    func testAliasesInSafetensorsNeedIdenticalBytesAndCustomShapesAreCustom() throws {
        let dir = try CheckpointFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("custom.safetensors").path
        let d = 16
        let v0 = (0..<(8 * d)).map { Float($0) }
        var v1 = v0
        v1[5] = -1 // same name pattern, different values: not the same parameter
        try SafeTensors.write([
            Tensor("encoder.pos_embed", [Float](repeating: 0, count: 105 * d), shape: [1, 105, d]),
            Tensor("encoder.layers.0.moe.experts.0.W.weight", v0, shape: [8, d]),
            Tensor("encoder.layers.0.moe.experts.0.V.weight", v0, shape: [8, d]),
            Tensor("encoder.layers.0.moe.experts.1.W.weight", v0, shape: [8, d]),
            Tensor("encoder.layers.0.moe.experts.1.V.weight", v0, shape: [8, d]),
            Tensor("encoder.layers.0.moe.experts.2.V.weight", v1, shape: [8, d]),
        ], to: path)
        let inv = try TensorInventory(path: path)
        XCTAssertEqual(inv.items.first { $0.name.hasSuffix("experts.1.V.weight") }?.sharedWith, "encoder.layers.0.moe.experts.0.V.weight")
        XCTAssertNil(inv.items.first { $0.name.hasSuffix("experts.2.V.weight") }?.sharedWith)
        XCTAssertNil(inv.items.first { $0.name.hasSuffix("experts.1.W.weight") }?.sharedWith, "W is per expert even when equal")
        XCTAssertEqual(inv.parameterCount, 105 * d + 4 * 8 * d)
        let a = try XCTUnwrap(inv.architecture)
        XCTAssertNil(a.preset)
        XCTAssertEqual(a.embedDim, d)
        XCTAssertEqual(a.depth, 1)
        XCTAssertEqual(a.expertsPerLayer, [2])
        XCTAssertEqual(a.decoderDepth, 0)
    }

    func testAliasRuleNames() {
        XCTAssertEqual(TensorInventory.aliasTarget(of: "decoder_layers.1.moe.experts.2.W2.bias"), "decoder_layers.1.moe.experts.0.W2.bias")
        XCTAssertEqual(TensorInventory.aliasTarget(of: "patch_embed.bias"), "encoder.patch_proj.bias")
        XCTAssertNil(TensorInventory.aliasTarget(of: "encoder.layers.0.moe.experts.0.V.weight"))
        XCTAssertNil(TensorInventory.aliasTarget(of: "encoder.layers.0.moe.experts.1.W.weight"))
        XCTAssertNil(TensorInventory.aliasTarget(of: "encoder.layers.0.moe.gate.Wg.weight"))
    }
}
