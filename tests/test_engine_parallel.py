"""The local engine's process pool gives the sequential answer, bit for bit, in input order.

The toy checks here (two detectors, a grouped bootstrap check) are also what the Ray parity test runs.
"""
from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from artifactlens.engine import BatchContext, Check, Detector, DetectorCheck, LocalEngine, MapOutput, RowScores
from artifactlens.engine.local import PARALLEL_MIN_BYTES, auto_workers
from artifactlens.io import open_source
from artifactlens.stats import BootstrapSums, hash_keys


class TooShort(Detector):
    name, description, threshold, higher_is_worse = "too_short", "output under 5 words", 5, False

    def score(self, batch):
        n = np.array([len((t or "").split()) for t in batch.column("output").to_pylist()], dtype=float)
        return RowScores(n, [f"{int(k)} words" for k in n])


class Apology(Detector):
    name, description, threshold = "apology", "the output apologises or refuses", 0.5

    def score(self, batch):
        s = np.array([float("sorry" in (t or "").lower()) for t in batch.column("output").to_pylist()])
        return RowScores(s, ["says sorry"] * len(s))


class LengthRatio(Check):
    """Mean output/instruction length ratio per source, resampled by prompt group."""

    name = "length_ratio"

    def map(self, batch, ctx: BatchContext):
        ins = np.array([len(t) for t in batch.column("instruction").to_pylist()], dtype=float)
        out = np.array([len(t or "") for t in batch.column("output").to_pylist()], dtype=float)
        ratio = out / np.maximum(ins, 1)
        acc = BootstrapSums(ctx.seed)
        acc.add(hash_keys(batch.column("prompt").to_pylist()), {"r": ratio, "n": np.ones(len(ratio))})
        return MapOutput({"length_ratio": pa.array(ratio)}, acc)

    def merge(self, a, b):
        return a.merge(b)

    def finalize(self, acc):
        return acc.ratio("r", "n")


class RepeatedOutput(Check):
    """Output seen in an earlier row: hashes in ``map`` (any worker), the "earlier" test in ``sequential``
    (driver, input order), so it is right whatever worker mapped which batch."""

    name = "repeated"

    def __init__(self):
        self.seen: set[int] = set()

    def map(self, batch, ctx):
        keys = hash_keys(batch.column("output").to_pylist())
        return MapOutput({"output_key": pa.array(keys)}, None)

    def sequential(self, batch, out, ctx):
        rep = []
        for k in out.columns.pop("output_key").to_pylist():
            rep.append(k in self.seen)
            self.seen.add(k)
        first_rows = [ctx.row_offset + i for i, r in enumerate(rep) if r][:5]
        return MapOutput({"repeated": pa.array(rep)}, {"n": int(sum(rep)), "first": first_rows})

    def merge(self, a, b):
        return {"n": a["n"] + b["n"], "first": (a["first"] + b["first"])[:5]}


def toy_checks(seed=0):
    return [DetectorCheck([TooShort(), Apology()], group_column="prompt", seed=seed, extra_groups=["source"]),
            LengthRatio(), RepeatedOutput()]


def write_toy(path, n=3000, seed=1):
    rng = np.random.default_rng(seed)
    words = "sure here is a short poem about the sea and the wind sorry I cannot help".split()
    with open(path, "w") as f:
        for i in range(n):
            out = " ".join(rng.choice(words, size=int(rng.integers(1, 30))))
            f.write(json.dumps({"id": i, "prompt": f"p{i // 3}", "instruction": f"Write about topic {i % 97}",
                                "output": out, "source": ["gpt", "human", "llama"][i % 3]}) + "\n")
    return path


def assert_same_results(a: dict, b: dict):
    """Every metric of the toy checks equal (point sums, every bootstrap replicate, groups, examples)."""
    da, db = a["detectors"], b["detectors"]
    assert da["acc"].point() == db["acc"].point()
    for k in da["acc"].rep_sums:
        np.testing.assert_array_equal(da["acc"].rep_sums[k], db["acc"].rep_sums[k])
    assert da["examples"] == db["examples"]
    for g in da["by_group"]:
        assert {lvl: s.point() for lvl, s in da["by_group"][g].items()} == \
               {lvl: s.point() for lvl, s in db["by_group"][g].items()}
    assert a["length_ratio"] == b["length_ratio"]
    assert a["repeated"] == b["repeated"] and a["repeated"]["n"] > 0


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


class Stateful(LengthRatio):
    name, pure_map = "stateful", False


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
