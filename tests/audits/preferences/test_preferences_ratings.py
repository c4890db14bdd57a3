"""Preferences, issue 19 item 2: pointwise ratings. Self-bias and the length-controlled figure against an
independent numpy / scikit-learn computation, the bootstrap's Spearman against re-ranked resampled data,
a planted self-bias found and a clean set not flagged, and the Alt-Test CEBaB star ratings (six LLMs
against people) against scipy."""
from __future__ import annotations

import json

import numpy as np
import pytest

from artifactlens.audits.preferences import audit_preferences
from artifactlens.audits.preferences import ratings
from artifactlens.audits.preferences.ratings import ItemWeights, replicate_correlations, spearman_replicates
from artifactlens.errors import InputError

JUDGES = ("gpt-4o", "claude-3-opus", "llama-3-70b")
GENERATORS = ("gpt-4o", "gpt-4o-mini", "claude-3-opus", "llama-3-70b", "mistral-7b")


def _ratings(path, n_items=150, seed=0, self_boost=None, long_love=None):
    """One row per (item, generator, judge). People score quality q (1-10); a judge scores q plus noise,
    plus ``self_boost[judge]`` on its own model's responses, plus ``long_love[judge]`` per 1000 characters.
    llama-3-70b writes longer answers than the others."""
    self_boost, long_love = self_boost or {}, long_love or {}
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_items):
        hard = rng.normal(0, 1)
        for g in GENERATORS:
            q = np.clip(6 + hard + rng.normal(0, 1.2), 1, 10)
            length = int(rng.integers(300, 900) + (900 if g == "llama-3-70b" else 0))
            h = float(np.clip(np.round(q + rng.normal(0, 0.7)), 1, 10))
            for j in JUDGES:
                s = q + rng.normal(0, 1.0) + (self_boost.get(j, 0.0) if g == j else 0.0)
                s += long_love.get(j, 0.0) * length / 1000
                rows.append({"qid": f"q{i}", "model": g, "judge": j, "judge_score": float(np.clip(np.round(s), 1, 10)),
                             "human_score": h, "answer": "x" * length})
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    return rows


KW = dict(ratings=True, item="qid", judge_score="judge_score", human_score="human_score", generator="model",
          judge_column="judge", response="answer", judge_range="1,10", human_range="1,10")


def test_self_bias_matches_numpy_and_sklearn(tmp_path):
    import pandas as pd
    from sklearn.linear_model import LinearRegression
    p = tmp_path / "r.jsonl"
    rows = _ratings(p, self_boost={"gpt-4o": 1.5}, long_love={"llama-3-70b": 1.2})
    r = audit_preferences(p, **KW)
    df = pd.DataFrame(rows)
    df["res"] = (df.judge_score - 1) / 9 - (df.human_score - 1) / 9
    for j in JUDGES:
        d = df[df.judge == j]
        own = (d.model == j).to_numpy()
        sb = d.res[own].mean() - d.res[~own].mean()
        assert r[f"self_bias[{j}]"] == pytest.approx(sb, abs=1e-12)
        lr = LinearRegression().fit(np.column_stack([own, d.answer.str.len() / 1000]), d.res)
        assert r[f"self_bias_length_controlled[{j}]"] == pytest.approx(lr.coef_[0], abs=1e-9)
        assert r[f"mean_residual[{j}]"] == pytest.approx(d.res.mean(), abs=1e-12)
        fam = np.array([m.split("-")[0] == j.split("-")[0] for m in d.model])  # gpt-4o-mini is gpt-4o's family
        assert r[f"family_bias[{j}]"] == pytest.approx(d.res[fam].mean() - d.res[~fam].mean(), abs=1e-12)
        from scipy.stats import pearsonr, spearmanr
        assert r[f"judge_human_spearman[{j}]"] == pytest.approx(spearmanr(d.judge_score, d.human_score)[0], abs=1e-12)
        assert r[f"judge_human_pearson[{j}]"] == pytest.approx(pearsonr(d.judge_score, d.human_score)[0], abs=1e-12)
    # the bootstrap by item is about as wide as statsmodels' cluster-robust OLS interval (clusters = items)
    import statsmodels.api as sm
    d = df[df.judge == "gpt-4o"]
    X = sm.add_constant(np.column_stack([(d.model == "gpt-4o").to_numpy(float), d.answer.str.len() / 1000]))
    ref = sm.OLS(d.res.to_numpy(), X).fit(cov_type="cluster", cov_kwds={"groups": d.qid.str[1:].astype(int)})
    lo, hi = r.metric("self_bias_length_controlled[gpt-4o]").ci
    assert (hi - lo) / 3.92 == pytest.approx(ref.bse[1], rel=0.3)
    # the planted self-boost (1.5 points of 9) is found; llama's raw self-bias is its love of length
    lo, hi = r.metric("self_bias[gpt-4o]").ci
    assert lo > 0.1 and lo < 1.5 / 9 < hi
    lc = r.metric("self_bias_length_controlled[llama-3-70b]")
    assert r.metric("self_bias[llama-3-70b]").ci[0] > 0 and lc.ci[0] < 0 < lc.ci[1]
    c = r.metric("self_bias[claude-3-opus]").ci
    assert c[0] < 0 < c[1]
    warn = [f for f in r.findings if f.severity == "warning" and "Self-bias" in f.message]
    assert len(warn) == 1 and "gpt-4o" in warn[0].message and "llama-3-70b" in warn[0].message
    assert "claude" not in warn[0].message
    assert [s.title.split(":")[0] for s in r.sections] == [f"Judge {j}" for j in JUDGES]
    assert r.sections[0].metric("self_bias").ci == pytest.approx(r.metric("self_bias[gpt-4o]").ci)
    assert "declared range --judge-range 1,10" in r.sections[0].metric("mean_residual").description
    assert any(f["type"] == "forest" for f in r.figures)


