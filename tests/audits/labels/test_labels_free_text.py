"""Free-text labels (Alt-Test's KiloGram): the two text scorers of the Alternative Annotator Test against a
brute-force oracle written from the paper's definitions, hand cases for the scorers, the free-text rule, and
the folded per-class figures of a default run."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import shared_path
from support.alttest import leave_one_out

# The figures the reference implementation gives on KiloGram at epsilon 0.15 with
# partial(sim, similarity_func=token_similarity) (bench/check_alttest_reference.py: 24 runs, 0 different);
# the oracle below is asserted to give them too.
REFERENCE_TOKEN_015 = {"gemini_flash": (0.12, 0.462), "gemini_pro": (0.00, 0.398), "gpt-4o": (0.36, 0.528),
                       "gpt-4o-mini": (0.16, 0.462)}


# ---------------------------------------------------------------------------------------------------------
# The oracle: leave one human out, item by item, in plain Python. Scores within TIE are a tie: the pair
# scores are rationals (token-set: 2 * matches / length) that doubles only approximate, so two equal means
# (KiloGram page7-34: 'dinosaur' vs seal, duck, seal is 1/3 + 1/3 + 1/3; 'swan' 1/2 + 0 + 1/2) can differ
# in the last bit however carefully they are summed.
# ---------------------------------------------------------------------------------------------------------
TIE = 1e-9
def oracle(humans: dict, llm: dict, f, eps: float, q: float = 0.05, min_h: int = 2, min_n: int = 30):
    memo = {}

    def sim(a, b):
        if (a, b) not in memo:
            memo[(a, b)] = f(a, b)
        return memo[(a, b)]

    def score(x, others):
        return math.fsum(sim(x, h) for h in others) / len(others)
    return leave_one_out(humans, llm, score, eps, tie=TIE, q=q, min_h=min_h, min_n=min_n)


def _kilogram():
    d = shared_path("alt_test", "kilogram")
    return json.loads((d / "human_annotations.json").read_text()), json.loads((d / "llm_annotations.json").read_text()), d


def _check(r, o):
    assert round(r.winning_rate, 3) == round(o["omega"], 3)
    assert round(r.advantage_probability, 3) == round(o["rho"], 3)
    assert r.passed == o["passed"]
    got = {h: (int(n), float(p)) for h, n, p, t in zip(r.humans, r.n_items, r.p_value, r.tested) if t}
    assert set(got) == set(o["per"])
    for h, (n, p) in o["per"].items():
        assert got[h][0] == n and got[h][1] == pytest.approx(p, abs=1e-9), h
    assert {h for h, w in zip(r.humans, r.won) if w} == o["won"]


@pytest.mark.parametrize("eps", [0.1, 0.15, 0.2])
def test_token_similarity_alt_test_on_kilogram_equals_the_oracle(eps):
    from artifactlens.audits.labels.alttest import alt_test, token_similarity
    from artifactlens.audits.labels.annotators import read_alt_test
    humans, llms, d = _kilogram()
    ann = read_alt_test(d / "human_annotations.json", d / "llm_annotations.json")
    assert ann.label_type == "text"
    for m, model in enumerate(ann.llms):
        r = alt_test(ann, m, epsilon=eps)  # the default metric of free text
        assert r.metric == "token_similarity"
        o = oracle(humans, llms[model], token_similarity, eps)
        _check(r, o)
        if eps == 0.15:
            assert (round(o["omega"], 3), round(o["rho"], 3)) == REFERENCE_TOKEN_015[model]


# ---------------------------------------------------------------------------------------------------------
# The scorers, by hand
# ---------------------------------------------------------------------------------------------------------
TOKEN_CASES = [
    ("a bird", "bird", 1.0),              # one label's words a subset of the other's
    ("a bird in flight", "bird", 1.0),
    ("a man running", "running man", 1.0),  # word order ignored
    ("Bird", "bird", 1.0),                # lower-cased
    ("birds", "bird", 8 / 9),             # indel ratio 2 * 4 / (5 + 4)
    ("cat", "kitten", 2 / 9),             # one letter in common: 2 * 1 / (3 + 6)
    ("dog", "cat", 0.0),
    ("?", "?", 1.0),                      # equal labels, though nothing is left after processing
    ("?", "!", 0.0),
    ("3", "3", 1.0),                      # a number label is compared as its text
]


@pytest.mark.parametrize("a,b,want", TOKEN_CASES)
def test_token_similarity_by_hand(a, b, want):
    from artifactlens.audits.labels.alttest import token_similarity
    assert token_similarity(a, b) == pytest.approx(want, abs=1e-12)
    assert token_similarity(b, a) == token_similarity(a, b)


def _write(tmp_path, humans, llms):
    h, l = tmp_path / "h.json", tmp_path / "l.json"
    h.write_text(json.dumps(humans)), l.write_text(json.dumps(llms))
    return h, l


def test_vectorised_pair_scores_equal_the_pair_function(tmp_path):
    from artifactlens.audits.labels.alttest import _pair_similarity, token_similarity
    from artifactlens.audits.labels.annotators import read_alt_test
    texts = sorted({t for a, b, _ in TOKEN_CASES for t in (a, b)})
    h, l = _write(tmp_path, {"A": {str(i): t for i, t in enumerate(texts)}}, {"m": {"0": "x"}})
    ann = read_alt_test(h, l, label_type="text")
    k = len(ann.classes)
    a, b = np.repeat(np.arange(k), k), np.tile(np.arange(k), k)
    got = _pair_similarity(ann, a, b)
    want = [token_similarity(ann.classes[x], ann.classes[y]) for x, y in zip(a, b)]
    assert got.tolist() == want


def _one_item(tmp_path, label_type="text"):
    """One item: humans A 'cat', B 'dog', C 'cat'; the LLM says 'kitten'."""
    from artifactlens.audits.labels.annotators import read_alt_test
    h, l = _write(tmp_path, {"A": {"1": "cat"}, "B": {"1": "dog"}, "C": {"1": "cat"}}, {"m": {"1": "kitten"}})
    ann = read_alt_test(h, l, label_type=label_type)
    assert ann.classes == ["cat", "dog", "kitten"]
    return ann


@pytest.mark.parametrize("metric,human,llm", [
    # cos: cat.dog 0, cat.kitten 0.6, dog.kitten 0.8. A: others dog, cat -> (0 + 1)/2; LLM (0.8 + 0.6)/2
    ("similarity", {"A": 0.5, "B": 0.0, "C": 0.5}, {"A": 0.7, "B": 0.6, "C": 0.7}),
    # token: cat/dog 0, cat/kitten 2/9, dog/kitten 0 (no letter in common)
    ("token_similarity", {"A": 0.5, "B": 0.0, "C": 0.5}, {"A": 1 / 9, "B": 2 / 9, "C": 1 / 9}),
])
def test_alignment_of_one_item_by_hand(tmp_path, metric, human, llm):
    from artifactlens.audits.labels.alttest import alignment
    ann = _one_item(tmp_path)
    ann.cache[("minilm", None)] = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])  # cat, dog, kitten
    present, code, val = ann.llm_single(0)
    keep = np.ones(ann.h_item.size, dtype=bool)
    hs, ls = alignment(ann, code, val, keep, metric)
    who = [ann.humans[w] for w in ann.h_who]
    assert dict(zip(who, hs.tolist())) == pytest.approx(human, abs=1e-12)
    assert dict(zip(who, ls.tolist())) == pytest.approx(llm, abs=1e-12)


def test_minilm_similarity_alt_test_equals_the_oracle(tmp_path):
    """The cosine scorer through the shipped MiniLM on a small free-text set: the vectorised sums equal the
    pair-by-pair oracle, and the pair cosine is embed()'s."""
    from artifactlens.audits.labels.alttest import alt_test, similarity_function
    from artifactlens.audits.labels.annotators import read_alt_test
    from artifactlens.text.embeddings import embed
    vocab = ["a bird", "bird", "flying bird", "a fish", "fish", "a house", "house with a roof", "boat",
             "a sail boat", "dog", "a sitting dog", "rocket"]
    rng = np.random.default_rng(3)
    humans = {f"h{j}": {str(i): vocab[int(rng.integers(len(vocab)))] for i in range(40) if rng.random() < 0.9}
              for j in range(5)}
    llm = {"m": {str(i): vocab[int(rng.integers(len(vocab)))] for i in range(40)}}
    h, l = _write(tmp_path, humans, llm)
    ann = read_alt_test(h, l, label_type="text")
    f = similarity_function(ann)
    e = embed(["a bird", "flying bird"], kind="minilm")
    assert f("a bird", "flying bird") == pytest.approx(float(e[0] @ e[1]), abs=1e-6)
    for eps in (0.1, 0.2):
        r = alt_test(ann, 0, epsilon=eps, metric="similarity", min_items=20)
        _check(r, oracle(humans, llm["m"], f, eps, min_n=20))


