"""``mitigate(kind, data, result, out)``: apply one mitigation, write the data, re-run the audit on it.

1. The result (``RESULT.json`` or an :class:`AuditResult`) must be of ``kind`` and, where it records the
   input's sha256, made from ``data``: otherwise one :class:`InputError`.
2. The audit options are taken from the result's ``params`` (so the audit reads the output as it read the
   input); ``overrides`` replace some (e.g. ``embeddings=False`` for speed, the same before and after).
3. The per-row flags the mitigation needs come from the result's flags file where it still exists and
   has one row per input row, else from one audit pass with a temporary flags file.
4. The output ``out`` is written in its extension's format (.jsonl, .csv, .parquet; simulations: .jsonl)
   with every input row in order, the mitigated values in the audit's columns and ``mitigation`` /
   ``mitigation_reason`` columns; then the audit runs on it (on the kept rows, for a filter) and the
   after-result carries a ``mitigation`` table: metric, before, after, targeted direction, moved as
   targeted; plus the figures the mitigation computes itself, in the same table.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pyarrow as pa

from .. import api
from ..contract import RunOptions
from ..errors import InputError
from ..io.readers import file_sha256, read_table
from ..io.writers import RowWriter, atomic_write_text
from ..outputs import write_outputs
from ..result import AuditResult
from .base import Context, Mitigated, Mitigation
from .registry import choose

MITIGATION_COLUMNS = ("mitigation", "mitigation_reason")


def load_result(result) -> AuditResult:
    if isinstance(result, AuditResult):
        return result
    p = Path(str(result))
    if not p.exists():
        raise InputError("no such result file", path=p, expected="the JSON the audit wrote with --json")
    try:
        return AuditResult.from_json(p)
    except (ValueError, KeyError, TypeError) as e:
        raise InputError(f"not an artifactlens result ({str(e)[:80]})", path=p,
                         expected="the JSON the audit wrote with --json") from None


def _check(kind: str, data, before: AuditResult) -> None:
    if before.kind != kind:
        raise InputError(f"the result is a {before.kind} audit, not {kind}", expected=f"a {kind} result")
    if data is None or not Path(str(data)).exists():
        raise InputError("no such file", path=data, expected="the data file the audit read")
    sha = before.input.sha256
    if sha and file_sha256(Path(str(data))) != sha:
        raise InputError("the result was made from another file (its sha256 differs)", path=data,
                         expected=f"the file the result names ({before.input.path})")


def _flags(ctx: Context, seed: int) -> pa.Table | None:
    """The audit's per-row flags, row-aligned with ``ctx.table``."""
    p = (ctx.before.flags or {}).get("path")
    n = ctx.table.num_rows if ctx.table is not None else None
    if p and Path(p).exists():
        try:
            f = read_table(p)
        except InputError:
            f = None
        if f is not None and f.num_rows == n:
            return f
    with tempfile.TemporaryDirectory(prefix="artifactlens-mitigate-") as d:
        fp = Path(d) / "flags.parquet"
        api.audit(ctx.kind, ctx.path, run=RunOptions(seed=seed, quiet=True, flags=str(fp)), **ctx.options)
        f = read_table(fp) if fp.exists() else None
    if f is not None and n is not None and f.num_rows != n:
        raise InputError(f"the audit's flags hold {f.num_rows} rows, the file {n}", path=ctx.path)
    return f


def _write(out, m: Mitigated, kind: str) -> int:
    p = Path(str(out))
    if m.records is not None:
        if p.suffix.lower() not in (".jsonl", ".ndjson"):
            raise InputError(f"cannot write {kind} records as '{p.suffix or p.name}'", path=p,
                             expected="an output name ending in .jsonl (transcripts are nested records)")
        lines = [json.dumps({**r, "mitigation": a, "mitigation_reason": w}, ensure_ascii=False, default=str)
                 for r, a, w in zip(m.records, m.action, m.why)]
        atomic_write_text(p, "".join(x + "\n" for x in lines), option="-o")
        return len(lines)
    t = m.table
    clash = [c for c in MITIGATION_COLUMNS if c in t.column_names]
    if clash:
        raise InputError(f"the input already has a '{clash[0]}' column", column=clash[0],
                         expected="an input without mitigation columns (mitigate the original file)")
    t = t.append_column("mitigation", pa.array(m.action, type=pa.string()))
    t = t.append_column("mitigation_reason", pa.array(m.why, type=pa.string()))
    with RowWriter(p, option="-o") as w:
        for b in t.combine_chunks().to_batches(max_chunksize=8192) or [pa.RecordBatch.from_pylist([], schema=t.schema)]:
            w.write(b)
    return t.num_rows


