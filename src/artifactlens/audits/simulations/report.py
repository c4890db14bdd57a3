"""From the merged state to the :class:`AuditResult`: metrics with intervals, findings, tables, figures.

Calculation only (the HTML rendering lives in :mod:`artifactlens.report`); every rate is a ratio of
bootstrap sums, so its 95% interval resamples whole conversations (grouped by source record).
"""
from __future__ import annotations

from ...contract import HIGHER_IS_WORSE, MetricSpec
from ...result import AuditResult
from . import digression as dg
from .check import ARTIFACTS, BASELINES, FLAG_SCHEMA, LENGTH_BINS, NANO, SimulationCheck, _bin
from .detectors import DETECTORS, MAST, MAST_NEEDS_MODEL
from .features import WINDOW
from .rules import FLIP_RULES, INTERRUPTION_RULES

# The lit metrics: the one declaration of their warn/bad marks (the audit's metric table holds these rows,
# the findings below ask them for the level).
LIGHTS = tuple(MetricSpec(m, worse=HIGHER_IS_WORSE, warn=w, bad=b, headline=True) for m, (w, b) in (
    ("role_flip_rate", (0.05, 0.2)), ("interruption_rate", (0.1, 0.3)), ("digression_rate", (0.1, 0.3)),
    ("loop_rate", (0.05, 0.2)), ("unterminated_rate", (0.1, 0.3))))

RATES = {  # metric: (numerator, denominator, description)
    "mean_turns": ("turns", "n", "mean number of turns per conversation"),
    "role_flip_rate": ("flip", "n", "share of conversations with at least one role flip"),
    "flips_per_conversation": ("flips", "n", "mean number of turns with a role flip per conversation"),
    "interruption_rate": ("interruption", "n", "share of conversations with a message lacking its role's structure"),
    "interruptions_per_conversation": ("interruptions", "n", "mean number of interrupted turns per conversation"),
    "digression_rate": ("digression", "n", "share of conversations with a digressive stretch (see params)"),
    "digressive_turn_rate": ("dig_turns", "scored_turns", "share of turns at or below the digression threshold"),
    "mean_drift": ("drift", "has_drift", "mean slope of task similarity from first to last turn (negative = drifting away)"),
    "loop_rate": ("loop", "n", "share of conversations repeating a near-identical message"),
    "unterminated_rate": ("unterminated", "n", "share of conversations that never reach a termination marker"),
}


