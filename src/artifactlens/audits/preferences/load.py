"""Reading preference data: pairwise rows (any tabular format) and per-prompt rankings.

Pairs are read through :func:`artifactlens.io.readers.open_source` (record batches); a :class:`PairSpec`
names the columns and :func:`view` turns one batch into plain numpy arrays, choices normalised with
:func:`artifactlens.io.conventions.parse_choice` (``a``/``b``/``tie``/``inconsistent``; ``None`` = outside
the coding, counted as invalid, never an error).

Rankings are the CoBBLEr format (``{"evaluator": NAME, "example_1": {"instruction", "reference",
"rankings": [{"rank", "point", "model", "output"}]}, ...}``) or a JSON list of such examples. Each prompt's
ranked outputs become all pairs: more points wins, equal points is a tie (:func:`rankings_to_pairs`);
two ranking files (judge and human) are aligned by prompt and model.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from itertools import combinations
from pathlib import Path

import numpy as np
import pyarrow as pa

from ...errors import InputError
from ...io.conventions import parse_choice

TIE_LIKE = {"tie", "inconsistent"}
VOTE_CLASSES = ("a", "b", "tie")


@dataclass
class PairSpec:
    """Column names (None = not given). ``nli`` is ``"COL_A,COL_B"`` (per-response entailment scores) or
    one column holding the A-minus-B entailment gap."""

    a: str
    b: str
    human: str | None = None
    judge: str | None = None
    judge_swapped: str | None = None
    prompt: str | None = None
    reference: str | None = None
    group: str | None = None
    model_a: str | None = None
    model_b: str | None = None
    nli: str | None = None
    judge_prob: str | None = None
    judge_prob_swapped: str | None = None

    MULTI = ("nli", "judge_prob", "judge_prob_swapped")  # may name two columns, COL_A,COL_B

    def roles(self) -> dict[str, str | None]:
        out = {f"--{f.name.replace('_', '-')}": getattr(self, f.name) for f in fields(self)
               if f.name not in self.MULTI and f.name != "human"}
        hum = [c.strip() for c in (self.human or "").split(",") if c.strip()]  # several annotators: a comma list
        out |= {"--human": self.human} if len(hum) < 2 else {f"--human ({i + 1})": c for i, c in enumerate(hum)}
        for name in self.MULTI:
            flag = "--nli-column" if name == "nli" else f"--{name.replace('_', '-')}"
            for i, c in enumerate((getattr(self, name) or "").split(",")):
                if c.strip():
                    out[f"{flag} ({i + 1})"] = c.strip()
        return out


@dataclass
class PairView:
    """One batch as arrays of length n. Choices are object arrays of ``a``/``b``/``tie``/``inconsistent``/None;
    ``*_raw_missing`` marks cells that were empty (so invalid = not None raw and None parsed, or empty)."""

    a: list
    b: list
    judge: np.ndarray | None
    human: np.ndarray | None
    swapped: np.ndarray | None
    prompt: list | None
    reference: list | None
    group: list | None
    model_a: list | None
    model_b: list | None
    nli_a: np.ndarray | None
    nli_b: np.ndarray | None
    nli_gap: np.ndarray | None
    margin_judge: np.ndarray | None = None
    margin_human: np.ndarray | None = None
    prob: np.ndarray | None = None  # judge's preference for A as a margin (P - 0.5, or score A - score B)
    prob_swapped: np.ndarray | None = None
    votes: list | None = None  # several annotators (--human A1,A2,...): one choice array each; human = majority


def _col(batch: pa.RecordBatch, name: str | None):
    if name is None or name not in batch.schema.names:
        return None
    return batch.column(name).to_pylist()


def _choices(values, codes) -> np.ndarray | None:
    if values is None:
        return None
    return np.array([parse_choice(v, codes) for v in values], dtype=object)


def _floats(values) -> np.ndarray | None:
    if values is None:
        return None
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            pass
    return out


def view(batch: pa.RecordBatch, spec: PairSpec, codes: dict | None = None) -> PairView:
    nli_a = nli_b = nli_gap = None
    if spec.nli:
        parts = [c.strip() for c in spec.nli.split(",")]
        if len(parts) == 2:
            nli_a, nli_b = _floats(_col(batch, parts[0])), _floats(_col(batch, parts[1]))
        else:
            nli_gap = _floats(_col(batch, parts[0]))
    text = lambda c: None if (v := _col(batch, c)) is None else ["" if x is None else str(x) for x in v]  # noqa
    hum = [c.strip() for c in (spec.human or "").split(",") if c.strip()]
    votes = [_choices(_col(batch, c), codes) for c in hum] if len(hum) > 1 else None
    human = _choices(_col(batch, spec.human), codes) if votes is None else majority(votes)[0]
    return PairView(votes=votes,
        a=text(spec.a), b=text(spec.b),
        judge=_choices(_col(batch, spec.judge), codes), human=human,
        swapped=_choices(_col(batch, spec.judge_swapped), codes),
        prompt=text(spec.prompt), reference=text(spec.reference), group=_col(batch, spec.group),
        model_a=_col(batch, spec.model_a), model_b=_col(batch, spec.model_b),
        nli_a=nli_a, nli_b=nli_b, nli_gap=nli_gap,
        margin_judge=_floats(_col(batch, "_judge_margin")), margin_human=_floats(_col(batch, "_human_margin")),
        prob=_margin(batch, spec.judge_prob), prob_swapped=_margin(batch, spec.judge_prob_swapped))


def _margin(batch, spec: str | None) -> np.ndarray | None:
    """A judge's graded preference for A: ``COL`` = P(A is better) in [0, 1] (returned as P - 0.5), or
    ``COL_A,COL_B`` = a score per response (returned as A minus B). Non-numbers are NaN."""
    if not spec:
        return None
    parts = [c.strip() for c in spec.split(",")]
    if len(parts) == 2:
        return _floats(_col(batch, parts[0])) - _floats(_col(batch, parts[1]))
    p = _floats(_col(batch, parts[0]))
    bad = np.isfinite(p) & ((p < 0) | (p > 1))
    if bad.any():
        raise InputError(f"a value {p[bad][0]:g} outside [0, 1] in a probability column", column=parts[0],
                         expected="P(A is better) in [0, 1], or two score columns COL_A,COL_B")
    return p - 0.5


def three_way(choices: np.ndarray) -> np.ndarray:
    """``inconsistent`` counts as a tie (the 3-class reading); None stays None."""
    return np.array([("tie" if c in TIE_LIKE else c) for c in choices], dtype=object)


def majority(votes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(verdict, majority share, split, valid votes)`` per pair from 3-class vote arrays (None = no vote).
    A split (no single most-voted class) is a tie; no valid vote gives None."""
    V = [three_way(v) for v in votes]
    counts = np.stack([sum((v == c).astype(int) for v in V) for c in VOTE_CLASSES], axis=1)  # (n, 3)
    nvalid = counts.sum(axis=1)
    top = counts.max(axis=1)
    winners = (counts == top[:, None]).sum(axis=1)
    split = (nvalid > 0) & (winners > 1)
    verdict = np.array(VOTE_CLASSES, dtype=object)[counts.argmax(axis=1)]
    verdict = np.where(nvalid == 0, None, np.where(split, "tie", verdict)).astype(object)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(nvalid > 0, top / np.maximum(nvalid, 1), np.nan)
    return verdict, share, split, nvalid


