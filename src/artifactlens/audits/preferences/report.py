"""Turn the computed figures into the AuditResult: metrics with intervals, findings, tables, figure specs
(confusion heatmap, bias bars judge beside human, locality curves by decile, reward gap) and examples."""
from __future__ import annotations

from ...contract import HIGHER_IS_WORSE, LOWER_IS_WORSE, MetricSpec
from ...result import AuditResult
from . import load, metrics, votes
from .locality import CUE_LABELS

HEADLINE = ["judge_human_agreement", "cohen_kappa", "position_inconsistency_rate", "judge_first_pick_rate",
            "judge_prefers_longer_rate", "self_preference_gap", "reward_model_gap"]
# The lit metrics: their warn/bad marks declared once (rows of the audit's metric table; the findings below
# ask them for the level).
LIGHTS = {s.name: s for s in (
    MetricSpec("judge_human_agreement", worse=LOWER_IS_WORSE, warn=0.7, bad=0.5, headline=True),
    MetricSpec("cohen_kappa", worse=LOWER_IS_WORSE, warn=0.4, bad=0.0, headline=True),
    MetricSpec("position_inconsistency_rate", worse=HIGHER_IS_WORSE, warn=0.1, bad=0.25, headline=True),
    MetricSpec("judge_invalid_rate", worse=HIGHER_IS_WORSE, warn=0.01, bad=0.05),
    MetricSpec("reward_model_gap", worse=HIGHER_IS_WORSE, warn=0.02, bad=0.05, headline=True),
)}
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
                 engine_rows=0, style=None) -> AuditResult:
    r = AuditResult(kind="preferences", title="Preferences: LLM judge against people", params=params, input=info)
    params["thresholds"] = {name: spec.thresholds_entry() for name, spec in LIGHTS.items()}
    acc = pref_state["acc"]
    pt = acc.point()
    info.rows_read = info.rows_read or engine_rows
    for who, key in (("judge", "j_invalid"), ("human", "h_invalid")):
        if pt.get(key):
            info.skip(f"{who} choice outside the coding or empty (left out of {who} figures)", int(pt[key]))
    info.rows_used = int(pt.get("both") or max(pt.get("j_valid", 0), pt.get("h_valid", 0)))
    m = metrics.rate_metrics(acc)
    desc = {k: d for k, (_, _, d) in metrics.RATES.items()} | {k: d for k, (_, _, d) in metrics.GAPS.items()}
    combined = "pb_first_order" in pt or "both_fo" in pt
    verdict = ("the combined verdict of both orders (a choice that changed with the order is a tie)" if combined
               else "the judge's choice as shown (one order)")
    desc["cohen_kappa"] = f"Cohen's kappa, judge vs human, 3 classes (a/b/tie); judge = {verdict}"
    desc["cohen_kappa_first_order"] = "Cohen's kappa, judge's first-order choice vs human, 3 classes"
    for k in ("judge_human_agreement", "judge_human_agreement_no_ties"):
        desc[k] = desc[k].replace("judge verdict", f"judge ({verdict})")
    for name, t in m.items():
        grp = ("trivial baselines" if name.startswith("baseline_") or name == "judge_agreement_human_non_ties"
               else "agreement" if "agree" in name or "kappa" in name else "bias")
        r.add_metric(name, t[0], desc[name], ci=_ci(t), n=t[3], group=grp)
    _findings_first_order(r, m)
    _rankings(r, *rankings)
    if "cohen_kappa" in m:
        cm = metrics.confusion(acc)
        r.add_table("confusion", ["judge \\ human", *metrics.CLASSES], [[j, *row] for j, row in zip(metrics.CLASSES, cm)],
                    f"Confusion matrix: judge (rows; {verdict}) against human (columns)")
        if combined:
            c1 = metrics.confusion(acc, "c1")
            r.add_table("confusion_first_order", ["judge \\ human", *metrics.CLASSES],
                        [[j, *row] for j, row in zip(metrics.CLASSES, c1)],
                        "Confusion matrix: judge's first-order choice (rows) against human (columns)")
            if pt.get("v_invalid"):
                info.skip("judge swapped-order choice outside the coding or empty (left out of the combined "
                          "verdict figures)", int(pt["v_invalid"]))
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
    _baselines(r, m, acc)
    if len(names := votes.columns((params.get("columns") or {}).get("human"))) > 1:
        _votes(r, acc, names)
    _style(r, style or {}, acc)
    _locality(r, loc)
    _reward(r, rm)
    _examples(r, pref_state["disagree"], rows)
    r.headline = [h for h in HEADLINE if h in r.metrics]
    if flags:
        r.flags = {"path": str(flags), "rows": engine_rows,
                   "columns": ["judge_choice", "judge_verdict", "human_choice", "judge_human_disagree",
                               "position_inconsistent", "words_a", "words_b", "chars_a", "chars_b",
                               "human_votes", "human_majority_share",
                               "style_flip_prob", "judge_debiased", "cue_*"],
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
    if pi and LIGHTS["position_inconsistency_rate"].severity(pi[0]):
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


def _baselines(r, m, acc) -> None:
    """Trivial rules beside the judge: a bar chart, and a finding where a rule matches people at least as
    well as the judge does."""
    from .style import RULE_LABELS, RULES
    rules = [x for x in RULES if f"baseline_{x}_vs_human" in m or f"baseline_{x}_vs_judge" in m]
    if not rules:
        return
    jb = m.get("judge_agreement_human_non_ties")
    cats = [RULE_LABELS[x] for x in rules] + (["the judge"] if jb else [])
    sh = [m.get(f"baseline_{x}_vs_human") for x in rules] + ([jb] if jb else [])
    sj = [m.get(f"baseline_{x}_vs_judge") for x in rules] + ([None] if jb else [])
    series, errors = {}, {}
    for name, ser in (("agreement with people", sh), ("agreement with the judge", sj)):
        if any(t is not None for t in ser):
            series[name] = [None if t is None else t[0] for t in ser]
            errors[name] = [None if t is None else list(_ci(t) or [None, None]) for t in ser]
    r.add_figure("bar", "Trivial baselines: agreement on non-tie choices (95% intervals)", categories=cats,
                 series=series, errors=errors, y_label="agreement", y_max=1.0)
    if not jb:
        return
    for x in rules:
        t = m.get(f"baseline_{x}_vs_human")
        if t is None or t[0] < jb[0]:
            continue
        d = acc.interval(lambda s: (s[f"bl_{x}_h"] - s["jb_hit"]) / s["h_nt_all"])
        r.add_finding("warning", f"The trivial rule '{RULE_LABELS[x]}' matches people's choices as well as the "
                      f"judge does ({_fmt(t)} against the judge's {_fmt(jb)}; rule minus judge {_fmt(d)}): this "
                      "benchmark does not tell the judge from a trivial rule.", f"baseline_{x}_vs_human")


def _style(r, fits, acc) -> None:
    """Style-control coefficients (judge and people), the forest plot, the debiased figures, warnings."""
    from .stylefit import COVARIATES
    if not fits:
        return
    labels, est, lo, hi, rows = [], [], [], [], []
    for who, f in fits.items():
        for k in f.names:
            lab = "position (shown first)" if k == "position" else COVARIATES[k]
            r.add_metric(f"style_{who}_{k}", f.coef[k], f"style control, {who}: log-odds of choosing A per SD of "
                         f"the A-minus-B {lab} (logistic fit on non-tie choices; interval: bootstrap refits)",
                         ci=None if f.lo[k] is None else (f.lo[k], f.hi[k]), n=f.n, group="style control")
            labels.append(f"{'people' if who == 'human' else who}: {lab}")
            est.append(f.coef[k])
            lo.append(f.lo[k])
            hi.append(f.hi[k])
            rows.append([who, k, f.coef[k], f.lo[k], f.hi[k], f.scales.get(k), f.n])
        for w in f.warnings:
            r.add_finding("warning", f"Style control unstable: {w}.", f"style_{who}_position")
    r.add_table("style_control", ["who", "covariate", "coef", "lo", "hi", "sd_of_difference", "n"], rows,
                "Style control: logistic coefficients per SD of each A-minus-B difference (position = intercept)")
    r.add_figure("forest", "Style control: log-odds of choosing A per SD of each difference (95% intervals)",
                 labels=labels, estimates=est, lo=lo, hi=hi, ref=0.0, x_label="log-odds per SD")
    pt = acc.point()
    if pt.get("deb_n", 0) > 0:
        n = int(round(pt["deb_n"]))
        t = acc.ratio("deb_flip", "deb_n")
        r.add_metric("style_flip_share", t[0], "expected share of the judge's non-tie choices (as shown) that reverse when "
                     "style (position included) is held at zero (pairs where people chose too; fit held fixed)",
                     ci=_ci(t), n=n, group="style control")
        for key, name, what in (("deb_agree", "style_debiased_agreement", "debiased"),
                                ("raw_agree", "style_raw_agreement", "as given")):
            t = acc.ratio(key, "deb_n")
            r.add_metric(name, t[0], f"judge's choice as shown ({what}) matches people's choice, pairs where both chose A or B",
                         ci=_ci(t), n=n, group="style control")


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
            rows.append([cue, who, t[0], t[1], t[2], t[3], *res[who]["r"], *res[who]["code_r"]])
        cats.append(CUE_LABELS.get(cue, cue))
        for who, s, e in (("judge", sj, ej), ("human", sh, eh)):
            t = res.get(who, {}).get("agreement")
            s.append(None if t is None else t[0])
            e.append(None if t is None else [t[1], t[2]])
    r.add_table("locality", ["cue", "who", "agrees_with_cue", "lo", "hi", "n", "r_listed", "r_swapped",
                             "r_both_orientations", "r_codes_listed", "r_codes_min", "r_codes_max"], rows,
                "Locality: agreement with the cue-preferred response (orientation-free); Pearson r of 0/1/2 choice "
                "codes with the A-B gap; the paper's r of 0/1/2 cue codes with 0/1/2 choice codes, as listed and its "
                "range over 100 random orientations of the same pairs")
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


def _votes(r, acc, names: list[str]) -> None:
    """Metrics, the per-annotator table and findings on the result ``r`` from the bootstrap sums ``acc``."""
    pt = acc.point()
    if not pt.get("vt_pairs"):
        return
    got = {}
    for name, (num, den, desc) in votes.RATES.items():
        if pt.get(den, 0) > 0 and num in pt:
            t = acc.ratio(num, den)
            got[name] = t
            r.add_metric(name, t[0], desc, ci=_ci(t), n=int(round(pt[den])), group="human votes")
    rows = []
    for k, col in enumerate(names):
        ja = acc.ratio(f"ja{k}_agree", f"ja{k}_n") if pt.get(f"ja{k}_n") else None
        kp = acc.interval(lambda s, k=k: metrics.kappa(s, f"ak{k}")) if pt.get(f"ja{k}_n") else None
        hh = acc.ratio(f"hh{k}_agree", f"hh{k}_n") if pt.get(f"hh{k}_n") else None
        if ja is not None:
            r.add_metric(f"judge_annotator_agreement[{col}]", ja[0], f"the judge's verdict matches annotator {col}'s "
                         "vote (3-class)", ci=_ci(ja), n=int(round(pt[f"ja{k}_n"])), group="human votes")
        row = [col, int(round(pt.get(f"ja{k}_n", 0))), *(ja or (None,) * 3), *(kp or (None,) * 3),
               int(round(pt.get(f"hh{k}_n", 0))), *(hh or (None,) * 3)]
        rows.append(row)
    r.add_table("annotators", ["annotator", "pairs_with_judge", "judge_agreement", "lo", "hi", "judge_kappa",
                               "kappa_lo", "kappa_hi", "vote_pairs_with_others", "agreement_with_others", "lo",
                               "hi"], rows,
                "Each annotator: the judge's agreement with their vote (3-class, Cohen's kappa) and their own "
                "agreement with the other annotators' votes")
    n_split = int(round(pt.get("vt_split", 0)))
    r.add_finding("info", f"People's verdict is the majority of {len(names)} vote columns ({', '.join(names)}); "
                  f"{n_split} of {int(round(pt['vt_pairs']))} pairs have no single most-voted choice and count as a "
                  "tie (human_majority_split_rate).", "human_majority_split_rate")
    if "judge_annotator_agreement" in got and "human_human_agreement" in got:
        d = acc.interval(lambda s: s["ja_agree"] / s["ja_n"] - s["hh_agree"] / s["hh_n"])
        if d[1] is not None and d[2] < 0:
            r.add_finding("warning", f"The judge agrees with a single annotator less often "
                          f"({_fmt(got['judge_annotator_agreement'])}) than annotators agree with each other "
                          f"({_fmt(got['human_human_agreement'])}; difference {_fmt(d)}).", "judge_annotator_agreement")
