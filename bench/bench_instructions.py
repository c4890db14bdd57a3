"""Instruction audit speed and memory, and its precision/recall on real data.

    .venv/bin/python bench/bench_instructions.py            # rows/s and peak RSS, growing files; peer tool
    .venv/bin/python bench/bench_instructions.py --real     # precision/recall on Self-Instruct (../shared/data)

Files are generated from the demo rows (a "(case i)" suffix keeps rows distinct) as Parquet. The demo
file is 27 % arithmetic rows (planted to test the detector); generated files draw arithmetic rows at a
realistic ``--arith-share`` (default 3 %, about Alpaca's share of explicit arithmetic and unit
conversions) and the other rows uniformly. Each run is a fresh subprocess (peak RSS is the child's
ru_maxrss); CPU seconds include the engine's pool workers (the forkserver is stopped and reaped before
the child reads its children's usage), so rows per CPU-second stays meaningful on a loaded machine. The heuristic pass is ``embeddings=False``; the
embedding pass adds the MiniLM relevance detector. Peer: datatrove's ``RegexFilter`` (one regex, per
document in Python), run in a separate venv (``/tmp/benchvenv``: ``python -m venv /tmp/benchvenv &&
/tmp/benchvenv/bin/pip install datatrove regex``) on the same rows; its Gopher filters need spaCy's
tokenizer in that venv too, so the regex filter is the comparable heuristic step.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEER_PY = Path("/tmp/benchvenv/bin/python")
CHILD = """
import resource, sys, time
t = time.perf_counter()
from artifactlens.audits.instructions import audit_instructions
r = audit_instructions(sys.argv[1], embeddings=sys.argv[2] == "1", quiet=True)
dt = time.perf_counter() - t
from multiprocessing import forkserver
if forkserver._forkserver._forkserver_pid:  # stop and reap it: its workers' CPU then counts as ours
    forkserver._forkserver._stop()
