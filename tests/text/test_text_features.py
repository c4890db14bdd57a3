"""Text features on texts whose values can be reasoned about by hand, and against the libraries they wrap."""
from __future__ import annotations

import json

import numpy as np
import pytest

from artifactlens.text.corpus import distinct_n, embedding_diversity
from artifactlens.text.features import mattr_one, mtld_one, text_features
from artifactlens.text.phrases import log_odds_dirichlet
from artifactlens.text.pos import FastTagger, fscore_from_counts, formality_spacy
from artifactlens.text.readability import ensure_cmudict, readability_counts

FORMAL = ("The committee approved the revised budget for the construction of the new library in the "
          "northern district of the city.")
CHATTY = "Oh wow, I really don't think you'd like it, honestly. Maybe we can just go?"
METAPHOR = ("Her voice was like a river; the city is a tapestry of dreams, and we embark on a journey "
            "as if time stood still.")
LITERAL = "The meeting starts at nine and ends at ten in room four of the main building."


def test_fscore_formula_by_hand():
    # 4 nouns, 1 article, 1 pronoun, 2 verbs out of 8 words: (100*(4+1-1-2)/8 + 100)/2 = 62.5
    counts = np.array([[4, 0, 0, 1, 1, 2, 0, 0, 0]], dtype=float)
    assert fscore_from_counts(counts)[0] == pytest.approx(62.5)
    assert fscore_from_counts(np.zeros((1, 9)))[0] == 50.0


def test_formal_beats_chatty_fast_and_spacy():
    fast = FastTagger().formality([FORMAL, CHATTY])
    exact = formality_spacy([FORMAL, CHATTY])
    assert fast[0] > 70 > 40 > fast[1]
    assert exact[0] > 70 > 40 > exact[1]
    assert abs(fast[0] - exact[0]) < 8 and abs(fast[1] - exact[1]) < 8


def test_register_markers_by_hand():
    f = text_features(["I think you're right, maybe I don't know it.", FORMAL], sentiment=False)
    # 9 words: I think you're right maybe I don't know it
    assert f["contractions"][0] == pytest.approx(200 / 9)     # you're, don't
    assert f["first_person"][0] == pytest.approx(200 / 9)     # I, I
    assert f["second_person"][0] == pytest.approx(100 / 9)    # you're
    assert f["hedges"][0] == pytest.approx(200 / 9)           # maybe + "I think"
    assert f["contractions"][1] == f["first_person"][1] == f["hedges"][1] == 0


def test_figurative_proxy_metaphor_rich_vs_literal():
    f = text_features([METAPHOR, LITERAL], sentiment=False)
    # like a, a tapestry of, embark, as if = 4 cues in 24 words
    assert f["figurative"][0] == pytest.approx(400 / 24)
    assert f["figurative"][1] == 0
    assert f["abstract_nouns"][0] == 0 and text_features(["The implementation of fairness."],
                                                        sentiment=False)["abstract_nouns"][0] == pytest.approx(50)


def test_markdown_and_punctuation():
    md = "# Title\n\n- **Point one:** yes\n- item two\n1. step\n\nUse `code` here."
    f = text_features([md, "No markdown here, none at all!"], sentiment=False)
    assert f["markdown"][0] == 6  # header, 3 list items, bold, code
    assert f["markdown"][1] == 0
    assert f["punct_exclamation"][1] == pytest.approx(100 / 6)


def test_lexical_diversity_by_hand():
    assert mtld_one(["the"] * 10) == pytest.approx(2.0)  # a factor every 2 tokens -> 10 / 5
    assert mtld_one([]) == 0.0
    toks = [f"w{i}" for i in range(60)]
    assert mattr_one(toks) == 1.0
    assert mattr_one(["a", "b"] * 50) == pytest.approx(2 / 50)
    assert mattr_one(["a", "b", "a"]) == pytest.approx(2 / 3)  # shorter than the window: TTR
    # MTLD worked by hand: a b a b | TTR 1, 1, .67 -> factor after 3 tokens; rest "b" ttr 1 -> 0 partial
    assert mtld_one(["a", "b", "a", "b"]) == pytest.approx((4 / (1 + (1 - 1.0) / 0.28) + 4 / (1 + 0)) / 2)


def test_readability_equals_textstat(shared_data):
    import textstat
    ensure_cmudict()
    rows = [json.loads(x) for x in open(shared_data("m4", "reddit_llama2.jsonl"), encoding="utf-8")][:30]
    texts = [r["human_text"] for r in rows] + [r["machine_text"] for r in rows] + [FORMAL, CHATTY, ""]
    rc = readability_counts(texts, sentences="textstat")
    for ours, theirs in (("flesch", textstat.flesch_reading_ease), ("fk_grade", textstat.flesch_kincaid_grade),
                         ("dale_chall", textstat.dale_chall_readability_score)):
        ref = np.array([theirs(t) for t in texts])
        np.testing.assert_allclose(rc[ours], ref, atol=1e-9)
    assert rc["flesch"][-3] < rc["flesch"][-2]  # the committee sentence is harder than the chatty one


def test_readability_equals_textstat_where_sentences_are_unambiguous():
    import textstat
    texts = [FORMAL, CHATTY, LITERAL, "The cat sat on the mat. It purred loudly! Did the dog mind? No, it slept."]
    rc = readability_counts(texts)  # default: spaCy-like sentences; here the same count as textstat's
    assert rc["sentences"].tolist() == [1, 2, 1, 4]
    for ours, theirs in (("flesch", textstat.flesch_reading_ease), ("fk_grade", textstat.flesch_kincaid_grade),
                         ("dale_chall", textstat.dale_chall_readability_score)):
        np.testing.assert_allclose(rc[ours], [theirs(t) for t in texts], atol=1e-9)


