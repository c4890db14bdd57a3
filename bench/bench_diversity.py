"""Corpus diversity figures on 100k texts: artifactlens vs the ``diversity`` package, same texts, same run.

Texts: N texts (default 100,000) of 30-90 words, each a seeded recombination of sentences of the real
M4 and Fast-DetectGPT texts in ../shared/data (human and LLM). Timed, with our figures and the package's:

- compression ratio (gzip) and n-gram diversity (n = 1..4) on all N texts;
- ROUGE-L homogenization on a seeded sample of 200 texts (pairwise; the audit's bounded sample);
- Self-BLEU on all N texts (ours is linear); the package's BLEU path loads HF ``evaluate``'s metric
  from the hub at run time, which cannot run offline, so its loop is timed on the first 100 texts
  with the same BLEU (a Counter transcription of the NMT ``compute_bleu`` the metric wraps) and the
  per-text figures compared;
- the length-matched bounds of the audit (ceiling, floor, position; 10 draws of 200 texts per side)
  without embeddings (the embedding figures come from the audit's one MiniLM pass, timed in
  bench_embedding_pass.py).

The package (diversity 0.3.1) does not install beside the project (it pins transformers < 5); its
modules are loaded from a folder made once with
    pip install --no-deps --target bench/.diversity-pkg diversity==0.3.1
without running its ``__init__`` (which imports openai); ``evaluate`` is stubbed, unused by ROUGE-L.

    .venv/bin/python bench/bench_diversity.py [--n 100000] [--peer-path bench/.diversity-pkg]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "src"))

from artifactlens.audits.free_text import bounds  # noqa: E402
from artifactlens.text import diversity as D  # noqa: E402


def sentences() -> list[str]:
    out = []
    for f in sorted((SHARED / "m4").glob("*.jsonl")):
        for line in open(f, encoding="utf-8"):
            x = json.loads(line)
            out += re.split(r"(?<=[.!?])\s+", x["human_text"]) + re.split(r"(?<=[.!?])\s+", x["machine_text"])
    for f in sorted((SHARED / "fast_detect_gpt").glob("*.raw_data.json")):
        d = json.load(open(f, encoding="utf-8"))
        for t in d["original"] + d["sampled"]:
            out += re.split(r"(?<=[.!?])\s+", t)
    return [s.strip() for s in out if 3 <= len(s.split()) <= 40]


def corpus(n: int, seed: int = 0) -> list[str]:
    sents = sentences()
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        words, parts = rng.integers(30, 90), []
        while sum(len(p.split()) for p in parts) < words:
            parts.append(sents[rng.integers(len(sents))])
        out.append(" ".join(parts))
    return out


def load_peer(path: Path):
    if not (path / "diversity").is_dir():
        return None
    pkg = types.ModuleType("diversity")
    pkg.__path__ = [str(path / "diversity")]
    sys.modules["diversity"] = pkg
    sys.modules.setdefault("evaluate", types.SimpleNamespace(load=None))
    mods = {}
    for name in ("compression", "ngram_diversity", "homogenization"):
        spec = importlib.util.spec_from_file_location(f"diversity.{name}", path / "diversity" / f"{name}.py")
        m = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(m)
        mods[name] = m
    return mods


def timed(fn, *a, **k):
    t0 = time.perf_counter()
    v = fn(*a, **k)
    return v, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--peer-path", type=Path, default=ROOT / "bench" / ".diversity-pkg")
    a = ap.parse_args()
    texts = corpus(a.n)
    words = sum(len(t.split()) for t in texts)
    print(f"{len(texts)} texts, {words} words")
    peer = load_peer(a.peer_path)
    if peer is None:
        print(f"peer not found in {a.peer_path}: pip install --no-deps --target {a.peer_path} diversity==0.3.1")
    rng = np.random.default_rng(0)
    sample = [texts[i] for i in np.sort(rng.choice(len(texts), 200, replace=False))]
    total = 0.0
    rows = []
    for name, ours, theirs in (
            ("compression_ratio", lambda: D.compression_ratio(texts),
             (lambda: peer["compression"].compression_ratio(texts, "gzip")) if peer else None),
            ("ngram_diversity", lambda: D.ngram_diversity(texts),
             (lambda: peer["ngram_diversity"].ngram_diversity_score(texts, 4)) if peer else None),
            ("homogenization_rougel (200 texts)", lambda: D.homogenization_rougel(sample),
             (lambda: peer["homogenization"].homogenization_score(sample, "rougel", verbose=False)) if peer else None),
            ("self_bleu (all texts)", lambda: D.self_bleu(texts), None)):
        v, dt = timed(ours)
        total += dt
        pv, pdt = timed(theirs) if theirs else (None, None)
        rows.append((name, v, dt, pv, pdt))
        same = "" if pv is None else ("  equal" if v == pv else "  DIFFER")
        ratio = "" if pdt is None else f"  peer {pdt:8.2f} s  ({pdt / dt:6.1f}x)"
        print(f"{name:36s} ours {v!s:>10.10} {dt:8.2f} s   peer {pv!s:>10.10}{ratio}{same}")
    # the package's BLEU loop (HF evaluate's metric, transcribed) on 100 texts, against ours per text
    sys.path.insert(0, str(ROOT / "tests"))
    from test_text_bounds import _package_self_bleu
    few = texts[:100]
    (pkg, per), pdt = timed(_package_self_bleu, few, D.tokenize_13a)
    mine, dt = timed(D.self_bleu_per_text, few)
    print(f"{'self_bleu, package loop (100 texts)':36s} ours {dt:8.3f} s   package loop {pdt:8.2f} s "
          f"({pdt / dt:6.0f}x)  max |diff| per text {np.abs(mine - per).max():.1e}; package figure {pkg}")
    y = np.r_[np.zeros(len(texts) // 2, bool), np.ones(len(texts) - len(texts) // 2, bool)]
    arr = np.array(texts, dtype=object)
    (lm, res), dt = timed(lambda: (lambda lm: (lm, bounds.matched_figures(arr, lm)))(bounds.length_match(arr, y)))
    total += dt
    print(f"{'length-matched bounds (10 draws)':36s} ours {dt:8.2f} s   (L = {lm['L']} words, m = {lm['m']})")
    print(f"total (ours): {total:.1f} s for {len(texts)} texts")


if __name__ == "__main__":
    main()
