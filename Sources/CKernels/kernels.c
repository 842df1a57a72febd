// Hand-vectorised kernels of the MoE-MAE engine (see include/moemae_kernels.h).
//
// The AVX2+FMA functions carry `__attribute__((target("avx2,fma")))` and the AVX-512 ones
// `__attribute__((target("avx512f,avx2,fma")))`, so only they are compiled for those instructions;
// which implementation runs is decided once per process from `cpuid` (`__builtin_cpu_supports`,
// which also checks that the OS saves the YMM, respectively ZMM and opmask, registers).
#include "moemae_kernels.h"

#include <stdint.h>
#include <math.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MK_X86 1
#else
#define MK_X86 0
#endif

// ---------------------------------------------------------------------------------------------
// Portable implementations (and the scalar tails of the vector ones).

/// e^x: Cephes `expf` (range reduction n = round(x·log2 e) with ln 2 split in two, degree-6
/// polynomial, 2^n through the exponent bits); inputs clamped to [-87.3, 88.3]. The same arithmetic
/// as `VectorKernels.exp` on the Swift side.
static inline float mk_exp1(float x) {
    if (x < -87.3f) x = -87.3f;
    if (x > 88.3f) x = 88.3f;
    const float magic = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer in the low mantissa bits
    float t = x * 1.44269504088896341f + magic;
    float fx = t - magic;
    float r = x - fx * 0.693359375f;
    r = r + fx * 2.12194440e-4f;
    float z = r * r;
    float y = 1.9875691500e-4f;
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * z + r + 1.0f;
    int32_t tb, mb;
    memcpy(&tb, &t, 4);
    memcpy(&mb, &magic, 4);
    uint32_t eb = (uint32_t)(tb - mb + 127) << 23;
    float scale;
    memcpy(&scale, &eb, 4);
    return y * scale;
}

/// Coefficients of 2^f ≈ 1 + f·(c1 + f·(c2 + f·(c3 + f·(c4 + f·c5)))) on f ∈ [−0.5, 0.5]: fitted here for the
/// smallest maximum relative error with the constant term fixed at 1 (Lawson's iteration on 4,000 points,
/// 40-digit arithmetic; 9.2e-8 before rounding to float). Evaluated in float with fused multiply-adds,
/// the whole of `mk_exp2_1` is within 2.05 ulp (relative 1.7e-7) of exp2 on every float of [−126, 0]
/// (checked exhaustively against double-precision exp2 on 2026-12-08; the C kernel tests sample it).
#define MK_E2_C1 0.693146978f
#define MK_E2_C2 0.240222422f
#define MK_E2_C3 0.0555073391f
#define MK_E2_C4 0.00967150417f
#define MK_E2_C5 0.00132646263f

/// 2^x, the attention softmax's exponential (the scores arrive in base 2: the kernels fold log2 e into the
/// queries' scale, so e^(s − max) = 2^(s·log2 e − max·log2 e)). n = round(x) to nearest even (adding and
/// subtracting 1.5·2^23), f = x − n ∈ [−0.5, 0.5], 2^f by the polynomial above, then 2^n added to the
/// exponent bits (exact: the result stays normal). x < −126 and NaN give exactly 0 (so no result is
/// subnormal); x above 127 is outside its domain (the softmax passes x ≤ 0). Every multiply-add is fused,
/// as in `mk_exp2_8` and `mk_exp2_16`, so all three agree bit for bit.
static inline float mk_exp2_1(float x) {
    if (!(x >= -126.0f)) return 0.0f;
    const float magic = 12582912.0f;  // 1.5·2^23
    float n = (x + magic) - magic;
    float f = x - n;
    float p = fmaf(MK_E2_C5, f, MK_E2_C4);
    p = fmaf(p, f, MK_E2_C3);
    p = fmaf(p, f, MK_E2_C2);
    p = fmaf(p, f, MK_E2_C1);
    p = fmaf(p, f, 1.0f);
    uint32_t pb;
    memcpy(&pb, &p, 4);
    pb += (uint32_t)(int32_t)n << 23;
    memcpy(&p, &pb, 4);
    return p;
}

static void exp2_portable(const float *x, float *y, int n) {
    for (int i = 0; i < n; i++) y[i] = mk_exp2_1(x[i]);
}

static void exp_portable(const float *x, float *y, int n) {
    for (int i = 0; i < n; i++) y[i] = mk_exp1(x[i]);
}

static void softmax_portable(float *p, int rows, int cols, int ld) {
    for (int r = 0; r < rows; r++) {
        float *row = p + (long)r * ld;
        float m = row[0];
        for (int i = 1; i < cols; i++) m = row[i] > m ? row[i] : m;
        float s = 0;
        for (int i = 0; i < cols; i++) { row[i] = mk_exp1(row[i] - m); s += row[i]; }
        float inv = 1.0f / s;
        for (int i = 0; i < cols; i++) row[i] *= inv;
    }
}

static void silu_portable(const float *h, float gate, float *dst, int n) {
    for (int i = 0; i < n; i++) { float x = h[i]; dst[i] += gate * (x / (1.0f + mk_exp1(-x))); }
}

static void swiglu_portable(const float *a, const float *v, float *u, int n) {
    for (int i = 0; i < n; i++) { float x = a[i]; u[i] = x / (1.0f + mk_exp1(-x)) * v[i]; }
}