def build_result(state, cfg, info, flags_path=None, flag_rows: int = 0) -> AuditResult:
    r = AuditResult(kind="simulations", title="Simulations: failure modes and failure attribution")
    r.input = info
    acc = state.acc
    pt = acc.point()
    n_conv = int(pt.get("n", 0))
    r.add_metric("n_conversations", n_conv, "conversations audited", group="input")
    r.add_metric("n_skipped", int(sum(info.rows_skipped.values())),
                 "records that gave no conversation (reasons in input.rows_skipped)", group="input")
    r.add_metric("n_turns", state.n_turns, "turns audited", group="input")
    for name, (num, den, desc) in RATES.items():
        if name == "mean_drift":
            est, lo, hi = acc.interval(lambda s: s["drift"] / s["has_drift"] / NANO)
            r.add_metric(name, est, desc, ci=(lo, hi), n=n_conv, group="artifacts")
            continue
        _ratio(r, acc, name, num, den, desc, n=n_conv, group="artifacts")
    for name, cls in DETECTORS.items():
        d = cls()
        _ratio(r, acc, f"{name}_rate", f"det_{name}", "n", f"share of conversations with a turn flagged by "
               f"{name} ({d.family or 'attribution evidence'}: {MAST.get(d.family, d.description)})", n=n_conv,
               group="failure modes")
    has = pt.get("has", 0)
    if has:
        _ratio(r, acc, "task_accuracy", "out", "has", "mean outcome (share of tasks solved)", n=int(has),
               group="outcomes")
        for a, label in ARTIFACTS.items():
            _ratio(r, acc, f"accuracy_with_{a}", f"{a}_out", f"{a}_has",
                   f"task accuracy of conversations with a {label}", n=int(pt.get(f"{a}_has", 0)), group="outcomes")
            est, lo, hi = acc.interval(lambda s, a=a: (s["out"] - s[f"{a}_out"]) / (s["has"] - s[f"{a}_has"]))
            r.add_metric(f"accuracy_without_{a}", est, f"task accuracy of conversations without a {label}",
                         ci=(lo, hi), n=int(has - pt.get(f"{a}_has", 0)), group="outcomes")
            est, lo, hi = acc.interval(lambda s, a=a: (s["out"] - s[f"{a}_out"]) / (s["has"] - s[f"{a}_has"])
                                       - s[f"{a}_out"] / s[f"{a}_has"])
            r.add_metric(f"accuracy_gap_{a}", est, f"accuracy without minus with a {label} (positive = it costs)",
                         ci=(lo, hi), group="outcomes")
        for name in DETECTORS:
            if pt.get(f"det_{name}_has"):
                _ratio(r, acc, f"accuracy_with_{name}", f"det_{name}_out", f"det_{name}_has",
                       f"task accuracy of conversations with a turn flagged by {name}",
                       n=int(pt[f"det_{name}_has"]), group="outcomes")
        for lo_, hi_ in LENGTH_BINS:
            b = _bin(lo_)
            if b in state.by_length:
                _ratio(r, state.by_length[b], f"accuracy_turns_{b.replace('-', '_').replace('+', 'plus')}", "out",
                       "has", f"task accuracy of conversations with {b} turns",
                       n=int(state.by_length[b].point()["has"]), group="outcomes")
    _attribution(r, acc, pt)
    if cfg.judge is not None:
        _ratio(r, acc, "judge_digression_rate", "judge_dig", "n", "share of conversations the LLM judge finds "
               "digressing (same stretch rule)", n=n_conv, group="judge")
        _ratio(r, acc, "judge_agreement", "judge_agree", "judge_turns",
               "share of turns where the LLM judge and the embedding threshold agree", group="judge")
        _ratio(r, acc, "judge_invalid_rate", "judge_invalid", "turns_all", "share of turns whose judge answer did "
               "not parse (flagged llm_digression_invalid, the raw answer in the reasons)", group="judge")
    r.headline = [m for m in ("n_conversations", "task_accuracy", "role_flip_rate", "interruption_rate",
                              "digression_rate", "loop_rate", "unterminated_rate") if m in r.metrics]
    r.params = {"format": cfg.format or "auto", "digression_threshold": cfg.digression_threshold,
                "digression_min_run": cfg.min_run, **dg.embedding_params(cfg.embeddings, cfg.digression_threshold),
                "loop_threshold": cfg.loop_threshold, "loop_scorer": "rapidfuzz fuzz.ratio to an earlier message",
                "flip_rules": FLIP_RULES, "interruption_rules": INTERRUPTION_RULES,
                "length_bins": [_bin(lo) for lo, _ in LENGTH_BINS], "seed": cfg.seed,
                "bootstrap": "Poisson, 200 replicates, resampling conversations (by source record)",
                "llm_judge": getattr(cfg.judge, "url", None),
                "llm_digression": cfg.judge.config() if hasattr(cfg.judge, "config") else None,
                "thresholds": {spec.name: spec.thresholds_entry() for spec in LIGHTS},
                "detectors": {n: {**c().config(), "mast": MAST.get(c.family)} for n, c in DETECTORS.items()},
                "semantic_repetition_threshold": next(d.threshold for d in _detectors(cfg) if
                                                      d.name == "semantic_repetition"),
                "mast_out_of_reach_without_a_model": {m: MAST[m] for m in MAST_NEEDS_MODEL},
                "comparison_window": f"each turn is compared with the {WINDOW} turns before it",
                "long_traces": state.long_traces,
                "attribution": "earliest turn with a cause (failed tool call, tool-error loop, premature stop), charged "
                               "to its speaker (a tool turn to the agent before it); else the agent of the final "
                               "answer; symptoms weigh only in the ranking (attribution.WEIGHTS)"}
    _findings(r, ARTIFACTS)
    _tables_and_figures(r, state, ARTIFACTS)
    r.examples = [e for _, _, e in state.examples[:12]]
    if flags_path:
        counts = {k: int(v) for k, v in state.rule_turns.most_common()}
        r.flags = {"path": str(flags_path), "rows": flag_rows, "counts": counts, "columns": FLAG_SCHEMA.names}
    return r


