"""Rendering: the merged check state -> metrics with 95 % intervals, findings, tables, figures, examples."""
from __future__ import annotations

import math

import numpy as np

from ...contract import HIGHER_IS_WORSE, MetricSpec
from ...result import AuditResult
from .detectors import ERROR_TYPES, FAMILY_TITLES as TYPE_TITLES

# The lit metrics: their warn/bad marks declared once (rows of the audit's metric table, written to
# params['thresholds'], and asked for the level by the findings below).
LIGHTS = {s.name: s for s in (
    MetricSpec("error_rate", worse=HIGHER_IS_WORSE, warn=0.10, bad=0.25),
    MetricSpec("duplicate_rate", worse=HIGHER_IS_WORSE, warn=0.05, bad=0.2),
    MetricSpec("not_following_rate", worse=HIGHER_IS_WORSE, warn=0.10, bad=0.25),
    MetricSpec("error_rate_checked", worse=HIGHER_IS_WORSE, warn=0.10, bad=0.25),
)}


def _rate(acc, key):
    est, lo, hi = acc.ratio(key, "n")
    return est, (lo, hi)


def build_result(r: AuditResult, state: dict, detectors) -> AuditResult:
    acc = state["acc"]
    n = int(acc.point().get("n", 0))
    est, ci = _rate(acc, "error")
    r.add_metric("error_rate", est, "share of rows with any error flag (the four error types)", ci, n, "errors")
    for t in ERROR_TYPES:
        e, c = _rate(acc, t)
        r.add_metric(f"{t}_rate", e, f"share of rows with a {TYPE_TITLES[t]} flag", c, n, "error types")
    names = [d.name for d in detectors]
    for d in detectors:
        e, c = _rate(acc, d.name)
        key = "duplicate_rate" if d.name == "duplicate" else f"{d.name}_rate"
        r.add_metric(key, e, d.description, c, n, "duplicates" if d.name == "duplicate" else "flags")
    for (group, level), sub in state["by"].items():
        e, c = _rate(sub, "error")
        r.add_metric(f"error_rate[{group}={level}]", e, f"error rate where {group} is {level}", c,
                     int(sub.point().get("n", 0)), f"per {group}")
    _diversity(r, state, n)
    r.headline = ["error_rate", *[f"{t}_rate" for t in ERROR_TYPES], "duplicate_rate"]
    _tables_and_figures(r, state, names)
    _findings(r, names)
    _examples(r, state, detectors)
    return r


def add_checked(r: AuditResult, state: dict, checked: dict | None, detectors) -> None:
    """With a checked sample: the PPI error rate and each detector's precision/recall on the checked
    rows; without one: say that the rates are flag rates and how many rows a check needs."""
    from .checked import ppi_error_rate, precision_recall, rows_to_check
    n = int(state["acc"].point().get("n", 0))
    flag_rate = r.metrics["error_rate"].value or 0.0
    if not checked:
        r.add_finding("info", f"these rates are flag rates, not error rates: a flag is not a verified error. Check "
                              f"{rows_to_check(flag_rate, 0.10)} rows by hand for a +-0.05 interval of the error rate "
                              f"(`artifactlens sample instructions RESULT --n N -o to_check.csv`, then --checked)",
                      "error_rate")
        r.add_table("rows_to_check", ["interval width", "rows to check"],
                    [[w, rows_to_check(flag_rate, w)] for w in (0.2, 0.1, 0.05, 0.02)],
                    "Rows to check by hand for a 95 % error-rate interval of a given width (binomial; PPI needs no more)")
        return
    seen = state.get("checked", {})
    missing = sorted(set(checked) - set(seen))
    if missing:
        r.input.skip("checked row not in the input", len(missing))
    rows = sorted(set(checked) & set(seen))
    if not rows:
        r.add_finding("critical", "no checked row is an input row: the error rate is not estimated", "error_rate")
        return
    y = np.array([checked[i][0] for i in rows])
    pred = np.array([seen[i]["error"] for i in rows])
    est = ppi_error_rate(y, pred, n, int(round(state["acc"].point().get("error", 0))),
                         weights=np.array([checked[i][2] for i in rows]))
    r.add_metric("error_rate_checked", est["estimate"], "dataset error rate from the checked sample and the flags "
                 f"(prediction-powered inference, ppi-python; {len(rows)} rows checked)", est["ci"], n, "errors")
    r.params["checked"] = {**est, "rows_missing": len(missing)}
    table = []
    for name in [d.name for d in detectors] + ["error"]:
        p = np.array([seen[i].get(name, False) for i in rows])
        prec, rec = precision_recall(y, p)
        table.append([name, int(p.sum()), prec, rec])
    r.add_table("checked_precision_recall", ["detector", "flagged among checked", "precision", "recall"], table,
                f"Each detector on the {len(rows)} checked rows ({int(y.sum())} wrong)")