static void swiglu_backward_portable(const float *a, const float *v, float *du, float *dv, int n) {
    for (int i = 0; i < n; i++) {
        float x = a[i], g = du[i];
        float s = 1.0f / (1.0f + mk_exp1(-x));
        dv[i] += g * x * s;
        du[i] = g * v[i] * s * (1.0f + x * (1.0f - s));
    }
}

static void layernorm_backward_portable(const float *x, int ldx, const float *dy, int lddy, int rows, int d,
                                        const float *gamma, float eps, float *dx, int lddx, float *dgamma, float *dbeta) {
    const float invd = 1.0f / (float)d;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (long)r * ldx, *gr = dy + (long)r * lddy;
        float *dxr = dx + (long)r * lddx;
        float s = 0;
        for (int i = 0; i < d; i++) s += xr[i];
        const float mean = s * invd;
        float q = 0;
        for (int i = 0; i < d; i++) { float c = xr[i] - mean; q += c * c; }
        const float rstd = 1.0f / sqrtf(q * invd + eps);
        float sg = 0, sgx = 0;
        for (int i = 0; i < d; i++) {
            float xh = (xr[i] - mean) * rstd, g = gr[i] * gamma[i];
            sg += g; sgx += g * xh;
            dgamma[i] += gr[i] * xh;
            dbeta[i] += gr[i];
        }
        const float mg = sg * invd, mgx = sgx * invd;
        for (int i = 0; i < d; i++) {
            float xh = (xr[i] - mean) * rstd;
            dxr[i] += rstd * (gr[i] * gamma[i] - mg - xh * mgx);
        }
    }
}

/// The queries' factor in every attention kernel: scale · log2 e, so that the scores come out in base 2
/// and the softmax takes 2^(s − max) (`mk_exp2_1`) for e^(scale·(q·k − max)).
static inline float mk_base2_scale(float scale) { return scale * 1.44269504088896341f; }

static void attention_portable(const float *qkv, int ldq, int tokens, int heads, int groups, int hd,
                               float scale, float *out, int ldo, float *scratch) {
    const float *kbase = qkv + (long)heads * hd;
    const float *vbase = kbase + (long)groups * hd;
    const float sc2 = mk_base2_scale(scale);
    float *s = scratch, *qs = scratch + tokens;  // [tokens] scores, [hd] the scaled query
    for (int h = 0; h < heads; h++) {
        int g = h % groups;
        const float *q = qkv + (long)h * hd, *k = kbase + (long)g * hd, *v = vbase + (long)g * hd;
        for (int i = 0; i < tokens; i++) {
            const float *qi = q + (long)i * ldq;
            for (int d = 0; d < hd; d++) qs[d] = qi[d] * sc2;
            float m = -3.4e38f;
            for (int j = 0; j < tokens; j++) {
                const float *kj = k + (long)j * ldq;
                float a = 0;
                for (int d = 0; d < hd; d++) a += qs[d] * kj[d];
                s[j] = a;
                m = a > m ? a : m;
            }
            float sum = 0;
            for (int j = 0; j < tokens; j++) { s[j] = mk_exp2_1(s[j] - m); sum += s[j]; }
            float inv = 1.0f / sum;
            float *o = out + (long)i * ldo + (long)h * hd;
            for (int d = 0; d < hd; d++) o[d] = 0;
            for (int j = 0; j < tokens; j++) {
                const float *vj = v + (long)j * ldq;
                for (int d = 0; d < hd; d++) o[d] += s[j] * vj[d];
            }
            for (int d = 0; d < hd; d++) o[d] *= inv;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// AVX2 + FMA implementations.

#if MK_X86
#define MK_AVX2 __attribute__((target("avx2,fma")))

MK_AVX2 static inline __m256 mk_exp8(__m256 x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.3f));
    x = _mm256_min_ps(x, _mm256_set1_ps(88.3f));
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    __m256 t = _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), magic);
    __m256 fx = _mm256_sub_ps(t, magic);
    __m256 r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fmadd_ps(fx, _mm256_set1_ps(2.12194440e-4f), r);
    __m256 z = _mm256_mul_ps(r, r);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_add_ps(_mm256_fmadd_ps(y, z, r), _mm256_set1_ps(1.0f));
    __m256i n = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_castps_si256(magic));
    n = _mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(n));
}

/// mk_exp2_1 with 8 lanes: the same operations in the same order, so the same result per lane.
MK_AVX2 static inline __m256 mk_exp2_8(__m256 x) {
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    const __m256 live = _mm256_cmp_ps(x, _mm256_set1_ps(-126.0f), _CMP_GE_OQ);  // false below −126 and for NaN
    const __m256 t = _mm256_add_ps(x, magic);
    __m256 n = _mm256_sub_ps(t, magic);
    __m256 f = _mm256_sub_ps(x, n);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(MK_E2_C5), f, _mm256_set1_ps(MK_E2_C4));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(MK_E2_C3));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(MK_E2_C2));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(MK_E2_C1));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
    // n·2^23 is the low word of (x + magic)'s bits shifted left by 23 (magic's own bits shift out).
    __m256i e = _mm256_slli_epi32(_mm256_castps_si256(t), 23);
    __m256 y = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e));
    return _mm256_and_ps(y, live);
}

MK_AVX2 static void exp2_avx2(const float *x, float *y, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, mk_exp2_8(_mm256_loadu_ps(x + i)));
    for (; i < n; i++) y[i] = mk_exp2_1(x[i]);
}

MK_AVX2 static inline __m256i mk_tail_mask(int lanes) {
    // lanes in 1...8: the first `lanes` lanes set.
    static const int32_t bits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(bits + 8 - lanes));
}

