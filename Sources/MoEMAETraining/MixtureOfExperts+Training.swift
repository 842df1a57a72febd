import Foundation
import MoEMAE

extension MixtureOfExperts {
    /// Training forward pass of the block (docs/model.md, "Mixture-of-experts block"; the
    /// reference's `NoisyTopKGate` and `MoELayer`), keeping what ``trainingBackward`` needs in `act`.
    ///
    /// - Gate: logits `Wg·x + b` and noise logits `Wnoise·x + b` (the latter only when noise is on or
    ///   the auxiliary loss is wanted); `H = logits + ε·softplus(noise logits)`, ε ~ N(0,1) from the tile's random stream `rngs[tile]`
    ///   when `mode.gateNoise`, else `H = logits`. Top-2 of H, softmax over the two → g1, g2.
    /// - Experts: `W_e` as one GEMM per expert over its gathered tokens, `SiLU(W_e·x) ⊙ V·x`, then W2
    ///   as one GEMM over all (token, expert) slots; with expert dropout each slot's output gets its
    ///   own dropout mask (the reference applies `nn.Dropout` inside every expert), so the
    ///   shared-W2 shortcut of inference does not apply. `residual += Σ g_e·drop_e ⊙ (W2·u_e + b2)`.
    /// - Auxiliary loss (`auxiliary`): `0.01·CV(importance) + 0.01·CV(load)`, importance_e = Σ_t G[t,e],
    ///   load_e = Σ_t Φ((logit_e − ψ)/softplus(noise logit_e)) with the reference's threshold
    ///   ψ = l₂ if H_e > l₂, else l₃ if H_e ≤ l₃, else H_e (l₂, l₃ the 2nd and 3rd largest H);
    ///   CV = population std / (mean + 1e-6). Its value goes to `act.auxiliaryLoss` and its gradients
    ///   with respect to importance and load to `act.importanceGradient` / `act.loadGradient`.
    package func trainingForward(rows: Int, tokens: Int, act: BlockActivations, residual: UnsafeMutablePointer<Float>, mode: TrainingMode,
                         auxiliary: Bool, rngs: inout [TrainingRandom]) {
        let h = hidden, e = experts.count, d = dim
        let ldw = h + e
        let z = act.ln2.p
        packed.forward(z, ldx: d, rows: rows, into: act.vg.p, ldy: ldw)
        let useNoiseLogits = mode.gateNoise || auxiliary
        if useNoiseLogits { noise.forward(z, ldx: d, rows: rows, into: act.raw.p, ldy: e) }
        if mode.gateNoise {
            for b in 0..<(rows / tokens) { rngs[b].fillNormal(act.eps.p + b * tokens * e, count: tokens * e) }
        }
        // Noisy logits, top-3, gate weights.
        for j in 0..<e { act.expertStart[j] = 0 }
        var counts = [Int](repeating: 0, count: e)
        for t in 0..<rows {
            let logits = act.vg.p + t * ldw + h
            let hrow = act.noisy.p + t * e
            for j in 0..<e {
                if mode.gateNoise {
                    hrow[j] = logits[j] + act.eps.p[t * e + j] * Self.softplus(act.raw.p[t * e + j])
                } else {
                    hrow[j] = logits[j]
                }
            }
            var i1 = 0
            for j in 1..<e where hrow[j] > hrow[i1] { i1 = j }
            var i2 = -1
            for j in 0..<e where j != i1 && (i2 < 0 || hrow[j] > hrow[i2]) { i2 = j }
            var i3 = -1
            for j in 0..<e where j != i1 && j != i2 && (i3 < 0 || hrow[j] > hrow[i3]) { i3 = j }
            let e2 = VectorKernels.exp(hrow[i2] - hrow[i1])
            act.gates.p[2 * t] = 1 / (1 + e2); act.gates.p[2 * t + 1] = e2 / (1 + e2)
            act.route.p[3 * t] = Int32(i1); act.route.p[3 * t + 1] = Int32(i2); act.route.p[3 * t + 2] = Int32(i3)
            counts[i1] += 1; counts[i2] += 1
        }
        act.expertStart[0] = 0
        for j in 0..<e { act.expertStart[j + 1] = act.expertStart[j] + counts[j]; counts[j] = 0 }
        for t in 0..<rows {
            for s in 0..<2 {
                let j = Int(act.route.p[3 * t + s])
                let slot = act.expertStart[j] + counts[j]
                counts[j] += 1
                act.slotToken.p[slot] = Int32(t)
                act.tokenSlot.p[2 * t + s] = Int32(slot)
            }
        }
        let slots = 2 * rows
        // Experts: W_e per expert on its gathered tokens, then SiLU(W_e x) ⊙ V x.
        for j in 0..<e {
            let start = act.expertStart[j], n = act.expertStart[j + 1] - start
            if n == 0 { continue }
            for r in 0..<n {
                (act.gathered.p + (start + r) * d).update(from: z + Int(act.slotToken.p[start + r]) * d, count: d)
            }
            experts[j].forward(act.gathered.p + start * d, ldx: d, rows: n, into: act.pre.p + start * h, ldy: h)
        }
        for s in 0..<slots {
            let t = Int(act.slotToken.p[s])
            TrainingKernels.swiglu(act.pre.p + s * h, act.vg.p + t * ldw, into: act.act.p + s * h, h)
        }
        w2.forward(act.act.p, ldx: h, rows: slots, into: act.expertOut.p, ldy: d)
        if mode.expertDropout > 0 {
            for s in 0..<slots {
                rngs[Int(act.slotToken.p[s]) / tokens].fillDropout(act.drop.p + s * d, count: d, p: mode.expertDropout)
            }
        }
        for t in 0..<rows {
            for s in 0..<2 {
                let slot = Int(act.tokenSlot.p[2 * t + s])
                let g = act.gates.p[2 * t + s]
                if mode.expertDropout > 0 {
                    TrainingKernels.axpyMasked(g, act.expertOut.p + slot * d, act.drop.p + slot * d, residual + t * d, d)
                } else {
                    TrainingKernels.axpy(g, act.expertOut.p + slot * d, residual + t * d, d)
                }
            }
        }
        act.auxiliaryLoss = 0
        if auxiliary { auxiliaryStatistics(rows: rows, act: act) }
    }

