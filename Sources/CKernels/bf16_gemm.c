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

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <cpuid.h>
#include "simd_exp.h"
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
// One product's operands and what happens to its accumulators.
//
// A is FP32 (`a`, converted to bf16 pairs per call) or already bf16 (`abf`, row-major bf16 values,
// row stride `lda` elements, even; 4-byte aligned; when k is odd the element at column k must be 0),
// its rows optionally gathered through `rows`. The accumulators start from C + bias (`addc` and
// `bias`), C (`addc` only), the bias (C not read) or 0. Epilogue 0 stores them into C; epilogue 1 is
// the experts' gated SiLU (moemae_bf16_expert_silu).

typedef struct {
    const float *a;
    const uint16_t *abf;
    int lda;
    const int32_t *rows;
    int m, k, n;
    const uint16_t *packed;
    const float *bias;
    int addc;
    float *c;
    int ldc;
    // epilogue 1
    const float *gates;
    const uint8_t *last;
    float *mix;
    int ldmix;
    const float *vx;
    int ldvx;
    uint16_t *out;
    int ldout;
} bf_job;

// ---------------------------------------------------------------------------------------------
// The experts' gated SiLU: g · SiLU(x) = g · x / (1 + e^-x) with the Cephes expf of
// simd_exp.h (`mk_exp16`, which kernels.c uses too: clamp to [-87.3, 88.3], n = round(x·log2 e) through
// the 1.5·2^23 trick, ln 2 split in two, degree-6 polynomial, 2^n through the exponent bits), in the
// same operations as `moemae_add_gated_silu_rows`'s AVX-512 kernel (fused multiply-adds where it
// has them), so the fused epilogue gives that kernel's numbers.

/// Scalar, operation for operation as the vector code below (contraction off: every FMA is explicit).
static inline float bf_exp_ref(float x) {
#pragma clang fp contract(off)
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.3f ? 88.3f : x;
    const float magic = 12582912.0f;
    float t = x * 1.44269504088896341f;
    t = t + magic;
    float fx = t - magic;
    float r = fmaf(-fx, 0.693359375f, x);
    r = fmaf(fx, 2.12194440e-4f, r);
    float z = r * r;
    float y = 1.9875691500e-4f;
    y = fmaf(y, r, 1.3981999507e-3f);
    y = fmaf(y, r, 8.3334519073e-3f);
    y = fmaf(y, r, 4.1665795894e-2f);
    y = fmaf(y, r, 1.6666665459e-1f);
    y = fmaf(y, r, 5.0000001201e-1f);
    y = fmaf(y, z, r);
    y = y + 1.0f;
    int32_t tb, mb;
    memcpy(&tb, &t, 4);
    memcpy(&mb, &magic, 4);
    uint32_t eb = (uint32_t)(tb - mb + 127) << 23;
    float scale;
    memcpy(&scale, &eb, 4);
    return y * scale;
}

/// SiLU(x) = x / (1 + e^-x).
static inline float bf_silu_ref(float x) {
#pragma clang fp contract(off)
    float e = bf_exp_ref(-x);
    return x / (1.0f + e);
}

// ---------------------------------------------------------------------------------------------
// Portable reference: per output element the lane arithmetic of VDPBF16PS.

#define BF_ROWS 4

/// The rows i0 ..< i0+mr of A as pairs: a pointer into A itself (bf16, not gathered), or `scratch`
/// filled by copying (bf16, gathered) or converting (FP32). `*ldp`: the row stride in pairs.
static inline const uint32_t *bf_rows_ref(const bf_job *J, int i0, int mr, uint32_t *scratch, int *ldp) {
    int kp = (J->k + 1) / 2;
    if (J->abf) {
        if (!J->rows) { *ldp = J->lda / 2; return (const uint32_t *)(const void *)(J->abf + (long)i0 * J->lda); }
        for (int r = 0; r < mr; r++) memcpy(scratch + (long)r * kp, J->abf + (long)J->rows[i0 + r] * J->lda, sizeof(uint32_t) * (size_t)kp);
    } else {
        bf_pairs(J->a, J->lda, J->rows, i0, mr, J->k, scratch);
    }
    *ldp = kp;
    return scratch;
}