MK_AVX2 static void exp_avx2(const float *x, float *y, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, mk_exp8(_mm256_loadu_ps(x + i)));
    for (; i < n; i++) y[i] = mk_exp1(x[i]);
}

MK_AVX2 static void softmax_avx2(float *p, int rows, int cols, int ld) {
    for (int r = 0; r < rows; r++) {
        float *row = p + (long)r * ld;
        int vec = cols & ~7, i;
        float m = row[0];
        if (vec) {
            __m256 mv = _mm256_loadu_ps(row);
            for (i = 8; i < vec; i += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(row + i));
            float lanes[8];
            _mm256_storeu_ps(lanes, mv);
            for (int l = 0; l < 8; l++) m = lanes[l] > m ? lanes[l] : m;
        }
        for (i = vec; i < cols; i++) m = row[i] > m ? row[i] : m;
        __m256 mv = _mm256_set1_ps(m), sv = _mm256_setzero_ps();
        for (i = 0; i < vec; i += 8) {
            __m256 e = mk_exp8(_mm256_sub_ps(_mm256_loadu_ps(row + i), mv));
            _mm256_storeu_ps(row + i, e);
            sv = _mm256_add_ps(sv, e);
        }
        float lanes[8];
        _mm256_storeu_ps(lanes, sv);
        float s = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
        for (i = vec; i < cols; i++) { row[i] = mk_exp1(row[i] - m); s += row[i]; }
        __m256 inv = _mm256_set1_ps(1.0f / s);
        for (i = 0; i < vec; i += 8) _mm256_storeu_ps(row + i, _mm256_mul_ps(_mm256_loadu_ps(row + i), inv));
        float invs = 1.0f / s;
        for (i = vec; i < cols; i++) row[i] *= invs;
    }
}

MK_AVX2 static void silu_avx2(const float *h, float gate, float *dst, int n) {
    const __m256 one = _mm256_set1_ps(1.0f), gv = _mm256_set1_ps(gate);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(h + i);
        __m256 e = mk_exp8(_mm256_xor_ps(x, sign));
        __m256 s = _mm256_div_ps(x, _mm256_add_ps(one, e));
        _mm256_storeu_ps(dst + i, _mm256_fmadd_ps(gv, s, _mm256_loadu_ps(dst + i)));
    }
    for (; i < n; i++) { float x = h[i]; dst[i] += gate * (x / (1.0f + mk_exp1(-x))); }
}

MK_AVX2 static inline float mk_hsum8(__m256 v) {
    float l[8];
    _mm256_storeu_ps(l, v);
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

MK_AVX2 static void swiglu_avx2(const float *a, const float *v, float *u, int n) {
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(a + i);
        __m256 s = _mm256_div_ps(x, _mm256_add_ps(one, mk_exp8(_mm256_xor_ps(x, sign))));
        _mm256_storeu_ps(u + i, _mm256_mul_ps(s, _mm256_loadu_ps(v + i)));
    }
    for (; i < n; i++) { float x = a[i]; u[i] = x / (1.0f + mk_exp1(-x)) * v[i]; }
}

MK_AVX2 static void swiglu_backward_avx2(const float *a, const float *v, float *du, float *dv, int n) {
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(a + i), g = _mm256_loadu_ps(du + i);
        __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, mk_exp8(_mm256_xor_ps(x, sign))));
        _mm256_storeu_ps(dv + i, _mm256_add_ps(_mm256_loadu_ps(dv + i), _mm256_mul_ps(_mm256_mul_ps(g, x), s)));
        __m256 dsilu = _mm256_add_ps(one, _mm256_mul_ps(x, _mm256_sub_ps(one, s)));
        _mm256_storeu_ps(du + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(g, _mm256_loadu_ps(v + i)), s), dsilu));
    }
    for (; i < n; i++) {
        float x = a[i], g = du[i];
        float s = 1.0f / (1.0f + mk_exp1(-x));
        dv[i] += g * x * s;
        du[i] = g * v[i] * s * (1.0f + x * (1.0f - s));
    }
}

