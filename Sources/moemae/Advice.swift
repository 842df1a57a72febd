import Diagnostics
import Foundation

/// How the command line names the libraries' ``Setting``s: every setting is an option of the same name
/// (`min-valid` → `--min-valid`). The one place where library errors, warnings and notes get their flags.
extension Setting {
    /// The flag that sets it.
    var flag: String { "--" + rawValue }
}

enum Advice {
    /// The flags of `settings`: ` (option --min-valid)`, ` (options --shard, --shard-count)`, or empty for
    /// none. With `actions` (errors), the settings that are a way out get a sentence instead:
    /// `; pass --overwrite to replace it`.
    static func text(for settings: [Setting], actions withActions: Bool = true) -> String {
        var options: [String] = []
        var actions: [String] = []
        for s in settings {
            switch (s, withActions) {
            case (.overwrite, true): actions.append("pass --overwrite to replace it")
            case (.resume, true): actions.append("run the same command with --resume to continue")
            case (.allowNonSR, true): actions.append("pass --allow-non-sr to use it anyway (the results are then not meaningful; docs/bands.md)")
            default: options.append(s.flag)
            }
        }
        var out = options.isEmpty ? "" : " (option\(options.count == 1 ? "" : "s") \(options.joined(separator: ", ")))"
        if !actions.isEmpty { out += "; " + actions.joined(separator: "; ") }
        return out
    }

    /// An error as the command line reports it: the library's diagnosis and, when settings fix it, the
    /// advice with their flags; any other error as it describes itself.
    static func render(_ error: Error) -> String {
        guard let d = error as? DiagnosedError, !d.settings.isEmpty else { return "\(error)" }
        return d.diagnosis + text(for: d.settings)
    }

    /// A library warning or note as one line: `warning: <message> (option --x)` or `<message> (option --x)`;
    /// a note whose setting is a way out gets its sentence (`--resume`).
    static func render(_ notice: Notice) -> String {
        (notice.level == .warning ? "warning: " : "") + notice.message + text(for: notice.settings, actions: notice.level == .note)
    }

    /// Writes `notice` to stderr (one line).
    static func print(_ notice: Notice) {
        FileHandle.standardError.write(Data((render(notice) + "\n").utf8))
    }
}