__attribute__((always_inline))
static inline void gemm_reference(const bf_job *J, int epi, uint32_t *scratch) {
    int m = J->m, k = J->k, n = J->n;
    int kp = (k + 1) / 2, nb = (n + 15) / 16;
    for (int i0 = 0; i0 < m; i0 += BF_ROWS) {
        int mr = m - i0 < BF_ROWS ? m - i0 : BF_ROWS;
        int ldp;
        const uint32_t *pairs = bf_rows_ref(J, i0, mr, scratch, &ldp);
        for (int b = 0; b < nb; b++) {
            int cols = n - b * 16 < 16 ? n - b * 16 : 16;
            float acc[BF_ROWS][16] = {{0}};
            for (int r = 0; r < mr; r++)
                for (int j = 0; j < cols; j++) {
                    float cv = J->addc ? J->c[(long)(i0 + r) * J->ldc + b * 16 + j] : 0.0f;
                    acc[r][j] = !J->bias ? cv : J->addc ? cv + J->bias[b * 16 + j] : J->bias[b * 16 + j];
                }
            const uint16_t *bp = J->packed + (long)b * kp * 32;
            for (int p = 0; p < kp; p++) {
                const uint16_t *bq = bp + (long)p * 32;
                float blo[16], bhi[16];
                for (int j = 0; j < 16; j++) { blo[j] = bf_widen(bq[2 * j]); bhi[j] = bf_widen(bq[2 * j + 1]); }
                for (int r = 0; r < BF_ROWS; r++) {  // rows past mr work on zero pairs and are not stored
                    uint32_t pr = r < mr ? pairs[(long)r * ldp + p] : 0;
                    float alo = bf_widen((uint16_t)(pr & 0xffffu)), ahi = bf_widen((uint16_t)(pr >> 16));
                    for (int j = 0; j < 16; j++) {
                        float t = acc[r][j] + ahi * bhi[j];
                        acc[r][j] = t + alo * blo[j];
                    }
                }
            }
            if (epi == 0) {
                for (int r = 0; r < mr; r++)
                    for (int j = 0; j < cols; j++) J->c[(long)(i0 + r) * J->ldc + b * 16 + j] = acc[r][j];
                continue;
            }
            for (int r = 0; r < mr; r++) {
                long t = J->rows[i0 + r];
                float g = J->gates[i0 + r];
                float *mix = J->mix + t * J->ldmix + b * 16;
                if (!J->last[i0 + r]) {
                    for (int j = 0; j < cols; j++) mix[j] = fmaf(g, bf_silu_ref(acc[r][j]), 0.0f);
                } else {
                    const float *vx = J->vx + t * J->ldvx + b * 16;
                    uint16_t *out = J->out + t * J->ldout + b * 16;
                    for (int j = 0; j < 16; j++) {   // all 16 columns: past n they are 0
                        float s = bf_silu_ref(acc[r][j]);
                        float v = fmaf(g, s, j < cols ? mix[j] : 0.0f) * (j < cols ? vx[j] : 0.0f);
                        out[j] = bf_round(v);
                    }
                }
            }
        }
    }
}

static void gemm_portable(const bf_job *J, int epi, uint32_t *scratch) {
    gemm_reference(J, epi, scratch);
}

#if BF_X86
// The same C compiled for AVX2+FMA: the compiler vectorises over the 16 columns of a block; a fused
// multiply-add gives the same result as the multiply then add because every product of two bf16
// values is exact in FP32 (the epilogue's arithmetic is written with explicit fmaf and contraction off).
__attribute__((target("avx2,fma")))
static void gemm_portable_avx2(const bf_job *J, int epi, uint32_t *scratch) {
    gemm_reference(J, epi, scratch);
}
#endif

// ---------------------------------------------------------------------------------------------
// AVX512_BF16: tiles of up to 8 rows × 3 blocks of 16 columns in 24 ZMM accumulators.
//
// The rows of A are converted in chunks of BF_MC rows with VCVTNE2PS2BF16 (the same rounding as
// `bf_round`: nearest even, denormal inputs to signed zero, NaN quieted) into pairs (A already in
// bf16: read in place, or copied when gathered); for each group of 3 column blocks the chunk's rows
// then run 8 at a time against that panel of W, so the A pairs (BF_MC · ⌈k/2⌉ · 4 bytes) and the W
// panel (3 · ⌈k/2⌉ · 64 bytes) both stay in L1 for k ≤ 144.
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