MK_AVX2 static void layernorm_backward_avx2(const float *x, int ldx, const float *dy, int lddy, int rows, int d,
                                            const float *gamma, float eps, float *dx, int lddx, float *dgamma,
                                            float *dbeta) {
    const float invd = 1.0f / (float)d;
    const int vec = d & ~7;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (long)r * ldx, *gr = dy + (long)r * lddy;
        float *dxr = dx + (long)r * lddx;
        __m256 acc = _mm256_setzero_ps();
        int i;
        for (i = 0; i < vec; i += 8) acc = _mm256_add_ps(acc, _mm256_loadu_ps(xr + i));
        float s = mk_hsum8(acc);
        for (; i < d; i++) s += xr[i];
        const float mean = s * invd;
        const __m256 mv = _mm256_set1_ps(mean);
        acc = _mm256_setzero_ps();
        for (i = 0; i < vec; i += 8) {
            __m256 c = _mm256_sub_ps(_mm256_loadu_ps(xr + i), mv);
            acc = _mm256_fmadd_ps(c, c, acc);
        }
        float q = mk_hsum8(acc);
        for (; i < d; i++) { float c = xr[i] - mean; q += c * c; }
        const float rstd = 1.0f / sqrtf(q * invd + eps);
        const __m256 rv = _mm256_set1_ps(rstd);
        __m256 sgv = _mm256_setzero_ps(), sgxv = _mm256_setzero_ps();
        for (i = 0; i < vec; i += 8) {
            __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + i), mv), rv);
            __m256 dyv = _mm256_loadu_ps(gr + i);
            __m256 g = _mm256_mul_ps(dyv, _mm256_loadu_ps(gamma + i));
            sgv = _mm256_add_ps(sgv, g);
            sgxv = _mm256_fmadd_ps(g, xh, sgxv);
            _mm256_storeu_ps(dgamma + i, _mm256_fmadd_ps(dyv, xh, _mm256_loadu_ps(dgamma + i)));
            _mm256_storeu_ps(dbeta + i, _mm256_add_ps(_mm256_loadu_ps(dbeta + i), dyv));
        }
        float sg = mk_hsum8(sgv), sgx = mk_hsum8(sgxv);
        for (; i < d; i++) {
            float xh = (xr[i] - mean) * rstd, g = gr[i] * gamma[i];
            sg += g; sgx += g * xh;
            dgamma[i] += gr[i] * xh;
            dbeta[i] += gr[i];
        }
        const float mg = sg * invd, mgx = sgx * invd;
        const __m256 mgv = _mm256_set1_ps(mg), mgxv = _mm256_set1_ps(mgx);
        for (i = 0; i < vec; i += 8) {
            __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + i), mv), rv);
            __m256 g = _mm256_mul_ps(_mm256_loadu_ps(gr + i), _mm256_loadu_ps(gamma + i));
            __m256 t = _mm256_sub_ps(_mm256_sub_ps(g, mgv), _mm256_mul_ps(xh, mgxv));
            _mm256_storeu_ps(dxr + i, _mm256_fmadd_ps(rv, t, _mm256_loadu_ps(dxr + i)));
        }
        for (; i < d; i++) {
            float xh = (xr[i] - mean) * rstd;
            dxr[i] += rstd * (gr[i] * gamma[i] - mg - xh * mgx);
        }
    }
}

// Weighted values for 4 query rows of one 8-query block: out[r, :] = inv[r] · Σ_j p[j][r0 + r] · v[j, :],
// with the head's hd ≤ 8·NV columns in NV vectors (the last one masked to hd).
#define MK_OUT_BLOCK(NV)                                                                                   \
    MK_AVX2 static void out_block_##NV(const float *p, int tokens, const float *v, int ldq, __m256i tail,    \
                                        const float *inv, int rows, float *o, int ldo) {                      \
        __m256 a[4][NV];                                                                                    \
        for (int r = 0; r < 4; r++)                                                                         \
            for (int c = 0; c < NV; c++) a[r][c] = _mm256_setzero_ps();                                     \
        for (int j = 0; j < tokens; j++) {                                                                  \
            const float *vj = v + (long)j * ldq;                                                            \
            __m256 vv[NV];                                                                                  \
            for (int c = 0; c < NV - 1; c++) vv[c] = _mm256_loadu_ps(vj + 8 * c);                           \
            vv[NV - 1] = _mm256_maskload_ps(vj + 8 * (NV - 1), tail);                                       \
            const float *pj = p + 8 * j;                                                                    \
            for (int r = 0; r < 4; r++) {                                                                   \
                __m256 pr = _mm256_broadcast_ss(pj + r);                                                    \
                for (int c = 0; c < NV; c++) a[r][c] = _mm256_fmadd_ps(pr, vv[c], a[r][c]);                 \
            }                                                                                               \
        }                                                                                                   \
        for (int r = 0; r < rows; r++) {                                                                    \
            __m256 s = _mm256_set1_ps(inv[r]);                                                              \
            float *orow = o + (long)r * ldo;                                                                \
            for (int c = 0; c < NV - 1; c++) _mm256_storeu_ps(orow + 8 * c, _mm256_mul_ps(a[r][c], s));     \
            _mm256_maskstore_ps(orow + 8 * (NV - 1), tail, _mm256_mul_ps(a[r][NV - 1], s));                 \
        }                                                                                                   \
    }
MK_OUT_BLOCK(1)
MK_OUT_BLOCK(2)
MK_OUT_BLOCK(3)

