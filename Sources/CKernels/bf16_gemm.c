// bfloat16 matrix products with FP32 accumulation (see include/moemae_kernels.h, "bfloat16").
//
// Two implementations of one arithmetic:
// - `gemm_avx512bf16`: `VDPBF16PS` (`_mm512_dpbf16_ps`), compiled with
//   `__attribute__((target("avx512f,avx512bf16")))` so that only this function uses those
//   instructions; it runs only when `moemae_cpu_features()` reports AVX512F, AVX512_BF16 and the
//   OS saving the ZMM state.
// - `gemm_portable`: plain C that performs, for every output element, the same operations in the
//   same order as one lane of the AVX-512 kernel, following the Intel SDM pseudocode of VDPBF16PS
//   (per 32-bit lane: `acc += a[2i+1]·b[2i+1]`, then `acc += a[2i]·b[2i]`, each product of two bf16
//   values exact in FP32, each addition rounded to nearest even). It is the reference the tests and
//   the quality measurements use on CPUs without AVX512_BF16.
//
// Conversion FP32 → bf16 follows the SDM's `convert_fp32_to_bfloat16` (VCVTNEPS2BF16): round to
// nearest even, denormals to signed zero, NaN quieted — in C (`bf_round`) for the weights (once)
// and the portable kernel's activations, with VCVTNE2PS2BF16 for the native kernel's activations
// (per call, 32 values per instruction; BF16KernelTests compares the two). Known
// difference left: VDPBF16PS flushes denormal products and sums to zero (FTZ); the portable path
// keeps them. Both only matter below 1.2e-38.
#include "moemae_kernels.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <cpuid.h>
#define BF_X86 1
#else
#define BF_X86 0
#endif

// ---------------------------------------------------------------------------------------------
// CPU features.

#if BF_X86
static int bf_detect(void) {
    unsigned a, b, c, d;
    int features = 0;
    if (!__get_cpuid_count(1, 0, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1;
    unsigned long long xcr0 = 0;
    if (osxsave) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = ((unsigned long long)hi << 32) | lo;
    }
    int ymmSaved = (xcr0 & 0x6) == 0x6;
    int zmmSaved = (xcr0 & 0xe6) == 0xe6;   // SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM
    int tileSaved = (xcr0 & 0x60000) == 0x60000;  // XTILECFG, XTILEDATA
    unsigned max = __get_cpuid_max(0, 0);
    if (max >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        if (((b >> 5) & 1) && fma && ymmSaved) features |= MOEMAE_CPU_AVX2_FMA;
        if ((b >> 16) & 1) features |= MOEMAE_CPU_AVX512F;
        if ((d >> 22) & 1) features |= MOEMAE_CPU_AMX_BF16;
        if (a >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            if ((a >> 5) & 1) features |= MOEMAE_CPU_AVX512_BF16;
        }
    }
    if (zmmSaved) features |= MOEMAE_CPU_OS_ZMM;
    if (tileSaved) features |= MOEMAE_CPU_OS_AMX;
    return features;
}
#endif

static int bf_features = -1;

int moemae_cpu_features(void) {
    int f = __atomic_load_n(&bf_features, __ATOMIC_RELAXED);
    if (f < 0) {
#if BF_X86
        f = bf_detect();
#else
        f = 0;
#endif
        __atomic_store_n(&bf_features, f, __ATOMIC_RELAXED);
    }
    return f;
}

int moemae_bf16_native_available(void) {
    int need = MOEMAE_CPU_AVX512F | MOEMAE_CPU_AVX512_BF16 | MOEMAE_CPU_OS_ZMM;
    return (moemae_cpu_features() & need) == need;
}

// ---------------------------------------------------------------------------------------------
// Conversion.

/// FP32 → bf16 as VCVTNEPS2BF16 (Intel SDM `convert_fp32_to_bfloat16`): nearest even, zero and
/// denormal inputs to signed zero, NaN quieted (sign and payload kept).
static inline uint16_t bf_round(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);  // NaN: keep sign/payload, quiet
    if ((u & 0x7f800000u) == 0) return (uint16_t)((u >> 16) & 0x8000u);        // zero or denormal: signed zero
    u += 0x7fffu + ((u >> 16) & 1u);                                            // nearest even (inf stays inf)
    return (uint16_t)(u >> 16);
}

