/// A setting of a job, named by a library in an error, a warning or a note without spelling how a front
/// end sets it. The identifiers are the option names of pipeline files and run summaries (`min-valid`,
/// `overwrite`); the command line renders each as its flag (`--min-valid`, `moemae`'s `Advice.swift`), a
/// library caller reads it as the property it set (`MapOptions.minValid`).
///
/// This is the one way a library says "a setting fixes (or caused) this": ``DiagnosedError/settings``
/// for errors, ``Notice/settings`` for warnings and notes. Messages themselves never name flags.
public enum Setting: String, Sendable, Equatable, Hashable, CaseIterable {
    // Outputs and runs.
    case out, overwrite, resume
    // Model and its inputs.
    case weights, probe, config, precision, hour
    case noMetadata = "no-metadata"
    case allowNonSR = "allow-non-sr"
    // Encoder speed.
    case workers
    case batchSize = "batch-size"
    case blasThreads = "blas-threads"
    case queueDepth = "queue-depth"
    // What is mapped or tiled.
    case minValid = "min-valid"
    case tokenExperts = "token-experts"
    case tileSize = "tile-size"
    case shardSize = "shard-size"
    case edge, format
    // Probes and labels.
    case classes, threshold, feature
    case classField = "class-field"
    case minFraction = "min-fraction"
    // Cluster runs and gather.
    case manifest, shard, index, lines
    case shardCount = "shard-count"
    case mosaicCRS = "mosaic-crs"
    case resolution

    /// The library's rendering of settings: ` (setting: min-valid)`, ` (settings: min-valid, edge)`, or
    /// empty for none.
    public static func mention(_ settings: [Setting]) -> String {
        settings.isEmpty ? "" : " (setting\(settings.count == 1 ? "" : "s"): \(settings.map(\.rawValue).joined(separator: ", ")))"
    }
}

/// A warning or note of a library job, one line: what happened (in the library's words) and the settings
/// concerned (the one that caused it, or those that change it). The command line prints it with its
/// flags; a library caller may print ``description``. Written from a string literal it is a note
/// without settings, so `note("\(id): resuming")` needs no ceremony.
public struct Notice: Sendable, Equatable, CustomStringConvertible, ExpressibleByStringInterpolation {
    public enum Level: String, Sendable { case note, warning }
    public var level: Level
    public var message: String
    public var settings: [Setting]

    public init(_ level: Level, _ message: String, settings: [Setting] = []) {
        self.level = level; self.message = message; self.settings = settings
    }
    /// A note.
    public init(_ message: String, settings: [Setting] = []) { self.init(.note, message, settings: settings) }
    public static func warning(_ message: String, settings: [Setting] = []) -> Notice { Notice(.warning, message, settings: settings) }

    public init(stringLiteral value: String) { self.init(.note, value) }
    public init(stringInterpolation: DefaultStringInterpolation) { self.init(.note, String(stringInterpolation: stringInterpolation)) }

    /// `warning: <message> (setting: …)` for warnings, `<message> (setting: …)` for notes.
    public var description: String {
        (level == .warning ? "warning: " : "") + message + Setting.mention(settings)
    }
}
