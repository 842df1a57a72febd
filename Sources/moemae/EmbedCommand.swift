import ArgumentParser
import Foundation
import MoEMAE
import Pipeline
import Probe
import SafeTensors
import Tiling
import Diagnostics

/// `moemae embed DATASET --weights W --out EMBEDDINGS.safetensors`: runs the encoder over a dataset.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Run the MoE-MAE encoder over a tile dataset and write embeddings, CLS tokens and expert routing.",
        discussion: """
        DATASET is a folder written by `moemae tile` or a single shard file with the same tensors (pixels u16 \
        [N,7,40,40], lat, lon, week, hour, optional row/col/scene); a bare shard is read as SR_B1…SR_B7, hour \
        policy utc, metadata present. The hour policy recorded in weights from `moemae pretrain`, else the \
        dataset's, and the dataset's metadata flag decide the model input (docs/model.md); --hour and \
        --no-metadata override them. The output file is written to --out (.safetensors).

        The output safetensors file holds embedding f32 [N,D] (mean of the un-normalised final tokens over all \
        105 tokens), cls f32 [N,D] (token 4), experts u8 [N,L,105,2] (per layer and token the two chosen \
        experts, largest gate first), gates f32 [N,L,105,2], row/col/scene i32 [N] (-1 where the shard has \
        none); with --tokens also tokens f32 [N,105,D] (after the final LayerNorm); with --reconstruct also \
        reconstruction f32 [N,100,112] and reconstruction_mse f32 [N]. Its metadata records weights_sha256, \
        preset, dataset and the model configuration. Shards are streamed one batch at a time, so memory does \
        not grow with the dataset; the file is written under a temporary name and renamed when complete.
        """)

    @Argument(help: "Dataset folder (manifest.json + shards) or a single shard file.")
    var dataset: String

    @OptionGroup var encoderWeights: WeightsOptions

    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: "Model configuration JSON (schemas/model-config.schema.json); default: inferred from the weights.")
    var config: String?

    @Flag(name: .long, help: "Also write the normalised tokens [N,105,D] (large: 60 KB per tile for S).")
    var tokens = false

    @Flag(name: .long, help: "Also write the decoder's reconstruction [N,100,112] and its mean squared error [N].")
    var reconstruct = false

    @Option(name: .long, help: "Mask ratio for --reconstruct (0 keeps every patch; 0.75 keeps 25).")
    var maskRatio: Double?

    @Option(name: .long, help: "Seed of the random masks (with --mask-ratio).")
    var seed: UInt64 = 0

    @OptionGroup var speed: EncoderSpeedOptions

    @OptionGroup var input: ModelInputOptions

    @OptionGroup var surfaceReflectance: SurfaceReflectanceOptions

    @OptionGroup var precision: PrecisionOption

    @OptionGroup var progress: ProgressOptions

    func validate() throws {
        if let r = maskRatio {
            guard reconstruct else { throw ValidationError("--mask-ratio only applies with --reconstruct") }
            guard r >= 0 && r < 1 else { throw ValidationError("--mask-ratio must lie in [0, 1), got \(r)") }
        }
    }

    func run() throws {
        try embed()   // errors: `error: …`, exit 1 (MoEMAECommand.reportFailure)
    }

    private func report(_ s: String) {
        if !progress.quiet { FileHandle.standardError.write(Data((s + "\n").utf8)) }
    }

    private func embed() throws {
        let weights = try encoderWeights.resolved(), out = output.out, allowNonSr = surfaceReflectance.allowNonSr
        let workers = speed.workers, blasThreads = speed.blasThreads, batchSize = speed.batchSize
        if FileManager.default.fileExists(atPath: out) && !output.overwrite {
            throw OutputExists(path: out, hint: "choose another --out or pass --overwrite")
        }
        let data = try Dataset(path: dataset)
        if !allowNonSr {
            if data.bands != DatasetManifest.modelBands {
                throw DatasetError(path: dataset, "bands are \(data.bands.joined(separator: ",")), the model expects \(DatasetManifest.modelBands.joined(separator: ",")) (Collection 2 Level-2 surface reflectance); pass --allow-non-sr to embed anyway")
            }
            if let bad = data.manifest?.scenes.first(where: { !$0.modelReady }) {
                throw DatasetError(path: dataset, "scene \(bad.id) is not model_ready (not Collection 2 Level-2 SR_B1…SR_B7); pass --allow-non-sr to embed anyway")
            }
        }
        if allowNonSr {
            // docs/bands.md: with --allow-non-sr the outputs are less reliable, and the command says so.
            let notReady = data.manifest?.scenes.filter { !$0.modelReady }.map(\.id) ?? []
            if data.bands != DatasetManifest.modelBands || !notReady.isEmpty {
                let what = data.bands != DatasetManifest.modelBands ? "bands \(data.bands.joined(separator: ","))"
                    : "scene(s) \(notReady.prefix(3).joined(separator: ", "))\(notReady.count > 3 ? ", …" : "") not model_ready"
                FileHandle.standardError.write(Data("warning: \(dataset): \(what); embedded anyway because of --allow-non-sr: the model was trained on Collection 2 Level-2 SR_B1…SR_B7, so these embeddings are not meaningful\n".utf8))
            }
        }
        let modelConfig = try config.map { try ModelConfig.load(path: $0) }
        let model = try MoEMAEModel.load(path: weights, config: modelConfig).converted(to: precision.precision)
        let cfg = model.config
        guard data.bands.count == cfg.inChannels, data.tileSize == cfg.imageSize else {
            throw DatasetError(path: dataset, "tiles are \(data.bands.count)×\(data.tileSize)×\(data.tileSize), the model takes \(cfg.inChannels)×\(cfg.imageSize)×\(cfg.imageSize)")
        }
        if reconstruct && model.decoder == nil {
            throw ModelError.invalidInput("\(weights) has no decoder (decoder_* keys); --reconstruct needs the full encoder+decoder weights")
        }
        let hash = try FileDigest.sha256(ofFile: weights)
        // Weights written by `moemae pretrain` record the normalisation and hour policy they were trained
        // with: those are used. Others (e.g. imported published weights): BigEarthNet statistics and the
        // dataset's hour policy. --hour and --no-metadata override.
        let trained = try WeightsMetadata.read(path: weights)
        var encoding = trained?.inputEncoding ?? InputEncoding()
        encoding.hour = input.hour.flatMap { HourEncoding(rawValue: $0.rawValue) }
            ?? trained?.hour ?? (data.hourPolicy == .published ? .published : .utc)
        encoding.metadata = data.hasMetadata && !input.noMetadata

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
                    "config": configJSON, "hour_policy": encoding.hour.rawValue, "metadata": encoding.metadata ? "true" : "false", "precision": precision.precision.rawValue,
                    "feature": "embedding = mean of un-normalised final-block tokens over all \(t) tokens"]
        if reconstruct { meta["mask_ratio"] = String(maskRatio ?? 0); meta["mask_seed"] = String(seed) }
        let writer = try SafeTensorsStreamWriter(path: out, tensors: specs, metadata: meta)
        BLAS.setThreads(blasThreads)   // process-wide: once, for the whole job
        let engine = InferenceEngine(model: model, workers: workers)
        let kept = PatchMask.keptCount(ratio: maskRatio ?? 0, patchCount: p)
        report("embedding \(n) tiles from \(data.shardPaths.count) shard(s) with \(cfg.preset) (D \(d), \(l) layers), \(workers) worker(s) × \(blasThreads) BLAS thread(s), \(precision.precision.rawValue)")
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
                    report(String(format: "shard %d/%d: %d/%d tiles (%.0f tiles/s)", si + 1, shardCounts.count, total, n, rate))
                }
                done += count
            }
            try writer.finish()
        } catch {
            writer.abort()
            throw error
        }
        print("wrote \(n) embeddings (D \(d)) to \(out)")
    }
}
