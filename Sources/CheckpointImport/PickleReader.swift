import Foundation

/// Runs the pickle program of a `torch.save` checkpoint (`data.pkl`) without Python and without
/// executing anything.
///
/// Supported: the opcodes PyTorch writes for tensors (protocol 2: PROTO, EMPTY_DICT/LIST/TUPLE,
/// MARK, TUPLE/TUPLE1/2/3, BINUNICODE, BININT/BININT1/BININT2, LONG1, BINFLOAT, NEWTRUE/NEWFALSE,
/// NONE, BINPUT/LONG_BINPUT/BINGET/LONG_BINGET, SETITEM/SETITEMS, APPEND/APPENDS, GLOBAL, REDUCE,
/// BUILD, BINPERSID, STOP) and the protocol 3–4 spellings of the same things (FRAME, MEMOIZE,
/// SHORT_BINUNICODE, BINUNICODE8, BINBYTES, STACK_GLOBAL).
///
/// Security: a GLOBAL is resolved only against ``PickleGlobal``'s whitelist
/// (`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`, `torch._utils._rebuild_parameter`,
/// `torch.<Type>Storage`); anything else — `os.system`, `builtins.eval`, … — is refused with
/// ``CheckpointError/forbiddenGlobal(path:offset:module:name:)`` before any later opcode runs.
/// REDUCE only "calls" those whitelisted names, and only by building a value (an empty ordered
/// dictionary or a ``TorchTensorReference``). Object-constructing opcodes (INST, OBJ, NEWOBJ,
/// EXT*) are refused. Malformed input (truncation, stack underflow, bad memo index, lengths past
/// the end) is an error with the byte offset, never a crash.
///
/// Persistent ids are the storage records of `torch.save`
/// (`('storage', torch.FloatStorage, key, location, numel)`); the bytes are not read here.
public struct PickleReader {
    /// The checkpoint file, for messages.
    public let path: String
    private let bytes: [UInt8]

    /// - Parameters:
    ///   - bytes: the pickle program (the `data.pkl` record).
    ///   - path: the checkpoint file it came from (every error names it).
    public init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
    }

    /// Most entries the pickle stack may hold (2^20). `torch.save` pickles of the published
    /// checkpoints keep fewer than 100 on it; each entry costs memory whatever the file claims.
    public static let maxStackEntries = 1 << 20
    /// Most memo entries (2^20; a published checkpoint memoises a few thousand objects).
    public static let maxMemoEntries = 1 << 20
    /// Deepest nesting of tuples, lists and dictionaries resolved (checkpoints nest fewer than 10
    /// levels); resolving recurses, so a deeper object is refused rather than overflowing the stack.
    public static let maxNesting = 1_000

    /// Runs the program up to STOP and returns the object it built.
    public func read() throws -> PickleValue {
        var machine = PickleMachine(bytes: bytes, path: path)
        return try machine.run()
    }
}

/// The interpreter state. Lists and dictionaries live on a heap (`heap[id]`) so that APPEND /
/// SETITEM through a memo reference mutate the one object, as in Python; the final value is a
/// resolved ``PickleValue`` snapshot.
private struct PickleMachine {
    /// A stack or memo entry: an immutable value, a tuple (which may hold heap references),
    /// or a reference to a mutable heap object.
    indirect enum Item {
        case value(PickleValue)
        /// A tuple and how deeply tuples nest in it (1 for a tuple of plain values), kept so that the
        /// ``PickleReader/maxNesting`` limit is enforced while tuples are built (a file of repeated TUPLE1
        /// opcodes would otherwise build a value nested a million deep, whose release recurses past the stack).
        case tuple([Item], depth: Int)
        case ref(Int)
    }

    enum HeapObject {
        case list([Item])
        case dict(keys: [PickleValue], values: [Item], index: [PickleValue: Int])
    }

    let bytes: [UInt8]
    let path: String
    var position = 0
    /// Offset of the opcode being executed (for messages).
    var opcodeOffset = 0
    var stack: [Item] = []
    var marks: [Int] = []
    var memo: [Int: Item] = [:]
    var heap: [HeapObject] = []

