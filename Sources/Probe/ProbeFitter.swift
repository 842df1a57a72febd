/// Fits a ``LinearProbe`` on labelled embeddings.
///
/// - Multi-class: each tile has exactly one class. Classes that no training tile has are left out of the
///   probe (a softmax cannot represent "never"; scikit-learn likewise only knows the classes in `y`).
/// - Multi-label: each tile has a set of classes (possibly of one). Every class of the label source is
///   kept; a class that is constant in the training tiles gets a constant score (see
///   ``LogisticRegression/fitOneVsRest(_:targets:classes:)``).
/// Either way at least two classes must occur in the training tiles.
public struct ProbeFitter: Sendable {
    public var regression: LogisticRegression

    public init(regression: LogisticRegression = LogisticRegression()) { self.regression = regression }

    /// What the fit did, for the user.
    public struct Report: Sendable {
        public var tiles: Int
        /// Classes of the label source left out of the probe (multi-class), with why.
        public var droppedClasses: [String]
        /// One entry (multi-class) or one per class (multi-label).
        public var convergence: [LogisticRegression.Convergence]
        public var allConverged: Bool { convergence.allSatisfy(\.converged) }
        public var maxIterations: Int { convergence.map(\.iterations).max() ?? 0 }
    }

    /// - Parameters:
    ///   - features: [N, D] training features.
    ///   - labels: N label sets, indices into `classes` (multi-class: one index each).
    ///   - classes: the label source's classes.
    ///   - source: names the label source in errors.
    public func fit(features: FeatureMatrix, labels: [[Int]], classes: [ProbeClass], task: ProbeTask,
                    feature: ProbeFeature, weightsSHA256: String, source: String) throws -> (LinearProbe, Report) {
        precondition(labels.count == features.rows)
        guard features.rows >= 2 else {
            throw ProbeError(path: source, "only \(features.rows) labelled tile(s) to fit on; a probe needs at least two")
        }
        guard regression.C > 0, regression.C.isFinite else {
            throw ProbeError(path: "--C", "C must be a positive number, got \(regression.C)")
        }
        let n = features.rows, d = features.columns
        var counts = [Int](repeating: 0, count: classes.count)
        for set in labels { for c in set { counts[c] += 1 } }
        let present = counts.indices.filter { counts[$0] > 0 }
        guard present.count >= 2 else {
            let names = present.map { classes[$0].name }
            throw ProbeError(path: source, "the labelled tiles hold fewer than two classes (\(names.isEmpty ? "none" : names.joined(separator: ", "))); a probe needs at least two")
        }
        switch task {
        case .multiclass:
            guard labels.allSatisfy({ $0.count == 1 }) else {
                throw ProbeError(path: source, "a multi-class probe needs exactly one class per tile")
            }
            var newIndex = [Int](repeating: -1, count: classes.count)
            for (i, c) in present.enumerated() { newIndex[c] = i }
            let y = labels.map { newIndex[$0[0]] }
            let (model, convergence) = regression.fitMultinomial(features, labels: y, classes: present.count)
            let probe = LinearProbe(
                task: .multiclass, classes: present.map { classes[$0] }, feature: feature, weightsSHA256: weightsSHA256,
                dimension: d, weight: model.weight.map(Float.init), bias: model.bias.map(Float.init),
                classFrequencies: present.map { Double(counts[$0]) / Double(n) }, trainingTiles: n,
                C: regression.C, standardized: regression.standardize, source: "moemae probe fit")
            let dropped = classes.indices.filter { counts[$0] == 0 }.map { classes[$0].name }
            return (probe, Report(tiles: n, droppedClasses: dropped, convergence: [convergence]))
        case .multilabel:
            let k = classes.count
            var targets = [Bool](repeating: false, count: n * k)
            for (i, set) in labels.enumerated() { for c in set { targets[i * k + c] = true } }
            let (model, convergence) = regression.fitOneVsRest(features, targets: targets, classes: k)
            let probe = LinearProbe(
                task: .multilabel, classes: classes, feature: feature, weightsSHA256: weightsSHA256,
                dimension: d, weight: model.weight.map(Float.init), bias: model.bias.map(Float.init),
                classFrequencies: counts.map { Double($0) / Double(n) }, trainingTiles: n,
                C: regression.C, standardized: regression.standardize, source: "moemae probe fit")
            return (probe, Report(tiles: n, droppedClasses: [], convergence: convergence))
        }
    }
}
