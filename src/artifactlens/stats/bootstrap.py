"""Poisson bootstrap that streams and shards.

Each row (or each group: item, prompt, conversation) gets, per replicate, a Poisson(1) weight drawn from a
hash of its key and the seed, never from a stateful RNG. Weighted sums per replicate are therefore
additive: accumulate batch by batch, on any number of workers, merge in any order, and the interval is
the same however the data was split. (Hanley & MacGibbon 2006; Chamandy et al. 2012, "Estimating
uncertainty for massive data streams".)

Statistics are functions of weighted sums: a rate is ``sum(w*x)/sum(w)``, a difference of rates uses two
such pairs on the same weights, Cohen's kappa is a function of weighted confusion-matrix cells, Pearson's r
of weighted moments. :class:`BootstrapSums` holds those sums; :meth:`BootstrapSums.interval` applies the
statistic to the point sums and to every replicate and returns percentile bounds.

Shapes: ``keys`` is ``(n,)`` uint64; each value column is ``(n,)`` float; sums are ``(B,)`` per column.
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

DEFAULT_REPLICATES = 200
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
# Poisson(1) inverse CDF table: P(K <= k) for k = 0..19
_POISSON_CDF = np.cumsum([np.exp(-1.0) / np.prod(np.arange(1, k + 1, dtype=float)) for k in range(20)])


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def hash_keys(ids) -> np.ndarray:
    """Stable 64-bit keys for row ids or group ids (ints or strings); same id -> same key, any process."""
    arr = np.asarray(ids)
    if arr.dtype.kind in "iu":
        return _splitmix64(arr.astype(np.uint64))
    import pandas as pd
    return pd.util.hash_array(np.asarray([str(v) for v in arr], dtype=object)).astype(np.uint64)


def poisson_weights(keys: np.ndarray, seed: int, replicates: int) -> np.ndarray:
    """``(n, B)`` float32 Poisson(1) weights, a pure function of (key, seed, replicate)."""
    keys = np.asarray(keys, dtype=np.uint64)
    with np.errstate(over="ignore"):
        base = _splitmix64(keys ^ _splitmix64(np.uint64(seed) + np.uint64(0x5EED)))
        reps = _splitmix64(np.arange(replicates, dtype=np.uint64) * _GOLDEN + np.uint64(seed))
        u = _splitmix64(base[:, None] ^ reps[None, :])
    uniform = (u >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
    return np.searchsorted(_POISSON_CDF, uniform, side="right").astype(np.float32)


class BootstrapSums:
    """Point and per-replicate weighted sums of named per-row values; mergeable by addition.

    >>> acc = BootstrapSums(seed=0)
    >>> acc.add(hash_keys([0, 1, 2]), {"x": [1, 0, 1], "n": [1, 1, 1]})
    >>> round(acc.point()["x"] / acc.point()["n"], 3)
    0.667
    """

    def __init__(self, seed: int = 0, replicates: int = DEFAULT_REPLICATES):
        self.seed = int(seed)
        self.replicates = int(replicates)
        self.point_sums: dict[str, float] = {}
        self.rep_sums: dict[str, np.ndarray] = {}

    def add(self, keys: np.ndarray, values: Mapping[str, np.ndarray], weights: np.ndarray | None = None) -> None:
        if len(keys) == 0:
            return
        W = poisson_weights(keys, self.seed, self.replicates) if weights is None else weights
        names = list(values)
        M = np.vstack([np.asarray(values[k], dtype=np.float64) for k in names])  # (k, n)
        reps = M @ W  # (k, B)
        pts = M.sum(axis=1)
        for i, k in enumerate(names):
            self.point_sums[k] = self.point_sums.get(k, 0.0) + float(pts[i])
            self.rep_sums[k] = self.rep_sums.get(k, 0.0) + reps[i]

    def merge(self, other: "BootstrapSums") -> "BootstrapSums":
        if (other.seed, other.replicates) != (self.seed, self.replicates):
            raise ValueError("cannot merge bootstrap sums with different seeds or replicate counts")
        out = BootstrapSums(self.seed, self.replicates)
        for src in (self, other):
            for k, v in src.point_sums.items():
                out.point_sums[k] = out.point_sums.get(k, 0.0) + v
            for k, v in src.rep_sums.items():
                out.rep_sums[k] = out.rep_sums.get(k, 0.0) + v
        return out

    def point(self) -> dict[str, float]:
        return dict(self.point_sums)

    def interval(self, stat: Callable[[Mapping[str, np.ndarray | float]], np.ndarray | float],
                 level: float = 0.95) -> tuple[float, float | None, float | None]:
        """Apply ``stat`` to the point sums and to every replicate; return (estimate, lo, hi).

        ``stat`` receives a mapping name -> sum (a float for the point estimate, a ``(B,)`` array for the
        replicates) and must work on both. Replicates where the statistic is undefined (NaN) are dropped.
        """
        with np.errstate(divide="ignore", invalid="ignore"):
            est = float(stat({k: np.float64(v) for k, v in self.point_sums.items()}))
            reps = np.asarray(stat({k: np.asarray(v, dtype=np.float64) for k, v in self.rep_sums.items()}),
                              dtype=np.float64)
        reps = reps[np.isfinite(reps)]
        if not np.isfinite(est) or reps.size < 10:
            return (est if np.isfinite(est) else float("nan")), None, None
        a = (1 - level) / 2
        lo, hi = np.quantile(reps, [a, 1 - a])
        return est, float(lo), float(hi)

    def ratio(self, num: str, den: str, level: float = 0.95):
        """Shorthand for ``interval(lambda s: s[num] / s[den])``."""
        return self.interval(lambda s: s.get(num, 0.0) / s.get(den, 0.0), level)

    # serialisation for shipping partials between processes / Ray workers
    def to_state(self) -> dict:
        return {"seed": self.seed, "replicates": self.replicates, "point": self.point_sums,
                "reps": {k: np.asarray(v).tolist() for k, v in self.rep_sums.items()}}

    @classmethod
    def from_state(cls, st: dict) -> "BootstrapSums":
        out = cls(st["seed"], st["replicates"])
        out.point_sums = dict(st["point"])
        out.rep_sums = {k: np.asarray(v, dtype=np.float64) for k, v in st["reps"].items()}
        return out


def bootstrap_rate(flags, keys=None, seed: int = 0, replicates: int = DEFAULT_REPLICATES, level: float = 0.95):
    """Rate of a boolean/0-1 array with its interval; rows keyed by position unless ``keys`` are given
    (pass group ids to resample groups: the rate stays per row, groups move together)."""
    flags = np.asarray(flags, dtype=np.float64)
    ks = hash_keys(np.arange(len(flags)) if keys is None else keys)
    acc = BootstrapSums(seed, replicates)
    acc.add(ks, {"x": flags, "n": np.ones_like(flags)})
    return acc.ratio("x", "n", level)
