import Foundation

/// A probe's figures on labelled tiles, next to the majority-class baseline.
///
/// Baseline (always reported): the constant model that ignores the embedding, i.e. what a logistic
/// regression fits with no features: the training class frequencies.
/// - multi-class: every tile is predicted as the most frequent training class;
/// - multi-label: every tile gets the training frequency of each class as its score (which ranks the
///   classes by prevalence; mAP is computed from these scores), and a class is predicted when its
///   frequency ≥ the probe's threshold for it.
/// The frequencies come from the probe file (`class_frequencies`, written by `moemae probe fit`); a probe
/// without them (e.g. imported) falls back to the frequencies of the evaluated tiles themselves, which
/// ``baselineSource`` records.
public struct ProbeEvaluation: Sendable {
    public var task: ProbeTask
    /// The class names of the rows/columns below: the probe's classes, followed (multi-class only) by
    /// classes of the labels the probe does not know (its tiles always count as errors).
    public var classes: [String]
    public var multiclass: MulticlassMetrics?
    public var multilabel: MultilabelMetrics?
    public var baselineMulticlass: MulticlassMetrics?
    public var baselineMultilabel: MultilabelMetrics?
    /// "training" (the probe's class_frequencies) or "evaluation" (the evaluated labels).
    public var baselineSource: String
    /// Notes for the user (labels ignored, fall-backs taken).
    public var notes: [String]

    public var tiles: Int { multiclass?.tiles ?? multilabel?.tiles ?? 0 }

    /// Evaluates `probe` on tiles with `scores` [N, C] (from ``LinearProbe/scores(_:count:)``) and label
    /// sets `truth` (N sets of names from the label source's `labelClasses`).
    public init(probe: LinearProbe, scores: [Float], truth: [[Int]], labelClasses: [String]) throws {
        let k = probe.classCount
        let n = truth.count
        precondition(scores.count == n * k)
        guard n > 0 else { throw ProbeError(path: "", "no labelled tile to evaluate") }
        task = probe.task
        notes = []
        let probeIndex = Dictionary(probe.classes.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        var frequencies = probe.classFrequencies
        baselineSource = "training"
        switch probe.task {
        case .multiclass:
            var names = probe.classes.map(\.name)
            var extra: [String: Int] = [:]
            var y: [Int] = []
            for set in truth {
                guard set.count == 1 else {
                    throw ProbeError(path: "", "a multi-class evaluation needs exactly one class per tile")
                }
                let name = labelClasses[set[0]]
                if let i = probeIndex[name] { y.append(i); continue }
                if extra[name] == nil { extra[name] = names.count; names.append(name) }
                y.append(extra[name]!)
            }
            if !extra.isEmpty {
                notes.append("classes in the labels that the probe does not know (their tiles count as errors): " + extra.keys.sorted().joined(separator: ", "))
            }
            let predicted = probe.multiclassLabels(scores: scores).map(Int.init)
            multiclass = MulticlassMetrics(truth: y, predicted: predicted, classCount: names.count)
            if frequencies == nil {
                baselineSource = "evaluation"
                frequencies = (0..<k).map { c in Double(y.filter { $0 == c }.count) / Double(n) }
            }
            let f = frequencies!
            var majority = 0
            for c in 1..<k where f[c] > f[majority] { majority = c }
            baselineMulticlass = MulticlassMetrics(truth: y, predicted: [Int](repeating: majority, count: n), classCount: names.count)
            classes = names
        case .multilabel:
            var y = [Bool](repeating: false, count: n * k)
            var ignored = Set<String>()
            for (i, set) in truth.enumerated() {
                for c in set {
                    if let j = probeIndex[labelClasses[c]] { y[i * k + j] = true } else { ignored.insert(labelClasses[c]) }
                }
            }
            if !ignored.isEmpty {
                notes.append("labels of classes the probe does not know are ignored: " + ignored.sorted().joined(separator: ", "))
            }
            let s = scores.map(Double.init)
            let metrics = MultilabelMetrics(truth: y, scores: s, thresholds: probe.thresholds, classCount: k)
            multilabel = metrics
            if frequencies == nil {
                baselineSource = "evaluation"
                frequencies = (0..<k).map { c in Double((0..<n).filter { y[$0 * k + c] }.count) / Double(n) }
            }
            let f = frequencies!
            let constant = (0..<(n * k)).map { f[$0 % k] }
            baselineMultilabel = MultilabelMetrics(truth: y, scores: constant, thresholds: probe.thresholds, classCount: k)
            let missing = (0..<k).filter { metrics.support[$0] == 0 }.map { probe.classes[$0].name }
            if !missing.isEmpty {
                notes.append("classes without a positive tile, left out of the macro averages: " + missing.joined(separator: ", "))
            }
            classes = probe.classes.map(\.name)
        }
        if baselineSource == "evaluation" {
            notes.append("the probe file has no training class frequencies: the baseline uses the evaluated tiles' frequencies")
        }
    }
}

extension ProbeEvaluation {
    /// The JSON report (`schemas/probe-eval.schema.json`): fractions in 0…1.
    public var jsonObject: [String: Any] {
        var o: [String: Any] = ["task": task.rawValue, "tiles": tiles, "classes": classes, "notes": notes]
        if let m = multiclass, let b = baselineMulticlass {
            o["overall_accuracy"] = m.overallAccuracy
            o["macro_f1"] = m.macroF1
            o["per_class"] = classes.indices.map { c -> [String: Any] in
                ["class": classes[c], "precision": m.precision[c], "recall": m.recall[c], "f1": m.f1[c], "support": m.support[c]]
            }
            o["confusion_matrix"] = m.confusion
            o["baseline"] = ["kind": "majority class", "frequencies_from": baselineSource,
                             "overall_accuracy": b.overallAccuracy, "macro_f1": b.macroF1] as [String: Any]
        }
        if let m = multilabel, let b = baselineMultilabel {
            o["micro_map"] = m.microMAP
            o["macro_map"] = m.macroMAP
            o["micro_f1"] = m.microF1
            o["macro_f1"] = m.macroF1
            o["per_class"] = classes.indices.map { c -> [String: Any] in
                ["class": classes[c], "average_precision": m.averagePrecision[c], "precision": m.precision[c],
                 "recall": m.recall[c], "f1": m.f1[c], "support": m.support[c]]
            }
            o["baseline"] = ["kind": "class frequencies", "frequencies_from": baselineSource,
                             "micro_map": b.microMAP, "macro_map": b.macroMAP, "micro_f1": b.microF1, "macro_f1": b.macroF1] as [String: Any]
        }
        return o
    }

