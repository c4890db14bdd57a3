"""Completeness, in the "output does not follow" family: an output that answers only part of a
multi-part instruction, or one far shorter than the outputs for comparable instructions.

"Comparable" is the instruction's task type (:func:`task_types`: a few regex classes on the opening
verb, vectorised in RE2), and what is usual for a type is *learned from the data itself*:
:meth:`OutputTooShort.fit` takes the quartiles of the output word counts per type over a sample of the
rows (the audit fits on ``FIT_ROWS`` rows evenly spaced over the first ``4 * FIT_ROWS`` before the pass; numpy quantiles,
the same for every engine because the fitted detector is what the workers receive).

Three more, from comparing raw rows with their revisions (issue 20; measured on the Self-Instruct human
evaluation, GPT-3-tuned-on-Self-Instruct responses against the human targets, :mod:`..revisions`):
several items asked and one given (:class:`TooFewItems`), an explanation asked and a bare label given
(:class:`ExplanationMissing`), a list that loops (:class:`ItemsRepeated`, items counted in Polars).
"""
from __future__ import annotations

import re
from collections import Counter

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from ....engine import RowScores
from .base import QUALITY_FAMILY, Features, InstructionDetector, count_chars, register, rx
from .following import FAMILY, FollowingDetector, content_words

#: task types, first match wins (lower-cased instruction); the rest is "other"
TASK_TYPES = (
    ("write", r"^(?:please )?(?:write|compose|draft|create|generate|produce|develop|craft)\s+(?:[a-z0-9-]+\s+){0,4}?"
              r"(?:story|stories|essay|poem|letter|email|article|blog|speech|song|review|report|dialog|dialogue|"
              r"paragraph|proposal|guide|post|narrative|tale|biography|cover letter)\b"),
    ("explain", r"^(?:please )?(?:explain|describe|discuss|elaborate|analy[sz]e|compare|contrast|outline|"
                r"evaluate|why|how does|how do|how can|how to|what are the (?:benefits|advantages|differences|"
                r"causes|effects))\b"),
    ("list", r"^(?:please )?(?:list|name|give|provide|suggest|brainstorm|enumerate|identify)\b"),
    ("rewrite", r"^(?:please )?(?:rewrite|rephrase|paraphrase|edit|correct|improve|reword|translate|convert|"
                r"change|summari[sz]e)\b"),
    ("classify", r"^(?:please )?(?:classify|categori[sz]e|label|determine whether|decide|is |are |does |do |"
                 r"which|select|choose|pick|rate)\b"),
    ("compute", r"^(?:please )?(?:calculate|compute|evaluate|solve|find the|what is \d|how many|how much)\b"),
)


def task_types(f) -> np.ndarray:
    """``(n,)`` int: the index into :data:`TASK_TYPES` of each row's type, ``len(TASK_TYPES)`` = other."""
    def compute():
        out = np.full(f.n, len(TASK_TYPES), np.int64)
        free = np.ones(f.n, bool)
        for i, (_, pattern) in enumerate(TASK_TYPES):
            hit = rx(f.ins_l, pattern, where=free)
            out[hit] = i
            free &= ~hit
        return out
    return f.get("task_type", compute)


TYPE_NAMES = tuple(n for n, _ in TASK_TYPES) + ("other",)


