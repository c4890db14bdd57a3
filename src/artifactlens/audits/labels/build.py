"""Turn the merged check state, agreement, tests and the second-order run into one AuditResult
(calculation here, rendering in :mod:`artifactlens.report`).

Free text (thousands of "classes", :func:`.annotators.many_classes`: more distinct labels than
``max(50, 0.2 x items)``): the per-class figures (``human_share`` / ``llm_share`` / ``class_drift``
metrics, the ``class_shares`` table and its figures, the flip matrix) keep the :data:`TOP_CLASSES` most
frequent labels and sum the rest into one ``(other: N labels)`` row, recorded in
``params['class_folding']`` with a finding; every other figure (rates, entropies, agreement, chi-square)
still uses every label."""
from __future__ import annotations

import numpy as np

from ...contract import HIGHER_IS_WORSE as HIGHER, LOWER_IS_WORSE as LOWER, MetricSpec
from ...result import AuditResult
from .check import ENTROPY_EDGES, bin_names
from .detectors import FLAG_RULES
from .annotators import MANY_CLASSES_RULE, TOP_CLASSES, many_classes
from .items import label_text, sorted_keys
from .second_order import METRICS, VARIANTS


HEADLINE = ["minority_erasure_rate", "majority_match_rate", "llm_overconfident_rate", "entropy_drop_bits",
            "krippendorff_alpha_pooled", "second_order_accuracy_gap"]
_GROUPS = {"minority_erasure_rate": "minority erasure", "majority_match_rate": "majority collapse"}
# The lit metrics: their warn/bad marks declared once (rows of the audit's metric table, written to
# params['thresholds'], and asked for the level by the findings below).
LIGHTS = {s.name: s for s in (MetricSpec(name, worse=worse, warn=warn, bad=bad, group=_GROUPS.get(name),
                                         headline=name in _GROUPS) for name, worse, warn, bad in (
    ("minority_erasure_rate", HIGHER, 0.3, 0.5),
    ("majority_match_rate", LOWER, 0.8, 0.6),
    ("llm_overconfident_rate", HIGHER, 0.2, 0.4),
    ("entropy_drop_bits", HIGHER, 0.2, 0.5),
    ("krippendorff_alpha_pooled", LOWER, 0.667, 0.4),
    ("second_order_accuracy_gap", HIGHER, 0.02, 0.05),
    ("second_order_js_gap_soft", LOWER, -0.01, -0.03),
))}
RATES = [  # name, numerator, denominator, description, group
    ("human_unanimity_rate", "h_unan", "n", "share of items whose human labels are all equal", "unanimity"),
    ("llm_unanimity_rate", "l_unan", "n", "share of items whose LLM labels are all equal", "unanimity"),
    ("human_entropy_bits", "h_ent", "n", "mean entropy (bits) of an item's human labels", "diversity"),
    ("llm_entropy_bits", "l_ent", "n", "mean entropy (bits) of an item's LLM labels", "diversity"),
    ("majority_match_rate", "maj", "n", "share of items whose human and LLM majority sets share a label "
     "(undefined sets count as no match)", "majority and minority"),
    ("minority_match_rate", "min", "n", "share of items whose human and LLM minority sets share a label",
     "majority and minority"),
    ("minority_erasure_rate", "erase", "mdef", "among items with a human minority set, the share where no LLM "
     "label falls in it", "majority and minority"),
    ("llm_overconfident_rate", "over", "n", "share of items where the LLM is unanimous and humans are not",
     "majority and minority"),
    ("majority_mismatch_rate", "mismatch", "n", "share of items whose human and LLM majority sets are disjoint",
     "majority and minority"),
]


