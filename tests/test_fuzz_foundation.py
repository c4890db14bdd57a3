"""Property-based fuzzing (hypothesis) of the loaders, the conventions and the bootstrap.

Invariants: a loader either reads every row or raises one InputError (never another exception); label
lists round-trip; choices map into the closed set; bootstrap estimates do not depend on row order or on
how the rows are split into batches.
"""
from __future__ import annotations

import json

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from artifactlens.errors import InputError
from artifactlens.io import open_source, parse_choice, parse_label_list
from artifactlens.io.conventions import CHOICES
from artifactlens.stats import BootstrapSums, hash_keys

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                   st.text(max_size=30))
record = st.dictionaries(st.sampled_from(["a", "b", "text", "label", "x y"]),
                         st.one_of(scalar, st.lists(scalar, max_size=4)), max_size=5)


@FUZZ
@given(rows=st.lists(record, min_size=1, max_size=30), bs=st.integers(1, 8))
def test_jsonl_reads_every_row_or_raises_input_error(tmp_path_factory, rows, bs):
    p = tmp_path_factory.mktemp("f") / "d.jsonl"
    p.write_text("".join(json.dumps(r, allow_nan=True) + "\n" for r in rows), encoding="utf-8")
    try:
        n = sum(b.num_rows for b in open_source(p, batch_size=bs).batches())
    except InputError:
        return
    assert n == len(rows)


@FUZZ
@given(data=st.binary(max_size=300))
def test_any_bytes_as_csv_or_jsonl_never_crash(tmp_path_factory, data):
    d = tmp_path_factory.mktemp("b")
    for name in ("x.csv", "x.jsonl", "x.json"):
        p = d / name
        p.write_bytes(data)
        try:
            for _ in open_source(p).batches():
                pass
        except InputError:
            pass


@FUZZ
@given(labels=st.lists(st.one_of(st.none(), st.integers(-5, 5).map(float),
                                 st.text(alphabet="abcxyz _-", min_size=1, max_size=8).filter(
                                     lambda s: s.strip() and s.strip().lower() not in ("nan", "none", "null", "na")))
                       , max_size=8))
def test_label_lists_round_trip_through_text(labels):
    def fmt(v):
        return "nan" if v is None else (repr(v) if isinstance(v, float) else repr(v.strip()))
    cell = "[" + ", ".join(fmt(v) for v in labels) + "]"
    expected = [None if v is None else (v if isinstance(v, float) else v.strip()) for v in labels]
    assert parse_label_list(cell) == expected


@FUZZ
@given(s=st.text(max_size=40))
def test_label_list_parser_only_returns_or_raises_value_error(s):
    try:
        out = parse_label_list(s)
    except ValueError:
        return
    assert isinstance(out, list)


@FUZZ
@given(v=st.one_of(scalar, st.text(max_size=20)))
def test_choices_fall_in_the_closed_set(v):
    assert parse_choice(v) in (*CHOICES, None)


@FUZZ
@given(x=st.lists(st.booleans(), min_size=5, max_size=200), seed=st.integers(0, 2**31), cut=st.integers(0, 200))
def test_bootstrap_independent_of_order_and_split(x, seed, cut):
    x = np.asarray(x, dtype=float)
    ids = np.arange(len(x))
    perm = np.random.default_rng(seed).permutation(len(x))
    whole = BootstrapSums(seed, 50)
    whole.add(hash_keys(ids), {"x": x, "n": np.ones_like(x)})
    cut = min(cut, len(x))
    a, b = BootstrapSums(seed, 50), BootstrapSums(seed, 50)
    a.add(hash_keys(ids[perm][:cut]), {"x": x[perm][:cut], "n": np.ones(cut)})
    b.add(hash_keys(ids[perm][cut:]), {"x": x[perm][cut:], "n": np.ones(len(x) - cut)})
    r1, r2 = whole.ratio("x", "n"), a.merge(b).ratio("x", "n")
    assert r1[0] == r2[0] == x.mean()
    if r1[1] is not None:
        assert np.allclose(r1[1:], r2[1:], atol=1e-9)
        assert 0 <= r1[1] <= r1[0] + 1e-12 and r1[0] - 1e-12 <= r1[2] <= 1
