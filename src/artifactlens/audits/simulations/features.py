"""Per-turn features the detectors score from, computed once per batch of whole conversations.

- word 3-gram shingles (hashed to uint64 with numpy) and, per turn, the best Jaccard similarity to an
  earlier turn of the same conversation (a sparse incidence matrix times its transpose, scipy), the
  share of its shingles never seen earlier (novelty), and its Jaccard to the conversation's first turn;
- the best embedding cosine to an earlier turn (the vectors the digression score already computes);
- where the first stop marker falls, whose earlier own turn a turn repeats, and tool-error signatures.

Long conversations are compared in windows of :data:`WINDOW` turns (each turn against the ``WINDOW``
turns before it), so cost is linear in length; a conversation longer than that is counted in the result
(``params['long_traces']``), never cut.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy import sparse

WINDOW = 256       # turns a turn is compared with (the ones before it)
NGRAM = 3
_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")
STOP_MARKERS = re.compile(r"(<CAMEL_TASK_DONE>|\bTERMINATE\b|^\W*Finish collaboration|<INFO>|\bFINAL ANSWER\s*:"
                          r"|^\W*Final answer\s*:)", re.M | re.I)
_MASK = np.uint64((1 << 64) - 1)


def shingles(text: str, n: int = NGRAM) -> np.ndarray:
    """Unique hashed word n-grams of ``text`` (uint64; words lower-cased)."""
    w = _WORD.findall(text.lower())
    if len(w) < n:
        return np.zeros(0, dtype=np.uint64)
    h = np.array([hash(x) for x in w], dtype=np.int64).view(np.uint64)
    g = h[: len(h) - n + 1].copy()
    for k in range(1, n):  # polynomial combination of consecutive word hashes
        g = g * np.uint64(1000003) ^ h[k: len(h) - n + 1 + k]
    return np.unique(g)


@dataclass
class ConvFeatures:
    ngram_sim: np.ndarray   # best Jaccard to an earlier turn (NaN: fewer than NGRAM words)
    ngram_of: np.ndarray    # that earlier turn (-1)
    novelty: np.ndarray     # share of the turn's shingles not in any earlier turn (NaN: no shingles)
    first_sim: np.ndarray   # Jaccard to the first turn
    self_sim: np.ndarray    # Jaccard to the speaker's own previous turn when someone else spoke in between
    self_of: np.ndarray
    after_stop: np.ndarray  # turns since the first stop marker (0 at and before it)
    stop_at: int            # index of the first stop marker turn (-1: none)


def conversation_features(texts: list[str], speakers: list[str], window: int = WINDOW) -> ConvFeatures:
    n = len(texts)
    sh = [shingles(t) for t in texts]
    sizes = np.array([len(s) for s in sh], dtype=np.float64)
    ngram_sim = np.full(n, np.nan)
    ngram_of = np.full(n, -1, dtype=np.int64)
    first_sim = np.full(n, np.nan)
    self_sim = np.zeros(n)
    self_of = np.full(n, -1, dtype=np.int64)
    novelty = np.full(n, np.nan)
    if sizes.sum():
        rows = np.repeat(np.arange(n), sizes.astype(np.int64))
        cols_u, cols = np.unique(np.concatenate(sh), return_inverse=True)
        A = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, len(cols_u)))
        for start in range(0, n, window):  # block [start, end) against [start - window, end)
            end = min(n, start + window)
            lo = max(0, start - window)
            inter = (A[start:end] @ A[lo:end].T).toarray()
            union = sizes[start:end, None] + sizes[None, lo:end] - inter
            with np.errstate(invalid="ignore", divide="ignore"):
                jac = np.where(union > 0, inter / union, 0.0)
            for r in range(end - start):
                i = start + r
                if sizes[i] == 0:
                    continue
                prev = jac[r, : i - lo]
                if prev.size:
                    j = int(prev.argmax())
                    ngram_sim[i], ngram_of[i] = prev[j], lo + j
                else:
                    ngram_sim[i] = 0.0
        # Jaccard to the first turn: one sparse product
        if sizes[0]:
            inter0 = np.asarray((A @ A[0].T).todense()).ravel()
            first_sim = np.where(sizes > 0, inter0 / (sizes + sizes[0] - inter0), np.nan)
        # novelty: shingles never seen before (first occurrence per column)
        first_row = np.full(len(cols_u), n, dtype=np.int64)
        np.minimum.at(first_row, cols, rows)
        new = np.bincount(rows[first_row[cols] == rows], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            novelty = np.where(sizes > 0, new / sizes, np.nan)
        # the speaker's own previous turn, someone else having spoken in between (ignored input)
        last_own: dict[str, int] = {}
        for i, s in enumerate(speakers):
            j = last_own.get(s)
            if j is not None and j < i - 1 and sizes[i] and sizes[j] and i - j <= window:
                inter = len(np.intersect1d(sh[i], sh[j], assume_unique=True))
                self_sim[i], self_of[i] = inter / (sizes[i] + sizes[j] - inter), j
            last_own[s] = i
    stop_at = next((i for i, t in enumerate(texts) if STOP_MARKERS.search(t)), -1)
    after = np.zeros(n)
    if stop_at >= 0:
        after[stop_at + 1:] = np.arange(1, n - stop_at)
    return ConvFeatures(ngram_sim, ngram_of, novelty, first_sim, self_sim, self_of, after, stop_at)


def embedding_repeats(vecs: np.ndarray, window: int = WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """Best cosine of each (unit) vector to one of the ``window`` before it, and its index (-1)."""
    n = len(vecs)
    best = np.full(n, np.nan)
    of = np.full(n, -1, dtype=np.int64)
    for start in range(0, n, window):
        end = min(n, start + window)
        lo = max(0, start - window)
        sim = vecs[start:end] @ vecs[lo:end].T
        for r in range(end - start):
            i = start + r
            prev = sim[r, : i - lo]
            if prev.size:
                j = int(prev.argmax())
                best[i], of[i] = float(prev[j]), lo + j
    return best, of


def error_signature(text: str) -> str:
    """A failing tool output reduced to what repeats when the same call fails again (digits dropped)."""
    lines = [x.strip() for x in (text or "").strip().splitlines() if x.strip()]
    key = next((x for x in reversed(lines) if re.search(r"(?i)error|exception|failed|exitcode", x)),
               lines[-1] if lines else "")
    return _DIGITS.sub("#", key.lower())[:200]
