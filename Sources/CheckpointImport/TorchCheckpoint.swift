import Foundation
import SafeTensors

/// A `torch.save` checkpoint read natively (no Python): the zip container, the pickle program
/// and the storage records.
///
/// Two layouts are accepted:
/// - the published training checkpoint, a dict with `epoch`, `model_state` (the state dict),
///   `opt_state`, `scaler_state`, `best_train_loss` (see `docs/model.md`, "Checkpoints");
/// - a bare state dict (`torch.save(model.state_dict(), f)`): an ordered dict of tensors.
///
/// Opening a checkpoint runs the pickle (see ``PickleReader`` for what is refused) and collects
/// the state dict's tensor views; tensor bytes are read only by ``loadStateDict()`` or
/// ``tensorBytes(_:)``.
public struct TorchCheckpoint {
    /// One state-dict entry: the original key and the view into its storage.
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var tensor: TorchTensorReference
    }

    public let path: String
    /// The whole unpickled object.
    public let root: PickleValue
    /// `model_state` (or the bare state dict), in state-dict order.
    public let stateDict: [Entry]
    /// `epoch`, when the checkpoint has one.
    public let epoch: Int?
    /// `best_train_loss`, when the checkpoint has one (may be `inf`).
    public let bestTrainLoss: Double?
    /// True when the file held a bare state dict rather than the training checkpoint dict.
    public let isBareStateDict: Bool
    /// True when storages are little-endian (the `byteorder` record).
    public var littleEndian: Bool { archive.littleEndian }

    private let archive: TorchArchive

    /// Reads and interprets `path`. Throws ``CheckpointError`` (never executes anything).
    public init(path: String) throws {
        self.path = path
        archive = try TorchArchive(path: path)
        root = try PickleReader(bytes: try archive.pickleBytes(), path: path).read()
        guard case let .dict(top) = root else {
            throw CheckpointError.unexpectedStructure(path: path, detail: "the pickled object is a \(root.kindName), not a dict")
        }
        let stateValue: PickleDictionary
        if let model = top["model_state"] {
            guard case let .dict(d) = model else {
                throw CheckpointError.unexpectedStructure(path: path, detail: "model_state is a \(model.kindName), not a state dict")
            }
            stateValue = d
            isBareStateDict = false
            epoch = top["epoch"]?.intValue
            bestTrainLoss = top["best_train_loss"]?.doubleValue
        } else if top.count > 0, top.values.allSatisfy({ if case .tensor = $0 { return true }; return false }) {
            stateValue = top
            isBareStateDict = true
            epoch = nil
            bestTrainLoss = nil
        } else {
            let keys = top.stringKeys.prefix(8).joined(separator: ", ")
            throw CheckpointError.unexpectedStructure(path: path, detail: "neither a training checkpoint (no 'model_state' key; keys: \(keys.isEmpty ? "none" : keys)) nor a state dict of tensors")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(stateValue.count)
        for (k, v) in stateValue.entries {
            guard case let .string(name) = k else {
                throw CheckpointError.unexpectedStructure(path: path, detail: "state dict key \(k.kindName) is not a string")
            }
            guard case let .tensor(t) = v else {
                throw CheckpointError.unexpectedStructure(path: path, detail: "state dict entry '\(name)' is a \(v.kindName), not a tensor")
            }
            entries.append(Entry(name: name, tensor: t))
        }
        stateDict = entries
    }

    /// The row-major little-endian bytes of one state-dict entry (strides and storage offset
    /// applied). Throws ``CheckpointError/badStorage(path:tensor:storageKey:detail:)`` when the
    /// storage record is missing or too short.
    public func tensorBytes(_ entry: Entry) throws -> [UInt8] {
        var cache: [String: Data] = [:]
        return try tensorBytes(entry, cache: &cache)
    }

    private func tensorBytes(_ entry: Entry, cache: inout [String: Data]) throws -> [UInt8] {
        let key = entry.tensor.storage.key
        let data: Data
        if let d = cache[key] {
            data = d
        } else {
            guard let d = try archive.storageBytes(key: key) else {
                throw CheckpointError.badStorage(path: path, tensor: entry.name, storageKey: key,
                                                 detail: "the zip has no record \(archive.prefix)data/\(key)")
            }
            let declared = entry.tensor.storage.elementCount * entry.tensor.dtype.size
            guard d.count >= declared else {
                throw CheckpointError.badStorage(path: path, tensor: entry.name, storageKey: key,
                                                 detail: "the storage record holds \(d.count) bytes but its persistent id declares \(entry.tensor.storage.elementCount) \(entry.tensor.dtype.rawValue) elements (\(declared) bytes)")
            }
            cache[key] = d
            data = d
        }
        guard entry.tensor.requiredStorageElements <= entry.tensor.storage.elementCount else {
            throw CheckpointError.badStorage(path: path, tensor: entry.name, storageKey: key,
                                             detail: "the view (offset \(entry.tensor.storageOffset), size \(entry.tensor.shape), stride \(entry.tensor.stride)) reaches element \(entry.tensor.requiredStorageElements - 1) of a storage of \(entry.tensor.storage.elementCount)")
        }
        do {
            return try data.withUnsafeBytes { raw in
                try entry.tensor.materialize(storage: raw, littleEndian: archive.littleEndian)
            }
        } catch let e as TensorViewError {
            throw CheckpointError.badStorage(path: path, tensor: entry.name, storageKey: key, detail: e.description)
        }
    }

    /// Every state-dict tensor, materialised, in state-dict order with the original key names and
    /// dtypes (float32 stays F32, float16 stays F16, …). Storages shared by several keys are read once.
    public func loadStateDict() throws -> [Tensor] {
        var cache: [String: Data] = [:]
        return try stateDict.map { entry in
            let bytes = try tensorBytes(entry, cache: &cache)
            return Tensor(entry.name, dtype: entry.tensor.dtype, shape: entry.tensor.shape, bytes: bytes)
        }
    }
}
