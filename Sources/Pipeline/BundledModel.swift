import Diagnostics
import Foundation

/// The demonstration encoder and probe shipped with moemae (`models/default/` in the repository,
/// `PREFIX/share/moemae/` once installed by `scripts/install.sh`), used by `map`, `run`, `embed` and
/// `probe predict` when `--weights` / `--probe` are not given. See docs/model-card.md: it shows that the
/// whole path works; it is not a land-cover product.
///
/// Search order (the first folder holding ``weightsFileName`` wins), from the running executable `E`
/// in folder `B`:
/// 1. next to the executable: `B/models/default`, and `ROOT/models/default` when `E` was built inside
///    a checkout `ROOT` by SwiftPM (`ROOT/.build/…/moemae`);
/// 2. under the install prefix `B/..`: `B/../share/moemae`;
/// 3. `$MOEMAE_MODEL_DIR`.
public struct BundledModel: Equatable, Sendable {
    public static let weightsFileName = "weights.safetensors"
    public static let probeFileName = "probe-bigearthnet19.safetensors"
    public static let modelCardFileName = "model-card.md"
    public static let environmentVariable = "MOEMAE_MODEL_DIR"
    /// Where the model card lives in the repository.
    public static let modelCardDocument = "docs/model-card.md"

    /// Folder holding the files.
    public var directory: String
    public var weights: String { (directory as NSString).appendingPathComponent(Self.weightsFileName) }
    public var probe: String { (directory as NSString).appendingPathComponent(Self.probeFileName) }
    /// The model card: installed next to the model, else the repository's docs/model-card.md.
    public var modelCard: String {
        let installed = (directory as NSString).appendingPathComponent(Self.modelCardFileName)
        if FileManager.default.fileExists(atPath: installed) { return installed }
        let repo = ((directory as NSString).appendingPathComponent("../../\(Self.modelCardDocument)") as NSString).standardizingPath
        return FileManager.default.fileExists(atPath: repo) ? repo : Self.modelCardDocument
    }

    public init(directory: String) { self.directory = directory }

    /// The running executable's path (Linux: `/proc/self/exe`; else argv[0] made absolute).
    public static func currentExecutablePath() -> String {
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        let arg0 = CommandLine.arguments.first ?? "moemae"
        if arg0.hasPrefix("/") { return arg0 }
        return (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(arg0)
    }

    /// The folders searched, in order, for an executable at `executablePath` (see the type's documentation).
    public static func searchDirectories(executablePath: String, environment: [String: String]) -> [String] {
        let bin = ((executablePath as NSString).deletingLastPathComponent as NSString).standardizingPath
        var dirs = [(bin as NSString).appendingPathComponent("models/default")]
        // A SwiftPM build folder inside a checkout: ROOT/.build/<triple>/release/moemae.
        var d = bin
        while d != "/" && !d.isEmpty {
            if (d as NSString).lastPathComponent == ".build" {
                let root = (d as NSString).deletingLastPathComponent
                dirs.append((root as NSString).appendingPathComponent("models/default"))
                break
            }
            d = (d as NSString).deletingLastPathComponent
        }
        dirs.append((((bin as NSString).deletingLastPathComponent as NSString).appendingPathComponent("share/moemae") as NSString).standardizingPath)
        if let env = environment[environmentVariable], !env.isEmpty { dirs.append(env) }
        return dirs
    }

    /// The first folder of ``searchDirectories(executablePath:environment:)`` that holds the weights
    /// and the probe. Throws ``MapOptionsError`` listing every folder looked in when none does.
    public static func locate(executablePath: String = currentExecutablePath(),
                              environment: [String: String] = ProcessInfo.processInfo.environment) throws -> BundledModel {
        let dirs = searchDirectories(executablePath: executablePath, environment: environment)
        for dir in dirs {
            let m = BundledModel(directory: dir)
            if FileManager.default.isReadableFile(atPath: m.weights) && FileManager.default.isReadableFile(atPath: m.probe) { return m }
        }
        let unset = environment[environmentVariable].map { $0.isEmpty } ?? true
        throw MapOptionsError("no weights/probe given and the bundled model (\(weightsFileName) and \(probeFileName)) was not found; looked in: \(dirs.joined(separator: ", "))\(unset ? " ($\(environmentVariable) is not set)" : ""). Install moemae with scripts/install.sh, set \(environmentVariable) to a folder holding both files, or give the weights and the probe",
                              settings: [.weights, .probe])
    }

    /// The weights and probe to use: the given paths, the bundled model's files for those needed but not
    /// given. When the bundled model is used, `note` gets one line saying which files and that this is a
    /// demonstration model (with its model card). Throws when the bundled model is needed but missing.
    public static func resolve(weights: String?, probe: String?, needsWeights: Bool = true, needsProbe: Bool = true,
                               executablePath: String = currentExecutablePath(),
                               environment: [String: String] = ProcessInfo.processInfo.environment,
                               note: (String) -> Void) throws -> (weights: String, probe: String) {
        let missingWeights = needsWeights && (weights ?? "").isEmpty
        let missingProbe = needsProbe && (probe ?? "").isEmpty
        guard missingWeights || missingProbe else { return (weights ?? "", probe ?? "") }
        let m = try locate(executablePath: executablePath, environment: environment)
        var used: [String] = []
        if missingWeights { used.append("weights \(m.weights)") }
        if missingProbe { used.append("probe \(m.probe)") }
        note("note: using the bundled demonstration model (\(used.joined(separator: ", "))): it shows that the whole path works, it is not a land-cover product; see its model card \(m.modelCard)")
        return (missingWeights ? m.weights : weights ?? "", missingProbe ? m.probe : probe ?? "")
    }
}
