"""Human-vs-LLM comparisons of per-text features: effect sizes, tests, pairs, separability, second order.

Wraps scipy (Mann-Whitney U, Benjamini-Hochberg ``false_discovery_control``) and scikit-learn (logistic
regression, grouped cross-validation, ROC AUC, TF-IDF). Intervals use the hash-keyed Poisson bootstrap of
:mod:`artifactlens.stats`, keyed by pair id where texts are paired (so a prompt's two answers are
resampled together) and by row otherwise.

Signs: every difference is LLM minus human; Cohen's d > 0 means the LLM texts score higher.
"""
from __future__ import annotations

import numpy as np

from ...stats import BootstrapSums, hash_keys, poisson_weights


CHUNK = 1 << 16  # rows per call of the Poisson weights (n x 200 replicates at once: ~6 KB a row of temporaries)


def add_rows(acc: BootstrapSums, keys: np.ndarray, values: dict) -> None:
    """``acc.add`` in slices of :data:`CHUNK` rows, so memory does not grow with the corpus; one call (the
    same bits as ``acc.add``) up to :data:`CHUNK` rows."""
    n = len(keys)
    if n <= CHUNK:
        acc.add(keys, values)
        return
    for a in range(0, n, CHUNK):
        acc.add(keys[a:a + CHUNK], {k: np.asarray(v)[a:a + CHUNK] for k, v in values.items()})


def weighted_aucs(y: np.ndarray, score: np.ndarray, keys: np.ndarray, seed: int, replicates: int) -> np.ndarray:
    """ROC AUC of ``score`` for ``y`` under each replicate's Poisson weights (weights by ``keys``), for the
    replicates that weigh both classes: ``sum_i pos_i (neg below s_i + neg tied with s_i / 2) / (P N)``
    (ties credited a half, as ``roc_auc_score(sample_weight=w)``). One sort, then the rows in score order
    :data:`CHUNK` at a time (cut between tie groups), so no ``n x replicates`` array is ever held. The
    weights are integers, so every sum is exact in float64."""
    order = np.argsort(score, kind="stable")
    s, pos, k = score[order], np.asarray(y)[order].astype(bool), keys[order]
    n = len(s)
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]]) if n else np.zeros(0, dtype=np.int64)
    num, p_tot, n_tot = np.zeros(replicates), np.zeros(replicates), np.zeros(replicates)
    a = 0
    while a < n:
        j = np.searchsorted(starts, a + CHUNK)  # the first tie group starting at or past a + CHUNK
        b = int(starts[j]) if j < len(starts) else n
        w = poisson_weights(k[a:b], seed, replicates, dtype=np.float64)
        groups = starts[(starts >= a) & (starts < b)] - a
        wp = np.add.reduceat(w * pos[a:b, None], groups, axis=0)
        wn = np.add.reduceat(w, groups, axis=0) - wp
        below = n_tot + np.cumsum(wn, axis=0) - wn  # negative weight strictly below each tie group
        num += (wp * (below + 0.5 * wn)).sum(axis=0)
        p_tot += wp.sum(axis=0)
        n_tot += wn.sum(axis=0)
        a = b
    both = (p_tot > 0) & (n_tot > 0)
    return num[both] / (p_tot[both] * n_tot[both])


def cohens_d(keys: np.ndarray, x: np.ndarray, is_llm: np.ndarray, seed: int = 0):
    """Cohen's d (pooled SD) of LLM vs human with a Poisson-bootstrap interval: (d, lo, hi)."""
    h = (~is_llm).astype(float)
    m = is_llm.astype(float)
    acc = BootstrapSums(seed)
    add_rows(acc, keys, {"nh": h, "sh": h * x, "qh": h * x * x, "nl": m, "sl": m * x, "ql": m * x * x})

    def stat(s):
        mh, ml = s["sh"] / s["nh"], s["sl"] / s["nl"]
        vh = (s["qh"] - s["nh"] * mh ** 2) / (s["nh"] - 1)
        vl = (s["ql"] - s["nl"] * ml ** 2) / (s["nl"] - 1)
        sp = np.sqrt(((s["nh"] - 1) * vh + (s["nl"] - 1) * vl) / (s["nh"] + s["nl"] - 2))
        return (ml - mh) / sp
    return acc.interval(stat)


