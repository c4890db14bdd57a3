"""Preferences, issue 19: the combined verdict of both orders, swap-averaged agreement, trivial baselines,
style control against statsmodels, and the paper's CoBBLEr locality figure with its orientation dependence."""
from __future__ import annotations

import ast
import json
import random
from itertools import combinations

import numpy as np
import pytest

from artifactlens.audits.preferences import audit_preferences
from artifactlens.audits.preferences.style import features, overlap, rule_choices
from artifactlens.audits.preferences.stylefit import fit, flip_probability, newton_logit

FAST = dict(embeddings=False, reward_model=False)


def test_swap_averaged_agreement(tmp_path):
    rows = [  # P(A) as shown, P(A) swapped (A/B orientation), human
        (0.9, 0.7, "a"), (0.6, 0.3, "b"), (0.4, 0.6, "tie"), (0.2, 0.1, "b"), (0.55, 0.35, "a"), ("x", 0.5, "a")]
    p = tmp_path / "p.jsonl"
    p.write_text("".join(json.dumps({"A": "x", "B": "y", "h": h, "j": "a" if pa > 0.5 else "b", "pa": pa, "ps": ps})
                         + "\n" for pa, ps, h in rows[:5]) + json.dumps({"A": "x", "B": "y", "h": "a", "j": "a",
                                                                          "pa": "x", "ps": 0.5}) + "\n")
    r = audit_preferences(p, a="A", b="B", human="h", judge="j", judge_prob="pa", judge_prob_swapped="ps", **FAST)
    # means: .8 a ok, .45 b ok, .5 tie ok, .15 b ok, .45 b vs a miss; row 6 not a number: left out -> 4/5
    assert r["judge_human_agreement_swap_averaged"] == pytest.approx(4 / 5)
    assert r.metric("judge_human_agreement_swap_averaged").n == 5
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"A": "x", "B": "y", "h": "a", "j": "a", "pa": 3, "ps": 0.5}) + "\n")
    from artifactlens.errors import InputError
    with pytest.raises(InputError, match=r"outside \[0, 1\]"):
        audit_preferences(bad, a="A", b="B", human="h", judge="j", judge_prob="pa", judge_prob_swapped="ps", **FAST)


def test_style_features_cases():
    t = ["# Title\n\n- one\n- two\n1. three\n**bold** and __also__\n```\ncode\n```\n", "plain text, no marks",
         "#hashtag *not* a list\n-not an item"]
    f = features(t)
    assert f["headers"].tolist() == [1, 0, 0]
    assert f["lists"].tolist() == [3, 0, 0]
    assert f["bold"].tolist() == [2, 0, 0]
    assert f["code"].tolist() == [1, 0, 0]
    assert f["chars"].tolist() == [len(x) for x in t]
    assert overlap(["the cat sat", "dog"], ["The cat ran", ""]).tolist() == pytest.approx([2 / 3, 0.0])
    fa, fb = features(["aaaa", "bb", "cc"]), features(["b", "bbbb", "dd"])
    ch = rule_choices(fa, fb)
    assert ch["longer"].tolist() == ["a", "b", None] and ch["shorter"].tolist() == ["b", "a", None]
    assert ch["more_markdown"].tolist() == [None, None, None] and ch["first"].tolist() == ["a"] * 3


