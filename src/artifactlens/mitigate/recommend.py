"""What to do about a finding: one line per finding metric, and the ``mitigate`` command where one applies.

:data:`RECOMMENDATIONS` maps ``(kind, metric)`` to ``(advice, method)``: the metric is a finding's
``metric`` without its ``[model]``/``[group=value]`` suffix, matched exactly, then by the longest
prefix (``class_drift`` for ``class_drift[maybe]``, ``accuracy_gap`` for ``accuracy_gap_digression``);
``method`` names the ``artifactlens mitigate KIND --method`` that acts on it (None: no mechanical fix).
A kind's ``"*"`` row covers the other warnings and critical findings of that kind; info findings get
no recommendation.

:func:`attach_recommendations` sets ``Finding.recommendation`` on a result (and its sections) where it is
not set yet, the command naming the result's input file; the writing layer (``outputs``) or the API may
call it on every result, as the audits themselves know nothing of the mitigations. This module imports
only the result schema.
"""
from __future__ import annotations

import shlex
from pathlib import PurePath

from ..result import AuditResult, Finding

RECOMMENDATIONS: dict[tuple[str, str], tuple[str, str | None]] = {
    # labels
    ("labels", "minority_erasure_rate"): ("train on the human label distribution (soft labels) and send the "
                                          "items where the LLM erased the minority view to review", "soft"),
    ("labels", "majority_match_rate"): ("do not use the LLM labels as gold where people disagree; train on the "
                                        "human distribution", "soft"),
    ("labels", "llm_overconfident_rate"): ("sample the LLM several times at a higher temperature, or use soft "
                                           "labels from people where the item is contested", "soft"),
    ("labels", "entropy_drop_bits"): ("the LLM labels are less varied than people's: train on soft labels "
                                      "from the human distribution", "soft"),
    ("labels", "class_drift"): ("rebalance the classes or relabel the drifted class with people before "
                                "training", None),
    ("labels", "krippendorff_alpha"): ("the annotators agree little: tighten the guidelines or treat the task as "
                                       "subjective (keep the distribution, not a majority)", None),
    ("labels", "second_order"): ("a model trained on LLM labels does worse than one trained on people's: "
                                 "train on human (soft) labels where you have them", "soft"),
    ("labels", "alt_test"): ("the LLM cannot replace the annotators on this task: keep people in the loop", None),
    ("labels", "*"): ("check the flagged items by hand before training on the LLM labels", None),
    # preferences
    ("preferences", "position_inconsistency_rate"): ("judge both orders and count a verdict that changes with "
                                                     "the order as a tie", "ties"),
    ("preferences", "judge_first_pick_rate"): ("judge both orders (swap A and B) and keep only verdicts that "
                                               "survive the swap", "ties"),
    ("preferences", "style_flip_share"): ("use the style-controlled (debiased) verdicts, or control length and "
                                          "markdown in the judge prompt", "style"),
    ("preferences", "style_human"): ("people favour a style or position too: randomise the order shown to "
                                     "annotators and report it", None),
    ("preferences", "style_"): ("use the style-controlled (debiased) verdicts", "style"),
    ("preferences", "prefers_longer_gap"): ("report length-controlled win rates per model (or debias the verdicts "
                                            "for style)", "length"),
    ("preferences", "self_preference_gap"): ("use a judge from another model family than the models it ranks", None),
    ("preferences", "judge_invalid_rate"): ("fix the judge's output parsing or the --codes before reading the "
                                            "figures", None),
    ("preferences", "human_invalid_rate"): ("fix the human choice column or the --codes before reading the "
                                            "figures", None),
    ("preferences", "reward_model_gap"): ("do not train a reward model on these judgments alone: mix in human "
                                          "preferences", None),
    ("preferences", "cohen_kappa"): ("the judge hardly agrees with people beyond chance: check the coding, then "
                                     "the judge prompt", None),
    ("preferences", "judge_human_agreement"): ("the judge disagrees with people: validate it on a labelled "
                                               "sample before use", None),
    ("preferences", "locality"): ("the judge rewards surface overlap: check the pairs it decides by overlap", None),
    ("preferences", "*"): ("validate the judge on a human-labelled sample before relying on it", None),
    # instructions
    ("instructions", "error_rate"): ("train on the cleaned set and fix or drop the flagged rows (each has its "
                                     "fix list)", "clean"),
    ("instructions", "duplicate_rate"): ("deduplicate: keep one copy of each (near-)duplicate", "clean"),
    ("instructions", "not_following_rate"): ("regenerate the outputs that break the instruction's constraints, "
                                             "or drop them", "clean"),
    ("instructions", "*"): ("drop or fix the flagged rows before fine-tuning", "clean"),
    # simulations
    ("simulations", "loop_rate"): ("cut the transcripts at their first loop before using them; add a "
                                   "repeat check or a turn limit to the agents", "cut"),
    ("simulations", "unterminated_rate"): ("state the stop condition in the agents' prompts and end the run at "
                                           "its marker", "cut"),
    ("simulations", "role_flip_rate"): ("mark or drop the flipped turns, and restate each agent's role in "
                                        "every prompt", "cut"),
    ("simulations", "interruption_rate"): ("enforce the role's message structure (Instruction/Input/Solution) "
                                           "in the prompts", None),
    ("simulations", "digression_rate"): ("restate the task in the prompts and stop runs that drift from it", None),
    ("simulations", "accuracy_gap"): ("the artifact costs task accuracy: fix it before comparing frameworks", None),
    ("simulations", "failure_attribution"): ("read the attributed steps by hand: the guess is a heuristic", None),
    ("simulations", "*"): ("read the flagged turns before using the transcripts", None),
    # text
    ("text", "*"): ("no mechanical fix: rewrite the prompts (register, length, wording of the human texts) or "
                    "have people edit the texts; see the over-used phrases and the subgroups", None),
}