// Queries are taken 8 at a time, one per vector lane, so the scores of a query block are a column
// of vectors s[j] (lane = query): the scores are an 8×8 register-blocked product over the head
// width, and the softmax over keys is purely vertical (max, exp and sum lane by lane) with no
// horizontal reductions; the queries are scaled by scale·log2 e when they are transposed, so the scores
// are in base 2 and the softmax takes 2^(s − max) (mk_exp2_8). The weighted values are then 4 rows × hd
// columns in registers.
MK_AVX2 static void attention_avx2(const float *qkv, int ldq, int tokens, int heads, int groups, int hd,
                                   float scale, float *out, int ldo, float *scratch) {
    const int tp = (tokens + 7) & ~7;
    float *qt = scratch;                 // [hd][tp]: one head's queries · scale·log2 e, transposed, zero-padded
    float *p = qt + (long)hd * tp;       // [tokens][8]: base-2 scores, then 2^(s_j − max), of one query block
    float *inv = p + (long)tokens * 8;   // [8]: 1 / Σ_j 2^(s_j − max) per query of the block
    const int nv = (hd + 7) / 8;
    const __m256i tail = mk_tail_mask(hd - 8 * (nv - 1));
    const float sc2 = mk_base2_scale(scale);
    const float *kbase = qkv + (long)heads * hd;
    const float *vbase = kbase + (long)groups * hd;

    for (int h = 0; h < heads; h++) {
        const int g = h % groups;
        const float *q = qkv + (long)h * hd, *k = kbase + (long)g * hd, *v = vbase + (long)g * hd;
        for (int i = 0; i < tokens; i++)
            for (int d = 0; d < hd; d++) qt[(long)d * tp + i] = q[(long)i * ldq + d] * sc2;
        for (int i = tokens; i < tp; i++)
            for (int d = 0; d < hd; d++) qt[(long)d * tp + i] = 0;

        for (int ib = 0; ib < tokens; ib += 8) {
            __m256 m = _mm256_set1_ps(-3.4e38f);
            int j = 0;
            for (; j + 8 <= tokens; j += 8) {
                const float *k0 = k + (long)j * ldq;
                __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
                for (int d = 0; d < hd; d++) {
                    __m256 qv = _mm256_loadu_ps(qt + (long)d * tp + ib);
                    const float *kd = k0 + d;
                    a0 = _mm256_fmadd_ps(qv, _mm256_broadcast_ss(kd), a0);
                    a1 = _mm256_fmadd_ps(qv, _mm256_broadcast_ss(kd + ldq), a1);
                    a2 = _mm256_fmadd_ps(qv, _mm256_broadcast_ss(kd + 2 * (long)ldq), a2);
                    a3 = _mm256_fmadd_ps(qv, _mm256_broadcast_ss(kd + 3 * (long)ldq), a3);
                    a4 = _mm256_fmadd_ps(qv, _mm256_broadcast_ss(kd + 4 * (long)ldq), a4);
                    a5 = _mm256_fmadd_ps(qv, _mm256_broadcast_ss(kd + 5 * (long)ldq), a5);
                    a6 = _mm256_fmadd_ps(qv, _mm256_broadcast_ss(kd + 6 * (long)ldq), a6);
                    a7 = _mm256_fmadd_ps(qv, _mm256_broadcast_ss(kd + 7 * (long)ldq), a7);
                }
                float *pj = p + 8 * (long)j;
                _mm256_storeu_ps(pj, a0); _mm256_storeu_ps(pj + 8, a1); _mm256_storeu_ps(pj + 16, a2);
                _mm256_storeu_ps(pj + 24, a3); _mm256_storeu_ps(pj + 32, a4); _mm256_storeu_ps(pj + 40, a5);
                _mm256_storeu_ps(pj + 48, a6); _mm256_storeu_ps(pj + 56, a7);
                m = _mm256_max_ps(m, _mm256_max_ps(_mm256_max_ps(_mm256_max_ps(a0, a1), _mm256_max_ps(a2, a3)),
                                                   _mm256_max_ps(_mm256_max_ps(a4, a5), _mm256_max_ps(a6, a7))));
            }
            for (; j < tokens; j++) {
                const float *kj = k + (long)j * ldq;
                __m256 a = _mm256_setzero_ps();
                for (int d = 0; d < hd; d++)
                    a = _mm256_fmadd_ps(_mm256_loadu_ps(qt + (long)d * tp + ib), _mm256_broadcast_ss(kj + d), a);
                _mm256_storeu_ps(p + 8 * (long)j, a);
                m = _mm256_max_ps(m, a);
            }
            __m256 s0 = _mm256_setzero_ps(), s1 = s0;
            j = 0;
            for (; j + 2 <= tokens; j += 2) {
                __m256 e0 = mk_exp2_8(_mm256_sub_ps(_mm256_loadu_ps(p + 8 * (long)j), m));
                __m256 e1 = mk_exp2_8(_mm256_sub_ps(_mm256_loadu_ps(p + 8 * (long)j + 8), m));
                _mm256_storeu_ps(p + 8 * (long)j, e0);
                _mm256_storeu_ps(p + 8 * (long)j + 8, e1);
                s0 = _mm256_add_ps(s0, e0);
                s1 = _mm256_add_ps(s1, e1);
            }
            for (; j < tokens; j++) {
                __m256 e = mk_exp2_8(_mm256_sub_ps(_mm256_loadu_ps(p + 8 * (long)j), m));
                _mm256_storeu_ps(p + 8 * (long)j, e);
                s0 = _mm256_add_ps(s0, e);
            }
            _mm256_storeu_ps(inv, _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(s0, s1)));

            for (int r0 = 0; r0 < 8 && ib + r0 < tokens; r0 += 4) {
                int rows = tokens - ib - r0;
                rows = rows > 4 ? 4 : rows;
                float *o = out + (long)(ib + r0) * ldo + (long)h * hd;
                switch (nv) {
                case 1: out_block_1(p + r0, tokens, v, ldq, tail, inv + r0, rows, o, ldo); break;
                case 2: out_block_2(p + r0, tokens, v, ldq, tail, inv + r0, rows, o, ldo); break;
                default: out_block_3(p + r0, tokens, v, ldq, tail, inv + r0, rows, o, ldo); break;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// AVX-512 implementations (AVX512F; chosen only when the CPU has it and the OS saves the ZMM state).
// On Zen 4 a ZMM instruction runs as two 256-bit halves, so these gain from fewer instructions
// (embedded broadcasts, 16 lanes per loop step, no lanes wasted on an 18-wide head), not from a wider
// FMA unit.

#define MK_AVX512 __attribute__((target("avx512f,avx2,fma")))

// mk_exp16 (e^x in 16 lanes, the operations of mk_exp8) is in simd_exp.h, shared with bf16_gemm.c.
#include "simd_exp.h"

/// mk_exp2_8 with 16 lanes: round to nearest even by VRNDSCALEPS and 2^n by VSCALEFPS (exact here, as
/// the exponent addition of mk_exp2_8), zero below −126 and for NaN by the zero-masking of VSCALEFPS; the
/// same polynomial in the same order, so the same result per lane.
MK_AVX512 static inline __m512 mk_exp2_16(__m512 x) {
    const __mmask16 live = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-126.0f), _CMP_GE_OQ);
    const __m512 n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 f = _mm512_sub_ps(x, n);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(MK_E2_C5), f, _mm512_set1_ps(MK_E2_C4));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(MK_E2_C3));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(MK_E2_C2));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(MK_E2_C1));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
    return _mm512_maskz_scalef_ps(live, p, n);
}

