import CKernels
import COpenBLAS

/// The only place that calls BLAS (OpenBLAS through its CBLAS interface): every module (the encoder
/// kernels, training, the probes' logistic regression, the benchmarks) goes through these functions.
/// The bf16 matrix kernels of `Sources/CKernels` are called from here too (``bf16GEMM``).
///
/// All matrices are row-major `Float` with explicit leading dimensions, so a layer can hand
/// strided views (one head of a fused q/k/v output, one tile of a batch) without copying.
public enum BLAS {
    /// `C = alpha · op(A) · op(B) + beta · C` (cblas_sgemm, row-major).
    /// `A` is `m × k` (`k × m` if `transA`), `B` is `k × n` (`n × k` if `transB`), `C` is `m × n`.
    @inline(__always)
    public static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                      alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                      b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// `C = alpha · op(A) · op(B) + beta · C` in double precision (cblas_dgemm, row-major; shapes as
    /// ``sgemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``).
    @inline(__always)
    public static func dgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                             alpha: Double = 1, a: UnsafePointer<Double>, lda: Int,
                             b: UnsafePointer<Double>, ldb: Int,
                             beta: Double = 0, c: UnsafeMutablePointer<Double>, ldc: Int) {
        if m == 0 || n == 0 { return }
        cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// `y = alpha · op(A) · x + beta · y` in double precision (cblas_dgemv, row-major, unit strides);
    /// `A` is `m × n` as stored (`op` transposes it when `transA`).
    @inline(__always)
    public static func dgemv(transA: Bool = false, m: Int, n: Int, alpha: Double = 1, a: UnsafePointer<Double>, lda: Int,
                             x: UnsafePointer<Double>, beta: Double = 0, y: UnsafeMutablePointer<Double>) {
        if m == 0 || n == 0 { return }
        cblas_dgemv(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, blasint(m), blasint(n), alpha, a, blasint(lda),
                    x, 1, beta, y, 1)
    }

    /// `C += bf16(A) · Wᵀ` with FP32 accumulation from the values already in C: `A` is `m × w.k`
    /// (row stride `lda`), `C` is `m × w.n` (row stride `ldc`); per output element the pairs of `k`
    /// are accumulated in VDPBF16PS order (`moemae_bf16_gemm`). Single-threaded (callers parallelise
    /// over tiles).
    /// With `rows`, row i of A is row `rows[i]` of `a` (gathered while converting to bf16, no copy).
    /// With `bias` (`w.n` values), `C = bias + bf16(A) · Wᵀ` instead (the accumulators start from the
    /// bias and C is only written: the same numbers as filling C with the bias first), or with
    /// `accumulate` `C = (C + bias) + bf16(A) · Wᵀ` (the same numbers as adding the bias to C first).
    @inline(__always)
    static func bf16GEMM(m: Int, a: UnsafePointer<Float>, lda: Int, rows: UnsafePointer<Int32>? = nil, w: BF16Matrix,
                         bias: UnsafePointer<Float>? = nil, accumulate: Bool = false, c: UnsafeMutablePointer<Float>, ldc: Int) {
        bf16GEMMCall(m: m, a32: a, a16: nil, lda: lda, rows: rows, w: w, bias: bias, accumulate: accumulate, c: c, ldc: ldc)
    }

    /// ``bf16GEMM(m:a:lda:rows:w:bias:accumulate:c:ldc:)`` with A already in bf16 (`a`: `m × w.k` bf16 values, row
    /// stride `lda` elements, even; when `w.k` is odd, column `w.k` must hold 0): no conversion per call.
    /// Gives the same numbers as the FP32 form on the FP32 values these were rounded from.
    @inline(__always)
    static func bf16GEMM(m: Int, bf16 a: UnsafePointer<UInt16>, lda: Int, rows: UnsafePointer<Int32>? = nil, w: BF16Matrix,
                         bias: UnsafePointer<Float>? = nil, accumulate: Bool = false, c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(m == 0 || w.n == 0 || lda % 2 == 0, "bf16 rows must be whole pairs")
        bf16GEMMCall(m: m, a32: nil, a16: a, lda: lda, rows: rows, w: w, bias: bias, accumulate: accumulate, c: c, ldc: ldc)
    }

    /// The one call of `moemae_bf16_gemm_ex` behind both forms: exactly one of `a32` (FP32, converted per
    /// call) and `a16` (bf16 already) is given.
    @inline(__always)
    private static func bf16GEMMCall(m: Int, a32: UnsafePointer<Float>?, a16: UnsafePointer<UInt16>?, lda: Int,
                                     rows: UnsafePointer<Int32>?, w: BF16Matrix, bias: UnsafePointer<Float>?,
                                     accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || w.n == 0 { return }
        let rc = w.packed.withUnsafeBufferPointer {
            moemae_bf16_gemm_ex(a32, a16, Int32(lda), rows, Int32(m), Int32(w.k), $0.baseAddress!, Int32(w.n), bias,
                                bias == nil || accumulate ? 1 : 0, c, Int32(ldc),
                                kernelCode(w.kernel))
        }
        // −1 cannot happen: a BF16Matrix for the AVX-512 kernel is only made after checking the CPU.
        precondition(rc == 0, "moemae_bf16_gemm failed (\(rc))")
    }

    /// One expert's product with the mixture-of-experts epilogue fused (`moemae_bf16_expert_silu`): for
    /// each of `count` routed slots i (token t = `tokens[i]`, gate g = `gates[i]`), s = SiLU(bias +
    /// bf16(A[t]) · Wᵀ) (`w.n` = hidden width h; A in bf16, row stride `lda`), then
    /// `mix[t] = g·s` when `second[i] == 0` (the token's first expert), else
    /// `out[t] = bf16((mix[t] + g·s) ⊙ vx[t])` (`out` row stride `ldout` ≥ ⌈h/16⌉·16; columns past h get 0).
    /// The same numbers as the product into a hidden buffer, ``VectorKernels/addGatedSiLURows`` into a zeroed
    /// mix, the ⊙ V·x pass and the conversion to bf16, without the hidden buffer and those passes.
    @inline(__always)
    static func bf16ExpertSiLU(count: Int, a: UnsafePointer<UInt16>, lda: Int, tokens: UnsafePointer<Int32>,
                               gates: UnsafePointer<Float>, second: UnsafePointer<UInt8>, w: BF16Matrix, bias: UnsafePointer<Float>,
                               mix: UnsafeMutablePointer<Float>, ldmix: Int, vx: UnsafePointer<Float>, ldvx: Int,
                               out: UnsafeMutablePointer<UInt16>, ldout: Int) {
        if count == 0 || w.n == 0 { return }
        precondition(lda % 2 == 0 && ldout % 2 == 0 && ldout >= (w.n + 15) / 16 * 16, "bf16 expert product: row strides")
        let rc = w.packed.withUnsafeBufferPointer {
            moemae_bf16_expert_silu(nil, a, Int32(lda), tokens, gates, second, Int32(count), Int32(w.k), $0.baseAddress!, Int32(w.n),
                                    bias, mix, Int32(ldmix), vx, Int32(ldvx), out, Int32(ldout), kernelCode(w.kernel))
        }
        precondition(rc == 0, "moemae_bf16_expert_silu failed (\(rc))")
    }

    /// `rows` rows of `n` FP32 values (row stride `ldx`) rounded to bf16 (nearest even, denormals to
    /// zero, as VCVTNEPS2BF16) into `y` (row stride `ldy`): with VCVTNE2PS2BF16 for the AVX-512 kernel,
    /// in C otherwise (the same bits, `BF16KernelTests`).
    @inline(__always)
    static func bf16Round(rows: Int, n: Int, x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<UInt16>, ldy: Int,
                          kernel: BF16Kernel) {
        let rc = moemae_bf16_round_rows(x, Int32(ldx), Int32(rows), Int32(n), y, Int32(ldy), kernelCode(kernel))
        precondition(rc == 0, "moemae_bf16_round_rows failed (\(rc))")
    }

    @inline(__always)
    private static func kernelCode(_ k: BF16Kernel) -> Int32 {
        k == .avx512bf16 ? MOEMAE_BF16_KERNEL_AVX512 : MOEMAE_BF16_KERNEL_PORTABLE
    }

    /// Sets the number of threads OpenBLAS uses for each call. The setting is process-wide (OpenBLAS
    /// keeps one thread pool), so it belongs to the job, not to a worker or an engine: a job sets it
    /// once when it is set up (`MapJob.run` from `MapOptions.blasThreads`, `moemae embed`, `moemae
    /// pretrain`, each benchmark configuration) and nothing else changes it while the job runs.
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }

    /// The number of threads OpenBLAS currently uses.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// The kernel OpenBLAS selected for this CPU (`openblas_get_corename`, e.g. "Haswell",
    /// "SkylakeX", "Zen"); `OPENBLAS_CORETYPE` overrides the detection.
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// OpenBLAS's build configuration string (`openblas_get_config`).
    public static var configString: String {
        guard let p = openblas_get_config() else { return "unknown" }
        return String(cString: p)
    }
}
