import Foundation
import Diagnostics

/// An error reading Landsat metadata or a scene folder.
///
/// Every error names the file it concerns (`path`) and says what is wrong and, where there is one,
/// what to do about it. `code` lets callers (and tests) tell the cases apart without matching text.
public struct LandsatError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Code: String, Sendable, Equatable {
        /// The file or folder does not exist or cannot be read.
        case unreadable
        /// The MTL file is empty (or holds only NUL padding / white space).
        case empty
        /// The MTL file's syntax is broken (ODL, JSON or XML).
        case malformed
        /// The file parses but is not a Landsat MTL (unknown root group).
        case notLandsatMetadata
        /// A required MTL key is absent.
        case missingKey
        /// An MTL value cannot be interpreted (bad date, time or number).
        case invalidValue
        /// A scene folder holds no MTL file, or several products' MTL files.
        case noMetadataFile
        /// A band or QA file listed in the MTL does not exist next to it.
        case missingBandFile
        /// The scene cannot be fed to the model (see `ModelReadiness` and docs/bands.md).
        case notModelReady
    }

    public var code: Code
    /// The file or folder concerned.
    public var path: String
    /// What is wrong and what to do.
    public var message: String
    /// The settings that fix it (``DiagnosedError/settings``).
    public var settings: [Setting]

    public init(_ code: Code, path: String, _ message: String, settings: [Setting] = []) {
        self.code = code
        self.path = path
        self.message = message
        self.settings = settings
    }

    /// `<path>: <message> (setting: …)`.
    public var description: String { "\(path): \(message)" + Setting.mention(settings) }
}

extension LandsatError: DiagnosedError {
    public var kind: FailureKind {
        switch code {
        case .unreadable, .noMetadataFile, .missingBandFile: return .open
        case .empty, .malformed, .notLandsatMetadata, .missingKey, .invalidValue: return .read
        case .notModelReady: return .incompatible
        }
    }
    public var file: String? { path }
}
