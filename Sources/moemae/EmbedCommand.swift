import ArgumentParser
import Foundation
import Pipeline
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
        // Errors: `error: …`, exit 1 (MoEMAECommand.reportFailure).
        var job = EmbedJob(dataset: dataset, weights: try encoderWeights.resolved(), out: output.out)
        job.config = config; job.tokens = tokens; job.reconstruct = reconstruct; job.maskRatio = maskRatio; job.seed = seed
        job.workers = speed.workers; job.batchSize = speed.batchSize; job.blasThreads = speed.blasThreads
        job.precision = precision.precision
        job.hour = input.hour; job.noMetadata = input.noMetadata; job.allowNonSR = surfaceReflectance.allowNonSr
        job.overwrite = output.overwrite
        let quiet = progress.quiet
        let r: EmbedJob.Outcome
        do {
            r = try adviseOnExistingOutput("choose another --out or pass --overwrite") {
                try job.run(warn: Advice.print,
                            progress: { if !quiet { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } })
            }
        } catch let e as NotModelReady {
            throw e.withHint("pass --allow-non-sr to embed anyway")
        }
        print("wrote \(r.tiles) embeddings (D \(r.dimension)) to \(output.out)")
    }
}
