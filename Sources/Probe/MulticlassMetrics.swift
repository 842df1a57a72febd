/// Multi-class classification metrics with scikit-learn's definitions (`sklearn/metrics/_classification.py`).
///
/// - overall accuracy: fraction of tiles whose predicted class is the true class (`accuracy_score`).
/// - per class k: precision = TPₖ/(TPₖ+FPₖ), recall = TPₖ/(TPₖ+FNₖ), F1 = 2TPₖ/(2TPₖ+FPₖ+FNₖ);
///   0 where the denominator is 0 (scikit-learn's `zero_division` default).
/// - macro-F1: the unweighted mean of the per-class F1 over the classes that occur in the truth or the
///   predictions (scikit-learn's default `labels`: the union of `y_true` and `y_pred`).
/// - confusion matrix: `confusion[t][p]` = tiles of true class t predicted as p (`confusion_matrix`).
public struct MulticlassMetrics: Sendable, Equatable {
    public var tiles: Int
    public var overallAccuracy: Double
    public var macroF1: Double
    public var precision: [Double]
    public var recall: [Double]
    public var f1: [Double]
    /// Tiles of each true class.
    public var support: [Int]
    /// [K][K], rows = true class, columns = predicted class.
    public var confusion: [[Int]]
    /// The classes averaged by ``macroF1`` (present in truth or predictions).
    public var averagedClasses: [Int]

    /// - Parameters:
    ///   - truth, predicted: class indices in `0..<classCount`, one per tile (same count, ≥ 1).
    public init(truth: [Int], predicted: [Int], classCount k: Int) {
        precondition(truth.count == predicted.count && !truth.isEmpty)
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for (t, p) in zip(truth, predicted) { confusion[t][p] += 1 }
        var precision = [Double](repeating: 0, count: k), recall = precision, f1 = precision
        var support = [Int](repeating: 0, count: k)
        var averaged: [Int] = []
        var correct = 0
        for c in 0..<k {
            let tp = confusion[c][c]
            correct += tp
            let actual = confusion[c].reduce(0, +)
            let predictedCount = (0..<k).reduce(0) { $0 + confusion[$1][c] }
            support[c] = actual
            precision[c] = predictedCount > 0 ? Double(tp) / Double(predictedCount) : 0
            recall[c] = actual > 0 ? Double(tp) / Double(actual) : 0
            let denominator = actual + predictedCount  // = 2TP + FP + FN
            f1[c] = denominator > 0 ? 2 * Double(tp) / Double(denominator) : 0
            if actual > 0 || predictedCount > 0 { averaged.append(c) }
        }
        tiles = truth.count
        overallAccuracy = Double(correct) / Double(truth.count)
        macroF1 = averaged.isEmpty ? 0 : averaged.reduce(0.0) { $0 + f1[$1] } / Double(averaged.count)
        self.precision = precision; self.recall = recall; self.f1 = f1; self.support = support
        self.confusion = confusion; averagedClasses = averaged
    }
}
