"""The text audit streams (issue 15): the corpus is read as record batches, pass 1 keeps the per-row
columns and a seeded bottom-k sample of texts per side, the statistics that read raw text run on that
sample past ``max_texts``, per-row figures and the flags file cover every row, and no figure depends on
the batch size."""
from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from artifactlens.audits.common import demo_path
from artifactlens.audits.free_text import audit_text
from artifactlens.audits.free_text.audit import sample_keys, scan
from artifactlens.audits.free_text.inputs import column_lists, open_corpus
from artifactlens.io.readers import read_table


def _figures(r) -> dict:
    d = json.loads(r.to_json())
    return {"metrics": {k: (m["value"], m.get("ci")) for k, m in d["metrics"].items()}, "tables": d["tables"],
            "flags": d["flags"]["counts"], "examples": d["examples"]}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("stream")
    res = {}
    for cap, bs in ((30, 7), (30, 8192), (None, 7), (20_000, 8192)):
        flags = out / f"flags_{cap}_{bs}.jsonl"
        r = audit_text(demo_path("text.jsonl"), embeddings=False, tagger_words=2000, max_texts=cap,
                       batch_size=bs, flags_path=flags)
        res[cap, bs] = (r, flags)
    return res


def test_batch_size_moves_no_figure(runs):
    """Batches of 7 rows and of 8192 give the same figures and the same flags file, sampled or not."""
    for cap in (30,):
        (a, fa), (b, fb) = runs[cap, 7], runs[cap, 8192]
        assert _figures(a) == _figures(b)
        assert fa.read_bytes() == fb.read_bytes()
    # a cap above the corpus keeps every text: the same figures as keeping all (None)
    assert _figures(runs[None, 7][0]) == _figures(runs[20_000, 8192][0])
    assert runs[None, 7][1].read_bytes() == runs[20_000, 8192][1].read_bytes()


def test_a_tiny_cap_is_recorded_and_flags_still_cover_every_row(runs):
    r, flags = runs[30, 8192]
    s = r.params["text_sample"]
    assert s["sampled"] and s["max_texts_per_side"] == 30
    assert s["texts"] == {"human": 100, "llm": 100} and s["kept"] == {"human": 30, "llm": 30}
    assert "second order" in s["on_sample"] and "phrase tables and templates (learned)" in s["on_sample"]
    assert not any("MiniLM" in x for x in s["on_sample"])  # embeddings were off
    full = runs[None, 7][0].params["text_sample"]
    assert not full["sampled"] and full["on_sample"] == [] and full["kept"] == full["texts"]
    rows = read_table(flags).to_pylist()
    assert len(rows) == 200 == r.flags["rows"] and sorted(x["row"] for x in rows) == list(range(200))
    assert sum(x["llm_phrase"] for x in rows) == r.flags["counts"]["llm_phrase"]
    assert sum(x["llm_style"] for x in rows) == r.flags["counts"]["llm_style"]
    assert all(x["llm_phrase_reason"] for x in rows if x["llm_phrase"])
    # per-row figures count every row; the text statistics count the sample
    assert r.metric("formality_d").n == 200 and r.metric("llm_phrase_rate_llm").n == 100
    assert r.metric("duplicates_llm").n == 100  # duplicates are counted exactly over the whole side
    assert r.metric("homogenization_rougel_llm").n == 30
    assert r.examples and all(e["fields"]["text"] for e in r.examples)


def test_examples_outside_the_sample_are_read_without_a_flags_file():
    r = audit_text(demo_path("text.jsonl"), embeddings=False, tagger_words=2000, max_texts=5)
    assert r.params["text_sample"]["kept"] == {"human": 5, "llm": 5}
    rows = [json.loads(x) for x in open(demo_path("text.jsonl"), encoding="utf-8")]
    assert r.examples and all(e["fields"]["text"].rstrip("…") in rows[e["row"]]["text"] for e in r.examples)


def test_the_reader_yields_batches_not_a_frame_of_every_text():
    c = open_corpus(demo_path("text.jsonl"), batch_size=16)
    batches = list(c.batches())
    assert len(batches) == 13 and all(isinstance(b, pa.RecordBatch) and b.num_rows <= 16 for b in batches)
    assert batches[0].schema.names == ["text", "source", "pair_id", "domain", "row", "model", "group"]
    assert c.info.rows_read == 200 and c.info.rows_used == 200 and c.layout == "long"
    sc = scan(open_corpus(demo_path("text.jsonl"), batch_size=16), seed=0, cap=10)
    assert "text" not in sc.meta.columns and len(sc.meta) == 200    # per-row columns, no text
    assert len(sc.sample) == 20 and sorted(sc.sample["source"].value_counts().tolist()) == [10, 10]


