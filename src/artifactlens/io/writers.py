"""Writing outputs safely: atomically, never over an input, never over a device, nothing left behind.

- **Atomic**: a regular file is written to a temporary file beside it (``.NAME.al-PID-XXXXXXXX.tmp``),
  flushed to disk, then renamed over the target with ``os.replace``, and only when the write finished
  without an exception (an error, a full disk, Ctrl-C): then the old file stays as it was and the
  temporary file is removed. :class:`RowWriter` streams per-row outputs (flags, cleaned rows) as Parquet,
  JSONL or CSV, chosen by the extension, the same way.
- **Devices and pipes** (``/dev/null``, ``/dev/stdout``, a FIFO) are written directly (a rename would
  replace the device node); ``-`` means standard output.
- **Stale temporary files** of our own naming (only those, and only when their writer is gone and
  they are older than :data:`STALE_TEMP_S`) are removed when a later run writes the same target or
  checks it with :func:`check_writable`.
- :func:`guard_outputs` refuses an output that is an input (same device and inode: any spelling, a
  symbolic or hard link) and :func:`check_writable` finds an unwritable output before an audit runs.
- **CSV formulas**: in a ``.csv`` output a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return is written with a leading apostrophe (``'=1+1``), so a spreadsheet shows it as text
  instead of running it (the OWASP rule for CSV injection). Parquet and JSONL keep every value verbatim.
"""
from __future__ import annotations

import json
import os
import re
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterable, Mapping

import pyarrow as pa

from ..errors import InputError, os_error

STALE_TEMP_S = 120.0  # a temporary file whose writer is gone is removed once it is this old (seconds)
CSV_FORMULA_FIRST = "=+-@\t\r"
_TEMP_RE = re.compile(r"\.al-(\d+)-[a-z0-9_]{8}\.tmp")


