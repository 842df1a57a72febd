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
    @inline(__always)
    static func bf16GEMM(m: Int, a: UnsafePointer<Float>, lda: Int, rows: UnsafePointer<Int32>? = nil, w: BF16Matrix,
                         c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || w.n == 0 { return }
        let kernel = w.kernel == .avx512bf16 ? MOEMAE_BF16_KERNEL_AVX512 : MOEMAE_BF16_KERNEL_PORTABLE
        let rc = w.packed.withUnsafeBufferPointer {
            moemae_bf16_gemm_rows(a, Int32(lda), rows, Int32(m), Int32(w.k), $0.baseAddress!, Int32(w.n), c, Int32(ldc), kernel)
        }
        // −1 cannot happen: a BF16Matrix for the AVX-512 kernel is only made after checking the CPU.
        precondition(rc == 0, "moemae_bf16_gemm failed (\(rc))")
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