def build(state: dict, agree: dict | None, tests: dict, so: dict | None, params: dict, title: str) -> AuditResult:
    r = AuditResult(kind="labels", title=title, params=dict(params))
    r.params["thresholds"] = {name: spec.thresholds_entry() for name, spec in LIGHTS.items()}
    r.params["flag_rules"] = FLAG_RULES
    boot = state["boot"]
    n_used = state["used"]
    for name, num, den, desc, group in RATES:
        est, lo, hi = boot.ratio(num, den)
        r.add_metric(name, est, desc, ci=(lo, hi), n=int(boot.point().get(den, 0)), group=group)
    est, lo, hi = boot.interval(lambda s: (s.get("h_ent", 0.0) - s.get("l_ent", 0.0)) / s.get("n", 0.0))
    r.add_metric("entropy_drop_bits", est, "human minus LLM mean entropy (bits): how much label diversity the LLM "
                 "loses", ci=(lo, hi), n=n_used, group="diversity")
    _agreement_rate(r, state, boot)
    _undefined(r, state)
    shown, folded = shown_classes(state)
    if folded:
        _fold_note(r, state, shown, folded)
    _classes(r, state, boot, tests, shown, folded)
    _breakdowns(r, state, boot, params)
    if agree:
        _agreement(r, agree, boot, sorted_keys(state["labels"]))
    if folded:
        _flips_folded(r, state)
    else:
        _flips(r, state)
    _histograms(r, state)
    if so:
        _second_order(r, so)
    _examples(r, state)
    _findings(r, state)
    r.headline = [h for h in HEADLINE if h in r.metrics]
    return r


# metrics whose definition needs several labels per item on one side (issue: undefined is not zero)
NEEDS_SEVERAL = {
    "human": ("human_unanimity_rate", "human_entropy_bits", "majority_match_rate", "minority_match_rate",
              "minority_erasure_rate", "majority_mismatch_rate", "llm_overconfident_rate", "entropy_drop_bits"),
    "LLM": ("llm_unanimity_rate", "llm_entropy_bits", "majority_match_rate", "minority_match_rate",
            "minority_erasure_rate", "majority_mismatch_rate", "llm_overconfident_rate", "entropy_drop_bits"),
}


def single_sides(state) -> list[str]:
    """The sides ('human', 'LLM') on which every item has at most one label."""
    return [side for side, most in (("human", state["max_h"]), ("LLM", state["max_l"])) if most < 2]


def _undefined(r, state) -> None:
    """Metrics whose definition does not apply are None with the reason, never 0 (and so never lit)."""
    for side in single_sides(state):
        why = (f"undefined: every item has at most one {side} label, so its majority, minority and entropy "
               "are not defined")
        for name in NEEDS_SEVERAL[side]:
            if name in r.metrics:
                m = r.metrics[name]
                m.value, m.ci = None, None
                if "undefined:" not in m.description:
                    m.description = f"{m.description} ({why})"
                r.params.setdefault("undefined", {})[name] = why


def _agreement_rate(r, state, boot) -> None:
    """Plain agreement (and Cohen's kappa where both sides have one label per item): defined for any number
    of labels, the figures to read when a side has a single label."""
    est, lo, hi = boot.ratio("agree", "n")
    r.add_metric("label_agreement_rate", est, "mean over items of the share of agreeing (human label, LLM label) "
                 "pairs; with one label per side, the share of items where they agree", ci=(lo, hi),
                 n=int(boot.point().get("n", 0)), group="agreement")
    keys = sorted_keys(state["labels"])
    pts = boot.point()
    n1 = sum(v for k, v in pts.items() if k.startswith("k1|"))
    if n1 >= 2:
        k, klo, khi = boot.interval(lambda s: kappa_from_sums(s, keys, "k1"))
        r.add_metric("cohen_kappa", k, "Cohen's kappa between the human and the LLM label, over items with one "
                     "label on each side", ci=(klo, khi) if k == k else None, n=int(n1), group="agreement")


def shown_classes(state) -> tuple[list, list]:
    """(label keys given per-class figures, keys folded into '(other)'): every label in label order, or
    for free text (:func:`.annotators.many_classes` over the items used) the :data:`TOP_CLASSES` most
    frequent (human + LLM labels; ties in label order) and the rest."""
    keys = sorted_keys(state["labels"])
    if not many_classes(len(keys), state["used"]):
        return keys, []
    count = {k: state["h_counts"].get(k, 0) + state["l_counts"].get(k, 0) for k in keys}
    ranked = sorted(keys, key=lambda k: -count[k])  # stable: label order among equal counts
    return ranked[:TOP_CLASSES], ranked[TOP_CLASSES:]


