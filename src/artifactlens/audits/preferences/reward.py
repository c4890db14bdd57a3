"""Second-order check: a Bradley-Terry reward model trained on judge labels vs one trained on human labels.

The reward is linear in features of (prompt, response): r = w . phi, phi = [e(resp), e(resp) * e(prompt)]
with ``e`` the packaged MiniLM embedding (:func:`artifactlens.text.embeddings.embed`; the prompt term only
where a prompt is given). P(A preferred) = sigmoid(r(A) - r(B)), which is a logistic regression
(scikit-learn ``LogisticRegression``, no intercept) on phi(A) - phi(B); each training pair is used in both
orientations so the model cannot learn a position.

For each seed, prompts are split into train and test (``GroupShuffleSplit``); on the SAME training pairs
(both judge and human chose A or B) one model learns the judge's choices and one the human's; both are
scored on the held-out pairs against the human choices (non-tie). The gap is human-trained minus
judge-trained accuracy, pooled over seeds, with a Poisson-bootstrap interval resampling prompts.
"""
from __future__ import annotations

import numpy as np

from ...stats import BootstrapSums, hash_keys


def features(emb_a: np.ndarray, emb_b: np.ndarray, emb_p: np.ndarray | None = None) -> np.ndarray:
    """``(n, 384)`` or ``(n, 768)`` phi(A) - phi(B)."""
    d = emb_a - emb_b
    return d if emb_p is None else np.hstack([d, d * emb_p])


def _fit(X, y, C):
    from sklearn.linear_model import LogisticRegression
    Xs = np.vstack([X, -X])
    ys = np.concatenate([y, 1 - y])
    return LogisticRegression(C=C, fit_intercept=False, max_iter=500).fit(Xs, ys)


def reward_gap(X: np.ndarray, judge: np.ndarray, human: np.ndarray, groups, seeds=(0, 1, 2, 3, 4),
               test_size: float = 0.3, C: float = 1.0, boot_seed: int = 0) -> dict | None:
    """``X`` (n, d) pair features; ``judge``/``human`` (n,) choices a/b/tie/None; ``groups`` (n,) prompt ids.

    Returns {"acc_judge_trained", "acc_human_trained", "gap": (est, lo, hi), "per_seed": [...],
    "n_train", "n_test"} or None when there are too few usable pairs.
    """
    from sklearn.model_selection import GroupShuffleSplit
    judge, human = np.asarray(judge, dtype=object), np.asarray(human, dtype=object)
    groups = np.asarray(["" if g is None else str(g) for g in groups], dtype=object)
    train_ok = np.isin(judge, ["a", "b"]) & np.isin(human, ["a", "b"])
    test_ok = np.isin(human, ["a", "b"])
    if train_ok.sum() < 20 or len(set(groups[test_ok])) < 2:
        return None
    acc = BootstrapSums(boot_seed)
    per_seed, n_train, n_test = [], 0, 0
    for s in seeds:
        tr, te = next(GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=s).split(X, groups=groups))
        tr, te = tr[train_ok[tr]], te[test_ok[te]]
        yj, yh = (judge[tr] == "a").astype(int), (human[tr] == "a").astype(int)
        if len(te) == 0 or len(set(yh)) < 2 or len(set(yj)) < 2:
            continue
        truth = human[te] == "a"
        pj = _fit(X[tr], yj, C).decision_function(X[te]) > 0
        ph = _fit(X[tr], yh, C).decision_function(X[te]) > 0
        cj, ch = (pj == truth).astype(float), (ph == truth).astype(float)
        acc.add(hash_keys(groups[te]), {"cj": cj, "ch": ch, "n": np.ones(len(te))})
        per_seed.append({"seed": int(s), "acc_judge_trained": float(cj.mean()), "acc_human_trained": float(ch.mean()),
                         "n_train": int(len(tr)), "n_test": int(len(te))})
        n_train, n_test = n_train + len(tr), n_test + len(te)
    if not per_seed:
        return None
    return {"acc_judge_trained": acc.ratio("cj", "n"), "acc_human_trained": acc.ratio("ch", "n"),
            "gap": acc.interval(lambda x: (x["ch"] - x["cj"]) / x["n"]), "per_seed": per_seed,
            "n_train": n_train // len(per_seed), "n_test": n_test // len(per_seed)}
