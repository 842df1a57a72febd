/// What the encoder produces for a batch of whole tiles (T = 105 tokens, D, L layers).
public struct EncoderResult: Sendable {
    public let count: Int
    public let dim: Int
    public let layers: Int
    public let tokens: Int
    /// `[count, D]`: mean of the un-normalised final-block tokens over all T tokens (the tile embedding
    /// the published linear probes use).
    public var embedding: [Float]
    /// `[count, D]`: un-normalised token 4 (CLS).
    public var cls: [Float]
    /// `[count, L, T, 2]`: per layer and token the two chosen experts, largest gate weight first.
    public var experts: [UInt8]
    /// `[count, L, T, 2]`: their gate weights (sum 1).
    public var gates: [Float]
    /// `[count, T, D]` tokens after the last block (if requested).
    public var tokensPreLN: [Float]?
    /// `[count, T, D]` tokens after the final LayerNorm (if requested).
    public var tokensLN: [Float]?
}

/// Which optional tensors ``InferenceEngine/encode(_:outputs:)`` keeps.
public struct EncoderOutputs: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let tokensPreLN = EncoderOutputs(rawValue: 1)
    public static let tokensLN = EncoderOutputs(rawValue: 2)
}

/// The decoder's reconstruction of a batch.
public struct ReconstructionResult: Sendable {
    public let count: Int
    /// `[count, 100, 112]` predicted z-scored pixels per patch (feature c·16 + row·4 + col).
    public var prediction: [Float]
    /// `[count, kept]` the kept patches, in encoder token order.
    public var keep: [Int32]
    public let kept: Int
    /// `[count]` mean squared error against the input's z-scored pixels, over the masked patches'
    /// values (over every patch when nothing is masked).
    public var mse: [Float]
}
