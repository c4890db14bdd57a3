"""The local engine: runs checks in-process over a stream of record batches, with a progress bar.

It owns scheduling and I/O (reading batches, streaming per-row outputs to the flags file); checks own
the computation. A Ray Data engine lives beside it and runs the same checks unchanged.
"""
from __future__ import annotations

import sys
from typing import Iterable, Sequence

import pyarrow as pa

from .base import BatchContext, Check
from ..io.writers import RowWriter


def _progress(total_rows: int | None, quiet: bool, label: str):
    if quiet or not sys.stderr.isatty():
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    prog = Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
                    TimeElapsedColumn(), transient=True, console=None)
    return prog


class LocalEngine:
    """Run ``checks`` over ``batches``; merge their states; optionally stream input+check columns to
    ``flags_path`` (every input row kept, in input order).

    Returns ``{check.name: check.finalize(merged_state)}``.
    """

    def __init__(self, seed: int = 0, quiet: bool = True, label: str = "auditing"):
        self.seed = seed
        self.quiet = quiet
        self.label = label
        self.rows = 0

    def run(self, source, checks: Sequence[Check], flags_path=None,
            keep_input_columns: bool = True, total_rows: int | None = None) -> dict:
        """``source``: a :class:`~artifactlens.io.DataSource` or any iterable of record batches."""
        batches: Iterable[pa.RecordBatch] = source.batches() if hasattr(source, "batches") else source
        for c in checks:
            c.setup()
        states: dict[str, object] = {}
        writer = RowWriter(flags_path) if flags_path else None
        prog = _progress(total_rows, self.quiet, self.label)
        task = None
        if prog:
            prog.start()
            task = prog.add_task(self.label, total=total_rows)
        try:
            if writer:
                writer.__enter__()
            offset = 0
            for i, batch in enumerate(batches):
                ctx = BatchContext(batch_index=i, row_offset=offset, seed=self.seed)
                out_cols: dict[str, pa.Array] = {}
                for c in checks:
                    mo = c.map(batch, ctx)
                    states[c.name] = mo.state if c.name not in states else c.merge(states[c.name], mo.state)
                    if mo.columns:
                        out_cols.update(mo.columns)
                if writer:
                    writer.write(_append_columns(batch if keep_input_columns else None, out_cols, batch.num_rows))
                offset += batch.num_rows
                if prog:
                    prog.update(task, advance=batch.num_rows)
            self.rows = offset
        except BaseException as e:
            if writer:
                writer.__exit__(type(e), e, None)
                writer = None
            raise
        finally:
            if prog:
                prog.stop()
        if writer:
            writer.__exit__(None, None, None)
        return {c.name: c.finalize(states[c.name]) if c.name in states else None for c in checks}


def _append_columns(batch: pa.RecordBatch | None, cols: dict[str, pa.Array], n: int) -> pa.RecordBatch:
    arrays, names = [], []
    if batch is not None:
        arrays.extend(batch.columns)
        names.extend(batch.schema.names)
    for k, v in cols.items():
        if k in names:  # an input column with the same name: keep both, output prefixed
            k = f"al_{k}"
        arrays.append(v)
        names.append(k)
    return pa.RecordBatch.from_arrays(arrays, names=names)
