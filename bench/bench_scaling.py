"""Scaling: the instructions audit (heuristics, no embeddings) end to end, and a streaming workload
(read + 3 vectorised detectors with bootstrap intervals + Parquet flags of every row) over 10k, 100k and
1M rows of generated instruction data; wall and CPU time, rows/s and peak RSS, each in a fresh process.

Peers measured in the same run: reading only, with the line-by-line JSON path this project had before
(json.loads + from_pylist) and with pandas ``read_json(lines=True)`` (loads the whole file: its peak RSS
grows with the input, ours must not). Targets: cost linear (1M run <= 11x the 100k run); peak RSS flat.

    .venv/bin/python bench/bench_scaling.py                 # 10k, 100k, 1M
    .venv/bin/python bench/bench_scaling.py --sizes 10000 100000 --no-peers
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"
VERBS = ["Write", "Explain", "List", "Summarise", "Translate", "Classify", "Give", "Describe", "Rewrite", "Suggest"]
TOPICS = ["the water cycle", "a job interview", "photosynthesis", "the French revolution", "a rainy day",
          "machine learning", "healthy breakfasts", "the stock market", "a lost cat", "climate change"]
FILLER = ("the of and to in is that for it as with was on be by this are or at from which an can has more "
          "also one about their into other some time only new people could these may first").split()


def make_rows(n: int, seed: int = 0):
    """Alpaca-layout rows with planted faults (empty output, placeholder input, refusal, copy, repeats)."""
    rng = random.Random(seed)
    for i in range(n):
        verb, topic = rng.choice(VERBS), rng.choice(TOPICS)
        ins = f"{verb} {' '.join(rng.choices(FILLER, k=rng.randint(2, 12)))} {topic}."
        inp = "" if i % 3 else " ".join(rng.choices(FILLER, k=rng.randint(5, 40)))
        out = " ".join(rng.choices(FILLER + topic.split(), k=rng.randint(8, 120))).capitalize() + "."
        fault = i % 50
        if fault == 1:
            out = ""
        elif fault == 2:
            inp = "<noinput>"
        elif fault == 3:
            out = "I'm sorry, but as an AI language model I cannot do that."
        elif fault == 4:
            out = ins
        yield {"instruction": ins, "input": inp, "output": out, "source": "gen-a" if i % 2 else "gen-b"}


def light_detectors():
    """Three vectorised detectors (pyarrow.compute) for the streaming workload: the engine, reader,
    bootstrap and flags writer dominate its cost, not the detectors."""
    import numpy as np
    import pyarrow.compute as pc
    from artifactlens.engine import Detector, RowScores

    class Empty(Detector):
        name, threshold = "empty_output", 0.5

        def score(self, batch):
            s = (pc.utf8_length(pc.utf8_trim_whitespace(batch.column("output"))).to_numpy() == 0).astype(float)
            return RowScores(s, ["empty output"] * len(s))

    class Refusal(Detector):
        name, threshold = "refusal", 0.5

        def score(self, batch):
            m = pc.match_substring_regex(pc.utf8_lower(batch.column("output")), r"as an ai|i'm sorry|i cannot")
            return RowScores(np.asarray(m, dtype=float), ["refuses"] * len(m))

    class Copy(Detector):
        name, threshold = "output_copies_instruction", 0.5

        def score(self, batch):
            s = np.asarray(pc.equal(batch.column("output"), batch.column("instruction")), dtype=float)
            return RowScores(s, ["output = instruction"] * len(s))
    return [Empty(), Refusal(), Copy()]


def data_file(n: int) -> Path:
    p = OUT / f"instructions_{n}.jsonl"
    if not p.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(".tmp")
        with open(tmp, "w") as f:
            for r in make_rows(n):
                f.write(json.dumps(r) + "\n")
        tmp.rename(p)
    return p


CHILD = {  # each snippet: imports, then "# --" (the clock starts there: import time is not the workload)
    "audit": """
from artifactlens.audits.instructions import audit_instructions
from artifactlens.audits.common import CommonOptions
# --
r = audit_instructions(PATH, embeddings=False, near_duplicates=NEAR, common=CommonOptions(quiet=True, flags=FLAGS))
rows = r.input.rows_read
""",
    "stream": """
import sys
sys.path.insert(0, HERE)
from bench_scaling import light_detectors
from artifactlens.engine import DetectorCheck, LocalEngine
from artifactlens.io import open_source
# --
src = open_source(PATH)
LocalEngine(workers=1).run(src, [DetectorCheck(light_detectors())], flags_path=FLAGS)
rows = src.rows_read
""",
    "read": """