def test_the_sample_is_the_bottom_k_by_hash_whatever_the_batching():
    """Oracle: over all rows, the k rows a side with the smallest (key, row) -- the same for any batch size."""
    cols = column_lists(open_corpus(demo_path("text.jsonl")).batches())
    keys = sample_keys(list(cols["pair_id"]), 0, seed=3)
    llm = cols["source"] == "llm"
    want = np.sort(np.concatenate([np.flatnonzero(llm == s)[np.lexsort((np.flatnonzero(llm == s),
                                                                         keys[llm == s]))[:12]] for s in (0, 1)]))
    for bs in (7, 64, 8192):
        sc = scan(open_corpus(demo_path("text.jsonl"), batch_size=bs), seed=3, cap=12)
        assert sc.sample_rows.tolist() == want.tolist()
        assert sc.sample["text"].tolist() == cols["text"][want].tolist()
    other = scan(open_corpus(demo_path("text.jsonl")), seed=4, cap=12).sample_rows
    assert other.tolist() != want.tolist()  # the seed draws another sample


def test_the_wide_layout_streams_the_human_side_then_the_llm_side(tmp_path):
    p = tmp_path / "wide.jsonl"
    with open(p, "w") as f:
        for i in range(3):
            f.write(json.dumps({"human_text": f"human words {i}", "machine_text": f"machine words {i}",
                                "source": "reddit"}) + "\n")
    c = open_corpus(p, batch_size=2)
    got = column_lists(c.batches())
    assert c.layout == "wide" and c.info.rows_read == 3
    assert got["source"].tolist() == ["human"] * 3 + ["llm"] * 3
    assert got["text"].tolist() == [f"human words {i}" for i in range(3)] + [f"machine words {i}" for i in range(3)]
    assert got["pair_id"].tolist() == ["0", "1", "2"] * 2 and got["row"].tolist() == [0, 1, 2] * 2
    assert set(got["domain"]) == {"reddit"}


def test_bootstrap_sums_in_row_chunks_agree_with_one_call(monkeypatch):
    """Past compare.CHUNK rows the bootstrap sums are added a chunk at a time (bounded memory): the same
    Cohen's d and interval up to float rounding."""
    from artifactlens.audits.free_text import compare
    from artifactlens.stats import hash_keys
    rng = np.random.default_rng(0)
    n = 1000
    x, is_llm, keys = rng.normal(size=n), rng.random(n) < 0.5, hash_keys(np.arange(n))
    x[is_llm] += 0.4
    whole = compare.cohens_d(keys, x, is_llm, seed=1)
    monkeypatch.setattr(compare, "CHUNK", 64)
    chunked = compare.cohens_d(keys, x, is_llm, seed=1)
    assert whole[0] > 0.2 and np.allclose(chunked, whole, rtol=1e-12, atol=0)


def test_cli_max_texts_zero_keeps_every_text_and_a_negative_cap_is_exit_2(run_cli, tmp_path):
    code, out, err = run_cli("audit", "text", demo_path("text.jsonl"), "--no-embeddings", "--max-texts", "0",
                             "--json", tmp_path / "t.json", "--quiet")
    assert code == 0, err
    s = json.loads((tmp_path / "t.json").read_text())["params"]["text_sample"]
    assert s["max_texts_per_side"] is None and not s["sampled"] and s["kept"] == s["texts"]
    code, out, err = run_cli("audit", "text", demo_path("text.jsonl"), "--no-embeddings", "--max-texts", "-3",
                             "--quiet")
    assert code == 2 and "max_texts" in err and "Traceback" not in err


def test_bootstrap_aucs_stream_and_equal_sklearns_weighted_auc(monkeypatch):
    """The separability interval's replicate AUCs, computed in score order a chunk at a time, equal
    ``roc_auc_score(sample_weight=w)`` replicate by replicate, with ties and with chunks cut between tie
    groups; replicates weighing one class only are left out, as before."""
    from sklearn.metrics import roc_auc_score

    from artifactlens.audits.free_text import compare
    from artifactlens.stats import hash_keys, poisson_weights
    rng = np.random.default_rng(4)
    n = 700
    y = (rng.random(n) < 0.4).astype(int)
    score = np.round(rng.normal(size=n) + 0.8 * y, 1)  # many ties
    keys = hash_keys(np.arange(n) // 2)  # two rows per key, as pairs
    W = poisson_weights(keys, 3, 50)
    want = [roc_auc_score(y, score, sample_weight=W[:, b]) for b in range(50)]
    for chunk in (1 << 16, 37, 1):
        monkeypatch.setattr(compare, "CHUNK", chunk)
        got = compare.weighted_aucs(y, score, keys, 3, 50)
        assert got.shape == (50,) and np.allclose(got, want, rtol=1e-12, atol=0), chunk
    # a tiny sample where some replicates weigh one class only: those are dropped
    y2, s2, k2 = np.array([0, 1, 0, 1]), np.array([0.1, 0.9, 0.4, 0.3]), hash_keys(np.arange(4))
    W2 = poisson_weights(k2, 0, 200)
    keep = [b for b in range(200) if len(np.unique(y2[W2[:, b] > 0])) == 2]
    assert 0 < len(keep) < 200
    assert np.allclose(compare.weighted_aucs(y2, s2, k2, 0, 200),
                       [roc_auc_score(y2, s2, sample_weight=W2[:, b]) for b in keep], rtol=1e-12)
