"""Mitigation of broken instruction rows: the cleaned set and a fix list per flagged row.

``clean`` (:class:`CleanedSet`) runs the instruction audit's own ``--clean`` pass (every row with its
flags, ``keep`` and reasons), writes every row in order with ``mitigation = keep | drop`` and, for a
dropped row, ``mitigation_reason`` = what each detector found and what to do about it (a fix per error
family, :data:`FIXES`). The re-audit reads the kept rows: the cleaned set a fine-tune would train on.
A dropped row is not deleted from the output, so a person can fix it and put it back.

With the ``instances`` layout (Self-Instruct seed tasks: a list of input/output pairs per task) the unit
the audit flags is one instance, so the output has one row per instance (``instance_input``,
``instance_output``), as the audit's own ``--clean`` file does.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from .. import api
from ..audits.instructions.detectors.base import ERROR_TYPES, FAMILY_TITLES
from ..contract import RunOptions
from ..errors import InputError
from ..io.readers import read_table
from .base import Context, Mitigated, Mitigation, register

FIXES = {
    "incomprehensible_instruction": "rewrite the instruction (it is empty, cut off, garbled or a placeholder)",
    "inconsistent_input": "give the input the instruction refers to, or drop the input it does not use",
    "inconsistent_output": "regenerate the output (empty, cut off, a copy of the prompt, a refusal, a template "
                           "or the wrong format)",
    "incorrect_output": "correct the output (the detector's check fails: arithmetic, list, code, translation...)",
    "not_following": "regenerate the output so it follows the instruction's stated constraints",
    "duplicate": "keep one copy (the first is kept)",
}


@register
class CleanedSet(Mitigation):
    kind = "instructions"
    name = "clean"
    reason = "flagged by the instruction detectors: left out of the cleaned set"
    targets = (("error_rate", "down"), ("duplicate_rate", "down"))

    @staticmethod
    def audit_options(r) -> dict:
        lay = r.params.get("layout") or {}
        opts = {k: lay.get(k) for k in ("instruction", "input", "output") if lay.get(k)}
        if lay.get("layout") == "instances":
            opts = {"instruction": lay.get("instruction"), "input": "instance_input", "output": "instance_output"}
        opts["embeddings"] = bool(r.params.get("embeddings"))
        opts["near_duplicates"] = bool(r.params.get("near_duplicates", True))
        return opts

    def prepare(self, ctx: Context, seed: int) -> None:
        """Run the audit's ``--clean`` pass (same options) for every row's flags and the input columns."""
        opts = {k: v for k, v in ctx.options.items() if k not in ("input", "output", "instruction")
                or (ctx.before.params.get("layout") or {}).get("layout") != "instances"}
        with tempfile.TemporaryDirectory(prefix="artifactlens-mitigate-") as d:
            clean = Path(d) / "clean.parquet"
            api.audit("instructions", ctx.path, run=RunOptions(seed=seed, quiet=True), clean=str(clean), **opts)
            full = read_table(clean)
        inst = (ctx.before.params.get("layout") or {}).get("layout") == "instances"
        own = [c for c in ctx.table.column_names if not (inst and c == "instances")]
        own += ["instance_input", "instance_output"] if inst else []
        if full.column_names[: len(own)] != own or full.num_rows < ctx.table.num_rows:
            raise InputError("the audit's clean pass does not hold the input's rows and columns", path=ctx.path,
                             expected=f"columns {', '.join(own)}")
        ctx.table = full.select(own)
        ctx.flags = full

    def apply(self, ctx: Context) -> Mitigated:
        f = ctx.flags
        for c in ("keep", "flags", "reasons"):
            if c not in f.column_names:
                raise InputError(f"the audit's clean pass has no '{c}' column", expected="instructions audit output")
        keep = [bool(k) for k in f.column("keep").to_pylist()]
        reasons = f.column("reasons").to_pylist()
        fams = {e: f.column(e).to_pylist() for e in (*ERROR_TYPES, "duplicate") if e in f.column_names}
        action, why = [], []
        for i, k in enumerate(keep):
            if k:
                action.append("keep")
                why.append(None)
                continue
            found = [fam for fam, v in fams.items() if v[i]]
            fixes = "; ".join(f"{FAMILY_TITLES.get(fam, fam)}: {FIXES[fam]}" for fam in found)
            action.append("drop")
            why.append(f"found: {reasons[i] or 'flagged'}; fix: {fixes or 'check the row'}")
        kept = [i for i, k in enumerate(keep) if k]
        return Mitigated(ctx.table, action, why, audit_rows=kept,
                         notes=[f"the re-audit reads the {len(kept)} kept rows of {len(keep)} (the cleaned set); "
                                "the output holds every row, the dropped ones with their fix list"])