def _delta(a: np.ndarray, b_sorted: np.ndarray) -> float:
    """Cliff's delta of ``a`` against sorted ``b`` by binary search, O((n + m) log m)."""
    less = np.searchsorted(b_sorted, a, side="left").sum()
    greater = (len(b_sorted) - np.searchsorted(b_sorted, a, side="right")).sum()
    return float((less - greater) / (len(a) * len(b_sorted)))


def cliffs_delta(x_llm: np.ndarray, x_h: np.ndarray, seed: int = 0, replicates: int = 200, max_n: int = 5000):
    """Cliff's delta P(LLM > human) - P(LLM < human) with a percentile bootstrap; (delta, lo, hi).
    Each side is subsampled to ``max_n`` (seeded) so the bootstrap stays cheap on big corpora."""
    rng = np.random.default_rng(seed)
    a = x_llm if len(x_llm) <= max_n else rng.choice(x_llm, max_n, replace=False)
    b = x_h if len(x_h) <= max_n else rng.choice(x_h, max_n, replace=False)
    if len(a) == 0 or len(b) == 0:
        return float("nan"), None, None
    est = _delta(a, np.sort(b))
    reps = [_delta(rng.choice(a, len(a)), np.sort(rng.choice(b, len(b)))) for _ in range(replicates)]
    lo, hi = np.quantile(reps, [0.025, 0.975])
    return est, float(lo), float(hi)


def feature_tests(F: dict, is_llm: np.ndarray, keys: np.ndarray, seed: int = 0) -> list[dict]:
    """Per feature: means, d, Cliff's delta, Mann-Whitney p and Benjamini-Hochberg q. One dict per feature."""
    from scipy.stats import false_discovery_control, mannwhitneyu
    rows = []
    for name, x in F.items():
        x = np.asarray(x, dtype=float)
        xl, xh = x[is_llm], x[~is_llm]
        d = cohens_d(keys, x, is_llm, seed)
        cd = cliffs_delta(xl, xh, seed)
        p = mannwhitneyu(xl, xh).pvalue if len(xl) and len(xh) and np.ptp(x) > 0 else 1.0
        rows.append({"feature": name, "mean_human": float(xh.mean()) if len(xh) else None,
                     "mean_llm": float(xl.mean()) if len(xl) else None, "d": d, "cliff": cd, "p": float(p)})
    ps = np.array([r["p"] for r in rows])
    qs = false_discovery_control(np.nan_to_num(ps, nan=1.0), method="bh") if len(ps) else ps
    for r, q in zip(rows, qs):
        r["q"] = float(q)
    return rows


def paired_differences(F: dict, pair: np.ndarray, is_llm: np.ndarray, seed: int = 0) -> tuple[int, list[dict]]:
    """Per feature over pairs holding both a human and an LLM text: mean (LLM - human) difference with a
    bootstrap interval by pair, and the flip rate (share of pairs whose difference has the opposite sign
    to the mean difference). Returns (pairs used, rows)."""
    import pandas as pd
    df = pd.DataFrame({"pair": pair, "llm": is_llm})
    both = df.groupby("pair")["llm"].agg(["min", "max"])
    ok = both.index[(both["min"] == False) & (both["max"] == True)]  # noqa: E712
    if len(ok) == 0:
        return 0, []
    keys = hash_keys(np.asarray(ok))
    out = []
    for name, x in F.items():
        df["x"] = x
        g = df[df["pair"].isin(ok)].groupby(["pair", "llm"])["x"].mean().unstack()
        diff = (g[True] - g[False]).reindex(ok).to_numpy()
        acc = BootstrapSums(seed)
        sign = np.sign(diff.mean()) or 1.0
        add_rows(acc, keys, {"n": np.ones(len(diff)), "d": diff, "flip": (np.sign(diff) == -sign).astype(float)})
        out.append({"feature": name, "mean_diff": acc.ratio("d", "n"), "flip_rate": acc.ratio("flip", "n")})
    return len(ok), out


