"""Issue 22: Self-BLEU as the diversity package computes it (oracle: its loop over HF evaluate's BLEU,
transcribed with Counters), length-matched figures between a human ceiling and a floor, prompts answered
many times, templates, the LLM-typical phrase detector and the separability calibration; case tables by
hand, then the real Fast-DetectGPT texts (two models continuing the same 150 human texts per domain)."""
from __future__ import annotations

import collections
import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from artifactlens.audits.common import demo_path
from artifactlens.audits.free_text import bounds, calibration, prompts
from artifactlens.audits.free_text.detectors import LlmTypicalPhrase, cross_fitted
from artifactlens.text import diversity as D
from artifactlens.text.phrases import log_odds_dirichlet, template_log_odds, templates


# -- Self-BLEU: the package's homogenization_score(measure='bleu'), an independent transcription ----------

def _ngrams(seg, max_order):
    c = collections.Counter()
    for o in range(1, max_order + 1):
        for i in range(len(seg) - o + 1):
            c[tuple(seg[i:i + o])] += 1
    return c


def _nmt_bleu(refs_corpus, trans_corpus, max_order=4):  # evaluate's bleu = tensorflow/nmt compute_bleu
    m, pm, rl, tl = [0] * max_order, [0] * max_order, 0, 0
    for refs, tr in zip(refs_corpus, trans_corpus):
        rl += min(len(r) for r in refs)
        tl += len(tr)
        merged = collections.Counter()
        for r in refs:
            merged |= _ngrams(r, max_order)
        ov = _ngrams(tr, max_order) & merged
        for g in ov:
            m[len(g) - 1] += ov[g]
        for o in range(1, max_order + 1):
            if len(tr) - o + 1 > 0:
                pm[o - 1] += len(tr) - o + 1
    p = [m[i] / pm[i] if pm[i] > 0 else 0.0 for i in range(max_order)]
    geo = math.exp(sum(math.log(x) / max_order for x in p)) if min(p) > 0 else 0
    ratio = tl / rl
    return geo * (1.0 if ratio > 1.0 else math.exp(1 - 1.0 / ratio))


def _package_self_bleu(data, tok):  # diversity 0.3.1 homogenization_score(data, 'bleu')
    corpus, per = 0.0, []
    for i, ref in enumerate(data):
        preds = [x for j, x in enumerate(data) if j != i]
        d = _nmt_bleu([[tok(ref)] for _ in preds], [tok(p) for p in preds])
        per.append(d)
        corpus += d / (len(data) - 1)
    if corpus == 0:
        corpus += len(data)
    return round(corpus / len(data), 3), np.array(per)


def _tok():
    sb = pytest.importorskip("sacrebleu.tokenizers.tokenizer_13a")
    t = sb.Tokenizer13a()
    return lambda s: t(s).split()


def test_13a_tokens_equal_sacrebleu(demo_rows):
    tok = _tok()
    texts = [r["text"] for r in demo_rows] + ["Hello, world. It's 3.5 \"ok\"!-\nx &amp; y (1-2) a/b", ".a", "a.",
                                              ",", "1.5,", "", "3-4", ",9", "9,", "nul\0inside."]
    for t in texts:
        assert D.tokenize_13a(t) == tok(t)
    assert D.tokenize_13a_all(texts) == [tok(t) for t in texts]          # one pass over all texts
    assert D.tokenize_13a_all(texts[:-1]) == [tok(t) for t in texts[:-1]]


@pytest.fixture(scope="module")
def demo_rows():
    return [json.loads(x) for x in open(demo_path("text.jsonl"), encoding="utf-8")]


def test_self_bleu_equals_the_package_by_hand_and_on_demo(demo_rows):
    tok = _tok()
    cases = [["a b c d e", "a b c d e f g", "x y", "a b c d e a b c d"], ["the cat sat on the mat"] * 4,
             ["one two three four five", "six seven eight nine ten"]]
    for side in ("human", "llm"):
        cases.append([r["text"] for r in demo_rows if r["source"] == side][:30])
    for texts in cases:
        pkg, per = _package_self_bleu(texts, tok)
        np.testing.assert_allclose(D.self_bleu_per_text(texts), per, rtol=1e-12, atol=1e-15)
        assert D.self_bleu(texts, package=True) == pkg
    assert D.self_bleu(["the cat sat on the mat"] * 4) == 1.0   # identical texts: BLEU 1 ...
    assert D.self_bleu(["the cat sat on the mat"] * 4, package=True) == 0.333  # ... the package's 1/(n-1)


