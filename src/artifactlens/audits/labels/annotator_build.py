"""The 'can this LLM replace these annotators?' part of a labels result: the Alternative Annotator Test
(:mod:`.alttest`), label-distribution distances and agreement (:mod:`.quality`), annotator quality
(crowd-kit Dawid-Skene and MACE) and prediction-powered estimates (:mod:`.ppi`), written into the
result of each LLM (calculation there, rendering in :mod:`artifactlens.report`)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...result import AuditResult
from .alttest import DEFINITIONS, AltTestResult, alt_test
from .annotators import TOP_CLASSES, Annotations
from .items import label_text
from .ppi import ppi_estimates
from .quality import annotator_quality, confusion, distribution_figures, human_agreement

GROUP = "can the LLM replace the annotators"
CONFUSION_MAX_CLASSES = 30  # a wider confusion matrix is not shown (the fit still uses every class)


@dataclass
class AnnotatorOptions:
    epsilon: float = 0.15
    alpha: float = 0.05
    metric: str | None = None
    min_humans: int = 2
    min_items: int = 30
    quality: bool = True
    gold: tuple | None = None  # (item index array, class code array) of the gold sample
    seed: int = 0
    device: str | None = None  # where MiniLM runs (--alt-metric similarity)


def _ci(t):
    return None if t is None else (t[1], t[2])


def add_llm_figures(r: AuditResult, ann: Annotations, m: int, o: AnnotatorOptions, human_pairs) -> AltTestResult:
    """Everything about LLM ``m`` into its result ``r``; returns its Alt-Test result."""
    a = alt_test(ann, m, epsilon=o.epsilon, alpha=o.alpha, metric=o.metric, min_humans=o.min_humans,
                 min_items=o.min_items, device=o.device)
    _alt(r, ann, a, o)
    d = distribution_figures(ann, m, o.seed)
    if "jsd" in d:
        r.add_metric("llm_human_jsd_mean", d["jsd"][0], "mean over items of the Jensen-Shannon divergence (bits, "
                     "0-1) between the LLM's and the humans' label distributions", ci=_ci(d["jsd"]),
                     n=d["items_both"], group=GROUP)
        r.add_metric("human_llm_agreement", d["agree"][0], "mean over items of the share of agreeing (human "
                     "label, LLM label) pairs; with one label per side, plain agreement", ci=_ci(d["agree"]),
                     n=d["items_both"], group=GROUP)
    if d["self"] is None:
        r.add_metric("llm_self_agreement", None, "share of agreeing pairs among the LLM's samples of an item: "
                     "undefined, the LLM has one sample per item", group=GROUP)
        r.params.setdefault("undefined", {})["llm_self_agreement"] = "one LLM sample per item"
    else:
        r.add_metric("llm_self_agreement", d["self"][0], "share of agreeing pairs among the LLM's samples of an "
                     "item (pooled over items with two or more)", ci=_ci(d["self"]), n=d["self"][3], group=GROUP)
    if human_pairs is not None:
        r.add_metric("human_pairwise_agreement", human_pairs[0], "share of agreeing pairs among the humans' labels "
                     "of an item (pooled over items with two or more)", ci=_ci(human_pairs), n=human_pairs[3],
                     group=GROUP)
        s = r.metrics["llm_self_agreement"].value
        if s is not None and s > human_pairs[0] and d["self"][1] > human_pairs[2]:
            r.add_finding("warning", f"the LLM agrees with itself ({s:.2f}) more than the humans agree with each "
                          f"other ({human_pairs[0]:.2f}): it does not reproduce their disagreement",
                          "llm_self_agreement")
    if o.gold is not None:
        _ppi(r, ann, m, o)
    return a


def _alt(r: AuditResult, ann: Annotations, a: AltTestResult, o: AnnotatorOptions) -> None:
    k = int(a.tested.sum())
    n_small = int((~a.tested).sum())
    r.params["alt_test"] = {"epsilon": a.epsilon, "alpha": a.alpha, "metric": a.metric,
                            "metric_definition": DEFINITIONS[a.metric],
                            "metric_chosen": "--alt-metric" if o.metric else f"default for {ann.label_type} labels",
                            "correction": "Benjamini-Yekutieli", "min_humans_per_item": o.min_humans,
                            "min_items_per_human": o.min_items, "humans_tested": k, "humans_not_tested": n_small,
                            "items_kept": a.items_kept, "items_dropped": a.items_dropped,
                            "reference": "Calderon, Reichart & Dror, ACL 2025 (arXiv 2501.10970)"}
    why = f"no human has {o.min_items} or more items with {o.min_humans}+ human labels and an LLM label"
    if a.winning_rate is None:
        for name in ("alt_test_winning_rate", "alt_test_advantage_probability", "alt_test_passed"):
            r.add_metric(name, None, f"Alternative Annotator Test: undefined, {why}", group=GROUP)
            r.params.setdefault("undefined", {})[name] = why
        r.add_finding("warning", f"the Alternative Annotator Test cannot run: {why}", "alt_test_winning_rate")
    else:
        r.add_metric("alt_test_winning_rate", a.winning_rate, f"share of the humans the LLM beats (one-sided paired "
                     f"t-test at epsilon {a.epsilon:g}, Benjamini-Yekutieli at alpha {a.alpha:g})", n=k, group=GROUP)
        r.add_metric("alt_test_advantage_probability", a.advantage_probability, "mean over humans of the share of "
                     "their items where the LLM aligns with the other humans at least as well as they do", n=k,
                     group=GROUP)
        r.add_metric("alt_test_passed", int(a.passed), "1 when the winning rate is at least 0.5", n=k, group=GROUP)
        can = "can" if a.passed else "cannot"
        r.add_finding("info" if a.passed else "warning",
                      f"this LLM {can} replace these annotators at epsilon = {a.epsilon:g} (winning rate "
                      f"{a.winning_rate:.2f} {'>=' if a.passed else '<'} 0.5: it beats {int(a.won.sum())} of {k} "
                      f"humans; advantage probability {a.advantage_probability:.2f}; {a.metric})",
                      "alt_test_passed")
    if n_small or a.items_dropped:
        r.add_finding("info", f"Alt-Test: {n_small} human(s) with fewer than {o.min_items} usable items not tested; "
                      f"{a.items_dropped} item(s) with fewer than {o.min_humans} human labels or no LLM label left out")
    rows, names, la, ha = [], [], [], []
    order = np.argsort([-int(x) for x in a.n_items], kind="stable")
    for j in order:
        verdict = ("not tested (fewer than %d items)" % o.min_items if not a.tested[j] else
                   "LLM wins" if a.won[j] else "LLM does not win")
        rows.append([a.humans[j], int(a.n_items[j]), _num(a.llm_alignment[j]), _num(a.human_alignment[j]),
                     _num(a.advantage[j]), _num(a.p_value[j]), verdict])
        if a.tested[j]:
            names.append(a.humans[j]), la.append(_num(a.llm_alignment[j])), ha.append(_num(a.human_alignment[j]))
    r.add_table("alt_test_humans", ["human", "items", "LLM alignment with the others", "human alignment with the "
                "others", "advantage probability", "p-value", "verdict"], rows,
                f"Alternative Annotator Test, one row per left-out human ({a.metric}, epsilon {a.epsilon:g})")
    if names:
        r.add_figure("bar", f"Alignment with the other humans ({a.metric}): the LLM vs each left-out human",
                     categories=names, series={"LLM": la, "left-out human": ha}, y_label=a.metric)


def _num(v):
    v = float(v)
    return v if np.isfinite(v) else None


def _ppi(r: AuditResult, ann: Annotations, m: int, o: AnnotatorOptions) -> None:
    gi, gc = o.gold
    p = ppi_estimates(ann, m, gi, gc)
    r.params["gold_sample"] = {"items": p["n_gold"], "other_items": p["n_unlabelled"], "method": "ppi-python "
                               "(PPI++, power-tuned)"}
    if not p["shares"]:
        r.add_finding("warning", f"the gold sample has {p['n_gold']} usable item(s): no PPI estimate")
        return
    rows = []
    g = "prediction-powered inference"
    def name(cls):
        return label_text(cls) if cls is not None else f"(other: {p['folded']:,} labels)"
    for cls, est, lo, hi, nv, nlo, nhi in p["shares"]:
        t = name(cls)
        r.add_metric(f"ppi_share[{t}]", est, f"PPI share of label {t} (gold sample + LLM labels)", ci=(lo, hi),
                     n=p["n_gold"], group=g)
        r.add_metric(f"naive_llm_share[{t}]", nv, f"share of label {t} among the LLM's labels alone", ci=(nlo, nhi),
                     group=g)
        rows.append([t, est, lo, hi, nv, nlo, nhi])
    e = p.get("error")
    if e:
        r.add_metric("llm_error_rate_ppi", e[0], f"LLM error rate against the gold labels ({e[6]})", ci=(e[1], e[2]),
                     n=p["n_gold"], group=g)
        if e[3] is not None:
            r.add_metric("llm_error_rate_naive", e[3], "LLM disagreement with the human plurality label (no gold)",
                         ci=(e[4], e[5]), group=g)
        rows.append(["(LLM error rate)", e[0], e[1], e[2], e[3], e[4], e[5]])
    if p.get("untuned"):
        names = ", ".join(name(c) for c in p["untuned"])
        r.add_finding("info", f"PPI: the LLM's predictions never vary for {names}, so the power-tuned lambda is "
                      "undefined there; the untuned PPI estimate (lambda = 1) is given")
    folded = (f"; free text: shares of the {TOP_CLASSES} most frequent labels (those the gold sample or the "
              f"LLM uses) and one of the other {p['folded']:,}" if "folded" in p else "")
    r.add_table("ppi", ["label", "PPI estimate", "lo", "hi", "naive (LLM only)", "lo", "hi"], rows,
                f"Prediction-powered estimates from {p['n_gold']} gold items and {p['n_unlabelled']} other items, "
                f"95% intervals, beside the naive LLM-only figures{folded}")


def add_quality(r: AuditResult, ann: Annotations, o: AnnotatorOptions) -> None:
    """The annotator_quality table (one row per human and per LLM) into ``r``."""
    if not o.quality:
        return
    q = annotator_quality(ann, seed=o.seed)
    if "skipped" in q:
        r.params["annotator_quality"] = {"skipped": q["skipped"]}
        r.add_finding("info", f"annotator quality (Dawid-Skene, MACE) not fitted: {q['skipped']}")
        return
    r.add_table("annotator_quality", ["annotator", "kind", "items", "Dawid-Skene accuracy", "MACE competence",
                                      "agreement with the Dawid-Skene label"], q["rows"],
                "Annotator quality: crowd-kit Dawid-Skene and MACE with every human and every LLM as a worker")
    r.params["annotator_quality"] = {"models": "crowdkit DawidSkene(n_iter=100), MACE(n_restarts=1)",
                                     "workers": len(q["rows"])}
    shares = []
    for k, cls in enumerate(ann.classes):
        row = [label_text(cls)]
        for name in ("dawid_skene", "mace"):
            labs = q["labels"][name]
            row.append(sum(1 for v in labs.values() if v == cls) / max(1, len(labs)))
        shares.append(row)
    r.add_table("aggregated_label_shares", ["label", "Dawid-Skene share", "MACE share"], shares,
                "Class shares of the labels Dawid-Skene and MACE infer from every human and every LLM")
    sections = {s.params.get("model_name"): s for s in (r.sections or [r])}
    for m, name in enumerate(ann.llms):
        sec = sections.get(name, r if len(ann.llms) == 1 else None)
        if sec is None or len(ann.classes) > CONFUSION_MAX_CLASSES:
            continue
        rows = [[label_text(t), *p] for t, *p in confusion(ann, q["ds"], f"llm:{name}")]
        sec.add_table("ds_confusion", ["true label (Dawid-Skene)", *(f"P(LLM says {label_text(c)})"
                                                                    for c in ann.classes)], rows,
                      f"Dawid-Skene confusion matrix of {name}: each row a true label, the probability of each "
                      "label the LLM gives")


def annotator_sections(results: dict, ann: Annotations, o: AnnotatorOptions) -> list[AltTestResult]:
    """Add the per-LLM figures to ``results`` ({LLM name: its AuditResult}); returns the Alt-Test results."""
    pairs = human_agreement(ann, o.seed)
    out = []
    for m, name in enumerate(ann.llms):
        if name in results:
            out.append(add_llm_figures(results[name], ann, m, o, pairs))
    return out
