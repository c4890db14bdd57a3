"""Benchmark the preference audit on 10k real sentence pairs (P2C from ../shared/data).

10,000 pairs = the 5,000 P2C pairs (human and GPT-3 labels) + 5,000 re-paired (output1[i] vs
output2[i+1], labels taken from row i): 10,000 distinct sentences, as short as P2C's.

Prints, each with wall and CPU seconds: (1) the first-order + locality audit (no MiniLM) in rows/s, against
a peer computing agreement and kappa alone with pandas + scikit-learn (no intervals, no cues);
(2) the reward-model run (MiniLM embeddings from a cold cache + 5 seeds x 2 logistic regressions) against a
peer doing the bare minimum (sentence-transformers encode + one scikit-learn fit per seed and label set);
peak RSS. Run: .venv/bin/python bench/bench_preferences.py
"""
from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
P2C = ROOT.parent / "shared" / "data" / "under-the-surface" / "preference" / "p2c"


def clock(fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def main() -> int:
    if not P2C.exists():
        print(f"needs {P2C}")
        return 1
    from artifactlens.audits.preferences import audit_preferences, reward
    from artifactlens.text import embeddings
    h = pd.read_csv(P2C / "p2c_subjective_human_preferences.csv")
    g = pd.read_csv(P2C / "p2c_generative_gpt3_preferences.csv")
    re_b = np.roll(h.output2.values, -1)
    df = pd.DataFrame({"a": np.r_[h.output1.values, h.output1.values], "b": np.r_[h.output2.values, re_b],
                       "human": np.r_[h.target.values, h.target.values], "judge": np.r_[g.target.values, g.target.values]})
    df["group"] = np.arange(len(df)) % 2500
    path = Path(tempfile.mkdtemp()) / "pairs10k.csv"
    df.to_csv(path, index=False)
    n = len(df)
    print(f"pairs: {n:,}; distinct texts: {len(set(df.a) | set(df.b)):,}; cores: 2 (shared)")

    r, w, c = clock(lambda: audit_preferences(path, a="a", b="b", human="human", judge="judge", group="group",
                                              embeddings=False, reward_model=False))
    print(f"first-order + locality audit: {w:.1f} s wall, {c:.1f} s CPU, {n / w:,.0f} rows/s "
          f"(agreement {r['judge_human_agreement']:.3f}, kappa {r['cohen_kappa']:.3f})")

    def peer_first():
        from sklearn.metrics import cohen_kappa_score
        d = pd.read_csv(path)
        return (d.human == d.judge).mean(), cohen_kappa_score(d.human, d.judge)
    _, pw, pc = clock(peer_first)
    print(f"peer (pandas + sklearn kappa, no intervals/cues): {pw:.2f} s wall; ratio artifactlens/peer = {w / pw:.0f}x")

    def ours_embed():
        embeddings._CACHE.clear()
        return reward.features(embeddings.embed(list(df.a)), embeddings.embed(list(df.b)))

    def ours_fit(X):
        ch = {"0": "a", "1": "b", "2": "tie"}
        return reward.reward_gap(X, df.judge.astype(str).map(ch).values, df.human.astype(str).map(ch).values,
                                 df.group.values)
    embeddings.load_minilm()
    X, we, ce = clock(ours_embed)
    rm, wf, cf = clock(lambda: ours_fit(X))
    w2, c2 = we + wf, ce + cf
    print(f"  MiniLM embedding: {we:.1f} s wall, {ce:.1f} s CPU ({len(set(df.a) | set(df.b)) / we:,.0f} texts/s); "
          f"5 seeds x 2 fits: {wf:.1f} s wall, {cf:.1f} s CPU")
    print(f"reward model (cold MiniLM cache, 5 seeds x 2 fits): {w2:.1f} s wall, {c2:.1f} s CPU "
          f"(judge-trained {rm['acc_judge_trained'][0]:.3f}, human-trained {rm['acc_human_trained'][0]:.3f}, "
          f"gap {rm['gap'][0]:.3f} [{rm['gap'][1]:.3f}, {rm['gap'][2]:.3f}])  "
          f"{'UNDER' if w2 < 120 else 'OVER'} the 2-minute target")

    def peer_reward():
        from sklearn.linear_model import LogisticRegression
        m = embeddings.load_minilm()
        texts = list(dict.fromkeys(list(df.a) + list(df.b)))
        e = m.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        idx = {t: i for i, t in enumerate(texts)}
        X = e[[idx[t] for t in df.a]] - e[[idx[t] for t in df.b]]
        y = (df.human.values == 0).astype(int)
        for _ in range(10):
            LogisticRegression(max_iter=500).fit(X[: n * 7 // 10], y[: n * 7 // 10])
    _, pw2, _ = clock(peer_reward)
    print(f"peer (sentence-transformers encode + 10 sklearn fits): {pw2:.1f} s wall; "
          f"ratio artifactlens/peer = {w2 / pw2:.2f}x")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
