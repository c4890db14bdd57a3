"""Streaming readers: JSONL, JSON, CSV/TSV, Parquet and ``datasets.save_to_disk`` folders.

Every format is read as a stream of :class:`pyarrow.RecordBatch` (``DataSource.batches``) so an audit
keeps only aggregates in memory. Wraps ``pyarrow.csv.open_csv`` and ``pyarrow.parquet.ParquetFile``
(fast, columnar). JSON Lines take a fast path: ``pyarrow.json`` parses ~2 MiB blocks of whole lines against
the schema pinned by the first block (5-10x the line-by-line path); a block it cannot parse (bad JSON, a
non-object line, mixed types, NaN) is re-read line by line with :mod:`json`, so a bad line is still named
by number and mixed-type columns still become text.
Bad input raises :class:`artifactlens.errors.InputError` naming file, line/row, column and expectation.

Safety bounds (issue 16): JSON nested deeper than :data:`MAX_JSON_DEPTH` levels is refused with one
line (before any parser sees it: Python's recursion, pyarrow's C++ parser crashes); an integer beyond 64
bits keeps its exact digits, as text (pyarrow would round it to a float, or to inf). ``.gz`` and ``.zst``
inputs are read transparently (``pyarrow.input_stream``), other compressions are named; a FIFO, a
folder that is not a saved dataset, a symbolic-link loop, an unreadable file and an unknown encoding
each get their own line. JSON Lines saved as ``.json`` (HaluEval) are detected and read as JSON Lines.
"""
from __future__ import annotations

import codecs
import csv
import difflib
import errno
import hashlib
import io
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import pyarrow as pa

from ..errors import InputError, MissingDependency, os_error

DEFAULT_BATCH_SIZE = 8192
JSONL_BLOCK_BYTES = 1 << 21  # bytes of whole lines parsed at once by the JSONL fast path
CSV_MAX_ROW_BYTES = 1 << 30  # one CSV row may hold up to 1 GiB (the block grows to fit it)
MAX_JSON_DEPTH = 256  # deeper nesting is refused (real data nests a few levels; 10,000 crashed the parsers)
INT64_MAX, UINT64_MAX = (1 << 63) - 1, (1 << 64) - 1
COMPRESSED = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz",
              b"PK\x03\x04": "zip"}
READ_TRANSPARENTLY = {"gzip", "zstd"}
TEXT_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv",
                ".parquet": "parquet", ".pq": "parquet"}


def detect_format(path: Path) -> str:
    if path.is_dir():
        _check_dataset_folder(path)
        return "hf_dataset"
    suffixes = [s.lower() for s in path.suffixes]
    for s in reversed(suffixes):
        if s in TEXT_FORMATS:
            return TEXT_FORMATS[s]
    raise InputError(f"cannot tell the format from the name '{path.name}'", path=path,
                     expected="a file ending in .jsonl, .json, .csv, .tsv or .parquet, or a datasets folder")


