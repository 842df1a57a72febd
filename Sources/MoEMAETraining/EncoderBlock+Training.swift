import MoEMAE
extension EncoderBlock {
    /// Training forward pass of the block (the same layers as ``forward(tiles:tokens:ws:)``):
    /// `mid = x + GQA(LN1(x))`, `out = mid + MoE(LN2(mid))`, keeping activations in `act`.
    /// `input` and `output` are `[tiles·tokens, D]` and must not overlap.
    package func trainingForward(tiles: Int, tokens: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                         act: BlockActivations, mode: TrainingMode, auxiliary: Bool, rngs: inout [TrainingRandom]) {
        let rows = tiles * tokens, d = norm1.dim
        precondition(rows <= act.maxRows && tokens <= act.maxTokens, "training activations too small for this batch")
        norm1.forward(input, ldx: d, rows: rows, into: act.ln1.p, ldo: d)
        act.mid.p.update(from: input, count: rows * d)
        attention.trainingForward(tiles: tiles, tokens: tokens, act: act, residual: act.mid.p)
        norm2.forward(act.mid.p, ldx: d, rows: rows, into: act.ln2.p, ldo: d)
        output.update(from: act.mid.p, count: rows * d)
        moe.trainingForward(rows: rows, tokens: tokens, act: act, residual: output, mode: mode, auxiliary: auxiliary, rngs: &rngs)
    }

    /// Backward pass: `dx` holds the gradient of the block's output on entry and the gradient of its
    /// input on return (the residual connections pass it through; each sub-layer adds its part).
    package func trainingBackward(tiles: Int, tokens: Int, input: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                          act: BlockActivations, mode: TrainingMode, auxiliaryWeight: Double,
                          scratch: BlockGradientScratch, grads: UnsafeMutablePointer<Float>, offsets: ParameterLayout.BlockOffsets) {
        let rows = tiles * tokens, d = norm1.dim
        moe.trainingBackward(rows: rows, act: act, dResidual: dx, mode: mode, auxiliaryWeight: auxiliaryWeight,
                             scratch: scratch, grads: grads, offsets: offsets)
        norm2.backward(input: act.mid.p, ldx: d, outputGradient: scratch.dln.p, lddy: d, rows: rows, addingTo: dx, lddx: d,
                       dWeight: grads + offsets.norm2Weight, dBias: grads + offsets.norm2Bias)
        attention.trainingBackward(tiles: tiles, tokens: tokens, act: act, dResidual: dx, scratch: scratch, grads: grads, offsets: offsets)
        norm1.backward(input: input, ldx: d, outputGradient: scratch.dln.p, lddy: d, rows: rows, addingTo: dx, lddx: d,
                       dWeight: grads + offsets.norm1Weight, dBias: grads + offsets.norm1Bias)
    }
}
