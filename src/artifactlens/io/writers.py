"""Writing outputs atomically: a temporary file beside the target, then ``os.replace``.

:class:`RowWriter` streams per-row outputs (flags, cleaned rows) as Parquet, JSONL or CSV, chosen by
the file's extension, so an interrupted run leaves the old file or the new one, never half of one.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pyarrow as pa

from ..errors import InputError


def _umask_mode() -> int:
    """The mode a plain ``open(..., 'w')`` would give (mkstemp makes files private, 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``: old file or new, never half."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    os.chmod(tmp, _umask_mode())
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return p


def atomic_write_text(path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def _csv_safe(batch: pa.RecordBatch) -> pa.RecordBatch:
    cols = []
    for col in batch.columns:
        t = col.type
        if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_struct(t) or pa.types.is_map(t):
            col = pa.array([None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                            for v in col.to_pylist()], type=pa.string())
        cols.append(col)
    return pa.RecordBatch.from_arrays(cols, names=batch.schema.names)


class RowWriter:
    """Stream record batches to ``path`` (.parquet, .jsonl/.ndjson or .csv), atomically.

    Use as a context manager; the file appears only when the block ends without an exception.
    Later batches are cast to the first batch's schema (null columns take the later type).
    """

    def __init__(self, path):
        self.path = Path(path)
        ext = self.path.suffix.lower()
        if ext not in (".parquet", ".jsonl", ".ndjson", ".csv"):
            raise InputError(f"cannot write '{self.path.name}'", path=self.path,
                             expected="an output name ending in .parquet, .jsonl or .csv")
        self.kind = {".ndjson": ".jsonl"}.get(ext, ext)
        self.rows = 0
        self._writer = None
        self._schema = None
        self._fh = None
        self._tmp = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self._tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        os.close(fd)
        os.chmod(self._tmp, _umask_mode())
        if self.kind == ".jsonl":
            self._fh = open(self._tmp, "w", encoding="utf-8")
        return self

    def _conform(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if self._schema is None:
            self._schema = batch.schema
            return batch
        if batch.schema.equals(self._schema):
            return batch
        cols = []
        for f in self._schema:
            if f.name in batch.schema.names:
                col = batch.column(f.name)
                if not col.type.equals(f.type):
                    try:
                        col = col.cast(f.type)
                    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                        raise InputError(f"a column whose type changes between batches ({f.type} then {col.type})",
                                         path=self.path, column=f.name,
                                         expected="one type per column, or write .jsonl") from None
            else:
                col = pa.nulls(batch.num_rows, f.type)
            cols.append(col)
        return pa.RecordBatch.from_arrays(cols, schema=self._schema)

    def write(self, batch: pa.RecordBatch) -> None:
        if self.kind == ".jsonl":
            for row in batch.to_pylist():
                self._fh.write(json.dumps(row, ensure_ascii=False, default=str))
                self._fh.write("\n")
        else:
            if self.kind == ".csv":
                batch = _csv_safe(batch)
            batch = self._conform(batch)
            if self._writer is None:
                if self.kind == ".parquet":
                    import pyarrow.parquet as pq
                    self._writer = pq.ParquetWriter(self._tmp, self._schema)
                else:
                    import pyarrow.csv as pacsv
                    self._writer = pacsv.CSVWriter(self._tmp, self._schema)
            self._writer.write_batch(batch)
        self.rows += batch.num_rows

    def __exit__(self, exc_type, exc, tb):
        if self._fh is not None:
            self._fh.close()
        if self._writer is not None:
            self._writer.close()
        try:
            if exc_type is None:
                if self.kind != ".jsonl" and self._writer is None:
                    # no batch written: an empty but valid file
                    open(self._tmp, "w").close()
                os.replace(self._tmp, self.path)
        finally:  # an error or an interruption (even in os.replace) leaves no temporary file
            if self._tmp and os.path.exists(self._tmp):
                os.unlink(self._tmp)
        return False