@register
class OutputTooShort(InstructionDetector):
    """An output far shorter than the outputs for instructions of the same task type (:data:`TASK_TYPES`)
    in this data: fewer words than a quarter of the type's first quartile, where that quartile is 20+
    words and the type has 30+ rows in the fitting sample (a one-line answer to "write a story" where
    stories here run 150-400 words). Score: the output's words / the type's first quartile (lower is
    worse); NaN for unfitted or short-answer types. Reason: the expected range (the type's quartiles).
    Tests: 3/3, 0/3."""

    name, family, threshold, higher_is_worse = "output_too_short", FAMILY, 0.25, False
    description = "output far shorter than outputs for comparable instructions (range learned from the data)"
    MIN_ROWS, MIN_Q1 = 30, 40
    SCORED = ("write", "explain")  # a list, a label, a rewrite, a sum or "other" may be rightly one line

    def __init__(self):
        self.expected: dict[str, tuple] = {}  # type -> (q1, median, q3, rows)

    def fit(self, f) -> "OutputTooShort":
        """Learn the quartiles of output words per task type from a :class:`Features` of sample rows."""
        types, w = task_types(f), np.asarray(f.out_words, np.float64)
        self.expected = {}
        for i, name in enumerate(TYPE_NAMES):
            x = w[types == i]
            if len(x) >= self.MIN_ROWS:
                q1, q2, q3 = np.quantile(x, [0.25, 0.5, 0.75])
                self.expected[name] = (float(q1), float(q2), float(q3), int(len(x)))
        return self

    def config(self) -> dict:
        return {**super().config(), "expected_words": {k: list(v) for k, v in self.expected.items()}}

    def score_features(self, f):
        score, reasons = np.full(f.n, np.nan), [None] * f.n
        if not self.expected:
            return RowScores(score, reasons)
        types, w = task_types(f), np.asarray(f.out_words, np.float64)
        for i, name in enumerate(TYPE_NAMES):
            e = self.expected.get(name)
            if e is None or e[0] < self.MIN_Q1 or name not in self.SCORED:
                continue
            m = types == i
            score[m] = w[m] / e[0]
            for k in np.flatnonzero(m & (score <= self.threshold)):
                reasons[k] = (f"{int(w[k])} words; '{name}' outputs here run {e[0]:.0f}-{e[2]:.0f} words "
                              f"(quartiles of {e[3]} rows)")
        return RowScores(score, reasons)


_OPENING = r"^[^a-z]*(?:please\s+)?(?:can you\s+|could you\s+)?(?P<verb>[a-z']+)"


def opening_words(f, idx: np.ndarray) -> list[str]:
    """The opening word of the rows ``idx``' lower-cased instructions ("please" and "can/could you"
    skipped; "" when there is none): RE2's ``extract_regex`` on those rows only."""
    if not idx.size:
        return []
    ex = pc.extract_regex(f.ins_l.take(pa.array(idx, type=pa.int64())), _OPENING)
    return [v or "" for v in pc.struct_field(ex, [0]).to_pylist()]


def _quartiles(x) -> tuple:
    q1, q2, q3 = np.quantile(x, [0.25, 0.5, 0.75])
    return float(q1), float(q2), float(q3), int(len(x))


