"""Lexicon scores shared by the preference (locality cues) and text (sentiment, emotion) audits.

Wraps two lexicons that ship inside their packages, so nothing downloads:

- VADER (``vaderSentiment``): a rule-based sentiment score, ``compound`` in [-1, 1] (Hutto & Gilbert 2014).
  Its analyser lower-cases the whole word list for every sentiment word (negation and idiom checks) and
  finds each score's position with ``list.index`` in the 'but' rule, so one text of n words costs O(n^2)
  (a 256 KiB text took minutes). :class:`LinearVader` overrides those three methods with ones that give
  the same scores (the same words looked at, Python's negative indices included, the same first-equal-value
  rule for 'but') in O(n log n); a test compares it with the original;
- the NRC Emotion Lexicon as bundled by ``nrclex`` (``nrclex/data/nrc_en.json``): word -> emotions
  (anger, anticipation, disgust, fear, joy, negative, positive, sadness, surprise, trust; Mohammad &
  Turney 2013). We read the word list directly (what ``NRCLex.load_token_list`` does per text) so a batch
  is scored with one dictionary lookup per token.

A user lexicon is a TSV ``word<TAB>score``; :func:`lexicon_score` gives the mean score per token.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")
NRC_EMOTIONS = ("anger", "anticipation", "disgust", "fear", "joy", "negative", "positive", "sadness",
                "surprise", "trust")


def tokens(text: str | None) -> list[str]:
    return TOKEN.findall((text or "").lower())


def _linear_vader_class():
    import heapq

    from vaderSentiment.vaderSentiment import (BOOSTER_DICT, N_SCALAR, SPECIAL_CASES,
                                               SentimentIntensityAnalyzer, negated)

    class LinearVader(SentimentIntensityAnalyzer):
        """VADER with the per-word whole-list work removed (same scores, linear in the text's length)."""

        _low_of = None
        _low = None

        def _lower(self, words):
            if self._low_of is not words:  # one lower-cased copy per text (the methods get the same list)
                self._low_of, self._low = words, [str(w).lower() for w in words]
            return self._low

        def _negation_check(self, valence, words_and_emoticons, start_i, i):
            w = self._lower(words_and_emoticons)  # the original's body, on the cached lower-cased list
            if start_i == 0:
                if negated([w[i - 1]]):
                    valence = valence * N_SCALAR
            if start_i == 1:
                if w[i - 2] == "never" and (w[i - 1] == "so" or w[i - 1] == "this"):
                    valence = valence * 1.25
                elif w[i - 2] == "without" and w[i - 1] == "doubt":
                    pass
                elif negated([w[i - 2]]):
                    valence = valence * N_SCALAR
            if start_i == 2:
                if (w[i - 3] == "never" and (w[i - 2] == "so" or w[i - 2] == "this")
                        or (w[i - 1] == "so" or w[i - 1] == "this")):
                    valence = valence * 1.25
                elif w[i - 3] == "without" and (w[i - 2] == "doubt" or w[i - 1] == "doubt"):
                    pass
                elif negated([w[i - 3]]):
                    valence = valence * N_SCALAR
            return valence

        def _special_idioms_check(self, valence, words_and_emoticons, i):
            w = self._lower(words_and_emoticons)
            onezero = f"{w[i - 1]} {w[i]}"
            twoonezero = f"{w[i - 2]} {w[i - 1]} {w[i]}"
            twoone = f"{w[i - 2]} {w[i - 1]}"
            threetwoone = f"{w[i - 3]} {w[i - 2]} {w[i - 1]}"
            threetwo = f"{w[i - 3]} {w[i - 2]}"
            for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
                if seq in SPECIAL_CASES:
                    valence = SPECIAL_CASES[seq]
                    break
            if len(w) - 1 > i:
                zeroone = f"{w[i]} {w[i + 1]}"
                if zeroone in SPECIAL_CASES:
                    valence = SPECIAL_CASES[zeroone]
            if len(w) - 1 > i + 1:
                zeroonetwo = f"{w[i]} {w[i + 1]} {w[i + 2]}"
                if zeroonetwo in SPECIAL_CASES:
                    valence = SPECIAL_CASES[zeroonetwo]
            for n_gram in (threetwoone, threetwo, twoone):
                if n_gram in BOOSTER_DICT:
                    valence = valence + BOOSTER_DICT[n_gram]
            return valence

        def _but_check(self, words_and_emoticons, sentiments):
            low = self._lower(words_and_emoticons)
            if "but" not in low:
                return sentiments
            bi = low.index("but")
            # the original walks positions p and rescales the FIRST position holding sentiments[p]'s value;
            # heaps of positions per value (stale entries skipped) find that position in O(log n)
            where: dict[float, list[int]] = {}
            for p, v in enumerate(sentiments):
                where.setdefault(v, []).append(p)  # ascending: already a heap
            for p in range(len(sentiments)):
                v = sentiments[p]
                h = where[v]
                while sentiments[h[0]] != v:
                    heapq.heappop(h)
                si = h[0]
                if si == bi:
                    continue
                nv = v * (0.5 if si < bi else 1.5)
                if nv == v:
                    continue
                sentiments[si] = nv
                heapq.heappop(h)
                heapq.heappush(where.setdefault(nv, []), si)
            return sentiments

    return LinearVader


@lru_cache(maxsize=1)
def _vader():
    return _linear_vader_class()()


@lru_cache(maxsize=1)
def _vader_original():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    return SentimentIntensityAnalyzer()


def vader_compound(texts: Iterable[str | None]) -> np.ndarray:
    """VADER compound sentiment per text, (n,) float in [-1, 1]; empty text scores 0."""
    sia = _vader()
    return np.array([sia.polarity_scores(t)["compound"] if t else 0.0 for t in texts], dtype=np.float64)


@lru_cache(maxsize=1)
def nrc_lexicon() -> dict[str, tuple[str, ...]]:
    from importlib.resources import files
    with files("nrclex.data").joinpath("nrc_en.json").open("r", encoding="utf-8") as f:
        raw = json.load(f)
    return {w.lower(): tuple(e for e in emos if e in NRC_EMOTIONS) for w, emos in raw.items()}


def nrc_emotions(texts: Iterable[str | None], normalise: bool = True) -> dict[str, np.ndarray]:
    """NRC emotion counts per text: ``{emotion: (n,) array}``; with ``normalise`` divided by the
    number of tokens (a rate per token, 0 for empty texts)."""
    lex = nrc_lexicon()
    texts = list(texts)
    out = {e: np.zeros(len(texts)) for e in NRC_EMOTIONS}
    idx = {e: i for i, e in enumerate(NRC_EMOTIONS)}
    mat = np.zeros((len(texts), len(NRC_EMOTIONS)))
    for i, t in enumerate(texts):
        toks = tokens(t)
        for w in toks:
            for e in lex.get(w, ()):
                mat[i, idx[e]] += 1
        if normalise and toks:
            mat[i] /= len(toks)
    for e, j in idx.items():
        out[e] = mat[:, j]
    return out


def load_lexicon_tsv(path) -> dict[str, float]:
    """A user lexicon: one ``word<TAB>score`` per line (a header line is skipped if its score is not a
    number). Raises InputError naming the line that does not fit."""
    from ..errors import InputError
    lex: dict[str, float] = {}
    p = Path(path)
    if not p.exists():
        raise InputError("no such file", path=p, expected="a TSV lexicon word<TAB>score")
    with open(p, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            line = line.rstrip("\n\r")
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) < 2:
                raise InputError("a line without a tab", path=p, line=n, expected="word<TAB>score")
            try:
                lex[parts[0].strip().lower()] = float(parts[1])
            except ValueError:
                if n == 1:
                    continue
                raise InputError(f"score {parts[1]!r} is not a number", path=p, line=n,
                                 expected="word<TAB>score") from None
    return lex


def lexicon_score(texts: Sequence[str | None], lexicon: dict[str, float]) -> np.ndarray:
    """Mean lexicon score over the tokens of each text (tokens not in the lexicon count as 0)."""
    out = np.zeros(len(texts))
    for i, t in enumerate(texts):
        toks = tokens(t)
        if toks:
            out[i] = sum(lexicon.get(w, 0.0) for w in toks) / len(toks)
    return out