def _fold_note(r, state, shown, folded) -> None:
    n, items = len(shown) + len(folded), state["used"]
    r.params["class_folding"] = {"classes": n, "items": items, "rule": f"free text: {MANY_CLASSES_RULE}",
                                 "shown": len(shown), "folded": len(folded), "order": "by count (human + LLM labels)",
                                 "where": ["human_share/llm_share/class_drift metrics", "class_shares",
                                           "flip_matrix (the most frequent majority labels)"]}
    r.add_finding("info", f"{n:,} distinct labels on {items:,} items (free text: {MANY_CLASSES_RULE}): class shares, "
                  f"drift and the flip matrix show the {len(shown)} most frequent labels and sum the other "
                  f"{len(folded):,} as '(other)'; every other figure uses every label")


def _other_name(n: int) -> str:
    return f"(other: {n:,} labels)"


def _classes(r, state, boot, tests, keys, folded=()):
    labels = state["labels"]
    rows, cats, hs, ls, he, le = [], [], [], [], [], []
    names, est, los, his = [], [], [], []
    for k in keys:
        t = label_text(labels[k])
        h = boot.interval(lambda s, k=k: s.get(f"h|{k}", 0.0) / s["n"])
        l = boot.interval(lambda s, k=k: s.get(f"l|{k}", 0.0) / s["n"])
        d = boot.interval(lambda s, k=k: (s.get(f"l|{k}", 0.0) - s.get(f"h|{k}", 0.0)) / s["n"])
        r.add_metric(f"human_share[{t}]", h[0], f"mean share of label {t} among an item's human labels",
                     ci=h[1:], group="class drift")
        r.add_metric(f"llm_share[{t}]", l[0], f"mean share of label {t} among an item's LLM labels",
                     ci=l[1:], group="class drift")
        r.add_metric(f"class_drift[{t}]", d[0], f"LLM minus human share of label {t}", ci=d[1:], group="class drift")
        rows.append([t, h[0], h[1], h[2], l[0], l[1], l[2], d[0], d[1], d[2],
                     state["h_counts"].get(k, 0), state["l_counts"].get(k, 0)])
        cats.append(t), hs.append(h[0]), ls.append(l[0]), he.append(list(h[1:])), le.append(list(l[1:]))
        names.append(t), est.append(d[0]), los.append(d[1]), his.append(d[2])
    if folded:
        hn, ln = [f"h|{k}" for k in folded], [f"l|{k}" for k in folded]
        zero = np.float64(0.0)

        def tot(s, names):
            return sum((s.get(x, zero) for x in names), zero)
        h = boot.interval(lambda s: tot(s, hn) / s["n"])
        l = boot.interval(lambda s: tot(s, ln) / s["n"])
        d = boot.interval(lambda s: (tot(s, ln) - tot(s, hn)) / s["n"])
        t = _other_name(len(folded))
        rows.append([t, h[0], h[1], h[2], l[0], l[1], l[2], d[0], d[1], d[2],
                     sum(state["h_counts"].get(k, 0) for k in folded), sum(state["l_counts"].get(k, 0) for k in folded)])
        cats.append(t), hs.append(h[0]), ls.append(l[0]), he.append(list(h[1:])), le.append(list(l[1:]))
        names.append(t), est.append(d[0]), los.append(d[1]), his.append(d[2])
    r.add_table("class_shares", ["label", "human share", "lo", "hi", "LLM share", "lo", "hi", "drift (LLM - human)",
                                 "lo", "hi", "human labels", "LLM labels"], rows,
                "Class shares (mean over items of each label's share) and drift, 95% bootstrap intervals by item")
    r.add_figure("bar", "Class shares: human vs LLM labels", categories=cats, series={"human": hs, "LLM": ls},
                 errors={"human": he, "LLM": le}, y_label="mean share")
    r.add_figure("forest", "Class drift (LLM share - human share), 95% intervals", labels=names, estimates=est,
                 lo=los, hi=his, ref=0.0, x_label="drift")
    desc = "pooled human vs LLM label counts (labels of one item are not independent: p optimistic)"
    r.add_metric("class_chi2", tests["chi2"], f"chi-square statistic, {desc}", group="class drift")
    r.add_metric("class_chi2_p", tests["chi2_p"], f"chi-square p-value (dof {tests['dof']})", group="class drift")
    r.add_metric("class_g", tests["g"], f"G-test (log-likelihood ratio) statistic, {desc}", group="class drift")
    r.add_metric("class_g_p", tests["g_p"], f"G-test p-value (dof {tests['dof']})", group="class drift")


