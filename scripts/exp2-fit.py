#!/usr/bin/env python3
"""Fits the coefficients of the attention softmax's 2^f (Sources/CKernels/kernels.c, MK_E2_C1...C5).

2^f ≈ 1 + f·(c1 + f·(c2 + f·(c3 + f·(c4 + f·c5)))) on f ∈ [−0.5, 0.5], constant term fixed at 1 (so
2^0 = 1 exactly), for the smallest maximum relative error: Lawson's iteration (weighted least squares,
each point's weight multiplied by its error) on 4,000 points in 30-digit arithmetic (mpmath). Prints the
error in exact arithmetic and the coefficients as floats; scripts/exp2-accuracy.c measures the float
evaluation. About a minute. docs/performance.md, "The attention kernel's softmax".

    python3 scripts/exp2-fit.py [DEGREE]   # default 5
"""
import sys

import mpmath as mp

mp.mp.dps = 30


def fit(degree, iterations=60, points=4000):
    xs = [mp.mpf(-0.5) + mp.mpf(i) / points for i in range(points + 1)]
    xs = [x for x in xs if x != 0]
    w = [mp.mpf(1)] * len(xs)
    for _ in range(iterations):
        a = mp.matrix(len(xs), degree)
        b = mp.matrix(len(xs), 1)
        for r, x in enumerate(xs):
            t = mp.power(2, x)
            s = mp.sqrt(w[r]) / t  # relative error: divide by 2^x
            for c in range(degree):
                a[r, c] = s * x ** (c + 1)
            b[r] = s * (t - 1)
        coef = mp.lu_solve(a.T * a, a.T * b)
        err = [abs((1 + sum(coef[c] * x ** (c + 1) for c in range(degree))) / mp.power(2, x) - 1) for x in xs]
        total = sum(w[r] * err[r] for r in range(len(xs)))
        w = [w[r] * err[r] / total for r in range(len(xs))]
    return coef, max(err)


if __name__ == "__main__":
    degree = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    coef, worst = fit(degree)
    print(f"degree {degree}: max relative error {mp.nstr(worst, 4)} in exact arithmetic")
    for c, v in enumerate(coef, start=1):
        print(f"c{c} = {mp.nstr(v, 20)}")
