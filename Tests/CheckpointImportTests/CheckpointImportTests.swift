import Foundation
import SafeTensors
import XCTest
@testable import CheckpointImport
import MoEMAE
@testable import MoEMAETraining

/// The published-layout checkpoints in `../shared/golden` import to exactly the tensors of the
/// reference's own safetensors export.
final class CheckpointImportTests: XCTestCase {
    func testPublicCheckpointImportsBitIdenticalToReferenceWeights() throws {
        try assertImportMatchesReference(checkpoint: "checkpoint-public.pth", weights: "weights-public.safetensors",
                                         keys: "keys-public.txt", tensorCount: 692, epoch: 8, loss: "83.98803356715611")
    }

    func testXXSCheckpointImportsBitIdenticalToReferenceWeights() throws {
        try assertImportMatchesReference(checkpoint: "checkpoint-xxs-public.pth", weights: "weights-xxs-public.safetensors",
                                         keys: "keys-xxs-public.txt", tensorCount: 452, epoch: 0, loss: "inf")
    }

    func testStateDictKeepsReferenceKeyOrderAndSharesStorages() throws {
        let ckpt = try TorchCheckpoint(path: CheckpointFixtures.golden("checkpoint-public.pth"))
        XCTAssertFalse(ckpt.isBareStateDict)
        XCTAssertTrue(ckpt.littleEndian)
        // The experts' V and W2 and patch_embed.* view the same storages as their first keys.
        let byName = Dictionary(uniqueKeysWithValues: ckpt.stateDict.map { ($0.name, $0.tensor) })
        XCTAssertEqual(byName["patch_embed.weight"]?.storage.key, byName["encoder.patch_proj.weight"]?.storage.key)
        XCTAssertEqual(byName["encoder.layers.3.moe.experts.2.V.weight"]?.storage.key,
                       byName["encoder.layers.3.moe.experts.0.V.weight"]?.storage.key)
        XCTAssertNotEqual(byName["encoder.layers.3.moe.experts.2.W.weight"]?.storage.key,
                          byName["encoder.layers.3.moe.experts.0.W.weight"]?.storage.key)
        // Optimizer state is parsed too (AdamW state and param_groups) but not imported.
        guard case let .dict(top) = ckpt.root, case let .dict(opt)? = top["opt_state"] else {
            return XCTFail("opt_state is not a dict")
        }
        XCTAssertEqual(opt.stringKeys, ["state", "param_groups"])
    }

    private func assertImportMatchesReference(checkpoint: String, weights: String, keys: String,
                                              tensorCount: Int, epoch: Int, loss: String) throws {
        let dir = try CheckpointFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("imported.safetensors").path
        let source = CheckpointFixtures.golden(checkpoint)
        let ckpt = try TorchCheckpoint(path: source)
        let summary = try ckpt.importWeights(to: out)
        XCTAssertEqual(summary.tensorCount, tensorCount)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + ".partial"))

        let imported = try SafeTensorsFile(path: out)
        let reference = try SafeTensorsFile(path: CheckpointFixtures.golden(weights))
        XCTAssertEqual(Set(imported.names), Set(reference.names))
        XCTAssertEqual(imported.tensors.count, tensorCount)
        var compared = 0
        for ref in reference.tensors {
            let got = try imported.require(ref.name)
            XCTAssertEqual(got.dtype, ref.dtype, ref.name)
            XCTAssertEqual(got.shape, ref.shape, ref.name)
            XCTAssertTrue(imported.rawBytes(got).elementsEqual(reference.rawBytes(ref)), "bytes of \(ref.name) differ")
            compared += 1
        }
        XCTAssertEqual(compared, tensorCount)

        // State-dict order and shapes as in keys-<set>.txt ("key<TAB>[shape]<TAB>dtype").
        let keyLines = try String(contentsOfFile: CheckpointFixtures.golden(keys), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(imported.names, keyLines.map { $0[0] }, "written in state-dict order")
        XCTAssertEqual(ckpt.stateDict.map { "\($0.tensor.shape)" }, keyLines.map { $0[1] })

        XCTAssertEqual(imported.metadata["source"], source)
        XCTAssertEqual(imported.metadata["epoch"], String(epoch))
        XCTAssertEqual(imported.metadata["best_train_loss"], loss)
        XCTAssertEqual(imported.metadata["source_layout"], "training-checkpoint")
    }
}
