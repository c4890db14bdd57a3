"""Prediction-powered inference (Angelopoulos et al., Science 2023; PPI++, Angelopoulos, Duchi & Zrnic
2023) with package ``ppi-python`` (``ppi_py.ppi_mean_ci`` / ``ppi_mean_pointestimate``, power-tuned
lambda): estimates from many cheap labels plus a small human-labelled *gold* sample, with valid 95%
intervals. Wrapped, not rewritten. Where the power-tuned lambda is undefined (the predictions are the same
on every item, so its variance is 0 and ppi-python returns NaN) the untuned PPI (``lam=1``, the original
estimator) is used instead, and said.

- class share of ``k``: target ``1[gold = k]`` on the gold items, prediction ``1[LLM = k]`` on the gold
  items and on every other item the LLM labelled; beside it the naive LLM-only share (the mean of
  ``1[LLM = k]`` over all items, a normal interval: what you would report trusting the LLM);
- LLM error rate: target ``1[LLM != gold]`` on the gold items, prediction ``1[LLM != human plurality]``
  (the crowd's label, first class in label order on a tie) on the gold items and on every other item with
  human labels; beside it the naive rate against the crowd's plurality alone. Without other human labels
  the gold-only (classical) interval (``ppi_py.classical_mean_ci``).

The LLM's label of an item is its plurality sample (:meth:`Annotations.llm_single`). Free-text labels
(``label_type`` text, or :func:`.annotators.many_classes`) get shares for the :data:`TOP_CLASSES` most
frequent labels (human labels + this LLM's, ties in label order) and one share of the rest, ``(other)``
(class ``None``: target ``1[gold not shown]``, prediction ``1[LLM not shown]``), not one per answer.
"""
from __future__ import annotations

import math

import numpy as np

from .annotators import TOP_CLASSES, Annotations, many_classes
from .quality import class_counts

LEVEL_ALPHA = 0.05


def _normal_ci(x: np.ndarray):
    m = float(x.mean())
    half = 1.959963984540054 * math.sqrt(max(m * (1 - m), 0.0) / x.size) if x.size else float("nan")
    return m, m - half, m + half


def ppi_estimates(ann: Annotations, m: int, gold_item: np.ndarray, gold_code: np.ndarray) -> dict:
    """PPI and naive figures for LLM ``m``: ``{"shares": [(class, ppi, lo, hi, naive, lo, hi)], "error":
    (ppi, lo, hi, naive, lo, hi, method), "n_gold", "n_unlabelled"}``, and ``"folded"`` (the number of classes
    summed into the class ``None`` share) for free text."""
    import warnings

    from ppi_py import classical_mean_ci, ppi_mean_ci, ppi_mean_pointestimate
    present, llm, _ = ann.llm_single(m)
    ok = present[gold_item]
    g_item, g_code = gold_item[ok], gold_code[ok]
    is_gold = np.zeros(len(ann.items), dtype=bool)
    is_gold[g_item] = True
    rest = present & ~is_gold
    out = {"n_gold": int(g_item.size), "n_unlabelled": int(rest.sum()), "shares": []}
    if g_item.size < 2:
        return out

    out["untuned"] = []

    def ppi(y, yhat, yhat_u, name):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for lam in (None, 1.0):
                est = float(ppi_mean_pointestimate(y, yhat, yhat_u, lam=lam)[0])
                lo, hi = ppi_mean_ci(y, yhat, yhat_u, alpha=LEVEL_ALPHA, lam=lam)
                if math.isfinite(est) and math.isfinite(lo[0]) and math.isfinite(hi[0]):
                    break
                out["untuned"].append(name)  # the tuned lambda is 0/0: the predictions never vary
        return est, float(lo[0]), float(hi[0])

    shown, used = _shown(ann, llm[present])
    if len(shown) < used:
        out["folded"] = used - len(shown)  # labels the humans or this LLM used, not shown
    for k in shown:
        _share(out, ppi, g_code == k, llm == k, g_item, rest, present, ann.classes[k])
    if "folded" in out:
        other = np.ones(len(ann.classes) + 1, dtype=bool)
        other[shown] = False  # index -1 (no label) stays True, never read: present items have one
        _share(out, ppi, other[g_code], other[llm], g_item, rest, present, None)
    wrong = (llm[g_item] != g_code).astype(float)
    hc = class_counts(ann.h_item, ann.h_code, len(ann.items), max(1, len(ann.classes)))
    crowd = np.where(hc.sum(axis=1) > 0, hc.argmax(axis=1), -1)
    proxy_u = rest & (crowd >= 0)
    proxy_g = crowd[g_item] >= 0
    if proxy_u.any() and proxy_g.all():
        e = ppi(wrong, (llm[g_item] != crowd[g_item]).astype(float), (llm[proxy_u] != crowd[proxy_u]).astype(float), "(LLM error rate)")
        naive = _normal_ci((llm[present & (crowd >= 0)] != crowd[present & (crowd >= 0)]).astype(float))
        out["error"] = (*e, *naive, "PPI: gold sample + disagreement with the human plurality elsewhere")
    else:
        lo, hi = classical_mean_ci(wrong, alpha=LEVEL_ALPHA)
        out["error"] = (float(wrong.mean()), float(lo), float(hi), None, None, None,
                        "gold sample only (no other item has human labels)")
    return out


def _shown(ann: Annotations, llm_present: np.ndarray) -> tuple[np.ndarray, int]:
    """(class codes given a share, in class order; the number of classes the humans or this LLM used):
    every class, or for free text the TOP_CLASSES most frequent (human labels + this LLM's labels; ties in
    class order)."""
    k = len(ann.classes)
    count = np.bincount(ann.h_code, minlength=k) + np.bincount(llm_present, minlength=k)
    used = int((count > 0).sum())
    if not (ann.label_type == "text" or many_classes(k, len(ann.items))) or used <= TOP_CLASSES:
        return np.arange(k), used
    return np.sort(np.argsort(-count, kind="stable")[:TOP_CLASSES]), used


def _share(out, ppi, y, is_k, g_item, rest, present, cls) -> None:
    """One class share (``y``: gold indicator; ``is_k``: the LLM's indicator per item); skipped when the
    class is seen nowhere."""
    y = y.astype(float)
    yhat, yhat_u = is_k[g_item].astype(float), is_k[rest].astype(float)
    if not (y.any() or yhat.any() or yhat_u.any()):
        return
    out["shares"].append((cls, *ppi(y, yhat, yhat_u, cls), *_normal_ci(is_k[present].astype(float))))
