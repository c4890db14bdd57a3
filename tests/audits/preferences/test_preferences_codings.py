"""Preferences, issue 23: numeric choice codings that fit more than one reading are refused (exit 2 naming
the candidates and --codes), nested layouts are refused with a hint, a run that uses no row is an error."""
from __future__ import annotations

import json

import pytest

from artifactlens.audits.preferences import audit_preferences
from artifactlens.errors import InputError

FAST = dict(embeddings=False, reward_model=False, style_control=False)


def _csv(tmp_path, judge, human, name="p.csv"):
    p = tmp_path / name
    p.write_text("A,B,j,h\n" + "".join(f"x{i},y{i},{a},{b}\n" for i, (a, b) in enumerate(zip(judge, human))))
    return p


def test_llmbar_one_two_is_refused_without_codes(tmp_path, shared_data, run_cli):
    rows = json.loads(shared_data("llmbar", "Natural.GPT-4_Vanilla_NoRules.result.json").read_text())
    p = _csv(tmp_path, [r["results"][0]["swap = False"]["winner"] for r in rows], [r["label"] for r in rows])
    code, _, err = run_cli("audit", "preferences", p, "--a", "A", "--b", "B", "--judge", "j", "--human", "h",
                           "--no-embeddings", "--no-reward-model")
    assert code == 2 and "Traceback" not in err
    assert "--codes" in err and "1=a,2=b" in err and "more than one coding" in err
    r = audit_preferences(p, a="A", b="B", judge="j", human="h", codes="1=a,2=b", **FAST)
    assert r["judge_human_agreement"] == pytest.approx(0.92)


def test_pandalm_coding_read_as_default_is_refused(tmp_path):
    # PandaLM: 0 = tie, 1, 2; its judge rarely ties. Read as 0/1/2 = first/second/tie the judge would never
    # pick the first response and people would tie half the time.
    judge = ["1"] * 40 + ["2"] * 60
    human = ["0"] * 10 + ["1"] * 40 + ["2"] * 50
    p = _csv(tmp_path, judge, human)
    with pytest.raises(InputError, match="implausible") as e:
        audit_preferences(p, a="A", b="B", judge="j", human="h", **FAST)
    assert "0=tie,1=a,2=b" in str(e.value) and "--codes" in str(e.value)
    r = audit_preferences(p, a="A", b="B", judge="j", human="h", codes="0=tie,1=a,2=b", **FAST)
    assert r["judge_tie_rate"] == 0 and r["human_tie_rate"] == pytest.approx(0.1)


def test_p2c_default_coding_is_said(tmp_path, shared_data):
    import pandas as pd
    d = shared_data("under-the-surface", "preference", "p2c")
    h = pd.read_csv(d / "p2c_subjective_human_preferences.csv")
    g = pd.read_csv(d / "p2c_generative_gpt3_preferences.csv")
    p = tmp_path / "p2c.csv"
    pd.DataFrame({"A": h.output1, "B": h.output2, "h": h.target, "j": g.target}).to_csv(p, index=False)
    r = audit_preferences(p, a="A", b="B", judge="j", human="h", **FAST)
    assert r["human_tie_rate"] == pytest.approx((h.target == 2).mean())
    assert any(f.severity == "info" and "PandaLM" in f.message for f in r.findings)


def test_nested_llmbar_result_is_refused_with_a_hint(tmp_path, shared_data, run_cli):
    src = shared_data("llmbar", "Natural.GPT-4_Vanilla_NoRules.result.json")
    code, _, err = run_cli("audit", "preferences", src, "--a", "output_1", "--b", "output_2", "--judge", "results",
                           "--human", "label", "--no-embeddings", "--no-reward-model")
    assert code == 2 and "Traceback" not in err
    assert "swap = False" in err and "--codes 1=a,2=b" in err


def test_no_usable_row_is_an_error_and_most_skipped_is_critical(tmp_path):
    p = _csv(tmp_path, ["maybe"] * 5, ["perhaps"] * 5)
    with pytest.raises(InputError, match="no row has a choice in the coding"):
        audit_preferences(p, a="A", b="B", judge="j", human="h", **FAST)
    q = _csv(tmp_path, ["a", "b", "?", "?", "?", "?"], ["a", "b", "a", "b", "a", "b"], "q.csv")
    r = audit_preferences(q, a="A", b="B", judge="j", human="h", **FAST)
    crit = [f for f in r.findings if f.severity == "critical"]
    assert crit and "4 of 6 judge choices" in crit[0].message
