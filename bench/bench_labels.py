"""Benchmark of the labels audit on synthetic data (10k items by default).

Prints: first-order rows/s (the streaming check, agreement, tests), second-order wall time (TF-IDF +
logistic regression, 2 variants x 2 label sources x --seeds splits; the issue's budget is one minute for
10k items on 2 cores), peak RSS, and the ratio to a peer pipeline measured in the same run: crowd-kit's
MajorityVote aggregation plus the krippendorff package's alpha on the same annotations (the majority
labels and agreement part of what the audit computes).

    .venv/bin/python bench/bench_labels.py [--items 10000] [--seeds 5]

Scaling (issue 16 item 17): ``--sizes 10000,100000,1000000`` times the first order alone (the streamed
check + agreement + tests, no flags file, no second order) at each size beside crowd-kit's MajorityVote
on the same annotations in the same run (CPU seconds of ``MajorityVote().fit_predict`` on the long
frame of every human and LLM label; and the peer pipeline with reading the CSV and building that frame),
with the ratio and the CPU time per item, so linear growth shows as a flat per-item column:

    .venv/bin/python bench/bench_labels.py --sizes 10000,100000,1000000
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

LABELS = ["negative", "neutral", "positive"]


def _write(n: int, path: Path, seed: int = 0) -> None:
    """Items with label-correlated words; 3-5 human labels; 5 LLM samples from a sharpened distribution."""
    import csv
    rng = np.random.default_rng(seed)
    vocab = {0: "awful poor broken refund worst angry slow".split(), 1: "okay average fine arrived usual plain".split(),
             2: "great love excellent perfect happy fast".split()}
    filler = "the a this it was product item order delivery service box price quality".split()
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "human", "llm"])
        for i in range(n):
            lvl = int(rng.integers(3))
            words = list(rng.choice(vocab[lvl], 3)) + list(rng.choice(vocab[int(rng.integers(3))], 1)) + \
                list(rng.choice(filler, 6))
            rng.shuffle(words)
            p = np.full(3, 0.15)
            p[lvl] = 0.7
            p = rng.dirichlet(p * 10) + 1e-9
            p /= p.sum()
            h = rng.choice(3, size=int(rng.integers(3, 6)), p=p)
            q = p ** 3 / (p ** 3).sum()
            l = rng.choice(3, size=5, p=q)
            w.writerow([i, " ".join(words), json.dumps([LABELS[j] for j in h]), json.dumps([LABELS[j] for j in l])])


def peer(path: Path) -> float:
    """crowd-kit MajorityVote + krippendorff alpha on the same annotations (long frame)."""
    import krippendorff
    import pandas as pd
    from crowdkit.aggregation import MajorityVote
    t0 = time.perf_counter()
    df = pd.read_csv(path)
    rows = []
    for src in ("human", "llm"):
        for iid, cell in zip(df["id"], df[src]):
            for k, lab in enumerate(json.loads(cell)):
                rows.append((src, iid, f"{src}{k}", lab))
    long = pd.DataFrame(rows, columns=["source", "task", "worker", "label"])
    for src in ("human", "llm"):
        part = long[long.source == src]
        MajorityVote().fit_predict(part[["task", "worker", "label"]])
        vc = pd.crosstab(part.task, part.label).to_numpy()
        krippendorff.alpha(value_counts=vc, level_of_measurement="nominal")
    return time.perf_counter() - t0


def write_fast(n: int, path: Path, seed: int = 0) -> None:
    """The scaling file: 3-5 human labels and 5 LLM samples an item (3 classes), generated with numpy."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    rng = np.random.default_rng(seed)
    lvl = rng.integers(3, size=n)
    n_h = rng.integers(3, 6, size=n)
    h = np.where(rng.random((n, 5)) < 0.7, lvl[:, None], rng.integers(3, size=(n, 5)))
    l = np.where(rng.random((n, 5)) < 0.9, lvl[:, None], rng.integers(3, size=(n, 5)))
    quoted = [json.dumps(x) for x in LABELS]
    cell = {}

    def cells(codes, counts):
        out = []
        for row, k in zip(codes.tolist(), counts.tolist()):
            key = tuple(row[:k])
            c = cell.get(key)
            if c is None:
                c = cell[key] = "[" + ", ".join(quoted[j] for j in key) + "]"
            out.append(c)
        return out

    table = pa.table({"id": np.arange(n), "human": cells(h, n_h), "llm": cells(l, np.full(n, 5))})
    pacsv.write_csv(table, path)