def _breakdown_rows(sums):
    """Majority match, minority match, minority erasure, overconfidence (estimate, lo, hi) of one stratum."""
    return [sums.ratio(num, den) for num, den in (("maj", "n"), ("min", "n"), ("erase", "mdef"), ("over", "n"))]


def _breakdowns(r, state, boot, params):
    cols = ["items", "items with a human minority", "majority match", "lo", "hi", "minority match", "lo", "hi",
            "minority erasure", "lo", "hi", "LLM overconfident", "lo", "hi"]
    rows, cats, series, errors = [], [], {"majority match": [], "minority match": [], "minority erasure": []}, {}
    for j, name in enumerate(bin_names(params["subjectivity_bins"])):
        sums = state["by_bin"].get(j)
        n = sums.point().get("n", 0)
        if not n:
            continue
        vals = _breakdown_rows(sums)
        rows.append([name, int(n), int(sums.point().get("mdef", 0))] + [x for v in vals for x in v])
        cats.append(name)
        for s, v in zip(series, vals[:3]):
            series[s].append(v[0])
            errors.setdefault(s, []).append([v[1], v[2]])
    r.add_table("by_subjectivity", ["human entropy bin"] + cols, rows,
                "Match and erasure by subjectivity (items binned by human label entropy)")
    r.add_figure("bar", "Majority match, minority match and minority erasure by subjectivity", categories=cats,
                 series=series, errors=errors, y_label="rate", y_max=1.0)
    by_domain = state["by_domain"]
    if by_domain.strata():
        drows = []
        for d in by_domain.strata():
            vals, dp = _breakdown_rows(by_domain[d]), by_domain[d].point()
            n = dp.get("n", 0)
            hu = dp.get("h_unan", 0) / n if n else float("nan")
            lu = dp.get("l_unan", 0) / n if n else float("nan")
            drows.append([d, int(n), int(dp.get("mdef", 0))] + [x for v in vals for x in v] + [hu, lu])
        r.add_table("by_domain", ["domain"] + cols + ["human unanimity", "LLM unanimity"], drows,
                    "Match and erasure by domain")
        r.add_figure("bar", "Minority erasure and majority match by domain", categories=[x[0] for x in drows],
                     series={"majority match": [x[3] for x in drows], "minority erasure": [x[9] for x in drows]},
                     errors={"majority match": [[x[4], x[5]] for x in drows],
                             "minority erasure": [[x[10], x[11]] for x in drows]}, y_label="rate", y_max=1.0)


def _cells(s, keys, prefix: str) -> dict:
    """``{(i, j): sum}`` of the confusion cells ``<prefix>|<keys[i]>|<keys[j]>`` present in ``s`` (the matrix
    is sparse: free-text labels have thousands of classes, and most pairs never occur)."""
    index = {k: i for i, k in enumerate(keys)}
    out = {}
    for name, v in s.items():
        if not name.startswith(prefix + "|"):
            continue
        rest = name[len(prefix) + 1:]
        for cut in (i for i, ch in enumerate(rest) if ch == "|"):  # a label may itself hold a "|"
            a, b = rest[:cut], rest[cut + 1:]
            if a in index and b in index:
                out[(index[a], index[b])] = v
                break
    return out


def kappa_from_sums(s, keys, prefix: str = "k"):
    """Cohen's kappa from (weighted) confusion cells ``k|<human>|<llm>`` (floats or per-replicate arrays).
    Sums run over the cells present, in ``keys`` order (a missing cell adds an exact 0)."""
    cells = _cells(s, keys, prefix)
    rows, cols = {}, {}
    for (i, j) in sorted(cells):
        rows[i] = rows.get(i, np.float64(0.0)) + cells[(i, j)]
    for (i, j) in sorted(cells, key=lambda ij: (ij[1], ij[0])):
        cols[j] = cols.get(j, np.float64(0.0)) + cells[(i, j)]
    n = sum((rows[i] for i in sorted(rows)), np.float64(0.0))
    po = sum((cells[(i, i)] for i in range(len(keys)) if (i, i) in cells), np.float64(0.0)) / n
    pe = sum((rows[i] * cols[i] for i in sorted(rows) if i in cols), np.float64(0.0)) / (n * n)
    return (po - pe) / (1 - pe)


