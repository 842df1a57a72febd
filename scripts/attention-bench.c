// The fused attention kernel (Sources/CKernels, moemae_attention_tile) on the S shape — 64 tiles of 105
// tokens, 8 heads in 4 KV groups, head width 18 — at each kernel level this CPU runs (2 AVX-512,
// 1 AVX2+FMA, 0 portable), in GFLOP/s of process CPU time (4·T²·hd·heads FLOP per tile: scores and
// weighted values; the exponentials are not counted). docs/performance.md, "Towards 80 % of the sgemm peak".
//
// Build it with clang, which compiles the package's C (GCC 12's code for the AVX-512 kernel ran ≈ 40 % slower):
//
//   clang -O2 -ISources/CKernels/include Sources/CKernels/kernels.c scripts/attention-bench.c -o /tmp/attention-bench -lm
//   /tmp/attention-bench
#include "moemae_kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(void) {
    const int tokens = 105, heads = 8, groups = 4, hd = 18, tiles = 64;
    const int ldq = heads * hd + 2 * groups * hd, ldo = heads * hd;
    float *qkv = malloc(sizeof(float) * tiles * tokens * ldq), *out = malloc(sizeof(float) * tiles * tokens * ldo);
    float *first = malloc(sizeof(float) * tiles * tokens * ldo);
    float *scratch = malloc(sizeof(float) * moemae_attention_scratch_floats(tokens, heads, groups, hd));
    unsigned s = 1;
    for (long i = 0; i < (long)tiles * tokens * ldq; i++) { s = s * 1103515245u + 12345u; qkv[i] = (float)((s >> 8) % 2001) / 400.0f - 2.5f; }
    const double flop = 4.0 * tokens * tokens * hd * heads * tiles;
    const int best_level = moemae_kernels_vectorised();
    for (int level = best_level; level >= 0; level--) {
        moemae_kernels_limit(level);
        double best = 1e9;
        for (int r = 0; r < (level ? 10 : 1); r++) {
            const double t0 = cpu();
            for (int b = 0; b < tiles; b++)
                moemae_attention_tile(qkv + (long)b * tokens * ldq, ldq, tokens, heads, groups, hd, 0.2357f,
                                      out + (long)b * tokens * ldo, ldo, scratch);
            const double t = cpu() - t0;
            if (t < best) best = t;
        }
        if (level == best_level) memcpy(first, out, sizeof(float) * tiles * tokens * ldo);
        printf("level %d: %.2f ms per 64 tiles, %.1f GFLOP/s of CPU time%s\n", level, best * 1e3, flop / best / 1e9,
               level == best_level ? "" : memcmp(first, out, sizeof(float) * tiles * tokens * ldo) ? " (differs from the best level)"
                                                                                                    : " (bit for bit the best level's output)");
    }
    return 0;
}
