"""Engines on three workloads: local in-process (the peer), local process pool with 2 workers, Ray Data
with 1 and 2 workers. Prints rows/s, peak RSS of this process (the driver) and the ratio to the
in-process run, and checks every run gives the same metrics and flags (NaN scores compared as equal).
Target (2 cores): Ray 2 workers >= 1.6x Ray 1 worker on the heavy workloads.

Workloads (``--workload``):
- ``heuristics``: the instructions audit's check (every heuristic detector, no embeddings, no duplicate
  pass, which needs input order) over generated instruction rows; ~20-60 us of CPU a row, so the driver's
  share (ordering, merging, writing every row to the flags file) is large.
- ``embeddings``: the same check with the MiniLM relevance detector, on real instruction/output pairs
  (bench_embedding_pass.real_pairs, cycled with distinct texts); ~10 ms of CPU a row.
- ``text``: the free-text audit's feature check (fast tagger and sentence segmenter learned from spaCy
  first, untimed) on the M4 + Fast-DetectGPT texts, cycled; ~1 ms a text.

    .venv/bin/python bench/bench_engine.py --rows 20000
    .venv/bin/python bench/bench_engine.py --workload embeddings --rows 1500 --batch-size 64
    .venv/bin/python bench/bench_engine.py --workload text --rows 6000 --batch-size 256
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from bench_scaling import OUT, data_file  # noqa: E402


def instruction_checks(embeddings: bool, seed: int = 0):
    from artifactlens.audits.instructions.audit import build_detectors
    from artifactlens.audits.instructions.check import InstructionCheck
    return [InstructionCheck(build_detectors(embeddings=embeddings), dedupe=None, seed=seed)]


def instruction_batches(path, batch_size):
    from artifactlens.audits.instructions.layouts import detect_layout, normalise
    from artifactlens.io import open_source
    src = open_source(path, batch_size=batch_size)
    offset, spec = 0, None
    for b in src.batches():
        spec = spec or detect_layout(b.schema.names, None, None, None)
        yield normalise(b, spec, offset)
        offset += b.num_rows


def compare(point, table, ref_point, ref_table) -> str:
    """'' when metrics and flags are identical; else what differs. Float score columns may differ in the
    last bits where a model's matrix products depend on thread count and batch composition (MiniLM):
    then every other column must still be identical and the largest score difference is shown."""
    a, b = table.to_pandas(), ref_table.to_pandas()
    if point == ref_point and a.equals(b):
        return ""
    if point != ref_point:
        return "  METRICS DIFFER"
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return "  RESULTS DIFFER (columns or rows)"
    worst = 0.0
    for c in a.columns:
        if a[c].equals(b[c]):
            continue
        if a[c].dtype.kind != "f" or not (a[c].isna() == b[c].isna()).all():
            return f"  RESULTS DIFFER ({c})"
        worst = max(worst, float(np.nanmax(np.abs(a[c].to_numpy() - b[c].to_numpy()))))
    return f"  flags and reasons identical; scores within {worst:.1e}"


def workload(name: str, rows: int):
    """(make the checks, make the batches for a batch size, a comparable summary of a run's results)."""
    import pyarrow as pa
    if name == "text":
        from bench_text_features import load_texts
        from artifactlens.audits.free_text.audit import FeatureCheck, fit_text_models
        base = load_texts()
        texts = [base[i % len(base)] for i in range(rows)]
        tagger, seg = fit_text_models(base)[:2]
        table = pa.table({"text": pa.array(texts, type=pa.string())})
        return (lambda: [FeatureCheck(tagger, segmenter=seg)], lambda bs: iter(table.to_batches(bs)),
                lambda out: {k: np.nan_to_num(np.asarray(v, float), nan=-1e300).tobytes()
                             for k, v in out["text_features"].items()})
    if name == "embeddings":
        from bench_embedding_pass import cycled, real_pairs
        path = OUT / f"engine_pairs_{rows}.parquet"
        if not path.exists():
            OUT.mkdir(exist_ok=True)
            pq.write_table(pa.Table.from_pylist(cycled(real_pairs(), rows)), path)
    else:
        path = data_file(rows)
    return (lambda: instruction_checks(name == "embeddings"), lambda bs: instruction_batches(path, bs),
            lambda out: out["instructions"]["acc"].point())


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--batch-size", type=int, default=2048)
    ap.add_argument("--skip", nargs="*", default=[], help="runs to skip: local pool ray1 ray2")
    ap.add_argument("--workload", choices=["heuristics", "embeddings", "text"], default="heuristics")
    a = ap.parse_args(argv)
    from artifactlens.engine import LocalEngine, get_engine
    make_checks, make_batches, summary = workload(a.workload, a.rows)
    print(f"# machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}; workload {a.workload}; "
          f"{a.rows} rows, batches of {a.batch_size}")
    runs = [("local in-process (peer)", lambda: LocalEngine(workers=1)),
            ("local pool, 2 workers", lambda: LocalEngine(workers=2)),
            ("ray, 1 worker", lambda: get_engine("ray", workers=1)),
            ("ray, 2 workers", lambda: get_engine("ray", workers=2))]
    keys = ["local", "pool", "ray1", "ray2"]
    if any(k.startswith("ray") and k not in a.skip for k in keys):
        import ray
        ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
        # warm: start Ray's workers once so the first timed run does not pay for it
        get_engine("ray", workers=2).run(instruction_batches(data_file(10_000), a.batch_size),
                                         instruction_checks(False))
    print(f"{'engine':<26}{'seconds':>9}{'rows/s':>10}{'driver RSS MiB':>16}{'vs first row':>15}")
    base, ref, times = None, None, {}
    for key, (label, make) in zip(keys, runs):
        if key in a.skip:
            continue
        flags = OUT / f"engine_flags_{key}.parquet"
        t0 = time.perf_counter()
        out = make().run(make_batches(a.batch_size), make_checks(), flags_path=flags)
        dt = time.perf_counter() - t0
        times[key] = dt
        base = base or dt
        table = pq.read_table(flags)
        point = summary(out)
        same = ""
        if ref is None:
            ref = (point, table)
        else:
            same = compare(point, table, *ref)
        print(f"{label:<26}{dt:>9.2f}{a.rows / dt:>10,.0f}{rss_mib():>16.0f}{base / dt:>14.2f}x{same}", flush=True)
    if "ray1" in times and "ray2" in times:
        print(f"ray 2 workers vs 1 worker: x{times['ray1'] / times['ray2']:.2f} (target >= 1.6)")
    if "local" in times and "pool" in times:
        print(f"local pool 2 workers vs in-process: x{times['local'] / times['pool']:.2f}")


if __name__ == "__main__":
    main()
