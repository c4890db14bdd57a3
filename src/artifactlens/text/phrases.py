"""Phrases over-used by one corpus against another: log-odds ratio with an informative Dirichlet prior.

Monroe, Colaresi & Quinn (2008), "Fightin' Words": for each n-gram w with counts y_a (corpus a, e.g. LLM)
and y_b (corpus b, human) out of n_a and n_b n-grams, and a prior alpha_w (here a share of the pooled
count, so frequent words are shrunk less than rare ones),

    delta_w = log((y_a + alpha_w) / (n_a + alpha_0 - y_a - alpha_w))
            - log((y_b + alpha_w) / (n_b + alpha_0 - y_b - alpha_w)),
    var ~= 1 / (y_a + alpha_w) + 1 / (y_b + alpha_w),   z_w = delta_w / sqrt(var).

z > 1.96 marks w as over-used by corpus a, z < -1.96 by corpus b. Counting wraps scikit-learn's
``CountVectorizer`` (1- to 3-grams of lowercased words, kept when they occur in ``min_df`` texts).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

TOKEN_PATTERN = r"(?u)\b[a-zA-Z][a-zA-Z']*\b"


@dataclass
class PhraseStats:
    """Per n-gram: ``phrases`` (k,), ``z`` (k,), ``delta`` (k,), ``count_a`` / ``count_b`` (k,), totals."""

    phrases: np.ndarray
    z: np.ndarray
    delta: np.ndarray
    count_a: np.ndarray
    count_b: np.ndarray
    total_a: float
    total_b: float
    vectorizer: object = None

    def top(self, k: int = 20, side: str = "a", min_n: int = 1) -> list[int]:
        """Indices of the ``k`` most over-used phrases for ``side`` ('a' or 'b') with at least ``min_n`` words."""
        order = np.argsort(-self.z if side == "a" else self.z, kind="stable")
        keep = [i for i in order if len(self.phrases[i].split()) >= min_n]
        sign = 1 if side == "a" else -1
        return [i for i in keep[:k] if sign * self.z[i] > 0]


def log_odds_dirichlet(texts_a: Sequence[str], texts_b: Sequence[str], ngram_range=(1, 3), min_df: int = 3,
                       prior_share: float = 0.1, max_features: int = 200_000) -> PhraseStats:
    """Fightin' words between two lists of texts; the prior is ``prior_share`` x the pooled count (+0.01)."""
    from sklearn.feature_extraction.text import CountVectorizer
    texts_a = [t or "" for t in texts_a]
    texts_b = [t or "" for t in texts_b]
    vec = CountVectorizer(ngram_range=ngram_range, min_df=min(min_df, max(1, (len(texts_a) + len(texts_b)) // 4)),
                          token_pattern=TOKEN_PATTERN, lowercase=True, max_features=max_features)
    try:
        X = vec.fit_transform(list(texts_a) + list(texts_b))
    except ValueError:  # no n-gram at all (numbers, symbols, scripts without word tokens): no phrases
        e = np.zeros(0)
        return PhraseStats(np.asarray([], dtype=object), e, e, e, e, 0.0, 0.0, None)
    na = len(texts_a)
    ya = np.asarray(X[:na].sum(axis=0)).ravel().astype(float)
    yb = np.asarray(X[na:].sum(axis=0)).ravel().astype(float)
    alpha = prior_share * (ya + yb) + 0.01
    a0 = alpha.sum()
    Na, Nb = ya.sum(), yb.sum()
    delta = (np.log((ya + alpha) / (Na + a0 - ya - alpha)) - np.log((yb + alpha) / (Nb + a0 - yb - alpha)))
    var = 1.0 / (ya + alpha) + 1.0 / (yb + alpha)
    z = delta / np.sqrt(var)
    return PhraseStats(np.asarray(vec.get_feature_names_out()), z, delta, ya, yb, Na, Nb, vec)


def phrase_rate(texts: Sequence[str], stats: PhraseStats, idx: Sequence[int]) -> np.ndarray:
    """Occurrences of the phrases ``idx`` per 100 words in each text, (n,)."""
    if not len(idx):
        return np.zeros(len(texts))
    X = stats.vectorizer.transform([t or "" for t in texts])
    hits = np.asarray(X[:, list(idx)].sum(axis=1)).ravel()
    words = np.array([max(1, len((t or "").split())) for t in texts])
    return 100.0 * hits / words
