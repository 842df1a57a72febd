/// What a probe predicts for a tile.
public enum ProbeTask: String, Sendable, Codable, CaseIterable {
    /// Exactly one class per tile: softmax regression, scores are class probabilities summing to 1,
    /// the predicted label is the arg-max.
    case multiclass
    /// Any set of classes per tile: one-vs-rest logistic regression, scores are independent class
    /// probabilities, a class is predicted when its score ≥ its threshold.
    case multilabel
}

/// Which vector of the embeddings file a probe reads.
public enum ProbeFeature: String, Sendable, Codable, CaseIterable {
    /// `embedding`: the mean of the un-normalised final tokens (what the published probes use;
    /// docs/model.md, "Encoder forward" 5).
    case embedding
    /// `cls`: the un-normalised CLS token (index 4).
    case cls
}