def _grouped_oof(X: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int, folds: int = 5, C: float = 1.0):
    """Out-of-fold P(LLM) from a standardised logistic regression, folds grouped by pair; also the
    coefficients of a model fit on all rows (for reasons)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    k = int(min(folds, np.bincount(y).min()))
    oof = np.full(len(y), np.nan)
    model = lambda: make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))  # noqa: E731
    if k >= 2:
        for tr, te in StratifiedGroupKFold(k, shuffle=True, random_state=seed).split(X, y, groups):
            oof[te] = model().fit(X[tr], y[tr]).predict_proba(X[te])[:, 1]
    full = model().fit(X, y)
    return oof, full


def auc_interval(y: np.ndarray, score: np.ndarray, keys: np.ndarray, seed: int = 0, replicates: int = 200):
    """ROC AUC with a Poisson-bootstrap interval (weights by ``keys``; :func:`weighted_aucs`). (auc, lo, hi)."""
    from sklearn.metrics import roc_auc_score
    ok = np.isfinite(score)
    y, score, keys = y[ok], score[ok], keys[ok]
    if len(np.unique(y)) < 2:
        return float("nan"), None, None
    est = roc_auc_score(y, score)
    lo, hi = np.quantile(weighted_aucs(y, score, keys, seed, replicates), [0.025, 0.975])
    return float(est), float(lo), float(hi)


def separability(X: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int = 0):
    """Cross-validated human-vs-LLM AUC. Returns (oof scores, fitted pipeline, (auc, lo, hi))."""
    oof, full = _grouped_oof(X, y, groups, seed)
    return oof, full, auc_interval(y, oof, hash_keys(groups), seed)


def second_order(texts, labels, is_llm, pair, seed: int = 0, test_share: float = 0.3):
    """Train a TF-IDF + logistic-regression classifier for ``labels`` (e.g. domain) once on LLM texts and
    once on the same number of human texts, both from the training pairs; test both on held-out human texts
    (pairs never seen in training). Returns a dict with accuracies, the gap (human-trained minus
    LLM-trained) and its paired bootstrap interval, or None when the task is not available."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    labels = np.asarray(labels, dtype=object)
    pair = np.asarray(pair)
    texts = np.asarray(texts, dtype=object)
    rng = np.random.default_rng(seed)
    upairs = np.unique(pair)
    test_pairs = set(rng.choice(upairs, max(1, int(round(len(upairs) * test_share))), replace=False).tolist())
    in_test = np.array([p in test_pairs for p in pair])
    test = np.flatnonzero(in_test & ~is_llm)
    tr_h = np.flatnonzero(~in_test & ~is_llm)
    tr_l = np.flatnonzero(~in_test & is_llm)
    m = min(len(tr_h), len(tr_l))
    if m < 10 or len(test) < 10 or len(set(labels[test])) < 2:
        return None
    tr_h, tr_l = rng.choice(tr_h, m, replace=False), rng.choice(tr_l, m, replace=False)
    if len(set(labels[tr_h])) < 2 or len(set(labels[tr_l])) < 2:
        return None
    correct = {}
    for name, idx in (("human", tr_h), ("llm", tr_l)):
        vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        clf = LogisticRegression(max_iter=2000).fit(vec.fit_transform(texts[idx]), labels[idx])
        correct[name] = (clf.predict(vec.transform(texts[test])) == labels[test]).astype(float)
    acc = BootstrapSums(seed)
    acc.add(hash_keys(pair[test]), {"n": np.ones(len(test)), "h": correct["human"], "l": correct["llm"],
                                    "gap": correct["human"] - correct["llm"]})
    return {"train_size": m, "test_size": int(len(test)), "acc_human": acc.ratio("h", "n"),
            "acc_llm": acc.ratio("l", "n"), "gap": acc.ratio("gap", "n"), "classes": sorted(set(labels[test]))}
