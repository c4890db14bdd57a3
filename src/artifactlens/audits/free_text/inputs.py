"""Read human and LLM texts as a STREAM of record batches with the canonical columns ``text``, ``source``
(human/llm), ``pair_id``, ``domain``, ``row``, ``model`` (which LLM wrote it, where a model column is given)
and ``group`` (a user's ``--group`` column, e.g. native / non-native writers, for the separability's
false-positive rates by subgroup).

Understood without flags:

- long format: one text per row with a ``source`` column (``human`` / ``llm``; also machine, ai, model,
  generated, chatgpt, gpt... -> llm);
- HC3 (``question``, ``human_answers``, ``chatgpt_answers`` lists): one row per answer, paired by question;
- wide pairs (``human_text`` and ``machine_text`` columns, as in M4): one row per side, paired by row;
  a ``source`` column there names the domain; the human side is streamed first (one read of the file),
  then the LLM side (a second read), so the rows come in the order human 0..n-1, LLM 0..n-1;
- index-paired lists (``{"original": [...], "sampled": [...]}``, as in Fast-DetectGPT's raw data);
- two files (``--human FILE --llm FILE``), each with a text column, paired by the pair column if present.

``row`` is the input row (0-based) a text came from. Rows without text (or with a source that is neither
human nor llm) are skipped and counted.

:func:`open_corpus` returns a :class:`Corpus`: ``Corpus.batches()`` reads the input afresh on each call
(the readers of :mod:`artifactlens.io.readers` stream; only a ``.json`` list is parsed whole, by its
format) and yields cleaned :class:`pyarrow.RecordBatch` es of at most ``batch_size`` rows, so no pass
holds more than a batch of texts. Each full pass fills ``Corpus.info`` (rows read, skips, rows used) and
raises the corpus-level errors at its end (no usable text, one side only, a side without a word). A
pandas DataFrame given by the API is sliced into batches the same way.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from ...errors import InputError
from ...io.readers import open_source, require_columns
from ...result import InputInfo
from ..common import input_info

LLM_NAMES = {"llm", "machine", "ai", "model", "generated", "synthetic", "chatgpt", "gpt", "gpt-3.5", "gpt-4",
             "gpt4", "gpt3", "llama", "bot", "assistant", "1", "true"}
HUMAN_NAMES = {"human", "humans", "person", "people", "crowd", "original", "0", "false", "gold"}


def normalise_source(v) -> str | None:
    if v is None:
        return None
    s = str(v).strip().lower()
    if s in HUMAN_NAMES:
        return "human"
    if s in LLM_NAMES or s.startswith(("gpt", "llama", "claude", "mistral")):
        return "llm"
    return None


COLUMNS = ["text", "source", "pair_id", "domain", "row", "model", "group"]
SCHEMA = pa.schema([("text", pa.string()), ("source", pa.string()), ("pair_id", pa.string()),
                    ("domain", pa.string()), ("row", pa.int64()), ("model", pa.string()), ("group", pa.string())])
_WORD = re.compile(r"\w")


def _text_missing(v) -> bool:
    """pandas' ``isna`` on one text value (None, NaN, pd.NA, NaT)."""
    if v is None or isinstance(v, str):
        return v is None
    if isinstance(v, float):
        return math.isnan(v)
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _label(v) -> str | None:
    """pair / domain / model / group values: None and NaN stay missing, anything else its ``str``."""
    return None if (v is None or (isinstance(v, float) and math.isnan(v))) else str(v)


@dataclass
class _Pass:
    """The bookkeeping of one full pass: skips, rows used, the first kept source, words per side."""

    bad_source: int = 0
    empty: int = 0
    used: int = 0
    first_source: str | None = None
    has_word: dict = field(default_factory=lambda: {"human": False, "llm": False})
    sides: set = field(default_factory=set)


def _clean(ch: dict, st: _Pass) -> pa.RecordBatch:
    """One chunk of raw columns (lists) -> the canonical batch of its usable rows."""
    out: dict[str, list] = {c: [] for c in COLUMNS}
    n = len(ch["text"])
    cols = {c: ch.get(c) for c in ("pair_id", "domain", "model", "group")}
    for i in range(n):
        t, s = ch["text"][i], ch["source"][i]
        src = s if (isinstance(s, str) and s in ("human", "llm")) else normalise_source(s)
        empty = _text_missing(t) or str(t).strip() == ""
        if empty:
            st.empty += 1
            continue
        if src is None:
            st.bad_source += 1
            continue
        t = str(t)
        if st.first_source is None:
            st.first_source = src
        st.sides.add(src)
        if not st.has_word[src] and _WORD.search(t):
            st.has_word[src] = True
        out["text"].append(t)
        out["source"].append(src)
        out["row"].append(int(ch["row"][i]))
        for c, v in cols.items():
            out[c].append(None if v is None else _label(v[i]))
    st.used += len(out["text"])
    return pa.RecordBatch.from_arrays([pa.array(out[c], type=f.type) for c, f in zip(COLUMNS, SCHEMA)],
                                      schema=SCHEMA)


