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

``embeddings="static"`` scores with the static table distilled from the same MiniLM
(:mod:`artifactlens.text.static_embeddings`, ~100x cheaper per turn); its cosines are on another scale,
so it has its own threshold, :data:`STATIC_DIGRESSION_THRESHOLD`, chosen the same way on the same
labelled turns (``tests/test_static_embeddings.py``).
"""
from __future__ import annotations

import re

import numpy as np

DIGRESSION_THRESHOLD = 0.25  # cosine to the task: Youden-optimal on the labelled fixture (0.248)
STATIC_DIGRESSION_THRESHOLD = 0.59  # the same for the static table (embeddings="static"): Youden 0.587
EMBEDDINGS = ("minilm", "static")
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


def default_threshold(embeddings: str = "minilm") -> float:
    """The labelled-data threshold for the cosines of ``embeddings`` ("minilm" or "static")."""
    return STATIC_DIGRESSION_THRESHOLD if embeddings == "static" else DIGRESSION_THRESHOLD


def embedding_params(embeddings: str | None, threshold: float) -> dict:
    """What scored the turns and where the threshold came from, for ``result.params``."""
    from ...text.static_embeddings import static_folder
    kind = "minilm" if embeddings == "minilm" or not (embeddings or static_folder()) else "static"
    model = ("packaged all-MiniLM-L6-v2 (sentence-transformers)" if kind == "minilm" else
             f"model2vec folder {static_folder()} (ARTIFACTLENS_STATIC_EMBEDDINGS)" if static_folder() else
             "static table distilled from the packaged MiniLM (artifactlens.text.static_embeddings)")
    chosen = threshold == default_threshold(kind)
    return {"embeddings": kind, "embedding_model": model,
            "digression_score": f"cosine of {'MiniLM' if kind == 'minilm' else 'static'} embeddings, turn vs task",
            "digression_threshold_source": "Youden-optimal on tests/fixtures/simulations_digression_labels.jsonl"
            + (f" for the {kind} model" if chosen else ": no, given by the user")}


def task_similarity(turn_texts: list[str], task_texts: list[str], batch_size: int = 128,
                    embeddings: str | None = None) -> np.ndarray:
    """``(n,)`` cosine of each turn to its task (pairs by position); unique texts are embedded once.
    ``embeddings``: "minilm", "static", or None (``embed()``'s default)."""
    from ...text.embeddings import embed
    turns = [clean_for_embedding(t) for t in turn_texts]
    tasks = [clean_for_embedding(t, TASK_MAX_WORDS) for t in task_texts]
    uniq = list(dict.fromkeys(turns + tasks))
    pos = {t: i for i, t in enumerate(uniq)}
    vecs = embed(uniq, batch_size=batch_size, kind=embeddings)
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


def held_out_by_group(scores, off_task, groups) -> list[tuple[float, dict]]:
    """Two folds split by group (alternate sorted task ids): the threshold chosen on one fold and its
    precision / recall on the other, as ``[(threshold, precision_recall), ...]``."""
    s, y, g = np.asarray(scores, dtype=float), np.asarray(off_task, dtype=bool), np.asarray(groups)
    fold = np.isin(g, sorted(set(g))[::2])
    out = []
    for train, test in ((fold, ~fold), (~fold, fold)):
        thr = calibrate(s[train], y[train])["threshold"]
        out.append((thr, precision_recall(s[test], y[test], thr)))
    return out
