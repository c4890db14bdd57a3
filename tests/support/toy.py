"""Toy checks for the engine tests: two detectors, a grouped bootstrap check, a sequential check.

The pool and the Ray parity tests run the same ones (Ray workers import them as ``support.toy``).
"""
from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from artifactlens.engine import BatchContext, Check, Detector, DetectorCheck, MapOutput, RowScores
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


class Stateful(LengthRatio):
    name, pure_map = "stateful", False
