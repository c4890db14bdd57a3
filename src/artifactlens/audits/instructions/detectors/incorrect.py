"""Incorrect output, checked mechanically: arithmetic and unit conversions recomputed, counting,
sorting and reversing re-executed, code parsed.
"""
from __future__ import annotations

import re

import pyarrow.compute as pc

from .. import recompute
from .base import ERROR_TYPES, InstructionDetector, _np, register, rx


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