MK_AVX512 static void exp2_avx512(const float *x, float *y, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, mk_exp2_16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 k = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, k, mk_exp2_16(_mm512_maskz_loadu_ps(k, x + i)));
    }
}

// Attention with 16 queries per vector (one per lane) for a head width HD known at compile time.
// Scores: for a block of 16 queries, keys 8 at a time in 8 accumulators, one embedded-broadcast
// FMA per key and head column, the queries scaled by scale·log2 e beforehand (base-2 scores). Then one
// pass over the keys computes p_j = 2^(s_j − max) lane-wise (as the AVX2 kernel, the same sum order),
// adds it to the two partial sums and accumulates the weighted values with the queries still in the
// lanes: HD accumulators (one per head column), per key p_j times a broadcast of v[j, d]. The HD × 16
// result is scaled by 1/Σ and transposed into the output through a small buffer. Query head h reads KV
// group h mod groups. Before the heads, one pass over the tile's rows (read in order, which the hardware
// prefetchers follow; read per head they were 72-byte pieces a row apart, 1,152 bytes for S) transposes
// every head's scaled queries and every group's keys and copies every group's values into contiguous rows.
#define MK_ATTENTION512(HD)                                                                                 \
    MK_AVX512 static void attention512_##HD(const float *qkv, int ldq, int tokens, int heads, int groups,      \
                                            float scale, float *out, int ldo, float *scratch) {               \
        const int tp = (tokens + 15) & ~15;                                                                 \
        float *p = scratch;               /* [tokens][16]: base-2 scores of one block */                   \
        float *tr = p + (long)tokens * 16; /* [HD][16]: the block's output before the transpose */          \
        float *qta = tr + 16L * HD;       /* [heads][HD][tp]: scaled queries, transposed, zero-padded */   \
        float *kta = qta + (long)heads * HD * tp;  /* [groups][HD][tp]: keys, transposed */                \
        float *vca = kta + (long)groups * HD * tp; /* [groups][tokens][HD]: values, contiguous rows */     \
        const float sc2 = mk_base2_scale(scale);                                                            \
        for (int i = 0; i < tokens; i++) {                                                                  \
            const float *row = qkv + (long)i * ldq;                                                         \
            for (int h = 0; h < heads; h++)                                                                 \
                for (int d = 0; d < HD; d++) qta[((long)h * HD + d) * tp + i] = row[h * HD + d] * sc2;      \
            for (int g = 0; g < groups; g++)                                                                \
                for (int d = 0; d < HD; d++) kta[((long)g * HD + d) * tp + i] = row[(heads + g) * HD + d];  \
            for (int g = 0; g < groups; g++)                                                                \
                memcpy(vca + ((long)g * tokens + i) * HD, row + (heads + groups + g) * HD, sizeof(float) * HD); \
        }                                                                                                   \
        for (int h = 0; h < heads; h++)                                                                     \
            for (int d = 0; d < HD; d++)                                                                    \
                for (int i = tokens; i < tp; i++) qta[((long)h * HD + d) * tp + i] = 0;                     \
        for (int h = 0; h < heads; h++) {                                                                   \
            const int g = h % groups;                                                                       \
            const float *qt = qta + (long)h * HD * tp, *kt = kta + (long)g * HD * tp;                        \
            const float *v = vca + (long)g * tokens * HD;                                                   \
            for (int ib = 0; ib < tokens; ib += 16) {                                                       \
                __m512 m = _mm512_set1_ps(-3.4e38f);                                                        \
                int j = 0;                                                                                  \
                for (; j + 8 <= tokens; j += 8) {                                                           \
                    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0; \
                    for (int d = 0; d < HD; d++) {                                                          \
                        __m512 qv = _mm512_loadu_ps(qt + (long)d * tp + ib);                                \
                        const float *kd = kt + (long)d * tp + j;                                            \
                        a0 = _mm512_fmadd_ps(qv, _mm512_set1_ps(kd[0]), a0);                                \
                        a1 = _mm512_fmadd_ps(qv, _mm512_set1_ps(kd[1]), a1);                                \
                        a2 = _mm512_fmadd_ps(qv, _mm512_set1_ps(kd[2]), a2);                                \
                        a3 = _mm512_fmadd_ps(qv, _mm512_set1_ps(kd[3]), a3);                                \
                        a4 = _mm512_fmadd_ps(qv, _mm512_set1_ps(kd[4]), a4);                                \
                        a5 = _mm512_fmadd_ps(qv, _mm512_set1_ps(kd[5]), a5);                                \
                        a6 = _mm512_fmadd_ps(qv, _mm512_set1_ps(kd[6]), a6);                                \
                        a7 = _mm512_fmadd_ps(qv, _mm512_set1_ps(kd[7]), a7);                                \
                    }                                                                                       \
                    float *pj = p + 16 * (long)j;                                                           \
                    _mm512_storeu_ps(pj, a0); _mm512_storeu_ps(pj + 16, a1); _mm512_storeu_ps(pj + 32, a2); \
                    _mm512_storeu_ps(pj + 48, a3); _mm512_storeu_ps(pj + 64, a4); _mm512_storeu_ps(pj + 80, a5); \
                    _mm512_storeu_ps(pj + 96, a6); _mm512_storeu_ps(pj + 112, a7);                          \
                    m = _mm512_max_ps(m, _mm512_max_ps(_mm512_max_ps(_mm512_max_ps(a0, a1), _mm512_max_ps(a2, a3)), \
                                                       _mm512_max_ps(_mm512_max_ps(a4, a5), _mm512_max_ps(a6, a7)))); \
                }                                                                                           \
                for (; j < tokens; j++) {                                                                   \
                    __m512 a = _mm512_setzero_ps();                                                         \
                    for (int d = 0; d < HD; d++)                                                            \
                        a = _mm512_fmadd_ps(_mm512_loadu_ps(qt + (long)d * tp + ib), _mm512_set1_ps(kt[(long)d * tp + j]), a); \
                    _mm512_storeu_ps(p + 16 * (long)j, a);                                                  \
                    m = _mm512_max_ps(m, a);                                                                \
                }                                                                                           \
                __m512 s0 = _mm512_setzero_ps(), s1 = s0;                                                   \
                __m512 acc[HD];                                                                             \
                for (int d = 0; d < HD; d++) acc[d] = _mm512_setzero_ps();                                  \
                for (j = 0; j + 2 <= tokens; j += 2) {                                                      \
                    const __m512 e0 = mk_exp2_16(_mm512_sub_ps(_mm512_loadu_ps(p + 16 * (long)j), m));      \
                    const __m512 e1 = mk_exp2_16(_mm512_sub_ps(_mm512_loadu_ps(p + 16 * (long)j + 16), m)); \
                    s0 = _mm512_add_ps(s0, e0);                                                             \
                    s1 = _mm512_add_ps(s1, e1);                                                             \
                    const float *v0 = v + (long)j * HD, *v1 = v0 + HD;                                    \
                    for (int d = 0; d < HD; d++) acc[d] = _mm512_fmadd_ps(e0, _mm512_set1_ps(v0[d]), acc[d]); \
                    for (int d = 0; d < HD; d++) acc[d] = _mm512_fmadd_ps(e1, _mm512_set1_ps(v1[d]), acc[d]); \
                }                                                                                           \
                if (j < tokens) {                                                                           \
                    const __m512 e = mk_exp2_16(_mm512_sub_ps(_mm512_loadu_ps(p + 16 * (long)j), m));       \
                    s0 = _mm512_add_ps(s0, e);                                                              \
                    const float *vj = v + (long)j * HD;                                                     \
                    for (int d = 0; d < HD; d++) acc[d] = _mm512_fmadd_ps(e, _mm512_set1_ps(vj[d]), acc[d]); \
                }                                                                                           \
                const __m512 inv = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_add_ps(s0, s1));              \
                for (int d = 0; d < HD; d++) _mm512_storeu_ps(tr + 16 * d, _mm512_mul_ps(acc[d], inv));     \
                const int rows = tokens - ib < 16 ? tokens - ib : 16;                                       \
                for (int r = 0; r < rows; r++) {                                                            \
                    float *o = out + (long)(ib + r) * ldo + (long)h * HD;                                   \
                    for (int d = 0; d < HD; d++) o[d] = tr[16 * d + r];                                     \
                }                                                                                           \
            }                                                                                               \
        }                                                                                                   \
    }
