import Diagnostics
import Foundation
import Landsat
import MoEMAE
import Probe
import SafeTensors
import Tiling

/// `moemae embed` as a library call: runs the encoder over a tile dataset and writes an embeddings file
/// (read back by Probe's ``EmbeddingTable``).
///
/// The file holds embedding f32 [N,D] (mean of the un-normalised final tokens over all tokens), cls
/// f32 [N,D] (token 4), experts u8 [N,L,T,2] and gates f32 [N,L,T,2] (per layer and token the two
/// chosen experts, largest gate first), row/col/scene i32 [N] (-1 where the shard has none); with
/// ``tokens`` also tokens f32 [N,T,D] (after the final LayerNorm); with ``reconstruct`` also
/// reconstruction f32 [N,P,F] and reconstruction_mse f32 [N]. Its metadata records weights_sha256,
/// preset, dataset, the model configuration and the model-input encoding (hour_policy, metadata).
/// Shards are streamed one batch at a time; the file is written under a temporary name and renamed
/// when complete.
public struct EmbedJob: Sendable {
    /// Dataset folder written by `moemae tile`, or a single shard file.
    public var dataset: String
    /// Encoder weights (safetensors).
    public var weights: String
    /// Output embeddings file (.safetensors).
    public var out: String
    /// Model configuration JSON; nil: inferred from the weights.
    public var config: String?
    public var tokens = false
    public var reconstruct = false
    /// Mask ratio for ``reconstruct`` (nil: every patch kept), masks drawn with ``seed``.
    public var maskRatio: Double?
    public var seed: UInt64 = 0
    public var workers = MapOptions.defaultWorkers
    public var batchSize = MapOptions.defaultBatchSize
    public var blasThreads = MapOptions.defaultBLASThreads
    /// Number format of the encoder's matrix products (``Precision``; bf16 needs AVX512_BF16).
    public var precision: Precision = .fp32
    /// Hour policy; nil: the weights', else the dataset's (``ModelInputResolver``).
    public var hour: HourPolicy?
    public var noMetadata = false
    /// Accept datasets that are not Collection 2 Level-2 SR_B1…SR_B7 (with a warning).
    public var allowNonSR = false
    public var overwrite = false

    public init(dataset: String, weights: String, out: String) {
        self.dataset = dataset; self.weights = weights; self.out = out
    }

    /// What was written.
    public struct Outcome: Sendable {
        /// N tiles, D embedding dimension.
        public var tiles: Int
        public var dimension: Int
    }

