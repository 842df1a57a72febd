// e^x in 16 AVX-512 lanes, shared by kernels.c (the experts' gated SiLU, `silu_avx512`) and bf16_gemm.c
// (the same SiLU fused into the bf16 expert product's epilogue), so that both compute it with one
// definition and give the same bits: the Cephes `expf` of `mk_exp1` in kernels.c — clamp to
// [-87.3, 88.3], n = round(x·log2 e) through the 1.5·2^23 trick, ln 2 split in two, degree-6
// polynomial, 2^n through the exponent bits — with fused multiply-adds, the operations of `mk_exp8`
// (AVX2) in the same order, so the same result per lane. Internal to the CKernels target.
#ifndef MOEMAE_SIMD_EXP_H
#define MOEMAE_SIMD_EXP_H
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

__attribute__((target("avx512f,avx2,fma"), always_inline))
static inline __m512 mk_exp16(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.3f));
    x = _mm512_min_ps(x, _mm512_set1_ps(88.3f));
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    __m512 t = _mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), magic);
    __m512 fx = _mm512_sub_ps(t, magic);
    __m512 r = _mm512_fnmadd_ps(fx, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fmadd_ps(fx, _mm512_set1_ps(2.12194440e-4f), r);
    __m512 z = _mm512_mul_ps(r, r);
    __m512 y = _mm512_set1_ps(1.9875691500e-4f);
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.3981999507e-3f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(8.3334519073e-3f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(4.1665795894e-2f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.6666665459e-1f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(5.0000001201e-1f));
    y = _mm512_add_ps(_mm512_fmadd_ps(y, z, r), _mm512_set1_ps(1.0f));
    __m512i n = _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_castps_si512(magic));
    n = _mm512_slli_epi32(_mm512_add_epi32(n, _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(y, _mm512_castsi512_ps(n));
}

#endif
#endif
