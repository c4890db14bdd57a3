"""Corpus-level diversity: mean pairwise embedding distance and distinct-n.

- :func:`embedding_diversity`: mean cosine distance over all pairs of texts, 1 - mean_{i != j} cos(v_i, v_j),
  computed in O(n d) from the sum of unit vectors (sum_{i != j} cos = |sum v|^2 - n). Its 95% interval uses
  the streaming Poisson bootstrap (:mod:`artifactlens.stats`): with weights w the weighted pair sum is
  |sum w v|^2 - sum w^2 over (sum w)^2 - sum w^2, so every replicate is exact, not a subsample.
  Embeddings: the packaged MiniLM (:func:`artifactlens.text.embeddings.embed`).
- :func:`distinct_n`: distinct n-grams / all n-grams (Li et al. 2016), on equal-size random half-subsets of each
  corpus (the ratio falls with corpus size, so unequal corpora are not comparable); the interval is the
  2.5-97.5% range over repeated subsets (subsampling variability, not a bootstrap).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..stats import hash_keys, poisson_weights


def embedding_diversity(E: np.ndarray, ids=None, seed: int = 0, replicates: int = 200, chunk: int = 20_000):
    """``E`` (n, d) unit vectors; ``ids`` row or group ids for the bootstrap. Returns (value, lo, hi)."""
    n = len(E)
    if n < 2:
        return float("nan"), None, None
    keys = hash_keys(np.arange(n) if ids is None else ids)
    S = E.sum(axis=0, dtype=np.float64)
    point = 1 - (S @ S - n) / (n * (n - 1))
    SB = np.zeros((replicates, E.shape[1]))
    sw = np.zeros(replicates)
    sw2 = np.zeros(replicates)
    for s in range(0, n, chunk):
        W = poisson_weights(keys[s:s + chunk], seed, replicates).astype(np.float64)  # (m, B)
        SB += W.T @ E[s:s + chunk].astype(np.float64)
        sw += W.sum(axis=0)
        sw2 += (W ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        reps = 1 - ((SB ** 2).sum(axis=1) - sw2) / (sw ** 2 - sw2)
    reps = reps[np.isfinite(reps)]
    lo, hi = np.quantile(reps, [0.025, 0.975])
    return float(point), float(lo), float(hi)


def _ngrams(text: str, n: int):
    toks = (text or "").lower().split()
    return zip(*(toks[i:] for i in range(n)))


def distinct_n(texts: Sequence[str], n: int = 2) -> float:
    """Distinct n-grams over all n-grams in ``texts`` (whitespace tokens, lowercased)."""
    seen, total = set(), 0
    for t in texts:
        grams = list(_ngrams(t, n))
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else float("nan")


def distinct_n_compare(a: Sequence[str], b: Sequence[str], n: int = 2, repeats: int = 20, seed: int = 0,
                       max_size: int = 2000) -> dict:
    """Distinct-n of ``a`` and ``b`` on equal-size random subsets (size min(len a, len b, max_size) // 2).
    Returns ``{"size", "a": (mean, lo, hi), "b": (...), "diff": (...)}`` with diff = a - b."""
    m = max(2, min(len(a), len(b), max_size) // 2)
    rng = np.random.default_rng(seed)
    ra, rb = [], []
    for _ in range(repeats):
        ra.append(distinct_n([a[i] for i in rng.choice(len(a), m, replace=False)], n))
        rb.append(distinct_n([b[i] for i in rng.choice(len(b), m, replace=False)], n))
    ra, rb = np.array(ra), np.array(rb)

    def summ(x):
        return float(x.mean()), float(np.quantile(x, 0.025)), float(np.quantile(x, 0.975))
    return {"size": m, "a": summ(ra), "b": summ(rb), "diff": summ(ra - rb)}
