"""Agreement and distribution tests, wrapping the field's implementations.

- Krippendorff's alpha (package ``krippendorff``, ``value_counts`` form: items x classes counts, so any
  number of annotators per item and missing annotations are natural; items with fewer than two labels
  add nothing). Human annotators; LLM samples; and humans with the LLM pooled in as one more annotator
  (its item label: its one label, or its single majority label; ``items.item_label``).
- Cohen's kappa (``sklearn.metrics.cohen_kappa_score``) between the human and the LLM item labels (one
  label, or a single majority), over items where both sides have one.
- Chi-square and G-test (``scipy.stats.chi2_contingency``) of pooled human vs LLM label counts. Labels of
  one item are not independent, so the p-values are optimistic; the bootstrap intervals on the class
  drift (resampled by item) are the figures to trust.
"""
from __future__ import annotations

import numpy as np

from .items import is_number, item_label, label_key

LEVELS = ("nominal", "ordinal", "interval")


def _distinct(items: list[dict]) -> tuple[np.ndarray, list[dict]]:
    """(per-item index, the distinct dicts): the items of a batch share their counts dicts (one per
    distinct label count), so every per-class figure is computed once per distinct dict."""
    rows: dict[int, int] = {}
    distinct: list[dict] = []
    which = np.empty(len(items), dtype=np.int64)
    for i, counts in enumerate(items):
        j = rows.get(id(counts))
        if j is None:
            j = rows[id(counts)] = len(distinct)
            distinct.append(counts)
        which[i] = j
    return which, distinct


def _table(distinct: list[dict], index: dict) -> np.ndarray:
    table = np.zeros((len(distinct), len(index)))
    for j, counts in enumerate(distinct):
        for lab, c in counts.items():
            table[j, index[label_key(lab)]] += c
    return table


def value_counts(items: list[dict], keys: list[str]) -> np.ndarray:
    """``(n_items, n_classes)`` counts from per-item ``{label: count}`` dicts."""
    which, distinct = _distinct(items)
    table = _table(distinct, {k: j for j, k in enumerate(keys)})
    return table[which] if len(items) else np.zeros((0, len(keys)))


#: bytes the krippendorff package may take for its (items, classes, classes) coincidence tensor; beyond it
#: (free-text labels: thousands of classes) nominal and interval alpha come from their closed forms below
DENSE_ALPHA_BYTES = 256 * 2**20


def alpha(counts: np.ndarray, domain=None, level: str = "nominal") -> float:
    """Krippendorff's alpha, NaN when no item has two labels or only one class is used (and, for ordinal
    labels, when the classes are too many for the package's dense computation)."""
    import krippendorff
    used = counts.sum(axis=0) > 0
    if used.sum() < 2 or not (counts.sum(axis=1) >= 2).any():
        return float("nan")
    counts = counts[:, used]
    dom = None if domain is None else np.asarray(domain, dtype=float)[used]
    if counts.shape[0] * counts.shape[1] ** 2 * 8 > DENSE_ALPHA_BYTES:
        return _alpha_closed_form(counts, dom, level)
    return float(krippendorff.alpha(value_counts=counts, value_domain=dom, level_of_measurement=level))


def _alpha_closed_form(counts: np.ndarray, dom, level: str) -> float:
    """Nominal and interval alpha from per-item sums (no classes x classes matrix): the coincidences
    o_ck = sum_u n_uc n_uk / (m_u - 1) over items with m_u >= 2 labels enter only through sums that
    factor per item. alpha = 1 - (n - 1) * D_o / D_e with D_o = sum_ck o_ck d_ck, D_e = sum_ck n_c n_k d_ck."""
    m = counts.sum(axis=1)
    c = counts[m >= 2]
    w = 1.0 / (m[m >= 2] - 1.0)
    n_c = c.sum(axis=0)
    n = n_c.sum()
    if level == "nominal":  # d_ck = 1 for c != k
        d_o = n - float((w[:, None] * c * (c - 1.0)).sum())
        d_e = n * n - float((n_c ** 2).sum())
    elif level == "interval":  # d_ck = (v_c - v_k)^2: sum_ck a_c a_k d_ck = 2 (sum a * sum a v^2 - (sum a v)^2)
        v = np.asarray(dom, dtype=float)
        s0, s1, s2 = c.sum(axis=1), c @ v, c @ (v * v)
        d_o = float((w * 2.0 * (s0 * s2 - s1 * s1)).sum())
        d_e = 2.0 * (n * float(n_c @ (v * v)) - float(n_c @ v) ** 2)
    else:
        return float("nan")
    return float(1.0 - (n - 1.0) * d_o / d_e) if d_e > 0 else float("nan")


