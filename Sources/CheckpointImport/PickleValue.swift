import SafeTensors

/// A value produced by ``PickleReader``: the part of Python's object model that PyTorch
/// checkpoints use. Lists and dictionaries are snapshots taken when the pickle program stops
/// (the reader keeps them mutable while it runs, as the pickle protocol requires).
public indirect enum PickleValue: Hashable, Sendable {
    case none
    case bool(Bool)
    /// Python `int` that fits in 64 bits (larger integers are refused).
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list([PickleValue])
    /// `dict` or `collections.OrderedDict`, in insertion order.
    case dict(PickleDictionary)
    /// A whitelisted global that was not called (for example a storage type).
    case global(PickleGlobal)
    /// A storage named by a persistent id: the bytes live in the zip record `data/<key>`.
    case storage(TorchStorageReference)
    /// The result of `torch._utils._rebuild_tensor_v2` (or `_rebuild_parameter`).
    case tensor(TorchTensorReference)

    /// The string, if this is one.
    public var stringValue: String? { if case let .string(s) = self { return s }; return nil }
    /// The integer, if this is one (`bool` is not an integer here).
    public var intValue: Int? { if case let .int(i) = self { return i }; return nil }
    /// The number as a Double, for `int` and `float`.
    public var doubleValue: Double? {
        switch self {
        case let .int(i): return Double(i)
        case let .float(d): return d
        default: return nil
        }
    }
    /// The dictionary, if this is one.
    public var dictValue: PickleDictionary? { if case let .dict(d) = self { return d }; return nil }

    /// A short description of the kind of value, for error messages.
    public var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case let .global(g): return "global \(g.qualifiedName)"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

/// An insertion-ordered dictionary (Python 3.7+ `dict` and `OrderedDict` both keep order).
public struct PickleDictionary: Hashable, Sendable {
    public private(set) var keys: [PickleValue] = []
    public private(set) var values: [PickleValue] = []

    public init() {}

    public init(keys: [PickleValue], values: [PickleValue]) {
        precondition(keys.count == values.count)
        self.keys = keys
        self.values = values
    }

    public var count: Int { keys.count }

    /// Entries in insertion order.
    public var entries: Zip2Sequence<[PickleValue], [PickleValue]> { zip(keys, values) }

    /// The value stored under a string key.
    public subscript(key: String) -> PickleValue? {
        guard let i = keys.firstIndex(of: .string(key)) else { return nil }
        return values[i]
    }

    /// The string keys, in order (non-string keys are skipped), for messages.
    public var stringKeys: [String] { keys.compactMap(\.stringValue) }
}

/// The globals a checkpoint may name. Anything else is refused by ``PickleReader`` with
/// ``CheckpointError/forbiddenGlobal(path:offset:module:name:)`` — nothing is ever looked up
/// or executed.
public enum PickleGlobal: Hashable, Sendable {
    /// `collections.OrderedDict` (state dicts).
    case orderedDict
    /// `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`.
    case rebuildTensorV2
    /// `torch._utils._rebuild_parameter(data, requires_grad, backward_hooks)` (`nn.Parameter`).
    case rebuildParameter
    /// `torch.<Type>Storage`, the element type of a storage persistent id.
    case storageType(TorchStorageType)

    /// Resolves `module.name` against the whitelist; nil when it is not allowed.
    public init?(module: String, name: String) {
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch", _):
            guard let t = TorchStorageType(storageClassName: name) else { return nil }
            self = .storageType(t)
        default: return nil
        }
    }

    public var qualifiedName: String {
        switch self {
        case .orderedDict: return "collections.OrderedDict"
        case .rebuildTensorV2: return "torch._utils._rebuild_tensor_v2"
        case .rebuildParameter: return "torch._utils._rebuild_parameter"
        case let .storageType(t): return "torch.\(t.rawValue)"
        }
    }
}

/// The typed storage classes of PyTorch (`torch/storage.py`) and their safetensors dtypes.
public enum TorchStorageType: String, Hashable, Sendable, CaseIterable {
    case float = "FloatStorage"
    case double = "DoubleStorage"
    case half = "HalfStorage"
    case bfloat16 = "BFloat16Storage"
    case long = "LongStorage"
    case int = "IntStorage"
    case short = "ShortStorage"
    case char = "CharStorage"
    case byte = "ByteStorage"
    case bool = "BoolStorage"

    public init?(storageClassName: String) { self.init(rawValue: storageClassName) }

    /// The element type: float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool.
    public var dtype: DType {
        switch self {
        case .float: return .f32
        case .double: return .f64
        case .half: return .f16
        case .bfloat16: return .bf16
        case .long: return .i64
        case .int: return .i32
        case .short: return .i16
        case .char: return .i8
        case .byte: return .u8
        case .bool: return .bool
        }
    }
}

/// A storage persistent id, `('storage', torch.<Type>Storage, key, location, numel)`
/// (`torch/serialization.py`, `_save` → `persistent_id`). The bytes are the zip record
/// `<archive>/data/<key>`: `numel` elements of the type, in the byte order of `<archive>/byteorder`.
public struct TorchStorageReference: Hashable, Sendable {
    public var type: TorchStorageType
    public var key: String
    /// Device the storage was saved from ("cpu", "cuda:0", …); data is loaded on the CPU regardless.
    public var location: String
    /// Number of elements of `type` in the storage.
    public var elementCount: Int

    public init(type: TorchStorageType, key: String, location: String, elementCount: Int) {
        self.type = type; self.key = key; self.location = location; self.elementCount = elementCount
    }
}