    /// PyTorch's `F.softplus` (beta 1, threshold 20).
    @inline(__always) package static func softplus(_ x: Float) -> Float {
        x > 20 ? x : Float(Foundation.log1p(Foundation.exp(Double(x))))
    }

    /// d softplus / dx = σ(x) (1 above the threshold 20).
    @inline(__always) package static func softplusDerivative(_ x: Float) -> Float {
        x > 20 ? 1 : Float(1 / (1 + Foundation.exp(-Double(x))))
    }

    /// The reference's threshold ψ for expert `j` of a token and the expert whose H value it is.
    @inline(__always)
    package static func threshold(_ hrow: UnsafePointer<Float>, j: Int, i2: Int, i3: Int) -> (value: Float, source: Int) {
        let l2 = hrow[i2]
        if hrow[j] > l2 { return (l2, i2) }
        if i3 >= 0, hrow[j] <= hrow[i3] { return (hrow[i3], i3) }
        return (hrow[j], j)
    }

    /// Standard normal CDF Φ and density φ (torch.distributions.Normal(0, 1)).
    @inline(__always) package static func normalCDF(_ x: Double) -> Double { 0.5 * Foundation.erfc(-x / 2.0.squareRoot()) }
    @inline(__always) package static func normalPDF(_ x: Double) -> Double { Foundation.exp(-0.5 * x * x) / (2 * Double.pi).squareRoot() }

