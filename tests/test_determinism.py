"""Determinism: the same input and seed give byte-identical JSON results (apart from the ``created``
timestamp), for every audit that exists; on the local engine, across batch sizes, and on Ray where it runs."""
from __future__ import annotations

import json
import re

import pytest

from support.bad_input import SPECS, built, write

CREATED = re.compile(r'\n\s*"created": "[^"]*",?')


def result_bytes(run_cli, tmp_path, kind, src, *extra, name="r.json") -> str:
    out = tmp_path / name
    code, _, err = run_cli("audit", kind, src, *SPECS[kind].args, "--json", out, "--quiet", "--seed", "7", *extra)
    assert code == 0, err
    return CREATED.sub("", out.read_text(encoding="utf-8"))


def data(tmp_path, kind, n=60):
    rows = [SPECS[kind].row(i) for i in range(n)]
    return write(tmp_path / "in.jsonl", rows, "jsonl")


@pytest.mark.parametrize("kind", list(SPECS))
def test_same_input_and_seed_give_identical_bytes(run_cli, tmp_path, kind):
    built(kind)
    src = data(tmp_path, kind)
    a = result_bytes(run_cli, tmp_path, kind, src, name="a.json")
    b = result_bytes(run_cli, tmp_path, kind, src, name="b.json")
    assert a == b
    assert '"created"' not in a and len(a) > 200


@pytest.mark.parametrize("kind", ["labels", "preferences", "instructions"])
def test_batch_size_does_not_change_the_result(run_cli, tmp_path, kind):
    built(kind)
    src = data(tmp_path, kind)
    a = json.loads(result_bytes(run_cli, tmp_path, kind, src, "--batch-size", "8192", name="a.json"))
    b = json.loads(result_bytes(run_cli, tmp_path, kind, src, "--batch-size", "7", name="b.json"))
    for r in (a, b):
        r["params"].pop("batch_size", None)
        r["params"]["run"].pop("batch_size", None)
    assert_close(a, b)  # the same figures; float sums in another order may differ in the last bits


def assert_close(a, b, where="result"):
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for k in a:
            assert_close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12), where
    else:
        assert a == b, where


def _ray_works() -> bool:
    try:
        from artifactlens.engine import get_engine
        get_engine("ray")
        return True
    except Exception:
        return False


@pytest.mark.slow
def test_ray_engine_gives_the_local_bytes(run_cli, tmp_path):
    if not _ray_works():
        pytest.skip("the Ray engine is not available here (pip install 'artifactlens[ray]')")
    src = data(tmp_path, "labels", n=200)
    local = json.loads(result_bytes(run_cli, tmp_path, "labels", src, "--batch-size", "32", name="l.json"))
    ray = json.loads(result_bytes(run_cli, tmp_path, "labels", src, "--batch-size", "32", "--engine", "ray",
                                  name="r.json"))
    for r in (local, ray):
        r["params"].pop("engine", None)
        r["params"]["run"].pop("engine", None)
    assert local == ray
