"""The fast paths of the Poisson bootstrap give the plain formulas' numbers, bit for bit: the weights
(``poisson_weights`` against the inverse-CDF rule it speeds up), and sums over rows that share their
values (``add_table`` against ``add`` on the same rows)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from artifactlens.stats import BootstrapSums, GroupedSums, hash_keys, hash_texts, poisson_weights
from artifactlens.stats import bootstrap as bs


@pytest.mark.parametrize("n,seed,replicates", [(20_000, 0, 200), (777, 2**31 + 5, 200), (3, 9, 1), (1, 4, 57),
                                               (0, 1, 200), (5000, 123456789, 13)])
def test_poisson_weights_are_the_inverse_cdf_rule(n, seed, replicates):
    keys = hash_keys(np.arange(n) * 7 + 11)
    ref = bs._poisson_weights_reference(keys, seed, replicates)
    got = poisson_weights(keys, seed, replicates)
    assert got.dtype == np.float32 and got.shape == (n, replicates)
    assert np.array_equal(got, ref)
    assert np.array_equal(poisson_weights(keys, seed, replicates, dtype=np.float64), ref)


def test_draws_on_the_split_prefixes_are_drawn_out_in_full():
    """20k x 200 draws land ~500 times on the 8 prefixes a CDF entry splits: the slow branch runs."""
    keys = hash_keys(np.arange(20_000))
    with np.errstate(over="ignore"):
        base = bs._splitmix64(keys ^ bs._splitmix64(np.uint64(0) + np.uint64(0x5EED)))
        reps = bs._splitmix64(np.arange(200, dtype=np.uint64) * bs._GOLDEN + np.uint64(0))
        u = bs._splitmix64(base[:, None] ^ reps[None, :])
    on_split = np.isin((u >> np.uint64(48)).astype(np.int64), np.flatnonzero(bs._SPLIT_TOP16))
    assert on_split.sum() > 100
    w = poisson_weights(keys, 0, 200)
    assert np.array_equal(w[on_split], bs._weight_of(u[on_split]).astype(np.float32))
    assert set(np.unique(w[on_split]).tolist()) >= {0.0, 1.0}


def test_prefix_tables_agree_with_the_rule_at_both_ends_of_every_prefix():
    p = np.arange(1 << 16, dtype=np.uint64)
    lowest = bs._weight_of(p << np.uint64(48))
    highest = bs._weight_of((p << np.uint64(48)) | np.uint64((1 << 48) - 1))
    assert np.array_equal(bs._SPLIT_TOP16, lowest != highest)
    assert bs._SPLIT_TOP16.sum() == len(bs._SPLIT_PREFIXES) < 20
    counted = np.searchsorted(bs._STEPS, np.arange(1 << 16), side="right")  # steps at or below each prefix
    assert np.array_equal(counted[~bs._SPLIT_TOP16], lowest[~bs._SPLIT_TOP16])


def test_hash_texts_is_hash_keys_of_the_same_strings():
    ids = ["a", "item 7", "", "ünï", "12", "None"] * 3
    assert np.array_equal(hash_texts(np.array(ids, dtype=object)), hash_keys(ids))
    assert hash_texts(np.array([], dtype=object)).size == 0
    assert np.array_equal(hash_texts(np.array(ids, dtype=object)),
                          pd.util.hash_array(np.array(ids, dtype=object)).astype(np.uint64))


def _table(rng, S):
    """Columns: 0/1 flags, counts, a constant, shares (c/3, c/5: not integers), entropies."""
    t = np.empty((S, 7))
    t[:, 0] = rng.integers(0, 2, S)
    t[:, 1] = rng.integers(0, 6, S)
    t[:, 2] = 1.0
    t[:, 3] = rng.integers(0, 4, S) / 3
    t[:, 4] = rng.integers(0, 6, S) / 5
    t[:, 5] = rng.choice([0.0, 0.9709505944546686, 1.5219280948873621], S)
    t[:, 6] = 0.0
    return t, [f"c{j}" for j in range(7)]


def _same(a: BootstrapSums, b: BootstrapSums):
    assert list(a.point_sums) == list(b.point_sums)
    for k in a.point_sums:
        assert a.point_sums[k] == b.point_sums[k], k
        assert np.array_equal(a.rep_sums[k], b.rep_sums[k]), k


@pytest.mark.parametrize("n,S", [(8192, 300), (2730, 40), (300, 7), (5, 9), (1, 3)])
def test_add_table_is_add_on_the_rows_values(n, S):
    rng = np.random.default_rng(n)
    keys = hash_keys(np.arange(n) + 100)
    table, names = _table(rng, S)
    codes = rng.integers(0, S, n)
    W = poisson_weights(keys, 0, 200, dtype=np.float64)
    a = BootstrapSums(0)
    with bs.one_blas_thread():
        a.add(keys, {k: table[codes, j] for j, k in enumerate(names)}, weights=W)
        b = BootstrapSums(0)
        b.add(keys, {k: table[codes, j] for j, k in enumerate(names)}, weights=W)
    c = BootstrapSums(0)
    c.add_table(codes, table, names, W)
    c.add_table(codes, table, names, W)  # added twice: the accumulation too
    a = a.merge(b)
    _same(a, c)
    assert c.ratio("c3", "c2") == a.ratio("c3", "c2") and c.ratio("c0", "c2") == a.ratio("c0", "c2")
    for cols in ([3], [0, 1]):  # one non-integer column (add's vector product); integer columns alone
        one, ref = BootstrapSums(0), BootstrapSums(0)
        one.add_table(codes, table[:, cols], [names[j] for j in cols], W)
        with bs.one_blas_thread():
            ref.add(keys, {names[j]: table[codes, j] for j in cols}, weights=W)
        _same(ref, one)


@pytest.mark.parametrize("joint", [False, True])
def test_grouped_add_table_is_add_per_stratum(joint):
    rng = np.random.default_rng(8)
    n, S = 5000, 60
    keys = hash_keys(np.arange(n))
    table, names = _table(rng, S)
    codes = rng.integers(0, S, n)
    strata = rng.integers(-1, 3, n)  # -1: no stratum
    labels = ["x", "y", "z"]
    W = poisson_weights(keys, 0, 200, dtype=np.float64)
    g1 = GroupedSums(0)
    with bs.one_blas_thread():
        g1.add([labels[s] if s >= 0 else None for s in strata], keys,
               {k: table[codes, j] for j, k in enumerate(names)}, weights=W)
    g2 = GroupedSums(0)
    kw = {}
    if joint:
        inside = strata >= 0
        pair = strata[inside] * S + codes[inside]
        kw = {"joint_sums": bs.group_weight_sums(pair, W[inside], 3 * S),
              "joint_counts": np.bincount(pair, minlength=3 * S)}
    g2.add_table(strata, labels, codes, table, names, W, **kw)
    assert list(g1.groups) == list(g2.groups)
    for s in g1.groups:
        _same(g1[s], g2[s])


def test_add_table_refuses_what_it_cannot_do():
    with pytest.raises(ValueError):
        BootstrapSums(0, buckets=8).add_table(np.zeros(3, dtype=int), np.ones((1, 1)), ["x"], np.ones((3, 200)))
    with pytest.raises(ValueError):
        GroupedSums(0).add_table(np.zeros(3, dtype=int), ["a"], np.zeros(2, dtype=int), np.ones((1, 1)), ["x"],
                                 np.ones((3, 200)))
