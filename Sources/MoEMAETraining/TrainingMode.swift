import MoEMAE
/// How a training forward pass treats the random parts of the model (docs/model.md,
/// "Mixture-of-experts block"; the reference's `model.train()` / `model.eval()`).
public struct TrainingMode: Sendable {
    /// Gate noise `N(0,1)·softplus(Wnoise·x + b)` added to the gate logits (training: on).
    public var gateNoise: Bool
    /// Dropout probability on each expert's output (reference: 0.1 in training, 0 in eval).
    public var expertDropout: Float

    public init(gateNoise: Bool, expertDropout: Float) {
        self.gateNoise = gateNoise; self.expertDropout = expertDropout
    }

    /// The published recipe: noise on, expert dropout 0.1.
    public static let pretraining = TrainingMode(gateNoise: true, expertDropout: 0.1)
    /// Deterministic: noise-free gates, dropout off (gradient verification, `grads-public`).
    public static let deterministic = TrainingMode(gateNoise: false, expertDropout: 0)
}
