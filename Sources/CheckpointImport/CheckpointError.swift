import Diagnostics

/// Everything that can be wrong with a PyTorch checkpoint (`torch.save` zip container) or
/// with reading one. Every case names the checkpoint file; pickle errors name the byte offset
/// inside `data.pkl`, storage errors name the state-dict key and the storage record.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    /// The file cannot be opened or is not a zip archive at all.
    case cannotOpen(path: String, reason: String)
    /// The zip container lacks a record PyTorch always writes (`*/data.pkl`).
    case missingRecord(path: String, record: String, detail: String)
    /// A zip record exists but cannot be read (truncated, CRC mismatch, bad compression).
    case unreadableRecord(path: String, record: String, reason: String)
    /// The pickle program in `data.pkl` is malformed (truncated, stack underflow, bad operand).
    case malformedPickle(path: String, offset: Int, detail: String)
    /// An opcode outside the subset PyTorch writes for tensors.
    case unsupportedOpcode(path: String, offset: Int, opcode: UInt8, name: String?)
    /// A GLOBAL outside the whitelist. It is refused, never resolved or executed.
    case forbiddenGlobal(path: String, offset: Int, module: String, name: String)
    /// A persistent id or a rebuild call whose arguments do not describe a valid tensor.
    case badTensorRecord(path: String, offset: Int, detail: String)
    /// The unpickled object is not a checkpoint dictionary or a state dict.
    case unexpectedStructure(path: String, detail: String)
    /// A tensor's storage file is missing or too short for the tensor's size and stride.
    case badStorage(path: String, tensor: String, storageKey: String, detail: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "\(path): cannot open PyTorch checkpoint: \(reason)"
        case let .missingRecord(path, record, detail):
            return "\(path): not a PyTorch checkpoint: no \(record) record in the zip container (\(detail))"
        case let .unreadableRecord(path, record, reason):
            return "\(path): cannot read zip record \(record): \(reason) (is the file truncated or corrupt?)"
        case let .malformedPickle(path, offset, detail):
            return "\(path): data.pkl offset \(offset): malformed pickle: \(detail)"
        case let .unsupportedOpcode(path, offset, opcode, name):
            let hex = "0x" + String(opcode, radix: 16, uppercase: false).leftPadded(to: 2)
            let what = name.map { "opcode \($0) (\(hex))" } ?? "unknown opcode \(hex)"
            return "\(path): data.pkl offset \(offset): \(what) is not part of the pickle subset PyTorch writes for tensors; refusing to load"
        case let .forbiddenGlobal(path, offset, module, name):
            return "\(path): data.pkl offset \(offset): refusing global '\(module).\(name)': only tensors, storages and ordered dictionaries may be loaded (nothing is executed)"
        case let .badTensorRecord(path, offset, detail):
            return "\(path): data.pkl offset \(offset): invalid tensor record: \(detail)"
        case let .unexpectedStructure(path, detail):
            return "\(path): unexpected checkpoint contents: \(detail)"
        case let .badStorage(path, tensor, storageKey, detail):
            return "\(path): tensor '\(tensor)' (storage data/\(storageKey)): \(detail)"
        }
    }
}

extension CheckpointError: DiagnosedError {
    public var kind: FailureKind {
        switch self {
        case .cannotOpen: return .open
        case .missingRecord, .unreadableRecord, .malformedPickle, .unsupportedOpcode, .forbiddenGlobal,
             .badTensorRecord, .unexpectedStructure, .badStorage:
            return .read
        }
    }
    public var file: String? {
        switch self {
        case let .cannotOpen(path, _), let .missingRecord(path, _, _), let .unreadableRecord(path, _, _),
             let .malformedPickle(path, _, _), let .unsupportedOpcode(path, _, _, _), let .forbiddenGlobal(path, _, _, _),
             let .badTensorRecord(path, _, _), let .unexpectedStructure(path, _), let .badStorage(path, _, _, _):
            return path
        }
    }
    public var message: String {
        let d = description, prefix = (file ?? "") + ": "
        return d.hasPrefix(prefix) ? String(d.dropFirst(prefix.count)) : d
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