    init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
    }

    // MARK: errors

    func malformed(_ detail: String) -> CheckpointError {
        .malformedPickle(path: path, offset: opcodeOffset, detail: detail)
    }

    func badTensor(_ detail: String) -> CheckpointError {
        .badTensorRecord(path: path, offset: opcodeOffset, detail: detail)
    }

    // MARK: operands

    mutating func readBytes(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - position else {
            throw malformed("operand of \(n) bytes runs past the end of the pickle (\(bytes.count) bytes); the file is truncated")
        }
        defer { position += n }
        return bytes[position..<(position + n)]
    }

    /// Little-endian unsigned integer of `n` ≤ 8 bytes.
    mutating func readUInt(_ n: Int) throws -> UInt64 {
        let b = try readBytes(n)
        var v: UInt64 = 0
        for (k, byte) in b.enumerated() { v |= UInt64(byte) << (8 * UInt64(k)) }
        return v
    }

    mutating func readLength(_ n: Int) throws -> Int {
        let v = try readUInt(n)
        guard v <= UInt64(bytes.count - position) else {
            throw malformed("length \(v) runs past the end of the pickle (\(bytes.count - position) bytes left); the file is truncated")
        }
        return Int(v)
    }

    mutating func readUTF8(lengthBytes: Int) throws -> String {
        let n = try readLength(lengthBytes)
        let b = try readBytes(n)
        guard let s = String(bytes: b, encoding: .utf8) else { throw malformed("string is not valid UTF-8") }
        return s
    }

    /// A newline-terminated ASCII line (GLOBAL operands).
    mutating func readLine() throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else {
            throw malformed("GLOBAL operand has no terminating newline; the file is truncated")
        }
        let line = bytes[position..<end]
        position = end + 1
        guard line.count <= 512, let s = String(bytes: line, encoding: .utf8) else {
            throw malformed("GLOBAL operand is not a short UTF-8 line")
        }
        return s
    }

    /// Two's-complement little-endian integer (LONG1 / LONG4 payload).
    func signedInteger(_ b: ArraySlice<UInt8>) throws -> Int {
        if b.isEmpty { return 0 }
        // Larger values are legal Python ints but never appear in tensor records.
        guard b.count <= 8 else { throw malformed("integer of \(b.count) bytes does not fit in 64 bits") }
        var v: UInt64 = 0
        for (k, byte) in b.enumerated() { v |= UInt64(byte) << (8 * UInt64(k)) }
        if b.count < 8, (b.last ?? 0) & 0x80 != 0 {
            v |= UInt64.max << (8 * UInt64(b.count)) // sign-extend
        }
        return Int(Int64(bitPattern: v))
    }

    // MARK: stack

    mutating func pop() throws -> Item {
        if let m = marks.last, stack.count <= m { throw malformed("stack underflow (pop past a MARK)") }
        guard let top = stack.popLast() else { throw malformed("stack underflow") }
        return top
    }

    mutating func popToMark() throws -> [Item] {
        guard let m = marks.popLast() else { throw malformed("no MARK on the stack") }
        guard m <= stack.count else { throw malformed("MARK past the top of the stack") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    mutating func top() throws -> Item {
        if let m = marks.last, stack.count <= m { throw malformed("stack underflow (no object below the MARK)") }
        guard let t = stack.last else { throw malformed("stack underflow") }
        return t
    }

    mutating func newHeapObject(_ o: HeapObject) -> Item {
        heap.append(o)
        return .ref(heap.count - 1)
    }

    // MARK: containers

    /// A tuple of `items`, refused when tuples would nest deeper than ``PickleReader/maxNesting``.
    func makeTuple(_ items: [Item]) throws -> Item {
        var depth = 1
        for case let .tuple(_, d) in items { depth = max(depth, d + 1) }
        guard depth <= PickleReader.maxNesting else {
            throw malformed("tuples nest deeper than \(PickleReader.maxNesting) levels; checkpoints never do")
        }
        return .tuple(items, depth: depth)
    }


    mutating func append(_ items: [Item], to target: Item) throws {
        guard case let .ref(id) = target, case var .list(list) = heap[id] else {
            throw malformed("APPEND/APPENDS target is not a list")
        }
        heap[id] = .list([]) // release the array so the append below does not copy it
        list.append(contentsOf: items)
        heap[id] = .list(list)
    }

    mutating func setItems(_ pairs: [Item], in target: Item) throws {
        guard pairs.count % 2 == 0 else { throw malformed("SETITEMS with an odd number of items") }
        guard case let .ref(id) = target, case .dict(var keys, var values, var index) = heap[id] else {
            throw malformed("SETITEM/SETITEMS target is not a dict")
        }
        heap[id] = .list([])
        var k = 0
        while k < pairs.count {
            let key = try hashableKey(pairs[k])
            if let i = index[key] {
                values[i] = pairs[k + 1]
            } else {
                index[key] = keys.count
                keys.append(key)
                values.append(pairs[k + 1])
            }
            k += 2
        }
        heap[id] = .dict(keys: keys, values: values, index: index)
    }

    /// Dict keys must be immutable (Python raises "unhashable type" for lists and dicts).
    func hashableKey(_ item: Item) throws -> PickleValue {
        switch item {
        case let .value(v): return v
        case let .tuple(items, _): return .tuple(try items.map(hashableKey))
        case .ref: throw malformed("unhashable dictionary key (a list or dict)")
        }
    }

    // MARK: resolution

    /// Resolves heap references into a value snapshot. Each heap object is resolved once
    /// (shared objects share storage), and a cycle is an error instead of endless recursion.
    mutating func resolve(_ item: Item, cache: inout [Int: PickleValue], active: inout Set<Int>, depth: Int = 0) throws -> PickleValue {
        guard depth < PickleReader.maxNesting else { throw malformed("objects nest deeper than \(PickleReader.maxNesting) levels; checkpoints never do") }
        switch item {
        case let .value(v): return v
        case let .tuple(items, _):
            return .tuple(try items.map { try resolve($0, cache: &cache, active: &active, depth: depth + 1) })
        case let .ref(id):
            if let v = cache[id] { return v }
            guard active.insert(id).inserted else { throw malformed("a list or dict contains itself; checkpoints never do") }
            defer { active.remove(id) }
            let v: PickleValue
            switch heap[id] {
            case let .list(items):
                v = .list(try items.map { try resolve($0, cache: &cache, active: &active, depth: depth + 1) })
            case let .dict(keys, values, _):
                let resolved = try values.map { try resolve($0, cache: &cache, active: &active, depth: depth + 1) }
                v = .dict(PickleDictionary(keys: keys, values: resolved))
            }
            cache[id] = v
            return v
        }
    }

    mutating func resolve(_ item: Item) throws -> PickleValue {
        var cache: [Int: PickleValue] = [:]
        var active = Set<Int>()
        return try resolve(item, cache: &cache, active: &active)
    }

    // MARK: calls (REDUCE) — only whitelisted constructors, never code

    mutating func call(_ callable: Item, _ argsItem: Item) throws -> Item {
        guard case let .value(.global(g)) = callable else {
            throw malformed("REDUCE on a \(describe(callable)), which is not a whitelisted callable")
        }
        guard case let .tuple(args, _) = argsItem else { throw malformed("REDUCE arguments are not a tuple") }
        switch g {
        case .orderedDict:
            guard args.isEmpty else {
                throw malformed("collections.OrderedDict called with \(args.count) arguments; torch.save passes none")
            }
            return newHeapObject(.dict(keys: [], values: [], index: [:]))
        case .rebuildTensorV2:
            return .value(.tensor(try rebuildTensor(args)))
        case .rebuildParameter:
            guard args.count == 3 else { throw badTensor("_rebuild_parameter expects 3 arguments, got \(args.count)") }
            guard case let .value(.tensor(t)) = args[0] else {
                throw badTensor("_rebuild_parameter's data is not a tensor")
            }
            var p = t
            if case let .value(.bool(rg)) = args[1] { p.requiresGrad = rg }
            return .value(.tensor(p))
        case let .storageType(t):
            throw malformed("torch.\(t.rawValue) may only appear inside a storage persistent id, not be called")
        }
    }

    func describe(_ item: Item) -> String {
        switch item {
        case let .value(v): return v.kindName
        case .tuple: return "tuple"
        case let .ref(id):
            if case .list = heap[id] { return "list" }
            return "dict"
        }
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None)`
    /// (`torch/_utils.py`).
    mutating func rebuildTensor(_ args: [Item]) throws -> TorchTensorReference {
        guard args.count == 6 || args.count == 7 else {
            throw badTensor("_rebuild_tensor_v2 expects 6 or 7 arguments, got \(args.count)")
        }
        guard case let .value(.storage(storage)) = args[0] else {
            throw badTensor("_rebuild_tensor_v2's first argument is a \(describe(args[0])), not a storage")
        }
        guard case let .value(.int(offset)) = args[1] else { throw badTensor("storage offset is not an integer") }
        let shape = try intTuple(args[2], what: "size")
        let stride = try intTuple(args[3], what: "stride")
        guard case let .value(.bool(requiresGrad)) = args[4] else { throw badTensor("requires_grad is not a bool") }
        // args[5] (backward hooks, an empty OrderedDict) and args[6] (metadata) carry no data.
        do {
            return try TorchTensorReference(storage: storage, storageOffset: offset, shape: shape,
                                            stride: stride, requiresGrad: requiresGrad)
        } catch let e as TensorViewError {
            throw badTensor("storage data/\(storage.key): \(e.description)")
        }
    }

    func intTuple(_ item: Item, what: String) throws -> [Int] {
        guard case let .tuple(items, _) = item else { throw badTensor("\(what) is not a tuple") }
        return try items.map {
            guard case let .value(.int(i)) = $0 else { throw badTensor("\(what) holds a non-integer") }
            return i
        }
    }

    /// `('storage', torch.<Type>Storage, key, location, numel)` (`torch/serialization.py`).
    func persistentLoad(_ pid: Item) throws -> PickleValue {
        guard case let .tuple(f, _) = pid, f.count == 5,
              case .value(.string("storage")) = f[0] else {
            throw badTensor("persistent id is not a ('storage', type, key, location, numel) tuple")
        }
        guard case let .value(.global(.storageType(type))) = f[1] else {
            throw badTensor("persistent id names a \(describe(f[1])) instead of a torch storage type")
        }
        guard case let .value(.string(key)) = f[2], !key.isEmpty, !key.contains("/"), key != ".", key != ".." else {
            throw badTensor("storage key is not a plain record name")
        }
        guard case let .value(.string(location)) = f[3] else { throw badTensor("storage location is not a string") }
        guard case let .value(.int(numel)) = f[4], numel >= 0 else {
            throw badTensor("storage data/\(key): element count is not a non-negative integer")
        }
        return .storage(TorchStorageReference(type: type, key: key, location: location, elementCount: numel))
    }

    mutating func resolveGlobal(module: String, name: String) throws -> Item {
        guard let g = PickleGlobal(module: module, name: name) else {
            throw CheckpointError.forbiddenGlobal(path: path, offset: opcodeOffset, module: module, name: name)
        }
        return .value(.global(g))
    }

    // MARK: the loop

    mutating func run() throws -> PickleValue {
        while true {
            opcodeOffset = position
            guard stack.count <= PickleReader.maxStackEntries else {
                throw malformed("more than \(PickleReader.maxStackEntries) objects on the pickle stack; not a checkpoint (limit: docs/reliability.md)")
            }
            guard memo.count <= PickleReader.maxMemoEntries else {
                throw malformed("more than \(PickleReader.maxMemoEntries) memo entries; not a checkpoint (limit: docs/reliability.md)")
            }
            guard position < bytes.count else {
                throw malformed("the pickle ends without STOP; the file is truncated")
            }
            let byte = bytes[position]
            position += 1
            guard let op = PickleOpcode(rawValue: byte) else {
                throw CheckpointError.unsupportedOpcode(path: path, offset: opcodeOffset, opcode: byte, name: nil)
            }
            switch op {
            case .proto:
                let v = try readUInt(1)
                guard v <= 5 else { throw malformed("unsupported pickle protocol \(v)") }
            case .frame:
                _ = try readUInt(8) // frame length: a read-ahead hint only
            case .stop:
                let result = try pop()
                return try resolve(result)
            case .mark:
                marks.append(stack.count)
            case .pop:
                if let m = marks.last, m == stack.count { _ = marks.popLast() } else { _ = try pop() }
            case .popMark:
                _ = try popToMark()
            case .dup:
                stack.append(try top())
            case .none:
                stack.append(.value(.none))
            case .newTrue:
                stack.append(.value(.bool(true)))
            case .newFalse:
                stack.append(.value(.bool(false)))
            case .binInt:
                stack.append(.value(.int(Int(Int32(bitPattern: UInt32(try readUInt(4)))))))
            case .binInt1:
                stack.append(.value(.int(Int(try readUInt(1)))))
            case .binInt2:
                stack.append(.value(.int(Int(try readUInt(2)))))
            case .long1:
                let n = try readLength(1)
                stack.append(.value(.int(try signedInteger(try readBytes(n)))))
            case .long4:
                let n = try readLength(4)
                stack.append(.value(.int(try signedInteger(try readBytes(n)))))
            case .binFloat:
                let b = try readBytes(8) // big-endian IEEE 754 double
                var v: UInt64 = 0
                for byte in b { v = v << 8 | UInt64(byte) }
                stack.append(.value(.float(Double(bitPattern: v))))
            case .binUnicode:
                stack.append(.value(.string(try readUTF8(lengthBytes: 4))))
            case .shortBinUnicode:
                stack.append(.value(.string(try readUTF8(lengthBytes: 1))))
            case .binUnicode8:
                stack.append(.value(.string(try readUTF8(lengthBytes: 8))))
            case .binString, .shortBinString:
                let n = try readLength(op == .binString ? 4 : 1)
                let b = try readBytes(n)
                stack.append(.value(.string(String(decoding: b.map { $0 }, as: Unicode.ASCII.self))))
            case .binBytes, .shortBinBytes, .binBytes8:
                let n = try readLength(op == .binBytes ? 4 : op == .shortBinBytes ? 1 : 8)
                stack.append(.value(.bytes(Array(try readBytes(n)))))
            case .emptyTuple:
                stack.append(try makeTuple([]))
            case .tuple:
                stack.append(try makeTuple(try popToMark()))
            case .tuple1:
                let a = try pop()
                stack.append(try makeTuple([a]))
            case .tuple2:
                let b = try pop(), a = try pop()
                stack.append(try makeTuple([a, b]))
            case .tuple3:
                let c = try pop(), b = try pop(), a = try pop()
                stack.append(try makeTuple([a, b, c]))
            case .emptyList:
                stack.append(newHeapObject(.list([])))
            case .list:
                let items = try popToMark()
                stack.append(newHeapObject(.list(items)))
            case .append:
                let v = try pop()
                try append([v], to: try top())
            case .appends:
                let items = try popToMark()
                try append(items, to: try top())
            case .emptyDict:
                stack.append(newHeapObject(.dict(keys: [], values: [], index: [:])))
            case .dict:
                let items = try popToMark()
                let d = newHeapObject(.dict(keys: [], values: [], index: [:]))
                try setItems(items, in: d)
                stack.append(d)
            case .setItem:
                let v = try pop(), k = try pop()
                try setItems([k, v], in: try top())
            case .setItems:
                let items = try popToMark()
                try setItems(items, in: try top())
            case .binGet, .longBinGet:
                let i = Int(try readUInt(op == .binGet ? 1 : 4))
                guard let v = memo[i] else { throw malformed("memo index \(i) was never stored") }
                stack.append(v)
            case .binPut, .longBinPut:
                let i = Int(try readUInt(op == .binPut ? 1 : 4))
                memo[i] = try top()
            case .memoize:
                memo[memo.count] = try top()
            case .global:
                let module = try readLine()
                let name = try readLine()
                stack.append(try resolveGlobal(module: module, name: name))
            case .stackGlobal:
                let n = try pop(), m = try pop()
                guard case let .value(.string(name)) = n, case let .value(.string(module)) = m else {
                    throw malformed("STACK_GLOBAL operands are not strings")
                }
                stack.append(try resolveGlobal(module: module, name: name))
            case .reduce:
                let args = try pop(), callable = try pop()
                stack.append(try call(callable, args))
            case .build:
                let state = try pop()
                let target = try top()
                // OrderedDict.__reduce__ passes the instance __dict__ (the state dict's `_metadata`
                // with per-module versions); it carries no tensor data and is dropped.
                guard case let .ref(id) = target, case .dict = heap[id] else {
                    throw malformed("BUILD on a \(describe(target)); only ordered dictionaries accept state here")
                }
                _ = state
            case .binPersId:
                let pid = try pop()
                stack.append(.value(try persistentLoad(pid)))
            case .int, .long, .string, .unicode, .float, .get, .put, .persId,
                 .inst, .obj, .newObj, .newObjEx, .ext1, .ext2, .ext4,
                 .emptySet, .addItems, .frozenSet, .byteArray8, .nextBuffer, .readonlyBuffer:
                throw CheckpointError.unsupportedOpcode(path: path, offset: opcodeOffset, opcode: byte, name: op.name)
            }
        }
    }
}