def test_no_planted_bias_is_not_flagged(tmp_path):
    p = tmp_path / "r.jsonl"
    _ratings(p, seed=0)  # no boost, no love of length (seeds 0-39: 6 of 120 intervals miss 0, the 5% due)
    r = audit_preferences(p, **KW)
    for j in JUDGES:
        lo, hi = r.metric(f"self_bias[{j}]").ci
        assert lo < 0 < hi
    assert not [f for f in r.findings if f.severity == "warning"]
    assert any("No judge's self_bias interval excludes 0" in f.message for f in r.findings)


def test_wide_layout_gives_the_long_figures(tmp_path):
    import pandas as pd
    p = tmp_path / "long.jsonl"
    rows = _ratings(p, n_items=60, self_boost={"gpt-4o": 1.5})
    wide = pd.DataFrame(rows).pivot_table(index=["qid", "model", "human_score", "answer"], columns="judge",
                                          values="judge_score").reset_index()
    w = tmp_path / "wide.parquet"
    wide.to_parquet(w)
    long = audit_preferences(p, **KW)
    kw = {k: v for k, v in KW.items() if k != "judge_column"}
    got = audit_preferences(w, **{**kw, "judge_score": ",".join(JUDGES)})
    assert [s.title for s in got.sections] == [s.title for s in long.sections]
    for name, m in long.metrics.items():
        assert got[name] == pytest.approx(m.value, abs=1e-12) and got.metric(name).ci == pytest.approx(m.ci)
    with pytest.raises(InputError, match="two layouts"):
        audit_preferences(w, **{**KW, "judge_score": ",".join(JUDGES)})
    with pytest.raises(InputError, match=r"missing column \(for --judge-score \(2\)\)"):
        audit_preferences(w, **{**kw, "judge_score": "gpt-4o,nope"})


def test_spearman_replicates_equal_reranked_resampled_data(monkeypatch):
    from scipy.stats import spearmanr
    rng = np.random.default_rng(0)
    x = rng.integers(1, 6, 40).astype(float)
    y = x + rng.integers(-2, 3, 40)
    W = rng.poisson(1.0, (40, 5)).astype(float)
    got = spearman_replicates(x, y, W)
    r_w, _ = replicate_correlations(x, y, ItemWeights(np.arange(40), weights=W))
    for b in range(5):
        w = W[:, b].astype(int)
        assert got[b] == pytest.approx(spearmanr(np.repeat(x, w), np.repeat(y, w))[0], abs=1e-12)
        assert r_w[b] == pytest.approx(np.corrcoef(np.repeat(x, w), np.repeat(y, w))[0, 1], abs=1e-12)
    # rows of one item move together; weights in blocks of items give the figures of weights kept at once
    items = np.arange(40) // 4
    whole = replicate_correlations(x, y, ItemWeights(items, seed=3, replicates=50))
    monkeypatch.setattr(ratings, "CHUNK", 2)
    iw = ItemWeights(items, seed=3, replicates=50)
    assert iw._w is None and len(list(iw.blocks())) == 5
    for a, b in zip(whole, replicate_correlations(x, y, iw)):
        assert a == pytest.approx(b, abs=1e-12)


