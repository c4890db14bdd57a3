"""Raw rows against their revisions (issue 20): the McNemar machinery of ``--revised`` and the held-out
measurement the issue asks for.

No released raw/revised pair set is in ../shared/data (CoachLM's folder holds only its 150-row test set,
with no raw side). The pair set here is derived from the Self-Instruct human evaluation: for each of its
252 instructions, the response of GPT-3 tuned on Self-Instruct data (``davinci-self-instruct``, the
synthetic-data model, as Alpaca is) is the raw row, the human-written target for the same instruction its
revision. The instructions are split by the parity of their SHA-1: the new detectors (too_few_items,
explanation_missing, items_repeated) were written looking at the even half only; the odd half is the
held-out set measured here.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from scipy.stats import binomtest
from statsmodels.stats.contingency_tables import mcnemar

from artifactlens.audits.instructions import audit_instructions
from artifactlens.audits.instructions.detectors import REGISTRY
from artifactlens.audits.instructions.revisions import compare, mcnemar_one_sided, paired_difference
from artifactlens.errors import InputError
from conftest import shared_path

NEW = ("too_few_items", "explanation_missing", "items_repeated")


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def held_out(instruction: str) -> bool:
    return int(hashlib.sha1(instruction.encode()).hexdigest(), 16) % 2 == 1


@pytest.fixture(scope="module")
def si_pairs(tmp_path_factory):
    d = tmp_path_factory.mktemp("si")
    rows = [json.loads(x) for x in open(shared_path("self_instruct", "davinci-self-instruct_predictions.jsonl"),
                                        encoding="utf-8")]
    test = [r for r in rows if held_out(r["instruction"])]
    raw = _write(d / "raw.jsonl", [{"instruction": r["instruction"], "input": r["input"], "output": r["response"]}
                                   for r in test])
    rev = _write(d / "rev.jsonl", [{"instruction": r["instruction"], "input": r["input"], "output": r["target"]}
                                   for r in test])
    return raw, rev, len(test)


def _gap(r):
    rows = {x[0]: x for x in r.tables["revisions"]["rows"]}
    return rows["error"]


def test_held_out_raw_rows_flagged_more_often_than_their_revisions(si_pairs):
    raw, rev, n = si_pairs
    assert n == 128
    new = audit_instructions(raw, revised=rev, near_duplicates=False, quiet=True)
    old = audit_instructions(raw, revised=rev, near_duplicates=False, quiet=True,
                             detectors=[k for k in REGISTRY if k not in NEW and k != "output_irrelevant"])
    e_new, e_old = _gap(new), _gap(old)
    # heuristic checks alone (no embeddings, no model): measured 9.4 % vs 0.8 %, b=11, c=0, p=0.00049
    assert e_new[1] == 128 and e_new[4] == 11 and e_new[5] == 0
    assert e_new[9] < 0.05 and e_new[6] >= 0.03
    assert new.metrics["revised_mcnemar_p"].value == pytest.approx(0.5 ** 11)
    lo, hi = new.metrics["revised_flag_gap"].ci
    assert lo > 0 and hi > new.metrics["revised_flag_gap"].value
    # the detectors before issue 20's revisions work: 3.9 % vs 0 % on the same pairs (b=5, c=0)
    assert e_old[4] == 5 and e_old[5] == 0 and e_old[9] == pytest.approx(1 / 32)
    assert e_new[6] - e_old[6] >= 0.04
    assert any("separate raw rows from their revisions" in f.message for f in new.findings)
    table = {x[0] for x in new.tables["revisions"]["rows"]}
    assert {"items_repeated", "too_few_items"} <= table


def test_mcnemar_one_sided_is_the_binomial_tail_and_half_statsmodels():
    for b, c in [(11, 0), (9, 2), (5, 5), (3, 8)]:
        p = mcnemar_one_sided(b, c)
        assert p["p_greater"] == pytest.approx(binomtest(b, b + c, 0.5, alternative="greater").pvalue)
        assert p["p_two_sided"] == pytest.approx(mcnemar([[0, b], [c, 0]], exact=True).pvalue)
        if b > c:
            assert p["p_greater"] == pytest.approx(p["p_two_sided"] / 2)
    assert mcnemar_one_sided(9, 2)["p_greater"] == pytest.approx(67 / 2048)
    assert mcnemar_one_sided(0, 0) == {"p_greater": 1.0, "p_two_sided": 1.0}


def test_paired_difference_and_table():
    raw = np.array([1, 1, 1, 0, 0, 1, 0, 0, 0, 0], bool)
    rev = np.array([0, 0, 1, 0, 1, 1, 0, 0, 0, 0], bool)  # b = 2, c = 1
    d, (lo, hi) = paired_difference(raw, rev)
    se = np.sqrt(3 - 1 / 10) / 10
    assert d == pytest.approx(0.1) and lo == pytest.approx(0.1 - 1.96 * se) and hi == pytest.approx(0.1 + 1.96 * se)
    (row,) = compare({"x": raw}, {"x": rev}, ["x"])
    assert row[:6] == ["x", 10, 0.4, 0.3, 2, 1] and row[9] == pytest.approx(0.5)


ROWS = [
    ("Write a few interview questions for a barista.", "", "What is your favourite coffee?",
     "- What is your favourite coffee?\n- How do you handle a rush?\n- Why this cafe?"),
    ("Select the correct option and explain why.", "A) 2\nB) 3", "B", "B, because 1 + 2 = 3."),
    ("Name some rivers.", "", "Nile, Nile, Nile, Nile, Nile, Nile, Nile", "Nile, Amazon, Danube"),
    ("What is 2 + 2?", "", "4", "..."),  # a revision that broke the row
    ("Write a haiku about rain.", "", "Rain on the tin roof / a slow drum", "Rain on the tin roof / a slow drum"),
]


def test_pairs_by_position_or_by_id_and_the_cli(tmp_path, run_cli):
    raw = _write(tmp_path / "raw.jsonl", [{"id": f"r{i}", "instruction": a, "input": b, "output": c}
                                          for i, (a, b, c, _) in enumerate(ROWS)])
    order = [3, 0, 4, 2, 1]  # the revisions in another order, one more row without a raw side
    rev_rows = [{"id": f"r{i}", "instruction": ROWS[i][0], "input": ROWS[i][1], "output": ROWS[i][3]} for i in order]
    rev_rows.append({"id": "extra", "instruction": "Say hi.", "input": "", "output": "Hi."})
    rev = _write(tmp_path / "rev.jsonl", rev_rows)
    by_id = audit_instructions(raw, revised=rev, pair_on="id", near_duplicates=False, quiet=True)
    e = _gap(by_id)
    assert e[1] == 5 and e[2] == pytest.approx(0.6) and e[3] == pytest.approx(0.2) and (e[4], e[5]) == (3, 1)
    assert by_id.input.rows_skipped.get("revision without an audited row") == 1
    flags = {x[0]: x for x in by_id.tables["revisions"]["rows"]}
    assert {"too_few_items", "explanation_missing", "items_repeated"} <= set(flags)
    by_pos = audit_instructions(raw, revised=rev, near_duplicates=False, quiet=True)  # wrong pairs: other figures
    assert _gap(by_pos)[4:6] == [2, 0]  # raw row 0 meets the broken revision of row 3
    code, _, err = run_cli("audit", "instructions", raw, "--revised", rev, "--pair-on", "id", "--no-near-duplicates",
                           "--json", tmp_path / "r.json", "--quiet")
    assert code == 0, err
    res = json.loads((tmp_path / "r.json").read_text())
    assert res["metrics"]["revised_flag_gap"]["value"] == pytest.approx(0.4)
    assert res["tables"]["revisions"]["rows"][0][:6] == ["error", 5, 0.6, 0.2, 3, 1]


def test_bad_pairing_is_an_input_error(tmp_path):
    raw = _write(tmp_path / "raw.jsonl", [{"id": 1, "instruction": "Say hi.", "input": "", "output": "Hi."}] * 2)
    rev = _write(tmp_path / "rev.jsonl", [{"instruction": "Say hi.", "input": "", "output": "Hello."}])
    with pytest.raises(InputError, match="no column 'id'"):
        audit_instructions(raw, revised=rev, pair_on="id", quiet=True)
    with pytest.raises(InputError, match="repeats the value 1"):
        audit_instructions(raw, revised=raw, pair_on="id", quiet=True)
    with pytest.raises(InputError, match="needs --revised"):
        audit_instructions(raw, pair_on="id", quiet=True)