def _num(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _moved(b, a, direction) -> bool | None:
    b, a = _num(b), _num(a)
    if b is None or a is None:
        return None
    if a == b:
        return None  # unchanged (e.g. already at zero)
    if direction == "toward 0.5":
        return abs(a - 0.5) < abs(b - 0.5)
    return a < b if direction == "down" else a > b


def mitigation_table(before: AuditResult, after: AuditResult, mit: Mitigation, m: Mitigated) -> list[list]:
    rows = []
    seen = set()
    for name, d in mit.targets:
        b = before.metrics.get(name)
        a = after.metrics.get(name)
        rows.append([name, b.value if b else None, a.value if a else None, d,
                     _moved(b.value if b else None, a.value if a else None, d)])
        seen.add(name)
    for name, (b, a) in m.figures.items():
        d = dict(mit.targets).get(name)
        rows = [r for r in rows if r[0] != name]
        rows.append([name, b, a, d, _moved(b, a, d) if d else None])
        seen.add(name)
    for name in before.headline:
        if name in seen or name not in before.metrics:
            continue
        a = after.metrics.get(name)
        rows.append([name, before.metrics[name].value, a.value if a else None, None, None])
    return rows


def mitigate(kind: str, data, result, out=None, method: str | None = None, *, json_out=None, html=None,
             seed: int | None = None, settings: dict | None = None, log=None, **overrides) -> AuditResult | str:
    """Apply ``method`` (the default for ``kind`` when None) to ``data`` audited as ``result``, write the
    mitigated rows to ``out``, re-run the audit on them and return the after-result (with its
    ``mitigation`` table); for a kind with no mechanical fix, return the advice text and write nothing.
    ``overrides``: audit options replacing those read from the result."""
    say = log or (lambda s: None)
    before = load_result(result)
    _check(kind, data, before)
    seed = int(before.params.get("seed", 0) or 0) if seed is None else seed
    probe = choose(kind, method)
    options = {**type(probe).audit_options(before), **overrides}
    ctx = Context(kind=kind, path=Path(str(data)), before=before, options=options, settings=dict(settings or {}))
    mit = choose(kind, method, ctx)
    if mit.advice_only:
        return mit.advice(ctx)
    if out is None:
        raise InputError(f"mitigate {kind} needs an output file", column="-o", expected="-o OUT.jsonl|.csv|.parquet")
    if getattr(mit, "tabular", True):
        ctx.table = read_table(ctx.path)
    if hasattr(mit, "prepare"):
        mit.prepare(ctx, seed)
    else:
        ctx.flags = _flags(ctx, seed)
    why = mit.applies(ctx)
    if why:
        raise InputError(f"mitigate {kind} --method {mit.name}: {why}")
    m = mit.apply(ctx)
    n_in = len(m.records) if m.records is not None else ctx.table.num_rows
    if not (len(m.action) == len(m.why) == n_in):
        raise AssertionError(f"{mit.name}: {len(m.action)} actions for {n_in} rows")  # a bug, not bad input
    rows = _write(out, m, kind)
    changed = sum(a not in (None, "keep") for a in m.action)
    say(f"wrote {out} ({rows} rows, {changed} mitigated)")
    after_opts = {**options, **getattr(mit, "after_options", {})}
    run = RunOptions(seed=seed, quiet=True)
    if not mit.changes_rows:  # the rows are as they were: the audit's figures stand, the tables are new
        after = AuditResult.from_dict(before.to_dict())
        m.notes.append("the rows are unchanged, so the audited figures are the result's own; the mitigation is "
                       "its tables")
    elif m.audit_rows is not None:
        kept = read_table(out).take(pa.array(m.audit_rows, type=pa.int64()))
        after = api.audit(kind, kept, run=run, **after_opts)
        after.input.path = str(out)
    else:
        after = api.audit(kind, str(out), run=run, **after_opts)
    after.title = f"{before.title or kind} after mitigation ({mit.name})"
    after.add_table("mitigation", ["metric", "before", "after", "targeted", "moved as targeted"],
                    mitigation_table(before, after, mit, m),
                    title=f"Before and after mitigation '{mit.name}': {mit.reason}")
    for name, (title, cols, trows) in m.tables.items():
        after.add_table(name, cols, trows, title=title)
    after.params["mitigation"] = {"kind": kind, "method": mit.name, "reason": mit.reason,
                                  "targets": [list(t) for t in mit.targets], "input": str(data),
                                  "input_sha256": before.input.sha256, "out": str(out), "rows": rows,
                                  "changed": changed,
                                  "audited_rows": len(m.audit_rows) if m.audit_rows is not None else rows,
                                  "options": {k: v for k, v in after_opts.items() if not callable(v)},
                                  "settings": dict(ctx.settings)}
    after.add_finding("info", f"mitigation '{mit.name}' changed {changed} of {rows} rows ({mit.reason}); "
                      "see the mitigation table for the figures before and after")
    for note in m.notes:
        after.add_finding("info", note)
    if json_out or html:
        write_outputs(after, json=json_out, html=html, log=say)
    return after
