import Foundation
import SafeTensors

/// What ``TorchCheckpoint/importWeights(to:)`` wrote.
public struct CheckpointImportSummary: Sendable {
    public var output: String
    public var tensorCount: Int
    public var byteCount: Int
    /// The `__metadata__` written to the safetensors header.
    public var metadata: [String: String]
}

extension TorchCheckpoint {
    /// Writes the state dict to a safetensors file at `output`: every tensor under its original
    /// key, in state-dict order, with its original dtype and shape, and the bytes PyTorch stored
    /// (so the result is bit-identical to exporting the same state dict with Python `safetensors`).
    /// Keys that share one storage (V and W2 under every expert, `patch_embed.*` =
    /// `encoder.patch_proj.*`) are written once per key, as in the published weight files.
    ///
    /// `__metadata__`: `format` = "pt", `source` (the checkpoint path as given), `source_layout`
    /// ("training-checkpoint" or "state-dict"), and `epoch`, `best_train_loss` when present
    /// (`best_train_loss` in Python's spelling, e.g. "inf").
    ///
    /// The file is written under a temporary name and renamed at the end, so a failure never
    /// leaves a file with the final name. Throws ``CheckpointError`` or ``SafeTensorsError``.
    @discardableResult
    public func importWeights(to output: String) throws -> CheckpointImportSummary {
        var metadata: [String: String] = [
            "format": "pt",
            "source": path,
            "source_layout": isBareStateDict ? "state-dict" : "training-checkpoint",
        ]
        if let epoch { metadata["epoch"] = String(epoch) }
        if let bestTrainLoss { metadata["best_train_loss"] = Self.pythonRepr(bestTrainLoss) }
        let tensors = try loadStateDict()
        try SafeTensors.write(tensors, metadata: metadata, to: output)
        return CheckpointImportSummary(output: output, tensorCount: tensors.count,
                                       byteCount: tensors.reduce(0) { $0 + $1.bytes.count }, metadata: metadata)
    }

    /// Python's `repr(float)` for the values a loss takes (shortest round-trip digits, `inf`, `nan`).
    static func pythonRepr(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        return "\(x)"
    }
}
