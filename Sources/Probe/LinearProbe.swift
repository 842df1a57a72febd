import Foundation
import Landsat
import MoEMAE
import SafeTensors

/// A linear head on tile embeddings: `logits = W·x + b`, with scores the softmax of the logits
/// (``ProbeTask/multiclass``) or their element-wise sigmoid (``ProbeTask/multilabel``).
///
/// File format (`schemas/probe.schema.json`, docs/probes.md): a safetensors file with `weight` F32 [C, D]
/// and `bias` F32 [C], and `__metadata__` keys `task`, `classes` (JSON list of names), `colors` (JSON list
/// of [r, g, b]), `thresholds` (JSON list: C values for multi-label, empty for multi-class), `feature`
/// (`embedding` | `cls`), `weights_sha256` (SHA-256 of the encoder weights file the embeddings came from;
/// empty when unknown), plus `format` = `moemae-probe`, `format_version` = `1` and the optional
/// `class_frequencies` (JSON list: the fraction of training tiles with each class, used for the baseline),
/// `training_tiles`, `C`, `standardized`, `source`.
///
/// How a caller scores embeddings (what `moemae map` does):
///
///     let probe = try LinearProbe(contentsOf: "lc.safetensors")
///     try probe.checkCompatible(dimension: 144, weightsSHA256: embeddingsHash, source: path)
///     let scores = probe.scores(features, count: n)      // [n, C] probabilities
///     let labels = probe.multiclassLabels(scores: scores) // [n] arg-max (or multilabelLabels → [n, C] 0/1)
public struct LinearProbe: Sendable, Equatable {
    public static let formatName = "moemae-probe"
    public static let formatVersion = 1
    /// The threshold given to every class of a multi-label probe unless stated otherwise.
    public static let defaultThreshold = 0.5

    public var task: ProbeTask
    public var classes: [ProbeClass]
    /// C decision thresholds for multi-label probes (a class is predicted when score ≥ threshold); empty
    /// for multi-class probes.
    public var thresholds: [Double]
    public var feature: ProbeFeature
    /// SHA-256 (hex) of the encoder weights file; empty when unknown.
    public var weightsSHA256: String
    /// Embedding dimension D.
    public var dimension: Int
    /// [C, D] row-major.
    public var weight: [Float]
    /// [C].
    public var bias: [Float]
    /// Fraction of training tiles with each class (multi-class: the class distribution), when known.
    public var classFrequencies: [Double]?
    public var trainingTiles: Int?
    /// The regularisation it was fitted with, when fitted by moemae.
    public var C: Double?
    public var standardized: Bool?
    /// Free text: how the probe was made.
    public var source: String?
    /// Hour convention of the model input the training embeddings were computed with (`utc` or
    /// `published`; the embeddings file's `hour_policy`), nil when unknown. `moemae map` encodes scenes
    /// the same way unless `--hour` says otherwise: a probe applied to embeddings of another input
    /// encoding sees other features.
    public var inputHourPolicy: HourPolicy?
    /// Whether the training embeddings' model input carried the week/hour/lat/lon metadata (the
    /// embeddings file's `metadata`; false for datasets tiled with `--no-metadata`), nil when unknown.
    public var inputMetadata: Bool?

    public var classCount: Int { classes.count }

    public init(task: ProbeTask, classes: [ProbeClass], thresholds: [Double]? = nil, feature: ProbeFeature,
                weightsSHA256: String, dimension: Int, weight: [Float], bias: [Float],
                classFrequencies: [Double]? = nil, trainingTiles: Int? = nil, C: Double? = nil,
                standardized: Bool? = nil, source: String? = nil) {
        precondition(weight.count == classes.count * dimension && bias.count == classes.count)
        self.task = task; self.classes = classes
        self.thresholds = thresholds ?? (task == .multilabel ? [Double](repeating: Self.defaultThreshold, count: classes.count) : [])
        self.feature = feature; self.weightsSHA256 = weightsSHA256; self.dimension = dimension
        self.weight = weight; self.bias = bias; self.classFrequencies = classFrequencies
        self.trainingTiles = trainingTiles; self.C = C; self.standardized = standardized; self.source = source
    }

    // MARK: Scoring

    /// Class scores of `count` feature vectors `features` ([count, D] row-major): [count, C] row-major,
    /// softmax probabilities (multi-class, rows sum to 1) or sigmoid probabilities (multi-label).
    /// The logits are computed with SGEMM; softmax/sigmoid in Double, rounded to Float.
    public func scores(_ features: [Float], count n: Int) -> [Float] {
        precondition(features.count == n * dimension, "features: \(features.count) values for \(n)×\(dimension)")
        let k = classCount, d = dimension
        guard n > 0 else { return [] }
        var logits = [Float](repeating: 0, count: n * k)
        for i in 0..<n { for c in 0..<k { logits[i * k + c] = bias[c] } }
        features.withUnsafeBufferPointer { x in
            weight.withUnsafeBufferPointer { w in
                logits.withUnsafeMutableBufferPointer { z in
                    BLAS.sgemm(transB: true, m: n, n: k, k: d, a: x.baseAddress!, lda: d, b: w.baseAddress!, ldb: d,
                               beta: 1, c: z.baseAddress!, ldc: k)
                }
            }
        }
        switch task {
        case .multiclass:
            var row = [Double](repeating: 0, count: k)
            for i in 0..<n {
                var m = -Double.infinity
                for c in 0..<k { row[c] = Double(logits[i * k + c]); m = max(m, row[c]) }
                var s = 0.0
                for c in 0..<k { row[c] = Foundation.exp(row[c] - m); s += row[c] }
                for c in 0..<k { logits[i * k + c] = Float(row[c] / s) }
            }
        case .multilabel:
            for j in 0..<(n * k) { logits[j] = Float(sigmoid(Double(logits[j]))) }
        }
        return logits
    }

    /// Arg-max class of each row of `scores` [n, C] (the first on ties).
    public func multiclassLabels(scores: [Float]) -> [Int32] {
        let k = classCount
        return (0..<(scores.count / k)).map { i in
            var best = 0
            for c in 1..<k where scores[i * k + c] > scores[i * k + best] { best = c }
            return Int32(best)
        }
    }

    /// 1 where `scores` [n, C] ≥ the class threshold, else 0.
    public func multilabelLabels(scores: [Float]) -> [UInt8] {
        let k = classCount
        let t = thresholds.count == k ? thresholds : [Double](repeating: Self.defaultThreshold, count: k)
        return scores.indices.map { Double(scores[$0]) >= t[$0 % k] ? 1 : 0 }
    }

    /// Throws unless embeddings of `dimension`, made with the encoder weights whose SHA-256 is
    /// `weightsSHA256`, can be scored by this probe. An empty hash on either side is not checked.
    /// `source` names the embeddings file in the error.
    public func checkCompatible(dimension d: Int, weightsSHA256 hash: String, source: String) throws {
        guard d == dimension else {
            throw ProbeError(path: source, "the embeddings have dimension \(d) but the probe expects \(dimension): it was fitted on embeddings of another encoder preset")
        }
        if !hash.isEmpty && !weightsSHA256.isEmpty && hash.lowercased() != weightsSHA256.lowercased() {
            throw ProbeError(path: source, "the embeddings were made with encoder weights of SHA-256 \(hash) but the probe was fitted on weights \(weightsSHA256); refit the probe on embeddings of these weights")
        }
    }
}