ru = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
cpu = sum(u.ru_utime + u.ru_stime for u in ru)
rss = max(u.ru_maxrss for u in ru) / 1024
print(r.input.rows_used, dt, rss, cpu)
"""
PEER = """
import resource, sys, time, json
from datatrove.data import Document
from datatrove.pipeline.filters import RegexFilter
t0 = time.perf_counter()
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
f = RegexFilter(regex_exp=sys.argv[2])
t = time.perf_counter()
kept = sum(1 for i, x in enumerate(rows) if f.filter(Document(text=x, id=str(i))))
dt = time.perf_counter() - t
print(len(rows), dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


ARITH = (r"\d\s*(?:[-+*/^×÷x%]|plus|minus|times|divided by|multiplied by)\s*-?\(?\d|"
         r"\d\s*(?:°|degrees?)?\s*[a-z]+\.?\s+(?:to|into|in)\s+[a-z°]")


def make_file(n: int, path: Path, arith_share: float = 0.03) -> Path:
    import re
    import pyarrow as pa
    import pyarrow.parquet as pq
    demo = [json.loads(l) for l in (ROOT / "src/artifactlens/data/demo/instructions.jsonl").read_text().splitlines()]
    is_arith = lambda r: re.search(ARITH, (r["instruction"] + "\n" + r["input"]).lower())
    arith, other = [r for r in demo if is_arith(r)], [r for r in demo if not is_arith(r)]
    rng = random.Random(0)
    cols = {"instruction": [], "input": [], "output": [], "source": []}
    for i in range(n):
        pool = arith if rng.random() < arith_share else other
        r = pool[rng.randrange(len(pool))]
        cols["instruction"].append(f"{r['instruction']} (case {i})")
        cols["input"].append(r["input"])
        cols["output"].append(r["output"])
        cols["source"].append(r["source"])
    pq.write_table(pa.table(cols), path)
    return path


def run(code: str, *args, python=None) -> tuple[int, float, float]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    out = subprocess.run([str(python or sys.executable), "-c", code, *map(str, args)], capture_output=True, text=True,
                         env=env, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    n, dt, rss, *cpu = out.stdout.strip().splitlines()[-1].split()
    return int(n), float(dt), float(rss), float(cpu[0]) if cpu else float("nan")


POLARS = """
import sys, time
import polars as pl
from artifactlens.audits.instructions.detectors import REGISTRY
from artifactlens.audits.instructions.detectors.following import TRIGGER
pats = [TRIGGER] + [c.PATTERN for c in REGISTRY.values() if getattr(c, "PATTERN", "")]
t, c = time.perf_counter(), time.process_time()
df = pl.read_parquet(sys.argv[1], columns=["instruction"])
low = df.get_column("instruction").str.to_lowercase()
hits = [int(low.str.contains(p).sum()) for p in pats]
dt, cpu = time.perf_counter() - t, time.process_time() - c  # (process_time counts every Polars thread)
print(len(df), dt, len(pats), cpu)
"""


def speed(sizes, emb_rows, arith_share):
    from artifactlens.audits.instructions.detectors.output import OutputRefusal
    with tempfile.TemporaryDirectory() as d:
        print(f"cores: {os.cpu_count()}; load average: {os.getloadavg()[0]:.1f}; arithmetic rows: {arith_share:.0%}")
        for n in sizes:
            p = make_file(n, Path(d) / f"r{n}.parquet", arith_share)
            rows, dt, rss, cpu = run(CHILD, p, "0")
            line = (f"heuristic pass  {rows:>8,} rows  {dt:6.1f} s  {rows / dt:>7,.0f} rows/s wall  "
                    f"{rows / cpu:>7,.0f} rows/CPU-s  peak RSS {rss:5.0f} MiB  (end to end, incl. start-up)")
            if PEER_PY.exists():
                import pyarrow.parquet as pq
                txt = Path(d) / f"r{n}.outputs.jsonl"
                txt.write_text("".join(json.dumps(x) + "\n" for x in pq.read_table(p).column("output").to_pylist()))
                prow, pdt, prss, _ = run(PEER, txt, OutputRefusal.PATTERN, python=PEER_PY)
                line += (f"   | datatrove RegexFilter (1 regex): {prow / pdt:>9,.0f} rows/s, RSS {prss:.0f} MiB;"
                         f" ratio ours/peer {(rows / dt) / (prow / pdt):.2f} (ours runs every detector + dedupe)")
            prow, pdt, npat, pcpu = run(POLARS, p)
            line += (f"\n    polars pass of the same {int(npat)} instruction regexes (TRIGGER + every detector's PATTERN, "
                     f"one thread pool, read included): {prow / pdt:>9,.0f} rows/s wall, {prow / pcpu:>9,.0f} rows/CPU-s; "
                     f"ours/polars {(rows / dt) / (prow / pdt):.2f} wall, {(rows / cpu) / (prow / pcpu):.2f} per CPU-s")
            print(line, flush=True)
        if not emb_rows:
            return
        p = make_file(emb_rows, Path(d) / "emb.parquet", arith_share)
        rows, dt, rss, cpu = run(CHILD, p, "1")
        print(f"embedding pass  {rows:>8,} rows  {rows / dt:>9,.0f} rows/s  peak RSS {rss:7.0f} MiB (incl. model load)")


def real():
    from artifactlens.audits.instructions import audit_instructions
    data = ROOT.parent / "shared/data/self_instruct/davinci_predictions.jsonl"
    rows = []
    for line in data.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        rows.append({"instruction": r["instruction"], "input": r["input"], "output": r["response"], "source": "gpt3"})
        rows.append({"instruction": r["instruction"], "input": r["input"], "output": r["target"], "source": "human"})
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "si.jsonl"
        p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        from artifactlens.audits.instructions.detectors import REGISTRY
        paper = [n for n, c in REGISTRY.items() if c.family != "not_following"]
        for emb in (False, True):
            for label, only in (("paper's four types (old)", paper), ("with 'does not follow' (new)", None)):
                res = audit_instructions(p, embeddings=emb, detectors=only)
                tp = res["error_rate[source=gpt3]"] * 252
                fp = res["error_rate[source=human]"] * 252
                print(f"embeddings={emb}, {label}: recall {tp / 252:.3f} ({tp:.0f}/252 GPT-3 rows), false alarms on "
                      f"human targets {fp / 252:.3f} ({fp:.0f}/252), precision {tp / (tp + fp):.3f}")


if __name__ == "__main__":
    a = argparse.ArgumentParser()
    a.add_argument("--real", action="store_true")
    a.add_argument("--sizes", default="25000,100000,200000")
    a.add_argument("--emb-rows", type=int, default=2000)
    a.add_argument("--arith-share", type=float, default=0.03, help="share of arithmetic rows in generated files")
    args = a.parse_args()
    real() if args.real else speed([int(s) for s in args.sizes.split(",")], args.emb_rows, args.arith_share)
