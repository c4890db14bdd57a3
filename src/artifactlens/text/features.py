"""Per-text style features for comparing LLM and human text, computed fast (no embeddings).

Every feature is listed in :data:`FEATURES` with what it measures, how, and its source. All are vectorised
over a list of texts and return ``{name: (n,) float64}``:

- formality: the Heylighen-Dewaele F-score (:mod:`.pos`; fast unigram tagger learned from spaCy, or
  spaCy itself with ``pos="spacy"``), contractions, first/second person, hedges (rates per 100 words);
- figurative language: a *stated proxy* (simile markers and conventional metaphor cues from word lists,
  and the share of abstract nouns by suffix). It counts surface cues; it is not a metaphor detector, it
  misses novel metaphors and counts literal "like a" (e.g. "I'd like a coffee");
- readability: Flesch, Flesch-Kincaid, Dale-Chall with textstat's formulas, words and syllables
  (:mod:`.readability`), sentences counted as spaCy's parser draws them (:mod:`.sentences`: a stated rule,
  or boundary rates learned from spaCy on a sample of the corpus), not by textstat's ``.!?`` rule, which
  splits at "e.g." and "Dr." and so disagreed with spaCy-based tools such as TextDescriptives;
- lexical diversity: MTLD (McCarthy & Jarvis 2010, TTR threshold 0.72, mean of both directions), MATTR
  (Covington & McFall 2010, window 50), as the ``lexicalrichness`` package defines them;
- sentence length (textstat words / the same sentence count) and word length, punctuation and markdown;
- sentiment (VADER compound) and NRC emotion rates (:mod:`artifactlens.text.lexicons`).

Corpus-level measures (embedding diversity, distinct-n) and over-used phrases live in :mod:`.corpus` and
:mod:`.phrases`.
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from .lexicons import NRC_EMOTIONS, TOKEN, nrc_emotions, vader_compound
from .pos import FastTagger, fscore_from_counts, spacy_class_counts
from .readability import readability_counts
from .sentences import SentenceSegmenter

FIRST_PERSON = frozenset("i me my mine myself we us our ours ourselves i'm i've i'd i'll we're we've we'd "
                         "we'll".split())
SECOND_PERSON = frozenset("you your yours yourself yourselves u ya you're you've you'd you'll y'all".split())
CONTRACTION_S = frozenset("it's that's there's here's what's who's he's she's let's where's how's".split())
HEDGES = ("maybe perhaps probably possibly presumably apparently arguably likely unlikely seemingly somewhat "
          "roughly approximately generally usually typically often might could may seem seems seemed appear "
          "appears suggest suggests guess suppose reckon").split()
HEDGE_PHRASES = ("i think", "i believe", "i guess", "i feel", "sort of", "kind of", "in my opinion",
                 "it seems", "to some extent", "more or less", "not sure", "i'm not sure")
_HEDGE_RE = re.compile(r"\b(?:" + "|".join(re.escape(h) for h in sorted(HEDGE_PHRASES, key=len, reverse=True))
                       + r")\b")
HEDGE_WORDS = frozenset(HEDGES)

SIMILE = re.compile(r"\b(?:like (?:a|an)|as (?:a |an )?\w+ as (?:a|an|the)|as if|as though|resembl\w+|"
                    r"akin to|reminiscent of|not unlike|similar to a)\b")
METAPHOR_VEHICLES = ("tapestry sea ocean symphony web maze labyrinth mosaic kaleidoscope beacon cornerstone "
                     "testament realm landscape journey dance fabric wave storm tide flood avalanche "
                     "treasure trove melting pot rollercoaster roller coaster tip of the iceberg "
                     "double-edged sword gateway pillar bedrock blueprint engine heart").split()
METAPHOR_VERBS = ("delve delves delving embark embarks embarking navigate navigating unlock unlocks unlocking "
                  "unleash unleashing ignite ignites igniting weave weaves weaving woven illuminate illuminates "
                  "illuminating blossom blossoms blossoming foster fosters fostering harness harnessing "
                  "paint paints painting unravel unravels unraveling unveil unveils unveiling").split()
_VEHICLE_RE = re.compile(r"\b(?:a|an|the) (?:\w+ )?(?:" + "|".join(sorted(set(METAPHOR_VEHICLES), key=len,
                                                                            reverse=True)) + r") of\b")
METAPHOR_VERB_SET = frozenset(METAPHOR_VERBS)
ABSTRACT_SUFFIX = re.compile(r"(?:ness|ity|ities|tion|tions|sion|sions|ment|ments|ance|ence|ism|isms|hood|"
                             r"ship|dom)$")

MD_HEADER = re.compile(r"^\s{0,3}#{1,6}\s", re.M)
MD_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+\S", re.M)
MD_INLINE = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__|`[^`\n]+`|\[[^\]\n]+\]\([^)\s]+\)")
PUNCT = {"comma": ",", "exclamation": "!", "question": "?", "semicolon_colon": ";:", "dash": "\u2014\u2013",
         "parenthesis": "(", "quote": "\"\u201c\u201d"}

FEATURES: dict[str, dict] = {
    "formality": {"what": "Heylighen-Dewaele F-score, 0-100; higher = more formal (nouns, articles, "
                  "prepositions) and less deictic (pronouns, verbs, adverbs, interjections)",
                  "how": "POS class percentages from a unigram tagger learned from spaCy tags on a sample "
                  "(or spaCy itself)", "source": "Heylighen & Dewaele 2002; spaCy en_core_web_sm"},
    "contractions": {"what": "contractions per 100 words (don't, I'm, it's)", "how": "regular expression",
                     "source": "informal-register marker (Biber 1988)"},
    "first_person": {"what": "first-person pronouns per 100 words", "how": "word list",
                     "source": "Biber 1988 involved-production dimension"},
    "second_person": {"what": "second-person pronouns per 100 words", "how": "word list",
                      "source": "Biber 1988"},
    "hedges": {"what": "hedges per 100 words (maybe, perhaps, I think, sort of)", "how": "word and phrase list",
               "source": "Hyland 1998 hedging devices (subset)"},
    "figurative": {"what": "simile markers + conventional metaphor cues per 100 words (PROXY: surface cues "
                   "only; not a metaphor detector)", "how": "regular expressions and word lists "
                   "('like a', 'as if', 'a tapestry of', delve/embark/unlock...)",
                   "source": "lexicon proxy written for artifactlens"},
    "abstract_nouns": {"what": "share of words with abstract-noun suffixes (-ness, -ity, -tion, -ment...), %",
                       "how": "suffix match on words of 6+ letters", "source": "morphological proxy"},
    "flesch": {"what": "Flesch reading ease (higher = easier)", "how": "textstat's formula, words and "
               "syllables; sentences as spaCy's parser draws them (artifactlens.text.sentences)",
               "source": "Flesch 1948; textstat; spaCy"},
    "fk_grade": {"what": "Flesch-Kincaid grade level", "how": "textstat's formula, words and syllables; "
                 "spaCy-like sentences", "source": "Kincaid et al. 1975; textstat; spaCy"},
    "dale_chall": {"what": "Dale-Chall readability score", "how": "textstat's formula, words and easy-word "
                   "list; spaCy-like sentences", "source": "Dale & Chall 1948; textstat; spaCy"},
    "mtld": {"what": "MTLD lexical diversity (mean length of sequences keeping TTR above 0.72)",
             "how": "forward and backward passes, averaged", "source": "McCarthy & Jarvis 2010"},
    "mattr": {"what": "moving-average type-token ratio, window 50 words", "how": "sliding window",
              "source": "Covington & McFall 2010"},
    "words": {"what": "number of words", "how": "textstat's word rule", "source": "textstat"},
    "sentence_length": {"what": "mean words per sentence", "how": "textstat's words / the expected number of "
                        "sentences as spaCy's parser draws them: boundary rates learned from spaCy on a sample "
                        "of the corpus (the audit), or the stated rule (after . ! ? unless the previous token "
                        "is an abbreviation; never at a line break alone)", "source": "textstat; spaCy"},
    "word_length": {"what": "mean letters per word", "how": "regular expression words", "source": ""},
    "punctuation": {"what": "punctuation marks per 100 words", "how": "character count", "source": ""},
    **{f"punct_{k}": {"what": f"'{v}' per 100 words", "how": "character count", "source": ""}
       for k, v in PUNCT.items()},
    "markdown": {"what": "markdown elements (headers, list items, bold, code, links) per text",
                 "how": "regular expressions", "source": ""},
    "sentiment": {"what": "VADER compound sentiment, -1..1", "how": "vaderSentiment",
                  "source": "Hutto & Gilbert 2014"},
    **{f"emo_{e}": {"what": f"NRC '{e}' words per token", "how": "nrclex's word list",
                    "source": "Mohammad & Turney 2013"} for e in NRC_EMOTIONS},
}


def mtld_one(toks: Sequence[str], threshold: float = 0.72) -> float:
    """MTLD of one token list (lexicalrichness' definition); 0 for an empty list."""
    if not toks:
        return 0.0

    def one_way(seq) -> float:
        factors, types, count, ttr = 0.0, set(), 0, 1.0
        for t in seq:
            count += 1
            types.add(t)
            ttr = len(types) / count
            if ttr <= threshold:
                factors += 1
                types, count, ttr = set(), 0, 1.0
        factors += (1.0 - ttr) / (1.0 - threshold)
        return len(seq) / factors if factors else float(len(seq))

    return (one_way(toks) + one_way(toks[::-1])) / 2


def mattr_one(toks: Sequence[str], window: int = 50) -> float:
    """Moving-average TTR; texts shorter than the window get their plain TTR."""
    n = len(toks)
    if n == 0:
        return 0.0
    if n <= window:
        return len(set(toks)) / n
    counts: dict[str, int] = {}
    for t in toks[:window]:
        counts[t] = counts.get(t, 0) + 1
    distinct = len(counts)
    total = distinct
    for i in range(window, n):
        out, inn = toks[i - window], toks[i]
        c = counts[out] - 1
        if c:
            counts[out] = c
        else:
            del counts[out]
            distinct -= 1
        c = counts.get(inn, 0)
        if not c:
            distinct += 1
        counts[inn] = c + 1
        total += distinct
    return total / (n - window + 1) / window


def text_features(texts: Sequence[str | None], tagger: FastTagger | None = None, pos: str = "fast",
                  sentiment: bool = True, segmenter: SentenceSegmenter | None = None) -> dict[str, np.ndarray]:
    """All per-text features of :data:`FEATURES`, ``{name: (n,) float64}``.

    ``pos="fast"`` uses ``tagger`` (a :class:`FastTagger`; the closed-class/suffix prior when None);
    ``pos="spacy"`` tags every text with spaCy (exact, ~10x slower). ``sentiment=False`` skips VADER/NRC.
    ``segmenter`` counts sentences (a :class:`SentenceSegmenter`, e.g. ``SentenceSegmenter.fit(sample)``;
    its stated rule when None).
    """
    texts = ["" if t is None else str(t) for t in texts]
    n = len(texts)
    out: dict[str, np.ndarray] = {k: np.zeros(n) for k in FEATURES}
    counts = spacy_class_counts(texts) if pos == "spacy" else (tagger or FastTagger()).class_counts(texts)
    out["formality"] = fscore_from_counts(counts)
    rc = readability_counts(texts, segmenter=segmenter)
    for k in ("flesch", "fk_grade", "dale_chall", "words"):
        out[k] = rc[k]
    out["sentence_length"] = np.where(rc["sentences"] > 0, rc["words"] / np.maximum(rc["sentences"], 1), 0.0)
    for i, raw in enumerate(texts):
        if not raw:
            continue
        t = raw.replace("\u2019", "'").lower()
        toks = TOKEN.findall(t)
        nw = len(toks)
        if nw == 0:
            continue
        per100 = 100.0 / nw
        fp = sp = hw = mv = ab = letters = con = 0
        for w in toks:
            letters += len(w)
            if "'" in w and (w.endswith(("n't", "'m", "'re", "'ve", "'ll", "'d")) or w in CONTRACTION_S):
                con += 1
            if w in FIRST_PERSON:
                fp += 1
            elif w in SECOND_PERSON:
                sp += 1
            elif w in HEDGE_WORDS:
                hw += 1
            elif w in METAPHOR_VERB_SET:
                mv += 1
            elif len(w) >= 6 and ABSTRACT_SUFFIX.search(w):
                ab += 1
        out["contractions"][i] = con * per100
        out["first_person"][i] = fp * per100
        out["second_person"][i] = sp * per100
        out["hedges"][i] = (hw + len(_HEDGE_RE.findall(t))) * per100
        out["figurative"][i] = (len(SIMILE.findall(t)) + len(_VEHICLE_RE.findall(t)) + mv) * per100
        out["abstract_nouns"][i] = ab * per100
        out["word_length"][i] = letters / nw
        out["mtld"][i] = mtld_one(toks)
        out["mattr"][i] = mattr_one(toks)
        pc = 0
        for k, chars in PUNCT.items():
            c = sum(raw.count(ch) for ch in chars) + (raw.count("--") if k == "dash" else 0)
            out[f"punct_{k}"][i] = c * per100
        for ch in ".,;:!?\"'()[]{}-\u2014\u2013\u2026/*":
            pc += raw.count(ch)
        out["punctuation"][i] = pc * per100
        out["markdown"][i] = (len(MD_HEADER.findall(raw)) + len(MD_BULLET.findall(raw))
                              + len(MD_INLINE.findall(raw)))
    if sentiment:
        out["sentiment"] = vader_compound(texts)
        for e, v in nrc_emotions(texts).items():
            out[f"emo_{e}"] = v
    else:
        for k in ["sentiment"] + [f"emo_{e}" for e in NRC_EMOTIONS]:
            out.pop(k)
    return out