@pytest.mark.slow
def test_self_bleu_equals_the_package_on_real_m4(shared_data):
    tok = _tok()
    rows = [json.loads(x) for x in open(shared_data("m4", "reddit_llama2.jsonl"), encoding="utf-8")][:30]
    for key in ("human_text", "machine_text"):
        texts = [r[key] for r in rows]
        np.testing.assert_allclose(D.self_bleu_per_text(texts), _package_self_bleu(texts, tok)[1], rtol=1e-12,
                                   atol=1e-15)


# -- length-matched bounds ---------------------------------------------------------------------------------

def _corpus(seed=0, n=80):
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(3000)]
    human = [" ".join(rng.choice(vocab, rng.integers(40, 80))) for _ in range(n)]
    stems = [" ".join(rng.choice(vocab, 60)) for _ in range(3)]  # LLM side: three texts, lightly varied
    llm = [" ".join(stems[i % 3].split()[:50] + list(rng.choice(vocab, 10))) for i in range(n)]
    return np.array(human + llm, dtype=object), np.r_[np.zeros(n, bool), np.ones(n, bool)]


def test_length_match_rule_by_hand():
    texts, y = _corpus()
    lm = bounds.length_match(texts, y, seed=0)
    words = D.word_count(list(texts))
    assert lm["L"] == int(min(np.median(words[~y]), np.median(words[y])))
    assert lm["m"] == min(bounds.MATCH_SIZE, (words[~y] >= lm["L"]).sum() // 2, (words[y] >= lm["L"]).sum())
    assert all(len(t.split()) == lm["L"] for t in bounds.pool_texts(texts, lm))
    assert bounds.length_match(texts[:12], np.r_[np.zeros(6, bool), np.ones(6, bool)]) is None  # too few


def test_ceiling_floor_and_position():
    texts, y = _corpus()
    lm = bounds.length_match(texts, y, seed=0)
    res = bounds.matched_figures(texts, lm, seed=0, draws=4)
    for fig in ("homogenization_rougel", "self_bleu"):
        assert np.all(res[fig]["floor"] == 1.0)                      # one text repeated
        assert res[fig]["llm"].mean() > 3 * res[fig]["ceiling"].mean()
        pos = bounds.position(res[fig])
        assert np.all((pos > 0.2) & (pos < 1))
    assert res["compression_ratio"]["floor"].mean() > res["compression_ratio"]["llm"].mean() > \
        res["compression_ratio"]["ceiling"].mean()
    # an LLM side drawn like the human side sits at the ceiling
    same = np.r_[texts[:80], _corpus(seed=1)[0][:80]]
    r2 = bounds.matched_figures(same, bounds.length_match(same, y, seed=0), seed=0, draws=4)
    assert abs(bounds.position(r2["homogenization_rougel"]).mean()) < 0.02


# -- prompts answered many times ---------------------------------------------------------------------------

@pytest.mark.parametrize("S, thr, classes", [
    (np.eye(3), 0.9, 3),
    (np.ones((3, 3)), 0.9, 1),
    (np.array([[1, .95, .2], [.95, 1, .2], [.2, .2, 1]]), 0.9, 2),
    # greedy against each class's FIRST member: 2 is close to 1 but not to 0, so it opens its own class
    (np.array([[1, .92, .5], [.92, 1, .93], [.5, .93, 1]]), 0.9, 2),
])
def test_distinct_classes_case_table(S, thr, classes):
    assert prompts.distinct_classes(S, thr) == classes


def test_prompts_by_hand_without_embeddings():
    rows = []
    for p in range(6):
        rows.append({"text": f"human answer number {p} about topic {p} here", "source": "human", "pair_id": p})
        same = f"the model answer about topic {p} is this one sentence"
        rows.append({"text": same, "source": "llm", "pair_id": p, "model": "a"})
        rows.append({"text": same, "source": "llm", "pair_id": p, "model": "b"})
        rows.append({"text": f"completely different words {p} appear elsewhere zz", "source": "llm", "pair_id": p,
                     "model": "a"})
    df = pd.DataFrame(rows)
    df["domain"], df["group"] = None, None
    y = (df["source"] == "llm").to_numpy()
    rr = prompts.prompt_rows(df, y)
    assert len(rr) == len(df)
    res = prompts.analyse(df, y, rr, None)
    assert np.all(res["k"] == 3) and np.all(res["classes"] == 2)   # two answers identical, one different
    assert res["measure"] == "ROUGE-L F1" and res["threshold"] == prompts.EQUIV_ROUGE
    assert set(res["pairs"]) == {("a", "b")}
    assert np.nanmean(res["cross"]) > res["baseline"]


# -- templates and the phrase detector ---------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Great question! Let's dive in and explore.", {"opener: great question let's", "closer: in and explore"}),
    ("It's not just a tool, but a way of life.", {"frame: not X but Y"}),
    ("This is not a bug; it's a feature.", {"frame: it's not X, it's Y"}),
    ("It is not only fast but also cheap.", {"frame: not only X but also Y", "frame: not X but Y"}),
    ("I do not like it.", set()),
])
def test_templates_case_table(text, expected):
    got = templates(text)
    assert expected <= got
    if not expected:
        assert not any(k.startswith("frame:") for k in got)


