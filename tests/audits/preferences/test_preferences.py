"""Preference audit: hand-countable figures, codings, locality orientation, reward model, CLI, demo."""
from __future__ import annotations

import json

import numpy as np
import pytest

from artifactlens.audits.preferences import audit_preferences
from artifactlens.audits.preferences.locality import r_orientations
from artifactlens.audits.preferences.reward import reward_gap

# 10 hand-made pairs. Lengths in words: A is longer in rows 0,2,4,6,8 (5 words vs 2); equal in row 9.
ROWS = [
    # judge, swapped, human, model_a, model_b
    ("a", "a", "a", "gpt4", "llama"),
    ("a", "b", "b", "llama", "gpt4"),
    ("b", "b", "b", "gpt4", "llama"),
    ("tie", "tie", "a", "vicuna", "llama"),
    ("a", "a", "tie", "gpt4", "vicuna"),
    ("b", "a", "a", "llama", "gpt4"),
    ("a", "a", "a", "vicuna", "llama"),
    ("garbage", "a", "b", "gpt4", "llama"),
    ("a", "tie", "b", "llama", "vicuna"),
    ("b", "b", "b", "gpt4", "gpt4"),
]
LONG, SHORT = "one two three four five", "six seven"


def _write_pairs(tmp_path, rows=ROWS, name="pairs.jsonl"):
    p = tmp_path / name
    with open(p, "w") as f:
        for i, (j, s, h, ma, mb) in enumerate(rows):
            a, b = (LONG, SHORT) if i % 2 == 0 else (SHORT, LONG)
            if i == 9:
                a, b = "same length", "both two"
            f.write(json.dumps({"id": i, "prompt": f"p{i // 2}", "A": a, "B": b, "judge": j, "judge_sw": s,
                                "human": h, "ma": ma, "mb": mb}) + "\n")
    return p


def _audit(path, **kw):
    base = dict(a="A", b="B", judge="judge", human="human", judge_swapped="judge_sw", model_a="ma", model_b="mb",
                judge_model="gpt4", prompt="prompt", embeddings=False, reward_model=False)
    return audit_preferences(path, **{**base, **kw})


