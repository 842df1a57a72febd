import ArgumentParser
import Foundation
import Pipeline

/// `moemae plan SCENE… --out manifest.jsonl`: the scene manifest array tasks share.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Write a scene manifest (JSON Lines) for mapping many scenes as array jobs.",
        discussion: """
        One line per scene, sorted by product id: index, id, source, acquisition time, CRS, grid, estimated \
        tiles and a content hash (schemas/scene-manifest.schema.json); only metadata and raster headers are \
        read. Inputs that cannot be used are listed in <out stem>.rejected.jsonl with the reason, and on stderr. \
        A folder without an MTL of its own is a folder of scenes. STAC Items and ItemCollections (files or \
        URLs) give one line per item (source <collection>#<item id> for a collection's items); remote scene \
        prefixes and MTL URLs (s3://, https://) are read through GDAL (docs/cloud.md). Then: moemae map --manifest M --shard I/N \
        (or under Slurm, Kubernetes, AWS Batch; see docs/scaling.md) and moemae gather.
        """)

    @Argument(help: "Landsat scene folders, MTL files, folders of scene folders, STAC Items or ItemCollections (files or URLs), remote scene prefixes.")
    var scenes: [String]

    @Option(name: .long, help: "Manifest file to write (JSON Lines).")
    var out: String

    func run() throws {
        let plan = SceneManifest.plan(inputs: scenes, warn: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        let rejectedPath = Self.rejectedPath(out)
        let e = JSONEncoder(); e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var rejected = Data()
        for r in plan.rejected {
            rejected.append(try e.encode(r)); rejected.append(0x0A)
            let text = r.error.hasPrefix(r.source) ? r.error : "\(r.source): \(r.error)"
            FileHandle.standardError.write(Data("rejected: \(text)\n".utf8))
        }
        guard !plan.manifest.entries.isEmpty else {
            throw CommandFailure("\(out): no usable scene among the \(scenes.count) input(s); nothing written")
        }
        try writeAtomically(try plan.manifest.jsonLines(), to: out)
        if plan.rejected.isEmpty {
            try? FileManager.default.removeItem(atPath: rejectedPath)   // a list from an earlier plan
        } else {
            try writeAtomically(rejected, to: rejectedPath)
        }
        let tiles = plan.manifest.entries.map(\.estimatedTiles).reduce(0, +)
        print("\(out): \(plan.manifest.entries.count) scenes, \(tiles) estimated tiles")
        if !plan.rejected.isEmpty { print("\(rejectedPath): \(plan.rejected.count) inputs rejected") }
    }

    /// `manifest.jsonl` → `manifest.rejected.jsonl`.
    static func rejectedPath(_ out: String) -> String {
        let ext = (out as NSString).pathExtension
        return ext.isEmpty ? out + ".rejected.jsonl" : (out as NSString).deletingPathExtension + ".rejected.jsonl"
    }
}
