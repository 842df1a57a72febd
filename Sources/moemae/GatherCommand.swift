import ArgumentParser
import Foundation
import Pipeline

/// `moemae gather DIR --manifest M`: Collection, missing lines, mosaics.
struct GatherCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gather",
        abstract: "Catalogue the scenes array tasks mapped: STAC Collection, missing lines, per-CRS mosaics.",
        discussion: """
        Reads each manifest scene's STAC Item in DIR (no pixels) and writes collection.json, missing.json \
        (lines without a finished Item and the commands that resubmit exactly those), and VRT mosaics of \
        labels and experts per CRS (mosaic-labels-EPSG-<code>.vrt). With --mosaic-crs and --resolution it \
        also warps every scene into one Cloud Optimized GeoTIFF per product (nearest neighbour; colour table \
        and class names kept). Exit status 0 even when lines are missing (they are listed); see docs/scaling.md.
        """)

    @Argument(help: "Output folder of moemae map --manifest.")
    var directory: String

    @Option(name: .long, help: "The manifest the scenes were mapped from (moemae plan).")
    var manifest: String

    @Option(name: .long, help: "Collection id.")
    var collectionId = "moemae-maps"

    @Flag(name: .long, help: "Write no VRT mosaics.")
    var noVrt = false

    @Option(name: .long, help: "Also warp all scenes into one COG per product in this CRS (e.g. EPSG:3035).")
    var mosaicCrs: String?

    @Option(name: .long, help: "Pixel size of the --mosaic-crs COGs in that CRS's units.")
    var resolution: Double?

    @Option(name: .long, help: "Slurm array script named in the resubmission command.")
    var slurmScript = "deploy/slurm/map-array.sbatch"

    func run() throws {
        var o = Gather.Options(directory: directory, manifest: manifest)
        o.collectionID = collectionId; o.vrt = !noVrt; o.mosaicCRS = mosaicCrs; o.resolution = resolution
        let (manifest, directory, slurmScript) = (manifest, directory, slurmScript)
        o.resubmitCommands = { lines in
            let list = ShardPlan.compactList(lines)
            return [
                "slurm": "sbatch --array=\(list) --export=ALL,MOEMAE_BY_LINE=1 \(slurmScript)",
                "kubernetes": "MOEMAE_LINES=\(list) with completions: \(lines.count) (deploy/kubernetes/map-indexed-job.yaml: moemae map --manifest M --lines $MOEMAE_LINES --shard-count \(lines.count))",
                "aws_batch": "array size \(lines.count), AWS_BATCH_JOB_ARRAY_SIZE=\(lines.count), command moemae map --manifest M --lines \(list)",
                "local": "moemae map --manifest \(manifest) --out \(directory) --lines \(list) --weights W --probe P",
            ]
        }
        let outcome = try Gather.run(o) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        let m = outcome.missing
        print("\(outcome.collectionPath): \(outcome.items) of \(m.lines) manifest scenes")
        for f in outcome.mosaics { print("  \(f)") }
        if m.missing.isEmpty {
            print("missing: none")
        } else {
            print("missing: \(m.missing.count) lines: \(m.missing.map { String($0.index) }.joined(separator: ","))")
            for key in m.resubmit.keys.sorted() { print("  resubmit (\(key)): \(m.resubmit[key]!)") }
        }
    }
}