def _diversity(r, state, n):
    verbs, templates = state["verbs"], state["templates"]
    top = verbs.most_common(15)
    r.add_metric("distinct_verbs", len(verbs), "distinct first words of the instructions (diversity)", n=n, group="diversity")
    tot = sum(verbs.values()) or 1
    ent = -sum(c / tot * math.log2(c / tot) for c in verbs.values() if c)
    r.add_metric("verb_entropy_bits", ent, "entropy of the instructions' first word (bits; higher = more diverse)",
                 n=n, group="diversity")
    share = sum(c for _, c in templates.most_common(10)) / max(n, 1)
    r.add_metric("top10_template_share", share, "share of rows whose first four words are one of the 10 commonest",
                 n=n, group="diversity")
    r.add_table("top_verbs", ["verb", "rows", "share"], [[v, c, c / max(n, 1)] for v, c in top],
                "Commonest instruction verbs (first word)")
    r.add_table("top_templates", ["template (first four words)", "rows", "share"],
                [[t, c, c / max(n, 1)] for t, c in templates.most_common(15)], "Commonest instruction templates")


def _tables_and_figures(r, state, names):
    flags = [k for k in names]
    m = r.metrics
    ci = lambda k: list(m[k].ci) if m[k].ci else [m[k].value, m[k].value]
    keyof = lambda k: "duplicate_rate" if k == "duplicate" else f"{k}_rate"
    r.add_figure("bar", "Flag rates (95 % interval)", categories=flags,
                 series={"rate": [m[keyof(k)].value for k in flags]}, errors={"rate": [ci(keyof(k)) for k in flags]})
    r.add_figure("bar", "Error types of 'Under the Surface' (95 % interval)", categories=[TYPE_TITLES[t] for t in ERROR_TYPES],
                 series={"rate": [m[f"{t}_rate"].value for t in ERROR_TYPES]},
                 errors={"rate": [ci(f"{t}_rate") for t in ERROR_TYPES]})
    for group in ("source", "qa_type"):
        rows = []
        for (g, level), sub in state["by"].items():
            if g != group:
                continue
            nn = int(sub.point().get("n", 0))
            e, lo, hi = sub.ratio("error", "n")
            rows.append([level, nn, e, lo, hi, *[sub.ratio(t, "n")[0] for t in ERROR_TYPES],
                         sub.ratio("duplicate", "n")[0] if "duplicate" in sub.point() else None])
        r.add_table(f"per_{group}", [group, "rows", "error_rate", "ci_low", "ci_high",
                                     *[TYPE_TITLES[t] for t in ERROR_TYPES], "duplicate_rate"], rows,
                    f"Error rates per {group.replace('qa_type', 'open/closed question tag')}")
        if group == "source" and len(rows) > 1:
            r.add_figure("forest", "Error rate per source", labels=[x[0] for x in rows], estimates=[x[2] for x in rows],
                         lo=[x[3] for x in rows], hi=[x[4] for x in rows], ref=m["error_rate"].value)


def _findings(r, names):
    m = r.metrics
    er = m["error_rate"].value or 0.0
    sev = LIGHTS["error_rate"].severity(er) or "info"
    worst = sorted(ERROR_TYPES, key=lambda t: -(m[f"{t}_rate"].value or 0))[0]
    r.add_finding(sev, f"{er:.1%} of rows carry an error flag; the commonest type is {TYPE_TITLES[worst]} "
                       f"({m[f'{worst}_rate'].value:.1%})", "error_rate")
    top = sorted((k for k in names if k != "duplicate"), key=lambda k: -(m[f"{k}_rate"].value or 0))[:3]
    if top and (m[f"{top[0]}_rate"].value or 0) > 0:
        r.add_finding("info", "most frequent flags: " + ", ".join(f"{k} {m[f'{k}_rate'].value:.1%}" for k in top))
    dr = m["duplicate_rate"].value or 0
    if LIGHTS["duplicate_rate"].severity(dr):
        r.add_finding(LIGHTS["duplicate_rate"].severity(dr), f"{dr:.1%} of rows repeat an earlier task",
                      "duplicate_rate")


def _examples(r, state, detectors):
    for d in detectors:
        for ex in state["examples"].get(d.name, [])[:2]:
            r.examples.append({"row": ex["row"], "title": f"{d.name} ({d.family})",
                               "fields": {k: ex[k] for k in ("instruction", "input", "output", "source") if ex[k]},
                               "reasons": [s for s in ex["reasons"].split("; ") if s]})
