"""The local engine's process pool gives the sequential answer, bit for bit, in input order.

The toy checks (tests/support/toy.py) are also what the Ray parity test runs.
"""
from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from artifactlens.engine import Detector, DetectorCheck, LocalEngine
from artifactlens.engine.local import PARALLEL_MIN_BYTES, auto_workers
from artifactlens.io import open_source
from support.toy import Apology, LengthRatio, Stateful, assert_same_results, toy_checks, write_toy


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return write_toy(tmp_path_factory.mktemp("toy") / "toy.jsonl")


def test_pool_equals_sequential_metrics_and_flags(toy, tmp_path):
    seq = LocalEngine(workers=1).run(open_source(toy, batch_size=256), toy_checks(), flags_path=tmp_path / "s.parquet")
    eng = LocalEngine(workers=2)
    par = eng.run(open_source(toy, batch_size=256), toy_checks(), flags_path=tmp_path / "p.parquet")
    assert eng.used_workers == 2
    assert_same_results(seq, par)
    s, p = pq.read_table(tmp_path / "s.parquet"), pq.read_table(tmp_path / "p.parquet")
    assert s.num_rows == 3000 and s.equals(p)
    assert s.column("id").to_pylist() == list(range(3000))  # input order
    # the figures are real: both detectors fire, and at the rates the data implies
    outs = s.column("output").to_pylist()
    assert sum(s.column("too_short").to_pylist()) == sum(len(o.split()) <= 5 for o in outs) > 100
    assert sum(s.column("apology").to_pylist()) == sum("sorry" in o for o in outs) > 100
    assert seq["detectors"]["acc"].point()["n"] == 3000
    assert seq["repeated"]["n"] == sum(s.column("repeated").to_pylist()) == len(outs) - len(set(outs))


def test_check_with_state_across_batches_stays_in_process(toy):
    eng = LocalEngine(workers=2)
    eng.run(open_source(toy, batch_size=512), [Stateful()])
    assert eng.used_workers == 1


def test_unpicklable_checks_run_in_process(toy):
    class Local(LengthRatio):  # defined in a function: cannot pickle, so no pool
        pass
    eng = LocalEngine(workers=2)
    out = eng.run(open_source(toy, batch_size=512), [Local()])
    assert eng.used_workers == 1 and out["length_ratio"][0] > 0


def test_auto_workers_only_for_large_inputs(toy, tmp_path, monkeypatch):
    monkeypatch.delenv("ARTIFACTLENS_WORKERS", raising=False)
    assert auto_workers(open_source(toy)) == 1
    big = tmp_path / "big.jsonl"
    with open(big, "wb") as f:
        f.truncate(PARALLEL_MIN_BYTES)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert auto_workers(open_source(big)) == 2
    assert auto_workers(iter([])) == 1  # a plain batch iterable: size unknown, in-process
    monkeypatch.setenv("ARTIFACTLENS_WORKERS", "3")
    assert auto_workers(open_source(toy)) == 3


def test_automatic_pool_only_for_checks_declared_pure():
    from artifactlens.engine.local import declares_pure_map
    assert declares_pure_map(DetectorCheck([Apology()]))
    assert not declares_pure_map(LengthRatio())  # pure by contract, but its author did not say so
    assert not declares_pure_map(Stateful())


class Boom(Detector):
    name = "boom"

    def score(self, batch):
        raise ValueError(f"detector failed on a batch of {batch.num_rows}")


def test_worker_error_reaches_the_caller(toy, tmp_path):
    eng = LocalEngine(workers=2)
    with pytest.raises(ValueError, match="detector failed on a batch of 512"):
        eng.run(open_source(toy, batch_size=512), [DetectorCheck([Boom()])], flags_path=tmp_path / "f.parquet")
    assert eng.used_workers == 2 and not (tmp_path / "f.parquet").exists()
