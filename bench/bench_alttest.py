"""Benchmark of the Alternative Annotator Test (Calderon et al., ACL 2025) on generated data: by default
10,000 items x 10 humans (every human labels every item) x 5 LLMs, categorical labels (accuracy) and
1-5 stars (neg_rmse).

Prints, measured in the same run: the vectorised test (artifactlens.audits.labels.alttest: bincounts over
the flat annotation arrays, no loop over items) for the 5 LLMs, the reading of the two JSON files, the whole
labels audit on them (first order, Dawid-Skene/MACE, JSD, ...), and beside them the reference algorithm as
a plain per-item Python loop (leave one human out, scipy's one-sided t-test per human, Benjamini-Yekutieli;
the procedure of the authors' notebook, github.com/nitaytech/AltTest), with the ratio, and whether the two
give the same winning rate and advantage probability for every LLM. The issue's budget: under 30 s for the
test on 2 cores.

    .venv/bin/python bench/bench_alttest.py [--items 10000] [--humans 10] [--llms 5] [--no-audit]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def generate(n_items: int, n_humans: int, n_llms: int, numeric: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    k = 5
    truth = rng.integers(k, size=n_items)
    ids = [f"item{i:06d}" for i in range(n_items)]

    def noisy(acc):
        wrong = rng.integers(k, size=n_items)
        lab = np.where(rng.random(n_items) < acc, truth, wrong)
        return {i: (int(v) + 1 if numeric else f"c{v}") for i, v in zip(ids, lab)}

    humans = {f"h{j}": noisy(0.6 + 0.3 * j / max(1, n_humans - 1)) for j in range(n_humans)}
    llms = {f"llm{m}": noisy(0.55 + 0.4 * m / max(1, n_llms - 1)) for m in range(n_llms)}
    return humans, llms


# -- the reference algorithm, item by item ----------------------------------------------------------------
def _score(metric, x, others):
    if metric == "accuracy":
        return sum(1 for h in others if h == x) / len(others)
    return -math.sqrt(sum((x - h) ** 2 for h in others) / len(others))


def _by(pvals, q):
    m = len(pvals)
    order = sorted(range(m), key=lambda i: pvals[i])
    c = sum(1 / r for r in range(1, m + 1))
    last = 0
    for rank, i in enumerate(order, start=1):
        if pvals[i] <= rank / (m * c) * q:
            last = rank
    return last


def reference(humans, llm, metric, eps, q=0.05, min_h=2, min_n=30):
    from scipy.stats import ttest_1samp
    by_item = {}
    for h, anns in humans.items():
        for i in anns:
            by_item.setdefault(i, []).append(h)
    kept = {i for i, hs in by_item.items() if len(hs) >= min_h and i in llm}
    pvals, rhos = [], []
    for j, anns in humans.items():
        items = [i for i in anns if i in kept]
        if len(items) < min_n:
            continue
        w_f, w_h = [], []
        for i in items:
            others = [humans[h][i] for h in by_item[i] if h != j]
            s_h, s_f = _score(metric, anns[i], others), _score(metric, llm[i], others)
            w_f.append(1 if s_f >= s_h else 0)
            w_h.append(1 if s_h >= s_f else 0)
        pvals.append(float(ttest_1samp([a - b for a, b in zip(w_h, w_f)], eps, alternative="less").pvalue))
        rhos.append(sum(w_f) / len(w_f))
    return _by(pvals, q) / len(pvals), sum(rhos) / len(rhos)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--humans", type=int, default=10)
    ap.add_argument("--llms", type=int, default=5)
    ap.add_argument("--epsilon", type=float, default=0.15)
    ap.add_argument("--no-audit", action="store_true", help="skip the whole-audit timing")
    a = ap.parse_args()
    from artifactlens.audits.labels import audit_labels
    from artifactlens.audits.labels.alttest import alt_test
    from artifactlens.audits.labels.annotators import read_alt_test
    print(f"{a.items:,} items x {a.humans} humans x {a.llms} LLMs; cores: {os.cpu_count()}; load average "
          f"{os.getloadavg()[0]:.1f} (wall times inflate on a shared machine; CPU seconds do not)")
    for numeric, metric in ((False, "accuracy"), (True, "neg_rmse")):
        humans, llms = generate(a.items, a.humans, a.llms, numeric)
        with tempfile.TemporaryDirectory() as d:
            h, l = Path(d) / "h.json", Path(d) / "l.json"
            h.write_text(json.dumps(humans)), l.write_text(json.dumps(llms))
            t0, c0 = time.perf_counter(), time.process_time()
            ann = read_alt_test(h, l, label_type="numeric" if numeric else "categorical")
            t_read, c_read = time.perf_counter() - t0, time.process_time() - c0
            alt_test(ann, 0, epsilon=a.epsilon, metric=metric)  # warm imports (scipy.stats)
            t0, c0 = time.perf_counter(), time.process_time()
            ours = [alt_test(ann, m, epsilon=a.epsilon, metric=metric) for m in range(len(ann.llms))]
            t_alt, c_alt = time.perf_counter() - t0, time.process_time() - c0
            t_audit = None
            if not a.no_audit:
                t0, c0 = time.perf_counter(), time.process_time()
                audit_labels(None, human_annotations=h, llm_annotations=l, second_order=False, alt_epsilon=a.epsilon,
                             alt_metric=metric, label_type="numeric" if numeric else "categorical")
                t_audit, c_audit = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        ref = [reference(humans, llms[name], metric, a.epsilon) for name in ann.llms]
        t_ref, c_ref = time.perf_counter() - t0, time.process_time() - c0
        same = all(round(r.winning_rate, 3) == round(w, 3) and round(r.advantage_probability, 3) == round(p, 3)
                   for r, (w, p) in zip(ours, ref))
        print(f"\n{metric} ({'1-5 stars' if numeric else '5 classes'}):")
        print(f"  vectorised Alt-Test, {a.llms} LLMs: {t_alt:.2f} s wall, {c_alt:.2f} s CPU "
              f"(+ reading the two JSON files {t_read:.2f} s wall, {c_read:.2f} s CPU) -> "
              f"{t_alt + t_read:.2f} s in all (budget 30 s)")
        print(f"  reference per-item Python loop:  {t_ref:.2f} s wall, {c_ref:.2f} s CPU; "
              f"ratio reference / vectorised = {t_ref / t_alt:.0f}x wall, {c_ref / max(c_alt, 1e-9):.0f}x CPU "
              f"(with reading: {t_ref / (t_alt + t_read):.1f}x wall)")
        if t_audit is not None:
            print(f"  whole labels audit on the two files (first order, Dawid-Skene, MACE, JSD, Alt-Test): "
                  f"{t_audit:.2f} s wall, {c_audit:.2f} s CPU")
        print(f"  same winning rate and advantage probability for every LLM (3 decimals): {same}; "
              "winning rates " + ", ".join(f"{r.llm} {r.winning_rate:.2f}/{r.advantage_probability:.2f}"
                                           for r in ours))


if __name__ == "__main__":
    main()
