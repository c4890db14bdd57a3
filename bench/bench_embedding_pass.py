"""The instruction audit's embedding pass: MiniLM relevance of each output to its instruction, CPU vs GPU.

    .venv/bin/python bench/bench_embedding_pass.py --rows 2000                  # CPU, + the whole audit
    python3 bench/bench_embedding_pass.py --rows 200000 --device cuda --pairs P  # a GPU machine

What is timed is ``artifactlens.text.embeddings.relevance`` -- the call ``OutputIrrelevant`` makes -- on the
rows that detector scores (outputs of 8+ words, no translation task), with the embedding cache cleared and
every text made distinct (a ``(case i)`` suffix), so no row is served from the cache: the worst case.
Rows: real instruction/output pairs cycled to ``--rows`` (Self-Instruct: GPT-3 responses, human targets and
seed tasks; CoachLM references; LLMBar outputs: 2,171 pairs from ../shared/data), or ``--pairs`` JSONL
(``instruction``, ``input``, ``output``). Model load and a warm-up batch are timed apart.

With ``--device cuda`` the same rows are also scored in float32 on the CPU (first ``--check`` rows) and the
cosines compared, so the float16 GPU path is shown to give the same flags. On the CPU the whole audit
(heuristics + embeddings, ``audit_instructions``) is run too when the full package is installed.
Peak RSS is this process's; GPU memory is torch's peak allocation.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
SHARED = ROOT.parent / "shared" / "data"
THRESHOLD = 0.1  # OutputIrrelevant's threshold


def real_pairs() -> list[dict]:
    """Instruction/output pairs from ../shared/data (see the module docstring)."""
    rows = []
    si = SHARED / "self_instruct"
    for name in ("davinci_predictions", "davinci-self-instruct_predictions", "text-davinci-003_predictions"):
        for line in (si / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            rows.append({"instruction": r["instruction"], "input": r["input"], "output": r["response"]})
            if name == "davinci_predictions":
                rows.append({"instruction": r["instruction"], "input": r["input"], "output": r["target"]})
    for line in (si / "seed_tasks.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        rows += [{"instruction": r["instruction"], "input": x["input"], "output": x["output"]} for x in r["instances"]]
    for r in json.loads((SHARED / "coachlm/coachlm150_test_set.json").read_text(encoding="utf-8")):
        rows.append({"instruction": r["instruction"], "input": r["input"], "output": r["reference response"]})
    for name in ("Natural", "Adversarial_GPTInst", "Adversarial_GPTOut", "Adversarial_Manual", "Adversarial_Neighbor"):
        for r in json.loads((SHARED / f"llmbar/{name}.dataset.json").read_text(encoding="utf-8")):
            rows += [{"instruction": r["input"], "input": "", "output": r[k]} for k in ("output_1", "output_2")]
    return rows


def cycled(pairs: list[dict], n: int) -> list[dict]:
    return [{"instruction": f"{p['instruction']} (case {i})", "input": p["input"], "output": f"{p['output']} (case {i})"}
            for i, p in ((i, pairs[i % len(pairs)]) for i in range(n))]


def scored(rows: list[dict]) -> tuple[list[str], list[str]]:
    """The rows OutputIrrelevant scores and the texts it passes to ``relevance``."""
    keep = [r for r in rows if len(r["output"].split()) >= 8 and "translat" not in r["instruction"].lower()]
    return [r["instruction"] + " " + r["input"] for r in keep], [r["output"] for r in keep]


def main() -> None:
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("--rows", type=int, default=2000)
    a.add_argument("--device", default="cpu")
    a.add_argument("--pairs", help="JSONL of instruction/input/output (default: real pairs from ../shared/data)")
    a.add_argument("--batch-size", type=int, default=None, help="default: relevance()'s (32 CPU, 512 GPU)")
    a.add_argument("--check", type=int, default=1000, help="rows also scored in float32 on the CPU (GPU runs)")
    a.add_argument("--no-audit", action="store_true", help="skip the whole-audit run on the CPU")
    args = a.parse_args()
    os.environ["ARTIFACTLENS_DEVICE"] = args.device
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from artifactlens.text import embeddings as E

    pairs = ([json.loads(x) for x in Path(args.pairs).read_text(encoding="utf-8").splitlines() if x.strip()]
             if args.pairs else real_pairs())
    rows = cycled(pairs, args.rows)
    tasks, outs = scored(rows)
    print(f"device: {E.device()}; cores: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}; rows {len(rows):,}, "
          f"scored {len(tasks):,} ({len(pairs):,} distinct pairs, cycled)")
    t = time.perf_counter()
    E.load_minilm()
    E.relevance(tasks[:64], outs[:64], batch_size=args.batch_size)  # warm-up (CUDA kernels, allocator)
    E._CACHE.clear()
    load = time.perf_counter() - t
    sync = (lambda: __import__("torch").cuda.synchronize()) if E.device().startswith("cuda") else (lambda: None)
    sync()
    t, c = time.perf_counter(), time.process_time()
    cos = E.relevance(tasks, outs, batch_size=args.batch_size)
    sync()
    dt, cpu = time.perf_counter() - t, time.process_time() - c
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gpu = ""
    if E.device().startswith("cuda"):
        import torch
        gpu = f", GPU peak {torch.cuda.max_memory_allocated() / 2**20:,.0f} MiB ({torch.cuda.get_device_name()})"
    print(f"relevance stage  {len(rows):>9,} rows  {dt:7.2f} s  {len(rows) / dt:>9,.0f} rows/s  "
          f"{2 * len(tasks) / dt:>9,.0f} texts/s  CPU {cpu:.1f} s  load+warm-up {load:.1f} s  peak RSS {rss:,.0f} MiB{gpu}")
    print(f"flagged (cosine <= {THRESHOLD}): {(cos <= THRESHOLD).mean():.4f} of scored rows")
    if E.device().startswith("cuda") and args.check:
        k = min(args.check, len(tasks))
        E._CACHE.clear()
        os.environ["ARTIFACTLENS_DEVICE"] = "cpu"
        t = time.perf_counter()
        ref = E.relevance(tasks[:k], outs[:k], batch_size=args.batch_size)
        cdt = time.perf_counter() - t
        diff = np.abs(ref - cos[:k])
        print(f"CPU float32 on this machine, first {k:,} scored rows: {k / cdt:,.0f} rows/s; |GPU fp16 - CPU fp32| "
              f"cosine max {diff.max():.4f}, mean {diff.mean():.5f}; flags equal on "
              f"{((ref <= THRESHOLD) == (cos[:k] <= THRESHOLD)).mean():.4f} of rows")
    if E.device() == "cpu" and not args.no_audit:
        try:
            from artifactlens.audits.instructions import audit_instructions
        except ImportError as e:
            print(f"whole audit skipped: {e}")
            return
        import pyarrow as pa
        import pyarrow.parquet as pq
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / "rows.parquet"
            pq.write_table(pa.Table.from_pylist(rows), p)
            E._CACHE.clear()
            t, c = time.perf_counter(), time.process_time()
            res = audit_instructions(p, embeddings=True, quiet=True)
            dt, cpu = time.perf_counter() - t, time.process_time() - c
            print(f"whole audit (heuristics + embeddings, model loaded)  {len(rows):>9,} rows  {dt:7.2f} s  "
                  f"{len(rows) / dt:>9,.0f} rows/s  CPU {cpu:.1f} s (this process)  error_rate {res['error_rate']:.3f}")


if __name__ == "__main__":
    main()
