"""Engines on the heavy workload: the instructions audit's check (every heuristic detector, no
embeddings, no duplicate pass, which needs input order) over generated instruction data; local in-process
(the peer), local process pool with 2 workers, Ray Data with 1 and 2 workers. Prints rows/s, peak RSS
of this process (the driver) and the ratio to the in-process run, and checks every run gives the same
metrics and flags (NaN scores compared as equal). Target (2 cores): Ray 2 workers >= 1.6x Ray 1 worker.

    .venv/bin/python bench/bench_engine.py --rows 20000
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from bench_scaling import OUT, data_file  # noqa: E402


def heavy_checks(seed: int = 0):
    from artifactlens.audits.instructions.audit import build_detectors
    from artifactlens.audits.instructions.check import InstructionCheck
    return [InstructionCheck(build_detectors(embeddings=False), dedupe=None, seed=seed)]


def batches(path, batch_size):
    from artifactlens.audits.instructions.layouts import detect_layout, normalise
    from artifactlens.io import open_source
    src = open_source(path, batch_size=batch_size)
    offset, spec = 0, None
    for b in src.batches():
        spec = spec or detect_layout(b.schema.names, None, None, None)
        yield normalise(b, spec, offset)
        offset += b.num_rows


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--batch-size", type=int, default=2048)
    ap.add_argument("--skip", nargs="*", default=[], help="runs to skip: pool ray1 ray2")
    a = ap.parse_args(argv)
    from artifactlens.engine import LocalEngine, get_engine
    path = data_file(a.rows)
    print(f"# machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}; {a.rows} rows, "
          f"batches of {a.batch_size}")
    runs = [("local in-process (peer)", lambda: LocalEngine(workers=1)),
            ("local pool, 2 workers", lambda: LocalEngine(workers=2)),
            ("ray, 1 worker", lambda: get_engine("ray", workers=1)),
            ("ray, 2 workers", lambda: get_engine("ray", workers=2))]
    keys = ["local", "pool", "ray1", "ray2"]
    if any(k.startswith("ray") and k not in a.skip for k in keys):
        import ray
        ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
        # warm: start Ray's workers once so the first timed run does not pay for it
        get_engine("ray", workers=2).run(batches(data_file(10_000), a.batch_size), heavy_checks())
    print(f"{'engine':<26}{'seconds':>9}{'rows/s':>10}{'driver RSS MiB':>16}{'vs first row':>15}")
    base, ref, times = None, None, {}
    for key, (label, make) in zip(keys, runs):
        if key in a.skip:
            continue
        flags = OUT / f"engine_flags_{key}.parquet"
        t0 = time.perf_counter()
        out = make().run(batches(path, a.batch_size), heavy_checks(), flags_path=flags)
        dt = time.perf_counter() - t0
        times[key] = dt
        base = base or dt
        table = pq.read_table(flags)
        acc = out["instructions"]["acc"]
        same = ""
        if ref is None:
            ref = (acc.point(), table)
        else:
            same = "" if (acc.point() == ref[0] and table.to_pandas().equals(ref[1].to_pandas())) else "  RESULTS DIFFER"
        print(f"{label:<26}{dt:>9.2f}{a.rows / dt:>10,.0f}{rss_mib():>16.0f}{base / dt:>14.2f}x{same}", flush=True)
    if "ray1" in times and "ray2" in times:
        print(f"ray 2 workers vs 1 worker: x{times['ray1'] / times['ray2']:.2f} (target >= 1.6)")
    if "local" in times and "pool" in times:
        print(f"local pool 2 workers vs in-process: x{times['local'] / times['pool']:.2f}")


if __name__ == "__main__":
    main()