def test_template_log_odds_by_hand():
    a = ["Great question here today."] * 30 + ["Other start words now."] * 10
    b = ["Other start words now."] * 40
    st = template_log_odds(a, b)
    i = list(st.phrases).index("opener: great question here")
    assert st.count_a[i] == 30 and st.count_b[i] == 0
    assert st.delta[i] == pytest.approx(math.log(30.5 / 10.5) - math.log(0.5 / 40.5))
    assert st.z[i] > 3


def test_llm_phrase_detector_case_table():
    llm = ["we delve into the rich tapestry of flavours"] * 20
    human = ["i cooked some pasta last night and it was fine"] * 20
    det = LlmTypicalPhrase(log_odds_dirichlet(llm, human, min_df=1), min_z=1.0)
    det.threshold = 1.0
    batch = pa.RecordBatch.from_pydict({"text": ["let us delve into the tapestry", "pasta last night", ""]})
    rs = det.score(batch)
    assert rs.score[0] > 1.0 and rs.score[1] == 0 and rs.score[2] == 0
    assert "delve" in rs.reason[0] and rs.reason[1] is None
    assert det.decide(rs.score).tolist() == [True, False, False]


def test_cross_fitted_threshold_is_the_human_99th_percentile(demo_rows):
    texts = np.array([r["text"] for r in demo_rows], dtype=object)
    y = np.array([r["source"] == "llm" for r in demo_rows])
    score, flag, reason, thr, dets = cross_fitted(texts, y, np.array([r["pair_id"] for r in demo_rows]))
    assert thr == pytest.approx(max(np.quantile(score[~y], 0.99), 1e-9))
    assert flag[~y].mean() <= 0.02 and flag[y].mean() > 0.9          # planted phrases found held out
    assert all(reason[i] for i in np.flatnonzero(flag)) and dets[0].threshold == thr


# -- calibration -------------------------------------------------------------------------------------------