/// bf16 → FP32 (exact).
static inline float bf_widen(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

void moemae_bf16_round(const float *x, uint16_t *y, long n) {
    for (long i = 0; i < n; i++) y[i] = bf_round(x[i]);
}

void moemae_bf16_widen(const uint16_t *x, float *y, long n) {
    for (long i = 0; i < n; i++) y[i] = bf_widen(x[i]);
}

long moemae_bf16_packed_count(int n, int k) {
    return (long)((n + 15) / 16) * 16 * (long)((k + 1) / 2) * 2;
}

void moemae_bf16_pack(const float *w, int ldw, int n, int k, uint16_t *packed) {
    int kp = (k + 1) / 2, nb = (n + 15) / 16;
    for (int b = 0; b < nb; b++)
        for (int p = 0; p < kp; p++)
            for (int j = 0; j < 16; j++)
                for (int s = 0; s < 2; s++) {
                    int col = b * 16 + j, kk = 2 * p + s;
                    packed[(((long)b * kp + p) * 16 + j) * 2 + s] =
                        (col < n && kk < k) ? bf_round(w[(long)col * ldw + kk]) : 0;
                }
}

/// Rows r0 ..< r0+mr of A as bf16 pairs: out[r·kp + p] = bf16(a[2p]) | bf16(a[2p+1]) << 16 (0 past k).
static void bf_pairs(const float *a, int lda, const int32_t *rows, int r0, int mr, int k, uint32_t *out) {
    int kp = (k + 1) / 2;
    for (int r = 0; r < mr; r++) {
        const float *row = a + (long)(rows ? rows[r0 + r] : r0 + r) * lda;
        uint32_t *o = out + (long)r * kp;
        for (int p = 0; p < k / 2; p++)
            o[p] = (uint32_t)bf_round(row[2 * p]) | ((uint32_t)bf_round(row[2 * p + 1]) << 16);
        if (k & 1) o[kp - 1] = (uint32_t)bf_round(row[k - 1]);
    }
}

// ---------------------------------------------------------------------------------------------
// Portable reference: per output element the lane arithmetic of VDPBF16PS.

#define BF_ROWS 4

__attribute__((always_inline))
static inline void gemm_reference(const float *a, int lda, const int32_t *rows, int m, int k, const uint16_t *packed, int n, float *c, int ldc,
                                  uint32_t *pairs) {
    int kp = (k + 1) / 2, nb = (n + 15) / 16;
    for (int i0 = 0; i0 < m; i0 += BF_ROWS) {
        int mr = m - i0 < BF_ROWS ? m - i0 : BF_ROWS;
        bf_pairs(a, lda, rows, i0, mr, k, pairs);
        for (int b = 0; b < nb; b++) {
            int cols = n - b * 16 < 16 ? n - b * 16 : 16;
            float acc[BF_ROWS][16] = {{0}};
            for (int r = 0; r < mr; r++)
                for (int j = 0; j < cols; j++) acc[r][j] = c[(long)(i0 + r) * ldc + b * 16 + j];
            const uint16_t *bp = packed + (long)b * kp * 32;
            for (int p = 0; p < kp; p++) {
                const uint16_t *bq = bp + (long)p * 32;
                float blo[16], bhi[16];
                for (int j = 0; j < 16; j++) { blo[j] = bf_widen(bq[2 * j]); bhi[j] = bf_widen(bq[2 * j + 1]); }
                for (int r = 0; r < BF_ROWS; r++) {  // rows past mr work on zero pairs and are not stored
                    uint32_t pr = r < mr ? pairs[(long)r * kp + p] : 0;
                    float alo = bf_widen((uint16_t)(pr & 0xffffu)), ahi = bf_widen((uint16_t)(pr >> 16));
                    for (int j = 0; j < 16; j++) {
                        float t = acc[r][j] + ahi * bhi[j];
                        acc[r][j] = t + alo * blo[j];
                    }
                }
            }
            for (int r = 0; r < mr; r++)
                for (int j = 0; j < cols; j++) c[(long)(i0 + r) * ldc + b * 16 + j] = acc[r][j];
        }
    }
}

static void gemm_portable(const float *a, int lda, const int32_t *rows, int m, int k, const uint16_t *packed, int n, float *c, int ldc,
                          uint32_t *pairs) {
    gemm_reference(a, lda, rows, m, k, packed, n, c, ldc, pairs);
}

#if BF_X86
// The same C compiled for AVX2+FMA: the compiler vectorises over the 16 columns of a block; a fused
// multiply-add gives the same result as the multiply then add because every product of two bf16
// values is exact in FP32.
__attribute__((target("avx2,fma")))
static void gemm_portable_avx2(const float *a, int lda, const int32_t *rows, int m, int k, const uint16_t *packed, int n, float *c, int ldc,
                               uint32_t *pairs) {
    gemm_reference(a, lda, rows, m, k, packed, n, c, ldc, pairs);
}
#endif

// ---------------------------------------------------------------------------------------------
// AVX512_BF16: tiles of up to 8 rows × 3 blocks of 16 columns in 24 ZMM accumulators.
//
// The rows of A are converted in chunks of BF_MC rows with VCVTNE2PS2BF16 (the same rounding as
// `bf_round`: nearest even, denormal inputs to signed zero, NaN quieted) into pairs; for each group
// of 3 column blocks the chunk's rows then run 8 at a time against that panel of W, so the A pairs
// (BF_MC · ⌈k/2⌉ · 4 bytes) and the W panel (3 · ⌈k/2⌉ · 64 bytes) both stay in L1 for k ≤ 144.
// Per pair of k, a tile loads 3 W vectors and broadcasts 8 A pairs for 24 VDPBF16PS.

#define BF_MR 8
#define BF_NB 3
#define BF_MC 48

#if BF_X86
/// Rows r0 ..< r0+mr of A into pairs (row stride `ldp` in pairs), as `bf_pairs` computes them.
__attribute__((target("avx512f,avx512bf16")))
static void bf_pairs_avx512(const float *a, int lda, const int32_t *rows, int r0, int mr, int k, uint32_t *out, int ldp) {
    for (int r = 0; r < mr; r++) {
        const float *row = a + (long)(rows ? rows[r0 + r] : r0 + r) * lda;
        uint32_t *o = out + (long)r * ldp;
        int j = 0;
        for (; j + 32 <= k; j += 32) {
            __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(row + j + 16), _mm512_loadu_ps(row + j));
            _mm512_storeu_si512((void *)(o + j / 2), (__m512i)v);
        }
        int rem = k - j;
        if (rem > 0) {
            __mmask16 lo = rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem) - 1u);
            __mmask16 hi = rem > 16 ? (__mmask16)((1u << (rem - 16)) - 1u) : 0;
            __m512bh v = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, row + j + 16), _mm512_maskz_loadu_ps(lo, row + j));
            int pairs = (rem + 1) / 2;
            _mm512_mask_storeu_epi32((void *)(o + j / 2), (__mmask16)((1u << pairs) - 1u), (__m512i)v);
        }
    }
}

