"""The separability classifier calibrated on the user's own human texts (issue 22, item 4).

Detectors are judged by how many human texts they flag (fast-detect-gpt#26: 17 of 40 human stories
flagged; Liang et al. 2023: 61% of TOEFL essays by non-native writers flagged). The audit's style
classifier gives every text a held-out P(LLM) (grouped cross-validation, :func:`.compare.separability`);
here two stated operating points are set on those held-out scores:

- **95% recall**: the threshold above which 95% of the LLM texts lie; ``fpr_at_95_recall`` is the share
  of human texts at or above it;
- **1% FPR**: the 99th percentile of the human scores; ``recall_at_1pct_fpr`` is the share of LLM texts
  at or above it.

The same two thresholds are then applied to each human subgroup: per domain, per length band
(:data:`LENGTH_BANDS`, whitespace words) and per value of a user ``--group`` column (e.g. native /
non-native writers). A subgroup with at least :data:`MIN_TEXTS` human texts whose false-positive rate at
95% recall is at least :data:`RATIO` times the rate of the other human texts, and whose interval lies
above it, is a warning. Intervals: Poisson bootstrap over texts (prompt ids where paired) with the
thresholds held at their full-sample values.
"""
from __future__ import annotations

import numpy as np

from ...stats import BootstrapSums
from .compare import add_rows

LENGTH_BANDS = ((0, 50, "< 50 words"), (50, 150, "50-149 words"), (150, 400, "150-399 words"),
                (400, 10 ** 9, ">= 400 words"))
MIN_TEXTS = 20
RATIO = 2.0


def thresholds(score: np.ndarray, is_llm: np.ndarray) -> tuple[float, float]:
    """(threshold at 95% LLM recall, threshold at 1% human FPR) on finite held-out scores."""
    ok = np.isfinite(score)
    return (float(np.quantile(score[ok & is_llm], 0.05)), float(np.quantile(score[ok & ~is_llm], 0.99)))


def _rate(hit: np.ndarray, keys: np.ndarray, seed: int):
    acc = BootstrapSums(seed)
    add_rows(acc, keys, {"n": np.ones(len(hit)), "h": hit.astype(float)})
    return acc.ratio("h", "n")


def subgroups(df, words: np.ndarray) -> list[tuple[str, str, np.ndarray]]:
    """(column, value, mask) for every domain, length band and user group value."""
    out = []
    for col in ("domain", "group"):
        v = df[col]
        if v.notna().any() and v.nunique() >= 2:
            for x in sorted(v.dropna().unique()):
                out.append((col, str(x), (v == x).to_numpy()))
    for lo, hi, name in LENGTH_BANDS:
        m = (words >= lo) & (words < hi)
        if m.any():
            out.append(("length", name, m))
    return out


def add_calibration(r, oof: np.ndarray, is_llm: np.ndarray, df, keys: np.ndarray, seed: int = 0,
                    words: np.ndarray | None = None) -> None:
    """The two operating points and the false-positive rates by subgroup. ``df``: the per-row columns
    (domain, group; and text, unless ``words``, the whitespace words of every row, are given)."""
    ok = np.isfinite(oof)
    if (ok & is_llm).sum() < 10 or (ok & ~is_llm).sum() < 10:
        r.add_finding("info", "separability calibration skipped: fewer than 10 held-out texts on a side")
        return
    t95, t1 = thresholds(oof, is_llm)
    h, l_ = ok & ~is_llm, ok & is_llm
    fpr = _rate(oof[h] >= t95, keys[h], seed)
    rec = _rate(oof[l_] >= t1, keys[l_], seed)
    r.add_metric("fpr_at_95_recall", fpr[0], f"share of held-out human texts the style classifier flags at the "
                 f"threshold catching 95% of the LLM texts (P(LLM) >= {t95:.3f})", ci=fpr[1:], n=int(h.sum()),
                 group="calibration")
    r.add_metric("recall_at_1pct_fpr", rec[0], f"share of LLM texts caught at the threshold flagging 1% of the "
                 f"held-out human texts (P(LLM) >= {t1:.3f})", ci=rec[1:], n=int(l_.sum()), group="calibration")
    if words is None:
        words = np.array([len(t.split()) for t in df["text"]])
    rows = []
    for col, val, m in subgroups(df, words):
        hm, lm = h & m, l_ & m
        if hm.sum() < 2:
            continue
        f95 = _rate(oof[hm] >= t95, keys[hm], seed)
        f1 = _rate(oof[hm] >= t1, keys[hm], seed)
        rest = h & ~m
        base = float((oof[rest] >= t95).mean()) if rest.any() else float("nan")
        recall = float((oof[lm] >= t95).mean()) if lm.any() else None
        rows.append([col, val, int(hm.sum()), *f95, *f1, base, recall])
        if (hm.sum() >= MIN_TEXTS and np.isfinite(base) and f95[1] is not None and f95[0] >= RATIO * max(base, 1e-9)
                and f95[1] > base):
            r.add_finding("warning", f"human texts with {col} = {val} are flagged as LLM {f95[0]:.0%} of the time "
                          f"at 95% recall, against {base:.0%} for the other human texts ({int(hm.sum())} texts)",
                          metric="fpr_at_95_recall")
    r.add_table("fpr_by_subgroup", ["column", "value", "human texts", "FPR at 95% recall", "lo", "hi",
                                    "FPR at the 1%-FPR threshold", "lo", "hi", "FPR of the other human texts",
                                    "LLM recall at 95% point"], rows,
                "The style classifier's false-positive rate on held-out human texts by subgroup, at the two "
                "operating points set on the whole corpus")
    r.params["calibration"] = {"threshold_95_recall": t95, "threshold_1pct_fpr": t1, "min_texts": MIN_TEXTS,
                               "warn_ratio": RATIO, "length_bands": [b[2] for b in LENGTH_BANDS]}
