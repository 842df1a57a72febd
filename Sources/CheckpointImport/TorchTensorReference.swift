import SafeTensors

/// A tensor as `torch._utils._rebuild_tensor_v2` describes it: a strided view into a storage.
/// Element `(i₀, …, iₙ₋₁)` is storage element `storageOffset + Σ iₖ·stride[k]`
/// (PyTorch's strided layout; sizes, strides and offset are in elements, not bytes).
public struct TorchTensorReference: Hashable, Sendable {
    public var storage: TorchStorageReference
    public var storageOffset: Int
    public var shape: [Int]
    public var stride: [Int]
    public var requiresGrad: Bool

    /// Validates the view's numbers (non-negative, same rank, no overflow) but not the storage
    /// length, which is only known once the storage record is read (see ``materialize(storage:littleEndian:)``).
    public init(storage: TorchStorageReference, storageOffset: Int, shape: [Int], stride: [Int], requiresGrad: Bool) throws {
        guard storageOffset >= 0 else { throw TensorViewError("negative storage offset \(storageOffset)") }
        guard shape.count == stride.count else {
            throw TensorViewError("size \(shape) and stride \(stride) have different ranks")
        }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw TensorViewError("negative size in \(shape)") }
        guard stride.allSatisfy({ $0 >= 0 }) else { throw TensorViewError("negative stride in \(stride)") }
        self.storage = storage
        self.storageOffset = storageOffset
        self.shape = shape
        self.stride = stride
        self.requiresGrad = requiresGrad
        // Both counts must fit in Int (hostile sizes could overflow).
        _ = try checkedElementCount()
        _ = try checkedRequiredStorageElements()
    }

    public var dtype: DType { storage.type.dtype }

    /// Number of elements of the tensor (1 for a 0-dimensional tensor).
    public var elementCount: Int { (try? checkedElementCount()) ?? 0 }

    public var byteCount: Int { elementCount * dtype.size }

    /// Storage elements the view reaches: `storageOffset + Σ (size[k]−1)·stride[k] + 1`,
    /// or 0 for an empty tensor.
    public var requiredStorageElements: Int { (try? checkedRequiredStorageElements()) ?? Int.max }

    /// True when the view is the row-major layout of `shape` (dimensions of size 1 may have any stride).
    public var isContiguous: Bool {
        var expected = 1
        for k in shape.indices.reversed() where shape[k] != 1 {
            if stride[k] != expected { return false }
            expected *= shape[k]
        }
        return true
    }

    private func checkedElementCount() throws -> Int {
        var n = 1
        for s in shape {
            let (p, o) = n.multipliedReportingOverflow(by: s)
            guard !o else { throw TensorViewError("size \(shape) overflows") }
            n = p
        }
        let (_, o) = n.multipliedReportingOverflow(by: dtype.size)
        guard !o else { throw TensorViewError("size \(shape) overflows") }
        return n
    }

    private func checkedRequiredStorageElements() throws -> Int {
        if shape.contains(0) { return 0 }
        var last = storageOffset
        for (s, st) in zip(shape, stride) {
            let (p, o1) = (s - 1).multipliedReportingOverflow(by: st)
            let (q, o2) = last.addingReportingOverflow(p)
            guard !o1, !o2 else { throw TensorViewError("size \(shape) with stride \(stride) overflows") }
            last = q
        }
        return last + 1
    }

    /// Copies the view's elements out of `storage` into row-major order, as little-endian bytes.
    ///
    /// - Parameters:
    ///   - storage: the raw bytes of the storage record.
    ///   - littleEndian: the byte order of `storage` (the checkpoint's `byteorder` record).
    /// - Throws: ``TensorViewError`` when the storage holds fewer elements than the view reaches.
    public func materialize(storage bytes: UnsafeRawBufferPointer, littleEndian: Bool = true) throws -> [UInt8] {
        let size = dtype.size
        let available = bytes.count / size
        let needed = requiredStorageElements
        guard needed <= available else {
            throw TensorViewError("needs \(needed) \(dtype.rawValue) elements (offset \(storageOffset), size \(shape), stride \(stride)) but the storage record holds \(available) (\(bytes.count) bytes)")
        }
        let count = elementCount
        var out = [UInt8](repeating: 0, count: count * size)
        guard count > 0, let base = bytes.baseAddress else { return out }
        out.withUnsafeMutableBytes { dst in
            guard let d = dst.baseAddress else { return }
            if isContiguous {
                d.copyMemory(from: base + storageOffset * size, byteCount: count * size)
            } else {
                // Odometer over the row-major index; the storage index moves by stride[k].
                let rank = shape.count
                var index = [Int](repeating: 0, count: rank)
                var source = storageOffset
                for n in 0..<count {
                    (d + n * size).copyMemory(from: base + source * size, byteCount: size)
                    var k = rank - 1
                    while k >= 0 {
                        index[k] += 1
                        source += stride[k]
                        if index[k] < shape[k] { break }
                        source -= stride[k] * shape[k]
                        index[k] = 0
                        k -= 1
                    }
                }
            }
            if !littleEndian && size > 1 {
                for n in 0..<count {
                    var element = UnsafeMutableRawBufferPointer(start: d + n * size, count: size)
                    element.reverse()
                }
            }
        }
        return out
    }
}

/// A tensor view that does not fit its numbers or its storage; wrapped into a
/// ``CheckpointError`` that names the file and the tensor.
public struct TensorViewError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
