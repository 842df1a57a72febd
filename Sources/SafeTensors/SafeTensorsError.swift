import Diagnostics
/// Everything that can be wrong with a safetensors file. Each case names the file and,
/// where there is one, the tensor.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case truncated(path: String, detail: String)
    case badHeader(path: String, detail: String)
    case badTensor(path: String, name: String, detail: String)
    case missingTensor(path: String, name: String)
    case wrongDType(path: String, name: String, expected: String, found: DType)
    case wrongShape(path: String, name: String, expected: [Int], found: [Int])
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "\(path): cannot open safetensors file: \(reason)"
        case let .truncated(path, detail):
            return "\(path): truncated safetensors file: \(detail)"
        case let .badHeader(path, detail):
            return "\(path): invalid safetensors header: \(detail)"
        case let .badTensor(path, name, detail):
            return "\(path): tensor '\(name)': \(detail)"
        case let .missingTensor(path, name):
            return "\(path): no tensor named '\(name)'"
        case let .wrongDType(path, name, expected, found):
            return "\(path): tensor '\(name)' has dtype \(found.rawValue), expected \(expected)"
        case let .wrongShape(path, name, expected, found):
            return "\(path): tensor '\(name)' has shape \(found), expected \(expected)"
        case let .writeFailed(path, reason):
            return "\(path): cannot write safetensors file: \(reason)"
        }
    }
}

extension SafeTensorsError: DiagnosedError {
    public var kind: FailureKind {
        switch self {
        case .cannotOpen: return .open
        case .writeFailed: return .write
        case .truncated, .badHeader, .badTensor, .missingTensor, .wrongDType, .wrongShape: return .read
        }
    }
    public var file: String? {
        switch self {
        case let .cannotOpen(path, _), let .truncated(path, _), let .badHeader(path, _), let .badTensor(path, _, _),
             let .missingTensor(path, _), let .wrongDType(path, _, _, _), let .wrongShape(path, _, _, _), let .writeFailed(path, _):
            return path
        }
    }
    public var message: String {
        let d = description, prefix = (file ?? "") + ": "
        return d.hasPrefix(prefix) ? String(d.dropFirst(prefix.count)) : d
    }
}
