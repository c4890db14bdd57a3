"""The bucketed mode of BootstrapSums (a cluster bootstrap over K hash buckets): exactly split- and
order-invariant, intervals as wide as the exact row (or group) bootstrap's, nominal coverage."""
import numpy as np
import pytest

from artifactlens.stats import BootstrapSums, hash_keys
from artifactlens.stats.bootstrap import bucket_weights


def _width(acc):
    est, lo, hi = acc.ratio("x", "n")
    return hi - lo


def test_split_and_order_invariant_and_serialisable():
    rng = np.random.default_rng(0)
    n = 5000
    keys = hash_keys(np.arange(n))
    x = (rng.random(n) < 0.2).astype(float)
    whole = BootstrapSums(7, 200, buckets=512)
    whole.add(keys, {"x": x, "n": np.ones(n)})
    cuts = np.sort(rng.choice(np.arange(1, n), 9, replace=False))
    parts = []
    for idx in np.split(rng.permutation(n), cuts):  # shuffled rows, uneven pieces, merged in reverse
        p = BootstrapSums(7, 200, buckets=512)
        p.add(keys[idx], {"x": x[idx], "n": np.ones(len(idx))})
        parts.append(p)
    merged = parts[-1]
    for p in parts[-2::-1]:
        merged = merged.merge(p)
    assert merged.point() == whole.point() == {"x": x.sum(), "n": n}
    for k in ("x", "n"):
        np.testing.assert_array_equal(merged.rep_sums[k], whole.rep_sums[k])
    assert merged.ratio("x", "n") == whole.ratio("x", "n")
    back = BootstrapSums.from_state(whole.to_state())
    assert back.buckets == 512 and back.ratio("x", "n") == whole.ratio("x", "n")


def test_misuse_is_refused():
    a, b = BootstrapSums(0, 50, buckets=64), BootstrapSums(0, 50)
    with pytest.raises(ValueError, match="bucket"):
        a.merge(b)
    with pytest.raises(ValueError, match="weights"):
        a.add(hash_keys([1, 2]), {"x": [1, 0]}, weights=np.ones((2, 50)))
    with pytest.raises(ValueError):
        BootstrapSums(0, 50, buckets=0)
    w = bucket_weights(0, 50, 64)
    assert w.shape == (64, 50) and abs(w.mean() - 1) < 0.1  # Poisson(1)


def test_width_close_to_the_exact_row_bootstrap_on_20k_rows():
    rng = np.random.default_rng(1)
    n = 20_000
    keys = hash_keys(np.arange(n))
    x = (rng.random(n) < 0.1).astype(float)
    exact, buck = BootstrapSums(3, 400), BootstrapSums(3, 400, buckets=4096)
    for acc in (exact, buck):
        acc.add(keys, {"x": x, "n": np.ones(n)})
    assert exact.ratio("x", "n")[0] == buck.ratio("x", "n")[0] == x.mean()
    analytic = 2 * 1.96 * np.sqrt(x.mean() * (1 - x.mean()) / n)
    assert _width(exact) == pytest.approx(analytic, rel=0.15)
    assert _width(buck) == pytest.approx(_width(exact), rel=0.15)
    assert _width(buck) == pytest.approx(analytic, rel=0.15)


def test_coverage_of_a_rate_is_nominal():
    rng = np.random.default_rng(2)
    n, p, sims, covered = 20_000, 0.05, 120, 0
    for s in range(sims):
        x = (rng.random(n) < p).astype(float)
        acc = BootstrapSums(0, 200, buckets=4096)  # fixed weights, fresh data each time
        acc.add(hash_keys(np.arange(n) + s * n), {"x": x, "n": np.ones(n)})
        _, lo, hi = acc.ratio("x", "n")
        covered += lo <= p <= hi
    assert 0.88 <= covered / sims <= 0.995


def test_groups_move_together():
    """Rows of a group share their outcome: keyed by group, the interval widens like the exact group
    bootstrap's (~sqrt(group size) times the naive row interval)."""
    rng = np.random.default_rng(3)
    groups, size = 2000, 10
    g = np.repeat(np.arange(groups), size)
    x = np.repeat((rng.random(groups) < 0.3).astype(float), size)
    vals = {"x": x, "n": np.ones_like(x)}
    by_row, by_group, exact_group = (BootstrapSums(5, 300, buckets=4096), BootstrapSums(5, 300, buckets=4096),
                                     BootstrapSums(5, 300))
    by_row.add(hash_keys(np.arange(len(x))), vals)
    by_group.add(hash_keys(g), vals)
    exact_group.add(hash_keys(g), vals)
    assert _width(by_group) == pytest.approx(_width(exact_group), rel=0.2)
    assert _width(by_group) / _width(by_row) == pytest.approx(np.sqrt(size), rel=0.25)
