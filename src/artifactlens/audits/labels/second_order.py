"""Second order: what training on LLM labels costs, measured on held-out human labels.

The same small classifier (scikit-learn ``LogisticRegression`` on ``TfidfVectorizer`` features, or on the
packaged MiniLM sentence embeddings) is trained once on human labels and once on LLM labels, each in
two variants: *hard* (the item's plurality label; tied labels share the item's weight) and *soft* (one
row per label, weighted by its share of the item's labels: training on the label distribution). Both
are evaluated on the same held-out items against the human labels:

- ``accuracy`` and ``macro_f1`` on held-out items with a single human plurality label;
- ``js`` mean Jensen-Shannon divergence (bits, ``scipy.spatial.distance.jensenshannon`` squared) of the
  predicted class distribution from the human label distribution, over all held-out items.

The split is by item, seeded, repeated over ``seeds`` splits. The gap is human-trained minus
LLM-trained; its 95% interval is the t interval over splits with the Nadeau-Bengio correction for
overlapping training sets (variance x (1/k + n_test/n_train); Nadeau & Bengio 2003). TF-IDF is fitted
once on all texts (it sees no labels).
"""
from __future__ import annotations

import math

import numpy as np

from .items import label_key

METRICS = ("accuracy", "macro_f1", "js")
VARIANTS = ("hard", "soft")


def _features(texts: list[str], kind: str, device: str | None = None):
    if kind == "minilm":
        from ...text.embeddings import embed
        return embed(texts, device=device)
    from sklearn.feature_extraction.text import TfidfVectorizer
    vec = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2, max_features=50_000, dtype=np.float32)
    try:
        return vec.fit_transform(texts)
    except ValueError:  # too few documents for min_df=2: keep every term
        return TfidfVectorizer(sublinear_tf=True, dtype=np.float32).fit_transform(texts)


def _targets(counts: list[dict], index: dict, variant: str):
    """Per item: class indices and weights for training (hard: plurality set, soft: distribution)."""
    out = []
    for c in counts:
        n = sum(c.values())
        if variant == "soft":
            out.append([(index[label_key(l)], k / n) for l, k in c.items()])
        else:
            top = max(c.values())
            tied = [l for l, k in c.items() if k == top]
            out.append([(index[label_key(l)], 1.0 / len(tied)) for l in tied])
    return out


def _fit_predict(X, train, targets, test, n_classes: int, seed: int) -> np.ndarray:
    """Class probabilities ``(len(test), n_classes)`` from a model trained on ``targets`` of ``train``."""
    from sklearn.linear_model import LogisticRegression
    rows, ys, ws = [], [], []
    for i in train:
        for cls, w in targets[i]:
            rows.append(i), ys.append(cls), ws.append(w)
    ys = np.asarray(ys)
    proba = np.zeros((len(test), n_classes))
    seen = np.unique(ys)
    if len(seen) == 1:  # every training label is one class: the model predicts it
        proba[:, seen[0]] = 1.0
        return proba
    clf = LogisticRegression(max_iter=300, random_state=seed)
    clf.fit(X[np.asarray(rows)], ys, sample_weight=np.asarray(ws))
    proba[:, clf.classes_] = clf.predict_proba(X[np.asarray(test)])
    return proba


def _evaluate(proba: np.ndarray, human: np.ndarray) -> dict:
    from scipy.spatial.distance import jensenshannon
    from sklearn.metrics import f1_score
    top = human.max(axis=1, keepdims=True)
    single = (human == top).sum(axis=1) == 1
    y_true = human.argmax(axis=1)[single]
    y_pred = proba.argmax(axis=1)[single]
    p = human / human.sum(axis=1, keepdims=True)
    js = jensenshannon(p, proba, axis=1, base=2) ** 2
    return {"accuracy": float((y_true == y_pred).mean()) if single.any() else float("nan"),
            "macro_f1": float(f1_score(y_true, y_pred, average="macro")) if single.any() else float("nan"),
            "js": float(np.nanmean(js)), "n_eval": int(single.sum()), "n_test": len(human)}


def corrected_interval(diffs, n_train: int, n_test: int, level: float = 0.95):
    """Mean of per-split differences and its Nadeau-Bengio corrected t interval."""
    from scipy.stats import t
    d = np.asarray([x for x in diffs if np.isfinite(x)], dtype=float)
    if d.size == 0:
        return float("nan"), None, None
    if d.size < 2:
        return float(d.mean()), None, None
    var = d.var(ddof=1) * (1 / d.size + n_test / max(1, n_train))
    half = t.ppf(0.5 + level / 2, d.size - 1) * math.sqrt(var)
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half)


def run(items, keys: list[str], features: str = "tfidf", seeds: int = 5, test_size: float = 0.3,
        seed: int = 0, device: str | None = None) -> dict:
    """``items`` = [(row, text, human_counts, llm_counts)]; returns per-metric results and the raw splits.

    Result: ``{"n_items", "n_test", "n_train", "features", "seeds", "splits": [...],
    "summary": {(variant, source|"gap", metric): (mean, lo, hi)}}``.
    """
    items = [it for it in items if it[1] not in (None, "")]
    n = len(items)
    if n < 10:
        return {"n_items": n, "skipped": "fewer than 10 items with text"}
    index = {k: j for j, k in enumerate(keys)}
    X = _features([str(it[1]) for it in items], features, device)
    human = np.zeros((n, len(keys)))
    for i, it in enumerate(items):
        for l, c in it[2].items():
            human[i, index[label_key(l)]] = c
    tg = {(v, s): _targets([it[2 if s == "human" else 3] for it in items], index, v) for v in VARIANTS
          for s in ("human", "llm")}
    n_test = max(1, int(round(n * test_size)))
    splits = []
    for s in range(seeds):
        perm = np.random.default_rng([seed, s]).permutation(n)
        test, train = perm[:n_test], perm[n_test:]
        rec = {"split": s}
        for v in VARIANTS:
            for src in ("human", "llm"):
                proba = _fit_predict(X, train, tg[(v, src)], test, len(keys), seed + s)
                rec[(v, src)] = _evaluate(proba, human[test])
        splits.append(rec)
    summary = {}
    for v in VARIANTS:
        for m in METRICS:
            for src in ("human", "llm"):
                vals = [r[(v, src)][m] for r in splits]
                summary[(v, src, m)] = corrected_interval(vals, n - n_test, n_test)
            diffs = [r[(v, "human")][m] - r[(v, "llm")][m] for r in splits]
            summary[(v, "gap", m)] = corrected_interval(diffs, n - n_test, n_test)
    return {"n_items": n, "n_test": n_test, "n_train": n - n_test, "features": features, "seeds": seeds,
            "n_eval": splits[0][("hard", "human")]["n_eval"], "splits": splits, "summary": summary}
