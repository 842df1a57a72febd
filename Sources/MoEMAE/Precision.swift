import CKernels

/// The number format of the encoder's matrix products (`--precision` of `map`, `embed`, `run` and
/// `bench encoder`).
public enum Precision: String, Sendable, CaseIterable, Codable {
    /// IEEE single precision throughout: the default, equal to the reference within 1e-4.
    case fp32
    /// bfloat16 weights and activations inside every Linear layer's matrix product (patch embedding,
    /// q/k/v, attention output, V and gate, experts, W2; the decoder's too), accumulated in FP32 and
    /// started from the FP32 bias. LayerNorm, the attention scores, softmax and weighted values, the
    /// gate softmax, SiLU and the residual stream stay FP32. Needs AVX512_BF16 (``BF16Kernel/avx512bf16``);
    /// quality against FP32 is in docs/performance.md ("bfloat16").
    case bf16
}

/// Which implementation computes the bf16 products. Both perform the same operations in the same
/// order per output element (Sources/CKernels/bf16_gemm.c), so they give the same
/// numbers (compared bit for bit by BF16KernelTests where the CPU has AVX512_BF16).
public enum BF16Kernel: String, Sendable {
    /// `VDPBF16PS` (AVX512_BF16): what `--precision bf16` uses; refused on CPUs without it.
    case avx512bf16
    /// Plain C (vectorised for AVX2 where present), several times slower than FP32: the reference
    /// for tests and quality measurements on CPUs without AVX512_BF16. Never chosen silently.
    case portable
}

/// The x86-64 instruction-set features the kernels choose between, read once with `cpuid`/`xgetbv`.
public struct CPUFeatures: Sendable, Equatable {
    public let avx2FMA: Bool
    public let avx512F: Bool
    public let avx512BF16: Bool
    /// The OS saves the opmask and ZMM registers (XCR0), without which AVX-512 cannot run.
    public let osSavesZMM: Bool
    public let amxBF16: Bool

    public static let current: CPUFeatures = {
        let f = moemae_cpu_features()
        return CPUFeatures(avx2FMA: f & MOEMAE_CPU_AVX2_FMA != 0, avx512F: f & MOEMAE_CPU_AVX512F != 0,
                           avx512BF16: f & MOEMAE_CPU_AVX512_BF16 != 0, osSavesZMM: f & MOEMAE_CPU_OS_ZMM != 0,
                           amxBF16: f & MOEMAE_CPU_AMX_BF16 != 0)
    }()

    /// True when ``BF16Kernel/avx512bf16`` can run here.
    public var hasBF16Kernel: Bool { avx512F && avx512BF16 && osSavesZMM }

    /// What this CPU lacks for the AVX512_BF16 kernel (empty when it has everything).
    public var missingForBF16: [String] {
        var m: [String] = []
        if !avx512F { m.append("AVX512F") }
        if !avx512BF16 { m.append("AVX512_BF16 (the VDPBF16PS instruction)") }
        if avx512F && avx512BF16 && !osSavesZMM { m.append("operating-system support for the AVX-512 registers (XCR0)") }
        return m
    }

    /// The instruction-set extensions present, for reports: e.g. "AVX2+FMA", "AVX2+FMA AVX512F AVX512_BF16".
    public var summary: String {
        var s: [String] = []
        if avx2FMA { s.append("AVX2+FMA") }
        if avx512F { s.append("AVX512F") }
        if avx512BF16 { s.append("AVX512_BF16") }
        if amxBF16 { s.append("AMX-BF16") }
        return s.isEmpty ? "baseline x86-64 (no AVX2)" : s.joined(separator: " ")
    }
}

/// A Linear layer's weight `[n, k]` rounded to bfloat16 and packed for ``BLAS/bf16GEMM`` (immutable).
public final class BF16Matrix: Sendable {
    /// Output features (rows of the PyTorch weight) and input features.
    public let n: Int
    public let k: Int
    let packed: [UInt16]
    public let kernel: BF16Kernel

    /// Rounds `weight` (`[n, k]` row-major, PyTorch `Linear.weight`) to bf16 (nearest even) and packs it.
    public init(weight: [Float], n: Int, k: Int, kernel: BF16Kernel) {
        precondition(weight.count == n * k, "BF16Matrix: \(weight.count) values for \(n)×\(k)")
        self.n = n; self.k = k; self.kernel = kernel
        var p = [UInt16](repeating: 0, count: moemae_bf16_packed_count(Int32(n), Int32(k)))
        weight.withUnsafeBufferPointer { w in
            p.withUnsafeMutableBufferPointer { moemae_bf16_pack(w.baseAddress!, Int32(k), Int32(n), Int32(k), $0.baseAddress!) }
        }
        packed = p
    }
}

extension ModelError {
    /// The refusal of `--precision bf16` on a CPU without AVX512_BF16 (no silent fallback).
    static func bf16Unsupported(_ cpu: CPUFeatures = .current) -> ModelError {
        .unsupportedPrecision("bf16 needs a CPU with AVX512_BF16 (e.g. AMD Zen 4 or later, Intel Cooper Lake, Sapphire Rapids or later); "
            + "this CPU lacks \(cpu.missingForBF16.joined(separator: " and ")) (it has \(cpu.summary)). Use fp32 (the default)")
    }
}
