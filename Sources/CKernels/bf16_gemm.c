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
// Conversion FP32 → bf16 (weights once, activations per call) is shared by both and follows the
// SDM's `convert_fp32_to_bfloat16` (VCVTNEPS2BF16): round to nearest even, denormals to signed
// zero, NaN quieted. Known difference left: VDPBF16PS flushes denormal products and sums to zero
// (FTZ); the portable path keeps them. Both only matter below 1.2e-38.
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

static inline uint16_t bf_round(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);  // NaN: keep sign/payload, quiet
    if ((u & 0x7f800000u) == 0) return (uint16_t)((u >> 16) & 0x8000u);        // zero or denormal: signed zero
    u += 0x7fffu + ((u >> 16) & 1u);                                            // nearest even (inf stays inf)
    return (uint16_t)(u >> 16);
}

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
static void bf_pairs(const float *a, int lda, int r0, int mr, int k, uint32_t *out) {
    int kp = (k + 1) / 2;
    for (int r = 0; r < mr; r++) {
        const float *row = a + (long)(r0 + r) * lda;
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
static inline void gemm_reference(const float *a, int lda, int m, int k, const uint16_t *packed, int n, float *c, int ldc,
                                  uint32_t *pairs) {
    int kp = (k + 1) / 2, nb = (n + 15) / 16;
    for (int i0 = 0; i0 < m; i0 += BF_ROWS) {
        int mr = m - i0 < BF_ROWS ? m - i0 : BF_ROWS;
        bf_pairs(a, lda, i0, mr, k, pairs);
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

static void gemm_portable(const float *a, int lda, int m, int k, const uint16_t *packed, int n, float *c, int ldc,
                          uint32_t *pairs) {
    gemm_reference(a, lda, m, k, packed, n, c, ldc, pairs);
}

#if BF_X86
// The same C compiled for AVX2+FMA: the compiler vectorises over the 16 columns of a block; a fused
// multiply-add gives the same result as the multiply then add because every product of two bf16
// values is exact in FP32.
__attribute__((target("avx2,fma")))
static void gemm_portable_avx2(const float *a, int lda, int m, int k, const uint16_t *packed, int n, float *c, int ldc,
                               uint32_t *pairs) {
    gemm_reference(a, lda, m, k, packed, n, c, ldc, pairs);
}
#endif

// ---------------------------------------------------------------------------------------------
// AVX512_BF16: 4 rows × 4 blocks of 16 columns in 16 ZMM accumulators.

#if BF_X86
__attribute__((target("avx512f,avx512bf16"), always_inline))
static inline void bf_tile_avx512(const uint32_t *pairs, int kp, int mr, const uint16_t *packed, int b0, int nbr,
                                  int n, float *c, int ldc, int i0) {
    __m512 acc[BF_ROWS][4];
    __mmask16 mask[4];
    for (int jb = 0; jb < nbr; jb++) {
        int cols = n - (b0 + jb) * 16;
        mask[jb] = cols >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << cols) - 1u);
        for (int r = 0; r < mr; r++)
            acc[r][jb] = _mm512_maskz_loadu_ps(mask[jb], c + (long)(i0 + r) * ldc + (b0 + jb) * 16);
    }
    for (int p = 0; p < kp; p++) {
        __m512bh bv[4];
        for (int jb = 0; jb < nbr; jb++)
            bv[jb] = (__m512bh)_mm512_loadu_si512((const void *)(packed + ((long)(b0 + jb) * kp + p) * 32));
        for (int r = 0; r < mr; r++) {
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)pairs[(long)r * kp + p]);
            for (int jb = 0; jb < nbr; jb++) acc[r][jb] = _mm512_dpbf16_ps(acc[r][jb], av, bv[jb]);
        }
    }
    for (int jb = 0; jb < nbr; jb++)
        for (int r = 0; r < mr; r++)
            _mm512_mask_storeu_ps(c + (long)(i0 + r) * ldc + (b0 + jb) * 16, mask[jb], acc[r][jb]);
}

__attribute__((target("avx512f,avx512bf16")))
static void gemm_avx512bf16(const float *a, int lda, int m, int k, const uint16_t *packed, int n, float *c, int ldc,
                            uint32_t *pairs) {
    int kp = (k + 1) / 2, nb = (n + 15) / 16;
    for (int i0 = 0; i0 < m; i0 += BF_ROWS) {
        int mr = m - i0 < BF_ROWS ? m - i0 : BF_ROWS;
        bf_pairs(a, lda, i0, mr, k, pairs);
        for (int b0 = 0; b0 < nb; b0 += 4) {
            int nbr = nb - b0 < 4 ? nb - b0 : 4;
            if (mr == BF_ROWS && nbr == 4) bf_tile_avx512(pairs, kp, BF_ROWS, packed, b0, 4, n, c, ldc, i0);
            else bf_tile_avx512(pairs, kp, mr, packed, b0, nbr, n, c, ldc, i0);
        }
    }
}
#endif

int moemae_bf16_gemm(const float *a, int lda, int m, int k, const uint16_t *packed, int n, float *c, int ldc,
                     int kernel) {
    if (m <= 0 || n <= 0) return 0;
    int kp = (k + 1) / 2;
    uint32_t stackPairs[BF_ROWS * 1024];
    uint32_t *pairs = stackPairs;
    if (kp > 1024) {
        pairs = (uint32_t *)malloc(sizeof(uint32_t) * BF_ROWS * (size_t)kp);
        if (!pairs) return -2;
    }
    int rc = 0;
    if (kernel == MOEMAE_BF16_KERNEL_AVX512) {
#if BF_X86
        if (moemae_bf16_native_available()) gemm_avx512bf16(a, lda, m, k, packed, n, c, ldc, pairs);
        else rc = -1;
#else
        rc = -1;
#endif
    } else {
#if BF_X86
        if (moemae_cpu_features() & MOEMAE_CPU_AVX2_FMA) gemm_portable_avx2(a, lda, m, k, packed, n, c, ldc, pairs);
        else gemm_portable(a, lda, m, k, packed, n, c, ldc, pairs);
#else
        gemm_portable(a, lda, m, k, packed, n, c, ldc, pairs);
#endif
    }
    if (pairs != stackPairs) free(pairs);
    return rc;
}