// The vector e^x is mk_exp16 of simd_exp.h, the one kernels.c uses (bf_exp_ref is its scalar mirror).

/// Rows i ..< i+MR (slots of the job), column blocks b0 ..< b0+NB: accumulators from the bias or C,
/// Σ_p pairs[r, p] · W-block pair p, then epilogue EPI (compile-time constants once inlined, so the
/// accumulators live in registers).
__attribute__((target("avx512f,avx512bf16"), always_inline))
static inline void bf_tile_avx512(const uint32_t *pairs, int ldp, int kp, const int MR, const int NB, const int EPI,
                                  const bf_job *J, int b0, int i) {
    __m512 acc[BF_MR][BF_NB];
    __mmask16 mask[BF_NB];
    const uint16_t *bp[BF_NB];
    float *c = EPI == 0 ? J->c + (long)i * J->ldc : NULL;
    int ldc = J->ldc;
    for (int jb = 0; jb < NB; jb++) {
        int cols = J->n - (b0 + jb) * 16;
        mask[jb] = cols >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << cols) - 1u);
        bp[jb] = J->packed + (long)(b0 + jb) * kp * 32;
        // C + bias, or C + (−0) = C exactly (−0 is the neutral element of the addition, signed zeros included)
        int addc = EPI == 0 && J->addc;
        __m512 bv = J->bias ? _mm512_maskz_loadu_ps(mask[jb], J->bias + (b0 + jb) * 16)
                            : _mm512_set1_ps(addc ? -0.0f : 0.0f);
        for (int r = 0; r < MR; r++)
            acc[r][jb] = addc ? _mm512_add_ps(_mm512_maskz_loadu_ps(mask[jb], c + (long)r * ldc + (b0 + jb) * 16), bv) : bv;
    }
    // The next tile's C rows (the same columns, BF_MR rows on) are fetched while this one computes.
    if (EPI == 0)
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
    if (EPI == 0) {
        for (int jb = 0; jb < NB; jb++)
            for (int r = 0; r < MR; r++) _mm512_mask_storeu_ps(c + (long)r * ldc + (b0 + jb) * 16, mask[jb], acc[r][jb]);
        return;
    }
    // Epilogue 1: per routed row, g · SiLU(acc) into the token's mixed hidden state (first of its two
    // experts), or (mix + g · SiLU(acc)) ⊙ V·x rounded to bf16 into `out` (second; all 16 columns,
    // which are 0 past n). The accumulators go through a buffer first (indexed by constants only, so
    // the compiler keeps them in registers in the loop above instead of spilling them there).
    float buf[BF_MR][BF_NB][16] __attribute__((aligned(64)));
    for (int r = 0; r < MR; r++)
        for (int jb = 0; jb < NB; jb++) _mm512_store_ps(buf[r][jb], acc[r][jb]);
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512i sign = _mm512_set1_epi32((int)0x80000000);
    for (int r = 0; r < MR; r++) {
        long t = J->rows[i + r];
        __m512 gv = _mm512_set1_ps(J->gates[i + r]);
        int second = J->last[i + r];
        float *mix = J->mix + t * J->ldmix;
        for (int jb = 0; jb < NB; jb++) {
            int col = (b0 + jb) * 16;
            __m512 x = _mm512_load_ps(buf[r][jb]);
            __m512 e = mk_exp16(_mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), sign)));
            __m512 s = _mm512_div_ps(x, _mm512_add_ps(one, e));
            if (!second) {
                _mm512_mask_storeu_ps(mix + col, mask[jb], _mm512_fmadd_ps(gv, s, _mm512_setzero_ps()));
            } else {
                __m512 v = _mm512_fmadd_ps(gv, s, _mm512_maskz_loadu_ps(mask[jb], mix + col));
                v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(mask[jb], J->vx + t * J->ldvx + col));
                _mm256_storeu_si256((__m256i *)(void *)(J->out + t * J->ldout + col), (__m256i)_mm512_cvtneps_pbh(v));
            }
        }
    }
}

