import ArgumentParser
import Foundation
import Pipeline
import Landsat
import Tiling
import Diagnostics

/// `moemae tile SCENE... --out DIR`: Landsat scenes (or a BigEarthNet patch folder) → dataset folder.
struct TileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tile",
        abstract: "Cut Landsat scenes into 40×40 tiles with geo-temporal metadata and write a dataset folder.",
        discussion: """
        Each SCENE is a Landsat scene folder (band GeoTIFFs next to their *_MTL.txt/.json/.xml), an MTL \
        file, or a BigEarthNet-style folder with images/ and labels/ (one tile per patch: the centre 40×40 \
        crop; metadata from the label file's acquisition_date and the centre of the whole patch).

        The dataset folder holds tiles-00000.safetensors, … (pixels u16 [N,7,40,40], valid u8 [N,40,40], \
        lat/lon f64, week i32, hour f32 = true UTC hour, row/col/scene i32, valid_fraction f32), \
        manifest.json (schemas/dataset-manifest.schema.json) and tiles.gpkg (one polygon per tile). It is \
        written under a temporary name and renamed when complete; --overwrite replaces an earlier dataset \
        folder, never a file or a folder that is not a moemae dataset. --hour is the policy recorded for the \
        model (default utc); the stored hour is always the true UTC hour.
        """)

    @Argument(help: "Landsat scene folders or MTL files, STAC Items or ItemCollections (files or URLs), remote prefixes s3://… or https://… (docs/cloud.md), or BigEarthNet-style folders (images/ + labels/).")
    var scenes: [String]

    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: "Tile edge in pixels (the model expects 40).")
    var tileSize: Int = 40

    @Option(name: .long, help: "Partial right/bottom tiles: pad (fill, flagged invalid) or drop.")
    var edge: EdgePolicy = .pad

    @Option(name: .long, help: "Skip tiles whose valid fraction (0…1) is below this.")
    var minValid: Double = 0

    /// --hour is recorded in the manifest (the stored hour is always the true UTC hour); --no-metadata
    /// writes zeros for lat/lon/week/hour.
    @OptionGroup var input: ModelInputOptions

    @Option(name: .long, help: "Maximum tiles per shard.")
    var shardSize: Int = 4096

    @Option(name: .long, help: "safetensors (shards) or geotiff (images/<id>_<row>_<col>.tif + labels/…_metadata.json).")
    var format: DatasetLayout = .safetensors

    @OptionGroup var progress: ProgressOptions

    func validate() throws {
        guard shardSize >= 1 else { throw ValidationError("--shard-size must be at least 1 tile (got \(shardSize))") }
    }

    /// What to do about an existing output, in this command's flags.
    static let existingOutputAdvice = "choose another --out folder or pass --overwrite to replace it"

    func run() throws {
        let recorded = ModelInputResolver.tiling(hour: input.hour, noMetadata: input.noMetadata)
        let options = TilingOptions(tileSize: tileSize, edge: edge, minValid: minValid, hourPolicy: recorded.hour, metadata: recorded.metadata)
        // Ctrl-C / SIGTERM: stop at the next tile row, remove the temporary folder, exit 130 / 143.
        let token = CancellationToken()
        let signals = SignalCancellation(token: token)
        defer { signals.stop() }
        do {
            try options.validate()
            let out = output.out, quiet = progress.quiet
            if FileManager.default.fileExists(atPath: out) && !output.overwrite {
                throw OutputExists(path: out, hint: Self.existingOutputAdvice)
            }
            // The library decides what each path is (scene folder, MTL file, BigEarthNet folder, STAC Item or
            // collection, remote prefix: Tiling.SceneInput).
            let inputs = try SceneInputs.open(paths: scenes, tileSize: tileSize)
            for w in inputs.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
            if !quiet { for n in inputs.notes { FileHandle.standardError.write(Data("note: \(n)\n".utf8)) } }
            let sources = try inputs.sources()
            var written = 0
            let manifest = try DatasetBuilder.build(sources: sources, output: out, options: options, layout: format, shardSize: shardSize,
                                                    overwrite: output.overwrite, progress: { scene, row, rows, tiles in
                written = tiles
                guard !quiet else { return }
                // Many small scenes (patch folders): one line every 50 scenes; few big ones: every 20 tile rows.
                let report = sources.count > 20 ? (row == rows - 1 && (scene + 1) % 50 == 0) : (row % 20 == 0 || row == rows - 1)
                if report {
                    FileHandle.standardError.write(Data("\(sources[scene].id) (\(scene + 1)/\(sources.count)): tile row \(row + 1)/\(rows), \(tiles) tiles written\n".utf8))
                }
            }, isCancelled: { token.isCancelled })
            print("wrote \(written) tiles of \(manifest.scenes.count) scene(s) to \(out)")
        } catch let e as TilingError {
            if case .signal(let s) = token.reason {
                FileHandle.standardError.write(Data("error: \(output.out): \(signalName(s)) received; stopped and removed the unfinished dataset\n".utf8))
                throw ExitCode(128 + s)
            }
            throw e
        }
    }
}

extension EdgePolicy: ExpressibleByArgument {}
extension HourPolicy: ExpressibleByArgument {}
extension DatasetLayout: ExpressibleByArgument {}
