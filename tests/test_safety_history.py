"""No history entry lost (issue 16, item 4): concurrent runs on one --store wait for the lock and all
store; a --store that is not a DuckDB file (or a new path) is refused, not silently left empty."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import duckdb
import pytest

from artifactlens.errors import InputError
from artifactlens.history import HistoryStore, connect

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")

_CHILD = """
import sys, time
from artifactlens.history import HistoryStore
from artifactlens.result import AuditResult
store, start, i = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
r = AuditResult(kind="labels", title=f"run {i}")
r.add_metric("rate", 0.1 * i, "a rate", ci=(0.0, 1.0), n=10)
while time.time() < start:
    time.sleep(0.005)
with HistoryStore(store) as h:
    h.append(r)
    time.sleep(0.3)  # hold the lock a while: the others must wait, not fail
print("stored", i)
"""


@pytest.mark.slow
def test_six_concurrent_appends_are_all_stored(tmp_path):
    store = tmp_path / "audits.duckdb"
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    start = time.time() + 4.0  # every process imported and waiting, then all at once
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD, str(store), str(start), str(i)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(6)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, [e[-400:] for _, e in outs]
    with HistoryStore(store, read_only=True) as h:
        runs = h.runs()
    assert len(runs) == 6
    assert sorted(r["title"] for r in runs) == [f"run {i}" for i in range(6)]
    assert [r["run_id"] for r in runs] == [1, 2, 3, 4, 5, 6]


def test_lock_wait_is_bounded_and_one_line(tmp_path):
    store = tmp_path / "audits.duckdb"
    HistoryStore(store).close()
    env = {**os.environ, "PYTHONPATH": SRC}
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]);"
                               " print('held', flush=True); time.sleep(20)", str(store)], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        t = time.monotonic()
        with pytest.raises(InputError, match="locked by another run"):
            HistoryStore(store, wait_s=1.0)
        assert 0.9 <= time.monotonic() - t < 8
    finally:
        holder.kill()
        holder.wait()
    HistoryStore(store, wait_s=5).close()  # the lock is free again


@pytest.mark.parametrize("name, content", [("x.csv", b"a,b\n1,2\n"), ("r.json", b'{"kind": "labels"}'),
                                           ("hist.db", b"SQLite format 3\x00" + b"\x00" * 100)])
def test_a_store_that_is_not_duckdb_is_refused_and_untouched(run_cli, tmp_path, name, content):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(InputError, match="not a DuckDB database"):
        HistoryStore(p)
    code, _, err = run_cli("history", "--store", p)
    assert code == 2 and "not a DuckDB database" in err
    assert p.read_bytes() == content


def test_a_new_csv_store_or_a_folder_is_refused(tmp_path):
    with pytest.raises(InputError, match="DuckDB database"):
        HistoryStore(tmp_path / "new.csv")
    assert not (tmp_path / "new.csv").exists()
    with pytest.raises(InputError, match="folder"):
        HistoryStore(tmp_path)
    with HistoryStore(tmp_path / "new.duckdb") as h:  # a new path with any other name is created
        assert h.runs() == []
    (tmp_path / "empty.duckdb").write_bytes(b"")
    with pytest.raises(InputError, match="not a valid DuckDB database"):  # DuckDB's own refusal, one line
        HistoryStore(tmp_path / "empty.duckdb")


def test_connect_reraises_other_errors(tmp_path):
    with pytest.raises(duckdb.Error):
        connect(tmp_path / "missing" / "dir" / "x.duckdb")