def test_hand_counted_rates(tmp_path):
    r = _audit(_write_pairs(tmp_path))
    # row 7 has an invalid judge choice: 9 pairs with both choices
    # agreement (3-class): rows 0,2,5?no(b vs a),6,9 -> 0,2,6,9 agree = 4/9
    assert r["judge_human_agreement"] == pytest.approx(4 / 9, abs=1e-3)
    # the verdict combines both orders: a choice that changed with the order (rows 1, 5, 8) is a tie.
    # verdicts (row 7 invalid): a,tie,b,tie,a,tie,a,-,tie,b against human a,b,b,a,tie,a,a,b,b,b -> agree in
    # rows 0,2,6,9 = 4/9 (the same count as the first order, by chance: row 5 no longer disagrees... nor agrees)
    assert r["judge_human_agreement_first_order"] == pytest.approx(4 / 9, abs=1e-3)
    # neither tie, combined: rows 0,2,6,9 (1,5,8 are verdict ties, 3 a tie, 4 a human tie) -> 4/4
    assert r["judge_human_agreement_no_ties"] == pytest.approx(1.0, abs=1e-3)
    # neither tie, first order: rows 0,1,2,5,6,8,9 -> agree 0,2,6,9 = 4/7
    assert r["judge_human_agreement_no_ties_first_order"] == pytest.approx(4 / 7, abs=1e-3)
    assert "combined verdict" in r.metric("judge_human_agreement").description
    assert r["judge_tie_rate"] == pytest.approx(1 / 9, abs=1e-3)
    assert r["human_tie_rate"] == pytest.approx(1 / 10, abs=1e-3)
    # swapped differs from judge (both valid: 9 rows): rows 1,5,8 -> 3/9
    assert r["position_inconsistency_rate"] == pytest.approx(3 / 9, abs=1e-3)
    # first picks: original run non-tie (8): a in 0,1,4,6,8 = 5; swapped run non-tie (9 valid - ties 3,8 = 8):
    # 'b' (= first shown there) in 1,2,9 = 3 -> 8/16
    assert r["judge_first_pick_rate"] == pytest.approx(8 / 16, abs=1e-3)
    # human non-tie 9 (row 4 tie), picks a in 0,3,5,6 = 4/9
    assert r["human_first_pick_rate"] == pytest.approx(4 / 9, abs=1e-3)
    # longer: A in even rows, B in odd rows 1,3,5,7; row 9 equal. Judge non-tie, lengths differ:
    # 0(a,long) 1(a,short) 2(b,short) 4(a,long) 5(b,long) 6(a,long) 8(a,long) -> longer 5/7
    assert r["judge_prefers_longer_rate"] == pytest.approx(5 / 7, abs=1e-3)
    # human non-tie, differ: 0 a L,1 b L,2 b S,3 a S,5 a S,6 a L,7 b L,8 b S -> 4/8
    assert r["human_prefers_longer_rate"] == pytest.approx(4 / 8, abs=1e-3)
    # self-preference (gpt4 in exactly one slot, both valid): rows 0,1,2,4,5 (7 invalid judge, 9 both gpt4)
    # judge wins: 0 a=own 1, 1 a vs own b 0, 2 b vs own a 0, 4 a own 1, 5 b own 1 -> 3/5
    # human: 0 a 1, 1 b 1, 2 b 0, 4 tie .5, 5 a 0 -> 2.5/5
    assert r["self_preference_judge_win_rate"] == pytest.approx(3 / 5, abs=1e-3)
    assert r["self_preference_human_win_rate"] == pytest.approx(2.5 / 5, abs=1e-3)
    assert r["self_preference_gap"] == pytest.approx(0.1, abs=1e-3)
    # Cohen's kappa by hand: judge a,a,b,tie,a,b,a,a,b ; human a,b,b,a,tie,a,a,b,b (rows without 7)
    h = ["a", "b", "b", "a", "tie", "a", "a", "b", "b"]

    def kappa(j):
        po = np.mean([x == y for x, y in zip(j, h)])
        pe = sum(j.count(c) / 9 * h.count(c) / 9 for c in ("a", "b", "tie"))
        return (po - pe) / (1 - pe)
    assert r["cohen_kappa_first_order"] == pytest.approx(kappa(["a", "a", "b", "tie", "a", "b", "a", "a", "b"]), abs=1e-3)
    assert r["cohen_kappa"] == pytest.approx(kappa(["a", "tie", "b", "tie", "a", "tie", "a", "tie", "b"]), abs=1e-3)
    assert r.metric("judge_human_agreement").ci is not None
    assert r.input.rows_skipped == {"judge choice outside the coding or empty (left out of judge figures)": 1}
    assert r["judge_invalid_rate"] == pytest.approx(0.1, abs=1e-3)
    assert r.tables["confusion_first_order"]["rows"][0] == ["a", 2, 2, 1]
    assert r.tables["confusion"]["rows"][0] == ["a", 2, 0, 1]  # verdict a: rows 0, 6 (human a), 4 (human tie)


