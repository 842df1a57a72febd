import Foundation
import Tiling

/// The tiles of an embeddings file that a label source labels: which rows, their label sets, the
/// classes, and what was left out. What `probe fit` fits on and `probe eval` evaluates on.
public struct LabelledTiles: Sendable {
    /// Row indices into the embeddings file.
    public var rows: [Int]
    /// Label sets (indices into ``classes``), one per row.
    public var labels: [[Int]]
    public var classes: [ProbeClass]
    public var notes: [String]

    /// Matches the tiles of `embeddings` to `source` through the dataset at `datasetPath` (its manifest
    /// gives scene ids and georeferencing), optionally keeping one part of a ``TileSplit``.
    public init(datasetPath: String, embeddings: EmbeddingTable, source: LabelSource, task: ProbeTask,
                minFraction: Double = 0.5, split: (TileSplit, TileSplit.Part)? = nil) throws {
        let dataset = try Dataset(path: datasetPath)
        guard let manifest = dataset.manifest else {
            throw ProbeError(path: datasetPath, "is a bare shard; labels need the dataset folder written by `moemae tile` (its manifest.json gives scene ids and georeferencing)")
        }
        let tiles = try embeddings.tiles()
        for t in tiles where t.scene < 0 || t.scene >= manifest.scenes.count {
            throw ProbeError(path: embeddings.path, "refers to scene \(t.scene) but \(datasetPath) has \(manifest.scenes.count) scenes: were these embeddings computed from this dataset?")
        }
        let labelled = try source.labels(for: tiles, manifest: manifest, datasetPath: datasetPath, task: task, minFraction: minFraction)
        var rows: [Int] = [], labels: [[Int]] = []
        var heldOut = 0
        for (i, set) in labelled.labels.enumerated() {
            guard let set else { continue }
            if let (split, part) = split {
                let t = tiles[i]
                if split.part(sceneID: manifest.scenes[t.scene].id, row: t.row, col: t.col) != part { heldOut += 1; continue }
            }
            rows.append(i); labels.append(set)
        }
        var notes = labelled.notes
        if let (split, part) = split {
            notes.append("split: \(part.rawValue) part (test fraction \(split.testFraction) by SHA-1 of the \(split.unit.rawValue) key): \(rows.count) labelled tile(s) kept, \(heldOut) in the other part")
        }
        guard !rows.isEmpty else {
            throw ProbeError(path: source.path, "no labelled tile" + (split == nil ? "" : " in the \(split!.1.rawValue) part of the split"))
        }
        self.rows = rows; self.labels = labels; classes = labelled.classes; self.notes = notes
    }
}
