import ArgumentParser
import Foundation

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
            PlanCommand.self,
            GatherCommand.self,
            RunCommand.self,
            PretrainCommand.self,
            EmbedCommand.self,
            BenchCommand.self,
            WeightsCommand.self,
            InfoCommand.self,
        ]
    )

    /// Parses the command line and runs the chosen subcommand; the one place where errors become exit
    /// statuses, so every subcommand reports them alike (see ``reportFailure(_:)``).
    static func main() {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            printHelpWithExamples(error)
            exit(withError: error)   // usage errors, --version: ArgumentParser's text and status
        }
        do {
            try command.run()
        } catch {
            reportFailure(error)
        }
    }

    /// `--help` and `help SUB` (ArgumentParser parses both into its HelpCommand, whose run throws the
    /// help request): ArgumentParser's help text, then the command's examples (``HelpExamples``), exit 0.
    /// Returns for anything else.
    static func printHelpWithExamples(_ error: Error) {
        guard !(error is ExitCode), exitCode(for: error) == .success else { return }
        let text = fullMessage(for: error)
        guard let examples = HelpExamples.section(forHelp: text) else { return }
        print(text.hasSuffix("\n") ? text : text + "\n")
        print(examples)
        Foundation.exit(0)
    }

    /// Reports an error thrown while a subcommand runs and exits.
    /// - `ExitCode` (the command already reported, e.g. 130 after Ctrl-C) and ArgumentParser's own outcomes
    ///   (`CleanExit`, help, a `ValidationError` = a usage error: `Error: …` with the usage text, status 64),
    ///   i.e. whatever ArgumentParser does not count as a plain failure, go to ArgumentParser.
    /// - Anything else is a runtime error (bad file, conflicting inputs): one line `error: <description>` on
    ///   stderr (the description names the file and what is wrong; ``Advice`` adds the flags for the
    ///   settings that fix it), exit status 1.
    static func reportFailure(_ error: Error) -> Never {
        if error is ExitCode || exitCode(for: error) != .failure {
            printHelpWithExamples(error)
            exit(withError: error)
        }
        FileHandle.standardError.write(Data("error: \(Advice.render(error))\n".utf8))
        Foundation.exit(1)
    }
}

/// A runtime error of the command line itself (not of a library module): its description is the whole
/// message, naming the file or option and what is wrong; reported as `error: …`, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