    /// Runs the job. `warn` gets warnings (one line, no prefix), `progress` progress lines.
    /// Throws naming the file concerned: existing output without ``overwrite``, unreadable dataset or
    /// weights, a dataset that is not model-ready (unless ``allowNonSR``), tiles of another shape than
    /// the model's, ``reconstruct`` with weights without a decoder.
    @discardableResult
    public func run(warn: (Notice) -> Void = { _ in }, progress: (String) -> Void = { _ in }) throws -> Outcome {
        if !overwrite { try OutputExists.refuse(out) }
        let data = try Dataset(path: dataset)
        try ModelInputResolver.checkDataset(data, path: dataset, allowNonSR: allowNonSR, warn: warn)
        let modelConfig = try config.map { try ModelConfig.load(path: $0) }
        let model = try MoEMAEModel.load(path: weights, config: modelConfig).converted(to: precision)
        let cfg = model.config
        guard data.bands.count == cfg.inChannels, data.tileSize == cfg.imageSize else {
            throw DatasetError(path: dataset, "tiles are \(data.bands.count)×\(data.tileSize)×\(data.tileSize), the model takes \(cfg.inChannels)×\(cfg.imageSize)×\(cfg.imageSize)")
        }
        if reconstruct && model.decoder == nil {
            throw ModelError.invalidInput("\(weights) has no decoder (decoder_* keys); reconstructions need the full encoder+decoder weights")
        }
        let hash = try FileDigest.sha256(ofFile: weights)
        let encoding = ModelInputResolver.forDataset(data, trained: try WeightsMetadata.read(path: weights), hour: hour,
                                                     noMetadata: noMetadata).encoding
        // Count tiles (headers only) so the output can be declared up front.
        var shardCounts: [Int] = []
        for i in data.shardPaths.indices { shardCounts.append(try data.shard(i).count) }
        let n = shardCounts.reduce(0, +)
        let d = cfg.embedDim, l = cfg.depth, t = cfg.tokenCount, p = cfg.patchCount, f = cfg.patchFeatures
        var specs = [TensorSpec("embedding", .f32, [n, d]), TensorSpec("cls", .f32, [n, d]),
                     TensorSpec("experts", .u8, [n, l, t, 2]), TensorSpec("gates", .f32, [n, l, t, 2]),
                     TensorSpec("row", .i32, [n]), TensorSpec("col", .i32, [n]), TensorSpec("scene", .i32, [n])]
        if tokens { specs.append(TensorSpec("tokens", .f32, [n, t, d])) }
        if reconstruct {
            specs.append(TensorSpec("reconstruction", .f32, [n, p, f]))
            specs.append(TensorSpec("reconstruction_mse", .f32, [n]))
        }
        let configJSON = String(decoding: try cfg.jsonData(), as: UTF8.self)
        var meta = ["format": "moemae-embeddings", "weights_sha256": hash, "preset": cfg.preset, "dataset": dataset,
                    "config": configJSON, "hour_policy": encoding.hour.rawValue, "metadata": encoding.metadata ? "true" : "false", "precision": precision.rawValue,
                    "feature": "embedding = mean of un-normalised final-block tokens over all \(t) tokens"]
        if reconstruct { meta["mask_ratio"] = String(maskRatio ?? 0); meta["mask_seed"] = String(seed) }
        let writer = try SafeTensorsStreamWriter(path: out, tensors: specs, metadata: meta)
        BLAS.setThreads(blasThreads)   // process-wide: once, for the whole job
        let engine = InferenceEngine(model: model, workers: workers)
        let kept = PatchMask.keptCount(ratio: maskRatio ?? 0, patchCount: p)
        progress("embedding \(n) tiles from \(data.shardPaths.count) shard(s) with \(cfg.preset) (D \(d), \(l) layers), \(workers) worker(s) × \(blasThreads) BLAS thread(s), \(precision.rawValue)")
        let start = Date()
        var done = 0
        do {
            for (si, count) in shardCounts.enumerated() {
                let shard = try data.shard(si)
                let week = try shard.week(), hour = try shard.hour(), lat = try shard.lat(), lon = try shard.lon()
                let extras = try ["row", "col", "scene"].map { try shard.optionalInts($0) }
                var b0 = 0
                while b0 < count {
                    let range = b0..<min(count, b0 + batchSize)
                    let batch = try EncoderBatch(dn: try shard.pixels(range), channels: cfg.inChannels,
                                                 pixelsPerBand: cfg.imageSize * cfg.imageSize,
                                                 week: Array(week[range]), hour: Array(hour[range]),
                                                 lat: Array(lat[range]), lon: Array(lon[range]), encoding: encoding)
                    let r = try engine.encode(batch, outputs: tokens ? [.tokensLN] : [])
                    let at = done + range.lowerBound
                    try writer.write("embedding", r.embedding, at: at * d)
                    try writer.write("cls", r.cls, at: at * d)
                    try writer.write("experts", r.experts, at: at * l * t * 2)
                    try writer.write("gates", r.gates, at: at * l * t * 2)
                    for (name, column) in zip(["row", "col", "scene"], extras) {
                        let values = column.map { c in range.map { Int32(truncatingIfNeeded: c[$0]) } } ?? [Int32](repeating: -1, count: range.count)
                        try writer.write(name, values, at: at)
                    }
                    if tokens, let tk = r.tokensLN { try writer.write("tokens", tk, at: at * t * d) }
                    if reconstruct {
                        let keep: [Int32]? = maskRatio.map { _ in
                            range.flatMap { PatchMask.keep(tileIndex: done + $0, seed: seed, patchCount: p, kept: kept) }
                        }
                        let rec = try engine.reconstruct(batch, keep: keep, kept: kept)
                        try writer.write("reconstruction", rec.prediction, at: at * p * f)
                        try writer.write("reconstruction_mse", rec.mse, at: at)
                    }
                    b0 = range.upperBound
                    let total = done + b0
                    let rate = Double(total) / max(Date().timeIntervalSince(start), 1e-9)
                    progress(String(format: "shard %d/%d: %d/%d tiles (%.0f tiles/s)", si + 1, shardCounts.count, total, n, rate))
                }
                done += count
            }
            try writer.finish()
        } catch {
            writer.abort()
            throw error
        }
        return Outcome(tiles: n, dimension: d)
    }
}