def test_calibration_operating_points_and_subgroup_warning():
    from artifactlens.result import AuditResult
    rng = np.random.default_rng(0)
    n = 400
    y = np.r_[np.zeros(n, bool), np.ones(n, bool)]
    grp = np.r_[np.where(np.arange(n) < 100, "non-native", "native"), [None] * n]
    score = np.r_[rng.uniform(0, 0.6, n), rng.uniform(0.4, 1, n)]
    score[:100] += 0.35                                               # non-native human texts score higher
    df = pd.DataFrame({"text": ["word " * 60] * (2 * n), "domain": None, "group": grp})
    t95, t1 = calibration.thresholds(score, y)
    assert t95 == pytest.approx(np.quantile(score[y], 0.05)) and t1 == pytest.approx(np.quantile(score[~y], 0.99))
    r = AuditResult(kind="text")
    calibration.add_calibration(r, score, y, df, np.arange(2 * n).astype(np.uint64))
    assert r["fpr_at_95_recall"] == pytest.approx((score[~y] >= t95).mean())
    assert r["recall_at_1pct_fpr"] == pytest.approx((score[y] >= t1).mean())
    rows = {(x[0], x[1]): x for x in r.tables["fpr_by_subgroup"]["rows"]}
    assert rows[("group", "non-native")][3] > 2 * rows[("group", "native")][3]
    assert any("non-native" in f.message and f.severity == "warning" for f in r.findings)
    assert not any("group = native " in f.message for f in r.findings)


# -- the real texts ----------------------------------------------------------------------------------------

def _fast_detect_gpt(shared_path, kind="writing"):
    rows = []
    for model in ("gpt-3.5-turbo", "gpt-4"):
        d = json.load(open(shared_path("fast_detect_gpt", f"{kind}_{model}.raw_data.json"), encoding="utf-8"))
        for i, (o, s) in enumerate(zip(d["original"], d["sampled"])):
            if model == "gpt-4":
                rows.append({"text": o, "source": "human", "pair_id": f"{kind}{i}", "domain": kind})
            rows.append({"text": s, "source": "llm", "pair_id": f"{kind}{i}", "domain": kind, "model": model})
    return rows


@pytest.mark.slow
def test_real_fast_detect_gpt_bounds_prompts_and_calibration(shared_data):
    """WritingPrompts + PubMed: 300 human texts, each continued by GPT-3.5 and by GPT-4 (seed 0, no
    embeddings; figures in the report)."""
    from artifactlens.audits.free_text import audit_text
    df = pd.DataFrame(_fast_detect_gpt(shared_data) + _fast_detect_gpt(shared_data, "pubmed"))
    r = audit_text(df, embeddings=False, tagger_words=3000)
    assert r.params["length_matching"]["words"] == 75
    # the LLM continuations are narrower than the human texts at the same length, far from the floor
    for fig in ("self_bleu", "homogenization_rougel", "compression_ratio"):
        assert r.metric(f"{fig}_llm_length_matched").value > r.metric(f"{fig}_ceiling").ci[1]
        assert 0 < r[f"{fig}_position"] < 0.1
    assert r["self_bleu_llm"] > r.metric("self_bleu_human").ci[1]
    # each text continued by both models: the two continuations share far more than unrelated answers
    assert r["cross_model_similarity"] > 3 * r["cross_model_similarity_baseline"]
    assert 1 <= r["distinct_answers_per_prompt"] <= 2
    groups = {(x[0], x[1]) for x in r.tables["diversity_by_group"]["rows"]}
    assert {("model", "gpt-4"), ("model", "gpt-3.5-turbo"), ("domain", "pubmed")} <= groups
    # calibrated on these human texts: at 95% recall the style classifier flags a large share of them
    assert r["fpr_at_95_recall"] > 0.2 and r["recall_at_1pct_fpr"] < 0.8
    assert {x[0] for x in r.tables["fpr_by_subgroup"]["rows"]} >= {"domain", "length"}


def test_a_missing_group_column_is_one_input_error():
    from artifactlens.audits.free_text.inputs import column_lists, open_corpus
    from artifactlens.errors import InputError
    df = pd.DataFrame({"text": ["a human text", "an llm text"], "source": ["human", "llm"]})
    with pytest.raises(InputError) as e:
        open_corpus(df, group="native")
    assert "native" in str(e.value)
    got = column_lists(open_corpus(df.assign(native=["yes", "no"], model=[None, "gpt-4"]), group="native").batches())
    assert got["group"].tolist() == ["yes", "no"] and got["model"].tolist() == [None, "gpt-4"]