#define BF_TILE_ROWS(NB, EPI)                                                                             \
    switch (mr) {                                                                                         \
    case 8: bf_tile_avx512(pr, ldp, kp, 8, NB, EPI, J, b0, i); break;                                     \
    case 7: bf_tile_avx512(pr, ldp, kp, 7, NB, EPI, J, b0, i); break;                                     \
    case 6: bf_tile_avx512(pr, ldp, kp, 6, NB, EPI, J, b0, i); break;                                     \
    case 5: bf_tile_avx512(pr, ldp, kp, 5, NB, EPI, J, b0, i); break;                                     \
    case 4: bf_tile_avx512(pr, ldp, kp, 4, NB, EPI, J, b0, i); break;                                     \
    case 3: bf_tile_avx512(pr, ldp, kp, 3, NB, EPI, J, b0, i); break;                                     \
    case 2: bf_tile_avx512(pr, ldp, kp, 2, NB, EPI, J, b0, i); break;                                     \
    default: bf_tile_avx512(pr, ldp, kp, 1, NB, EPI, J, b0, i); break;                                    \
    }

#define BF_GEMM_AVX512(EPI)                                                                               \
    __attribute__((target("avx512f,avx512bf16")))                                                         \
    static void gemm_avx512bf16_##EPI(const bf_job *J, uint32_t *scratch) {                               \
        int m = J->m, k = J->k, kp = (k + 1) / 2, nb = (J->n + 15) / 16;                                  \
        for (int i0 = 0; i0 < m; i0 += BF_MC) {                                                           \
            int mc = m - i0 < BF_MC ? m - i0 : BF_MC;                                                     \
            const uint32_t *base = scratch;                                                               \
            int ldp = kp;                                                                                 \
            if (J->abf && !J->rows) {                                                                     \
                base = (const uint32_t *)(const void *)(J->abf + (long)i0 * J->lda); ldp = J->lda / 2;    \
            } else if (J->abf) {                                                                          \
                for (int r = 0; r < mc; r++)                                                              \
                    memcpy(scratch + (long)r * kp, J->abf + (long)J->rows[i0 + r] * J->lda,               \
                           sizeof(uint32_t) * (size_t)kp);                                                \
            } else {                                                                                      \
                bf_pairs_avx512(J->a, J->lda, J->rows, i0, mc, k, scratch, kp);                           \
            }                                                                                             \
            for (int b0 = 0; b0 < nb; b0 += BF_NB) {                                                      \
                int nbr = nb - b0 < BF_NB ? nb - b0 : BF_NB;                                              \
                for (int r0 = 0; r0 < mc; r0 += BF_MR) {                                                  \
                    int mr = mc - r0 < BF_MR ? mc - r0 : BF_MR;                                           \
                    const uint32_t *pr = base + (long)r0 * ldp;                                           \
                    int i = i0 + r0;                                                                      \
                    if (nbr == 3) { BF_TILE_ROWS(3, EPI) }                                                \
                    else if (nbr == 2) { BF_TILE_ROWS(2, EPI) }                                           \
                    else { BF_TILE_ROWS(1, EPI) }                                                         \
                }                                                                                         \
            }                                                                                             \
        }                                                                                                 \
    }
BF_GEMM_AVX512(0)
BF_GEMM_AVX512(1)

/// Rows of FP32 values to bf16 (row strides `ldx`, `ldy` in elements; `ldy` even), as bf_round.
__attribute__((target("avx512f,avx512bf16")))
static void bf_round_rows_avx512(const float *x, int ldx, int rows, int n, uint16_t *y, int ldy) {
    for (int r = 0; r < rows; r++) {
        const float *row = x + (long)r * ldx;
        uint16_t *o = y + (long)r * ldy;
        int j = 0;
        for (; j + 32 <= n; j += 32) {
            __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(row + j + 16), _mm512_loadu_ps(row + j));
            _mm512_storeu_si512((void *)(o + j), (__m512i)v);
        }
        for (; j + 16 <= n; j += 16)
            _mm256_storeu_si256((__m256i *)(void *)(o + j), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(row + j)));
        for (; j < n; j++) o[j] = bf_round(row[j]);
    }
}
#endif

