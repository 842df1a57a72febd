import ArgumentParser

/// `moemae`: Landsat scenes → 40×40 tiles → MoE-MAE embeddings → land-cover and expert maps.
@main
struct MoEMAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moemae",
        abstract: "Tile Landsat scenes, run the MoE-MAE encoder, and write land-cover and expert maps.",
        version: "0.1.0",
        subcommands: [
            // Each subcommand lives in its own file: <Name>Command.swift.
            TileCommand.self,
            ProbeCommand.self,
            MapCommand.self,
            RunCommand.self,
            PretrainCommand.self,
            EmbedCommand.self,
            BenchCommand.self,
            WeightsCommand.self,
        ]
    )
}