def test_inconsistent_code_and_codes_spec(tmp_path):
    p = tmp_path / "mt.csv"
    p.write_text("A,B,judge,human\nx,y,model_a,model_b\nx,y,tie (inconsistent),model_a\nx,y,model_b,tie\n"
                 "x,y,tie (inconsistent),model_b\n")
    r = audit_preferences(p, a="A", b="B", judge="judge", human="human", embeddings=False, reward_model=False)
    assert r["position_inconsistency_rate"] == pytest.approx(0.5, abs=1e-3)
    assert r["judge_tie_rate"] == pytest.approx(0.5, abs=1e-3)  # inconsistent counts as a tie
    # agreement: (a,b) no, (tie,a) no, (b,tie) no, (tie,b) no -> 0
    assert r["judge_human_agreement"] == 0
    q = tmp_path / "codes.csv"
    q.write_text("A,B,judge,human\nx,y,1,1\nx,y,2,1\nx,y,0,0\nx,y,7,2\n")
    r = audit_preferences(q, a="A", b="B", judge="judge", human="human", codes="0=tie,1=a,2=b",
                          embeddings=False, reward_model=False)
    assert r["judge_tie_rate"] == pytest.approx(1 / 3, abs=1e-3)  # 7 is invalid
    assert r["judge_human_agreement"] == pytest.approx(2 / 3, abs=1e-3)
    assert r["human_first_pick_rate"] == pytest.approx(2 / 3, abs=1e-3)  # 1=a twice, 2=b once
    assert "position_inconsistency_rate" not in r.metrics  # no swapped column, no inconsistent code


def test_locality_orientation_free(tmp_path):
    lex = tmp_path / "lex.tsv"
    lex.write_text("word\tscore\ngood\t1\nbad\t-1\n")
    rows = [("good good", "bad", "a"), ("bad", "good", "b"), ("good", "bad bad", "b"), ("good", "good", "a"),
            ("bad", "good day", "tie"), ("good", "bad", "a")]
    p, q = tmp_path / "l.jsonl", tmp_path / "l_swapped.jsonl"
    sw = {"a": "b", "b": "a", "tie": "tie"}
    p.write_text("".join(json.dumps({"A": a, "B": b, "h": c}) + "\n" for a, b, c in rows))
    q.write_text("".join(json.dumps({"A": b, "B": a, "h": sw[c]}) + "\n" for a, b, c in rows))
    kw = dict(a="A", b="B", human="h", lexicon=lex, embeddings=False, reward_model=False)
    r, rs = audit_preferences(p, **kw), audit_preferences(q, **kw)
    # gap != 0 and human non-tie: rows 0,1,2,5 (row 3 gap 0, row 4 tie); follows cue in 0,1,5 -> 3/4
    assert r["locality_lexicon_lex_human"] == pytest.approx(0.75, abs=1e-3)
    assert rs["locality_lexicon_lex_human"] == pytest.approx(0.75, abs=1e-3)
    row = [x for x in r.tables["locality"]["rows"] if x[0] == "lexicon_lex"][0]
    row_s = [x for x in rs.tables["locality"]["rows"] if x[0] == "lexicon_lex"][0]
    assert row[8] == pytest.approx(row_s[8], abs=1e-9)  # r in both orientations: invariant
    assert row[6] == pytest.approx(row_s[7], abs=1e-9)  # as listed here = swapped there


def test_r_orientations_matches_scipy():
    from scipy.stats import pearsonr
    rng = np.random.default_rng(0)
    gap = rng.normal(size=50)
    ch = np.array(rng.choice(["a", "b", "tie"], size=50), dtype=object)
    code = {"a": 0, "b": 1, "tie": 2}
    listed, swapped, both = r_orientations(gap, ch)
    assert listed == pytest.approx(pearsonr(gap, [code[c] for c in ch])[0], abs=1e-9)
    sc = [code[{"a": "b", "b": "a", "tie": "tie"}[c]] for c in ch]
    assert swapped == pytest.approx(pearsonr(-gap, sc)[0], abs=1e-9)
    assert both == pytest.approx(pearsonr(np.r_[gap, -gap], [code[c] for c in ch] + sc)[0], abs=1e-9)


