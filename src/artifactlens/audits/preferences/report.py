"""Turn the computed figures into the AuditResult: metrics with intervals, findings, tables, figure specs
(confusion heatmap, bias bars judge beside human, locality curves by decile, reward gap) and examples."""
from __future__ import annotations

from ...result import AuditResult
from . import load, metrics
from .locality import CUE_LABELS

THRESHOLDS = {
    "judge_human_agreement": {"warn": 0.7, "bad": 0.5, "higher_is_worse": False},
    "cohen_kappa": {"warn": 0.4, "bad": 0.0, "higher_is_worse": False},
    "position_inconsistency_rate": {"warn": 0.1, "bad": 0.25, "higher_is_worse": True},
    "judge_invalid_rate": {"warn": 0.01, "bad": 0.05, "higher_is_worse": True},
    "reward_model_gap": {"warn": 0.02, "bad": 0.05, "higher_is_worse": True},
}
HEADLINE = ["judge_human_agreement", "cohen_kappa", "position_inconsistency_rate", "judge_first_pick_rate",
            "judge_prefers_longer_rate", "self_preference_gap", "reward_model_gap"]
BIAS_BARS = [("first pick", "judge_first_pick_rate", "human_first_pick_rate"),
             ("prefers longer", "judge_prefers_longer_rate", "human_prefers_longer_rate"),
             ("self-preference win", "self_preference_judge_win_rate", "self_preference_human_win_rate"),
             ("tie", "judge_tie_rate", "human_tie_rate")]
CURVE_CUES = ("sentiment_vader", "rouge_l", "minilm_cosine", "entailment")


def _ci(t):
    return None if t[1] is None else (t[1], t[2])


def _fmt(t) -> str:
    return f"{t[0]:.3f}" + (f" [{t[1]:.3f}, {t[2]:.3f}]" if t[1] is not None else "")


def build_result(pref_state, loc, rm, rows, info, params, rankings=(None, None), flags=None,
                 engine_rows=0) -> AuditResult:
    r = AuditResult(kind="preferences", title="Preferences: LLM judge against people", params=params, input=info)
    params["thresholds"] = THRESHOLDS
    acc = pref_state["acc"]
    pt = acc.point()
    info.rows_read = info.rows_read or engine_rows
    for who, key in (("judge", "j_invalid"), ("human", "h_invalid")):
        if pt.get(key):
            info.skip(f"{who} choice outside the coding or empty (left out of {who} figures)", int(pt[key]))
    info.rows_used = int(pt.get("both") or max(pt.get("j_valid", 0), pt.get("h_valid", 0)))
    m = metrics.rate_metrics(acc)
    desc = {k: d for k, (_, _, d) in metrics.RATES.items()} | {k: d for k, (_, _, d) in metrics.GAPS.items()}
    desc["cohen_kappa"] = "Cohen's kappa, judge vs human, 3 classes (a/b/tie)"
    for name, t in m.items():
        grp = "agreement" if "agree" in name or "kappa" in name else "bias"
        r.add_metric(name, t[0], desc[name], ci=_ci(t), n=t[3], group=grp)
    _findings_first_order(r, m)
    _rankings(r, *rankings)
    if "cohen_kappa" in m:
        cm = metrics.confusion(acc)
        r.add_table("confusion", ["judge \\ human", *metrics.CLASSES], [[j, *row] for j, row in zip(metrics.CLASSES, cm)],
                    "Confusion matrix: judge (rows) against human (columns)")
        r.add_figure("heatmap", "Judge against human choices (pairs)", rows=[f"judge {c}" for c in metrics.CLASSES],
                     cols=[f"human {c}" for c in metrics.CLASSES], values=cm, x_label="human", y_label="judge")
    bars = [(lab, m.get(j), m.get(h)) for lab, j, h in BIAS_BARS if j in m or h in m]
    if bars:
        r.add_figure("bar", "Biases: judge beside human (95% intervals)", categories=[b[0] for b in bars],
                     series={"judge": [b[1][0] if b[1] else None for b in bars],
                             "human": [b[2][0] if b[2] else None for b in bars]},
                     errors={"judge": [list(_ci(b[1]) or [None, None]) if b[1] else None for b in bars],
                             "human": [list(_ci(b[2]) or [None, None]) if b[2] else None for b in bars]},
                     y_label="rate", y_max=1.0)
    _locality(r, loc)
    _reward(r, rm)
    _examples(r, pref_state["disagree"], rows)
    r.headline = [h for h in HEADLINE if h in r.metrics]
    if flags:
        r.flags = {"path": str(flags), "rows": engine_rows,
                   "columns": ["judge_choice", "human_choice", "judge_human_disagree", "position_inconsistent",
                               "words_a", "words_b", "cue_*"],
                   "counts": {"judge_human_disagree": int(pt.get("both", 0) - pt.get("agree", 0)),
                              "position_inconsistent": int(pt.get("pi", 0))}}
    return r


