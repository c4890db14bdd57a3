"""Lexicon scores shared by the preference (locality cues) and text (sentiment, emotion) audits.

Wraps two lexicons that ship inside their packages, so nothing downloads:

- VADER (``vaderSentiment``): a rule-based sentiment score, ``compound`` in [-1, 1] (Hutto & Gilbert 2014);
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


@lru_cache(maxsize=1)
def _vader():
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
