"""Benchmark the pointwise-ratings figures of one judge: 100k rated responses, 200 bootstrap replicates.

Synthetic ratings (no public rating set here has generators and 100k rows): 20k items x 5 generators,
scores 1-10, a planted self-boost on one generator, lengths in characters.

Ours: :func:`artifactlens.audits.preferences.ratings.judge_figures` (Spearman re-ranked per replicate,
Pearson, mean residual, self- and family-bias, the length-controlled OLS: every replicate from Poisson
weights by item, in blocks). Peer: the plain bootstrap with scipy and statsmodels, one
``spearmanr`` + ``pearsonr`` + ``OLS`` per replicate on rows resampled by item, timed over 5 replicates
(median) and multiplied by 200. Prints wall and CPU seconds, the ratio, and the point estimates of both.
Run on 2 cores: OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 .venv/bin/python bench/bench_ratings.py [ROWS]
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
GENS = np.array(["gpt-4o", "gpt-4o-mini", "claude-3", "llama-3", "mistral"], dtype=object)


def clock(fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def data(n: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    item = np.repeat(np.arange(n // len(GENS)), len(GENS))
    gen = np.tile(GENS, n // len(GENS))
    q = np.clip(6 + rng.normal(0, 1.5, len(item)), 1, 10)
    h = np.clip(np.round(q + rng.normal(0, 0.7, len(item))), 1, 10)
    j = np.clip(np.round(q + rng.normal(0, 1.0, len(item)) + 0.8 * (gen == "gpt-4o")), 1, 10)
    length = rng.integers(200, 2000, len(item)).astype(float)
    return {"j": (j - 1) / 9, "h": (h - 1) / 9, "item": item.astype(str).astype(object), "gen": gen, "len": length}


def main() -> None:
    import statsmodels.api as sm
    from scipy.stats import pearsonr, spearmanr
    from artifactlens.audits.preferences.ratings import judge_figures
    d = data(N)
    f, wall, cpu = clock(lambda: judge_figures(d, "gpt-4o", {}, seed=0, replicates=REPS))
    res = d["j"] - d["h"]
    own = (d["gen"] == "gpt-4o").astype(float)
    X = np.column_stack([np.ones(len(res)), own, d["len"] / 1000])
    items = d["item"].astype(int)
    rows_of = np.argsort(items, kind="stable").reshape(-1, len(GENS))  # rows of each item
    rng = np.random.default_rng(1)

    def one_replicate():
        pick = rows_of[rng.integers(0, len(rows_of), len(rows_of))].ravel()  # items resampled with replacement
        return (spearmanr(d["j"][pick], d["h"][pick])[0], pearsonr(d["j"][pick], d["h"][pick])[0],
                sm.OLS(res[pick], X[pick]).fit().params[1])
    times = sorted(clock(one_replicate)[1:] for _ in range(5))
    pw, pc = times[2][0] * REPS, times[2][1] * REPS
    ref = sm.OLS(res, X).fit().params[1]
    print(f"rows {len(res)}, items {len(rows_of)}, replicates {REPS}")
    print(f"ours  judge_figures: wall {wall:.2f} s, cpu {cpu:.2f} s  (spearman {f['judge_human_spearman'][0]:.4f} "
          f"[{f['judge_human_spearman'][1]:.4f}, {f['judge_human_spearman'][2]:.4f}], self_bias "
          f"{f['self_bias'][0]:.4f} [{f['self_bias'][1]:.4f}, {f['self_bias'][2]:.4f}], length-controlled "
          f"{f['self_bias_length_controlled'][0]:.6f})")
    print(f"peer  scipy+statsmodels x {REPS}: wall {pw:.2f} s, cpu {pc:.2f} s  (spearman "
          f"{spearmanr(d['j'], d['h'])[0]:.4f}, OLS own {ref:.6f})")
    print(f"ratio peer/ours (wall): {pw / wall:.2f}")


if __name__ == "__main__":
    main()
