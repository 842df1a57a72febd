import MoEMAE
/// Raw zero-initialised memory that a training step reuses from step to step (activations kept for
/// the backward pass, gradient scratch, routing indices). A class because it owns the allocation.
package final class TrainingBuffer<Element: Numeric> {
    package let count: Int
    package let pointer: UnsafeMutablePointer<Element>

    package init(_ count: Int) {
        self.count = max(count, 1)
        pointer = .allocate(capacity: self.count)
        pointer.initialize(repeating: 0, count: self.count)
    }

    deinit { pointer.deallocate() }

    @inline(__always) package var p: UnsafeMutablePointer<Element> { pointer }
    package func zero(_ n: Int? = nil) { pointer.update(repeating: 0, count: min(n ?? count, count)) }
}

/// Float activations and gradients.
package typealias FloatBuffer = TrainingBuffer<Float>
/// Int32 indices (routing lists, kept-patch ids).
package typealias IndexBuffer = TrainingBuffer<Int32>
