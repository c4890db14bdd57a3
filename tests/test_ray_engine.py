"""Ray Data engine parity: the same checks on the same data give every metric and every flag of the
local engine. One local Ray instance (2 CPUs) for the whole module, shut down at the end."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

ray = pytest.importorskip("ray", reason="Ray is the optional extra artifactlens[ray]")

from artifactlens.engine import LocalEngine, get_engine  # noqa: E402
from artifactlens.io import open_source  # noqa: E402
from test_engine_parallel import assert_same_results, toy_checks, write_toy  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    # Ray workers import the checks by module: let them find this folder and the package
    here = str(Path(__file__).parent)
    os.environ["PYTHONPATH"] = os.pathsep.join([here, *sys.path[:3], os.environ.get("PYTHONPATH", "")])
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return write_toy(tmp_path_factory.mktemp("toy") / "toy.jsonl", n=2000)


@pytest.mark.parametrize("workers", [1, 2])
def test_ray_equals_local_every_metric_and_flag(local_ray, toy, tmp_path, workers):
    local = LocalEngine(workers=1).run(open_source(toy, batch_size=300), toy_checks(),
                                       flags_path=tmp_path / "local.parquet")
    eng = get_engine("ray", workers=workers)
    remote = eng.run(open_source(toy, batch_size=300), toy_checks(), flags_path=tmp_path / "ray.parquet")
    assert eng.rows == 2000
    assert_same_results(local, remote)
    a, b = pq.read_table(tmp_path / "local.parquet"), pq.read_table(tmp_path / "ray.parquet")
    assert a.num_rows == 2000 and a.equals(b)
    assert sum(a.column("apology").to_pylist()) > 50


def test_ray_windows_and_flags_without_input_columns(local_ray, toy, tmp_path):
    kw = dict(flags_path=tmp_path / "g.jsonl", keep_input_columns=False)
    local = LocalEngine().run(open_source(toy, batch_size=500), toy_checks(seed=7), **kw)
    kw["flags_path"] = tmp_path / "f.jsonl"
    remote = get_engine("ray", window=3).run(open_source(toy, batch_size=500), toy_checks(seed=7), **kw)
    assert_same_results(local, remote)
    assert (tmp_path / "f.jsonl").read_text() == (tmp_path / "g.jsonl").read_text()
    assert '"id"' not in (tmp_path / "f.jsonl").read_text().splitlines()[0]


def test_ray_refuses_checks_with_state_across_batches(local_ray, toy):
    from test_engine_parallel import Stateful
    from artifactlens.errors import InputError
    with pytest.raises(InputError, match="keeps state from one batch to the next.*--engine local"):
        get_engine("ray").run(open_source(toy), [Stateful()])
