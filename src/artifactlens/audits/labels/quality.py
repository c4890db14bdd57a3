"""Annotator quality and label-distribution distances, with each LLM as one more worker.

- ``annotator_quality``: crowd-kit's Dawid-Skene (``crowdkit.aggregation.DawidSkene``: per-worker
  confusion matrices; a worker's accuracy is ``sum_k prior_k * P(label k | true k)``) and MACE
  (``crowdkit.aggregation.MACE``, Hovy et al. 2013: a worker's competence is the posterior probability of
  *not* spamming, ``spamming_[:, 1]``), fitted once on every human and every LLM as workers (an LLM's
  worker name is ``llm:<name>``). Wrapped, not rewritten: the figures are crowd-kit's own. Categorical
  labels only, and only up to :data:`MAX_CLASSES` classes (DS holds a K x K matrix per worker);
- ``llm_human_jsd_mean``: per item, the Jensen-Shannon divergence (``scipy.spatial.distance.jensenshannon``,
  base 2, squared: in [0, 1]) between the LLM's label distribution (its samples) and the humans'; the mean
  over items with both, a Poisson-bootstrap interval by item;
- ``human_pairwise_agreement``: the share of agreeing pairs among all pairs of humans on one item,
  ``sum_i sum_k c_ik (c_ik - 1) / sum_i n_i (n_i - 1)``; ``llm_self_agreement``: the same over one LLM's
  samples of an item (undefined, None with the reason, when no item has two samples); Ni et al. 2025
  (arXiv 2506.19467) find LLMs reproduce human disagreement poorly even when their majority is right;
- ``human_llm_agreement``: the share of agreeing (human label, LLM sample) pairs of an item, averaged
  over items: with one label per side, plain agreement.

Counts are ``numpy.bincount`` over the flat annotation arrays; nothing loops over items.
"""
from __future__ import annotations

import numpy as np

from ...stats import BootstrapSums, hash_keys
from .annotators import Annotations

MAX_CLASSES = 100


def class_counts(item, code, n_items: int, k: int) -> np.ndarray:
    return np.bincount(item * k + code, minlength=n_items * k).reshape(n_items, k).astype(float)


def _boot(ann: Annotations, seed: int, mask: np.ndarray, values: dict) -> BootstrapSums:
    acc = BootstrapSums(seed)
    ids = np.asarray(ann.items, dtype=object)[mask]
    if ids.size:
        acc.add(hash_keys(ids), {k: v[mask] for k, v in values.items()})
    return acc


def pair_agreement(counts: np.ndarray, seed: int, ann: Annotations):
    """(estimate, lo, hi, items used) of the pooled pairwise agreement from (items x classes) counts."""
    n = counts.sum(axis=1)
    agree = (counts * (counts - 1)).sum(axis=1)
    pairs = n * (n - 1)
    used = pairs > 0
    if not used.any():
        return None
    est, lo, hi = _boot(ann, seed, used, {"a": agree, "p": pairs}).ratio("a", "p")
    return est, lo, hi, int(used.sum())


def distribution_figures(ann: Annotations, m: int, seed: int = 0) -> dict:
    """JSD, self agreement and human-LLM agreement of LLM ``m`` (index into ``ann.llms``)."""
    from scipy.spatial.distance import jensenshannon
    n_items, k = len(ann.items), max(1, len(ann.classes))
    hc = class_counts(ann.h_item, ann.h_code, n_items, k)
    sel = ann.l_who == m
    lc = class_counts(ann.l_item[sel], ann.l_code[sel], n_items, k)
    nh, nl = hc.sum(axis=1), lc.sum(axis=1)
    both = (nh > 0) & (nl > 0)
    out = {"items_both": int(both.sum())}
    if both.any():
        with np.errstate(invalid="ignore", divide="ignore"):
            ph, pl = hc[both] / nh[both, None], lc[both] / nl[both, None]
        jsd = np.zeros(n_items)
        jsd[both] = jensenshannon(ph, pl, axis=1, base=2) ** 2
        agree = np.zeros(n_items)
        agree[both] = (ph * pl).sum(axis=1)
        acc = _boot(ann, seed, both, {"jsd": jsd, "agree": agree, "n": np.ones(n_items)})
        out["jsd"] = acc.ratio("jsd", "n")
        out["agree"] = acc.ratio("agree", "n")
    out["self"] = pair_agreement(lc, seed, ann)
    out["max_samples"] = int(nl.max()) if nl.size else 0
    return out


