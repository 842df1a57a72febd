// Hand-vectorised kernels of the MoE-MAE engine that BLAS does not cover well: fused grouped-query
// attention over one tile (the head width is 16–18 floats, far too narrow for cblas_sgemm to run
// near peak) and the element-wise exp/softmax/SiLU loops.
//
// Each entry point picks, once per process, an AVX2+FMA implementation when the CPU has both
// (x86-64 `cpuid`), else a portable C implementation with the same arithmetic order per lane;
// the binary itself stays baseline x86-64 (or any other architecture).
#ifndef MOEMAE_KERNELS_H
#define MOEMAE_KERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/// Grouped-query self-attention of one tile (docs/model.md, "Grouped-query attention"):
/// for every query head h (group g = h mod groups), out[i, h·hd + d] =
/// Σ_j softmax_j(scale · q_h[i]·k_g[j]) · v_g[j, d].
///
/// - qkv: `tokens` rows (stride `ldq` floats) laid out as [q (heads·hd) | k (groups·hd) | v (groups·hd)].
/// - out: `tokens` rows (stride `ldo` floats); columns h·hd ..< (h+1)·hd are written for every head.
/// - scratch: at least `moemae_attention_scratch_floats(tokens, hd)` floats, 32-byte alignment not required.
void moemae_attention_tile(const float *qkv, int ldq, int tokens, int heads, int groups, int hd,
                           float scale, float *out, int ldo, float *scratch);

/// Floats of scratch memory `moemae_attention_tile` needs.
long moemae_attention_scratch_floats(int tokens, int hd);

/// In-place, max-subtracted softmax of `rows` rows of `cols` values (row stride `ld`).
void moemae_softmax_rows(float *p, int rows, int cols, int ld);

/// dst[i] += gate · SiLU(h[i]) for n values, SiLU(x) = x / (1 + e^-x).
void moemae_add_scaled_silu(const float *h, float gate, float *dst, int n);

/// e^x for n values (Cephes expf: relative error ≈ 1 ulp on [-87, 88]; inputs clamped to [-87.3, 88.3]).
void moemae_exp(const float *x, float *y, int n);

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

/// 1 when the AVX2+FMA kernels are in use, 0 for the portable ones.
int moemae_kernels_vectorised(void);

/// Forces the portable kernels (1) or the default choice (0); for tests comparing the two.
void moemae_kernels_force_portable(int on);

#ifdef __cplusplus
}
#endif

#endif
