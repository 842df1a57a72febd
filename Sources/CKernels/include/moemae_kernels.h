// Hand-vectorised kernels of the MoE-MAE engine that BLAS does not cover well: fused grouped-query
// attention over one tile (the head width is 16–18 floats, far too narrow for cblas_sgemm to run
// near peak) and the element-wise exp/softmax/SiLU loops.
//
// Each entry point picks, once per process, an AVX-512 implementation where there is one and the CPU
// has AVX512F (attention for head widths 16 and 18, the gated SiLU), else an AVX2+FMA one when the
// CPU has both (x86-64 `cpuid`), else a portable C implementation with the same arithmetic order per
// lane; the binary itself stays baseline x86-64 (or any other architecture).
#ifndef MOEMAE_KERNELS_H
#define MOEMAE_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Grouped-query self-attention of one tile (docs/model.md, "Grouped-query attention"):
/// for every query head h (group g = h mod groups), out[i, h·hd + d] =
/// Σ_j softmax_j(scale · q_h[i]·k_g[j]) · v_g[j, d].
///
/// - qkv: `tokens` rows (stride `ldq` floats) laid out as [q (heads·hd) | k (groups·hd) | v (groups·hd)].
/// - out: `tokens` rows (stride `ldo` floats); columns h·hd ..< (h+1)·hd are written for every head.
/// - scratch: at least `moemae_attention_scratch_floats(tokens, heads, groups, hd)` floats, 32-byte alignment
///   not required.
///
/// The softmax is taken in base 2: the queries are multiplied by scale·log2 e, so a score s is
/// scale·q·k·log2 e and e^(scale·q·k − max) = 2^(s − max) (`moemae_exp2`); the normalisation 1/Σ is
/// applied once per output element. The AVX-512 and AVX2+FMA paths agree bit for bit; the portable path
/// sums the scores in another order (within 2e-6 of the largest output in the tests).
void moemae_attention_tile(const float *qkv, int ldq, int tokens, int heads, int groups, int hd,
                           float scale, float *out, int ldo, float *scratch);

/// Floats of scratch memory `moemae_attention_tile` needs for a tile of `tokens` tokens, `heads` query
/// heads in `groups` KV groups of width `hd` (the AVX-512 kernel holds every head's transposed queries and
/// every group's keys and values: (heads + groups)·hd·⌈tokens/16⌉·16 + groups·tokens·hd + 16·(tokens + hd)).
long moemae_attention_scratch_floats(int tokens, int heads, int groups, int hd);

/// In-place, max-subtracted softmax of `rows` rows of `cols` values (row stride `ld`).
void moemae_softmax_rows(float *p, int rows, int cols, int ld);

/// dst[i] += gate · SiLU(h[i]) for n values, SiLU(x) = x / (1 + e^-x).
void moemae_add_scaled_silu(const float *h, float gate, float *dst, int n);

/// The experts' gated SiLU for `rows` routed tokens in one call: for each r < rows,
/// dst[token[r], i] += gate[r] · SiLU(hidden[r, i]) for i < n (row strides `ldh`, `ldd`). A token may
/// appear more than once; rows are applied in order.
void moemae_add_gated_silu_rows(const float *hidden, int ldh, int rows, int n, const int32_t *token, const float *gate,
                                float *dst, int ldd);

/// e^x for n values (Cephes expf: relative error ≈ 1 ulp on [-87, 88]; inputs clamped to [-87.3, 88.3]).
void moemae_exp(const float *x, float *y, int n);

/// 2^x for n values, the exponential of the attention kernel's softmax (which folds log2 e into the
/// scores' scale): round to nearest, f = x − n, 2^f by a degree-5 polynomial fitted for minimax
/// relative error on [−0.5, 0.5] (kernels.c, `mk_exp2_1`), 2^n exactly. Within 2.05 ulp (relative
/// 1.7e-7) of exp2 for x in [−126, 0]; exactly 0 for x < −126 and for NaN (no subnormal results);
/// x above 127 is outside its domain. Bit for bit the same on the AVX-512, AVX2+FMA and portable paths.
void moemae_exp2(const float *x, float *y, int n);

/// SwiGLU forward of one routed token: u[i] = SiLU(a[i]) · v[i].
void moemae_swiglu(const float *a, const float *v, float *u, int n);

/// SwiGLU backward of one routed token: given du, writes da = du·v·SiLU'(a) in place of du and adds
/// du·SiLU(a) to dv; SiLU'(a) = σ(a)·(1 + a·(1 − σ(a))).
void moemae_swiglu_backward(const float *a, const float *v, float *du, float *dv, int n);

