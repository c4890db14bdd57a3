"""Result schema round trip, the engine's map/combine over many batches, and the Poisson bootstrap."""
from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from artifactlens.engine import Check, Detector, DetectorCheck, LocalEngine, MapOutput, RowScores
from artifactlens.io import read_table
from artifactlens.result import AuditResult
from artifactlens.stats import BootstrapSums, bootstrap_rate, hash_keys, poisson_weights


def test_result_round_trip(tmp_path):
    r = AuditResult(kind="labels", title="t", params={"seed": 0, "thresholds": {"x": {"warn": 0.2}}})
    r.input.path, r.input.rows_read = "d.csv", 10
    r.input.skip("no labels", 2)
    r.add_metric("x", 0.25, "a rate", ci=(0.1, 0.4), n=8, group="g")
    r.add_metric("nan_metric", float("nan"), "undefined")
    r.add_finding("warning", "something", metric="x", evidence_rows=[1, 2])
    r.add_table("t", ["a", "b"], [[1, np.float64(0.5)]])
    r.add_figure("bar", "f", categories=["a"], series={"h": [np.float32(0.5)]})
    r.headline = ["x"]
    r.sections.append(AuditResult(kind="labels", title="section"))
    p = tmp_path / "r.json"
    r.to_json(p)
    d = json.loads(p.read_text())
    assert d["schema_version"] == 1 and d["tool"]["name"] == "artifactlens"
    assert d["metrics"]["x"] == {"value": 0.25, "description": "a rate", "ci": [0.1, 0.4], "n": 8, "group": "g"}
    assert d["metrics"]["nan_metric"]["value"] is None  # NaN never leaks into JSON
    assert d["input"]["rows_skipped"] == {"no labels": 2}
    back = AuditResult.from_json(p)
    assert back.to_dict() == r.to_dict()
    assert back["x"] == 0.25 and back.metric("x").ci == (0.1, 0.4)
    assert "section" in back._repr_html_()
    assert list(back.metrics_frame()["name"]) == ["x", "nan_metric"]


def test_result_rejects_other_schema_versions():
    with pytest.raises(ValueError, match="schema_version"):
        AuditResult.from_dict({"schema_version": 99, "kind": "labels"})


class _Len(Detector):
    name, threshold, higher_is_worse = "short", 5, False

    def score(self, batch):
        lens = np.array([len(t or "") for t in batch.column("text").to_pylist()], dtype=float)
        return RowScores(lens, [f"{int(n)} characters" for n in lens])


class _Sum(Check):
    """Sum and count of a numeric column: the simplest mergeable state."""
    name = "sum"

    def map(self, batch, ctx):
        v = np.asarray(batch.column("v").to_pylist(), dtype=float)
        return MapOutput({"twice": pa.array(v * 2)}, (v.sum(), len(v), ctx.row_offset))

    def merge(self, a, b):
        return (a[0] + b[0], a[1] + b[1], min(a[2], b[2]))


def _batches(rows, size):
    t = pa.Table.from_pylist(rows)
    return t.to_batches(max_chunksize=size)


@pytest.mark.parametrize("size", [1, 7, 1000])
def test_engine_map_combine_same_answer_however_batched(tmp_path, size):
    rng = np.random.default_rng(1)
    rows = [{"text": "x" * int(rng.integers(0, 12)), "v": float(i), "src": "ab"[i % 2]} for i in range(100)]
    out = tmp_path / "flags.jsonl"
    res = LocalEngine().run(_batches(rows, size), [DetectorCheck([_Len()], extra_groups=["src"]), _Sum()],
                            flags_path=out)
    total, n, first = res["sum"]
    assert (total, n, first) == (sum(range(100)), 100, 0)
    acc = res["detectors"]["acc"]
    expected = np.mean([len(r["text"]) <= 5 for r in rows])
    est, lo, hi = acc.ratio("short", "n")
    assert est == pytest.approx(expected) and lo < est < hi
    # the same interval whatever the batch size (weights depend on row ids only)
    ref = LocalEngine().run(_batches(rows, 100), [DetectorCheck([_Len()])])["detectors"]["acc"].ratio("short", "n")
    assert (est, lo, hi) == pytest.approx(ref, abs=1e-12)
    by_src = res["detectors"]["by_group"]["src"]
    assert by_src["a"].ratio("short", "n")[0] == pytest.approx(np.mean([len(r["text"]) <= 5 for r in rows[::2]]))
    flags = read_table(out).to_pylist()
    assert len(flags) == 100 and [f["v"] for f in flags] == [r["v"] for r in rows]  # every row, in order
    assert all(f["short"] == (len(f["text"]) <= 5) for f in flags)
    assert all((f["short_reason"] is not None) == f["short"] for f in flags)
    assert all(f["keep"] == (not f["short"]) for f in flags)
    assert flags[0]["twice"] == 0.0 and flags[99]["twice"] == 198.0


