// moemae_exp2 (the attention softmax's 2^x, Sources/CKernels/kernels.c: mk_exp2_1/8/16) against exp2 in
// double on every float of [−126, 0], at each kernel level this CPU runs (2 AVX-512, 1 AVX2+FMA,
// 0 portable): the largest relative error and error in ulp, and whether the levels agree bit for bit.
// docs/performance.md, "The attention kernel's softmax". About 10 s per level.
//
//   clang -O2 -ISources/CKernels/include Sources/CKernels/kernels.c scripts/exp2-accuracy.c -o /tmp/exp2-accuracy -lm
//   /tmp/exp2-accuracy
#include "moemae_kernels.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { CHUNK = 1 << 16 };

int main(void) {
    static float x[CHUNK], y[CHUNK], first[CHUNK];
    const int best = moemae_kernels_vectorised();
    for (int level = best; level >= 0; level--) {
        double worst = 0, worstUlp = 0, at = 0;
        long differs = 0;
        uint32_t bits = 0x80000000u;  // −0, then downwards
        for (int done = 0; !done;) {
            int n = 0;
            for (; n < CHUNK; n++, bits++) {
                memcpy(&x[n], &bits, 4);
                if (x[n] < -126.0f) { done = 1; break; }
            }
            moemae_kernels_limit(level);
            moemae_exp2(x, y, n);
            if (level != best) {
                moemae_kernels_limit(best);
                moemae_exp2(x, first, n);
                differs += memcmp(first, y, sizeof(float) * n) != 0;
            }
            for (int i = 0; i < n; i++) {
                const double ref = exp2((double)x[i]);
                const double err = fabs((double)y[i] - ref);
                const float rf = (float)ref;
                const double ulp = err / (double)(nextafterf(rf, INFINITY) - rf);
                if (err / ref > worst) { worst = err / ref; at = x[i]; }
                if (ulp > worstUlp) worstUlp = ulp;
            }
        }
        printf("level %d: max relative error %.3g (at x = %.9g), %.3f ulp%s\n", level, worst, at, worstUlp,
               level == best ? "" : differs ? "; differs from the best level" : "; bit for bit the best level");
    }
    return 0;
}