def test_trivial_baselines_hand_counted(tmp_path):
    # A longer in rows 0, 2; B longer in 1, 3; equal in 4 (undecidable: a miss)
    rows = [("long answer here", "short", "a", "a"), ("short", "long answer here", "b", "a"),
            ("long answer here", "short", "b", "a"), ("short", "long answer here", "a", "a"),
            ("same", "size", "a", "a"), ("x", "yy", "tie", "b")]
    p = tmp_path / "p.jsonl"
    p.write_text("".join(json.dumps({"A": a, "B": b, "h": h, "j": j, "q": "long answer"}) + "\n" for a, b, h, j in rows))
    r = audit_preferences(p, a="A", b="B", human="h", judge="j", prompt="q", **FAST)
    # people's non-tie: rows 0-4; longer picks a,b,a,b,None -> hits 0,1 = 2/5; first picks a -> 0,3,4 = 3/5
    assert r["baseline_longer_vs_human"] == pytest.approx(2 / 5)
    assert r["baseline_shorter_vs_human"] == pytest.approx(2 / 5)  # hits 2, 3
    assert r["baseline_first_vs_human"] == pytest.approx(3 / 5)
    # judge verdicts a,a,a,a,a,b; longer a,b,a,b,None,b -> 0,2,5 = 3/6
    assert r["baseline_longer_vs_judge"] == pytest.approx(3 / 6)
    # overlap with the prompt "long answer": A rows 0,2 (2/2 vs 0), B rows 1,3 -> like longer; row 4,5 equal
    assert r["baseline_overlap_vs_human"] == pytest.approx(2 / 5)
    assert r["judge_agreement_human_non_ties"] == pytest.approx(3 / 5)  # rows 0, 3, 4
    assert "cannot decide counts as a miss" in r.metric("baseline_longer_vs_human").description
    hits = [f for f in r.findings if f.metric == "baseline_first_vs_human"]
    assert hits and "as well as" in hits[0].message  # 'first wins' = the judge's 3/5
    assert not [f for f in r.findings if f.metric == "baseline_longer_vs_human"]
    bars = [f for f in r.figures if f["title"].startswith("Trivial baselines")]
    assert bars and bars[0]["categories"][-1] == "the judge"