def _agreement(r, a, boot, keys):
    g = "agreement"
    _, klo, khi = boot.interval(lambda s: kappa_from_sums(s, keys))
    r.add_metric("krippendorff_alpha_human", a["krippendorff_alpha_human"],
                 f"Krippendorff's alpha ({a['level']}) among the human annotators", n=a["alpha_n"]["human"], group=g)
    r.add_metric("krippendorff_alpha_llm", a["krippendorff_alpha_llm"],
                 f"Krippendorff's alpha ({a['level']}) among the LLM samples", n=a["alpha_n"]["llm"], group=g)
    r.add_metric("krippendorff_alpha_pooled", a["krippendorff_alpha_pooled"],
                 f"Krippendorff's alpha ({a['level']}) of the humans plus the LLM (its one label, else its majority "
                 "label) as one more annotator", n=a["alpha_n"]["pooled"], group=g)
    r.add_metric("cohen_kappa_majority", a["cohen_kappa_majority"], "Cohen's kappa between the human and the LLM "
                 "item labels (a side's one label, else its single majority label; items where both sides have "
                 "one)", n=a["kappa_n"], group=g,
                 ci=(klo, khi) if a["cohen_kappa_majority"] == a["cohen_kappa_majority"] else None)


def _flips(r, state):
    labels = state["labels"]
    keys = sorted_keys(labels)
    rows_k = keys + [None] if any(h is None for h, _ in state["flips"]) else keys
    cols_k = keys + [None] if any(l is None for _, l in state["flips"]) else keys
    show = lambda k: "(no single majority)" if k is None else label_text(labels[k])  # noqa: E731
    values = [[state["flips"].get((h, l), 0) for l in cols_k] for h in rows_k]
    r.add_table("flip_matrix", ["human majority \\ LLM majority"] + [show(k) for k in cols_k],
                [[show(h)] + v for h, v in zip(rows_k, values)], "Flip matrix: items by human and LLM majority label")
    r.add_figure("heatmap", "Flip matrix (items): human majority label → LLM majority label",
                 rows=[show(k) for k in rows_k], cols=[show(k) for k in cols_k], values=values,
                 x_label="LLM majority", y_label="human majority")


def _flips_folded(r, state):
    """The flip matrix of free-text labels: the :data:`TOP_CLASSES` most frequent majority labels of each
    side (by items), the others summed into '(other)'."""
    labels, flips = state["labels"], state["flips"]
    order = {k: i for i, k in enumerate(sorted_keys(labels))}
    other = ("other",)  # a key no label has

    def top(side):
        tot: dict = {}
        for pair, n in flips.items():
            if pair[side] is not None:
                tot[pair[side]] = tot.get(pair[side], 0) + n
        ranked = sorted(tot, key=lambda k: (-tot[k], order[k]))
        return ranked[:TOP_CLASSES], len(ranked) - TOP_CLASSES
    (rk, r_more), (ck, c_more) = top(0), top(1)
    rset, cset = set(rk), set(ck)
    cells: dict = {}
    for (h, l), n in flips.items():
        key = (h if h is None or h in rset else other, l if l is None or l in cset else other)
        cells[key] = cells.get(key, 0) + n
    rows_k = rk + ([other] if r_more > 0 else []) + ([None] if any(h is None for h, _ in flips) else [])
    cols_k = ck + ([other] if c_more > 0 else []) + ([None] if any(l is None for _, l in flips) else [])

    def show(k, more):
        return "(no single majority)" if k is None else _other_name(more) if k == other else label_text(labels[k])
    values = [[cells.get((h, l), 0) for l in cols_k] for h in rows_k]
    rn, cn = [show(k, r_more) for k in rows_k], [show(k, c_more) for k in cols_k]
    r.add_table("flip_matrix", ["human majority \\ LLM majority"] + cn, [[a] + v for a, v in zip(rn, values)],
                f"Flip matrix: items by human and LLM majority label (the {TOP_CLASSES} most frequent of each side, "
                "the others summed)")
    r.add_figure("heatmap", "Flip matrix (items): human majority label → LLM majority label", rows=rn, cols=cn,
                 values=values, x_label="LLM majority", y_label="human majority")


def _histograms(r, state):
    hh, hl = state["hist_h"], state["hist_l"]
    last = int(max(np.flatnonzero(hh + hl).max(initial=0) + 1, 2))
    edges = list(ENTROPY_EDGES[: last + 1]) if last < len(ENTROPY_EDGES) else list(ENTROPY_EDGES) + [ENTROPY_EDGES[-1] + 0.25]
    r.add_figure("histogram", "Entropy of an item's labels (bits): humans vs LLM", edges=edges,
                 series={"human": hh[:last].tolist(), "LLM": hl[:last].tolist()}, y_label="share of items")


