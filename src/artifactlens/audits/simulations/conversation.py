"""The normalised trace every reader produces: a :class:`Conversation` of :class:`Turn` objects.

A turn: its index (its position in ``Conversation.turns``), speaker, role, text, the tool call it makes
and the tool result it returns (with an error flag), and a timestamp. A conversation: id, task, outcome,
termination, ground-truth labels (Who&When's ``mistake_agent`` / ``mistake_step``) and the source format.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Turn:
    """One turn of a trace. ``tool_call`` is the call a turn makes (``name(arguments)``), ``tool_result`` the
    output a tool turn returns, ``error`` True where that output (or the span's status) says it failed;
    ``timestamp`` as the source gives it (ISO text or Unix seconds), or None."""

    speaker: str
    role: str  # user | assistant (CAMEL protocol), lead | persona (SPP), tool, or as given
    text: str
    tool_call: str | None = None
    tool_result: str | None = None
    timestamp: str | None = None
    error: bool = False


@dataclass
class Conversation:
    """One transcript. ``style`` picks the rules: ``camel`` (Instruction/Solution protocol) or ``persona``.

    ``aliases`` maps each speaker to the names it goes by (used to spot a speaker speaking as another);
    ``group`` is the bootstrap resampling unit (the source record)."""

    id: str
    task: str
    turns: list[Turn]
    outcome: float | None = None
    style: str = "persona"
    terminated: bool = False
    aliases: dict[str, set] = field(default_factory=dict)
    group: str = ""
    line: int | None = None
    #: ground truth where the source has it: ``mistake_agent``, ``mistake_step`` (int), ``mistake_reason``,
    #: ``ground_truth`` (the correct final answer)
    labels: dict = field(default_factory=dict)
    format: str = ""


class Skip(str):
    """A reason why a record gives no conversation."""


# -- outcomes ---------------------------------------------------------------------------------------
def parse_outcome(v) -> float | None:
    """bool / 0-1 number / 'true'/'correct' / {correct | correct_count/question_count | matched/target}."""
    if isinstance(v, list):
        v = v[0] if v else None
    if v is None:
        return None
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v) if 0 <= v <= 1 else None
    if isinstance(v, str):
        s = v.strip().lower()
        if s in ("true", "correct", "yes", "success", "1", "1.0"):
            return 1.0
        if s in ("false", "incorrect", "wrong", "no", "failure", "0", "0.0"):
            return 0.0
        return None
    if isinstance(v, dict):
        if "correct" in v:
            return parse_outcome(v["correct"])
        for num, den in (("correct_count", "question_count"), ("matched_count", "target_count")):
            if num in v and v.get(den):
                return float(v[num]) / float(v[den])
    return None


def _first(rec: dict, *keys):
    for k in keys:
        if rec.get(k) is not None:
            return rec[k]
    return None


