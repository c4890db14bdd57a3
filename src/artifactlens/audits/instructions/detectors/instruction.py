"""Incomprehensible instruction: empty, cut off, garbled, or unfilled template text."""
from __future__ import annotations

import numpy as np
import pyarrow.compute as pc

from ....engine import RowScores
from .base import (ERROR_TYPES, InstructionDetector, _ASCII_SYMBOLS, _np, count_chars, reasons_where,
                   register, rx)




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