/// Runs a job with the chosen kernel; 0, −1 (AVX-512 kernel unavailable), −2 (no scratch memory).
static int bf_run(const bf_job *J, int epi, int kernel) {
    if (J->m <= 0 || J->n <= 0) return 0;
    int kp = (J->k + 1) / 2;
    // Scratch for the converted or copied rows: BF_MC rows (the native kernel) or BF_ROWS rows (portable).
    uint32_t stackPairs[BF_MC * 320];
    uint32_t *pairs = stackPairs;
    if (kp > 320) {
        pairs = (uint32_t *)malloc(sizeof(uint32_t) * BF_MC * (size_t)kp);
        if (!pairs) return -2;
    }
    int rc = 0;
    if (kernel == MOEMAE_BF16_KERNEL_AVX512) {
#if BF_X86
        if (!moemae_bf16_native_available()) rc = -1;
        else if (epi == 0) gemm_avx512bf16_0(J, pairs);
        else gemm_avx512bf16_1(J, pairs);
#else
        rc = -1;
#endif
    } else {
#if BF_X86
        if (moemae_cpu_features() & MOEMAE_CPU_AVX2_FMA) gemm_portable_avx2(J, epi, pairs);
        else gemm_portable(J, epi, pairs);
#else
        gemm_portable(J, epi, pairs);
#endif
    }
    if (pairs != stackPairs) free(pairs);
    return rc;
}

int moemae_bf16_gemm_ex(const float *a, const uint16_t *abf, int lda, const int32_t *rows, int m, int k,
                        const uint16_t *packed, int n, const float *bias, int accumulate, float *c, int ldc, int kernel) {
    bf_job J = {0};
    J.a = a; J.abf = abf; J.lda = lda; J.rows = rows; J.m = m; J.k = k; J.n = n; J.packed = packed;
    J.bias = bias; J.addc = accumulate != 0; J.c = c; J.ldc = ldc;
    return bf_run(&J, 0, kernel);
}

int moemae_bf16_gemm_rows(const float *a, int lda, const int32_t *rows, int m, int k, const uint16_t *packed, int n,
                          float *c, int ldc, int kernel) {
    return moemae_bf16_gemm_ex(a, NULL, lda, rows, m, k, packed, n, NULL, 1, c, ldc, kernel);
}

int moemae_bf16_gemm(const float *a, int lda, int m, int k, const uint16_t *packed, int n, float *c, int ldc,
                     int kernel) {
    return moemae_bf16_gemm_ex(a, NULL, lda, NULL, m, k, packed, n, NULL, 1, c, ldc, kernel);
}

int moemae_bf16_expert_silu(const float *a, const uint16_t *abf, int lda, const int32_t *tokens, const float *gates,
                            const uint8_t *second, int m, int k, const uint16_t *packed, int n, const float *bias,
                            float *mix, int ldmix, const float *vx, int ldvx, uint16_t *out, int ldout, int kernel) {
    bf_job J = {0};
    J.a = a; J.abf = abf; J.lda = lda; J.rows = tokens; J.m = m; J.k = k; J.n = n; J.packed = packed;
    J.bias = bias; J.gates = gates; J.last = second; J.mix = mix; J.ldmix = ldmix; J.vx = vx; J.ldvx = ldvx;
    J.out = out; J.ldout = ldout;
    return bf_run(&J, 1, kernel);
}

