"""Benchmark the style-control fit: 100k pairs, 200 bootstrap replicates, against statsmodels.

The pairs are synthetic (no public set has 100k judged pairs with texts here): 7 style covariates as the
audit builds them (length, headers, bold, list items, code blocks as (a-b)/(a+b) of counts; overlaps as
differences), a planted position and length effect, logistic noise, 2 pairs per prompt.

Ours: :func:`artifactlens.audits.preferences.stylefit.fit` (Poisson weights by prompt, Newton on all 201
fits at once). Peer: ``statsmodels`` ``Logit`` on the same design, timed over 3 fits (median) and
multiplied by 200 (one fit per replicate, what a bootstrap over statsmodels costs; its resampling not
counted). Prints wall and CPU seconds, the ratio, and the largest difference of the point estimates.
Run on 2 cores: OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 .venv/bin/python bench/bench_style_control.py
"""
from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

import numpy as np  # noqa: E402

N, REPS = (int(sys.argv[1]) if len(sys.argv) > 1 else 100_000), 200


def clock(fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    nd = lambda a, b: np.where(a + b > 0, (a - b) / np.maximum(a + b, 1), 0.0)  # noqa: E731
    la, lb = rng.integers(20, 3000, n), rng.integers(20, 3000, n)
    cov = {"length": nd(la, lb)}
    for k, lam in (("headers", 0.3), ("bold", 1.0), ("lists", 2.0), ("code", 0.1)):
        cov[k] = nd(rng.poisson(lam, n), rng.poisson(lam, n))
    cov["overlap_prompt"] = rng.uniform(0, 1, n) - rng.uniform(0, 1, n)
    cov["overlap_reference"] = rng.uniform(0, 1, n) - rng.uniform(0, 1, n)
    z = 0.3 + 1.5 * cov["length"] + 0.4 * cov["bold"] + rng.logistic(size=n)
    return cov, np.where(z > 0, "a", "b").astype(object), np.arange(n) // 2


def main() -> None:
    import statsmodels.api as sm
    from artifactlens.audits.preferences.stylefit import fit
    from artifactlens.stats import hash_keys
    cov, choice, prompts = data(N)
    keys = hash_keys(prompts)
    f, wall, cpu = clock(lambda: fit("judge", cov, choice, keys, seed=0, replicates=REPS))
    names = f.names[1:]
    X = np.column_stack([np.ones(N)] + [cov[k] / np.std(cov[k]) for k in names])
    y = (choice == "a").astype(float)
    times = []
    for _ in range(3):
        ref, w1, c1 = clock(lambda: sm.Logit(y, X).fit(disp=0))
        times.append((w1, c1))
    w1, c1 = sorted(times)[1]
    diff = max(abs(f.coef[k] - p) for k, p in zip(f.names, ref.params))
    print(f"style control: {N:,} pairs, {len(f.names)} coefficients, {REPS} bootstrap replicates by prompt")
    print(f"  ours (one Newton run over {REPS + 1} weight vectors): {wall:.1f} s wall, {cpu:.1f} s CPU")
    print(f"  statsmodels Logit: {w1:.2f} s wall, {c1:.2f} s CPU per fit -> x{REPS} = {w1 * REPS:.1f} s wall, "
          f"{c1 * REPS:.1f} s CPU")
    print(f"  ratio (statsmodels x{REPS} / ours): {w1 * REPS / wall:.1f}x wall, {c1 * REPS / cpu:.1f}x CPU")
    print(f"  largest |coefficient difference| against statsmodels: {diff:.2e}; "
          f"length {f.coef['length']:.3f} [{f.lo['length']:.3f}, {f.hi['length']:.3f}]; warnings: {f.warnings or 'none'}")


if __name__ == "__main__":
    main()