/// LayerNorm backward (torch.nn.LayerNorm, biased variance) for `rows` rows of width `d`: with
/// x̂ = (x − μ)·r, r = 1/√(var + eps), g = dy ⊙ γ: dx += r·(g − mean(g) − x̂·mean(g ⊙ x̂)),
/// dγ += Σ dy ⊙ x̂, dβ += Σ dy; μ and r are recomputed from x.
void moemae_layernorm_backward(const float *x, int ldx, const float *dy, int lddy, int rows, int d,
                               const float *gamma, float eps, float *dx, int lddx, float *dgamma, float *dbeta);

/// The kernels in use: 0 portable, 1 AVX2+FMA, 2 AVX-512 (AVX512F, ZMM state saved by the OS; the
/// attention kernel for head widths 16 and 18, the AVX2+FMA kernels for everything else).
int moemae_kernels_vectorised(void);

/// Forces the portable kernels (1) or the default choice (0); for tests comparing the paths.
void moemae_kernels_force_portable(int on);

/// Caps the kernels at `level` (0 portable, 1 AVX2+FMA, 2 AVX-512 = no cap); for tests comparing the paths.
void moemae_kernels_limit(int level);


// ---------------------------------------------------------------------------------------------
// bfloat16 matrix products (Sources/CKernels/bf16_gemm.c): bf16 weights and activations, FP32
// accumulation. The AVX512_BF16 kernel runs only on CPUs that have it; the portable kernel performs
// the same operations in the same order per output element (the reference on other CPUs).


/// `moemae_cpu_features()` bits.
#define MOEMAE_CPU_AVX2_FMA    1   ///< AVX2 and FMA, YMM state saved by the OS
#define MOEMAE_CPU_AVX512F     2   ///< AVX-512 Foundation (cpuid 7.0 EBX bit 16)
#define MOEMAE_CPU_AVX512_BF16 4   ///< AVX512_BF16: VDPBF16PS, VCVTNE2PS2BF16 (cpuid 7.1 EAX bit 5)
#define MOEMAE_CPU_OS_ZMM      8   ///< the OS saves the opmask and ZMM registers (XCR0 bits 5–7)
#define MOEMAE_CPU_AMX_BF16   16   ///< AMX-BF16 (cpuid 7.0 EDX bit 22; not used by these kernels)
#define MOEMAE_CPU_OS_AMX     32   ///< the OS saves the AMX tile state (XCR0 bits 17–18)

/// The CPU features above that this CPU has (x86-64 `cpuid` and `xgetbv`, read once; 0 elsewhere).
int moemae_cpu_features(void);

/// 1 when the AVX512_BF16 kernel can run here (AVX512F, AVX512_BF16 and the ZMM state saved).
int moemae_bf16_native_available(void);

/// Kernels of `moemae_bf16_gemm`.
#define MOEMAE_BF16_KERNEL_AVX512   0   ///< VDPBF16PS (AVX512_BF16)
#define MOEMAE_BF16_KERNEL_PORTABLE 1   ///< plain C, the same arithmetic per output element

/// FP32 → bf16 as VCVTNEPS2BF16 (Intel SDM `convert_fp32_to_bfloat16`): round to nearest even,
/// zero and denormal inputs to signed zero, NaN quieted. `n` values.
void moemae_bf16_round(const float *x, uint16_t *y, long n);

/// bf16 → FP32 (exact). `n` values.
void moemae_bf16_widen(const uint16_t *x, float *y, long n);

/// uint16 elements of a packed `n × k` weight matrix: ⌈n/16⌉·16 columns × ⌈k/2⌉ pairs.
long moemae_bf16_packed_count(int n, int k);

/// Packs a weight matrix `w` [n, k] (row stride `ldw`; PyTorch `Linear.weight` layout, out × in),
/// rounded to bf16, into the layout `moemae_bf16_gemm` reads: blocks of 16 output columns, within a
/// block ⌈k/2⌉ groups of 16 (w[j, 2p], w[j, 2p+1]) pairs; zero past n and k.
void moemae_bf16_pack(const float *w, int ldw, int n, int k, uint16_t *packed);

/// `c[i, j] += Σ_k bf16(a[i, k]) · w[j, k]` for an `m × k` A (row stride `lda`) and a packed `n × k`
/// W, FP32 accumulation starting from the value in C (write the bias there first). Per output
/// element and pair p: `acc += a[2p+1]·w[j,2p+1]`, then `acc += a[2p]·w[j,2p]` (VDPBF16PS order).
/// `kernel`: MOEMAE_BF16_KERNEL_AVX512 or _PORTABLE. Returns 0, −1 if the AVX-512 kernel was asked
/// for on a CPU without it (C untouched), −2 if scratch memory could not be allocated (k > 640).
int moemae_bf16_gemm(const float *a, int lda, int m, int k, const uint16_t *packed, int n, float *c, int ldc,
                     int kernel);