@register
class OutputTerse(InstructionDetector):
    """A bare answer where comparable answers here elaborate: at most a sixth of the median word count of
    the outputs for comparable instructions, where that median is 20+ words. "Comparable" is the
    instruction's opening word ("describe", "generate", "tell") when 30+ rows of the fitting sample open
    with it, else its task type (:data:`TASK_TYPES`) when that has 30+ rows. Task types whose answers are
    rightly one line (a list item, a label, a rewrite, a sum) are not scored. Score: the output's words /
    that median (lower is worse); NaN where unfitted or not scored. Reason: the expected range.

    Not an error (family :data:`~.base.QUALITY_FAMILY`, never in ``error``): a short answer may be right
    ("Form an antonym for 'abundant'" -> "Scarce."), and the Self-Instruct human evaluation's human answers
    are often that short and rated correct. It is what CoachLM's experts rewrote: on 2,301 expert-revised
    Alpaca rows, the rule (chosen on one half, split by a hash of the row number, and stable across halves
    of that half) flags the raw rows about ten times as often as their revisions on the other half, and
    nine in ten of the raw rows it flags became 1.5x longer or more (``bench/check_coachlm_revisions.py``).
    The median, not the first quartile: a mixed type ("other") has its first quartile on either side of
    any floor from one sample to the next. Tests: 3/3, 0/3."""

    name, family, threshold, higher_is_worse = "output_terse", QUALITY_FAMILY, 1 / 6, False
    description = "a bare answer where answers to comparable instructions here elaborate (not an error)"
    MIN_ROWS, MIN_MEDIAN = 30, 20
    NOT_SCORED = ("list", "rewrite", "classify", "compute")

    def __init__(self):
        self.by_type: dict[str, tuple] = {}  # task type -> (q1, median, q3, rows)
        self.by_opening: dict[str, tuple] = {}  # opening word -> (q1, median, q3, rows)

    def fit(self, f) -> "OutputTerse":
        """Learn the quartiles of output words per task type and per opening word (each with 30+ rows)
        from a :class:`Features` of sample rows."""
        types, w = task_types(f), np.asarray(f.out_words, np.float64)
        self.by_type = {name: _quartiles(w[types == i]) for i, name in enumerate(TYPE_NAMES)
                        if (types == i).sum() >= self.MIN_ROWS}
        opening = np.array(opening_words(f, np.arange(f.n)), dtype=object)
        found, counts = np.unique(opening, return_counts=True) if f.n else ([], [])
        self.by_opening = {str(v): _quartiles(w[opening == v]) for v, c in zip(found, counts)
                           if v and c >= self.MIN_ROWS}
        return self

    def config(self) -> dict:
        return {**super().config(), "expected_words": {k: list(v) for k, v in self.by_type.items()},
                "expected_words_by_opening_word": {k: list(v) for k, v in self.by_opening.items()}}

    def score_features(self, f):
        score, reasons = np.full(f.n, np.nan), [None] * f.n
        types, w = task_types(f), np.asarray(f.out_words, np.float64)
        idx = np.flatnonzero(~np.isin(types, [TYPE_NAMES.index(t) for t in self.NOT_SCORED]))
        if not idx.size or not (self.by_type or self.by_opening):
            return RowScores(score, reasons)
        # each row's reference: its opening word's median where fitted, else its task type's
        opening = pl.Series(opening_words(f, idx), dtype=pl.String)
        by_type = np.array([self.by_type.get(t, (np.nan,) * 4)[1] for t in TYPE_NAMES])
        med = opening.replace_strict({k: v[1] for k, v in self.by_opening.items()}, default=None,
                                     return_dtype=pl.Float64).to_numpy()
        own = ~np.isnan(med)
        med = np.where(own, med, by_type[types[idx]])
        ok = med >= self.MIN_MEDIAN
        score[idx[ok]] = w[idx[ok]] / med[ok]
        for j in np.flatnonzero(ok & (score[idx] <= self.threshold)):
            k, tname = idx[j], TYPE_NAMES[types[idx[j]]]
            e, what = (self.by_opening[opening[int(j)]], f"'{opening[int(j)]} ...'") if own[j] else \
                (self.by_type[tname], f"'{tname}'")
            reasons[k] = (f"{int(w[k])} words; {what} outputs here run {e[0]:.0f}-{e[2]:.0f} words "
                          f"(quartiles of {e[3]} rows, median {e[1]:.0f})")
        return RowScores(score, reasons)


_PART_SPLIT = re.compile(r"(?<=[?])\s+|^\s*(?:\d+[.)]|[a-z][.)]|[-*•])\s+|;\s+|\.\s+(?=(?:also|then|and|"
                         r"finally|additionally|next)\b)", re.I | re.M)
_PART_MIN_WORDS = 2
_TASK_VERBS = content_words("mention list make give provide explain describe write find tell name include also then "
                            "finally additionally next please summarize summarise state show discuss identify suggest "
                            "answer create generate")


def instruction_parts(ins: str) -> list[str]:
    """The separately answerable parts of an instruction: its questions (2+ ``?``), numbered/bulleted
    sub-tasks, parts after ``;`` or "Also/Then/Finally"; each of 2+ words. One part: not multi-part."""
    parts = [p.strip() for p in _PART_SPLIT.split(ins) if p and p.strip()]
    return [p for p in parts if len(p.split()) >= _PART_MIN_WORDS]