int moemae_bf16_round_rows(const float *x, int ldx, int rows, int n, uint16_t *y, int ldy, int kernel) {
    if (kernel == MOEMAE_BF16_KERNEL_AVX512) {
#if BF_X86
        if (!moemae_bf16_native_available()) return -1;
        bf_round_rows_avx512(x, ldx, rows, n, y, ldy);
        return 0;
#else
        return -1;
#endif
    }
    for (int r = 0; r < rows; r++) moemae_bf16_round(x + (long)r * ldx, y + (long)r * ldy, n);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// LayerNorm written as bf16: the arithmetic of `VectorKernels.layerNorm` (Sources/MoEMAE), operation
// for operation — 8 partial sums for the mean and for the squared deviations, reduced as
// ((s0+s1)+(s2+s3))+((s4+s5)+(s6+s7)) then the tail added in order; 1/√(q/d + eps); ((x − mean)·rstd)·γ + β;
// no fused multiply-adds — then rounded as `bf_round`.

#define BF_LN_MAX 1024

/// One row into `out` (FP32).
static inline void bf_layernorm_row_ref(const float *x, int d, const float *gamma, const float *beta, float eps, float *out) {
#pragma clang fp contract(off)
    int vec = d & ~7, i;
    float invD = 1.0f / (float)d;
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (i = 0; i < vec; i += 8)
        for (int l = 0; l < 8; l++) acc[l] = acc[l] + x[i + l];
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < d; i++) s = s + x[i];
    float mean = s * invD;
    float qv[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (i = 0; i < vec; i += 8)
        for (int l = 0; l < 8; l++) { float c = x[i + l] - mean; qv[l] = qv[l] + c * c; }
    float q = ((qv[0] + qv[1]) + (qv[2] + qv[3])) + ((qv[4] + qv[5]) + (qv[6] + qv[7]));
    for (; i < d; i++) { float c = x[i] - mean; q = q + c * c; }
    float rstd = 1.0f / sqrtf(q * invD + eps);
    for (i = 0; i < d; i++) out[i] = (x[i] - mean) * rstd * gamma[i] + beta[i];
}

#if BF_X86
/// The same with 8-lane AVX vectors (the partial sums are the lanes), then VCVTNE2PS2BF16.
__attribute__((target("avx512f,avx512bf16")))
static void bf_layernorm_avx512(const float *x, int ldx, int rows, int d, const float *gamma, const float *beta, float eps,
                                uint16_t *y, int ldy) {
#pragma clang fp contract(off)
    float row[BF_LN_MAX] __attribute__((aligned(64)));
    int vec = d & ~7;
    float invD = 1.0f / (float)d;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (long)r * ldx;
        int i;
        __m256 acc = _mm256_setzero_ps();
        for (i = 0; i < vec; i += 8) acc = _mm256_add_ps(acc, _mm256_loadu_ps(xr + i));
        float l[8];
        _mm256_storeu_ps(l, acc);
        float s = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
        for (; i < d; i++) s = s + xr[i];
        float mean = s * invD;
        __m256 mv = _mm256_set1_ps(mean), qv = _mm256_setzero_ps();
        for (i = 0; i < vec; i += 8) {
            __m256 c = _mm256_sub_ps(_mm256_loadu_ps(xr + i), mv);
            qv = _mm256_add_ps(qv, _mm256_mul_ps(c, c));
        }
        _mm256_storeu_ps(l, qv);
        float q = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
        for (; i < d; i++) { float c = xr[i] - mean; q = q + c * c; }
        float rstd = 1.0f / sqrtf(q * invD + eps);
        __m256 rv = _mm256_set1_ps(rstd);
        for (i = 0; i < vec; i += 8) {
            __m256 o = _mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + i), mv), rv), _mm256_loadu_ps(gamma + i));
            _mm256_store_ps(row + i, _mm256_add_ps(o, _mm256_loadu_ps(beta + i)));
        }
        for (; i < d; i++) row[i] = (xr[i] - mean) * rstd * gamma[i] + beta[i];
        uint16_t *o = y + (long)r * ldy;
        int j = 0;
        for (; j + 32 <= d; j += 32) {
            __m512bh v = _mm512_cvtne2ps_pbh(_mm512_load_ps(row + j + 16), _mm512_load_ps(row + j));
            _mm512_storeu_si512((void *)(o + j), (__m512i)v);
        }
        for (; j + 16 <= d; j += 16)
            _mm256_storeu_si256((__m256i *)(void *)(o + j), (__m256i)_mm512_cvtneps_pbh(_mm512_load_ps(row + j)));
        for (; j < d; j++) o[j] = bf_round(row[j]);
    }
}
#endif

int moemae_bf16_layernorm(const float *x, int ldx, int rows, int d, const float *gamma, const float *beta, float eps,
                          uint16_t *y, int ldy, int kernel) {
    if (d > BF_LN_MAX) return -2;
    if (kernel == MOEMAE_BF16_KERNEL_AVX512) {
#if BF_X86
        if (!moemae_bf16_native_available()) return -1;
        bf_layernorm_avx512(x, ldx, rows, d, gamma, beta, eps, y, ldy);
        return 0;
#else
        return -1;
#endif
    }
    float row[BF_LN_MAX];
    for (int r = 0; r < rows; r++) {
        bf_layernorm_row_ref(x + (long)r * ldx, d, gamma, beta, eps, row);
        moemae_bf16_round(row, y + (long)r * ldy, d);
    }
    return 0;
}