def majority_vote_cpu(path: Path) -> tuple[float, float]:
    """(CPU s of crowd-kit MajorityVote.fit_predict on the long frame of every label, CPU s of the whole
    peer pipeline: pandas.read_csv, building the long frame, MajorityVote)."""
    import pandas as pd
    from crowdkit.aggregation import MajorityVote
    c0 = time.process_time()
    df = pd.read_csv(path)
    frames = []
    for src in ("human", "llm"):
        labels = df[src].map(json.loads).explode()
        frames.append(pd.DataFrame({"task": labels.index.to_numpy(), "label": labels.to_numpy(),
                                    "worker": src + labels.groupby(level=0).cumcount().astype(str).to_numpy()}))
    long = pd.concat(frames, ignore_index=True)
    c1 = time.process_time()
    MajorityVote().fit_predict(long[["task", "worker", "label"]])
    c2 = time.process_time()
    return c2 - c1, c2 - c0


def scaling(sizes: list[int]) -> None:
    from artifactlens.audits.labels import audit_labels
    print(f"cores: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f} (CPU seconds are the stable figure)")
    print("| items | first order wall s | first order CPU s | CPU us/item | MajorityVote CPU s | ratio to MV | "
          "MV pipeline (read + frame + MV) CPU s | ratio to MV pipeline |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as d:
        warm = Path(d) / "warm.csv"
        write_fast(2000, warm)
        audit_labels(warm, human="human", llm="llm", id="id", second_order=False)
        for n in sizes:
            path = Path(d) / f"labels_{n}.csv"
            write_fast(n, path)
            t0, c0 = time.perf_counter(), time.process_time()
            r = audit_labels(path, human="human", llm="llm", id="id", second_order=False)
            t, c = time.perf_counter() - t0, time.process_time() - c0
            mv, pipe = majority_vote_cpu(path)
            print(f"| {n:,} | {t:.1f} | {c:.1f} | {1e6 * c / n:.1f} | {mv:.1f} | {c / mv:.2f} | {pipe:.1f} | "
                  f"{c / pipe:.2f} |", flush=True)
            assert r.input.rows_used == n
            path.unlink()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--sizes", help="comma-separated item counts: the first-order scaling run beside MajorityVote")
    a = ap.parse_args()
    if a.sizes:
        scaling([int(x) for x in a.sizes.split(",")])
        return
    from artifactlens.audits.labels import audit_labels
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "labels.csv"
        _write(a.items, path)
        audit_labels(path, text="text", human="human", llm="llm", id="id", second_order=False)  # warm imports
        t0, c0 = time.perf_counter(), time.process_time()
        r1 = audit_labels(path, text="text", human="human", llm="llm", id="id", second_order=False,
                          flags=str(Path(d) / "flags.parquet"))
        t_first, c_first = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        r2 = audit_labels(path, text="text", human="human", llm="llm", id="id", seeds=a.seeds)
        t_all, c_all = time.perf_counter() - t0, time.process_time() - c0
        c0 = time.process_time()
        t_peer = peer(path)
        c_peer = time.process_time() - c0
    load = os.getloadavg()[0]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"items: {a.items:,}; cores: {os.cpu_count()}; load average during the run: {load:.1f} "
          "(wall times inflate when the machine is shared; CPU seconds do not)")
    print(f"first order (stream + flags file + agreement + tests): {t_first:.2f} s wall, {c_first:.2f} s CPU = "
          f"{a.items / t_first:,.0f} items/s wall, {a.items / c_first:,.0f} items/CPU-s")
    print(f"first + second order ({a.seeds} splits x 2 variants x 2 sources, TF-IDF + LR): {t_all:.2f} s wall, "
          f"{c_all:.2f} s CPU; second order alone ~{t_all - t_first:.2f} s wall, {c_all - c_first:.2f} s CPU "
          "(budget 60 s)")
    print(f"peer (crowd-kit MajorityVote + krippendorff alpha, human and LLM): {t_peer:.2f} s wall, "
          f"{c_peer:.2f} s CPU; ratio audit first-order / peer = {t_first / t_peer:.2f} wall, {c_first / c_peer:.2f} CPU")
    print(f"peak RSS: {rss:,.0f} MiB")
    print(f"check: minority_erasure_rate={r1['minority_erasure_rate']:.3f}, "
          f"second_order_accuracy_gap={r2['second_order_accuracy_gap']:.3f}")


if __name__ == "__main__":
    main()