@register
class MultiPartIncomplete(FollowingDetector):
    """A multi-part instruction (2-6 questions or numbered sub-tasks) whose output answers only some
    parts: a part none of whose own content words (3+ letters, stop words and task verbs aside, first five
    letters; 2+ of them, not shared with another part) occurs in the output, while another part's do. Outputs of 5+ words. Score: 1 when a part is missed.
    Reason: the part and its words. Tests: 3/3, 0/4."""

    name = "multi_part_incomplete"
    description = "a multi-part instruction answered only in part"
    PATTERN = (r"(?m)\?[^?]*\S[^?]*\?|^\s*(?:\d+[.)]|[a-z][.)])\s+.*\n\s*(?:\d+[.)]|[a-z][.)])\s+|; "
               r"|\. (?:also|then|finally|additionally)\b")

    def candidates(self, f):
        return rx(f.ins_l, self.PATTERN, where=f.out_words >= 5)

    def check(self, ins, inp, out):
        parts = instruction_parts(ins)
        if not 2 <= len(parts) <= 6:
            return False, False, ""
        have = content_words(out + " " + inp)
        words = [content_words(p) - _TASK_VERBS for p in parts]
        if any(not w for w in words):
            return False, False, ""
        shared = set.intersection(*words) if len(words) > 1 else set()
        own = [w - shared for w in words]
        hit = [bool(w & have) for w in own]
        if not any(hit) or all(hit) or any(len(w) < 2 for w in own):
            return True, False, ""
        k = hit.index(False)
        return True, True, (f"part {k + 1} of {len(parts)} not addressed ('{parts[k][:80]}'): none of "
                            f"{sorted(own[k])[:5]} in the output")


FIT_ROWS = 50_000


def fit_sample(batches, limit: int = FIT_ROWS):
    """The :class:`~.base.Features` of ``limit`` rows to fit on, evenly spaced over the first ``4 * limit``
    rows of the (normalised) batches given: the whole input when it is that short."""
    rows = []
    n = 0
    for b in batches:
        rows.append(b.select(["instruction", "input", "output"]))
        n += b.num_rows
        if n >= 4 * limit:
            break
    if not rows:
        return None
    t = pa.Table.from_batches(rows).combine_chunks()
    if t.num_rows > limit:
        t = t.take(pa.array(np.linspace(0, t.num_rows - 1, limit).astype(np.int64)))
    return Features(t.to_batches()[0] if t.num_rows else rows[0].slice(0, 0))



# -- what expert revisions fix (issue 20: raw rows vs their revisions) ---------------------------------
#: a request for several things: "some/several/a few/a list of/as many ... <plural noun>"
PLURAL_ASK = (r"\b(?:some|several|a few|multiple|various|a number of|a couple of|a list of|list of|as many)\s+"
              r"(?:[a-z-]+\s+){0,3}?[a-z-]{2,}s\b")
_ONE_ASKED = r"\b(?:each|one of|which|whether|classify|categori[sz]e|select one|choose one|pick one|a single)\b"


@register
class TooFewItems(InstructionDetector):
    """Several things asked for ("some search queries", "a few questions", "as many captions as you can",
    "a list of ..."), one given: an output of 1-12 words on one line with no list separator (``,`` ``;``
    ``&``, "and", "or"). Not where the instruction asks for one of several ("classify", "which", "each",
    "select one"). The case Self-Instruct's GPT-3 answers and people do not: a single hook where many
    were asked. Tests: 3/3, 0/4."""

    name, family, threshold = "too_few_items", FAMILY, 0.5
    description = "several items asked for, a single one given"
    MAX_WORDS = 12
    PATTERN = PLURAL_ASK  # (the instruction regex, also timed in bench_instructions.py's Polars pass)

    def score_features(self, f):
        w = f.out_words
        cand = (w >= 1) & (w <= self.MAX_WORDS)
        cand &= count_chars(f.out_l, "\n,;&") == 0
        cand = rx(f.ins_l, PLURAL_ASK, where=cand)
        cand &= ~rx(f.out_l, r"\b(?:and|or)\b", where=cand)
        cand &= ~rx(f.ins_l, _ONE_ASKED, where=cand)
        asked = re.compile(PLURAL_ASK)
        ins = dict(zip(np.flatnonzero(cand), f.texts("ins_l", np.flatnonzero(cand))))
        return self.binary(cand, lambda i: f"asked for several ('{asked.search(ins[i]).group(0)}'); output: one item "
                                           f"of {int(w[i])} word(s)")