    /// Pretty-printed JSON with sorted keys.
    public func jsonData() throws -> Data {
        try JSONSerialization.data(withJSONObject: jsonObject, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    /// A readable table: the headline figures (in percent) next to the baseline, then per class.
    public var table: String {
        func pct(_ v: Double) -> String { String(format: "%6.2f", v * 100) }
        var lines: [String] = []
        lines.append("\(task.rawValue) probe on \(tiles) labelled tiles (figures in %; baseline: \(task == .multiclass ? "majority class" : "class frequencies") from \(baselineSource))")
        lines.append("metric".padding(toLength: 18, withPad: " ", startingAt: 0) + "    probe   baseline")
        func row(_ name: String, _ a: Double, _ b: Double) {
            lines.append("\(name.padding(toLength: 18, withPad: " ", startingAt: 0))   \(pct(a))    \(pct(b))")
        }
        if let m = multiclass, let b = baselineMulticlass {
            row("overall accuracy", m.overallAccuracy, b.overallAccuracy)
            row("macro F1", m.macroF1, b.macroF1)
            lines.append("")
            lines.append("class                                      precision  recall     F1  support")
            for c in classes.indices {
                lines.append("\(classes[c].padding(toLength: 40, withPad: " ", startingAt: 0))   \(pct(m.precision[c]))  \(pct(m.recall[c])) \(pct(m.f1[c]))  \(String(format: "%7d", m.support[c]))")
            }
            lines.append("")
            lines.append("confusion matrix (rows = true class, columns = predicted, in class order above):")
            for r in m.confusion { lines.append(r.map { String(format: "%5d", $0) }.joined()) }
        }
        if let m = multilabel, let b = baselineMultilabel {
            row("micro mAP", m.microMAP, b.microMAP)
            row("macro mAP", m.macroMAP, b.macroMAP)
            row("micro F1", m.microF1, b.microF1)
            row("macro F1", m.macroF1, b.macroF1)
            lines.append("")
            lines.append("class                                         AP  precision  recall     F1  support")
            for c in classes.indices {
                lines.append("\(classes[c].padding(toLength: 40, withPad: " ", startingAt: 0)) \(pct(m.averagePrecision[c]))     \(pct(m.precision[c]))  \(pct(m.recall[c])) \(pct(m.f1[c]))  \(String(format: "%7d", m.support[c]))")
            }
        }
        for note in notes { lines.append("note: \(note)") }
        return lines.joined(separator: "\n")
    }
}