def file_sha256(path: Path) -> str:
    if path.is_dir():
        h = hashlib.sha256()
        for p in sorted(path.rglob("*")):
            if p.is_file():
                h.update(p.relative_to(path).as_posix().encode())
                with open(p, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
        return h.hexdigest()
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def compression_of(path: Path) -> str | None:
    """``gzip``/``zstd``/``bz2``/``xz``/``zip`` from the file's first bytes, else None."""
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except OSError:
        return None
    for magic, name in COMPRESSED.items():
        if head.startswith(magic):
            return name
    return None


def open_bytes(path: Path):
    """A binary stream of the file's data: ``.gz``/``.zst`` (by their bytes) decompressed on the fly."""
    codec = compression_of(path)
    if codec in READ_TRANSPARENTLY:
        return pa.input_stream(str(path), compression=codec)
    return open(path, "rb")


def open_text(path: Path, encoding: str, newline=None):
    return io.TextIOWrapper(open_bytes(path), encoding=encoding, errors="strict", newline=newline)


def _check_dataset_folder(path: Path) -> None:
    """A folder is read as a ``datasets.save_to_disk`` folder only if it holds one."""
    marks = ("dataset_info.json", "state.json", "dataset_dict.json")
    if any((path / m).exists() for m in marks):
        return
    data = sorted(p.name for p in path.iterdir() if p.suffix.lower() in TEXT_FORMATS)[:5] if os.access(path, os.R_OK) \
        else []
    hint = f" (it holds {', '.join(data)}: pass one of those files)" if data else ""
    raise InputError(f"a folder, not a data file{hint}", path=path,
                     expected="a .jsonl/.json/.csv/.tsv/.parquet file, or a folder written by datasets' save_to_disk")


def json_depth_error(data: bytes, first_line: int = 1, limit: int = MAX_JSON_DEPTH) -> tuple[int, int] | None:
    """``(line, depth)`` of the first line of JSON (Lines) nested deeper than ``limit``, or None; brackets
    inside strings do not count. Vectorised (NumPy, a few passes over the bytes); a line of valid JSON is
    measured exactly, and on invalid JSON any parser stops at the first bad token before the nesting
    this may misjudge after it."""
    import numpy as np
    if data.count(b"[") + data.count(b"{") <= limit:
        return None
    a = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(a == 0x0A)
    opens = np.flatnonzero((a == 0x5B) | (a == 0x7B))
    per_line = np.diff(np.r_[0, np.searchsorted(opens, nl), len(opens)])  # openers on each line
    if per_line.max() <= limit:
        return None  # no line holds more openers than the limit (the usual case: one cheap pass)
    n = len(a)
    bs = a == 0x5C
    c = np.cumsum(bs, dtype=np.int64)
    run = c - np.maximum.accumulate(np.where(bs, 0, c))  # backslashes ending at each byte
    prev_run = np.r_[0, run[:-1]]
    quote = (a == 0x22) & (prev_run % 2 == 0)  # a quote not escaped by an odd run of backslashes
    marks, after = np.zeros(n, dtype=np.int64), nl + 1
    marks[after[after < n]] = 1
    line_of = np.cumsum(marks)  # 0-based line of each byte (a newline belongs to the line it ends)
    cq = np.cumsum(quote, dtype=np.int64)
    starts = np.r_[0, nl + 1][: int(line_of[-1]) + 1]
    cq_before = (cq - quote)[starts]  # quotes before each line's first byte
    inside = ((cq - quote - cq_before[line_of]) % 2 == 1) | quote
    step = np.zeros(n, dtype=np.int64)
    step[((a == 0x5B) | (a == 0x7B)) & ~inside] = 1
    step[((a == 0x5D) | (a == 0x7D)) & ~inside] = -1
    depth = np.cumsum(step)
    base = (depth - step)[starts]
    rel = depth - base[line_of]
    over = np.flatnonzero(rel > limit)
    if not len(over):
        return None
    li = int(line_of[over[0]])
    in_line = rel[line_of == li]
    return first_line + li, int(in_line.max())


def _big_int(text: str):
    """``json.loads(parse_int=...)``: an integer within 64 bits as int, a larger one as its exact digits."""
    v = int(text)
    return v if -INT64_MAX - 1 <= v <= UINT64_MAX else text


_BIG_INT_TOKEN = re.compile(rb"[:\[,]\s*-?\d{19,}")


def json_loads(text: str):
    """``json.loads`` for input data: larger-than-64-bit integers kept as text (see :func:`_big_int`)."""
    return json.loads(text, parse_int=_big_int)


def _check_decodes(path: Path, encoding: str) -> None:
    """Fail on the first undecodable byte, naming its line (one streaming pass)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    line = 1
    with open_bytes(path) as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as e:
                line += chunk[: e.start].count(b"\n")
                raise InputError(f"bytes that are not {encoding} (byte 0x{chunk[e.start]:02x})", path=path,
                                 line=line, expected=f"{encoding} text, or pass --encoding (e.g. cp1252)") from None
            line += text.count("\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InputError(f"the file ends inside a {encoding} character", path=path, line=line,
                             expected=f"{encoding} text") from None


def _normalise_rows(rows: list[dict]) -> pa.RecordBatch:
    """Rows (dicts) to a batch over the union of their keys (``from_pylist`` would take the first row's
    keys only); a column with mixed types is kept as text (JSON for non-strings)."""
    keys: dict[str, None] = {}
    for r in rows:
        for k in r:
            keys.setdefault(k, None)
    if not keys:  # only empty objects: keep the row count (a batch without columns has none)
        return pa.RecordBatch.from_arrays([pa.nulls(len(rows))], names=["_empty"])
    arrays = []
    for k in keys:
        vals = [r.get(k) for r in rows]
        try:
            arr = pa.array(vals)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
            arr = pa.array([v if (v is None or isinstance(v, str)) else json.dumps(v, ensure_ascii=False)
                            for v in vals], type=pa.string())
        arrays.append(arr)
    return pa.RecordBatch.from_arrays(arrays, names=list(keys))


@dataclass
class DataSource:
    """A file (or datasets folder) read as a stream of record batches.

    ``rows_read`` counts data rows after a full pass; ``skipped`` counts rows dropped by the reader
    itself, by reason (only with ``on_bad_line='skip'``).
    """

    path: Path
    format: str
    encoding: str = "utf-8"
    batch_size: int = DEFAULT_BATCH_SIZE
    on_bad_line: str = "error"
    rows_read: int = 0
    skipped: dict = field(default_factory=dict)
    _sha256: str | None = None
    _schema: pa.Schema | None = None

    @property
    def sha256(self) -> str:
        if self._sha256 is None:
            self._sha256 = file_sha256(self.path)
        return self._sha256

    # -- raw records (JSON formats): for audits that walk nested objects ---------------------------
    def records(self) -> Iterator[tuple[int, object]]:
        """Yield ``(line_or_index, obj)``: JSONL gives 1-based line numbers, JSON list indices."""
        if self.format == "jsonl":
            yield from self._os_errors(self._jsonl_records)
        elif self.format == "json":
            for i, obj in enumerate(self._json_list_safe()):
                yield i, obj
        else:
            for batch in self.batches():
                for i, r in enumerate(batch.to_pylist()):
                    yield i, r

    def _json_list_safe(self) -> list:
        try:
            return self._json_list()
        except OSError as e:
            raise self._os_error(e) from None

    def _os_error(self, e: OSError) -> InputError:
        codec = compression_of(self.path)
        if codec:
            return InputError(f"a damaged {codec} file ({str(e).splitlines()[0][:80]})", path=self.path,
                              expected=f"a complete {codec} stream")
        return os_error(e, self.path, action="read")

    def _os_errors(self, fn, *args):
        """``fn(*args)``'s items; an operating-system error while reading (a truncated .gz, an I/O error)
        is re-raised as one line."""
        try:
            yield from fn(*args)
        except OSError as e:
            raise self._os_error(e) from None

    def _jsonl_records(self) -> Iterator[tuple[int, object]]:
        if self.encoding.lower().replace("-", "") in ("utf8", "utf8sig"):
            _check_decodes(self.path, "utf-8")
        with open_text(self.path, self.encoding) as f:
            yield from self._parse_lines(f, 1)

    def _parse_lines(self, lines, first_line: int) -> Iterator[tuple[int, object]]:
        """``(line number, object)`` for each non-blank line; bad JSON raises or is counted (``skip``)."""
        for lineno, line in enumerate(lines, start=first_line):
            if lineno == 1 and line.startswith("\ufeff"):
                line = line[1:]
            s = line.strip()
            if not s:
                continue
            deep = json_depth_error(s.encode("utf-8", "surrogatepass"), lineno) if len(s) > MAX_JSON_DEPTH else None
            if deep:
                raise self._too_deep(*deep)
            try:
                obj = json_loads(s)
            except (json.JSONDecodeError, ValueError, RecursionError) as e:
                if not isinstance(e, json.JSONDecodeError):
                    raise InputError(f"a value JSON cannot hold here ({str(e).splitlines()[0][:80]})",
                                     path=self.path, line=lineno, expected="one JSON object per line") from None
                if self.on_bad_line == "skip":
                    self.skipped["line is not valid JSON"] = self.skipped.get("line is not valid JSON", 0) + 1
                    continue
                raise InputError(f"not valid JSON ({e.msg} at character {e.pos + 1})", path=self.path,
                                 line=lineno, expected="one JSON object per line") from None
            yield lineno, obj

    def _too_deep(self, line: int, depth: int) -> InputError:
        return InputError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep (at least {depth})", path=self.path,
                          line=line, expected=f"at most {MAX_JSON_DEPTH} levels of lists and objects")

    def _json_list(self) -> list:
        _check_decodes(self.path, self.encoding if self.encoding.lower() != "utf-8" else "utf-8")
        with open_text(self.path, "utf-8-sig" if self.encoding.lower() in ("utf-8", "utf8") else self.encoding) as f:
            text = f.read()
        if not text.strip():
            raise InputError("the file is empty", path=self.path, expected="a JSON list of objects")
        deep = json_depth_error(text.replace("\n", " ").encode("utf-8", "surrogatepass"))
        if deep:
            raise self._too_deep(None, deep[1])
        try:
            obj = json_loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"not valid JSON ({e.msg}, column {e.colno})", path=self.path, line=e.lineno,
                             expected="a JSON list of objects") from None
        except (ValueError, RecursionError) as e:
            raise InputError(f"a value JSON cannot hold here ({str(e).splitlines()[0][:80]})", path=self.path,
                             expected="a JSON list of objects") from None
        if isinstance(obj, list):
            return obj
        if isinstance(obj, dict):
            lists = [v for v in obj.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
            if len(lists) == 1:
                return lists[0]
            return [obj]
        raise InputError(f"the top level is a {type(obj).__name__}", path=self.path,
                         expected="a JSON list of objects")

    # -- record batches ----------------------------------------------------------------------------
    def batches(self, batch_size: int | None = None) -> Iterator[pa.RecordBatch]:
        """Stream the data as record batches, counting rows into ``rows_read``."""
        self.rows_read = 0
        bs = batch_size or self.batch_size
        if self.path.is_file() and self.path.stat().st_size == 0:
            raise InputError("the file is empty", path=self.path, expected="a header or at least one row")
        gen = {"jsonl": self._jsonl_batches, "json": self._batches_from_records,
               "csv": self._csv_batches, "tsv": self._csv_batches, "parquet": self._parquet_batches,
               "hf_dataset": self._hf_batches}[self.format]
        for b in self._os_errors(gen, bs):
            if b.num_rows:
                self.rows_read += b.num_rows
                yield b
        if self.rows_read == 0:
            raise InputError("no data rows", path=self.path, expected="at least one row")

    def _pin(self, batch: pa.RecordBatch, first_row: int) -> pa.RecordBatch:
        """Keep one schema across batches: the first batch's types win; a null column takes the first
        real type seen; a value that cannot take the pinned type is named in one error."""
        if self._schema is None:
            self._schema = batch.schema
            return batch
        fields = {f.name: f for f in self._schema}
        cols = dict(zip(batch.schema.names, batch.columns))
        for name, col in cols.items():
            f = fields.get(name)
            if f is None:
                self._schema = self._schema.append(pa.field(name, col.type))
            elif not col.type.equals(f.type):
                if pa.types.is_null(f.type):
                    self._schema = self._schema.set(self._schema.get_field_index(name), pa.field(name, col.type))
                elif pa.types.is_null(col.type):
                    cols[name] = pa.nulls(len(col), f.type)
                elif pa.types.is_string(f.type) and not pa.types.is_nested(col.type):
                    cols[name] = pa.array([None if v is None else (v if isinstance(v, str) else json.dumps(v))
                                           for v in col.to_pylist()], type=pa.string())
                else:
                    try:
                        cols[name] = col.cast(f.type)
                    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                        raise InputError(f"values of type {col.type} where earlier rows hold {f.type}",
                                         path=self.path, row=first_row, column=name,
                                         expected=f"one type per column ({f.type})") from None
        arrays = [cols[f.name] if f.name in cols else pa.nulls(batch.num_rows, f.type) for f in self._schema]
        return pa.RecordBatch.from_arrays(arrays, schema=self._schema)

    def _objects(self, records) -> Iterator[dict]:
        """The JSON objects among ``(where, obj)`` records; anything else raises or is counted (``skip``)."""
        for where, obj in records:
            if not isinstance(obj, dict):
                kind = "line" if self.format == "jsonl" else "item"
                if self.on_bad_line == "skip":
                    self.skipped["record is not a JSON object"] = self.skipped.get("record is not a JSON object", 0) + 1
                    continue
                raise InputError(f"{kind} holds a {type(obj).__name__}, not an object", path=self.path,
                                 **({"line": where} if self.format == "jsonl" else {"row": where}),
                                 expected="a JSON object with named fields")
            yield obj

    def _batches_from_records(self, bs: int, records=None) -> Iterator[pa.RecordBatch]:
        rows: list[dict] = []
        self._schema = None
        done = 0
        for obj in self._objects(self.records() if records is None else records):
            rows.append(obj)
            if len(rows) >= bs:
                yield self._pin(_normalise_rows(rows), done)
                done += len(rows)
                rows = []
        if rows:
            yield self._pin(_normalise_rows(rows), done)

    # -- JSON Lines fast path ----------------------------------------------------------------------
    def _jsonl_batches(self, bs: int) -> Iterator[pa.RecordBatch]:
        """Block-parsed JSONL (utf-8 only; other encodings and CR-only line ends take the line path)."""
        if self.encoding.lower().replace("-", "") not in ("utf8", "utf8sig") or _has_lone_cr(self.path):
            return self._batches_from_records(bs)
        self._schema = None
        return _rebatch(self._jsonl_pieces(bs), bs)

    def _jsonl_pieces(self, bs: int) -> Iterator[pa.RecordBatch]:
        done = 0
        for first_line, block in self._jsonl_blocks():
            deep = json_depth_error(block, first_line)
            if deep:
                raise self._too_deep(*deep)
            # pyarrow rounds integers beyond 64 bits to floats: such blocks take the exact line path
            table = None if _BIG_INT_TOKEN.search(block) else self._parse_block(block)
            if table is not None:
                pieces = table.to_batches()
            else:  # the line path names the bad line, counts skips and keeps mixed types as text
                lines = block.decode("utf-8").split("\n")
                objs = self._objects(self._parse_lines(lines, first_line))
                pieces = (_normalise_rows(rows) for rows in _chunks(objs, bs))
            for piece in pieces:
                if piece.num_rows:
                    yield self._pin(piece, done)
                    done += piece.num_rows

    def _jsonl_blocks(self, size: int | None = None) -> Iterator[tuple[int, bytes]]:
        """``(first line number, bytes)`` blocks of whole lines, each checked to be utf-8."""
        line, tail, first = 1, b"", True
        with open_bytes(self.path) as f:
            while True:
                chunk = f.read(size or JSONL_BLOCK_BYTES)
                if first and chunk.startswith(codecs.BOM_UTF8):
                    chunk = chunk[len(codecs.BOM_UTF8):]
                first = False
                if not chunk:  # end of file: the last line may lack its newline
                    if tail:
                        self._check_utf8(tail, line, final=True)
                        yield line, tail
                    return
                data = tail + chunk
                cut = data.rfind(b"\n")
                block, tail = data[:cut + 1], data[cut + 1:]
                if block:
                    self._check_utf8(block, line, final=False)
                    yield line, block
                    line += block.count(b"\n")

    def _check_utf8(self, block: bytes, line: int, final: bool) -> None:
        try:
            block.decode("utf-8")
        except UnicodeDecodeError as e:
            where = line + block[: e.start].count(b"\n")
            if final and e.reason == "unexpected end of data":
                raise InputError("the file ends inside a utf-8 character", path=self.path, line=where,
                                 expected="utf-8 text") from None
            raise InputError(f"bytes that are not utf-8 (byte 0x{block[e.start]:02x})", path=self.path,
                             line=where, expected="utf-8 text, or pass --encoding (e.g. cp1252)") from None

    def _parse_block(self, block: bytes) -> pa.Table | None:
        """Parse whole lines with ``pyarrow.json`` against the pinned schema; None where it cannot."""
        import pyarrow.json as pj
        known = None
        if self._schema is not None:
            known = pa.schema([f for f in self._schema if not pa.types.is_null(f.type)])
        for _ in range(2):
            try:
                table = pj.read_json(
                    io.BytesIO(block), read_options=pj.ReadOptions(use_threads=False, block_size=len(block) + 64),
                    parse_options=pj.ParseOptions(explicit_schema=known, unexpected_field_behavior="infer"))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                return None
            if table.num_columns == 0:
                return None
            if not any(_has_timestamp(f.type) for f in table.schema):
                return table
            # pyarrow reads ISO-looking strings as timestamps; the line path keeps them as text
            known = pa.schema([f.with_type(_timestamps_as_text(f.type)) for f in table.schema])
        return None

    def _csv_header(self, delimiter: str) -> list[str]:
        with open_text(self.path, self.encoding, newline="") as f:
            first = next(csv.reader(f, delimiter=delimiter), None)
        if not first:
            raise InputError("the file has no header line", path=self.path, line=1,
                             expected="a header naming the columns")
        if first[0].startswith("\ufeff"):
            first[0] = first[0][1:]
        return first

    def _csv_batches(self, bs: int) -> Iterator[pa.RecordBatch]:
        import pyarrow.csv as pacsv
        delimiter = "\t" if self.format == "tsv" else ","
        _check_decodes(self.path, self.encoding)
        header = self._csv_header(delimiter)
        dupes = {c for c in header if header.count(c) > 1}
        if dupes:
            raise InputError(f"the header repeats the column name(s) {sorted(dupes)}", path=self.path, line=1,
                             expected="unique column names")
        parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
        conv = pacsv.ConvertOptions(column_types={c: pa.string() for c in header}, strings_can_be_null=True,
                                    quoted_strings_can_be_null=False)
        block, done = 1 << 22, 0  # a row longer than the block: read again with a 4x block, skipping rows given
        while True:
            read = pacsv.ReadOptions(encoding=self.encoding, block_size=block)
            try:
                seen = 0
                for batch in pacsv.open_csv(open_bytes(self.path), read_options=read, parse_options=parse,
                                            convert_options=conv):
                    batch, seen = batch.slice(max(0, done - seen)), seen + batch.num_rows
                    for start in range(0, batch.num_rows, bs):
                        yield batch.slice(start, bs)
                    done = max(done, seen)
                return
            except pa.ArrowInvalid as e:
                if "straddl" in str(e) and block < CSV_MAX_ROW_BYTES:
                    block *= 4
                    continue
                if "straddl" in str(e):
                    raise InputError(f"a row longer than {CSV_MAX_ROW_BYTES >> 20} MiB (the CSV reader's limit)",
                                     path=self.path, row=done, expected="shorter rows, or JSONL/Parquet") from None
                raise self._locate_csv_error(delimiter, len(header), str(e)) from None

    def _locate_csv_error(self, delimiter: str, ncols: int, msg: str) -> InputError:
        csv.field_size_limit(CSV_MAX_ROW_BYTES)  # the stdlib's default (128 KiB) would fail on a long field
        with open_text(self.path, self.encoding, newline="") as f:
            reader = csv.reader(f, delimiter=delimiter)
            end = 0
            for row in reader:
                start, end = end + 1, reader.line_num  # a quoted field may span lines: the row starts here
                if not row:  # a blank line: the CSV reader skips it, so must the count of fields
                    continue
                if len(row) != ncols and start > 1:
                    return InputError(f"a row with {len(row)} fields", path=self.path, line=start,
                                      expected=f"{ncols} fields as in the header")
        return InputError(f"CSV that does not parse ({msg.splitlines()[0]})", path=self.path,
                          expected="comma-separated values with a header")

    def _parquet_batches(self, bs: int) -> Iterator[pa.RecordBatch]:
        import pyarrow.parquet as pq
        try:
            pf = pq.ParquetFile(self.path)
        except (pa.ArrowInvalid, OSError) as e:
            raise InputError(f"not a readable Parquet file ({e})", path=self.path, expected="Parquet") from None
        yield from pf.iter_batches(batch_size=bs)

    def _hf_batches(self, bs: int) -> Iterator[pa.RecordBatch]:
        try:
            import datasets  # noqa: F401
        except ImportError:
            raise MissingDependency("datasets", purpose=f"reading the folder {self.path}") from None
        ds = datasets.load_from_disk(str(self.path))
        if isinstance(ds, datasets.DatasetDict):
            raise InputError(f"a DatasetDict with splits {list(ds)}", path=self.path,
                             expected="one split: pass the split's folder")
        yield from ds.data.table.to_batches(max_chunksize=bs)


def _has_lone_cr(path: Path) -> bool:
    """Old Mac line ends (CR only) in the first block: the text-mode line path handles those."""
    with open_bytes(path) as f:
        head = f.read(1 << 16)
    return head.count(b"\r") != head.count(b"\r\n")


def _has_timestamp(t: pa.DataType) -> bool:
    if pa.types.is_timestamp(t):
        return True
    if pa.types.is_struct(t):
        return any(_has_timestamp(t.field(i).type) for i in range(t.num_fields))
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _has_timestamp(t.value_type)
    return False


def _timestamps_as_text(t: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(t):
        return pa.string()
    if pa.types.is_struct(t):
        return pa.struct([t.field(i).with_type(_timestamps_as_text(t.field(i).type)) for i in range(t.num_fields)])
    if pa.types.is_list(t):
        return pa.list_(_timestamps_as_text(t.value_type))
    return t


def _chunks(items, n: int) -> Iterator[list]:
    buf = []
    for x in items:
        buf.append(x)
        if len(buf) >= n:
            yield buf
            buf = []
    if buf:
        yield buf


def _rebatch(pieces: Iterator[pa.RecordBatch], bs: int) -> Iterator[pa.RecordBatch]:
    """Re-cut a stream of batches (whose schema may grow) into batches of exactly ``bs`` rows (the last
    may be shorter); each output batch is one contiguous chunk."""
    buf: list[pa.Table] = []
    n = 0
    for p in pieces:
        buf.append(pa.Table.from_batches([p]))
        n += p.num_rows
        while n >= bs:
            table = pa.concat_tables(buf, promote_options="permissive")
            yield table.slice(0, bs).combine_chunks().to_batches()[0]
            buf, n = [table.slice(bs)], n - bs
    if n:
        yield pa.concat_tables(buf, promote_options="permissive").combine_chunks().to_batches()[0]


def open_source(path, *, encoding: str = "utf-8", batch_size: int = DEFAULT_BATCH_SIZE,
                on_bad_line: str = "error", format: str | None = None) -> DataSource:
    """Open ``path`` for streaming; fails at once (one line) if it is missing, unreadable, a pipe, a link
    loop, compressed in a way not read here, in an unknown encoding or of an unknown format."""
    p = Path(path)
    check_input(p)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"unknown encoding '{encoding}'", column="--encoding",
                         expected="an encoding Python knows, such as utf-8, cp1252 or latin-1") from None
    fmt = format or detect_format(p)
    if fmt == "json" and format is None and _is_json_lines(p):
        fmt = "jsonl"
    return DataSource(path=p, format=fmt, encoding=encoding, batch_size=batch_size, on_bad_line=on_bad_line)


def check_input(p: Path) -> None:
    """One-line errors for an input that is not a readable regular file or folder."""
    try:
        st = os.stat(p)
    except OSError as e:
        if e.errno == errno.ENOENT and os.path.lexists(p):
            raise InputError("a symbolic link to nothing (its target is missing)", path=p,
                             expected="an existing file") from None
        if e.errno == errno.ENOENT:
            raise InputError("no such file", path=p, expected="an existing file") from None
        raise os_error(e, p, action="read") from None
    if stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode) or stat.S_ISSOCK(st.st_mode):
        what = "a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else "a device or socket"
        raise InputError(f"{what}, not a file: the audit reads its input more than once", path=p,
                         expected="a regular file (save the stream to a file first)")
    if stat.S_ISDIR(st.st_mode):
        return
    try:
        with open(p, "rb"):
            pass
    except OSError as e:
        raise os_error(e, p, action="read") from None
    codec = compression_of(p)
    if codec and codec not in READ_TRANSPARENTLY:
        raise InputError(f"a {codec}-compressed file", path=p,
                         expected="plain, .gz or .zst data: decompress it first")
    if codec and p.suffix.lower() in (".parquet", ".pq"):
        raise InputError(f"a {codec}-compressed Parquet file", path=p, expected="the .parquet file itself")


def _is_json_lines(p: Path, limit: int = 1 << 24) -> bool:
    """A ``.json`` file that holds JSON Lines (HaluEval's releases): its first line is a whole JSON
    object and another line follows."""
    try:
        with open_bytes(p) as f:
            first = f.readline(limit)
            rest = f.read(1 << 16)
    except OSError:
        return False
    s = first.lstrip(codecs.BOM_UTF8).strip()
    if not s.startswith(b"{") or not rest.strip():
        return False
    if json_depth_error(s):
        return False
    try:
        obj = json.loads(s)
    except (ValueError, RecursionError):
        return False
    return isinstance(obj, dict) and rest.lstrip().startswith(b"{")


def read_table(path, **kw) -> pa.Table:
    """Read a whole file into one table (small inputs: demo data, rankings, tests)."""
    src = open_source(path, **kw)
    batches = list(src.batches())
    return pa.Table.from_batches(batches) if len({b.schema for b in batches}) == 1 else \
        pa.concat_tables([pa.Table.from_batches([b]) for b in batches], promote_options="permissive")


def closest(name: str, options: Sequence[str]) -> str | None:
    m = difflib.get_close_matches(name, list(options), n=1, cutoff=0.5)
    if m:
        return m[0]
    low = {o.lower(): o for o in options}
    return low.get(name.lower())


def require_columns(found: Sequence[str], needed: dict[str, str | None], path=None) -> None:
    """Raise one InputError for the first needed column that is absent.

    ``needed`` maps a role (e.g. ``"--human"``) to a column name; ``None`` columns are optional.
    The message lists the columns found and the closest name.
    """
    found = list(found)
    for role, col in needed.items():
        if col is None or col in found:
            continue
        near = closest(col, found)
        hint = f"; did you mean '{near}'?" if near else ""
        raise InputError(f"missing column (for {role}); columns found: {', '.join(found)}{hint}",
                         path=path, column=col, expected=f"a column named '{col}'")
