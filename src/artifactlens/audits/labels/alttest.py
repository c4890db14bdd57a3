"""The Alternative Annotator Test (Calderon, Reichart & Dror, ACL 2025, arXiv 2501.10970): can this LLM
replace these human annotators?

Definitions (the paper's Section 3 and its released procedure, github.com/nitaytech/AltTest). Items with
at least ``min_humans`` (2) human labels and a label from the LLM are kept. For each human ``j`` and each
kept item ``i`` that ``j`` labelled, with ``H_i^-j`` the labels of the *other* humans of ``i``:

- alignment ``S(x, H_i^-j)``: ``accuracy`` = share of ``H_i^-j`` equal to ``x``; ``neg_rmse`` =
  ``-sqrt(mean((x - h)^2))``; ``neg_mae`` = ``-mean(|x - h|)`` over ``h`` in ``H_i^-j``;
- ``W^f_i = 1[S(llm_i) >= S(x_ij)]``, ``W^h_i = 1[S(x_ij) >= S(llm_i)]`` (ties count for both);
- ``rho_j = mean_i W^f_i`` (the LLM's advantage probability over ``j``);
- a one-sided one-sample t-test of ``d_i = W^h_i - W^f_i``: H0 ``mean(d) >= epsilon`` against H1
  ``mean(d) < epsilon`` (i.e. ``rho^f_j > rho^h_j - epsilon``), p-value ``p_j``;
- humans with fewer than ``min_items`` (30) kept items are not tested (counted and reported).

The LLM *wins* human ``j`` when ``p_j`` is rejected at ``alpha`` after the Benjamini-Yekutieli correction
over the tested humans (``scipy.stats.false_discovery_control(method="by")``). Winning rate ``omega`` = share
of tested humans won; advantage probability ``rho`` = mean of ``rho_j``; the LLM passes when ``omega >=
0.5``.

Vectorised: every figure is a ``numpy.bincount`` over the flat (human, item, label) arrays of
:class:`~.annotators.Annotations` (class counts per item for accuracy, sums and sums of squares for
RMSE, sorted prefix sums for the absolute error), so the cost is linear in annotations and there is no
Python loop over items or humans; the t statistic is scipy's (two-pass variance, ``ddof=1``). Alignment
scores are compared with a tolerance of ``1e-9`` (times the score's size) so that sums formed in another
order than the reference's cannot turn an exact tie into a win.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .annotators import Annotations

METRICS = ("accuracy", "neg_rmse", "neg_mae")
TOL = 1e-9


@dataclass
class AltTestResult:
    """One LLM against the humans. Per-human arrays are over ``humans`` (every human; ``tested`` marks
    those with at least ``min_items`` kept items)."""

    llm: str
    humans: list
    n_items: np.ndarray       # kept items per human
    tested: np.ndarray        # bool
    llm_alignment: np.ndarray  # mean S(llm, others) over the human's kept items (NaN when none)
    human_alignment: np.ndarray
    advantage: np.ndarray     # rho_j
    p_value: np.ndarray       # NaN for humans not tested
    won: np.ndarray           # bool (False for humans not tested)
    winning_rate: float | None
    advantage_probability: float | None
    passed: bool | None
    items_kept: int
    items_dropped: int        # items with fewer than min_humans human labels or no label from this LLM
    epsilon: float
    alpha: float
    metric: str


def alignment(ann: Annotations, llm_code, llm_val, keep, metric: str):
    """Per kept human annotation: (S(human label, other humans), S(LLM label, other humans)).

    ``keep`` masks the human annotations (their item is kept). Counts, sums and sorts are over kept
    annotations only, so the other humans of an item are exactly those kept on it."""
    it = ann.h_item[keep]
    n_items = len(ann.items)
    n = np.bincount(it, minlength=n_items).astype(float)
    m = n[it] - 1.0  # other humans of the item
    if metric == "accuracy":
        k = max(1, len(ann.classes))
        y = ann.h_code[keep]
        b = llm_code[it]
        cnt = np.bincount(it * k + y, minlength=n_items * k)
        human = (cnt[it * k + y] - 1) / m
        llm = (cnt[it * k + b] - (b == y)) / m
        return human, llm
    x = ann.h_val[keep]
    p = llm_val[it]
    if metric == "neg_rmse":
        s1 = np.bincount(it, weights=x, minlength=n_items)[it] - x
        s2 = np.bincount(it, weights=x * x, minlength=n_items)[it] - x * x

        def score(v):
            return -np.sqrt(np.maximum((m * v * v - 2 * v * s1 + s2) / m, 0.0))
        return score(x), score(p)
    if metric == "neg_mae":
        tot_h = _abs_sums(it, x, x, n_items)   # sum over every human h of the item of |x - h| (incl. itself: 0)
        tot_l = _abs_sums(it, x, p, n_items)
        return -tot_h / m, -(tot_l - np.abs(p - x)) / m
    raise ValueError(f"unknown alignment metric {metric!r}; one of {', '.join(METRICS)}")


def _abs_sums(it, x, q, n_items):
    """For each position a: sum over the values v of item it[a] of |q[a] - v|, by one sort and prefix sums."""
    lo = np.minimum(x.min(), q.min())
    span = max(float(np.maximum(x.max(), q.max()) - lo), 1.0)
    order = np.lexsort((x, it))
    xs, its = x[order], it[order]
    csum = np.concatenate([[0.0], np.cumsum(xs)])
    start = np.searchsorted(its, np.arange(n_items), side="left")
    end = np.searchsorted(its, np.arange(n_items), side="right")
    # position of q[a] within its item's sorted values (count of values < q, and <= q: same sum)
    s, e = start[it], end[it]
    key_sorted = its * 2.0 + (xs - lo) / span  # item, then value, as one float in [2 item, 2 item + 1]
    below = np.searchsorted(key_sorted, it * 2.0 + (q - lo) / span, side="left")
    below = np.clip(below, s, e)
    sum_below = csum[below] - csum[s]
    sum_above = csum[e] - csum[below]
    n_below = below - s
    n_above = e - below
    return q * n_below - sum_below + sum_above - q * n_above


def _ttest_less(who, d, eps, n_humans):
    """scipy's one-sample t-test of mean(d) < eps per human (``ttest_1samp(..., alternative='less')``)."""
    from scipy.stats import t as student
    n = np.bincount(who, minlength=n_humans).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(who, weights=d, minlength=n_humans) / n
        dev = d - mean[who]
        var = np.bincount(who, weights=dev * dev, minlength=n_humans) / (n - 1)
        tstat = (mean - eps) / np.sqrt(var / n)
        p = student.cdf(tstat, n - 1)
    return np.where(n >= 2, p, np.nan), mean