def _findings_first_order(r, m) -> None:
    k = m.get("cohen_kappa")
    if k and k[2] is not None and k[2] < 0:
        r.add_finding("critical", f"Judge and human agree less than chance (kappa {_fmt(k)}): the two label sets "
                      "probably use opposite codings (check --codes, e.g. which of 0/1 means the first response).",
                      "cohen_kappa")
    fp = m.get("judge_first_pick_rate")
    if fp and fp[1] is not None and not fp[1] <= 0.5 <= fp[2]:
        side = "first" if fp[0] > 0.5 else "second"
        gap = m.get("first_pick_gap")
        vs = f"; people {_fmt(m['human_first_pick_rate'])}" if gap else ""
        r.add_finding("warning", f"Position bias: the judge picks the response shown first in {_fmt(fp)} of its "
                      f"non-tie choices (favours the {side}; 0.5 = no bias{vs}).", "judge_first_pick_rate")
    pi = m.get("position_inconsistency_rate")
    if pi and pi[0] > THRESHOLDS["position_inconsistency_rate"]["warn"]:
        r.add_finding("warning", f"The judge changes its choice when the order is swapped in {_fmt(pi)} of pairs.",
                      "position_inconsistency_rate")
    for name, what in (("prefers_longer_gap", "the longer response"), ("self_preference_gap", "its own model's responses")):
        g = m.get(name)
        if g and g[1] is not None and g[1] > 0:
            r.add_finding("warning", f"The judge favours {what} more than people do (judge minus human {_fmt(g)}).", name)
    lg = m.get("judge_prefers_longer_rate")
    if lg and "prefers_longer_gap" not in m and lg[1] is not None and lg[1] > 0.5:
        r.add_finding("warning", f"Verbosity bias: the judge picks the longer response in {_fmt(lg)} of choices.",
                      "judge_prefers_longer_rate")
    for who in ("judge", "human"):
        inv = m.get(f"{who}_invalid_rate")
        if inv and inv[0] > 0:
            r.add_finding("info", f"{inv[0]:.1%} of {who} choices are outside the coding or empty; they are left "
                          "out of the rates (input.rows_skipped).", f"{who}_invalid_rate")


def _rankings(r, rj, rh) -> None:
    if rj is None or not rj.evaluator:
        return
    first, alone, total = load.self_first(rj, rj.evaluator)
    r.add_metric("judge_ranks_self_first_count", first, f"prompts where the judge ({rj.evaluator}) ranks its own "
                 "output first (alone or tied)", n=total, group="self-preference")
    r.add_metric("judge_ranks_self_first_alone_count", alone, "the same, first alone", n=total, group="self-preference")
    if rh is not None:
        hf, _, ht = load.self_first(rh, rj.evaluator)
        r.add_metric("human_ranks_judge_model_first_count", hf, f"prompts where people rank {rj.evaluator}'s output "
                     "first (alone or tied)", n=ht, group="self-preference")