def _second_order(r, so):
    if "summary" not in so:
        r.params["second_order"] = {"skipped": so.get("skipped"), "n_items": so.get("n_items")}
        return
    g = "second order"
    labels, est, los, his = [], [], [], []
    rows = []
    for v in VARIANTS:
        suf = "" if v == "hard" else "_soft"
        for m in METRICS:
            for src in ("human", "llm", "gap"):
                e, lo, hi = so["summary"][(v, src, m)]
                what = {"accuracy": "accuracy", "macro_f1": "macro-F1",
                        "js": "mean JS divergence (bits) from the human label distribution"}[m]
                desc = (f"{what} on held-out human labels, trained on {src} labels ({v})" if src != "gap" else
                        f"{what}: human-trained minus LLM-trained ({v} labels), 95% corrected t interval over splits")
                r.add_metric(f"second_order_{m}_{src}{suf}", e, desc, ci=(lo, hi),
                             n=so["n_eval"] if m != "js" else so["n_test"], group=g)
                rows.append([v, m, src, e, lo, hi])
            e, lo, hi = so["summary"][(v, "gap", m)]
            labels.append(f"{m} ({v})"), est.append(e), los.append(lo), his.append(hi)
    r.add_table("second_order", ["variant", "metric", "trained on", "mean over splits", "lo", "hi"], rows,
                f"Second order: {so['features']} + logistic regression, {so['seeds']} splits by item, "
                f"{so['n_train']} train / {so['n_test']} held-out items")
    r.add_figure("forest", "Second-order gap: human-trained minus LLM-trained (held-out human labels)",
                 labels=labels, estimates=est, lo=los, hi=his, ref=0.0, x_label="gap (JS: lower is better)")
    r.params["second_order"] = {"features": so["features"], "seeds": so["seeds"], "n_items": so["n_items"],
                                "n_train": so["n_train"], "n_test": so["n_test"]}


def _examples(r, state):
    for _tell, row, iid, text, h, l, flags, reasons in state["examples"][:10]:
        r.examples.append({"row": row, "title": f"item {iid}: {', '.join(flags)}",
                           "fields": {"text": text, "human labels": h, "LLM labels": l}, "reasons": reasons})


def _findings(r, state):
    m = r.metrics
    for side in single_sides(state):
        a = m.get("label_agreement_rate")
        instead = f"; plain agreement is {a.value:.2f}" if a and a.value is not None else ""
        r.add_finding("warning", f"every item has at most one {side} label: majority and minority match, minority "
                      "erasure, overconfidence and entropy drop are undefined and reported as absent (null), not 0"
                      f"{instead} (label_agreement_rate, cohen_kappa); give several labels per item for the rest",
                      "label_agreement_rate")
    e = m.get("minority_erasure_rate")
    if e and LIGHTS["minority_erasure_rate"].severity(e.value):
        r.add_finding(LIGHTS["minority_erasure_rate"].severity(e.value), f"the LLM erases the human minority label on {e.value:.0%} of the items that have one",
                      "minority_erasure_rate", [x["row"] for x in r.examples])
    d = m.get("entropy_drop_bits")
    if d and d.value is not None and d.ci and d.ci[0] > 0 and state["max_l"] >= 2:
        # below its warn mark a real drop is info: the light is green
        r.add_finding(LIGHTS["entropy_drop_bits"].severity(d.value) or "info",
                      f"LLM labels are less diverse than human labels: entropy drops by {d.value:.2f} bits per item",
                      "entropy_drop_bits")
    drifts = [(k, x) for k, x in m.items() if k.startswith("class_drift[") and x.ci and (x.ci[0] > 0 or x.ci[1] < 0)]
    for k, x in drifts:
        r.add_finding("info", f"{k[12:-1]}: LLM share differs from the human share by {x.value:+.3f}", k)
    gap = m.get("second_order_accuracy_gap")
    if gap and gap.value is not None and gap.ci and gap.ci[0] > 0:
        r.add_finding("warning", f"a classifier trained on LLM labels is {gap.value:.3f} less accurate on held-out "
                      "human labels", "second_order_accuracy_gap")
