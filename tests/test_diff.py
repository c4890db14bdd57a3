"""`artifactlens diff -2 -1` compares the same kind on the same data set by default, and refuses to compare
two kinds (exit 2), as after a multi-audit gate run."""
from __future__ import annotations

from artifactlens.result import AuditResult, InputInfo


def _result(kind, path, value, ci):
    r = AuditResult(kind=kind, input=InputInfo(path=path, sha256=f"{abs(hash(path)) % 10**12:012d}" * 5))
    r.add_metric("m", value, "a rate", ci=ci)
    return r


def test_negative_runs_count_back_within_kind_and_data_set(run_cli, tmp_path):
    store = tmp_path / "h.duckdb"
    files = []
    for i, (kind, path, v, ci) in enumerate([("labels", "a.csv", 0.5, (0.45, 0.55)),
                                              ("preferences", "p.jsonl", 0.9, (0.85, 0.95)),
                                              ("labels", "b.csv", 0.1, (0.05, 0.15)),
                                              ("labels", "a.csv", 0.2, (0.15, 0.25)),
                                              ("instructions", "i.jsonl", 0.3, (0.25, 0.35))]):
        f = tmp_path / f"{i}.json"
        _result(kind, path, v, ci).to_json(f)
        files.append(f)
    assert run_cli("history", "--store", store, "--add", *files)[0] == 0
    # the newest run is instructions alone: nothing to count back to
    code, _, err = run_cli("diff", "-2", "-1", "--store", store)
    assert code == 2 and "only 1 runs of this kind" in err and err.count("\n") == 1
    # --kind labels: runs 1 and 4 (a.csv), not 3 (b.csv)
    code, out, err = run_cli("diff", "-2", "-1", "--store", store, "--kind", "labels", "--all")
    assert code == 0, err
    assert "run 1 (labels" in out and "run 4 (labels" in out and "moved" in out
    # explicit ids of two kinds: refused
    code, _, err = run_cli("diff", "2", "5", "--store", store)
    assert code == 2 and "cannot compare a preferences run with a instructions run" in err.replace("an ", "a ")
    code, _, err = run_cli("diff", files[0], files[1])
    assert code == 2 and "cannot compare" in err