# ---------------------------------------------------------------------------------------------------------
# The free-text rule and what it changes
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("classes,items,many", [(50, 10, False), (51, 10, True), (51, 1000, False),
                                                (200, 1000, False), (201, 1000, True)])
def test_the_free_text_rule(classes, items, many):
    from artifactlens.audits.labels.annotators import many_classes
    assert many_classes(classes, items) is many


def test_text_scorers_refuse_numbers_and_accuracy_on_free_text_says_so(tmp_path):
    import artifactlens as al
    from artifactlens.errors import InputError
    h, l = _write(tmp_path, {f"h{j}": {str(i): float((i + j) % 5) for i in range(40)} for j in range(3)},
                  {"m": {str(i): 2.0 for i in range(40)}})
    with pytest.raises(InputError, match="compares label texts"):
        al.audit("labels", None, human_annotations=str(h), llm_annotations=str(l), alt_metric="token_similarity",
                 annotator_quality=False, second_order=False, run=al.RunOptions(quiet=True))
    words = [f"w{k}" for k in range(120)]
    h, l = _write(tmp_path, {f"h{j}": {str(i): words[(i * 3 + j) % 120] for i in range(60)} for j in range(3)},
                  {"m": {str(i): words[i % 120] for i in range(60)}})
    r = al.audit("labels", None, human_annotations=str(h), llm_annotations=str(l), alt_metric="accuracy",
                 annotator_quality=False, second_order=False, run=al.RunOptions(quiet=True))
    assert r.params["annotators"]["label_type"] == "text"
    assert r.params["alt_test"]["metric"] == "accuracy"
    assert any(f.message.startswith("accuracy is exact match") for f in r.findings)


