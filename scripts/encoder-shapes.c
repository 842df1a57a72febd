// The S encoder's GEMM shapes (32 tiles per worker: M = 3,360 token rows) through OpenBLAS, as the engine
// calls them (bias written into C first, then cblas_sgemm with beta = 1), in GFLOP/s of process CPU time
// (single thread; CPU time is far less disturbed than wall time on a shared machine), next to the
// square-matrix peak. docs/performance.md, "Towards 80 % of the sgemm peak".
//
//   cc -O2 scripts/encoder-shapes.c -o /tmp/encoder-shapes -lopenblas
//   env -u OPENBLAS_CORETYPE /tmp/encoder-shapes          # OpenBLAS's own choice (Cooperlake on Zen 4)
//   OPENBLAS_CORETYPE=SkylakeX /tmp/encoder-shapes        # or Haswell, Zen, ...
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern char *openblas_get_corename(void);

static double cpu(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(void) {
    openblas_set_num_threads(1);
    printf("OpenBLAS core %s, 1 thread, GFLOP/s of CPU time (best of 5 × 0.2 s)\n", openblas_get_corename());
    const int shapes[][3] = {{3360, 288, 144}, {3360, 144, 144}, {3360, 150, 144}, {1344, 144, 144},
                             {3360, 144, 72}, {3360, 144, 108}, {3200, 144, 112}, {1024, 1024, 1024}};
    const char *names[] = {"q/k/v", "attention out / W2 (h 144)", "V + gate (h 144, 6 experts)", "one expert's tokens",
                           "W2 (h 72)", "W2 (h 108)", "patch embedding", "square (peak shape)"};
    for (int s = 0; s < 8; s++) {
        const int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *a = malloc(sizeof(float) * m * k), *w = malloc(sizeof(float) * n * k), *c = malloc(sizeof(float) * m * n),
              *b = malloc(sizeof(float) * n);
        for (long i = 0; i < (long)m * k; i++) a[i] = (float)(i % 17) * 0.01f;
        for (long i = 0; i < (long)n * k; i++) w[i] = (float)(i % 13) * 0.01f;
        for (int i = 0; i < n; i++) b[i] = (float)i;
        double best = 1e9;
        for (int r = 0; r < 5; r++) {
            const double t0 = cpu();
            int reps = 0;
            do {
                for (int i = 0; i < m; i++) memcpy(c + (long)i * n, b, sizeof(float) * n);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, a, k, w, k, 1, c, n);
                reps++;
            } while (cpu() - t0 < 0.2);
            const double t = (cpu() - t0) / reps;
            if (t < best) best = t;
        }
        printf("%-30s %5d × %4d × %4d: %6.1f\n", names[s], m, n, k, 2.0 * m * n * k / best / 1e9);
        free(a); free(w); free(c); free(b);
    }
    return 0;
}
