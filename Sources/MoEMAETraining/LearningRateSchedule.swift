import Foundation
import MoEMAE

/// Learning rate per step: linear warm-up over the first 5 % of the steps, then cosine decay to 0
/// (the published recipe, stepped once per optimizer step).
///
/// For step s (0-based, the update about to be made) of T total with W = max(1, floor(0.05·T))
/// warm-up steps: `lr(s) = base·(s+1)/W` for s < W, else `base·½·(1 + cos(π·(s−W)/max(1, T−W)))`.
public struct LearningRateSchedule: Sendable, Equatable {
    public var base: Double
    public var totalSteps: Int
    public var warmupFraction: Double

    public init(base: Double = 3e-4, totalSteps: Int, warmupFraction: Double = 0.05) {
        self.base = base; self.totalSteps = max(1, totalSteps); self.warmupFraction = warmupFraction
    }

    public var warmupSteps: Int { max(1, Int(warmupFraction * Double(totalSteps))) }

    public func rate(step s: Int) -> Double {
        let w = warmupSteps
        if s < w { return base * Double(s + 1) / Double(w) }
        let progress = Double(s - w) / Double(max(1, totalSteps - w))
        return base * 0.5 * (1 + cos(Double.pi * min(1, progress)))
    }
}