def _umask_mode() -> int:
    """The mode a plain ``open(..., 'w')`` would give (mkstemp makes files private, 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def is_stdout(path) -> bool:
    return str(path) == "-"


def is_special(path) -> bool:
    """True for ``-`` and an existing target that is not a regular file or a folder (a device, a pipe,
    a socket; links followed): those are written directly, never replaced."""
    if is_stdout(path):
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _target(path) -> Path:
    """The file a regular output really writes: a symbolic link is followed (the link stays a link)."""
    p = Path(path)
    return Path(os.path.realpath(p)) if p.is_symlink() else p


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def clean_stale_temps(path) -> int:
    """Remove stale temporary files of ``path`` (ours only: ``.NAME.al-PID-XXXXXXXX.tmp`` whose process
    is gone and that are older than :data:`STALE_TEMP_S`; another program's files are never touched).
    Returns how many were removed; errors are ignored (it is housekeeping)."""
    p = _target(path)
    prefix = f".{p.name}."
    try:
        entries = list(os.scandir(p.parent if str(p.parent) else "."))
    except OSError:
        return 0
    now, removed = time.time(), 0
    for e in entries:
        if not e.name.startswith(prefix):
            continue
        tail = e.name[len(prefix) - 1:]
        m = _TEMP_RE.fullmatch(tail)
        if m is None:
            continue
        try:
            if not e.is_file(follow_symlinks=False):
                continue
            pid, age = int(m.group(1)), now - e.stat(follow_symlinks=False).st_mtime
            if age > STALE_TEMP_S and (pid == os.getpid() or not _pid_alive(pid)) and not _open_by_us(e.path):
                os.unlink(e.path)
                removed += 1
        except OSError:
            continue
    return removed


_OPEN_TEMPS: set[str] = set()  # temporary files this process is writing now (never stale)


def _open_by_us(path: str) -> bool:
    return os.path.abspath(path) in _OPEN_TEMPS


def _make_temp(p: Path) -> str:
    clean_stale_temps(p)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.al-{os.getpid()}-", suffix=".tmp", dir=p.parent)
    os.close(fd)
    _OPEN_TEMPS.add(os.path.abspath(tmp))
    try:
        os.chmod(tmp, _umask_mode())
    except OSError:
        pass
    return tmp


def _drop_temp(tmp: str | None) -> None:
    if tmp:
        _OPEN_TEMPS.discard(os.path.abspath(tmp))
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def _commit(tmp: str, p: Path) -> None:
    """fsync the temporary file, rename it over ``p`` (atomic) and fsync the folder."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, p)
    _OPEN_TEMPS.discard(os.path.abspath(tmp))
    try:
        dfd = os.open(p.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _refuse_folder(p: Path, option: str | None) -> None:
    if p.is_dir():
        who = f"{option} " if option else ""
        raise InputError(f"{who}names a folder, not a file", path=p, expected="a file name for the output")


def atomic_write_bytes(path, data: bytes, *, option: str | None = None) -> Path:
    """Write ``data`` to ``path``: a regular file through a temporary file and ``os.replace`` (old file
    or new, never half, no temporary file left on any failure); ``-``, a device or a pipe directly.
    An operating-system error (a full disk, no permission) raises one-line :class:`InputError`."""
    if is_stdout(path):
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return Path("-")
    if is_special(path):
        try:
            with open(path, "wb") as f:
                f.write(data)
        except OSError as e:
            raise os_error(e, path, option=option) from None
        return Path(path)
    p = _target(path)
    _refuse_folder(p, option)
    tmp = None
    try:
        tmp = _make_temp(p)
        with open(tmp, "wb") as f:
            f.write(data)
        _commit(tmp, p)
    except OSError as e:
        _drop_temp(tmp)
        raise os_error(e, path, option=option) from None
    except BaseException:
        _drop_temp(tmp)
        raise
    return Path(path)


def atomic_write_text(path, text: str, *, option: str | None = None) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"), option=option)


def guard_outputs(inputs: Iterable, outputs: Mapping[str, object] | Iterable[tuple[str, object]]) -> None:
    """Refuse (one :class:`InputError`, exit 2) an output that is one of the ``inputs`` (the same device
    and inode: ``./sub/../in.jsonl``, a symbolic link or a hard link all count) and two outputs that are
    one file. ``outputs`` maps the option (``"--flags"``) to its path; None values are skipped, and so
    are ``-`` and devices (``/dev/null`` may be named twice)."""
    def ident(path):
        try:
            st = os.stat(path)
            return ("inode", st.st_dev, st.st_ino)
        except OSError:
            return ("path", os.path.realpath(path))
    ins = {}
    for i in inputs:
        if i is not None and str(i) != "" and not is_stdout(i):
            ins.setdefault(ident(i), str(i))
    seen: dict = {}
    items = outputs.items() if isinstance(outputs, Mapping) else outputs
    for option, out in items:
        if out is None or str(out) == "" or is_special(out):
            continue
        key = ident(out)
        if key in ins:
            raise InputError(f"{option} names the input file {ins[key]} (writing it would destroy the data)",
                             path=out, expected=f"a different file for {option}")
        if key in seen:
            raise InputError(f"{option} and {seen[key]} name the same file", path=out,
                             expected="one file per output")
        seen[key] = option


def check_writable(path, option: str | None = None) -> None:
    """Raise one-line :class:`InputError` now, before an audit runs, if ``path`` cannot be written (a
    folder, a read-only or missing-permission folder, a full file system cannot be seen in advance);
    also removes stale temporary files of ``path`` (see :func:`clean_stale_temps`)."""
    if path is None or is_stdout(path):
        return
    if is_special(path):
        if not os.access(path, os.W_OK):
            raise os_error(PermissionError(13, "permission denied"), path, option=option)
        return
    p = _target(path)
    _refuse_folder(p, option)
    if p.exists() and not os.access(p, os.W_OK) and not os.access(p.parent, os.W_OK):
        raise os_error(PermissionError(13, "permission denied"), path, option=option)
    folder = p.parent
    while not folder.exists():  # the writer creates missing folders: the nearest existing one must take them
        folder = folder.parent
    if not folder.is_dir():
        raise InputError(f"{option + ' ' if option else ''}cannot write: {folder} is not a folder", path=path,
                         expected="a path inside a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{p.name}.al-{os.getpid()}-", suffix=".tmp", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise os_error(e, path, option=option) from None
    clean_stale_temps(p)


# -- per-row outputs ---------------------------------------------------------------------------------
def _nested_as_json(batch: pa.RecordBatch) -> pa.RecordBatch:
    cols = []
    for col in batch.columns:
        t = col.type
        if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_struct(t) or pa.types.is_map(t):
            col = pa.array([None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                            for v in col.to_pylist()], type=pa.string())
        cols.append(col)
    return pa.RecordBatch.from_arrays(cols, names=batch.schema.names)


def neutralise_formulas(col: pa.Array) -> pa.Array:
    """Text values starting with ``= + - @``, a tab or a CR get a leading apostrophe (CSV outputs only)."""
    import pyarrow.compute as pc
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        return col
    risky = pc.match_substring_regex(col, "^[=+\\-@\\t\\r]")
    if not pc.any(risky).as_py():
        return col
    return pc.if_else(risky, pc.binary_join_element_wise("'", col, ""), col)


def _csv_safe(batch: pa.RecordBatch) -> pa.RecordBatch:
    batch = _nested_as_json(batch)
    return pa.RecordBatch.from_arrays([neutralise_formulas(c) for c in batch.columns], names=batch.schema.names)


class RowWriter:
    """Stream record batches to ``path`` (.parquet, .jsonl/.ndjson or .csv), atomically.

    Use as a context manager; the file appears only when the block ends without an exception (on an
    exception or an interruption the old file stays and the temporary file is removed). ``-`` writes
    to standard output and a device or a pipe is written directly (JSON Lines unless ``kind`` or the
    name's extension says otherwise). Later batches are cast to
    the first batch's schema (null columns take the later type).
    """

    def __init__(self, path, option: str | None = None, kind: str | None = None):
        self.path = Path(path)
        self.option = option
        self._direct = is_special(path)
        ext = kind or self.path.suffix.lower()
        if self._direct and ext not in (".parquet", ".jsonl", ".ndjson", ".csv"):
            ext = ".jsonl"  # standard output, /dev/null: JSON Lines unless the name says otherwise
        if ext not in (".parquet", ".jsonl", ".ndjson", ".csv"):
            raise InputError(f"cannot write '{self.path.name}'", path=self.path,
                             expected="an output name ending in .parquet, .jsonl or .csv")
        self.kind = {".ndjson": ".jsonl"}.get(ext, ext)
        self.rows = 0
        self._writer = None
        self._schema = None
        self._fh = None
        self._tmp = None

    def _error(self, e: OSError) -> InputError:
        return os_error(e, self.path, option=self.option)

    def __enter__(self):
        try:
            if self._direct:
                raw = sys.stdout.buffer if is_stdout(self.path) else open(self.path, "wb")
                self._sink = raw
            else:
                target = _target(self.path)
                _refuse_folder(target, self.option)
                self._tmp = _make_temp(target)
                self._sink = open(self._tmp, "wb")
        except OSError as e:
            _drop_temp(self._tmp)
            raise self._error(e) from None
        if self.kind == ".jsonl":
            import io
            self._fh = io.TextIOWrapper(self._sink, encoding="utf-8", write_through=False)
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
        try:
            self._write(batch)
        except OSError as e:
            raise self._error(e) from None

    def _write(self, batch: pa.RecordBatch) -> None:
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
                    self._writer = pq.ParquetWriter(self._sink, self._schema)
                else:
                    import pyarrow.csv as pacsv
                    self._writer = pacsv.CSVWriter(self._sink, self._schema)
            self._writer.write_batch(batch)
        self.rows += batch.num_rows

    def _close(self) -> None:
        try:
            if self._writer is not None:
                self._writer.close()
            if self._fh is not None:
                self._fh.flush()
                self._fh.detach()  # the wrapper must not close standard output when collected
            self._sink.flush()
        finally:
            if self._sink is not sys.stdout.buffer and not self._sink.closed:
                self._sink.close()

    def __exit__(self, exc_type, exc, tb):
        ok = exc_type is None
        try:
            self._close()
            if ok and not self._direct:
                _commit(self._tmp, _target(self.path))
        except OSError as e:
            if ok:  # a failure while finishing (a full disk on the last block): nothing is committed
                _drop_temp(self._tmp)
                raise self._error(e) from None
        except BaseException:
            _drop_temp(self._tmp)
            raise
        finally:
            if not ok and not self._direct:
                _drop_temp(self._tmp)  # an error or an interruption: the old file stays, no temporary file
        return False