MK_ATTENTION512(16)
MK_ATTENTION512(18)

/// silu_avx2 with 16 lanes and a masked tail (the tail's lanes take the vector arithmetic too).
MK_AVX512 static void silu_avx512(const float *h, float gate, float *dst, int n) {
    const __m512 one = _mm512_set1_ps(1.0f), gv = _mm512_set1_ps(gate);
    const __m512i sign = _mm512_set1_epi32((int)0x80000000);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 x = _mm512_loadu_ps(h + i);
        __m512 e = mk_exp16(_mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), sign)));
        __m512 s = _mm512_div_ps(x, _mm512_add_ps(one, e));
        _mm512_storeu_ps(dst + i, _mm512_fmadd_ps(gv, s, _mm512_loadu_ps(dst + i)));
    }
    if (i < n) {
        const __mmask16 k = (__mmask16)((1u << (n - i)) - 1);
        __m512 x = _mm512_maskz_loadu_ps(k, h + i);
        __m512 e = mk_exp16(_mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), sign)));
        __m512 s = _mm512_div_ps(x, _mm512_add_ps(one, e));
        _mm512_mask_storeu_ps(dst + i, k, _mm512_fmadd_ps(gv, s, _mm512_maskz_loadu_ps(k, dst + i)));
    }
}
#endif

// ---------------------------------------------------------------------------------------------
// Dispatch.

static int mk_choice = -1;  // -1 not yet known, else MK_LEVEL_*
static int mk_limit = 2;    // the highest level the tests allow (moemae_kernels_limit)

enum { MK_LEVEL_PORTABLE = 0, MK_LEVEL_AVX2 = 1, MK_LEVEL_AVX512 = 2 };

