import ArgumentParser
import Foundation
import Pipeline
import Tiling
import Diagnostics

/// `moemae map SCENE... --weights W --probe P --out DIR`: whole scenes → label, expert and score maps.
struct MapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "map",
        abstract: "Map whole Landsat scenes: land-cover labels and expert maps as Cloud Optimized GeoTIFFs.",
        discussion: """
        Streams each scene through reader → tiler → batcher → encoder workers → probe → writer on bounded \
        queues (memory does not grow with the scene). Per scene, in --out: <product>_labels.tif (UInt8, one \
        pixel per 40×40 tile, the scene's CRS, pixel size × 40, nodata 255, colour table and class names), \
        <product>_experts.tif (+ .vrt with per-band palettes: one band per encoder layer, the expert most \
        patch tokens chose first, ties to the lower index), optional token experts, scores and embeddings, \
        <product>.stac.json (STAC Item) and <product>_summary.json; run-summary.json for the run.

        Outputs get their final names only when a scene is complete. Ctrl-C stops cleanly; --resume \
        continues an interrupted run of the same inputs and options. The same job can be written as a \
        pipeline file: moemae run pipelines/NAME.yaml (same option names; schemas/pipeline.schema.json).
        """)

    @Argument(help: "Landsat scenes (Collection 2 Level-2 surface reflectance): folders or MTL files, STAC Items or ItemCollections (files or URLs), remote prefixes s3://… or https://… (docs/cloud.md); or none with --manifest.")
    var scenes: [String] = []

    @OptionGroup(title: "Array jobs (docs/scaling.md)")
    var cluster: ClusterOptions

    @OptionGroup var model: WeightsAndProbeOptions

    @OptionGroup var output: OutputOptions

    @OptionGroup var speed: EncoderSpeedOptions

    @OptionGroup var precision: PrecisionOption

    @Option(name: .long, help: "Capacity of each queue between stages.")
    var queueDepth: Int = MapOptions.defaultQueueDepth

    @Option(name: .long, help: "Skip tiles whose valid fraction (0…1) is below this (nodata 255). Tiles without valid pixels are always skipped.")
    var minValid: Double = 0

    @Option(name: .long, help: "Also write <product>_token_experts.tif for these encoder layers: 'all' or a list like 0,7,14.")
    var tokenExperts: String?

    @Flag(name: .long, help: "Also write <product>_scores.tif (Float32 class probabilities, one band per class).")
    var scores = false

    @Flag(name: .long, help: "Also write <product>_embeddings.tif (Float32, one band per embedding dimension).")
    var embeddings = false

    @Flag(name: .long, help: "Also write PNG quick-looks: <product>_labels.png (labels with a legend of class colours and names), <product>_rgb.png (true colour) and <product>_experts_layer<L>.png for each --token-experts layer.")
    var preview = false

    @Flag(name: .long, help: "Continue an interrupted run of the same inputs and options without recomputing finished tile rows; scenes it already completed are kept as they are.")
    var resume = false

    @OptionGroup var progress: ProgressOptions

    @OptionGroup var input: ModelInputOptions

    @OptionGroup var surfaceReflectance: SurfaceReflectanceOptions

    func options() throws -> MapOptions {
        let files = try model.resolved()
        var o = MapOptions(scenes: scenes, weights: files.weights, probe: files.probe, out: output.out)
        o.workers = speed.workers; o.batchSize = speed.batchSize; o.blasThreads = speed.blasThreads; o.queueDepth = queueDepth
        o.precision = precision.precision
        o.minValid = minValid; o.scores = scores; o.embeddings = embeddings; o.preview = preview; o.resume = resume; o.quiet = progress.quiet
        o.hour = input.hour; o.noMetadata = input.noMetadata; o.allowNonSR = surfaceReflectance.allowNonSr; o.overwrite = output.overwrite
        if let t = tokenExperts { o.tokenExperts = try TokenExpertLayers(parsing: t) }
        return o
    }

    func run() throws {
        if let manifest = cluster.manifest {
            guard scenes.isEmpty else { throw ValidationError("give scenes or --manifest, not both") }
            try cluster.execute(manifest: manifest, base: try options())
            return
        }
        if cluster.isGiven { throw ValidationError("--shard, --shard-count, --index and --lines need --manifest M") }
        if scenes.isEmpty { throw ValidationError("give at least one Landsat scene folder or MTL file, or --manifest M") }
        try MapCommand.execute(try options())
    }

    /// One line on stderr.
    static func note(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

    /// What to do about an output that exists already, in this command's flags.
    static let existingOutputAdvice = "pass --overwrite to replace its outputs, --resume to keep them, or choose another --out"

    /// Runs a map job with signal handling, prints where the maps are. Interruptions exit with 128 + signal
    /// number (130 for Ctrl-C, 143 for SIGTERM); other errors propagate (`error: …`, exit 1, MoEMAECommand.reportFailure).
    static func execute(_ options: MapOptions) throws {
        // A file-size limit (ulimit -f) must surface as a write error (EFBIG), not kill the process.
        signal(SIGXFSZ, SIG_IGN)
        let token = CancellationToken()
        let signals = SignalCancellation(token: token)
        defer { signals.stop() }
        let note: (Notice) -> Void = Advice.print
        do {
            let outcome = try adviseOnExistingOutput(Self.existingOutputAdvice) {
                try MapJob.run(options: options, moemaeVersion: MoEMAECommand.configuration.version, cancellation: token, note: note)
            }
            for scene in outcome.scenes {
                let s = scene.summary
                print("\(s.id): \(s.tilesMapped) of \(s.tilesRead) tiles mapped (\(s.skipped.noValidPixels) without valid pixels, \(s.skipped.belowMinValid) below --min-valid)")
                for f in scene.files where f.hasSuffix(".tif") || f.hasSuffix(".vrt") || f.hasSuffix(".json") || f.hasSuffix(".png") { print("  \(f)") }
            }
            print("run summary: \(options.out.hasPrefix("s3://") ? options.out.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/run-summary.json" : (options.out as NSString).appendingPathComponent("run-summary.json"))")
        } catch let e as NotModelReady {
            throw e.withHint("use a C2 L2 scene, or pass --allow-non-sr to map it anyway (the maps are then not meaningful; see docs/bands.md)")
        } catch let e as PipelineInterrupted {
            let advised = e.completedScenes.isEmpty ? e : e.withHint("run the same command with --resume to map the rest")
            FileHandle.standardError.write(Data("error: \(advised)\n".utf8))
            if case .signal(let s) = e.reason { throw ExitCode(128 + s) }
            throw ExitCode(1)
        } catch is PipelineCancelled {
            // Cancelled outside the stages (before the first scene, while building rasters): same report.
            let reason = token.reason ?? .requested
            FileHandle.standardError.write(Data("error: \(PipelineInterrupted(reason: reason))\n".utf8))
            if case .signal(let s) = reason { throw ExitCode(128 + s) }
            throw ExitCode(1)
        }
    }
}
