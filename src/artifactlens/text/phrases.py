"""Phrases over-used by one corpus against another: log-odds ratio with an informative Dirichlet prior.

Monroe, Colaresi & Quinn (2008), "Fightin' Words": for each n-gram w with counts y_a (corpus a, e.g. LLM)
and y_b (corpus b, human) out of n_a and n_b n-grams, and a prior alpha_w (here a share of the pooled
count, so frequent words are shrunk less than rare ones),

    delta_w = log((y_a + alpha_w) / (n_a + alpha_0 - y_a - alpha_w))
            - log((y_b + alpha_w) / (n_b + alpha_0 - y_b - alpha_w)),
    var ~= 1 / (y_a + alpha_w) + 1 / (y_b + alpha_w),   z_w = delta_w / sqrt(var).

z > 1.96 marks w as over-used by corpus a, z < -1.96 by corpus b; delta +- 1.96 sqrt(var) is its 95%
interval. Counting wraps scikit-learn's ``CountVectorizer`` (1- to 3-grams of lowercased words, kept when
they occur in ``min_df`` texts). :func:`template_log_odds` applies the same to *templates* counted once per
text: the opener (first three words), the closer (last three words) and contrast frames ("not X but Y",
"it's not X, it's Y"), so a person sees which openings and frames the LLM side leans on; there the figure
is the log odds ratio of a text using the template (a 2 x 2 table, 0.5 added to each cell) with its
Woolf standard error, since a text uses a template once or not at all.
"""
from __future__ import annotations

import re
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
    se: np.ndarray
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
        return PhraseStats(np.asarray([], dtype=object), e, e, e, e, e, 0.0, 0.0, None)
    if hasattr(vec, "stop_words_"):
        vec.stop_words_ = None  # every pruned n-gram; transform never reads it (memory, pickles to workers)
    na = len(texts_a)
    ya = np.asarray(X[:na].sum(axis=0)).ravel().astype(float)
    yb = np.asarray(X[na:].sum(axis=0)).ravel().astype(float)
    return _stats(np.asarray(vec.get_feature_names_out()), ya, yb, ya.sum(), yb.sum(), prior_share, vec)


def _stats(names, ya, yb, Na, Nb, prior_share, vec=None) -> PhraseStats:
    """Monroe et al.'s z from counts ``ya``/``yb`` out of ``Na``/``Nb``."""
    alpha = prior_share * (ya + yb) + 0.01
    a0 = alpha.sum()
    delta = (np.log((ya + alpha) / (Na + a0 - ya - alpha)) - np.log((yb + alpha) / (Nb + a0 - yb - alpha)))
    se = np.sqrt(1.0 / (ya + alpha) + 1.0 / (yb + alpha))
    return PhraseStats(np.asarray(names), delta / se, delta, se, ya, yb, float(Na), float(Nb), vec)


_WORD = re.compile(TOKEN_PATTERN)
CONTRAST = {
    "not X but Y": re.compile(r"\bnot (?:just |only |merely |simply )?[\w' -]{1,40}?,? but (?:also |rather )?\w",
                              re.I),
    "it's not X, it's Y": re.compile(r"\b(?:it|this|that)(?:'s| is) not [^.;!?\n]{1,50}?[,;—-]+ ?(?:it|this|that)"
                                     r"(?:'s| is)\b", re.I),
    "not only X but also Y": re.compile(r"\bnot only\b[^.;!?\n]{1,80}?\bbut also\b", re.I),
}


def templates(text: str) -> set[str]:
    """The templates one text uses: ``opener: w1 w2 w3``, ``closer: w1 w2 w3`` and the contrast frames."""
    w = _WORD.findall((text or "").lower())
    out = set()
    if len(w) >= 3:
        out.add("opener: " + " ".join(w[:3]))
        out.add("closer: " + " ".join(w[-3:]))
    out.update(f"frame: {k}" for k, rx in CONTRAST.items() if rx.search(text or ""))
    return out


def template_log_odds(texts_a: Sequence[str], texts_b: Sequence[str], min_texts: int = 3) -> PhraseStats:
    """Log odds ratio (+0.5 in each cell) of a text using a template, corpus a against b; counts are texts,
    totals the number of texts. Templates used by fewer than ``min_texts`` texts in all are dropped
    (contrast frames are always kept)."""
    from collections import Counter
    ca, cb = Counter(), Counter()
    for t in texts_a:
        ca.update(templates(t))
    for t in texts_b:
        cb.update(templates(t))
    names = sorted(k for k in set(ca) | set(cb) if ca[k] + cb[k] >= min_texts or k.startswith("frame:"))
    names += [f"frame: {k}" for k in CONTRAST if f"frame: {k}" not in names]
    ya = np.array([ca[k] for k in names], dtype=float)
    yb = np.array([cb[k] for k in names], dtype=float)
    na, nb = max(1, len(texts_a)), max(1, len(texts_b))
    h = 0.5  # Haldane-Anscombe: the log odds ratio of "a text uses it", a 2 x 2 table per template
    delta = np.log((ya + h) / (na - ya + h)) - np.log((yb + h) / (nb - yb + h))
    se = np.sqrt(1 / (ya + h) + 1 / (na - ya + h) + 1 / (yb + h) + 1 / (nb - yb + h))
    return PhraseStats(np.asarray(names, dtype=object), delta / se, delta, se, ya, yb, float(na), float(nb))


def phrase_rate(texts: Sequence[str], stats: PhraseStats, idx: Sequence[int]) -> np.ndarray:
    """Occurrences of the phrases ``idx`` per 100 words in each text, (n,)."""
    if not len(idx):
        return np.zeros(len(texts))
    X = stats.vectorizer.transform([t or "" for t in texts])
    hits = np.asarray(X[:, list(idx)].sum(axis=1)).ravel()
    words = np.array([max(1, len((t or "").split())) for t in texts])
    return 100.0 * hits / words
