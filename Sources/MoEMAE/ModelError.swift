import Diagnostics
/// Everything that can be wrong with a model configuration, a weights file or a model input.
/// Each case names the file and, where there is one, the state-dict key.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// The configuration is inconsistent (message says which field and why).
    case invalidConfig(String)
    /// A weights file lacks a key the configuration needs.
    case missingWeight(path: String, key: String)
    /// A weight tensor has a shape other than the configuration's.
    case wrongWeightShape(path: String, key: String, expected: [Int], found: [Int])
    /// A weight tensor's element type is not F32, F16 or BF16.
    case unsupportedWeightDType(path: String, key: String, dtype: String)
    /// The configuration cannot be inferred from the tensors' shapes.
    case cannotInferConfig(path: String, reason: String)
    /// A model input has the wrong size or values (message names it).
    case invalidInput(String)
    /// The requested number format cannot run on this CPU (message says what the CPU lacks).
    case unsupportedPrecision(String)

    public var description: String {
        switch self {
        case let .invalidConfig(m):
            return "invalid model configuration: \(m)"
        case let .missingWeight(path, key):
            return "\(path): weights file has no tensor '\(key)' (is it an MoE-MAE state dict with the published key names? see keys-public.txt)"
        case let .wrongWeightShape(path, key, expected, found):
            return "\(path): tensor '\(key)' has shape \(found), the model configuration needs \(expected)"
        case let .unsupportedWeightDType(path, key, dtype):
            return "\(path): tensor '\(key)' has dtype \(dtype); weights must be F32, F16 or BF16"
        case let .cannotInferConfig(path, reason):
            return "\(path): cannot tell the model configuration from the tensors: \(reason); give the configuration"
        case let .invalidInput(m):
            return "invalid model input: \(m)"
        case let .unsupportedPrecision(m):
            return "unsupported precision: \(m)"
        }
    }
}

extension ModelError: DiagnosedError {
    public var kind: FailureKind {
        switch self {
        case .invalidConfig, .invalidInput, .unsupportedPrecision: return .invalidArgument
        case .missingWeight, .wrongWeightShape, .unsupportedWeightDType, .cannotInferConfig: return .read
        }
    }
    public var file: String? {
        switch self {
        case .invalidConfig, .invalidInput, .unsupportedPrecision: return nil
        case let .missingWeight(path, _), let .wrongWeightShape(path, _, _, _), let .unsupportedWeightDType(path, _, _),
             let .cannotInferConfig(path, _):
            return path
        }
    }
    /// A configuration the tensors do not tell, or a precision this CPU lacks: the settings that choose them.
    public var settings: [Setting] {
        switch self {
        case .cannotInferConfig: return [.config]
        case .unsupportedPrecision: return [.precision]
        default: return []
        }
    }
    public var message: String {
        let d = description
        guard let f = file, d.hasPrefix(f + ": ") else { return d }
        return String(d.dropFirst(f.count + 2))
    }
}