def by_reject(p: np.ndarray, alpha: float) -> np.ndarray:
    """Benjamini-Yekutieli step-up at level ``alpha`` (scipy's adjusted p-values; NaN never rejected)."""
    from scipy.stats import false_discovery_control
    if p.size == 0:
        return np.zeros(0, dtype=bool)
    finite = np.nan_to_num(p, nan=1.0)
    adj = false_discovery_control(finite, method="by")
    return (adj <= alpha) & np.isfinite(p)


def alt_test(ann: Annotations, m: int, *, epsilon: float = 0.15, alpha: float = 0.05, metric: str | None = None,
             min_humans: int = 2, min_items: int = 30) -> AltTestResult:
    """The Alternative Annotator Test of LLM ``m`` (index into ``ann.llms``) against every human."""
    metric = metric or ("neg_rmse" if ann.numeric else "accuracy")
    if metric != "accuracy" and not ann.numeric:
        raise ValueError(f"{metric} needs numeric labels (--label-type numeric or ordinal)")
    nh, n_items = len(ann.humans), len(ann.items)
    present, code, val = ann.llm_single(m)
    item_ok = (ann.humans_per_item() >= min_humans) & present
    keep = item_ok[ann.h_item]
    who = ann.h_who[keep]
    human, llm = alignment(ann, code, val, keep, metric)
    tol = TOL * np.maximum(1.0, np.maximum(np.abs(human), np.abs(llm)))
    w_llm = (llm >= human - tol).astype(float)
    w_hum = (human >= llm - tol).astype(float)
    n = np.bincount(who, minlength=nh)
    tested = n >= min_items
    with np.errstate(invalid="ignore", divide="ignore"):
        adv = np.bincount(who, weights=w_llm, minlength=nh) / n
        la = np.bincount(who, weights=llm, minlength=nh) / n
        ha = np.bincount(who, weights=human, minlength=nh) / n
    p, _ = _ttest_less(who, w_hum - w_llm, epsilon, nh)
    p = np.where(tested, p, np.nan)
    won = np.zeros(nh, dtype=bool)
    won[tested] = by_reject(p[tested], alpha)
    k = int(tested.sum())
    omega = float(won.sum() / k) if k else None
    rho = float(adv[tested].mean()) if k else None
    return AltTestResult(llm=ann.llms[m], humans=list(ann.humans), n_items=n, tested=tested, llm_alignment=la,
                         human_alignment=ha, advantage=adv, p_value=p, won=won, winning_rate=omega,
                         advantage_probability=rho, passed=None if omega is None else bool(omega >= 0.5),
                         items_kept=int(item_ok.sum()), items_dropped=int(n_items - item_ok.sum()),
                         epsilon=epsilon, alpha=alpha, metric=metric)