    /// `0.01·CV(x)` with CV = population std / (mean + 1e-6), and its gradient with respect to `x`.
    package static func weightedCV(_ x: [Double]) -> (value: Double, gradient: [Double]) {
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
        let std = variance.squareRoot(), denom = mean + 1e-6
        let grad = x.map { xi -> Double in
            let dStd = std > 0 ? (xi - mean) / (n * std) : 0
            return 0.01 * (dStd / denom - std / (denom * denom) / n)
        }
        return (0.01 * std / denom, grad)
    }

    /// This batch part's importance (Σ_t G[t,e]) and load (Σ_t Φ((logit_e − ψ)/softplus(noise logit_e)))
    /// per expert, into `act.importance` / `act.load`. The loss needs them summed over the whole batch
    /// (``BlockActivations/setAuxiliary(importance:load:)``), since the CV is not additive.
    package func auxiliaryStatistics(rows: Int, act: BlockActivations) {
        let e = experts.count, ldw = hidden + e
        var importance = [Double](repeating: 0, count: e)
        var load = [Double](repeating: 0, count: e)
        for t in 0..<rows {
            importance[Int(act.route.p[3 * t])] += Double(act.gates.p[2 * t])
            importance[Int(act.route.p[3 * t + 1])] += Double(act.gates.p[2 * t + 1])
            let hrow = act.noisy.p + t * e, logits = act.vg.p + t * ldw + hidden
            let i2 = Int(act.route.p[3 * t + 1]), i3 = Int(act.route.p[3 * t + 2])
            for j in 0..<e {
                let psi = Self.threshold(hrow, j: j, i2: i2, i3: i3).value
                let s = Self.softplus(act.raw.p[t * e + j])
                let n = Float(logits[j] - psi) / s
                load[j] += Self.normalCDF(Double(n))
            }
        }
        act.importance = importance
        act.load = load
    }