/// C[r0+r, (b0+jb)·16 + j] += Σ_p pairs[r, p] · W-block (b0+jb) pair p, for r < MR, jb < NB
/// (compile-time constants once inlined, so the accumulators live in registers).
__attribute__((target("avx512f,avx512bf16"), always_inline))
static inline void bf_tile_avx512(const uint32_t *pairs, int ldp, int kp, const int MR, const int NB,
                                  const uint16_t *packed, int b0, int n, float *c, int ldc) {
    __m512 acc[BF_MR][BF_NB];
    __mmask16 mask[BF_NB];
    const uint16_t *bp[BF_NB];
    for (int jb = 0; jb < NB; jb++) {
        int cols = n - (b0 + jb) * 16;
        mask[jb] = cols >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << cols) - 1u);
        bp[jb] = packed + (long)(b0 + jb) * kp * 32;
        for (int r = 0; r < MR; r++) acc[r][jb] = _mm512_maskz_loadu_ps(mask[jb], c + (long)r * ldc + (b0 + jb) * 16);
    }
    // The next tile's C rows (the same columns, BF_MR rows on) are fetched while this one computes.
    for (int r = 0; r < BF_MR; r++)
        for (int jb = 0; jb < NB; jb++) _mm_prefetch((const char *)(c + (long)(MR + r) * ldc + (b0 + jb) * 16), _MM_HINT_T0);
    for (int p = 0; p < kp; p++) {
        __m512bh bv[BF_NB];
        for (int jb = 0; jb < NB; jb++) bv[jb] = (__m512bh)_mm512_loadu_si512((const void *)(bp[jb] + (long)p * 32));
        for (int r = 0; r < MR; r++) {
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)pairs[(long)r * ldp + p]);
            for (int jb = 0; jb < NB; jb++) acc[r][jb] = _mm512_dpbf16_ps(acc[r][jb], av, bv[jb]);
        }
    }
    for (int jb = 0; jb < NB; jb++)
        for (int r = 0; r < MR; r++) _mm512_mask_storeu_ps(c + (long)r * ldc + (b0 + jb) * 16, mask[jb], acc[r][jb]);
}