def combined_verdict(first: np.ndarray, swapped: np.ndarray | None) -> np.ndarray:
    """The judge's verdict from both orders (3-class choices, None = invalid): the choice where the two
    orders agree, a tie where they differ (an inconsistent judge), None where either order is invalid.
    Without a swapped column, the first-order choice."""
    if swapped is None:
        return first
    ok = (first != None) & (swapped != None)  # noqa: E711
    return np.where(ok, np.where(first == swapped, first, "tie"), None).astype(object)


# -- rankings ------------------------------------------------------------------------------------------
@dataclass
class Rankings:
    """One ranking file: ``evaluator`` and ``examples`` {prompt id: {"instruction", "reference",
    "points": {model: point}, "rank": {model: rank}, "output": {model: text}}}."""

    path: str
    evaluator: str | None
    examples: dict


def load_rankings(path) -> Rankings:
    p = Path(path)
    if not p.exists():
        raise InputError("no such file", path=p, expected="a rankings JSON file (CoBBLEr format)")
    try:
        obj = json.loads(p.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON ({e.msg})", path=p, line=e.lineno, expected="a rankings JSON") from None
    evaluator = None
    if isinstance(obj, dict):
        evaluator = obj.get("evaluator")
        items = [(k, v) for k, v in obj.items() if isinstance(v, dict)]
    elif isinstance(obj, list):
        items = [(str(ex.get("id", i)) if isinstance(ex, dict) else str(i), ex) for i, ex in enumerate(obj)]
    else:
        raise InputError(f"the top level is a {type(obj).__name__}", path=p, expected="an object of examples")
    examples = {}
    for key, ex in items:
        ranks = ex.get("rankings") if isinstance(ex, dict) else None
        if not isinstance(ranks, list):
            raise InputError("an example without a 'rankings' list", path=p, column=str(key),
                             expected='{"instruction", "reference", "rankings": [{"model", "point"|"rank", "output"}]}')
        e = {"instruction": ex.get("instruction") or "", "reference": ex.get("reference") or "",
             "points": {}, "rank": {}, "output": {}}
        for r in ranks:
            m = r.get("model")
            if m is None or (r.get("point") is None and r.get("rank") is None):
                raise InputError("a ranking entry without 'model' and 'point' or 'rank'", path=p, column=str(key),
                                 expected='{"model", "point" or "rank"}')
            # more points wins; with ranks only, a lower rank wins
            e["points"][m] = float(r["point"]) if r.get("point") is not None else -float(r["rank"])
            e["rank"][m] = r.get("rank")
            e["output"][m] = r.get("output") or ""
        examples[str(key)] = e
    return Rankings(str(p), evaluator, examples)


def _pair_choice(pa_: float, pb: float) -> str:
    return "a" if pa_ > pb else "b" if pb > pa_ else "tie"


def rankings_to_pairs(judge: Rankings, human: Rankings | None = None) -> tuple[pa.Table, dict]:
    """All pairs of each prompt's models (A = the alphabetically first model). Returns the pair table
    (columns prompt_id, prompt, reference, model_a, model_b, response_a, response_b, judge, [human],
    _judge_margin, [_human_margin]) and skip counts by reason (prompts/models not in both files).

    A margin is the point difference divided by the prompt's point range (0..1): how confident a choice is.
    """
    skipped: dict[str, int] = {}
    rows = []
    for pid, ej in judge.examples.items():
        eh = human.examples.get(pid) if human else None
        if human and eh is None:
            skipped["prompt only in the judge rankings"] = skipped.get("prompt only in the judge rankings", 0) + 1
            continue
        models = sorted(ej["points"]) if not eh else sorted(set(ej["points"]) & set(eh["points"]))
        if eh:
            lost = len(set(ej["points"]) ^ set(eh["points"]))
            if lost:
                skipped["model ranked in one file only"] = skipped.get("model ranked in one file only", 0) + lost
        rj = (max(ej["points"].values()) - min(ej["points"].values())) or 1.0
        rh = ((max(eh["points"].values()) - min(eh["points"].values())) or 1.0) if eh else 1.0
        for ma, mb in combinations(models, 2):
            row = {"prompt_id": pid, "prompt": ej["instruction"], "reference": ej["reference"],
                   "model_a": ma, "model_b": mb, "response_a": ej["output"][ma], "response_b": ej["output"][mb],
                   "judge": _pair_choice(ej["points"][ma], ej["points"][mb]),
                   "_judge_margin": abs(ej["points"][ma] - ej["points"][mb]) / rj}
            if eh:
                row["human"] = _pair_choice(eh["points"][ma], eh["points"][mb])
                row["_human_margin"] = abs(eh["points"][ma] - eh["points"][mb]) / rh
            rows.append(row)
    if human:
        only_h = len(set(human.examples) - set(judge.examples))
        if only_h:
            skipped["prompt only in the human rankings"] = only_h
    if not rows:
        raise InputError("no prompt is ranked in both files", path=judge.path,
                         expected="the same example keys in --rankings and --human-rankings")
    return pa.Table.from_pylist(rows), skipped


def self_first(r: Rankings, model: str | None) -> tuple[int, int, int]:
    """(prompts where ``model`` is ranked first, alone or tied; where it is first alone; prompts with it)."""
    first = alone = total = 0
    if not model:
        return 0, 0, 0
    for e in r.examples.values():
        pts = e["points"]
        if model not in pts:
            continue
        total += 1
        top = max(pts.values())
        if pts[model] == top:
            first += 1
            alone += sum(v == top for v in pts.values()) == 1
    return first, alone, total