def _base(metric: str) -> str:
    return metric.split("[", 1)[0]


def recommendation(kind: str, metric: str | None) -> tuple[str, str | None] | None:
    """``(advice, method)`` for a finding of ``kind`` naming ``metric`` (None: the kind's ``*`` row)."""
    if metric:
        b = _base(metric)
        if (kind, b) in RECOMMENDATIONS:
            return RECOMMENDATIONS[(kind, b)]
        best = max((m for k, m in RECOMMENDATIONS if k == kind and m != "*" and b.startswith(m)), key=len,
                   default=None)
        if best is not None:
            return RECOMMENDATIONS[(kind, best)]
    return RECOMMENDATIONS.get((kind, "*"))


def command(kind: str, method: str, path: str | None, result_path: str | None = None) -> str:
    """The ``artifactlens mitigate`` command line for ``method`` on ``path`` (placeholders when unknown);
    the output is named after the input (``x.csv`` -> ``x.mitigated.csv``; transcripts: ``.jsonl``)."""
    q = lambda p: shlex.quote(str(p))  # noqa: E731
    out = "MITIGATED.jsonl"
    if path:
        p = PurePath(str(path))
        ext = p.suffix.lower() if p.suffix.lower() in (".jsonl", ".csv", ".parquet") and kind != "simulations" \
            else ".jsonl"
        out = str(p.with_name(f"{p.stem if p.suffix else p.name}.mitigated{ext}"))
    return (f"artifactlens mitigate {kind} {q(path) if path else 'FILE'} --result "
            f"{q(result_path) if result_path else 'RESULT.json'} --method {method} -o {q(out)}")


def recommend(kind: str, f: Finding, path: str | None = None, result_path: str | None = None) -> str | None:
    """The one-line recommendation of finding ``f`` (with the command where a mitigation applies)."""
    if f.severity == "info":
        return None
    rec = recommendation(kind, f.metric)
    if rec is None:
        return None
    advice, method = rec
    return f"{advice}: `{command(kind, method, path, result_path)}`" if method else advice


def attach_recommendations(result: AuditResult, result_path: str | None = None) -> AuditResult:
    """Set ``recommendation`` on every warning and critical finding of ``result`` and its sections that has
    none yet (``result_path``: where the result is written, for the command); returns ``result``."""
    for r in [result, *result.sections]:
        for f in r.findings:
            if getattr(f, "recommendation", None) is None:
                f.recommendation = recommend(r.kind or result.kind, f, r.input.path or result.input.path,
                                             result_path)
    return result