#define BF_TILE_ROWS(NB)                                                                                  \
    switch (mr) {                                                                                         \
    case 8: bf_tile_avx512(pr, kp, kp, 8, NB, packed, b0, n, cr, ldc); break;                             \
    case 7: bf_tile_avx512(pr, kp, kp, 7, NB, packed, b0, n, cr, ldc); break;                             \
    case 6: bf_tile_avx512(pr, kp, kp, 6, NB, packed, b0, n, cr, ldc); break;                             \
    case 5: bf_tile_avx512(pr, kp, kp, 5, NB, packed, b0, n, cr, ldc); break;                             \
    case 4: bf_tile_avx512(pr, kp, kp, 4, NB, packed, b0, n, cr, ldc); break;                             \
    case 3: bf_tile_avx512(pr, kp, kp, 3, NB, packed, b0, n, cr, ldc); break;                             \
    case 2: bf_tile_avx512(pr, kp, kp, 2, NB, packed, b0, n, cr, ldc); break;                             \
    default: bf_tile_avx512(pr, kp, kp, 1, NB, packed, b0, n, cr, ldc); break;                            \
    }

__attribute__((target("avx512f,avx512bf16")))
static void gemm_avx512bf16(const float *a, int lda, const int32_t *rows, int m, int k, const uint16_t *packed, int n, float *c, int ldc,
                            uint32_t *pairs) {
    int kp = (k + 1) / 2, nb = (n + 15) / 16;
    for (int i0 = 0; i0 < m; i0 += BF_MC) {
        int mc = m - i0 < BF_MC ? m - i0 : BF_MC;
        bf_pairs_avx512(a, lda, rows, i0, mc, k, pairs, kp);
        for (int b0 = 0; b0 < nb; b0 += BF_NB) {
            int nbr = nb - b0 < BF_NB ? nb - b0 : BF_NB;
            for (int r0 = 0; r0 < mc; r0 += BF_MR) {
                int mr = mc - r0 < BF_MR ? mc - r0 : BF_MR;
                const uint32_t *pr = pairs + (long)r0 * kp;
                float *cr = c + (long)(i0 + r0) * ldc;
                if (nbr == 3) { BF_TILE_ROWS(3) }
                else if (nbr == 2) { BF_TILE_ROWS(2) }
                else { BF_TILE_ROWS(1) }
            }
        }
    }
}
#endif

int moemae_bf16_gemm_rows(const float *a, int lda, const int32_t *rows, int m, int k, const uint16_t *packed, int n,
                          float *c, int ldc, int kernel) {
    if (m <= 0 || n <= 0) return 0;
    int kp = (k + 1) / 2;
    // Scratch for the converted rows: BF_MC rows (the native kernel) or BF_ROWS rows (portable).
    uint32_t stackPairs[BF_MC * 320];
    uint32_t *pairs = stackPairs;
    if (kp > 320) {
        pairs = (uint32_t *)malloc(sizeof(uint32_t) * BF_MC * (size_t)kp);
        if (!pairs) return -2;
    }
    int rc = 0;
    if (kernel == MOEMAE_BF16_KERNEL_AVX512) {
#if BF_X86
        if (moemae_bf16_native_available()) gemm_avx512bf16(a, lda, rows, m, k, packed, n, c, ldc, pairs);
        else rc = -1;
#else
        rc = -1;
#endif
    } else {
#if BF_X86
        if (moemae_cpu_features() & MOEMAE_CPU_AVX2_FMA) gemm_portable_avx2(a, lda, rows, m, k, packed, n, c, ldc, pairs);
        else gemm_portable(a, lda, rows, m, k, packed, n, c, ldc, pairs);
#else
        gemm_portable(a, lda, rows, m, k, packed, n, c, ldc, pairs);
#endif
    }
    if (pairs != stackPairs) free(pairs);
    return rc;
}

int moemae_bf16_gemm(const float *a, int lda, int m, int k, const uint16_t *packed, int n, float *c, int ldc,
                     int kernel) {
    return moemae_bf16_gemm_rows(a, lda, NULL, m, k, packed, n, c, ldc, kernel);
}
