/// How often each expert of each encoder layer was chosen, accumulated over the mapped tiles.
///
/// Input is the router's choice per tile, layer, token and slot, as `embed` writes `experts`
/// u8 [N, L, T, K] (T = 105 tokens, K = 2 slots ordered by gate weight). `assignments[l][e]` counts
/// every slot (what load balancing is about: each token sends work to K experts); `top1[l][e]` counts
/// only each token's first choice (what the expert map shows).
///
/// The load-balance figure is the coefficient of variation of `assignments[l]` over the layer's experts,
/// CV = σ/μ with the population standard deviation — the quantity whose square the importance loss of
/// Shazeer et al. 2017 ("Outrageously large neural networks", §4) penalises. 0 = perfectly balanced.
public struct ExpertUsage: Codable, Equatable, Sendable {
    public var expertsPerLayer: [Int]
    public var assignments: [[Int]]
    public var top1: [[Int]]

    public init(expertsPerLayer: [Int]) {
        self.expertsPerLayer = expertsPerLayer
        assignments = expertsPerLayer.map { Array(repeating: 0, count: $0) }
        top1 = assignments
    }

    /// Adds one tile's routing: `experts` laid out [L, T, K] (K slots per token, best first).
    /// Expert indices outside a layer's range are ignored (they cannot come from a valid model).
    public mutating func add(tileExperts experts: UnsafeBufferPointer<UInt8>, tokens: Int, slots: Int) {
        for l in 0..<expertsPerLayer.count {
            let e = expertsPerLayer[l]
            let base = l * tokens * slots
            for t in 0..<tokens {
                for k in 0..<slots {
                    let x = Int(experts[base + t * slots + k])
                    guard x < e else { continue }
                    assignments[l][x] += 1
                    if k == 0 { top1[l][x] += 1 }
                }
            }
        }
    }

    /// Adds another accumulator of the same shape.
    public mutating func merge(_ other: ExpertUsage) {
        for l in 0..<min(assignments.count, other.assignments.count) {
            for e in 0..<min(assignments[l].count, other.assignments[l].count) {
                assignments[l][e] += other.assignments[l][e]
                top1[l][e] += other.top1[l][e]
            }
        }
    }

    /// σ/μ of `counts` (population σ); 0 for empty or all-zero counts.
    public static func coefficientOfVariation(_ counts: [Int]) -> Double {
        guard !counts.isEmpty else { return 0 }
        let n = Double(counts.count)
        let mean = counts.reduce(0.0) { $0 + Double($1) } / n
        guard mean > 0 else { return 0 }
        let variance = counts.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        return variance.squareRoot() / mean
    }

    /// Per-layer figures for the run summary.
    public var layers: [RunSummary.LayerUsage] {
        (0..<expertsPerLayer.count).map { l in
            RunSummary.LayerUsage(layer: l, experts: expertsPerLayer[l], assignments: assignments[l], top1: top1[l],
                                  coefficientOfVariation: Self.coefficientOfVariation(assignments[l]))
        }
    }
}