from artifactlens.io import open_source
# --
rows = sum(b.num_rows for b in open_source(PATH).batches())
""",
    "read_lines": """
from artifactlens.io import open_source
# --
src = open_source(PATH)
rows = sum(b.num_rows for b in src._batches_from_records(8192))
""",
    "pandas": """
import pandas as pd
# --
rows = len(pd.read_json(PATH, lines=True))
""",
}


def run_child(kind: str, path: Path, near: bool = True, flags: str | None = None) -> dict:
    """Run one measurement in a fresh interpreter: wall seconds, rows, peak RSS (MiB)."""
    body = CHILD[kind].replace("HERE", repr(str(Path(__file__).parent))).replace("PATH", repr(str(path))).replace("NEAR", repr(near)).replace("FLAGS", repr(flags))
    clock = "t0 = time.perf_counter(); c0 = time.process_time()"
    code = ("import resource, time, json\n" + body.replace("# --", clock)
            + "\nprint(json.dumps({'rows': rows, 'seconds': time.perf_counter() - t0, 'cpu': time.process_time() - c0,"
              " 'rss_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n")
    env = dict(os.environ, ARTIFACTLENS_WORKERS=os.environ.get("ARTIFACTLENS_WORKERS", "1"))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if res.returncode:
        raise SystemExit(f"{kind} on {path.name} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--no-peers", action="store_true", help="skip the reading-only peers")
    ap.add_argument("--audit-max", type=int, default=10**9, help="run the audit only up to this many rows")
    ap.add_argument("--lines-max", type=int, default=100_000, help="run the line-by-line peer only up to this")
    ap.add_argument("--no-near", action="store_true", help="exact duplicates only (no MinHash)")
    ap.add_argument("--flags", action="store_true", help="also write the per-row flags (parquet)")
    a = ap.parse_args(argv)
    print(f"# machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; ARTIFACTLENS_WORKERS="
          f"{os.environ.get('ARTIFACTLENS_WORKERS', '1')}")
    print(f"# load average {os.getloadavg()[0]:.1f} (wall time inflates on a shared machine; CPU seconds do not)")
    print(f"{'workload':<34}{'rows':>10}{'seconds':>10}{'CPU s':>9}{'rows/s':>12}{'rows/CPU-s':>12}{'peak RSS MiB':>14}")
    results = {}
    for n in a.sizes:
        path = data_file(n)
        peers = [] if a.no_peers else ["read"] + (["read_lines"] if n <= a.lines_max else []) + ["pandas"]
        kinds = (["audit"] if n <= a.audit_max else []) + ["stream"] + peers
        for kind in kinds:
            flags = str(OUT / f"flags_{n}.parquet") if (kind == "stream" or (a.flags and kind == "audit")) else None
            m = run_child(kind, path, near=not a.no_near, flags=flags)
            results[(kind, n)] = m
            label = {"audit": "instructions audit (heuristics)", "stream": "stream: 3 detectors + flags", "read": "read: artifactlens fast path",
                     "read_lines": "read: line-by-line (before)", "pandas": "read: pandas read_json"}[kind]
            print(f"{label:<34}{m['rows']:>10}{m['seconds']:>10.2f}{m['cpu']:>9.2f}{m['rows'] / m['seconds']:>12,.0f}"
                  f"{m['rows'] / max(m['cpu'], 1e-9):>12,.0f}{m['rss_mib']:>14.0f}", flush=True)
    sizes = sorted(a.sizes)
    for kind in ("audit", "stream", "read", "pandas"):
        for small, big in zip(sizes, sizes[1:]):
            if (kind, small) in results and (kind, big) in results:
                r = results[(kind, big)]["seconds"] / results[(kind, small)]["seconds"]
                c = results[(kind, big)]["cpu"] / results[(kind, small)]["cpu"]
                m = results[(kind, big)]["rss_mib"] / results[(kind, small)]["rss_mib"]
                print(f"ratio {kind} {big}/{small} rows: wall x{r:.2f}, CPU x{c:.2f} (linear: x{big / small:.0f}), "
                      f"peak RSS x{m:.2f}")
    for n in sizes:
        if ("read_lines", n) in results and ("read", n) in results:
            print(f"fast path vs line-by-line reading at {n} rows: "
                  f"x{results[('read_lines', n)]['seconds'] / results[('read', n)]['seconds']:.2f} faster")
        if ("pandas", n) in results and ("audit", n) in results:
            print(f"peak RSS at {n} rows: audit {results[('audit', n)]['rss_mib']:.0f} MiB vs pandas read_json "
                  f"{results[('pandas', n)]['rss_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
