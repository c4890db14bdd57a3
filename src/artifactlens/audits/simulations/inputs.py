"""Reading traces: files and folders -> conversations -> Arrow record batches for the engine.

A folder is one input: every ``.json``, ``.jsonl`` and ChatDev ``.log`` file under it, in sorted order.
A ``.json`` file is read whole with :mod:`json` (a Who&When trace or an OTLP export is one object; a list
is a list of records); ``.jsonl`` through :func:`artifactlens.io.readers.open_source` (bad lines counted).
Records spread over several lines (OpenTelemetry spans, MetaGPT messages, one-turn rows) are gathered per
file by their trace / conversation id and parsed at the end of that file.

:class:`ConversationSource` is what the engine reads: one row per conversation (its turns a list of
structs), every batch ending on a conversation boundary and holding about ``batch_size`` turns (a longer
conversation is a batch of its own, never cut).
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Iterator

import pyarrow as pa

from ...errors import InputError
from ...io.readers import open_source
from ...result import InputInfo
from .conversation import Conversation, Turn
from .parsers import Fragment, Skip, chatdev_records, detect, parse_fragments, parse_record

SUFFIXES = (".json", ".jsonl", ".ndjson", ".log")
TURN_TYPE = pa.struct([("speaker", pa.string()), ("role", pa.string()), ("text", pa.string()),
                       ("tool_call", pa.string()), ("tool_result", pa.string()), ("timestamp", pa.string()),
                       ("error", pa.bool_())])
CONV_SCHEMA = pa.schema([("id", pa.string()), ("line", pa.int64()), ("group", pa.string()), ("task", pa.string()),
                         ("outcome", pa.float64()), ("style", pa.string()), ("terminated", pa.bool_()),
                         ("format", pa.string()), ("aliases", pa.string()), ("labels", pa.string()),
                         ("turns", pa.list_(TURN_TYPE))])


def _json_file(f: Path, encoding: str, many: bool, skipped: Counter):
    raw = f.read_bytes()
    try:
        text = raw.decode("utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding)
    except UnicodeDecodeError as e:
        if not many:
            line = raw[:e.start].count(b"\n") + 1
            raise InputError(f"bytes that are not {encoding} (byte {e.start})", path=f, line=line,
                             expected="text, or pass --encoding") from None
        skipped["file is not text in the given encoding"] += 1
        return
    if not text.strip():
        if not many:
            raise InputError("empty file: no records", path=f, expected="a JSON object or a list of objects")
        skipped["empty file"] += 1
        return
    try:
        obj = json.loads(text)
    except RecursionError:
        raise InputError("JSON nested too deeply", path=f, expected="at most a few hundred levels") from None
    except json.JSONDecodeError as e:
        if not many:
            raise InputError(f"not valid JSON ({e.msg}, column {e.colno})", path=f, line=e.lineno,
                             expected="a JSON object or a list of objects") from None
        skipped["file is not valid JSON"] += 1
        return
    if isinstance(obj, list):
        yield from enumerate(obj)
        return
    if isinstance(obj, dict) and detect(obj) is None:
        lists = [v for v in obj.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
        if len(lists) == 1:  # {"conversations": [...]}: a container of records
            yield from enumerate(lists[0])
            return
    yield 0, obj


def iter_records(path: Path, encoding: str, skipped: Counter) -> Iterator[tuple[Path, int, object]]:
    """``(file, line or index, record)`` over a file or every trace file of a folder."""
    many = path.is_dir()
    files = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file()) if many else [path]
    for f in files:
        if f.suffix == ".log":  # ChatDev logs: one generic-turns record per chat
            for i, r in enumerate(chatdev_records(f.read_text(encoding=encoding, errors="replace"), f.name), 1):
                yield f, i, {**r, "_format": "chatdev"}
        elif f.suffix == ".json":
            for i, r in _json_file(f, encoding, many, skipped):
                yield f, i, r
        else:
            src = open_source(f, encoding=encoding, on_bad_line="skip")
            for i, r in src.records():
                yield f, i, r
            skipped.update(src.skipped)
        yield f, -1, None  # end of file: gathered fragments are parsed here


def iter_conversations(path: Path, info: InputInfo, fmt: str | None = None, encoding: str = "utf-8",
                       formats: Counter | None = None, label_fields: tuple = (None, None)) -> Iterator[Conversation]:
    """Conversations from ``path``; records that give none are counted in ``info`` by reason.
    ``label_fields``: the record fields holding the blamed agent and the decisive step (``--mistake-agent``,
    ``--mistake-step``), read into ``Conversation.labels``."""
    reader_skips: Counter = Counter()
    pending: dict[tuple, list] = {}
    first_line: dict[tuple, int] = {}
    for f, where, rec in iter_records(path, encoding, reader_skips):
        if rec is None and where == -1:
            for (kind, key), items in pending.items():
                out = parse_fragments(kind, key or f.name, items, first_line[(kind, key)])
                yield from _count(out, info, formats, kind, len(items))
            pending.clear()
            first_line.clear()
            continue
        info.rows_read += 1
        chatdev = isinstance(rec, dict) and rec.pop("_format", None) == "chatdev"
        out = parse_record(rec, where, fmt or ("turns" if chatdev else None))
        if isinstance(out, Fragment):
            k = (out.kind, out.key)
            pending.setdefault(k, []).append(out.item)
            first_line.setdefault(k, where)
            continue
        if chatdev and isinstance(out, list):
            for c in out:
                c.format = "chatdev"
        if isinstance(out, list) and any(label_fields):
            out = _labels(out, rec, label_fields, f, where)
        if path.is_dir() and f.suffix == ".json" and where == 0 and isinstance(out, list) and len(out) == 1:
            out[0].id = out[0].group = f.relative_to(path).as_posix()  # one trace per file: the file names it
        yield from _count(out, info, formats, None, 1)
    for reason, n in reader_skips.items():
        info.skip(reason, n)
        info.rows_read += n


def _labels(convs: list[Conversation], rec: dict, fields: tuple, f: Path, where: int):
    agent_col, step_col = fields
    for c in convs:
        if agent_col and rec.get(agent_col) is not None:
            c.labels["mistake_agent"] = str(rec[agent_col])
        if step_col and rec.get(step_col) is not None:
            try:
                c.labels["mistake_step"] = int(str(rec[step_col]).strip())
            except ValueError:
                return Skip(f"'{step_col}' is not a step number")
    return convs


def _count(out, info: InputInfo, formats, kind, n_records: int):
    if isinstance(out, Skip):
        info.skip(str(out), n_records)
        return
    info.rows_used += n_records if kind else 1
    for c in out:
        if formats is not None:
            formats[c.format or "turns"] += 1
        yield c


# -- conversations <-> Arrow rows ---------------------------------------------------------------------
def to_row(c: Conversation) -> dict:
    return {"id": c.id, "line": c.line, "group": c.group or c.id, "task": c.task, "outcome": c.outcome,
            "style": c.style, "terminated": c.terminated, "format": c.format,
            "aliases": json.dumps({k: sorted(v) for k, v in c.aliases.items()}),
            "labels": json.dumps(c.labels, default=str),
            "turns": [{"speaker": t.speaker, "role": t.role, "text": t.text, "tool_call": t.tool_call,
                       "tool_result": t.tool_result, "timestamp": t.timestamp, "error": t.error} for t in c.turns]}


def from_rows(batch: pa.RecordBatch) -> list[Conversation]:
    out = []
    for r in batch.to_pylist():
        turns = [Turn(**t) for t in r["turns"]]
        out.append(Conversation(r["id"], r["task"] or "", turns, r["outcome"], r["style"], bool(r["terminated"]),
                                {k: set(v) for k, v in json.loads(r["aliases"]).items()}, r["group"], r["line"],
                                json.loads(r["labels"]), r["format"] or ""))
    return out


class ConversationSource:
    """The engine's input: conversation rows in batches of about ``batch_size`` turns, ending on
    conversation boundaries. ``path`` lets the local engine size its process pool by the input file."""

    def __init__(self, path: Path, info: InputInfo, fmt: str | None, encoding: str, batch_size: int,
                 label_fields: tuple = (None, None)):
        self.path, self.info, self.fmt, self.encoding = path, info, fmt, encoding
        self.label_fields = label_fields
        self.batch_size = max(1, int(batch_size))
        self.formats: Counter = Counter()
        self.conversations = 0
        self.longest = 0

    def batches(self) -> Iterator[pa.RecordBatch]:
        rows, turns = [], 0
        for c in iter_conversations(self.path, self.info, self.fmt, self.encoding, self.formats, self.label_fields):
            self.conversations += 1
            self.longest = max(self.longest, len(c.turns))
            rows.append(to_row(c))
            turns += len(c.turns)
            if turns >= self.batch_size:
                yield pa.RecordBatch.from_pylist(rows, schema=CONV_SCHEMA)
                rows, turns = [], 0
        if rows:
            yield pa.RecordBatch.from_pylist(rows, schema=CONV_SCHEMA)