/// `moemae_bf16_gemm` with A's rows gathered: row i of the product reads row `rows[i]` of `a`
/// (row stride `lda`), so the routed tokens of an expert need no copy (the gather happens in the
/// FP32 → bf16 conversion). `rows` NULL: rows 0 ..< m.
int moemae_bf16_gemm_rows(const float *a, int lda, const int32_t *rows, int m, int k, const uint16_t *packed, int n,
                          float *c, int ldc, int kernel);

/// The general form of `moemae_bf16_gemm_rows`: A is either FP32 (`a`, converted per call; `abf` NULL)
/// or already bf16 (`abf`: row-major bf16 values, row stride `lda` elements, even, 4-byte aligned; when
/// k is odd the element at column k of each row must be 0 — it meets the zero padding of W), rows
/// optionally gathered through `rows`. The accumulators start from `c[i, j] + bias[j]` (`accumulate` 1,
/// `bias` n values: a residual connection plus bias), `c[i, j]` (`accumulate` 1, `bias` NULL), `bias[j]`
/// (`accumulate` 0: C is only written, no fill pass before) or 0. Bit for bit the result of converting A
/// with `moemae_bf16_round`, writing or adding the bias into C, and calling `moemae_bf16_gemm_rows`.
/// Returns as `moemae_bf16_gemm`.
int moemae_bf16_gemm_ex(const float *a, const uint16_t *abf, int lda, const int32_t *rows, int m, int k,
                        const uint16_t *packed, int n, const float *bias, int accumulate, float *c, int ldc, int kernel);

/// One expert's product with the mixture-of-experts epilogue fused (docs/model.md, "Mixture-of-experts
/// block"; docs/performance.md, "bfloat16"): for each of the `m` routed slots i, token t = tokens[i],
/// h = bias + bf16(A[t]) · Wᵀ (`n` = hidden width, FP32 accumulation as `moemae_bf16_gemm_ex`; A FP32 or
/// bf16 as there), then, with s = SiLU(h) = h / (1 + e^-h) (the Cephes expf of
/// `moemae_add_gated_silu_rows`, same operations) and g = gates[i]:
/// - second[i] == 0 (the token's first expert in the order the caller runs them):
///   `mix[t, j] = g·s_j` (FP32, row stride `ldmix`, j < n);
/// - second[i] != 0 (its second, after the first has run): `out[t, j] = bf16((mix[t, j] + g·s_j) · vx[t, j])`
///   (vx: V·x, row stride `ldvx`; out: bf16, row stride `ldout` ≥ ⌈n/16⌉·16, even; columns n ..< ⌈n/16⌉·16 are
///   written 0), which is the bf16 input of the shared W2 product.
/// The same numbers as the unfused sequence (product into a hidden buffer, `moemae_add_gated_silu_rows`
/// into a zeroed mix, mix ⊙ V·x, `moemae_bf16_round`) where that sequence runs its AVX-512 or AVX2 SiLU kernel.
/// Returns as `moemae_bf16_gemm`.
int moemae_bf16_expert_silu(const float *a, const uint16_t *abf, int lda, const int32_t *tokens, const float *gates,
                            const uint8_t *second, int m, int k, const uint16_t *packed, int n, const float *bias,
                            float *mix, int ldmix, const float *vx, int ldvx, uint16_t *out, int ldout, int kernel);

/// `rows` rows of `n` FP32 values (row stride `ldx`) to bf16 as `moemae_bf16_round` (row stride `ldy`),
/// with VCVTNE2PS2BF16 for MOEMAE_BF16_KERNEL_AVX512 (0, or −1 where the CPU lacks it).
int moemae_bf16_round_rows(const float *x, int ldx, int rows, int n, uint16_t *y, int ldy, int kernel);

/// LayerNorm (`torch.nn.LayerNorm` over the last dimension, biased variance) of `rows` rows of `d` values
/// (row stride `ldx`) with `gamma`, `beta` and `eps`, written rounded to bf16 into `y` (row stride `ldy`
/// elements): the operations of `VectorKernels.layerNorm` in the same order (bit for bit its FP32
/// result), then `moemae_bf16_round`; 8-lane vectors for MOEMAE_BF16_KERNEL_AVX512, plain C otherwise.
/// Returns 0, −1 (AVX-512 kernel unavailable) or −2 (d > 1024: not handled, nothing written).
int moemae_bf16_layernorm(const float *x, int ldx, int rows, int d, const float *gamma, const float *beta, float eps,
                          uint16_t *y, int ldy, int kernel);

#ifdef __cplusplus
}
#endif

#endif
