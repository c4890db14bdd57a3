"""GroupedSums: the one grouped-bootstrap primitive (a stratum's figures with the overall weights)."""
from __future__ import annotations

import numpy as np
import pytest

from artifactlens.stats import BootstrapSums, GroupedSums, hash_keys


def _data(n=500, seed=3):
    rng = np.random.default_rng(seed)
    return rng.choice(["a", "b", "c", None], size=n).tolist(), hash_keys(np.arange(n)), rng.random(n)


def test_a_stratum_equals_the_sums_of_its_rows_alone():
    strata, keys, x = _data()
    g = GroupedSums(seed=7)
    g.add(strata, keys, {"x": x, "n": np.ones(len(x))})
    assert g.strata() == ["a", "b", "c"] and None not in g
    for s in g.strata():
        m = np.array([t == s for t in strata])
        alone = BootstrapSums(seed=7)
        alone.add(keys[m], {"x": x[m], "n": np.ones(m.sum())})
        assert g[s].point() == pytest.approx(alone.point())
        np.testing.assert_allclose(g[s].rep_sums["x"], alone.rep_sums["x"])
        assert g[s].ratio("x", "n") == pytest.approx(alone.ratio("x", "n"))


def test_split_and_merged_in_any_order_gives_the_same_figures():
    strata, keys, x = _data()
    whole = GroupedSums(seed=1)
    whole.add(strata, keys, {"x": x})
    parts = []
    for lo, hi in ((0, 120), (120, 121), (121, 500)):
        p = GroupedSums(seed=1)
        p.add(strata[lo:hi], keys[lo:hi], {"x": x[lo:hi]})
        parts.append(p)
    merged = parts[2].merge(parts[0]).merge(parts[1])
    assert merged.strata() == whole.strata()
    for s in whole.strata():
        np.testing.assert_allclose(merged[s].rep_sums["x"], whole[s].rep_sums["x"])
    back = GroupedSums.from_state(merged.to_state())
    np.testing.assert_allclose(back["a"].rep_sums["x"], whole["a"].rep_sums["x"])


def test_strata_share_the_unit_weights_so_differences_are_coherent():
    """A unit in stratum a and the same unit in the overall sums get the same weight per replicate: the
    difference between a stratum and the rest is the overall minus the stratum, replicate by replicate."""
    strata, keys, x = _data()
    g, overall = GroupedSums(seed=5), BootstrapSums(seed=5)
    g.add(strata, keys, {"x": x})
    overall.add(keys, {"x": x})
    in_strata = sum(g[s].rep_sums["x"] for s in g.strata())
    none = np.array([t is None for t in strata])  # rows with no stratum go to no stratum
    lost = BootstrapSums(seed=5)
    lost.add(keys[none], {"x": x[none]})
    np.testing.assert_allclose(in_strata + lost.rep_sums["x"], overall.rep_sums["x"])


def test_bad_shapes_and_unknown_strata():
    g = GroupedSums()
    with pytest.raises(ValueError, match="one entry per row"):
        g.add(["a"], hash_keys([1, 2]), {"x": [1, 2]})
    est, lo, hi = g.get("never").ratio("x", "n")
    assert np.isnan(est) and lo is None and hi is None
