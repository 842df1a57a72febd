/// Raw zero-initialised memory that a training step reuses from step to step (activations kept for
/// the backward pass, gradient scratch). A class because it owns the allocation.
final class FloatBuffer {
    let count: Int
    let pointer: UnsafeMutablePointer<Float>

    init(_ count: Int) {
        self.count = max(count, 1)
        pointer = .allocate(capacity: self.count)
        pointer.initialize(repeating: 0, count: self.count)
    }

    deinit { pointer.deallocate() }

    @inline(__always) var p: UnsafeMutablePointer<Float> { pointer }
    func zero(_ n: Int? = nil) { pointer.update(repeating: 0, count: min(n ?? count, count)) }
}

/// Int32 counterpart of ``FloatBuffer``.
final class IndexBuffer {
    let count: Int
    let pointer: UnsafeMutablePointer<Int32>

    init(_ count: Int) {
        self.count = max(count, 1)
        pointer = .allocate(capacity: self.count)
        pointer.initialize(repeating: 0, count: self.count)
    }

    deinit { pointer.deallocate() }

    @inline(__always) var p: UnsafeMutablePointer<Int32> { pointer }
}
