/// A fully connected layer `y = x·Wᵀ + b` with PyTorch's layout: `weight` is `[out, in]` row-major.
public struct Linear: Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    /// `[outFeatures, inFeatures]`, row-major (PyTorch `Linear.weight`).
    public var weight: [Float]
    /// `[outFeatures]`.
    public var bias: [Float]
    /// The weight in bfloat16 when the model runs at ``Precision/bf16`` (set by
    /// ``MoEMAEModel/converted(to:bf16Kernel:)``); nil: FP32 `cblas_sgemm`.
    public internal(set) var bf16: BF16Matrix? = nil

    public init(inFeatures: Int, outFeatures: Int, weight: [Float], bias: [Float]) {
        precondition(weight.count == inFeatures * outFeatures && bias.count == outFeatures, "Linear: weight/bias sizes do not match \(outFeatures)×\(inFeatures)")
        self.inFeatures = inFeatures; self.outFeatures = outFeatures; self.weight = weight; self.bias = bias
    }

    /// Stacks layers with the same input width into one whose outputs are theirs, concatenated in order
    /// (one GEMM instead of several: q/k/v, or V and the gate).
    public init(stacking parts: [Linear]) {
        precondition(!parts.isEmpty && parts.allSatisfy { $0.inFeatures == parts[0].inFeatures })
        self.init(inFeatures: parts[0].inFeatures, outFeatures: parts.reduce(0) { $0 + $1.outFeatures },
                  weight: parts.flatMap(\.weight), bias: parts.flatMap(\.bias))
    }

    /// `y[r] = x[r]·Wᵀ + b` for `rows` rows (row strides `ldx`, `ldy`): one GEMM for all rows.
    @inline(__always)
    package func forward(_ x: UnsafePointer<Float>, ldx: Int, rows: Int, into y: UnsafeMutablePointer<Float>, ldy: Int) {
        if let bf16 {   // the bias starts the accumulators (no fill pass)
            bias.withUnsafeBufferPointer { BLAS.bf16GEMM(m: rows, a: x, lda: ldx, w: bf16, bias: $0.baseAddress!, c: y, ldc: ldy) }
            return
        }
        bias.withUnsafeBufferPointer { VectorKernels.fillRows(y, ld: ldy, rows: rows, n: outFeatures, $0.baseAddress!) }
        weight.withUnsafeBufferPointer { w in
            BLAS.sgemm(transB: true, m: rows, n: outFeatures, k: inFeatures, a: x, lda: ldx, b: w.baseAddress!, ldb: inFeatures,
                       beta: 1, c: y, ldc: ldy)
        }
    }

    /// `y[r] += x[r]·Wᵀ + b`: the residual connection folded into the GEMM (beta 1).
    @inline(__always)
    package func forwardAdding(_ x: UnsafePointer<Float>, ldx: Int, rows: Int, into y: UnsafeMutablePointer<Float>, ldy: Int) {
        if let bf16 {   // y + b computed where the accumulators start (no separate pass)
            bias.withUnsafeBufferPointer { BLAS.bf16GEMM(m: rows, a: x, lda: ldx, w: bf16, bias: $0.baseAddress!, accumulate: true, c: y, ldc: ldy) }
            return
        }
        bias.withUnsafeBufferPointer { VectorKernels.addRows(y, ld: ldy, rows: rows, n: outFeatures, $0.baseAddress!) }
        weight.withUnsafeBufferPointer { w in
            BLAS.sgemm(transB: true, m: rows, n: outFeatures, k: inFeatures, a: x, lda: ldx, b: w.baseAddress!, ldb: inFeatures,
                       beta: 1, c: y, ldc: ldy)
        }
    }
}

extension Linear {
    /// `y[i] = x[rows[i]]·Wᵀ + b` for `count` rows gathered from `x` (row stride `ldx`), in bf16
    /// (``bf16`` must be set): the gather happens in the kernel's FP32 → bf16 conversion, so the rows
    /// are not copied first. Gives exactly ``forward(_:ldx:rows:into:ldy:)`` of the gathered rows.
    @inline(__always)
    package func forwardGathered(_ x: UnsafePointer<Float>, ldx: Int, rows: UnsafePointer<Int32>, count: Int,
                                 into y: UnsafeMutablePointer<Float>, ldy: Int) {
        bias.withUnsafeBufferPointer { BLAS.bf16GEMM(m: count, a: x, lda: ldx, rows: rows, w: bf16!, bias: $0.baseAddress!, c: y, ldc: ldy) }
    }

    /// `y[r] = x[r]·Wᵀ + b` with the input already in bf16 (`x`: `rows × inFeatures` bf16 values, row
    /// stride `ldx` elements, even; ``bf16`` must be set): the numbers of
    /// ``forward(_:ldx:rows:into:ldy:)`` on the FP32 values `x` was rounded from, without converting per call.
    @inline(__always)
    package func forward(bf16 x: UnsafePointer<UInt16>, ldx: Int, rows: Int, into y: UnsafeMutablePointer<Float>, ldy: Int) {
        bias.withUnsafeBufferPointer { BLAS.bf16GEMM(m: rows, bf16: x, lda: ldx, w: bf16!, bias: $0.baseAddress!, c: y, ldc: ldy) }
    }

    /// `y[r] += x[r]·Wᵀ + b` with the input already in bf16 (as ``forward(bf16:ldx:rows:into:ldy:)``).
    @inline(__always)
    package func forwardAdding(bf16 x: UnsafePointer<UInt16>, ldx: Int, rows: Int, into y: UnsafeMutablePointer<Float>, ldy: Int) {
        bias.withUnsafeBufferPointer { BLAS.bf16GEMM(m: rows, bf16: x, lda: ldx, w: bf16!, bias: $0.baseAddress!, accumulate: true, c: y, ldc: ldy) }
    }

    /// This layer with its weight in bf16 for `kernel` (nil: back to FP32).
    func withBF16(_ kernel: BF16Kernel?) -> Linear {
        var l = self
        l.bf16 = kernel.map { BF16Matrix(weight: weight, n: outFeatures, k: inFeatures, kernel: $0) }
        return l
    }
}