def test_observed_range_and_bad_input(tmp_path, run_cli):
    p = tmp_path / "r.csv"
    p.write_text("qid,js,hs,m\nq1,2,1,a\nq1,4,5,b\nq2,6,3,a\nq2,8,4,b\nq3,3,2,a\nq3,x,2,b\n")
    r = audit_preferences(p, ratings=True, item="qid", judge_score="js", human_score="hs", generator="m")
    # observed ranges: judge [2, 8], human [1, 5]
    res = [(2 - 2) / 6 - 0, (4 - 2) / 6 - 1, (6 - 2) / 6 - 0.5, (8 - 2) / 6 - 0.75, (3 - 2) / 6 - 0.25]
    assert r["mean_residual[js]"] == pytest.approx(np.mean(res))
    assert "observed range [2, 8]" in r.metric("mean_residual[js]").description
    assert r.input.rows_skipped == {"judge score not a number or empty": 1}
    assert any("wrote none" in f.message for f in r.sections[0].findings)  # judge 'js' is no generator
    named = audit_preferences(p, ratings=True, item="qid", judge_score="js", human_score="hs", generator="m",
                              judge_model="A")  # the judge is model 'a' (names compared lower-cased)
    assert named["self_bias[A]"] == pytest.approx(np.mean(res[0::2]) - np.mean(res[1::2]))
    assert "self_bias_length_controlled[A]" not in named.metrics
    assert any("no length" in f.message for f in named.sections[0].findings)
    with pytest.raises(InputError, match=r"row 2: column 'js': a score 6 outside the declared --judge-range 1,5"):
        audit_preferences(p, ratings=True, item="qid", judge_score="js", human_score="hs", judge_range="1,5")
    code, _, err = run_cli("audit", "preferences", p, "--judge-score", "js")
    assert code == 2 and "--judge-score needs --ratings" in err
    code, _, err = run_cli("audit", "preferences", p, "--ratings", "--item", "qid", "--judge-score", "js",
                           "--human-score", "nope")
    assert code == 2 and "column 'nope'" in err and "Traceback" not in err
    code, _, err = run_cli("audit", "preferences", p, "--ratings", "--item", "qid", "--judge-score", "js",
                           "--human-score", "hs", "--judge-range", "5,1")
    assert code == 2 and "HI must be above LO" in err


def test_cli_ratings_writes_sections(tmp_path, run_cli):
    p = tmp_path / "r.jsonl"
    _ratings(p, n_items=40, self_boost={"gpt-4o": 2.0})
    out = tmp_path / "r.json"
    code, _, err = run_cli("audit", "preferences", p, "--ratings", "--item", "qid", "--judge-score", "judge_score",
                           "--human-score", "human_score", "--judge-column", "judge", "--generator", "model",
                           "--response", "answer", "--judge-range", "1,10", "--human-range", "1,10", "--json", out,
                           "--html", tmp_path / "r.html")
    assert code == 0, err
    d = json.loads(out.read_text())
    assert [s["title"].split(":")[0] for s in d["sections"]] == [f"Judge {j}" for j in JUDGES]
    assert d["sections"][0]["metrics"]["self_bias"]["ci"][0] > 0
    assert d["tables"]["judges"]["rows"][0][0] == "gpt-4o"


def test_alt_test_cebab_stars(tmp_path, shared_data):
    """Real ratings: CEBaB restaurant-review stars (1-5) by six LLMs and 3-4 people per review (Alt-Test
    release). The human score is the people's mean; no generator, so no self-bias (said, not zero)."""
    from scipy.stats import pearsonr, spearmanr
    d = shared_data("alt_test", "cebab_stars")
    H = json.loads((d / "human_annotations.json").read_text())
    L = json.loads((d / "llm_annotations.json").read_text())
    by_item = {}
    for ann in H.values():
        for k, v in ann.items():
            by_item.setdefault(k, []).append(float(v))
    hm = {k: float(np.mean(v)) for k, v in by_item.items()}
    p = tmp_path / "cebab.jsonl"
    with open(p, "w") as f:
        for llm, labels in L.items():
            for k, v in labels.items():
                if k in hm:
                    f.write(json.dumps({"id": k, "llm": llm, "stars": v, "human": hm[k]}) + "\n")
    r = audit_preferences(p, ratings=True, item="id", judge_score="stars", human_score="human", judge_column="llm",
                          judge_range="1,5", human_range="1,5")
    assert len(r.sections) == len(L) == 6
    for llm, labels in L.items():
        ks = [k for k in labels if k in hm]
        x, y = [float(labels[k]) for k in ks], [hm[k] for k in ks]
        assert r[f"judge_human_spearman[{llm}]"] == pytest.approx(spearmanr(x, y)[0], abs=1e-12)
        assert r[f"judge_human_pearson[{llm}]"] == pytest.approx(pearsonr(x, y)[0], abs=1e-12)
        assert r[f"mean_residual[{llm}]"] == pytest.approx(np.mean(np.subtract(x, y)) / 4, abs=1e-12)
        assert f"self_bias[{llm}]" not in r.metrics
        lo, hi = r.metric(f"judge_human_spearman[{llm}]").ci
        assert lo < r[f"judge_human_spearman[{llm}]"] < hi
    assert r.metric("judge_human_spearman[gpt-4o]").n == 711
    assert 0.85 < r["judge_human_spearman[gpt-4o]"] < 0.95  # 0.899: people and GPT-4o rank reviews alike
    assert all(any("no --generator" in f.message for f in s.findings) for s in r.sections)