def human_agreement(ann: Annotations, seed: int = 0):
    n_items, k = len(ann.items), max(1, len(ann.classes))
    return pair_agreement(class_counts(ann.h_item, ann.h_code, n_items, k), seed, ann)


def worker_frame(ann: Annotations):
    """The crowd-kit input: a DataFrame (task, worker, label) with every human and every LLM sample."""
    import pandas as pd
    tasks = np.concatenate([ann.h_item, ann.l_item])
    workers = [ann.humans[w] for w in ann.h_who] + [f"llm:{ann.llms[w]}" for w in ann.l_who]
    labels = np.concatenate([ann.h_code, ann.l_code])
    return pd.DataFrame({"task": tasks, "worker": workers, "label": labels})


def annotator_quality(ann: Annotations, seed: int = 0, mace_restarts: int = 1) -> dict:
    """``{"rows": [[worker, kind, items, DS accuracy, MACE competence, DS-label agreement]], ...}`` or
    ``{"skipped": reason}``."""
    if ann.numeric and len(ann.classes) > 20:
        return {"skipped": f"{len(ann.classes)} distinct numeric values: Dawid-Skene and MACE need classes"}
    if len(ann.classes) > MAX_CLASSES:
        return {"skipped": f"{len(ann.classes):,} classes (free text?): Dawid-Skene and MACE are fitted up to "
                           f"{MAX_CLASSES} classes"}
    import warnings

    from crowdkit.aggregation import MACE, DawidSkene
    df = worker_frame(ann)
    with warnings.catch_warnings():  # crowd-kit's pandas deprecation warnings
        warnings.simplefilter("ignore")
        ds = DawidSkene(n_iter=100).fit(df)
        mace = MACE(n_restarts=mace_restarts, random_state=seed).fit(df)
    return {"rows": quality_rows(df, ds, mace), "ds": ds, "mace": mace, "labels": aggregated_labels(ann, ds, mace)}


def aggregated_labels(ann: Annotations, ds, mace) -> dict:
    """``{"dawid_skene": {item id: label}, "mace": {...}}``: crowd-kit's ``labels_``, back in the input's
    item ids and labels (the fits see item indices and class codes)."""
    out = {}
    for name, model in (("dawid_skene", ds), ("mace", mace)):
        lab = model.labels_
        out[name] = {ann.items[int(t)]: ann.classes[int(c)] for t, c in zip(lab.index, lab.to_numpy())}
    return out


def confusion(ann: Annotations, ds, worker: str) -> list:
    """One worker's Dawid-Skene confusion matrix, ``rows[k] = [true label, P(worker says l | true k) for l
    in ann.classes]`` (crowd-kit's ``errors_.loc[worker]``, its columns the true labels; 0 where crowd-kit
    has no entry)."""
    e = ds.errors_.loc[worker]
    k = len(ann.classes)
    m = np.zeros((k, k))
    for said in e.index:
        for true in e.columns:
            m[int(true), int(said)] = float(e.loc[said, true])
    return [[ann.classes[t], *m[t].tolist()] for t in range(k)]


def ds_accuracy(ds) -> dict:
    """Per worker: the Dawid-Skene probability of a correct label, ``sum_k prior_k * errors[k, k]``."""
    err = ds.errors_
    out = {}
    for w in err.index.get_level_values(0).unique():
        e = err.loc[w]
        out[w] = float(sum(ds.priors_.get(k, 0.0) * e.loc[k, k] for k in e.columns if k in e.index))
    return out


def quality_rows(df, ds, mace) -> list:
    import pandas as pd
    acc = ds_accuracy(ds)
    _, names = pd.factorize(df["worker"])  # MACE's worker order
    competence = dict(zip(names, mace.spamming_[:, 1].tolist()))
    ds_label = ds.labels_
    match = (df["label"].to_numpy() == ds_label.reindex(df["task"]).to_numpy())
    agree = pd.Series(match).groupby(df["worker"].to_numpy()).mean()
    items = df.groupby("worker")["task"].nunique()
    rows = []
    for w in names:
        rows.append([w[4:] if w.startswith("llm:") else w, "LLM" if w.startswith("llm:") else "human",
                     int(items[w]), acc.get(w), competence[w], float(agree[w])])
    return rows