def _planted(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    la, lb = rng.integers(50, 2000, n), rng.integers(50, 2000, n)
    ha, hb = rng.poisson(0.5, n), rng.poisson(0.5, n)
    cov = {"length": (la - lb) / (la + lb),
           "headers": np.where(ha + hb > 0, (ha - hb) / np.maximum(ha + hb, 1), 0.0),
           "overlap_prompt": rng.uniform(-0.5, 0.5, n)}
    z = 0.4 + 3.0 * cov["length"] + 0.8 * cov["headers"] + rng.logistic(size=n)
    return cov, np.where(z > 0, "a", "b").astype(object), np.arange(n) // 3


def test_style_fit_matches_statsmodels():
    import statsmodels.api as sm
    from artifactlens.stats import hash_keys
    cov, choice, groups = _planted()
    f = fit("judge", cov, choice, hash_keys(groups), seed=0, replicates=100)
    X = np.column_stack([np.ones(len(choice))] + [cov[k] / np.std(cov[k]) for k in ("length", "headers",
                                                                                      "overlap_prompt")])
    ref = sm.Logit((choice == "a").astype(float), X).fit(disp=0)
    got = [f.coef[k] for k in ("position", "length", "headers", "overlap_prompt")]
    assert got == pytest.approx(list(ref.params), abs=1e-6)
    # the planted effects: position 0.4, length positive; overlap (no effect) interval covers 0
    assert f.lo["position"] > 0 and f.lo["length"] > 0 and f.lo["overlap_prompt"] < 0 < f.hi["overlap_prompt"]
    # bootstrap SEs near statsmodels' (prompt groups of 3 independent pairs: the same order)
    se = (np.array([f.hi[k] - f.lo[k] for k in ("position", "length")]) / 3.92)
    assert se == pytest.approx(ref.bse[:2], rel=0.35)
    assert not f.warnings


def test_newton_replicates_match_one_fit_each():
    import statsmodels.api as sm
    cov, choice, _ = _planted(600, seed=1)
    X = np.column_stack([np.ones(600), cov["length"], cov["headers"]])
    y = (choice == "a").astype(float)
    W = np.random.default_rng(2).poisson(1.0, (4, 600)).astype(float)
    beta, ok = newton_logit(X, y, W)
    assert ok.all()
    for r in range(4):
        ref = sm.GLM(y, X, family=sm.families.Binomial(), freq_weights=W[r]).fit()
        assert beta[r] == pytest.approx(ref.params, abs=1e-6)


def test_style_fit_warns_on_separation():
    from artifactlens.stats import hash_keys
    rng = np.random.default_rng(0)
    length = rng.uniform(-1, 1, 200)
    choice = np.where(length > 0, "a", "b").astype(object)  # length alone decides: separation
    f = fit("judge", {"length": length}, choice, hash_keys(np.arange(200)), replicates=50)
    assert any("separation" in w for w in f.warnings)


def test_flip_probability_cases():
    p = flip_probability(np.array(["a", "a", "b", "b", "tie"], dtype=object), np.array([2.0, -2.0, 2.0, -2.0, 1.0]),
                         np.zeros(5))
    # chose A with style favouring A: (F(0) - F(-2)) / (1 - F(-2)); against its style: never flips
    F = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    assert p[0] == pytest.approx((0.5 - F(-2)) / (1 - F(-2)))
    assert p[1] == 0 and p[2] == 0 and p[3] == pytest.approx(p[0]) and np.isnan(p[4])


# -- the paper's CoBBLEr locality figure -----------------------------------------------------------------
PAPER_ORDER = "gpt4 vicuna koala llama falcon instructgpt dolly baize wizardlm chatgpt alpaca mpt openassist " \
              "redpajama cohere".split()


def _cobbler_pairs(tmp_path, d, judge, orient="paper"):
    """The authors' pairs: combinations of PAPER_ORDER shuffled with random.seed(42), the same for every
    example; entailment = the max over a response's sentences (roberta-large-mnli, precomputed)."""
    import pandas as pd
    random.seed(42)
    comb = list(combinations(PAPER_ORDER, 2))
    random.shuffle(comb)
    if orient == "alphabetical":
        comb = [tuple(sorted(c)) for c in comb]
    ent = pd.read_csv(d / "cobbler_sentences_roberta_entailment.csv")
    E = {(r.example_idx, r.model): max(ast.literal_eval(r.roberta_entail)) for r in ent.itertuples()}
    J, H = (json.loads((d / f"{k}.json").read_text()) for k in (judge, "human"))
    code = lambda p, m1, m2: "a" if p[m1] > p[m2] else "b" if p[m1] < p[m2] else "tie"  # noqa: E731
    p = tmp_path / f"{judge}_{orient}.jsonl"
    with open(p, "w") as f:
        for i in range(1, 51):
            pj = {x["model"]: x["point"] for x in J[f"example_{i}"]["rankings"]}
            ph = {x["model"]: x["point"] for x in H[f"example_{i}"]["rankings"]}
            for m1, m2 in comb:
                f.write(json.dumps({"prompt": str(i), "A": m1, "B": m2, "judge": code(pj, m1, m2),
                                    "human": code(ph, m1, m2), "ea": E[(i, m1)], "eb": E[(i, m2)]}) + "\n")
    return p


def test_cobbler_entailment_r_as_the_paper(tmp_path, shared_data):
    d = shared_data("under-the-surface", "preference", "cobbler")
    kw = dict(a="A", b="B", judge="judge", human="human", prompt="prompt", nli_column="ea,eb", style_control=False,
              **FAST)
    got = {}
    for judge in ("gpt4", "chatgpt"):
        r = audit_preferences(_cobbler_pairs(tmp_path, d, judge), **kw)
        t = {row[1]: row for row in r.tables["locality"]["rows"] if row[0] == "entailment"}
        got[judge], got["human"] = t["judge"], t["human"]
    cols = r.tables["locality"]["columns"]
    listed, lo, hi = (cols.index(c) for c in ("r_codes_listed", "r_codes_min", "r_codes_max"))
    assert round(got["gpt4"][listed], 4) == 0.0655
    assert round(got["chatgpt"][listed], 4) == 0.0551
    assert round(got["human"][listed], 4) == 0.0334
    # the figure moves with which response is listed first; the agreement with the cue does not
    for who in ("gpt4", "human"):
        assert got[who][hi] - got[who][lo] > 0.01
    alpha = audit_preferences(_cobbler_pairs(tmp_path, d, "gpt4", "alphabetical"), **kw)
    ta = {row[1]: row for row in alpha.tables["locality"]["rows"] if row[0] == "entailment"}
    assert abs(ta["judge"][listed] - got["gpt4"][listed]) > 0.003
    assert ta["judge"][2] == pytest.approx(got["gpt4"][2], abs=1e-12)  # agrees_with_cue: orientation-free
    assert ta["human"][2] == pytest.approx(got["human"][2], abs=1e-12)
