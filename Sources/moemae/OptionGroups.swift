import ArgumentParser
import Diagnostics
import Foundation
import Pipeline
import Landsat
import Tiling

// Options that several subcommands take, declared once: the same names, help and validation in every
// command that includes them with `@OptionGroup`. A command's own options stay in its file.

/// `--workers`, `--batch-size`, `--blas-threads`: how the encoder runs (`map`, `embed`). Defaults and
/// ranges are ``MapOptions``'s (also used by pipeline files), measured in docs/performance.md.
struct EncoderSpeedOptions: ParsableArguments {
    @Option(name: .long, help: "Encoder workers running batches in parallel (each with its own workspace).")
    var workers: Int = MapOptions.defaultWorkers

    @Option(name: .long, help: "Tiles per encoder batch.")
    var batchSize: Int = MapOptions.defaultBatchSize

    @Option(name: .long, help: "OpenBLAS threads per encoder worker.")
    var blasThreads: Int = MapOptions.defaultBLASThreads

    func validate() throws {
        do {
            try MapOptions.validateEncoderSettings(workers: workers, batchSize: batchSize, blasThreads: blasThreads)
        } catch let e as MapOptionsError {
            throw ValidationError(Advice.render(e))
        }
    }
}

/// `--workers` of the training commands (`pretrain`, `bench train`): each batch is split over this many
/// threads, each with single-threaded OpenBLAS. `--threads` is its hidden old name.
struct TrainingWorkersOptions: ParsableArguments {
    @Option(help: "Workers: each batch is split over this many threads, each with single-threaded OpenBLAS (default: 2).")
    var workers: Int?

    /// The old name of --workers, still accepted so existing commands keep working.
    @Option(help: .hidden)
    var threads: Int?

    /// Worker threads: --workers, else the old --threads, else 2.
    var count: Int { workers ?? threads ?? 2 }

    func validate() throws {
        if workers != nil && threads != nil { throw ValidationError("--threads is the old name of --workers; give only --workers") }
        if let n = workers ?? threads, n < 1 { throw ValidationError("--workers must be at least 1") }
    }
}

/// `--overwrite`: replace an existing output instead of refusing it (every command that writes).
struct OverwriteOptions: ParsableArguments {
    @Flag(name: .long, help: "Replace an existing output instead of refusing it.")
    var overwrite = false
}

/// `--out`, `--overwrite`: where a command writes, and whether an existing output may be replaced.
/// What `--out` is (a file or a folder) is said in each command's overview.
struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: "Output file or folder (see OVERVIEW); an existing one is refused unless --overwrite.")
    var out: String

    @OptionGroup var replace: OverwriteOptions

    var overwrite: Bool { replace.overwrite }
}

/// `--quiet`: no progress lines on stderr (results, warnings and errors are still printed).
struct ProgressOptions: ParsableArguments {
    @Flag(name: .long, help: "Print no progress.")
    var quiet = false
}

/// `--hour`, `--no-metadata`: the model's metadata input (`tile`, `embed`, `map`, `pretrain`).
struct ModelInputOptions: ParsableArguments {
    @Option(name: .long, help: "Hour policy for the model's hour input: utc (true UTC hour) or published (the published pretraining's floor(hour)/10). Default: the policy recorded with the inputs (tile: utc; embed: the weights', else the dataset's; map: the probe's, else the weights', else utc; pretrain: the datasets').")
    var hour: HourPolicy?

    @Flag(name: .long, help: "Zero the metadata vectors (week, hour, lat, lon), as the published EuroSAT evaluation did.")
    var noMetadata = false
}

/// `--allow-non-sr`: accept inputs that are not Collection 2 Level-2 surface reflectance SR_B1…SR_B7
/// (`embed`, `map`), with a warning that the results are not meaningful for the published weights.
struct SurfaceReflectanceOptions: ParsableArguments {
    @Flag(name: .long, help: "Accept inputs that are not Collection 2 Level-2 surface reflectance SR_B1…SR_B7 (results are not meaningful for the published weights).")
    var allowNonSr = false
}

/// `--weights`: the encoder weights a command runs; left out, the bundled demonstration model
/// (``BundledModel``: next to the executable, then PREFIX/share/moemae, then $MOEMAE_MODEL_DIR).
struct WeightsOptions: ParsableArguments {
    @Option(name: .long, help: "Encoder weights (safetensors with the published state-dict keys); default: the bundled demonstration model (docs/model-card.md).")
    var weights: String?

    /// --weights, else the bundled model's weights (one note on stderr); throws naming where it looked.
    func resolved() throws -> String {
        try BundledModel.resolve(weights: weights, probe: nil, needsProbe: false, note: MapCommand.note).weights
    }
}

/// `--weights`, `--probe`: the encoder and the linear probe fitted on it (`map`); left out, the bundled
/// demonstration model and its 19-class BigEarthNet probe.
struct WeightsAndProbeOptions: ParsableArguments {
    @OptionGroup var model: WeightsOptions

    @Option(name: .long, help: "Linear probe (safetensors from `moemae probe fit` or `probe import`), fitted on these weights; default: the bundled 19-class BigEarthNet probe.")
    var probe: String?

    /// The files given, the bundled model's for those left out (one note on stderr); throws naming where it looked.
    func resolved() throws -> (weights: String, probe: String) {
        try BundledModel.resolve(weights: model.weights, probe: probe, note: MapCommand.note)
    }
}
