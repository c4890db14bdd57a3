"""Inconsistent input: an input referred to but missing, or one the instruction cannot use."""
from __future__ import annotations

import pyarrow.compute as pc

from .base import ERROR_TYPES, InstructionDetector, _np, register, rx


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