EXPLAIN_ASK = (r"\b(?:explain|justify|prove|elaborate|show (?:your|the) (?:work|steps|reasoning)|step[- ]by[- ]step|"
               r"give (?:a |your |the )?reasons?|explanations?|reasoning)\b")
_NO_EXPLAIN = (r"\b(?:one|single|two|three)[- ]words?\b|\bno explanation|without (?:any )?(?:an )?explanation|"
               r"only the answer|just the answer|only (?:with )?(?:yes|true|the)")


@register
class ExplanationMissing(InstructionDetector):
    """An explanation, a proof or the reasoning asked for ("select the option and explain", "prove the
    statement", "justify your answer", "step by step"), and an output of 1-3 words: a bare label ("(a)",
    "True") where the instruction wants the why. Not where a one-word or answer-only reply is asked for.
    Tests: 3/3, 0/3."""

    name, family, threshold = "explanation_missing", FAMILY, 0.5
    description = "an explanation or proof asked for, a bare answer of 1-3 words given"
    MAX_WORDS = 3
    PATTERN = EXPLAIN_ASK

    def score_features(self, f):
        w = f.out_words
        cand = rx(f.ins_l, EXPLAIN_ASK, where=(w >= 1) & (w <= self.MAX_WORDS))
        cand &= ~rx(f.ins_l, _NO_EXPLAIN, where=cand)
        asked = re.compile(EXPLAIN_ASK)
        idx = np.flatnonzero(cand)
        txt = {i: (a, o) for i, a, o in zip(idx, f.texts("ins_l", idx), f.texts("out", idx))}
        return self.binary(cand, lambda i: f"asked: '{asked.search(txt[i][0]).group(0)}'; output: "
                                           f"'{txt[i][1].strip()[:40]}' ({int(w[i])} word(s))")


@register
class ItemsRepeated(InstructionDetector):
    """A list that repeats itself: of an output's items (pieces between ``,`` ``;`` and line breaks, list
    markers, digits and end punctuation stripped, lower-cased, 4+ characters; 6+ items), the share that
    repeat an earlier item. The generation loop experts cut ("Rick and Morty, Rick and Morty, ...", the
    same question 20 times). Score: that share. Items are split and counted in Polars (``extract_all``,
    ``n_unique``) on the rows with 5+ separators only. Tests: 3/3, 0/4."""

    name, family, threshold = "items_repeated", FAMILY, 0.3
    description = "a list whose items repeat (a generation loop)"
    MIN_ITEMS, MIN_CHARS = 6, 4
    _SPLIT, _STRIP = r"[^,;\n]+", " .!?*•-\t\"'0123456789)(:#"

    def items(self, texts) -> "pl.Series":
        s = pl.Series(texts, dtype=pl.String).str.extract_all(self._SPLIT)
        return s.list.eval(pl.element().str.strip_chars(self._STRIP)).list.eval(
            pl.element().filter(pl.element().str.len_chars() >= self.MIN_CHARS))

    def score_features(self, f):
        score, reasons = np.zeros(f.n), [None] * f.n
        idx = np.flatnonzero(count_chars(f.out_l, ",;\n") >= self.MIN_ITEMS - 1)
        if idx.size:
            it = self.items(f.texts("out_l", idx))
            n, u = it.list.len().to_numpy().astype(np.float64), it.list.n_unique().to_numpy().astype(np.float64)
            s = np.where(n >= self.MIN_ITEMS, (n - u) / np.maximum(n, 1), 0.0)
            score[idx] = s
            for k in np.flatnonzero(s >= self.threshold):
                top, times = Counter(it[int(k)].to_list()).most_common(1)[0]
                reasons[idx[k]] = (f"{int(n[k] - u[k])} of {int(n[k])} list items repeat an earlier one "
                                   f"('{top[:40]}' x{times})")
        return RowScores(score, reasons)
