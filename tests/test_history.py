"""The DuckDB audit history: appended runs survive reopening (two separate CLI runs), `history` lists them,
`diff` names the metrics that moved beyond their intervals."""
from __future__ import annotations

import json

import duckdb
import pytest

from artifactlens.history import HistoryStore, compare, diff_metrics, result_metrics
from support.samples import labels_result, prefs_result


def test_two_runs_survive_and_diff(run_cli, tmp_path):
    store = tmp_path / "audits.duckdb"
    v1, v2 = tmp_path / "v1.json", tmp_path / "v2.json"
    labels_result(erasure=0.42, ci=(0.35, 0.49)).to_json(v1)
    r2 = labels_result(erasure=0.20, ci=(0.15, 0.25))  # a cleaner version of the data
    r2.input.sha256 = "ef" * 32
    r2.metrics["error_rate"].value = 0.09  # inside the first run's interval [0.065, 0.095]
    r2.to_json(v2)

    assert run_cli("history", "--store", store, "--add", v1)[0] == 0  # first process-equivalent run
    code, out, _ = run_cli("history", "--store", store, "--add", v2)   # the file is reopened
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["run", "stored", "(UTC)"]
    assert lines[1].split()[0] == "1" and "labels" in lines[1] and "abababababab" in lines[1]
    assert "minority_erasure_rate=0.42" in lines[2]
    assert lines[3].split()[0] == "2" and "efefefefefef" in lines[3]

    code, out, _ = run_cli("diff", "1", "2", "--store", store)
    assert code == 0
    moved = [l for l in out.splitlines() if l.startswith("moved")]
    assert len(moved) == 1 and "minority_erasure_rate" in moved[0] and "-0.22" in moved[0]
    assert "1 moved beyond their intervals" in out
    assert "error_rate" not in out  # steady: not listed without --all
    code, out, _ = run_cli("diff", "-2", "-1", "--store", store, "--all", "--fail-on-move")
    assert code == 1 and "steady   error_rate" in out
    # a nested section's metric is kept apart from the top-level one of the same name
    assert "Model gpt-x: minority_erasure_rate" in out

    # the same store read with plain SQL
    con = duckdb.connect(str(store), read_only=True)
    rows = con.execute("SELECT run_id, count(*) FROM metrics GROUP BY run_id ORDER BY run_id").fetchall()
    con.close()
    assert rows == [(1, 5), (2, 5)]


def test_store_via_write_outputs_and_json_listing(run_cli, tmp_path):
    from artifactlens.outputs import write_outputs
    store = tmp_path / "h.duckdb"
    write_outputs(labels_result(), store=str(store))
    write_outputs(prefs_result(), store=str(store), json=str(tmp_path / "p.json"))
    code, out, _ = run_cli("history", "--store", store, "--json", "--kind", "preferences")
    runs = json.loads(out)
    assert [r["run_id"] for r in runs] == [2] and runs[0]["rows_read"] == 800
    with HistoryStore(store, read_only=True) as h:
        back = h.result(2)
    assert back["judge_human_agreement"] == pytest.approx(0.71)
    assert h.path == store


def test_diff_two_result_files_without_a_store(run_cli, tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    prefs_result(0.71).to_json(a)
    r = prefs_result(0.55)
    r.metrics["judge_human_agreement"].ci = (0.50, 0.68)  # overlaps [0.67, 0.75]; each point outside the other's
    r.to_json(b)
    code, out, _ = run_cli("diff", a, b, "--store", tmp_path / "none.duckdb")
    assert code == 0 and "drifted  judge_human_agreement" in out


def test_history_errors_are_one_line(run_cli, tmp_path):
    code, _, err = run_cli("history", "--store", tmp_path / "nope.duckdb")
    assert code == 2 and "no audit history here" in err
    store = tmp_path / "s.duckdb"
    with HistoryStore(store) as h:
        h.append(labels_result())
    code, _, err = run_cli("diff", "1", "9", "--store", store)
    assert code == 2 and "no run 9 in the history (1 runs)" in err
    code, _, err = run_cli("diff", "1", "latest", "--store", store)
    assert code == 2 and "not a run: 'latest'" in err
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    code, _, err = run_cli("history", "--store", other)
    assert code == 2 and "not an artifactlens history" in err


@pytest.mark.parametrize("a, b, status", [
    ((0.4, 0.35, 0.45), (0.2, 0.15, 0.25), "moved"),
    ((0.4, 0.35, 0.45), (0.46, 0.44, 0.5), "drifted"),
    ((0.4, 0.35, 0.45), (0.41, 0.36, 0.46), "steady"),
    ((3, None, None), (4, None, None), "changed"),
    ((3, None, None), (3, None, None), "same"),
    (None, (3, None, None), "new"),
    ((3, None, None), None, "gone"),
    ((None, None, None), (0.1, None, None), "changed"),
])
def test_compare(a, b, status):
    assert compare(a, b) == status


def test_diff_orders_moved_first():
    a = result_metrics(labels_result(erasure=0.42, ci=(0.35, 0.49)))
    b = result_metrics(labels_result(erasure=0.10, ci=(0.05, 0.15)))
    d = diff_metrics(a, b)
    assert d[0].status == "moved" and d[0].name == "minority_erasure_rate" and d[0].delta == pytest.approx(-0.32)


def test_real_demo_results_stored_twice_diff_nothing_moved(run_cli, demo_dir, tmp_path, monkeypatch):
    """`artifactlens demo --store` twice (the demo itself run once, reused): same data, nothing moves."""
    import artifactlens.demo
    monkeypatch.setattr(artifactlens.demo, "run_demo", lambda out, seed=0, quiet=True: demo_dir)
    store = tmp_path / "audits.duckdb"
    n = len(list(demo_dir.glob("*.json")))
    for _ in range(2):
        code, out, err = run_cli("demo", "--out", demo_dir, "--store", store)
        assert code == 0, err
    code, out, _ = run_cli("history", "--store", store)
    assert code == 0 and out.count("artifactlens/data/demo/") == 2 * n
    code, out, _ = run_cli("diff", "1", str(n + 1), "--store", store, "--fail-on-move")
    assert code == 0 and "0 moved beyond their intervals, 0 drifted" in out and "nothing moved" in out
