import ArgumentParser
import Foundation
import Pipeline

/// `moemae info PATH…`: what a scene, dataset, weights, probe, embeddings, map output or STAC Item is.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe scenes, datasets, weights, probes, embeddings, map outputs and STAC Items.",
        discussion: """
        Recognises each path and prints what it is without reading pixels: a Landsat scene folder or MTL \
        (sensor, date, CRS, bands, model-ready or not, tile count), a dataset folder written by `moemae tile`, \
        encoder weights or a probe (.safetensors), embeddings, a map output folder or its summaries, a STAC \
        Item (.json). --json prints a list with one object per path (schemas/info.schema.json).
        """)

    @Argument(help: "Files or folders to describe.")
    var paths: [String]

    @Flag(name: .long, help: "Print JSON (a list, one object per path; schemas/info.schema.json).")
    var json = false

    func run() throws {
        let infos = try paths.map { try PathInfo.describe($0) }
        if json {
            print(String(decoding: try PathInfo.jsonData(infos), as: UTF8.self))
        } else {
            print(infos.map(\.text).joined(separator: "\n"), terminator: "")
        }
    }
}
