"""Peak RSS and CPU seconds of the text audit as the corpus grows: the streaming audit with its text cap
(``max_texts``, default 20,000 texts a side) beside the same audit keeping every text (``max_texts=None``,
what the audit held before it streamed: every text in memory), measured in the same run (issue 15).

    python bench/bench_text_memory.py                       # 20k and 200k texts, 80 words each
    python bench/bench_text_memory.py --sizes 20000 --before-src /path/to/old/checkout/src
    python bench/bench_text_memory.py --sizes 20000,200000 --cap 5000 --no-cap-max 20000   # 2 cores: ~15 min

The corpus is generated into /tmp (never the project): the M4 human / Llama-2 texts of ../shared/data/m4
(200 pairs), each pair's two texts word-shuffled with a seed per generated pair and cut to ``--words``
words, as one JSON Lines file (text, source, pair_id, domain). Each configuration runs in a fresh process
(``--no-embeddings``, tagger on 5,000 words) so its ``ru_maxrss`` is its own peak. ``--before-src`` also
runs another checkout's ``audit_text`` (e.g. the commit before the stream) on the same files.

Prints per size and configuration: text MB, CPU s, peak RSS MB, the headline figures (which must agree
where no side passes the cap), then the ratio cap / no cap and the RSS growth per MB of text.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
M4 = ROOT.parent / "shared" / "data" / "m4"

JOB = r"""
import json, resource, sys, time
t0 = time.process_time()
from artifactlens.audits.free_text import audit_text
kw = json.loads(sys.argv[2])
r = audit_text(sys.argv[1], embeddings=False, tagger_words=5000, **kw)
cpu = time.process_time() - t0
print(json.dumps({"cpu": cpu, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "formality_d": r["formality_d"], "separability_auc": r["separability_auc"],
                  "self_bleu_llm": r["self_bleu_llm"], "flags": r.flags["counts"]["llm_style"],
                  "sampled": (r.params.get("text_sample") or {}).get("sampled")}))
"""


def generate(n_texts: int, words: int, out: Path) -> float:
    """Write ``n_texts`` texts (half human, half LLM, paired) to ``out``; returns the text MB."""
    pairs = []
    for dom in ("arxiv", "reddit"):
        for line in open(M4 / f"{dom}_llama2.jsonl", encoding="utf-8"):
            x = json.loads(line)
            pairs.append((dom, x["human_text"].split(), x["machine_text"].split()))
    size = 0
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n_texts // 2):
            dom, h, m = pairs[i % len(pairs)]
            rng = np.random.default_rng(i)
            for side, toks in (("human", h), ("llm", m)):
                t = " ".join(toks[j] for j in rng.permutation(len(toks))[:words])
                size += len(t.encode("utf-8"))
                f.write(json.dumps({"text": t, "source": side, "pair_id": f"p{i}", "domain": dom}) + "\n")
    return size / 2 ** 20


def measure(path: Path, src: Path, kw: dict) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src), "HF_HUB_OFFLINE": "1"}
    env.pop("ARTIFACTLENS_WORKERS", None)
    p = subprocess.run([sys.executable, "-c", JOB, str(path), json.dumps(kw)], env=env, capture_output=True,
                       text=True)
    if p.returncode:
        raise SystemExit(f"run failed ({kw}): {p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="20000,200000", help="texts per corpus, comma-separated")
    ap.add_argument("--words", type=int, default=80, help="words per text")
    ap.add_argument("--cap", type=int, default=20_000, help="max_texts of the streaming run")
    ap.add_argument("--before-src", type=Path, help="another checkout's src/ to run beside (its audit_text)")
    ap.add_argument("--no-cap-max", type=int, default=None, metavar="N",
                    help="run the no-cap (and --before-src) configurations only up to N texts (they grow fast)")
    ap.add_argument("--src", type=Path, default=ROOT / "src", help="the src/ measured (default this checkout's)")
    ap.add_argument("--tmp", type=Path, default=Path("/tmp/artifactlens_bench_text_memory"))
    a = ap.parse_args()
    if not M4.exists():
        raise SystemExit(f"skip: {M4} is absent")
    a.tmp.mkdir(parents=True, exist_ok=True)
    configs = [(f"cap {a.cap}", a.src, {"max_texts": a.cap}), ("no cap", a.src, {"max_texts": None})]
    if a.before_src:
        configs.append(("before", a.before_src, {}))
    res: dict = {}
    print(f"{'texts':>8} {'text MB':>8}  {'config':<10} {'CPU s':>8} {'peak RSS MB':>12}  formality_d  separability"
          "  self_bleu_llm  sampled")
    for n in [int(x) for x in a.sizes.split(",")]:
        path = a.tmp / f"corpus_{n}_{a.words}.jsonl"
        mb = generate(n, a.words, path)
        for name, src, kw in configs:
            if a.no_cap_max is not None and n > a.no_cap_max and not name.startswith("cap"):
                continue
            m = measure(path, src, kw)
            res[n, name] = (mb, m)
            print(f"{n:>8} {mb:>8.1f}  {name:<10} {m['cpu']:>8.1f} {m['rss_mb']:>12.0f}  {m['formality_d']:>11.4f}"
                  f"  {m['separability_auc']:>12.4f}  {m['self_bleu_llm']:>13.4f}  {m['sampled']}", flush=True)
        path.unlink()
    sizes = sorted({n for n, _ in res})
    for n in sizes:
        if (n, "no cap") not in res:
            continue
        c, u = res[n, f"cap {a.cap}"][1], res[n, "no cap"][1]
        print(f"{n:>8} texts: cap / no cap  CPU {c['cpu'] / u['cpu']:.2f}x  peak RSS {c['rss_mb'] / u['rss_mb']:.2f}x")
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]
        for name in [c[0] for c in configs]:
            if (lo, name) in res and (hi, name) in res:
                (mb0, m0), (mb1, m1) = res[lo, name], res[hi, name]
                print(f"{name:<10} RSS growth {lo}->{hi} texts: {m1['rss_mb'] - m0['rss_mb']:.0f} MB for "
                      f"{mb1 - mb0:.0f} MB more text ({(m1['rss_mb'] - m0['rss_mb']) / (mb1 - mb0):.2f} MB per text MB)")


if __name__ == "__main__":
    main()
