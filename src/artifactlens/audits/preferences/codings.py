"""Choice codings: refuse a numeric coding that can be read more than one way, never guess silently.

Public releases code pairwise choices differently: the paper's P2C and CoBBLEr notebooks write 0/1/2 =
first/second/tie (the default), LLMBar writes 1/2 = first/second, PandaLM 0 = tie, 1, 2. Without
``--codes``, the raw values seen in every numerically coded choice column (at least :data:`MIN_NUMERIC`
numeric values, and 90% of its non-empty values; counted during the pass) are checked:

- only 1 and 2 (no 0): both LLMBar's 1=a,2=b and the default (1 = second, 2 = tie) fit: refused;
- 0, 1 and 2 under the default reading: refused when the figures are implausible: a column with one of
  first/second empty while the other is present, or a tie rate above :data:`MAX_TIE` in one column, or
  two columns whose tie rates differ by more than :data:`TIE_GAP` (PandaLM read as the default gives a
  judge that never picks the first response and a human tie rate of 0.495); otherwise the default is
  used and said in an info finding;
- a column holding lists or objects (a nested layout such as LLMBar's raw ``*.result.json``, verdicts
  under ``results[0]["swap = False"].winner``): refused with the flattening hint.

A refusal is one :class:`~artifactlens.errors.InputError` (exit 2) naming the candidate codings and
``--codes``.
"""
from __future__ import annotations

from collections import Counter

from ...errors import InputError
from ...io.conventions import _canon_code

MAX_TIE = 0.45
MIN_NUMERIC = 10
TIE_GAP = 0.3
CANDIDATES = {"default 0=a,1=b,2=tie (P2C, CoBBLEr)": {"0": "a", "1": "b", "2": "tie"},
              "--codes 1=a,2=b (LLMBar)": {"1": "a", "2": "b"},
              "--codes 0=tie,1=a,2=b (PandaLM)": {"0": "tie", "1": "a", "2": "b"}}
NESTED_HINT = ("a nested layout: flatten it first, e.g. for LLMBar's *.result.json "
               "jq -c '.[] | {input, output_1, output_2, label, judge: .results[0][\"swap = False\"].winner, "
               "judge_swapped: .results[0][\"swap = True\"].winner}' FILE > pairs.jsonl, then --a output_1 "
               "--b output_2 --human label --judge judge --judge-swapped judge_swapped --codes 1=a,2=b")


def count_raw(values) -> tuple[Counter, int | None]:
    """Canonical raw values of one batch's column (``"1.0"`` -> ``"1"``; lists and objects as ``<nested>``)
    and the position of the first nested value (None if none)."""
    c, first = Counter(), None
    for i, v in enumerate(values):
        if v is None:
            continue
        if isinstance(v, (list, dict)):
            c["<nested>"] += 1
            first = i if first is None else first
        else:
            c[_canon_code(v)] += 1
    return c, first


def _names(cands) -> str:
    return "; ".join(cands)


def check(counts: dict[str, Counter], codes: dict | None, path=None, nested_row: dict | None = None) -> list[str]:
    """Raise on an ambiguous or implausible coding; return info notes (the coding assumed).
    ``nested_row``: {column: first row holding a list or object}."""
    for col, c in counts.items():
        if c.get("<nested>"):
            raise InputError(f"{c['<nested>']} choices are lists or objects, not choices", path=path, column=col,
                             row=(nested_row or {}).get(col), expected=NESTED_HINT)
    if codes:
        return []
    numeric = {}
    for col, c in counts.items():
        d = {k: n for k, n in c.items() if k.isdigit()}
        if sum(d.values()) >= MIN_NUMERIC and sum(d.values()) >= 0.9 * sum(c.values()):
            numeric[col] = d  # a numerically coded column (mixed or tiny ones follow the default silently)
    seen = set().union(*[set(d) for d in numeric.values()]) if numeric else set()
    if not seen or not seen <= {"0", "1", "2"}:
        return []
    where = ", ".join(f"{col}: {dict(sorted(d.items()))}" for col, d in numeric.items() if d)
    if "0" not in seen:
        raise InputError(f"numeric choices 1/2 without 0 ({where}) fit more than one coding", path=path,
                         expected=f"say which with --codes: {_names(list(CANDIDATES)[:2])}")
    why = []
    tie = {}
    for col, d in numeric.items():
        tot = sum(d.values())
        if not tot:
            continue
        tie[col] = d.get("2", 0) / tot
        if (d.get("0", 0) == 0) != (d.get("1", 0) == 0):
            why.append(f"{col} never has {'0 (first)' if not d.get('0') else '1 (second)'}")
        if tie[col] > MAX_TIE:
            why.append(f"{col} would have a tie rate of {tie[col]:.3f}")
    if len(tie) > 1 and max(tie.values()) - min(tie.values()) > TIE_GAP:
        why.append("tie rates " + ", ".join(f"{k} {v:.3f}" for k, v in tie.items()) + " far apart")
    if why:
        raise InputError(f"numeric choices 0/1/2 read as first/second/tie give implausible figures ({'; '.join(why)}; "
                         f"values {where})", path=path, expected=f"say which coding with --codes: {_names(CANDIDATES)}")
    return [f"Choices coded 0/1/2 were read as first/second/tie (the paper's coding; values {where}). PandaLM "
            "writes 0 = tie: if that is your coding, pass --codes 0=tie,1=a,2=b."]
