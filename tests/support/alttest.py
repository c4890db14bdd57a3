"""The Alternative Annotator Test written out item by item from the paper's definitions (Calderon et al.,
ACL 2025): the oracle the vectorised ``audits/labels/alttest.py`` is tested against, for any alignment
score ``score(x, others)``."""
from __future__ import annotations

from scipy.stats import ttest_1samp


def o_by(pvals, q):
    """Benjamini-Yekutieli step-up: the indices rejected."""
    m = len(pvals)
    order = sorted(range(m), key=lambda i: pvals[i])
    c = sum(1 / k for k in range(1, m + 1))
    last = 0
    for rank, i in enumerate(order, start=1):
        if pvals[i] <= rank / (m * c) * q:
            last = rank
    return set(order[:last])


def leave_one_out(humans: dict, llm: dict, score, eps: float, tie: float = 0.0, q: float = 0.05, min_h: int = 2,
                  min_n: int = 30) -> dict:
    """Leave each human out; W^f = 1[S(llm) >= S(x) - tie], W^h = 1[S(x) >= S(llm) - tie] (ties count for
    both); a one-sided t-test of W^h - W^f against ``eps``; BY at ``q``. Items need ``min_h`` humans, a human
    ``min_n`` kept items. Returns omega, rho, passed, per (human -> (items, p)) and won (the humans beaten)."""
    by_item = {}
    for h, anns in humans.items():
        for i in anns:
            by_item.setdefault(i, []).append(h)
    kept = {i for i, hs in by_item.items() if len(hs) >= min_h and i in llm}
    pvals, rhos, names, per = [], [], [], {}
    for j, anns in humans.items():
        items = [i for i in anns if i in kept]
        if len(items) < min_n:
            continue
        w_f, w_h = [], []
        for i in items:
            others = [humans[h][i] for h in by_item[i] if h != j]
            s_h, s_f = score(anns[i], others), score(llm[i], others)
            w_f.append(1 if s_f >= s_h - tie else 0)
            w_h.append(1 if s_h >= s_f - tie else 0)
        p = float(ttest_1samp([a - b for a, b in zip(w_h, w_f)], eps, alternative="less").pvalue)
        pvals.append(p), rhos.append(sum(w_f) / len(w_f)), names.append(j)
        per[j] = (len(items), p)
    won = o_by(pvals, q)
    omega = len(won) / len(names)
    return {"omega": omega, "rho": sum(rhos) / len(rhos), "passed": omega >= 0.5, "per": per,
            "won": {names[k] for k in won}}
