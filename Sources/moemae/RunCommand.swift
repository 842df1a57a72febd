import ArgumentParser
import Foundation
import Pipeline

/// `moemae run pipelines/NAME.yaml`: a `map` job described in a YAML file.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a map job described in a pipeline YAML file.",
        discussion: """
        The file is a YAML mapping whose keys are the `moemae map` option names (scenes, weights, probe, out, \
        workers, batch-size, blas-threads, precision, queue-depth, min-valid, token-experts, scores, embeddings, preview, resume, \
        quiet, hour, no-metadata, allow-non-sr, overwrite) plus an optional description; every field is \
        documented in schemas/pipeline.schema.json. Relative paths are relative to the YAML file's folder. \
        The file is validated before anything runs.
        """)

    @Argument(help: "Pipeline file (YAML).")
    var file: String

    @Flag(name: .long, help: "Validate the file and print the resolved options without running.")
    var check = false

    @Flag(name: .long, help: "Set overwrite: true (replace existing outputs) whatever the file says.")
    var overwrite = false

    @Flag(name: .long, help: "Set resume: true (continue an interrupted run) whatever the file says.")
    var resume = false

    @Flag(name: .long, help: "Set quiet: true (no progress) whatever the file says.")
    var quiet = false

    func run() throws {
        var options = try PipelineFile.load(path: file)
        if overwrite { options.overwrite = true }
        if resume { options.resume = true }
        if quiet { options.quiet = true }
        if check {
            print("\(file): valid")
            print("  scenes: \(options.scenes.joined(separator: ", "))")
            print("  weights: \(options.weights)\n  probe: \(options.probe)\n  out: \(options.out)")
            for (k, v) in options.summaryFields.sorted(by: { $0.key < $1.key }) { print("  \(k): \(v)") }
            return
        }
        try MapCommand.execute(options)
    }
}