def test_reward_gap_on_planted_features():
    rng = np.random.default_rng(1)
    n = 600
    X = rng.normal(size=(n, 8))
    human = np.where(X[:, 0] + 0.3 * rng.normal(size=n) > 0, "a", "b").astype(object)
    judge = np.where(X[:, 1] > 0, "a", "b").astype(object)  # the judge follows another feature
    res = reward_gap(X, judge, human, groups=np.arange(n) // 3, seeds=(0, 1, 2))
    assert res["acc_human_trained"][0] > 0.8
    assert 0.35 < res["acc_judge_trained"][0] < 0.65
    assert res["gap"][1] > 0.2
    assert len(res["per_seed"]) == 3
    same = reward_gap(X, human, human, groups=np.arange(n) // 3, seeds=(0,))
    assert same["gap"][0] == pytest.approx(0.0, abs=1e-9)


def test_bad_input_is_one_line(tmp_path, run_cli):
    p = _write_pairs(tmp_path)
    code, out, err = run_cli("audit", "preferences", p, "--a", "A", "--b", "Bee", "--judge", "judge")
    assert code == 2 and "column 'Bee'" in err and "Traceback" not in err
    code, _, err = run_cli("audit", "preferences", p, "--a", "A", "--b", "B", "--judge", "judge", "--codes", "0=x")
    assert code == 2 and "--codes" in err
    code, _, err = run_cli("audit", "preferences", "--a", "A", "--b", "B")
    assert code == 2 and "FILE" in err


def test_cli_writes_json_and_flags(tmp_path, run_cli):
    p = _write_pairs(tmp_path)
    out, flags = tmp_path / "r.json", tmp_path / "f.csv"
    code, stdout, err = run_cli("audit", "preferences", p, "--a", "A", "--b", "B", "--human", "human", "--judge",
                                "judge", "--judge-swapped", "judge_sw", "--prompt", "prompt", "--no-embeddings",
                                "--json", out, "--flags", flags, "--html", tmp_path / "r.html")
    assert code == 0, err
    d = json.loads(out.read_text())
    assert d["kind"] == "preferences"
    assert d["metrics"]["judge_human_agreement"]["value"] == pytest.approx(4 / 9, abs=1e-3)
    assert d["params"]["resample_by"] == "prompt"
    lines = flags.read_text().splitlines()
    assert len(lines) == 11 and "judge_human_disagree" in lines[0] and "position_inconsistent" in lines[0]
    assert (tmp_path / "r.html").stat().st_size > 1000


def test_demo_planted_biases(tmp_path):
    from artifactlens.api import get_audit
    from artifactlens.audits.common import demo_path
    from artifactlens.contract.options import RunOptions
    audit = get_audit("preferences")
    name, opts = audit.demo
    r = audit.run(demo_path(name), run=RunOptions(flags=str(tmp_path / "f.jsonl")), **opts)
    assert r.input.rows_read == 200
    assert r.metric("judge_first_pick_rate").ci[0] > 0.5  # planted position bias
    assert r.metric("first_pick_gap").ci[0] > 0
    assert r.metric("prefers_longer_gap").ci[0] > 0  # planted verbosity bias
    assert r.metric("self_preference_gap").ci[0] > 0  # planted self-preference
    assert r["position_inconsistency_rate"] > 0.1
    assert sum(r.input.rows_skipped.values()) == 4  # planted unparseable judge answers
    assert "reward_model_gap" in r.metrics and r.metric("reward_model_gap").ci is not None
    assert "locality_minilm_cosine_judge" in r.metrics
    kinds = {f["type"] for f in r.figures}
    assert {"heatmap", "bar", "line", "forest"} <= kinds
    assert r.examples and r.examples[0]["fields"]["judge"] != r.examples[0]["fields"]["human"]
    # style control: the planted verbosity and position biases show in the judge's fit, not in people's
    assert r.metric("style_judge_length").ci[0] > 0
    assert r.metric("style_judge_position").ci[0] > 0
    assert r["style_flip_share"] > 0
    flags = [json.loads(x) for x in (tmp_path / "f.jsonl").read_text().splitlines()]
    assert len(flags) == 200 and {"judge_verdict", "judge_debiased", "style_flip_prob"} <= set(flags[0])
    flipped = [f for f in flags if f["judge_debiased"] not in (None, f["judge_choice"])]
    assert all(f["style_flip_prob"] > 0.5 for f in flipped)
