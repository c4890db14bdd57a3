"""Corpus diversity equals the `diversity` package's definitions (oracles written from its code: the
package itself does not install beside this project), on demo and real texts; bounds by hand."""
from __future__ import annotations

import gzip
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

from artifactlens.audits.common import demo_path
from artifactlens.text import diversity as D


def _oracle_compression(data):  # diversity.compression.compression_ratio, gzip branch
    with tempfile.TemporaryDirectory() as d:
        path = Path(d)
        with (path / "original.txt").open("w+") as f:
            f.write(" ".join(data))
        original = os.path.getsize(path / "original.txt")
        with gzip.GzipFile(str(path / "compressed.gz"), "w+") as f:
            f.write(gzip.compress(" ".join(data).encode("utf-8")))
        return round(original / os.path.getsize(path / "compressed.gz"), 3)


def _oracle_ngram(data, num_n=4):  # diversity.ngram_diversity.ngram_diversity_score
    import nltk
    words = " ".join(data).split(" ")
    return round(sum(len(set(nltk.ngrams(words, i))) / len(list(nltk.ngrams(words, i)))
                     for i in range(1, num_n + 1)), 3)


def _oracle_rougel(data):  # diversity.homogenization.homogenization_score(measure='rougel')
    from rouge_score import rouge_scorer
    sc = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    total = 0.0
    for i, ref in enumerate(data):
        total += sum(sc.score(p, ref)["rougeL"].fmeasure for j, p in enumerate(data) if j != i) / (len(data) - 1)
    if total == 0:
        total += len(data)
    return round(total / len(data), 3)


@pytest.fixture(scope="module")
def demo_texts():
    rows = [json.loads(x) for x in open(demo_path("text.jsonl"), encoding="utf-8")]
    return {s: [r["text"] for r in rows if r["source"] == s] for s in ("human", "llm")}


def test_equal_to_the_package_on_demo_texts(demo_texts):
    for texts in demo_texts.values():
        assert D.compression_ratio(texts) == _oracle_compression(texts)
        assert D.ngram_diversity(texts) == _oracle_ngram(texts)
        assert D.homogenization_rougel(texts[:25]) == _oracle_rougel(texts[:25])
    # the planted LLM side is more homogeneous on every figure
    h, l_ = demo_texts["human"], demo_texts["llm"]
    assert D.compression_ratio(l_) > D.compression_ratio(h)
    assert D.ngram_diversity(l_) < D.ngram_diversity(h)
    assert D.homogenization_rougel(l_) > D.homogenization_rougel(h)


@pytest.mark.slow
def test_equal_to_the_package_on_real_m4(shared_data):
    rows = [json.loads(x) for x in open(shared_data("m4", "reddit_llama2.jsonl"), encoding="utf-8")][:40]
    for key in ("human_text", "machine_text"):
        texts = [r[key] for r in rows]
        assert D.compression_ratio(texts) == _oracle_compression(texts)
        assert D.ngram_diversity(texts) == _oracle_ngram(texts)
        assert D.homogenization_rougel(texts[:10]) == _oracle_rougel(texts[:10])


def test_edge_cases_by_hand():
    assert D.ngram_diversity(["a b a b"]) == round(2 / 4 + 2 / 3 + 2 / 2 + 1, 3)
    same = ["the cat sat on the mat"] * 5
    assert D.homogenization_rougel(same) == 1.0
    assert D.homogenization_rougel(["a b", "c d", "e f"]) == 1.0  # the package's all-zero quirk
    assert np.isnan(D.homogenization_rougel(["one text"]))
    assert D.duplicates(["a", " a ", "b", "a"]) == 2


def test_pair_interval_and_vendi_by_hand():
    rng = np.random.default_rng(0)
    E = rng.normal(size=(60, 6))
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    K = E @ E.T
    v, lo, hi = D.pair_mean_interval(K)
    assert v == pytest.approx(D.embedding_homogenization(E)) and lo < v < hi
    lam = np.clip(np.linalg.eigvalsh(K / len(E)), 1e-15, None)
    assert D.vendi(E) == pytest.approx(np.exp(-(lam * np.log(lam)).sum()), rel=1e-6)
    assert D.vendi(np.tile(E[:1], (10, 1))) == pytest.approx(1.0)
    assert D.vendi(np.eye(4)) == pytest.approx(4.0)
    val, lo, hi = D.vendi_interval(E)
    assert lo < val < hi