def _ratio(r, acc, name, num, den, desc, n=None, group=None):
    est, lo, hi = acc.ratio(num, den)
    r.add_metric(name, est, desc, ci=(lo, hi), n=n, group=group)


def _findings(r: AuditResult, artifacts: dict) -> None:
    for spec in LIGHTS:
        v = r.metrics.get(spec.name)
        sev = spec.severity(None if v is None else v.value)
        if sev:
            r.add_finding(sev,
                          f"{spec.name} = {v.value:.1%} (warn at {spec.warn:.0%}, bad at {spec.bad:.0%})", spec.name)
    for a, label in artifacts.items():
        g = r.metrics.get(f"accuracy_gap_{a}")
        if g is not None and g.ci and g.ci[0] > 0:
            r.add_finding("warning", f"conversations with a {label} solve fewer tasks: "
                          f"{r[f'accuracy_with_{a}']:.1%} vs {r[f'accuracy_without_{a}']:.1%} "
                          f"(gap {g.value:.1%}, 95% CI {g.ci[0]:.1%} to {g.ci[1]:.1%})", f"accuracy_gap_{a}")
    skipped = r.input.rows_skipped
    if skipped:
        n_skip = sum(skipped.values())
        sev = "critical" if n_skip > r.input.rows_used else "info"  # most of the input could not be read
        r.add_finding(sev, ("most records could not be read: " if sev == "critical" else "records skipped: ")
                      + "; ".join(f"{n} {k}" for k, n in skipped.items()), "n_skipped")
    a, base = r.metrics.get("failure_attribution_agent_accuracy"), _baseline_best(r)
    if a is not None and a.value is not None and base is not None:
        beat = a.value > base[1]
        r.add_finding("info" if beat else "warning", f"failure attribution: agent accuracy {a.value:.1%} "
                      f"{'above' if beat else 'not above'} the best trivial baseline ({base[0]}: {base[1]:.1%})",
                      "failure_attribution_agent_accuracy")


