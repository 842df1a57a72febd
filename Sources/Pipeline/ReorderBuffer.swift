/// Restores the order of items numbered 0, 1, 2, … that arrive in any order.
///
/// ``insert(_:at:)`` returns the items that became ready, in order. Items before the next expected
/// sequence number or inserted twice are programming errors of the producer.
public struct ReorderBuffer<Element> {
    /// The sequence number the next ready item must have.
    public private(set) var nextSequence: Int
    private var pending: [Int: Element] = [:]

    public init(startingAt first: Int = 0) { nextSequence = first }

    /// Items waiting for an earlier one.
    public var pendingCount: Int { pending.count }

    /// Stores `element` numbered `sequence` and returns every item now ready, in order.
    public mutating func insert(_ element: Element, at sequence: Int) -> [Element] {
        precondition(sequence >= nextSequence && pending[sequence] == nil,
                     "ReorderBuffer: sequence \(sequence) already delivered or inserted")
        pending[sequence] = element
        var ready: [Element] = []
        while let next = pending.removeValue(forKey: nextSequence) {
            ready.append(next)
            nextSequence += 1
        }
        return ready
    }
}