def test_detector_decides_by_threshold_and_direction():
    d = _Len()
    assert d.decide(np.array([0, 5, 6, np.nan])).tolist() == [True, True, False, False]
    d.higher_is_worse, d.threshold = True, 6
    assert d.decide(np.array([0, 5, 6, np.nan])).tolist() == [False, False, True, False]


def test_engine_leaves_no_flags_file_when_interrupted(tmp_path):
    class Boom(_Sum):
        def map(self, batch, ctx):
            if ctx.batch_index == 2:
                raise RuntimeError("boom")
            return super().map(batch, ctx)
    out = tmp_path / "flags.parquet"
    with pytest.raises(RuntimeError):
        LocalEngine().run(_batches([{"v": 1.0}] * 10, 3), [Boom()], flags_path=out)
    assert list(tmp_path.iterdir()) == []


def test_poisson_weights_are_poisson_one_and_pure():
    k = hash_keys(np.arange(20000))
    w = poisson_weights(k, seed=3, replicates=50)
    assert w.shape == (20000, 50)
    assert w.mean() == pytest.approx(1.0, abs=0.01) and w.var() == pytest.approx(1.0, abs=0.02)
    assert (np.bincount(w.astype(int).ravel())[:3] / w.size) == pytest.approx([np.exp(-1), np.exp(-1), np.exp(-1) / 2],
                                                                            abs=0.005)
    assert np.array_equal(w[123:456], poisson_weights(k[123:456], seed=3, replicates=50))
    assert not np.array_equal(w, poisson_weights(k, seed=4, replicates=50))


def test_bootstrap_interval_covers_and_merges_in_any_order():
    rng = np.random.default_rng(0)
    x = (rng.random(5000) < 0.2).astype(float)
    est, lo, hi = bootstrap_rate(x)
    se = np.sqrt(0.2 * 0.8 / 5000)
    assert est == pytest.approx(x.mean())
    assert hi - lo == pytest.approx(2 * 1.96 * se, rel=0.2)  # close to the normal-theory width
    keys = hash_keys(np.arange(5000))
    parts = []
    for sl in (slice(0, 1234), slice(1234, 4000), slice(4000, 5000)):
        a = BootstrapSums()
        a.add(keys[sl], {"x": x[sl], "n": np.ones(sl.stop - sl.start)})
        parts.append(a)
    m1 = parts[0].merge(parts[1]).merge(parts[2])
    m2 = parts[2].merge(parts[0]).merge(parts[1])
    assert m1.ratio("x", "n") == pytest.approx((est, lo, hi), abs=1e-12)
    assert m2.ratio("x", "n") == pytest.approx((est, lo, hi), abs=1e-12)
    rt = BootstrapSums.from_state(json.loads(json.dumps(m1.to_state())))
    assert rt.ratio("x", "n") == pytest.approx((est, lo, hi), abs=1e-12)


def test_group_resampling_widens_the_interval_for_clustered_rows():
    # 100 groups of 50 identical rows: resampling rows pretends 5000 independent rows
    g = np.repeat(np.arange(100), 50)
    x = np.repeat((np.random.default_rng(2).random(100) < 0.5).astype(float), 50)
    _, lo_r, hi_r = bootstrap_rate(x)
    _, lo_g, hi_g = bootstrap_rate(x, keys=g)
    assert (hi_g - lo_g) > 4 * (hi_r - lo_r)


def test_engine_progress_bar_draws_on_stderr_only_on_a_terminal(monkeypatch):
    import sys
    from artifactlens.engine.local import _progress
    assert _progress(10, quiet=True, label="x") is None
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert _progress(10, quiet=False, label="x") is None  # CI logs stay clean
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    prog = _progress(10, quiet=False, label="x")
    assert prog is not None and prog.console.stderr  # never on stdout, where results are printed
