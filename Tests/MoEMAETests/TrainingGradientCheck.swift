import Foundation
import XCTest
@testable import MoEMAE
@testable import MoEMAETraining

/// Finite-difference gradient checks for the training backward passes: central differences
/// `(L(θ+h) − L(θ−h)) / 2h` of a scalar loss evaluated in Float, compared with the analytic gradient
/// over a sample of coordinates. With h = 1e-2·max(1, |θ|) the truncation error (O(h²)) and the
/// rounding error (≈ ulp(L)/h) are both ≈ 1e-4 of typical gradients here; a check passes when
/// ‖g_fd − g‖ ≤ tolerance · ‖g‖ over the sampled coordinates.
enum GradientCheck {
    /// A tiny model configuration (every code path of the S model, small sizes): D 16, 3 layers with
    /// 3/3/4 experts, 4 heads over 2 KV groups, expert hidden 12 → 8; decoder D' 12, 2 heads, 1 group.
    static let tinyConfig = ModelConfig(preset: "custom", embedDim: 16, depth: 3, heads: 4, kvGroups: 2,
                                        expertHiddenFirst: 12, expertHiddenLast: 8, expertsPerStage: [3, 3, 4],
                                        decoder: .init(embedDim: 12, depth: 1, heads: 2, kvGroups: 1, expertHidden: 6, experts: 3))

    /// Compares `analytic` with central differences of `loss` over `indices` of `values`
    /// (which `loss` reads). Returns ‖g_fd − g‖ / ‖g‖.
    /// `unchanged` (if given) is asked after each evaluation whether the discrete choices (routing) are
    /// those of the unperturbed point; coordinates whose perturbation changes them are skipped, since
    /// the loss is not differentiable across a routing change.
    static func relativeError(values: inout [Float], indices: [Int], analytic: [Float], loss: ([Float]) -> Double,
                              step: Float = 1e-2, unchanged: (() -> Bool)? = nil) -> Double {
        var num = 0.0, den = 0.0
        for i in indices {
            let orig = values[i]
            let h = step * max(1, abs(orig))
            values[i] = orig + h; let lp = loss(values); let okP = unchanged?() ?? true
            values[i] = orig - h; let lm = loss(values); let okM = unchanged?() ?? true
            values[i] = orig
            if !(okP && okM) { continue }
            let fd = (lp - lm) / Double(2 * h)
            num += (fd - Double(analytic[i])) * (fd - Double(analytic[i])); den += Double(analytic[i]) * Double(analytic[i])
        }
        return (num / max(den, 1e-30)).squareRoot()
    }

    /// Up to `count` coordinates spread over 0..<n.
    static func sample(_ n: Int, _ count: Int = 24) -> [Int] {
        n <= count ? Array(0..<n) : (0..<count).map { $0 * n / count + ($0 * 7919) % max(1, n / count) }
    }

    static func randomFloats(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var rng = TrainingRandom(seed: seed)
        var v = [Float](repeating: 0, count: n)
        v.withUnsafeMutableBufferPointer { rng.fillNormal($0.baseAddress!, count: n) }
        return v.map { $0 * scale }
    }
}