def _locality(r, loc) -> None:
    if not loc:
        return
    rows, cats, sj, sh, ej, eh = [], [], [], [], [], []
    for cue, res in loc.items():
        for who in ("judge", "human"):
            if who not in res:
                continue
            t = res[who]["agreement"]
            r.add_metric(f"locality_{cue}_{who}", t[0], f"{who} picks the response with the larger {CUE_LABELS.get(cue, cue)}"
                         " (non-tie choices, gap not 0; orientation-free)", ci=_ci(t), n=t[3], group="locality")
            rows.append([cue, who, t[0], t[1], t[2], t[3], *res[who]["r"]])
        cats.append(CUE_LABELS.get(cue, cue))
        for who, s, e in (("judge", sj, ej), ("human", sh, eh)):
            t = res.get(who, {}).get("agreement")
            s.append(None if t is None else t[0])
            e.append(None if t is None else [t[1], t[2]])
    r.add_table("locality", ["cue", "who", "agrees_with_cue", "lo", "hi", "n", "r_listed", "r_swapped",
                             "r_both_orientations"], rows,
                "Locality: agreement with the cue-preferred response; Pearson r of 0/1/2 codes with the A-B gap")
    r.add_figure("bar", "Locality: share of choices that follow the cue (0.5 = none)", categories=cats,
                 series={"judge": sj, "human": sh}, errors={"judge": ej, "human": eh}, y_max=1.0)
    for cue in [c for c in loc if c in CURVE_CUES or c.startswith("lexicon")]:
        res = loc[cue]
        series, bands = {}, {}
        for who in ("judge", "human"):
            if who in res:
                series[who] = [t[0] for t in res[who]["by_decile"]]
                bands[who] = [[t[1], t[2]] for t in res[who]["by_decile"]]
        if series:
            r.add_figure("line", f"Locality by decile of |gap|: {CUE_LABELS.get(cue, cue)}",
                         x=list(range(1, len(next(iter(series.values()))) + 1)), series=series, bands=bands,
                         x_label="decile of |A-B gap|", y_label="follows the cue", y_min=0.0, y_max=1.0)


def _reward(r, rm) -> None:
    if rm is None:
        return
    for key, desc in (("acc_judge_trained", "trained on judge labels"), ("acc_human_trained", "trained on human labels")):
        t = rm[key]
        r.add_metric(f"reward_model_{key}", t[0], f"held-out accuracy against human choices, reward model {desc}",
                     ci=_ci(t), n=rm["n_test"], group="reward model")
    g = rm["gap"]
    r.add_metric("reward_model_gap", g[0], "human-trained minus judge-trained accuracy on held-out human choices",
                 ci=_ci(g), n=rm["n_test"], group="reward model")
    r.add_table("reward_model_seeds", ["seed", "acc_judge_trained", "acc_human_trained", "n_train", "n_test"],
                [[s["seed"], s["acc_judge_trained"], s["acc_human_trained"], s["n_train"], s["n_test"]]
                 for s in rm["per_seed"]], "Reward model per seed (prompts split train/test)")
    r.add_figure("forest", "Reward model: held-out accuracy on human choices", ref=0.5,
                 labels=["trained on judge", "trained on human"],
                 estimates=[rm["acc_judge_trained"][0], rm["acc_human_trained"][0]],
                 lo=[rm["acc_judge_trained"][1], rm["acc_human_trained"][1]],
                 hi=[rm["acc_judge_trained"][2], rm["acc_human_trained"][2]])
    if g[1] is not None and g[1] > 0:
        r.add_finding("warning", f"A reward model trained on judge labels predicts human preferences worse than one "
                      f"trained on human labels (gap {_fmt(g)}).", "reward_model_gap")


def _examples(r, disagree, rows, k: int = 10) -> None:
    if not rows or not disagree:
        return
    for conf, row, j, h in disagree[:k]:
        fields = {"judge": j, "human": h, "confidence": round(conf, 3)}
        if rows.get("prompt") is not None:
            fields["prompt"] = rows["prompt"][row][:400]
        if rows.get("model_a") is not None:
            fields["models"] = f"A = {rows['model_a'][row]}, B = {rows['model_b'][row]}"
        fields["response A"], fields["response B"] = rows["a"][row][:600], rows["b"][row][:600]
        r.examples.append({"row": row, "title": f"judge chose {j}, people chose {h}", "fields": fields,
                           "reasons": ["judge and people disagree confidently"]})
