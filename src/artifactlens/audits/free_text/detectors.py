"""The text audit's phrase detector: a per-row "LLM-typical phrase" score (issue 22, item 3).

:class:`LlmTypicalPhrase` scores a text by the phrases the LLM side over-uses against the human side
(Monroe et al.'s log-odds, :mod:`artifactlens.text.phrases`): the sum of the log-odds (delta) of every
such phrase (z >= :data:`MIN_Z`) the text holds, per 100 words, and gives the three heaviest as the reason.

Learned phrases would flag the very texts they were learned from, so the score is **cross-fitted**:
the rows are cut in two halves by a hash of their prompt (or row) id, phrases are learned on one half
and score the other (:func:`cross_fitted`). The threshold is set on the held-out human texts: their
99th percentile, so about 1% of human texts are flagged by construction and the share of LLM texts
flagged is the recall at 1% FPR; both rates are reported with intervals.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from ...engine import Detector, RowScores
from ...stats import hash_keys
from ...text.phrases import PhraseStats, log_odds_dirichlet

MIN_Z = 3.3
MAX_PHRASES = 200
HUMAN_FPR = 0.01


class LlmTypicalPhrase(Detector):
    name = "llm_phrase"
    family = "llm_style"
    description = ("sum of the log-odds of the LLM-over-used phrases (z >= 3.3, learned on the other half of the "
                   "rows) in a text, per 100 words; threshold: the 99th percentile of held-out human texts")
    threshold = float("inf")  # set from held-out human texts by cross_fitted()

    def __init__(self, stats: PhraseStats, min_z: float = MIN_Z, max_phrases: int = MAX_PHRASES):
        self.stats = stats
        order = np.argsort(-stats.z, kind="stable")[:max_phrases] if len(stats.z) else np.zeros(0, int)
        self.idx = np.array([i for i in order if stats.z[i] >= min_z], dtype=np.int64)

    def _matrix(self, texts: list[str]):
        X = self.stats.vectorizer.transform(texts)[:, self.idx].tocsr()
        w = self.stats.delta[self.idx]
        words = np.array([max(1, len(t.split())) for t in texts])
        return X, w, np.asarray(100.0 * (X @ w) / words, dtype=np.float64)

    def values(self, texts) -> np.ndarray:
        """The scores alone (no reasons): what the audit's streaming pass keeps per row."""
        texts = [t or "" for t in texts]
        if not len(self.idx):
            return np.zeros(len(texts))
        return self._matrix(texts)[2]

    def score(self, batch: pa.RecordBatch) -> RowScores:
        texts = [t or "" for t in batch.column("text").to_pylist()]
        n = len(texts)
        if not len(self.idx):
            return RowScores(np.zeros(n), [None] * n)
        X, w, s = self._matrix(texts)
        reasons = []
        for i in range(n):
            row = X.getrow(i)
            if not row.nnz:
                reasons.append(None)
                continue
            top = row.indices[np.argsort(-(row.data * w[row.indices]))[:3]]
            reasons.append("LLM-typical: " + ", ".join(f"'{self.stats.phrases[self.idx[j]]}'" for j in top))
        return RowScores(np.asarray(s, dtype=np.float64), reasons)


def folds(groups: np.ndarray, seed: int = 0) -> np.ndarray:
    """The half (0 or 1) of every row: a hash of its prompt (or row) id and the seed."""
    return ((hash_keys(groups) ^ np.uint64(seed)) % np.uint64(2)).astype(np.uint8)


def fit_halves(texts: np.ndarray, is_llm: np.ndarray, fold: np.ndarray, seed: int = 0,
               sample: int = 20_000) -> list[LlmTypicalPhrase]:
    """The two detectors: phrases learned on the rows of the other half (at most ``sample`` texts a side,
    seeded). ``texts`` may be the audit's kept sample: the detectors then score every row of the corpus."""
    rng = np.random.default_rng([seed, 5])
    dets = []
    for k in (0, 1):
        train = np.flatnonzero(fold != k)
        a, b = train[is_llm[train]], train[~is_llm[train]]
        a = a if len(a) <= sample else rng.choice(a, sample, replace=False)
        b = b if len(b) <= sample else rng.choice(b, sample, replace=False)
        dets.append(LlmTypicalPhrase(log_odds_dirichlet(texts[a], texts[b])))
    return dets


def score_halves(dets: list[LlmTypicalPhrase], texts, fold: np.ndarray, reasons: bool = True):
    """Held-out scores of ``texts`` (each by the detector of its own half, the one NOT learned on it) and
    their reasons (None without ``reasons``). A pure map: any batch of rows, any order."""
    texts = list(texts)
    score = np.zeros(len(texts))
    reason: list = [None] * len(texts)
    for k, det in enumerate(dets):
        test = np.flatnonzero(fold == k)
        if len(test) and det.stats.vectorizer is not None:
            sel = [texts[j] for j in test]
            if not reasons:
                score[test] = det.values(sel)
                continue
            rs = det.score(pa.RecordBatch.from_pydict({"text": pa.array(sel, type=pa.string())}))
            score[test] = rs.score
            for i, j in enumerate(test):
                reason[j] = rs.reason[i]
    return score, reason


def threshold(dets: list[LlmTypicalPhrase], score: np.ndarray, is_llm: np.ndarray):
    """The 99th percentile of the held-out human scores, set on both detectors: (threshold, flag)."""
    human = score[~is_llm]
    thr = float(np.quantile(human, 1 - HUMAN_FPR)) if len(human) else float("inf")
    thr = max(thr, 1e-9)  # a text with no LLM phrase is never flagged
    for d in dets:
        d.threshold = thr
    return thr, dets[0].decide(score)


def cross_fitted(texts: np.ndarray, is_llm: np.ndarray, groups: np.ndarray, seed: int = 0,
                 sample: int = 20_000):
    """Held-out LLM-typical phrase scores for every row: (score, flag, reason, threshold, detectors).
    (The audit runs the same steps with the scoring as a map over record batches.)"""
    fold = folds(groups, seed)
    dets = fit_halves(np.asarray(texts, dtype=object), is_llm, fold, seed, sample)
    score, reason = score_halves(dets, texts, fold)
    thr, flag = threshold(dets, score, is_llm)
    return score, flag, [r if f else None for r, f in zip(reason, flag)], thr, dets