def _tables_and_figures(r: AuditResult, state, artifacts: dict) -> None:
    lengths = sorted(state.lengths.items())
    r.add_table("length_distribution", ["turns", "conversations"], [[k, v] for k, v in lengths],
                "Conversation lengths")
    rules = [(k, "role flip", d) for k, d in FLIP_RULES.items()] + \
            [(k, "interruption", d) for k, d in INTERRUPTION_RULES.items()] + \
            [("digression", "digression", "turn at or below the similarity threshold"),
             ("repeat", "loop", "near-identical to an earlier message")]
    r.add_table("rules", ["rule", "artifact", "description", "turns", "conversations"],
                [[k, a, d, state.rule_turns.get(k, 0), state.rule_convs.get(k, 0)] for k, a, d in rules],
                "Turns and conversations flagged by each rule")
    hi = max(k for k, _ in lengths)
    step = max(1, (hi + 29) // 30)
    edges = list(range(0, hi + step + 1, step))
    counts = [sum(v for k, v in lengths if e <= k < e + step) for e in edges[:-1]]
    r.add_figure("histogram", "Turns per conversation", edges=edges, series={"conversations": counts},
                 x_label="turns", y_label="conversations")
    rates = ["role_flip_rate", "interruption_rate", "digression_rate", "loop_rate", "unterminated_rate"]
    r.add_figure("bar", "Share of conversations with each artifact (95% CI)", categories=rates,
                 series={"rate": [r[m] for m in rates]}, errors={"rate": [list(r.metrics[m].ci or [None, None])
                                                                          for m in rates]})
    if "task_accuracy" in r.metrics:
        cats = [a for a in artifacts if f"accuracy_with_{a}" in r.metrics]
        ser = {w: [r[f"accuracy_{w}_{a}"] for a in cats] for w in ("with", "without")}
        err = {w: [list(r.metrics[f"accuracy_{w}_{a}"].ci or [None, None]) for a in cats] for w in ("with", "without")}
        r.add_figure("bar", "Task accuracy with and without each artifact (95% CI)",
                     categories=[artifacts[a] for a in cats], series=ser, errors=err)
        bins = [m for m in r.metrics if m.startswith("accuracy_turns_")]
        if bins:
            r.add_figure("bar", "Task accuracy by conversation length (95% CI)",
                         categories=[m[len("accuracy_turns_"):].replace("_", "-") for m in bins],
                         series={"accuracy": [r[m] for m in bins]},
                         errors={"accuracy": [list(r.metrics[m].ci or [None, None]) for m in bins]})
    modes = []
    for name, cls in DETECTORS.items():
        m = r.metrics.get(f"{name}_rate")
        acc_with = r.metrics.get(f"accuracy_with_{name}")
        modes.append([name, cls.family or "-", MAST.get(cls.family, "evidence for attribution"),
                      int(state.acc.point().get(f"det_{name}_turns", 0)),
                      int(round(m.value * r["n_conversations"])) if m and m.value is not None else 0,
                      m.value if m else None, list(m.ci) if m and m.ci else None,
                      acc_with.value if acc_with else None])
    r.add_table("failure_modes", ["detector", "MAST", "mode", "turns", "conversations", "rate", "95% CI",
                                  "task accuracy with it"], modes,
                "Failure modes found per turn (rate = share of conversations with a flagged turn)")
    if state.attribution:
        r.add_table("attribution", ["conversation", "guessed agent", "guessed step", "labelled agent",
                                    "labelled step", "evidence", "ranking (weight)"],
                    [row for _, row in state.attribution], "Failure attribution per failed trace")
    for _, _, conv in state.timelines:
        g = conv.get("guess")
        title = f"Conversation {conv['id']}: flagged turns marked" + (
            f"; attributed to {g['agent']} at step {g['step']}" if g else "")
        r.add_figure("timeline", title, turns=conv["turns"], note=f"Task: {conv['task'][:300]}")


def _detectors(cfg):
    return SimulationCheck(cfg).detectors


def _attribution(r: AuditResult, acc, pt) -> None:
    """Attribution accuracy and the trivial baselines on the same labelled traces, with intervals."""
    if pt.get("failed"):
        r.add_metric("n_failed", int(pt["failed"]), "failed traces attributed (outcome below 1, or labelled)",
                     group="failure attribution")
    n_lab = int(pt.get("lab", 0))
    if not n_lab:
        return
    n_step = int(pt.get("lab_step", 0))
    _ratio(r, acc, "failure_attribution_agent_accuracy", "attr_agent", "lab",
           "share of labelled failed traces whose blamed agent is the detectors' first guess", n=n_lab,
           group="failure attribution")
    if n_step:
        _ratio(r, acc, "failure_attribution_step_accuracy", "attr_step", "lab_step",
               "share of labelled failed traces whose decisive step the detectors guess exactly", n=n_step,
               group="failure attribution")
    for name, kind in BASELINES.items():
        den, n = ("lab", n_lab) if kind == "agent" else ("lab_step", n_step)
        if n:
            _ratio(r, acc, f"baseline_{kind}_accuracy_{name}", f"base_{name}", den,
                   f"trivial baseline on the same traces: {name.replace('_', ' ')}", n=n, group="failure attribution")


def _baseline_best(r: AuditResult):
    vals = [(m[len("baseline_agent_accuracy_"):], r.metrics[m].value) for m in r.metrics
            if m.startswith("baseline_agent_accuracy_") and r.metrics[m].value is not None]
    return max(vals, key=lambda kv: kv[1]) if vals else None