class Corpus:
    """The normalised corpus as a stream (:meth:`batches`), its bookkeeping (``info``) and its ``layout``."""

    def __init__(self, chunks: Callable[[], Iterator[dict]], finish: Callable[[], InputInfo], layout: str):
        self._chunks = chunks
        self._finish = finish
        self.layout = layout
        self.info: InputInfo | None = None

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The cleaned canonical batches (every call reads the input again). At the end of the pass the
        bookkeeping is set and a corpus no audit can use raises :class:`InputError`."""
        st = _Pass()
        for ch in self._chunks():
            b = _clean(ch, st)
            if b.num_rows:
                yield b
        info = self._finish()
        if st.bad_source:
            info.skip("source is neither human nor llm", st.bad_source)
        if st.empty:
            info.skip("empty text", st.empty)
        info.rows_used = st.used
        self.info = info
        if not st.used:
            raise InputError("no usable texts (all empty or with an unknown source)", path=info.path,
                             expected="texts with source human or llm")
        if len(st.sides) < 2:
            raise InputError(f"only {st.first_source} texts found", path=info.path, column="source",
                             expected="both human and llm texts")
        for side in ("human", "llm"):
            if not st.has_word[side]:
                raise InputError(f"no {side} text has a word (only spaces, punctuation or symbols)",
                                 path=info.path, column="text", expected=f"{side} texts with words")


def _col(b: pa.RecordBatch, name: str | None) -> list | None:
    return b.column(name).to_pylist() if name is not None and name in b.schema.names else None


def _first_batch_columns(src) -> list[str]:
    gen = src.batches()
    try:
        return list(next(gen).schema.names)
    finally:
        gen.close()


def _peek_record(src):
    if src.format not in ("json", "jsonl"):
        return None
    gen = iter(src.records())
    try:
        first = next(gen, None)
    finally:
        close = getattr(gen, "close", None)
        if close:
            close()
    return first[1] if first is not None and isinstance(first[1], dict) else None


def _records_chunks(src, kind: str, domain_col: str, batch_size: int) -> Iterator[dict]:
    """HC3 or index-paired lists, one row per answer, in chunks of about ``batch_size`` rows."""
    rows: dict[str, list] = {c: [] for c in COLUMNS}

    def put(t, s, pid, dom, row):
        rows["text"].append(t)
        rows["source"].append(s)
        rows["pair_id"].append(pid)
        rows["domain"].append(dom)
        rows["row"].append(row)
    count = texts = 0
    for k, (where, o) in enumerate(src.records()):
        count += 1
        if kind == "lists":
            for side, src_name in (("original", "human"), ("sampled", "llm")):
                for j, t in enumerate(o.get(side) or []):
                    put(t, src_name, f"{k}:{j}", None, j)
                    texts += 1
        else:
            pid = str(o.get("id", k))
            dom = o.get(domain_col, o.get("source"))
            for side, name in (("human_answers", "human"), ("chatgpt_answers", "llm")):
                answers = o.get(side) or []
                if isinstance(answers, str):
                    answers = [answers]
                for t in answers:
                    put(t, name, pid, dom, k)
        if len(rows["text"]) >= batch_size:
            yield {**rows, "model": None, "group": None}
            rows = {c: [] for c in COLUMNS}
    if rows["text"]:
        yield {**rows, "model": None, "group": None}
    src.rows_read = texts if kind == "lists" else count


def open_corpus(path=None, human=None, llm=None, text: str = "text", source: str = "source",
                pair: str = "pair_id", domain: str = "domain", encoding: str = "utf-8",
                batch_size: int = 8192, model: str = "model", group: str | None = None) -> Corpus:
    """The corpus as a stream; the layout found (long, records, wide, two-files) is ``Corpus.layout``.
    A ``group`` column named but absent is an :class:`InputError`; an absent model column is no model."""
    if isinstance(path, pd.DataFrame):
        return _frame_corpus(path, text, source, pair, domain, model, group, batch_size)
    if path is None and (human is None or llm is None):
        raise InputError("give FILE, or both --human FILE and --llm FILE", expected="a corpus to audit")
    if path is None:
        return _two_files(human, llm, text, pair, domain, model, group, encoding, batch_size)
    src = open_source(path, encoding=encoding, batch_size=batch_size)
    obj = _peek_record(src)
    if obj is not None:
        kind = ("lists" if isinstance(obj.get("original"), list) and isinstance(obj.get("sampled"), list) else
                "hc3" if "human_answers" in obj and "chatgpt_answers" in obj else None)
        if kind:
            return Corpus(lambda: _records_chunks(src, kind, domain, batch_size), lambda: input_info(src), "records")
    cols = _first_batch_columns(src)
    if "human_text" in cols and "machine_text" in cols and text not in cols:
        if group is not None:
            require_columns(cols, {"--group": group}, src.path)
        def wide():
            for c, s in (("human_text", "human"), ("machine_text", "llm")):
                off = 0
                for b in src.batches():
                    n = b.num_rows
                    names = b.schema.names
                    dom = _col(b, domain) if domain in names else _col(b, "source")
                    pid = _col(b, pair) if pair in names else [str(i) for i in range(off, off + n)]
                    yield {"text": _col(b, c), "source": [s] * n, "pair_id": pid, "domain": dom,
                           "row": range(off, off + n), "model": _col(b, model) if s == "llm" else None,
                           "group": _col(b, group)}
                    off += n
        return Corpus(wide, lambda: input_info(src), "wide")
    require_columns(cols, {"--text": text, "--source": source}, src.path)
    if group is not None:
        require_columns(cols, {"--group": group}, src.path)

    def long():
        off = 0
        for b in src.batches():
            n = b.num_rows
            yield {"text": _col(b, text), "source": _col(b, source), "pair_id": _col(b, pair),
                   "domain": _col(b, domain), "row": range(off, off + n), "model": _col(b, model),
                   "group": _col(b, group)}
            off += n
    return Corpus(long, lambda: input_info(src), "long")


def _two_files(human, llm, text, pair, domain, model, group, encoding, batch_size) -> Corpus:
    srcs = [(name, open_source(p, encoding=encoding, batch_size=batch_size)) for name, p in
            (("human", human), ("llm", llm))]

    def chunks():
        for name, src in srcs:
            off = 0
            for b in src.batches():
                if off == 0:
                    require_columns(b.schema.names, {"--text": text}, src.path)
                    if group is not None:
                        require_columns(b.schema.names, {"--group": group}, src.path)
                n = b.num_rows
                yield {"text": _col(b, text), "source": [name] * n, "pair_id": _col(b, pair),
                       "domain": _col(b, domain), "row": range(off, off + n), "model": _col(b, model),
                       "group": _col(b, group)}
                off += n

    def finish():
        infos = [input_info(s) for _, s in srcs]
        info = infos[0]
        info.path = f"{human} + {llm}"
        info.sha256 = f"{infos[0].sha256}+{infos[1].sha256}"
        info.rows_read = infos[0].rows_read + infos[1].rows_read
        for reason, n in infos[1].rows_skipped.items():
            info.skip(reason, n)
        return info
    return Corpus(chunks, finish, "two-files")


def _frame_corpus(df: pd.DataFrame, text, source, pair, domain, model, group, batch_size) -> Corpus:
    if group is not None:
        require_columns(list(df.columns), {"--group": group}, "DataFrame")
    names = {text: "text", source: "source", pair: "pair_id", domain: "domain", model: "model",
             **({group: "group"} if group else {})}
    cols = [names.get(c, c) for c in df.columns]
    require_columns(cols, {"--text": "text", "--source": "source"}, "DataFrame")
    where = {c: i for i, c in reversed(list(enumerate(cols)))}  # the first column of a name, as pandas picks

    def chunks():
        for a in range(0, len(df), batch_size):
            sl = df.iloc[a:a + batch_size]
            yield {c: (sl.iloc[:, where[c]].tolist() if c in where else None)
                   for c in ("text", "source", "pair_id", "domain", "model", "group")} | {
                "row": range(a, a + len(sl))}
    return Corpus(chunks, lambda: InputInfo(path="<DataFrame>", format="pandas", rows_read=len(df)), "long")


def column_lists(batches) -> dict[str, np.ndarray]:
    """The canonical columns of ``batches`` gathered (for tests and small corpora): {column: array}."""
    t = pa.Table.from_batches(list(batches), schema=SCHEMA)
    return {c: np.asarray(t.column(c).to_pylist(), dtype=object) for c in COLUMNS}