/// The best level this CPU runs (once per process), capped by `mk_limit`.
static int mk_level(void) {
    int c = __atomic_load_n(&mk_choice, __ATOMIC_RELAXED);
    if (c < 0) {
#if MK_X86
        // __builtin_cpu_supports checks the OS-saved register state too (XCR0: YMM for AVX2, ZMM and
        // opmask for AVX-512F).
        __builtin_cpu_init();
        c = (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? MK_LEVEL_AVX2 : MK_LEVEL_PORTABLE;
        if (c == MK_LEVEL_AVX2 && __builtin_cpu_supports("avx512f")) c = MK_LEVEL_AVX512;
#else
        c = MK_LEVEL_PORTABLE;
#endif
        __atomic_store_n(&mk_choice, c, __ATOMIC_RELAXED);
    }
    int limit = __atomic_load_n(&mk_limit, __ATOMIC_RELAXED);
    return c < limit ? c : limit;
}

static int mk_vector(void) { return mk_level() >= MK_LEVEL_AVX2; }

int moemae_kernels_vectorised(void) { return mk_level(); }

void moemae_kernels_force_portable(int on) { moemae_kernels_limit(on ? MK_LEVEL_PORTABLE : MK_LEVEL_AVX512); }

void moemae_kernels_limit(int level) {
    __atomic_store_n(&mk_limit, level < 0 ? 0 : level > MK_LEVEL_AVX512 ? MK_LEVEL_AVX512 : level, __ATOMIC_RELAXED);
}

long moemae_attention_scratch_floats(int tokens, int heads, int groups, int hd) {
    long tp = (tokens + 7) & ~7, tp16 = (tokens + 15) & ~15;
    long avx2 = (long)hd * tp + 8 * tp + 16 + tp;
    long avx512 = 16L * tokens + 16L * hd + (long)(heads + groups) * hd * tp16 + (long)groups * tokens * hd;
    long portable = (long)tokens + hd;
    long most = avx2 > avx512 ? avx2 : avx512;
    return most > portable ? most : portable;
}

void moemae_attention_tile(const float *qkv, int ldq, int tokens, int heads, int groups, int hd,
                           float scale, float *out, int ldo, float *scratch) {
#if MK_X86
    if (mk_level() >= MK_LEVEL_AVX512 && (hd == 16 || hd == 18)) {
        if (hd == 16) attention512_16(qkv, ldq, tokens, heads, groups, scale, out, ldo, scratch);
        else attention512_18(qkv, ldq, tokens, heads, groups, scale, out, ldo, scratch);
        return;
    }
    if (hd <= 24 && mk_vector()) {
        attention_avx2(qkv, ldq, tokens, heads, groups, hd, scale, out, ldo, scratch);
        return;
    }
#endif
    attention_portable(qkv, ldq, tokens, heads, groups, hd, scale, out, ldo, scratch);
}

void moemae_softmax_rows(float *p, int rows, int cols, int ld) {
#if MK_X86
    if (mk_vector()) { softmax_avx2(p, rows, cols, ld); return; }
#endif
    softmax_portable(p, rows, cols, ld);
}

void moemae_add_scaled_silu(const float *h, float gate, float *dst, int n) {
#if MK_X86
    int level = mk_level();
    if (level >= MK_LEVEL_AVX512) { silu_avx512(h, gate, dst, n); return; }
    if (level >= MK_LEVEL_AVX2) { silu_avx2(h, gate, dst, n); return; }
#endif
    silu_portable(h, gate, dst, n);
}

void moemae_add_gated_silu_rows(const float *hidden, int ldh, int rows, int n, const int32_t *token, const float *gate,
                                float *dst, int ldd) {
    int level = mk_level();
    for (int r = 0; r < rows; r++) {
        const float *hr = hidden + (long)r * ldh;
        float *dr = dst + (long)token[r] * ldd;
#if MK_X86
        if (level >= MK_LEVEL_AVX512) { silu_avx512(hr, gate[r], dr, n); continue; }
        if (level >= MK_LEVEL_AVX2) { silu_avx2(hr, gate[r], dr, n); continue; }
#endif
        silu_portable(hr, gate[r], dr, n);
    }
    (void)level;
}

void moemae_exp(const float *x, float *y, int n) {
#if MK_X86
    if (mk_vector()) { exp_avx2(x, y, n); return; }
#endif
    exp_portable(x, y, n);
}

void moemae_exp2(const float *x, float *y, int n) {
#if MK_X86
    int level = mk_level();
    if (level >= MK_LEVEL_AVX512) { exp2_avx512(x, y, n); return; }
    if (level >= MK_LEVEL_AVX2) { exp2_avx2(x, y, n); return; }
#endif
    exp2_portable(x, y, n);
}

void moemae_swiglu(const float *a, const float *v, float *u, int n) {
#if MK_X86
    if (mk_vector()) { swiglu_avx2(a, v, u, n); return; }
#endif
    swiglu_portable(a, v, u, n);
}

void moemae_swiglu_backward(const float *a, const float *v, float *du, float *dv, int n) {
#if MK_X86
    if (mk_vector()) { swiglu_backward_avx2(a, v, du, dv, n); return; }
#endif
    swiglu_backward_portable(a, v, du, dv, n);
}

void moemae_layernorm_backward(const float *x, int ldx, const float *dy, int lddy, int rows, int d,
                               const float *gamma, float eps, float *dx, int lddx, float *dgamma, float *dbeta) {
#if MK_X86
    if (mk_vector()) { layernorm_backward_avx2(x, ldx, dy, lddy, rows, d, gamma, eps, dx, lddx, dgamma, dbeta); return; }
#endif
    layernorm_backward_portable(x, ldx, dy, lddy, rows, d, gamma, eps, dx, lddx, dgamma, dbeta);
}