def test_sentence_length_counts_abbreviations_as_one_sentence():
    import textstat
    text = "Dr. Smith met Mr. Jones at 5 p.m. today."  # 9 textstat words, one sentence
    f = text_features([text], sentiment=False)
    assert f["sentence_length"][0] == 9
    assert readability_counts([text], sentences="textstat")["sentences"][0] == 2  # textstat: 9 / 2 words
    # Flesch-Kincaid with one sentence of 9 words: 0.39 * 9 + 11.8 * syllables / 9 - 15.59
    syl = readability_counts([text])["syllables"][0]
    assert f["fk_grade"][0] == pytest.approx(0.39 * 9 + 11.8 * syl / 9 - 15.59)
    assert f["fk_grade"][0] > textstat.flesch_kincaid_grade(text)


def test_cmudict_is_built_offline(monkeypatch):
    import nltk
    root = ensure_cmudict()
    assert (root / "corpora" / "cmudict" / "cmudict").stat().st_size > 3_000_000
    monkeypatch.setattr(nltk, "download", lambda *a, **k: (_ for _ in ()).throw(AssertionError("download")))
    assert nltk.data.find("corpora/cmudict")
    assert nltk.corpus.cmudict.dict()["tapestry"][0] == ["T", "AE1", "P", "AH0", "S", "T", "R", "IY0"]


def test_sentiment_matches_vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    texts = ["I love this, it is wonderful!", "This is terrible and I hate it."]
    f = text_features(texts)
    sia = SentimentIntensityAnalyzer()
    assert f["sentiment"].tolist() == [sia.polarity_scores(t)["compound"] for t in texts]
    assert f["sentiment"][0] > 0.5 > -0.5 > f["sentiment"][1]
    assert f["emo_joy"][0] > 0 and f["emo_anger"][1] > 0


def test_fast_tagger_agrees_with_spacy_on_real_text(shared_data):
    rows = [json.loads(x) for x in open(shared_data("m4", "reddit_llama2.jsonl"), encoding="utf-8")]
    texts = [r["human_text"] for r in rows] + [r["machine_text"] for r in rows]
    train, test = texts[::2], texts[1::2][:60]
    tagger = FastTagger.fit(train, max_words=15_000, seed=0)
    r = np.corrcoef(tagger.formality(test), formality_spacy(test))[0, 1]
    assert r >= 0.95, r


def test_log_odds_finds_planted_phrase():
    a = [f"we delve into topic {i} and it is important to note the facts" for i in range(30)]
    b = [f"i looked at topic {i} and honestly the facts are fine" for i in range(30)]
    st = log_odds_dirichlet(a, b)
    top_a = [st.phrases[i] for i in st.top(40, "a")]
    top_b = [st.phrases[i] for i in st.top(40, "b")]
    assert "delve into" in top_a and "honestly" in top_b
    k = list(st.phrases).index("topic")
    assert abs(st.z[k]) < 1  # shared word, no preference


def test_embedding_diversity_exact_and_bounds():
    rng = np.random.default_rng(0)
    E = rng.normal(size=(40, 8))
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    C = E @ E.T
    brute = 1 - (C.sum() - np.trace(C)) / (40 * 39)
    v, lo, hi = embedding_diversity(E)
    assert v == pytest.approx(brute) and lo < v < hi
    same = np.tile(E[:1], (10, 1))
    assert embedding_diversity(same)[0] == pytest.approx(0, abs=1e-6)
    assert embedding_diversity(np.eye(5))[0] == pytest.approx(1.0)


def test_distinct_n_by_hand():
    assert distinct_n(["a b a b"], 1) == 0.5
    assert distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)


def _vader_cases(n: int = 2000, seed: int = 0) -> list[str]:
    """Word salads over VADER's rules (negations, 'but', boosters, idioms, caps, emoticons, wrap-around)."""
    rng = np.random.default_rng(seed)
    words = ("good bad but BUT not never so this without doubt no nor or kind of sort GREAT awful isn't "
             "don't least at very :) the a happy sad love hate extremely barely cut me some slack").split()
    return [" ".join(rng.choice(words, rng.integers(1, 40))) for _ in range(n)] + [FORMAL, CHATTY, METAPHOR]


def test_linear_vader_scores_equal_the_original():
    from artifactlens.text import lexicons
    texts = _vader_cases()
    ours = [lexicons._vader().polarity_scores(t) for t in texts]
    theirs = [lexicons._vader_original().polarity_scores(t) for t in texts]
    assert ours == theirs
    assert lexicons.vader_compound(texts[:3]).tolist() == [t["compound"] for t in theirs[:3]]


def test_one_long_text_is_scored_like_its_pieces():
    """A 2 MiB text of many sentences (quadratic before: hours): every count scales with the repeats."""
    from artifactlens.text.sentences import SentenceSegmenter
    piece = "Dr. Smith said it was fine, e.g. for most cases. Isn't it nice? Yes! But no, not really.\n"
    reps = 2 ** 21 // len(piece)
    one = text_features([piece], tagger=FastTagger(), segmenter=SentenceSegmenter())
    big = text_features([piece * reps], tagger=FastTagger(), segmenter=SentenceSegmenter())
    assert big["words"][0] == one["words"][0] * reps
    assert big["sentence_length"][0] == pytest.approx(one["sentence_length"][0], rel=0.02)
    assert big["formality"][0] == pytest.approx(one["formality"][0], rel=1e-6)
    assert np.isfinite([v[0] for v in big.values()]).all()
