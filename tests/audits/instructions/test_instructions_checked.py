"""--checked: the error rate from a hand-checked sample and the flags (prediction-powered inference),
matched against ppi-python on the same input; per-detector precision/recall; the stratified sampler; and
the flag-rate statement without a sample."""
from __future__ import annotations

import json

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from artifactlens.audits.instructions import audit_instructions
from artifactlens.audits.instructions.checked import rows_to_check, sample_to_check
from artifactlens.errors import InputError

GOOD = {"instruction": "Name a fruit number {i}.", "input": "", "output": "Apple number {i} is a fruit."}
BAD = {"instruction": "What is {i} * 3?", "input": "", "output": "{i} * 3 = 1"}  # arithmetic_wrong


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("chk")
    rows = []
    for i in range(400):
        t = BAD if i % 5 == 0 else GOOD
        rows.append({k: v.format(i=i + 7) for k, v in t.items()})
    p = d / "d.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return d, p, rows


def test_checked_error_rate_matches_ppi_python(data, tmp_path):
    d, p, rows = data
    checked = list(range(0, 400, 4))  # 100 rows: the flagged ones are wrong, and so is every 8th unflagged one
    wrong = {i: (i % 5 == 0) or (i % 8 == 4) for i in checked}
    pacsv.write_csv(__import__("pyarrow").table({"row": checked, "wrong": [wrong[i] for i in checked]}),
                    tmp_path / "checked.csv")
    r = audit_instructions(p, checked=str(tmp_path / "checked.csv"), flags=str(tmp_path / "f.parquet"))
    m = r.metric("error_rate_checked")
    from ppi_py import ppi_mean_ci, ppi_mean_pointestimate
    flag = np.array([x["error"] for x in pq.read_table(tmp_path / "f.parquet").to_pylist()])
    y = np.array([wrong[i] for i in checked], float)
    yhat = flag[checked].astype(float)
    yu = np.delete(flag, checked).astype(float)
    lo, hi = ppi_mean_ci(y, yhat, yu, alpha=0.05)
    assert m.value == pytest.approx(float(np.ravel(ppi_mean_pointestimate(y, yhat, yu))[0]))
    assert m.ci == pytest.approx([float(np.ravel(lo)[0]), float(np.ravel(hi)[0])])
    assert r["error_rate"] == pytest.approx(0.2) and m.value > 0.25  # the flags miss the unflagged wrong rows
    table = {row[0]: row for row in r.tables["checked_precision_recall"]["rows"]}
    assert table["arithmetic_wrong"][1:] == [20, 1.0, pytest.approx(20 / y.sum())] and y.sum() == 60
    assert table["instruction_empty"][2] is None  # flags nothing: precision undefined, not 0


def test_without_a_sample_rates_are_flag_rates(data):
    r = audit_instructions(data[1])
    assert "error_rate_checked" not in r.metrics
    assert any("flag rates, not error rates" in f.message for f in r.findings)
    assert r.tables["rows_to_check"]["rows"][2] == [0.05, rows_to_check(0.2, 0.05)] and rows_to_check(0.2, 0.05) == 984


def test_bad_checked_file_is_one_input_error(data, tmp_path):
    (tmp_path / "c.csv").write_text("row,wrong\n3,maybe\n")
    with pytest.raises(InputError, match="bad checked row") as e:
        audit_instructions(data[1], checked=str(tmp_path / "c.csv"))
    assert "line 2" in str(e.value)


def test_sample_is_stratified_reproducible_and_fillable(data, tmp_path):
    d, p, rows = data
    audit_instructions(p, flags=str(tmp_path / "f.parquet"))
    s = sample_to_check(tmp_path / "f.parquet", 50, seed=1)
    assert s.num_rows == 50 and s.column("row").to_pylist() == sorted(s.column("row").to_pylist())
    strata = s.column("stratum").to_pylist()
    first = [(f or "").split(",")[0] or "none" for f in pq.read_table(tmp_path / "f.parquet").column("flags").to_pylist()]
    for level in set(first):  # proportional, at least 3 a stratum (taken from the largest)
        share = 50 * first.count(level) / len(first)
        assert strata.count(level) == min(3, first.count(level)) if share < 3 else abs(strata.count(level) - share) < 3
    assert strata.count("arithmetic_wrong") == 10 and set(strata) == set(first)
    assert s.column("row").to_pylist() == sample_to_check(tmp_path / "f.parquet", 50, seed=1).column("row").to_pylist()
    assert s.column("row").to_pylist() != sample_to_check(tmp_path / "f.parquet", 50, seed=2).column("row").to_pylist()
    assert {"instruction", "output", "reasons", "wrong", "error_type"} <= set(s.schema.names)
    assert all(rows[i]["instruction"] == ins for i, ins in zip(s.column("row").to_pylist(), s.column("instruction").to_pylist()))
    tiny = sample_to_check(tmp_path / "f.parquet", 4, seed=0).column("stratum").to_pylist()
    assert tiny.count("arithmetic_wrong") >= 1 and len(tiny) == 4  # a rare stratum is never left out


def test_a_detector_scored_elsewhere_joins_by_one_argument(data, tmp_path):
    from artifactlens.engine import Detector, RowScores

    class LongOutput(Detector):  # e.g. a model's score: only score(batch), no Features
        name, family, threshold, description = "long_output", "not_following", 30, "output of 30+ characters"

        def score(self, batch):
            s = np.array([len(x) for x in batch.column("output").to_pylist()], float)
            return RowScores(s, ["long"] * len(s))
    r = audit_instructions(data[1], extra_detectors=[LongOutput()], flags=str(tmp_path / "f.parquet"))
    assert r.params["detectors"]["long_output"]["threshold"] == 30 and r["long_output_rate"] == 0.0
    assert "long_output_score" in pq.read_table(tmp_path / "f.parquet").schema.names
    LongOutput.family = "made_up"
    with pytest.raises(InputError, match="no known family"):
        audit_instructions(data[1], extra_detectors=[LongOutput()])


def test_sample_from_a_result_json(data, tmp_path):
    from artifactlens.audits.instructions.checked import sample_from_result
    r = audit_instructions(data[1], flags=str(tmp_path / "f.parquet"))
    (tmp_path / "r.json").write_text(json.dumps({"flags": r.flags}))
    assert sample_from_result(tmp_path / "r.json", 30, tmp_path / "to_check.csv", seed=4) == 30
    back = pacsv.read_csv(tmp_path / "to_check.csv")
    assert back.num_rows == 30 and back.schema.names[:2] == ["row", "stratum"] and "wrong" in back.schema.names
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(InputError, match="names no flags file"):
        sample_from_result(tmp_path / "bad.json", 3, tmp_path / "x.csv")
