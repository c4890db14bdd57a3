"""Ray Data engine parity: the same checks on the same data give every metric and every flag of the
local engine. One local Ray instance (2 CPUs) for the whole module, shut down at the end."""
from __future__ import annotations

import pyarrow.parquet as pq
import pytest

ray = pytest.importorskip("ray", reason="Ray is the optional extra artifactlens[ray]")

from artifactlens.engine import LocalEngine, get_engine  # noqa: E402
from artifactlens.io import open_source  # noqa: E402
from support.toy import Stateful, assert_same_results, toy_checks, write_toy  # noqa: E402


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return write_toy(tmp_path_factory.mktemp("toy") / "toy.jsonl", n=2000)


def test_ray_equals_local_every_metric_and_flag(local_ray, toy, tmp_path):
    local = LocalEngine(workers=1).run(open_source(toy, batch_size=300), toy_checks(),
                                       flags_path=tmp_path / "local.parquet")
    eng = get_engine("ray", workers=2, window=4)  # 7 batches: two datasets, two actor pools
    remote = eng.run(open_source(toy, batch_size=300), toy_checks(), flags_path=tmp_path / "ray.parquet")
    assert eng.rows == 2000
    assert_same_results(local, remote)
    a, b = pq.read_table(tmp_path / "local.parquet"), pq.read_table(tmp_path / "ray.parquet")
    assert a.num_rows == 2000 and a.equals(b)
    assert sum(a.column("apology").to_pylist()) > 50


def test_ray_flags_without_input_columns(local_ray, toy, tmp_path):
    kw = dict(flags_path=tmp_path / "g.jsonl", keep_input_columns=False)
    local = LocalEngine(seed=7).run(open_source(toy, batch_size=500), toy_checks(seed=7), **kw)
    kw["flags_path"] = tmp_path / "f.jsonl"
    remote = get_engine("ray", seed=7).run(open_source(toy, batch_size=500), toy_checks(seed=7), **kw)
    assert_same_results(local, remote)
    assert (tmp_path / "f.jsonl").read_text() == (tmp_path / "g.jsonl").read_text()
    assert '"id"' not in (tmp_path / "f.jsonl").read_text().splitlines()[0]


def test_ray_refuses_checks_with_state_across_batches(local_ray, toy):
    from artifactlens.errors import InputError
    with pytest.raises(InputError, match="keeps state from one batch to the next.*--engine local"):
        get_engine("ray").run(open_source(toy), [Stateful()])


def _instruction_batches(path, bs):
    from artifactlens.audits.instructions.layouts import detect_layout, normalise
    offset, spec = 0, None
    for b in open_source(path, batch_size=bs).batches():
        spec = spec or detect_layout(b.schema.names, None, None, None)
        yield normalise(b, spec, offset)
        offset += b.num_rows


def test_ray_equals_local_on_the_instructions_audit_check(local_ray, tmp_path):
    """The heavy workload: every heuristic detector of the instructions audit (no embeddings; the
    duplicate pass keeps state across batches, so it is left out) on the demo data."""
    check = pytest.importorskip("artifactlens.audits.instructions.check")
    from artifactlens.audits.common import demo_path
    from artifactlens.audits.instructions.audit import build_detectors
    data = demo_path("instructions.jsonl")

    def checks():
        return [check.InstructionCheck(build_detectors(embeddings=False), dedupe=None, seed=3)]
    local = LocalEngine(seed=3).run(_instruction_batches(data, 16), checks(), flags_path=tmp_path / "l.parquet")
    remote = get_engine("ray", workers=2, seed=3).run(_instruction_batches(data, 16), checks(),
                                                       flags_path=tmp_path / "r.parquet")
    a, b = local["instructions"], remote["instructions"]
    assert a["acc"].point() == b["acc"].point() and a["acc"].point()["error"] > 0
    for k in a["acc"].rep_sums:
        assert (a["acc"].rep_sums[k] == b["acc"].rep_sums[k]).all()
    assert {k: v.point() for k, v in a["by"].items()} == {k: v.point() for k, v in b["by"].items()}
    assert a["verbs"] == b["verbs"] and a["templates"] == b["templates"] and a["examples"] == b["examples"]
    fa, fb = pq.read_table(tmp_path / "l.parquet").to_pandas(), pq.read_table(tmp_path / "r.parquet").to_pandas()
    assert len(fa) > 20 and fa.equals(fb)  # NaN scores (detector not applicable) compare equal here
