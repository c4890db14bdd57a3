"""Digression: how far each turn strays from the task statement, and the conversation's drift.

Wraps the packaged MiniLM (:func:`artifactlens.text.embeddings.embed`, sentence-transformers
all-MiniLM-L6-v2): a turn's score is the cosine similarity of its embedding to the task's. A turn is
*digressive* when the score is at or below :data:`DIGRESSION_THRESHOLD`; a conversation *digresses*
when it holds a stretch of ``min_run`` consecutive digressive turns. Its *drift* is the least-squares
slope of the similarity over the turn's relative position (0 = first turn, 1 = last): the change in
similarity to the task from the start to the end of the conversation.

The threshold was chosen from labelled data, not guessed: ``tests/fixtures/simulations_digression_labels.jsonl``
holds on-task and off-task turns written for 16 tasks; :func:`calibrate` gives the ROC AUC and the
threshold that maximises Youden's J, and ``tests/test_simulations_digression.py`` re-derives it.
"""
from __future__ import annotations

import re

import numpy as np

DIGRESSION_THRESHOLD = 0.25  # cosine to the task: Youden-optimal on the labelled fixture (0.248)
MIN_RUN = 2                  # consecutive digressive turns that make a digressive stretch
MIN_WORDS = 6                # shorter turns ("Describe a turn.", "Agreed.") carry too little to score
MAX_WORDS = 64               # words of a turn embedded (MiniLM reads at most 256 word pieces anyway)
TASK_MAX_WORDS = 128

_BOILER = re.compile(r"(?im)^\W*input\s*:\s*none\.?\s*$|^\W*(instruction|input|solution)\s*:\s*|next request\.?\s*$"
                     r"|<CAMEL_TASK_DONE>")


def clean_for_embedding(text: str, max_words: int = MAX_WORDS) -> str:
    """Drop protocol boilerplate (Instruction:/Input: None/Solution:/Next request.) and keep the first words."""
    words = _BOILER.sub(" ", text or "").split()
    return " ".join(words[:max_words])


def task_similarity(turn_texts: list[str], task_texts: list[str], batch_size: int = 128) -> np.ndarray:
    """``(n,)`` cosine of each turn to its task (pairs by position); unique texts are embedded once."""
    from ...text.embeddings import embed
    turns = [clean_for_embedding(t) for t in turn_texts]
    tasks = [clean_for_embedding(t, TASK_MAX_WORDS) for t in task_texts]
    uniq = list(dict.fromkeys(turns + tasks))
    pos = {t: i for i, t in enumerate(uniq)}
    vecs = embed(uniq, batch_size=batch_size)
    a = vecs[[pos[t] for t in turns]]
    b = vecs[[pos[t] for t in tasks]]
    sim = np.einsum("ij,ij->i", a, b)
    sim[[len(t.split()) < MIN_WORDS for t in turns]] = np.nan  # too short to score
    sim[[not t for t in tasks]] = np.nan  # no task statement to compare with
    return sim


def longest_run(flags: np.ndarray) -> int:
    best = cur = 0
    for f in flags:
        cur = cur + 1 if f else 0
        best = max(best, cur)
    return best


def drift(sim: np.ndarray) -> float:
    """Slope of similarity over relative position in [0, 1]; NaN for fewer than 3 scored turns."""
    ok = np.isfinite(sim)
    if ok.sum() < 3:
        return float("nan")
    x = np.linspace(0.0, 1.0, len(sim))[ok]
    return float(np.polyfit(x, sim[ok], 1)[0])


def calibrate(scores, off_task) -> dict:
    """Separation of on-task and off-task turns: ROC AUC (off-task = low similarity), the Youden-optimal
    threshold, and precision / recall / F1 of ``score <= threshold`` for off-task turns."""
    from sklearn.metrics import roc_auc_score, roc_curve
    s = np.asarray(scores, dtype=float)
    y = np.asarray(off_task, dtype=bool)
    auc = roc_auc_score(y, -s)
    fpr, tpr, thr = roc_curve(y, -s)
    k = int(np.argmax(tpr - fpr))
    threshold = float(-thr[k])
    return {"auc": float(auc), "threshold": threshold, **precision_recall(s, y, threshold),
            "n_on": int((~y).sum()), "n_off": int(y.sum())}


def precision_recall(scores, off_task, threshold: float) -> dict:
    s = np.asarray(scores, dtype=float)
    y = np.asarray(off_task, dtype=bool)
    pred = s <= threshold
    tp = int((pred & y).sum())
    p = tp / max(int(pred.sum()), 1)
    r = tp / max(int(y.sum()), 1)
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}