def test_default_kilogram_run_folds_the_per_class_figures():
    import artifactlens as al
    humans, llms, d = _kilogram()
    r = al.audit("labels", None, human_annotations=str(d / "human_annotations.json"),
                 llm_annotations=str(d / "llm_annotations.json"), run=al.RunOptions(quiet=True))
    n_human = sum(len(a) for a in humans.values())
    assert len(r.sections) == len(llms) == 4
    for s in r.sections:
        name = s.params["model_name"]
        at = s.params["alt_test"]
        assert at["metric"] == "token_similarity" and at["metric_chosen"] == "default for text labels"
        assert any(f.message.startswith("free-text labels: the Alternative Annotator Test") for f in s.findings)
        distinct = {v for a in humans.values() for v in a.values()} | set(llms[name].values())
        fold = s.params["class_folding"]
        assert (fold["classes"], fold["shown"], fold["folded"]) == (len(distinct), 30, len(distinct) - 30)
        assert sum(1 for k in s.metrics if k.startswith("human_share[")) == 30
        rows = s.tables["class_shares"]["rows"]
        assert len(rows) == 31 and rows[-1][0] == f"(other: {len(distinct) - 30:,} labels)"
        assert sum(row[1] for row in rows) == pytest.approx(1.0, abs=1e-9)   # human shares: every label
        assert sum(row[4] for row in rows) == pytest.approx(1.0, abs=1e-9)   # LLM shares
        assert sum(row[10] for row in rows) == n_human and sum(row[11] for row in rows) == len(llms[name])
        flips = s.tables["flip_matrix"]
        assert len(flips["rows"]) <= 32 and len(flips["columns"]) <= 33
        assert sum(sum(row[1:]) for row in flips["rows"]) == len(llms[name])  # every item once
        omega, rho = REFERENCE_TOKEN_015[name]
        assert (round(s.metrics["alt_test_winning_rate"].value, 3),
                round(s.metrics["alt_test_advantage_probability"].value, 3)) == (omega, rho)
