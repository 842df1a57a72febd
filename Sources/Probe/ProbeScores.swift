import Foundation
import SafeTensors

/// `moemae probe predict` output (`schemas/probe-scores.schema.json`): `scores` F32 [N, C] class
/// probabilities, `labels` I32 [N] (multi-class arg-max) or U8 [N, C] (multi-label, 1 where score ≥
/// threshold), and `row`, `col`, `scene` I32 [N] copied from the embeddings file when it has them.
public enum ProbeScores {
    /// Scores every tile of `embeddings` with `probe` and writes the file atomically. The caller checks
    /// compatibility first (``LinearProbe/checkCompatible(dimension:weightsSHA256:source:)``).
    public static func write(probe: LinearProbe, embeddings: EmbeddingTable, probePath: String, to path: String) throws {
        let n = embeddings.count, k = probe.classCount
        let scores = probe.scores(embeddings.values, count: n)
        var tensors = [Tensor("scores", scores, shape: [n, k])]
        switch probe.task {
        case .multiclass: tensors.append(Tensor("labels", probe.multiclassLabels(scores: scores), shape: [n]))
        case .multilabel: tensors.append(Tensor("labels", probe.multilabelLabels(scores: scores), shape: [n, k]))
        }
        for (name, values) in [("row", embeddings.row), ("col", embeddings.col), ("scene", embeddings.scene)] {
            if let values { tensors.append(Tensor(name, values.map { Int32(truncatingIfNeeded: $0) }, shape: [n])) }
        }
        var metadata: [String: String] = [
            "task": probe.task.rawValue,
            "classes": jsonText(probe.classes.map(\.name)),
            "probe": probePath,
            "embeddings": embeddings.path,
            "weights_sha256": embeddings.weightsSHA256,
        ]
        if probe.task == .multilabel { metadata["thresholds"] = jsonText(probe.thresholds) }
        try SafeTensors.write(tensors, metadata: metadata, to: path)
    }
}