def agreement(items, keys: list[str], labels: dict, level: str = "nominal") -> dict:
    """alpha (human, LLM, pooled) and Cohen's kappa of majority labels; ``items`` = [(row, text, h, l)].

    Per distinct counts dict (items share them): the class counts and the single majority label; per item
    only array indexing. Kappa is sklearn's on the majority labels coded 0..m-1 in the order sklearn sorts
    their keys in, so its confusion matrix, hence the figure, is the one of the keys themselves."""
    from sklearn.metrics import cohen_kappa_score
    if level != "nominal" and not all(is_number(labels[k]) for k in keys):
        raise ValueError(f"{level} alpha needs numeric labels")
    domain = [labels[k] for k in keys] if level != "nominal" else None
    index = {k: j for j, k in enumerate(keys)}
    hw, hd = _distinct([it[2] for it in items])
    lw, ld = _distinct([it[3] for it in items])
    n = len(items)
    h = _table(hd, index)[hw] if n else np.zeros((0, len(keys)))
    l = _table(ld, index)[lw] if n else np.zeros((0, len(keys)))

    def majority(distinct) -> np.ndarray:  # class index of the item label (items.item_label), -1 where none
        out = np.full(len(distinct) + 1, -1, dtype=np.int64)
        for j, d in enumerate(distinct):
            m = item_label(_counter(d))
            if m is not None:
                out[j] = index[label_key(m)]
        return out
    hm, lm = majority(hd)[hw], majority(ld)[lw]
    pooled = h.copy()
    some = np.flatnonzero(lm >= 0)
    pooled[some, lm[some]] += 1
    both = (hm >= 0) & (lm >= 0)
    out = {"krippendorff_alpha_human": alpha(h, domain, level), "krippendorff_alpha_llm": alpha(l, domain, level),
           "krippendorff_alpha_pooled": alpha(pooled, domain, level), "kappa_n": int(both.sum()),
           "alpha_n": {"human": int((h.sum(1) >= 2).sum()), "llm": int((l.sum(1) >= 2).sum()),
                       "pooled": int((pooled.sum(1) >= 2).sum())}}
    a, b = hm[both], lm[both]
    present = np.unique(np.concatenate([a, b]))
    if a.size >= 2 and present.size >= 2:
        order = sorted(present.tolist(), key=lambda j: keys[j])  # sklearn sorts the labels it is given
        code = np.zeros(len(keys), dtype=np.int64)
        code[order] = np.arange(len(order))
        out["cohen_kappa_majority"] = float(cohen_kappa_score(code[a], code[b]))
    else:
        out["cohen_kappa_majority"] = float("nan")
    return out


def distribution_tests(h_counts: dict, l_counts: dict, keys: list[str]) -> dict:
    """Chi-square and G-test of the 2 x K table of pooled label counts (classes used by either side)."""
    from scipy.stats import chi2_contingency
    table = np.array([[h_counts.get(k, 0) for k in keys], [l_counts.get(k, 0) for k in keys]], dtype=float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return {"chi2": float("nan"), "chi2_p": float("nan"), "g": float("nan"), "g_p": float("nan"), "dof": 0}
    chi2, p, dof, _ = chi2_contingency(table, correction=False)
    g, gp, _, _ = chi2_contingency(table, correction=False, lambda_="log-likelihood")
    return {"chi2": float(chi2), "chi2_p": float(p), "g": float(g), "g_p": float(gp), "dof": int(dof)}


def _counter(d):
    from collections import Counter
    return Counter(d)
