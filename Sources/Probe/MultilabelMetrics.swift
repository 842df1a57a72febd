/// Multi-label metrics with scikit-learn's definitions.
///
/// - micro mAP: ``averagePrecisionScore(truth:scores:)`` over all (tile, class) pairs pooled
///   (`average_precision_score(Y, S, average="micro")`).
/// - macro mAP: the mean of the per-class average precision over the classes that have at least one
///   positive tile in the evaluated labels (`average_precision_score(Y[:, P], S[:, P], average="macro")`
///   with P those classes). scikit-learn would count a class without positives as AP 0 (with a warning),
///   which measures the evaluation set rather than the probe; the classes left out are listed.
/// - F1 at the thresholds: a class is predicted when its score ≥ its threshold. Per class
///   F1 = 2TP/(2TP+FP+FN) (0 when that is 0/0); micro-F1 pools TP, FP, FN over all classes
///   (`f1_score(Y, Ŷ, average="micro")`); macro-F1 averages the per-class F1 over the same classes as
///   macro mAP (`f1_score(Y[:, P], Ŷ[:, P], average="macro")`).
public struct MultilabelMetrics: Sendable, Equatable {
    public var tiles: Int
    public var microMAP: Double
    public var macroMAP: Double
    public var microF1: Double
    public var macroF1: Double
    /// Per class; 0 for a class without positives.
    public var averagePrecision: [Double]
    public var precision: [Double]
    public var recall: [Double]
    public var f1: [Double]
    /// Positive tiles per class.
    public var support: [Int]
    /// Classes with at least one positive tile: the classes the macro averages run over.
    public var averagedClasses: [Int]

    /// - Parameters:
    ///   - truth: [N, K] row-major, true = the tile has the class.
    ///   - scores: [N, K] row-major class scores.
    ///   - thresholds: K decision thresholds.
    public init(truth: [Bool], scores: [Double], thresholds: [Double], classCount k: Int) {
        precondition(truth.count == scores.count && truth.count % max(k, 1) == 0 && thresholds.count == k)
        let n = truth.count / k
        var ap = [Double](repeating: 0, count: k)
        var precision = ap, recall = ap, f1 = ap
        var support = [Int](repeating: 0, count: k)
        var averaged: [Int] = []
        var tpAll = 0, fpAll = 0, fnAll = 0
        for c in 0..<k {
            let t = (0..<n).map { truth[$0 * k + c] }
            let s = (0..<n).map { scores[$0 * k + c] }
            var tp = 0, fp = 0, fn = 0
            for i in 0..<n {
                let p = s[i] >= thresholds[c]
                if p && t[i] { tp += 1 } else if p { fp += 1 } else if t[i] { fn += 1 }
            }
            tpAll += tp; fpAll += fp; fnAll += fn
            support[c] = tp + fn
            precision[c] = tp + fp > 0 ? Double(tp) / Double(tp + fp) : 0
            recall[c] = tp + fn > 0 ? Double(tp) / Double(tp + fn) : 0
            f1[c] = 2 * tp + fp + fn > 0 ? 2 * Double(tp) / Double(2 * tp + fp + fn) : 0
            ap[c] = averagePrecisionScore(truth: t, scores: s)
            if support[c] > 0 { averaged.append(c) }
        }
        tiles = n
        microMAP = averagePrecisionScore(truth: truth, scores: scores)
        macroMAP = averaged.isEmpty ? 0 : averaged.reduce(0.0) { $0 + ap[$1] } / Double(averaged.count)
        let denominator = 2 * tpAll + fpAll + fnAll
        microF1 = denominator > 0 ? 2 * Double(tpAll) / Double(denominator) : 0
        macroF1 = averaged.isEmpty ? 0 : averaged.reduce(0.0) { $0 + f1[$1] } / Double(averaged.count)
        averagePrecision = ap
        self.precision = precision; self.recall = recall; self.f1 = f1; self.support = support
        averagedClasses = averaged
    }
}
