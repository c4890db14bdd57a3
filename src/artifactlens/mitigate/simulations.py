"""Mitigation of multi-agent transcripts: cut at the first loop or termination-unaware turn, mark flips.

``cut`` (:class:`CutAtFirstLoop`) reads the conversations as the audit does
(:func:`artifactlens.audits.simulations.inputs.iter_conversations`, any supported format) and the audit's
per-turn flags, and writes each conversation, in order, as a generic ``turns`` record (the format every
reader of this audit shares, so the re-audit reads it with the same options and ``--format turns``):

- cut before the first turn that repeats an earlier one (the audit's loop rule, ``repeat``, and the
  FM-1.3 detectors ``step_repetition``, ``semantic_repetition``, ``livelock``, ``tool_error_loop``): the
  transcript up to the loop is what a fine-tune or an evaluation should read;
- cut right after the stop marker where the run went on past it (``unaware_of_termination``, FM-1.5: the
  second turn after the marker or later), so the transcript ends at its marker;
- turns with a role flip are kept and marked (the turn's ``mitigation`` field names the rule and its
  evidence): a flip is a wrong speaker, not a wrong transcript, and deleting it would hide the artifact.

An uncut conversation keeps its termination as the audit read it; a cut one is terminated only if its
last kept turn carries a stop marker.
"""
from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

from .. import api
from ..audits.simulations.inputs import iter_conversations
from ..audits.simulations.parsers import END_MARKERS
from ..contract import RunOptions
from ..errors import InputError
from ..io.readers import read_table
from ..result import InputInfo
from .base import Context, Mitigated, Mitigation, register

LOOP_FLAGS = ("repeat", "step_repetition", "semantic_repetition", "livelock", "tool_error_loop")


@register
class CutAtFirstLoop(Mitigation):
    kind = "simulations"
    name = "cut"
    reason = "transcript cut at its first loop or at the turn that ignores its own termination"
    targets = (("loop_rate", "down"),)
    tabular = False
    after_options = {"format": "turns"}

    @staticmethod
    def audit_options(r) -> dict:
        p = r.params
        opts = {"loop_threshold": p.get("loop_threshold"), "embeddings": p.get("embeddings"),
                "digression_threshold": p.get("digression_threshold"), "min_run": p.get("digression_min_run")}
        if p.get("format") and p["format"] != "auto":
            opts["format"] = p["format"]
        return {k: v for k, v in opts.items() if v is not None}

    def prepare(self, ctx: Context, seed: int) -> None:
        with tempfile.TemporaryDirectory(prefix="artifactlens-mitigate-") as d:
            f = Path(d) / "turns.parquet"
            api.audit("simulations", ctx.path, run=RunOptions(seed=seed, quiet=True, flags=str(f)), **ctx.options)
            ctx.flags = read_table(f)
        ctx.records = list(iter_conversations(Path(ctx.path), InputInfo(),
                                                                ctx.options.get("format"), "utf-8", Counter()))

    def apply(self, ctx: Context) -> Mitigated:
        convs = ctx.records
        f = ctx.flags.to_pylist()
        groups, key = [], None
        for row in f:
            k = (row["conversation_id"], row["line"])
            if k != key:
                groups.append([])
                key = k
            groups[-1].append(row)
        if len(groups) != len(convs):
            raise InputError(f"the audit's flags hold {len(groups)} conversations, the file {len(convs)}",
                             path=ctx.path, expected="the file the result was made from")
        records, action, why = [], [], []
        for c, g in zip(convs, groups):
            if len(g) != len(c.turns) or str(g[0]["conversation_id"]) != str(c.id):
                raise InputError(f"conversation {c.id}: the audit's flags do not match its turns", path=ctx.path,
                                 expected="the file the result was made from")
            cut, cause = len(c.turns), None
            for i, row in enumerate(g):
                hit = [n for n in LOOP_FLAGS if row.get(n)]
                if hit:
                    cut, cause = i, f"turn {i} repeats an earlier turn ({', '.join(hit)})"
                    break
                if row.get("unaware_of_termination"):  # its score counts the turns since the stop marker
                    stop = i - int(row.get("unaware_of_termination_score") or 0)
                    cut, cause = stop + 1, (f"turn {i} goes on after the stop marker of turn {stop} "
                                            "(unaware_of_termination): the transcript ends at its marker")
                    break
            turns = []
            flips = 0
            for i, (t, row) in enumerate(zip(c.turns[:cut], g[:cut])):
                d = {"speaker": t.speaker, "role": t.role, "text": t.text}
                for k in ("tool_call", "tool_result", "timestamp"):
                    if getattr(t, k) is not None:
                        d[k] = getattr(t, k)
                if t.error:
                    d["error"] = True
                if row.get("role_flip"):
                    flips += 1
                    d["mitigation"] = f"role flip: {row.get('reasons') or 'flagged'}"
                turns.append(d)
            terminated = c.terminated if cut == len(c.turns) else any(m in turns[-1]["text"] for m in END_MARKERS) \
                if turns else False
            rec = {"id": c.id, "task": c.task, "outcome": c.outcome, "terminated": terminated,
                   "participants": sorted(c.aliases), "turns": turns, **c.labels}
            acts, whys = [], []
            if cut < len(c.turns):
                acts.append(f"cut at turn {cut} of {len(c.turns)}")
                whys.append(f"{self.reason}: {cause}")
            if flips:
                acts.append(f"{flips} flipped turn{'s' if flips > 1 else ''} marked")
                whys.append("turns where a role speaks as another participant or does another role's part are "
                            "marked, not removed")
            action.append("; ".join(acts) or None)
            why.append("; ".join(whys) or None)
            records.append(rec)
        return Mitigated(None, action, why, records=records,
                         notes=["each conversation is written as a generic turns record (--format turns); a cut "
                                "transcript ends before its stop marker, so unterminated_rate counts it"])
