"""Peak memory on a large JSONL: does it stay bounded as the file grows?

Generates labels-audit JSONL files of increasing size (default 50 and 200 MB; ``--sizes``), then measures,
each in a fresh process (peak RSS from ``resource.getrusage``):

- ``read``: streaming every batch with ``artifactlens.io.open_source(...).batches()``;
- ``audit``: ``artifactlens audit labels FILE --no-second-order --flags OUT.parquet`` (the full first-order
  check, flags streamed to disk);
- ``pandas``: the peer, ``pandas.read_json(lines=True)`` (loads the whole file).

Prints rows/s and peak RSS per size and the ratio to pandas. Bounded means: the reader's RSS does not grow
with the file; the audit's grows only with what it must keep per item (compact label counts for
Krippendorff's alpha), far below the file size.

    .venv/bin/python bench/bench_memory.py --sizes 50 200
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
LONG = "this comment keeps going so the rows are of a realistic size for a moderation data set " * 3


def generate(path: Path, mb: int) -> int:
    labels = ["offensive", "not offensive", "maybe"]
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        while f.tell() < mb * 1_000_000:
            for _ in range(1000):
                h = [labels[(n * k) % 3] for k in (1, 2, 5, 7, 11)]
                l = [labels[(n * k) % 2] for k in (1, 3, 5, 7, 9)]
                f.write(json.dumps({"id": f"item{n}", "text": f"{n} {LONG}", "human": h, "llm": l}) + "\n")
                n += 1
    return n


READ = """
import resource, sys, time
from artifactlens.io import open_source
t = time.perf_counter(); src = open_source(sys.argv[1]); n = sum(b.num_rows for b in src.batches())
print(n, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
AUDIT = """
import resource, sys, time
from artifactlens.cli import main
t = time.perf_counter()
code = main(["audit", "labels", sys.argv[1], "--human", "human", "--llm", "llm", "--id", "id", "--no-second-order",
             "--flags", sys.argv[2], "--quiet"])
assert code == 0
print(0, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
PANDAS = """
import resource, sys, time
import pandas as pd
t = time.perf_counter(); df = pd.read_json(sys.argv[1], lines=True)
print(len(df), time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def measure(code: str, *args) -> tuple[float, float]:
    out = subprocess.run([PY, "-c", code, *map(str, args)], capture_output=True, text=True, check=True,
                         env={**os.environ, "ARTIFACTLENS_WORKERS": "1"})
    _, secs, rss_kb = out.stdout.strip().splitlines()[-1].split()
    return float(secs), int(rss_kb) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[50, 200], help="file sizes in MB")
    a = ap.parse_args()
    base = measure("import resource, artifactlens.cli, pyarrow, time; print(0, 0, "
                   "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")[1]
    print(f"baseline RSS after imports: {base:.0f} MiB")
    print(f"{'MB':>5} {'rows':>9} | {'read rows/s':>11} {'read MiB':>8} | {'audit rows/s':>12} {'audit MiB':>9} | "
          f"{'pandas rows/s':>13} {'pandas MiB':>10} | audit/pandas RSS")
    with tempfile.TemporaryDirectory() as d:
        for mb in a.sizes:
            p = Path(d) / f"labels_{mb}.jsonl"
            n = generate(p, mb)
            rs, rm = measure(READ, p)
            as_, am = measure(AUDIT, p, Path(d) / "flags.parquet")
            ps, pm = measure(PANDAS, p)
            print(f"{mb:>5} {n:>9,} | {n / rs:>11,.0f} {rm:>8.0f} | {n / as_:>12,.0f} {am:>9.0f} | "
                  f"{n / ps:>13,.0f} {pm:>10.0f} | {am / pm:.2f}", flush=True)
            p.unlink()


if __name__ == "__main__":
    main()
