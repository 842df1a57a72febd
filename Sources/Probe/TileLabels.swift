/// Labels of tiles from a label source, aligned with the tiles they were asked for.
public struct TileLabels: Sendable {
    /// The label source's classes; indices below refer to these.
    public var classes: [ProbeClass]
    /// One entry per tile: its class indices (multi-class: exactly one), or nil when the tile has no
    /// usable label (it is left out of fitting and evaluation).
    public var labels: [[Int]?]
    /// What the source left out and why, for the user.
    public var notes: [String]

    public init(classes: [ProbeClass], labels: [[Int]?], notes: [String] = []) {
        self.classes = classes; self.labels = labels; self.notes = notes
    }

    /// Indices of the labelled tiles.
    public var labelledIndices: [Int] { labels.indices.filter { labels[$0] != nil } }
}