    /// Backward pass of ``trainingForward``: from `dResidual` (gradient of the residual stream after
    /// the block) writes the gradient of the normalised input to `scratch.dln` and accumulates the
    /// parameter gradients of W_e, shared V and W2, Wg and Wnoise. `auxiliaryWeight` scales the
    /// auxiliary loss's gradient (0.5 in the pretraining loss; 0 when the layer's loss is not used).
    package func trainingBackward(rows: Int, act: BlockActivations, dResidual: UnsafePointer<Float>, mode: TrainingMode,
                          auxiliaryWeight: Double, scratch: BlockGradientScratch, grads: UnsafeMutablePointer<Float>,
                          offsets: ParameterLayout.BlockOffsets) {
        let h = hidden, e = experts.count, d = dim, ldw = h + e
        let slots = 2 * rows
        let dslot = scratch.dslot.p, dgate = scratch.dgathered.p   // dgate: [rows, 2] (reuses scratch until the experts' pass)
        let dropout = mode.expertDropout > 0
        // Through the gate-weighted sum: d(expert output) and d(gate weight) per slot.
        for t in 0..<rows {
            let dy = dResidual + t * d
            for s in 0..<2 {
                let slot = Int(act.tokenSlot.p[2 * t + s])
                let g = act.gates.p[2 * t + s]
                let out = act.expertOut.p + slot * d
                if dropout {
                    let m = act.drop.p + slot * d
                    TrainingKernels.scaleMasked(g, dy, m, dslot + slot * d, d)
                    dgate[2 * t + s] = TrainingKernels.dot3(dy, m, out, d)
                } else {
                    TrainingKernels.scale(g, dy, dslot + slot * d, d)
                    dgate[2 * t + s] = TrainingKernels.dot(dy, out, d)
                }
            }
        }
        // Gate: softmax over the two chosen logits, auxiliary loss, noise.
        let dvg = scratch.dvg.p, draw = scratch.draw.p
        var dH = [Float](repeating: 0, count: e), dLogit = [Float](repeating: 0, count: e), dScale = [Float](repeating: 0, count: e)
        let aux = auxiliaryWeight != 0
        let usedNoiseLogits = mode.gateNoise || aux
        for t in 0..<rows {
            for j in 0..<e { dH[j] = 0; dLogit[j] = 0; dScale[j] = 0 }
            let i1 = Int(act.route.p[3 * t]), i2 = Int(act.route.p[3 * t + 1]), i3 = Int(act.route.p[3 * t + 2])
            var dg1 = dgate[2 * t], dg2 = dgate[2 * t + 1]
            if aux {
                dg1 += Float(auxiliaryWeight * act.importanceGradient[i1])
                dg2 += Float(auxiliaryWeight * act.importanceGradient[i2])
            }
            let g1 = act.gates.p[2 * t], g2 = act.gates.p[2 * t + 1]
            let dot = g1 * dg1 + g2 * dg2
            dH[i1] += g1 * (dg1 - dot)
            dH[i2] += g2 * (dg2 - dot)
            let hrow = act.noisy.p + t * e, logits = act.vg.p + t * ldw + h
            if aux {
                for j in 0..<e {
                    let (psi, source) = Self.threshold(hrow, j: j, i2: i2, i3: i3)
                    let s = Double(Self.softplus(act.raw.p[t * e + j]))
                    let n = Double(logits[j] - psi)
                    let w = auxiliaryWeight * act.loadGradient[j] * Self.normalPDF(n / s) / s
                    dLogit[j] += Float(w)
                    dH[source] -= Float(w)
                    dScale[j] += Float(-w * n / s)
                }
            }
            for j in 0..<e {
                dLogit[j] += dH[j]
                if mode.gateNoise { dScale[j] += dH[j] * act.eps.p[t * e + j] }
                dvg[t * ldw + h + j] = dLogit[j]
                if usedNoiseLogits { draw[t * e + j] = dScale[j] * Self.softplusDerivative(act.raw.p[t * e + j]) }
            }
        }
        // W2 over all slots: dW2, db2 and d(act).
        w2.backward(input: act.act.p, ldx: h, outputGradient: dslot, lddy: d, rows: slots,
                    inputGradient: scratch.dact.p, lddx: h, accumulate: false,
                    dWeight: grads + offsets.w2Weight, dBias: grads + offsets.w2Bias)
        // SwiGLU: d(pre-activation) in place and d(V·x) per token.
        for t in 0..<rows { (dvg + t * ldw).update(repeating: 0, count: h) }
        for s in 0..<slots {
            let t = Int(act.slotToken.p[s])
            TrainingKernels.swigluBackward(act.pre.p + s * h, act.vg.p + t * ldw, du: scratch.dact.p + s * h, dv: dvg + t * ldw, h)
        }
        // Experts: dW_e, db_e, and the gathered inputs' gradient scattered back to the tokens.
        let dz = scratch.dln.p
        dz.update(repeating: 0, count: rows * d)
        for j in 0..<e {
            let start = act.expertStart[j], n = act.expertStart[j + 1] - start
            if n == 0 { continue }
            experts[j].backward(input: act.gathered.p + start * d, ldx: d, outputGradient: scratch.dact.p + start * h, lddy: h, rows: n,
                                inputGradient: scratch.dgathered.p, lddx: d, accumulate: false,
                                dWeight: grads + offsets.expertWeight[j], dBias: grads + offsets.expertBias[j])
            for r in 0..<n {
                let t = Int(act.slotToken.p[start + r])
                TrainingKernels.axpy(1, scratch.dgathered.p + r * d, dz + t * d, d)
            }
        }
        // V and the gate (one packed GEMM), then the noise projection.
        packed.backward(input: act.ln2.p, ldx: d, outputGradient: dvg, lddy: ldw, rows: rows,
                        inputGradient: dz, lddx: d, accumulate: true,
                        dWeight: grads + offsets.vGateWeight, dBias: grads + offsets.vGateBias)
        if usedNoiseLogits {
            noise.backward(input: act.ln2.p, ldx: d, outputGradient: draw, lddy: e, rows: rows,
                           inputGradient: dz, lddx: d, accumulate: true,
                           dWeight: grads + offsets.noiseWeight, dBias: grads + offsets.noiseBias)
        }
    }
}
