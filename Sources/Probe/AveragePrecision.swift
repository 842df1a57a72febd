/// Average precision as scikit-learn's `average_precision_score` defines it
/// (`sklearn/metrics/_ranking.py`): the step-wise sum over the distinct score thresholds,
///
///     AP = Σₙ (Rₙ − Rₙ₋₁) · Pₙ,
///
/// with precision Pₙ and recall Rₙ at the n-th threshold taken in decreasing score order, R₀ = 0 and no
/// interpolation. Tiles with equal scores form one threshold (they enter the ranking together).
/// With no positive tile the value is 0, as scikit-learn returns (with a warning) in that case.
///
/// - Parameters:
///   - truth: whether each tile has the class.
///   - scores: the class score of each tile (higher = more likely); finite.
public func averagePrecisionScore(truth: [Bool], scores: [Double]) -> Double {
    precondition(truth.count == scores.count)
    let positives = truth.lazy.filter { $0 }.count
    guard positives > 0 else { return 0 }
    let order = scores.indices.sorted { scores[$0] > scores[$1] }
    var tp = 0, fp = 0
    var ap = 0.0, previousRecall = 0.0
    var i = 0
    while i < order.count {
        let s = scores[order[i]]
        // Take every tile with this score.
        while i < order.count && scores[order[i]] == s {
            if truth[order[i]] { tp += 1 } else { fp += 1 }
            i += 1
        }
        let recall = Double(tp) / Double(positives)
        let precision = Double(tp) / Double(tp + fp)
        ap += (recall - previousRecall) * precision
        previousRecall = recall
    }
    return ap
}
