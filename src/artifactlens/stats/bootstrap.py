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

Bucketed mode (``BootstrapSums(seed, replicates, buckets=K)``) is the cheap variant for large streams:
``add`` only sums each value into ``key % K`` (``np.bincount``, ``(K,)`` per column, no ``(n, B)`` weight
matrix per batch); the Poisson weights ``(K, B)`` are drawn per bucket from the bucket id and the seed
when an interval is asked for. It is a cluster bootstrap over K random hash buckets: rows (or groups:
a group's rows share a key, hence a bucket) move together with their bucket. Still exactly split- and
order-invariant and mergeable; where keys rarely share a bucket (n << K) it is the row bootstrap, and for
n >> K clustering i.i.d. rows at random leaves the variance of a mean unchanged, estimated from K units.
"""
from __future__ import annotations

import sys
from functools import lru_cache
from typing import Callable, Mapping

import numpy as np

from ..plain import state_type

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


def hash_texts(texts: np.ndarray) -> np.ndarray:
    """:func:`hash_keys` of ids already written as text: ``texts`` an ``(n,)`` object array of ``str``
    (no per-id conversion; the same keys as ``hash_keys`` of the same strings)."""
    import pandas as pd
    if len(texts) == 0:
        return np.zeros(0, dtype=np.uint64)
    # categorize=False: no factorising first (ids are mostly distinct); pandas documents the same hashes
    return pd.util.hash_array(np.asarray(texts, dtype=object), categorize=False).astype(np.uint64)


def poisson_weights(keys: np.ndarray, seed: int, replicates: int, dtype=np.float32) -> np.ndarray:
    """``(n, B)`` Poisson(1) weights (float32 unless ``dtype``), a pure function of (key, seed, replicate).

    The draw: ``u = splitmix64(base(key) ^ rep(replicate))``; the weight is the number of entries of the
    Poisson(1) CDF at or below ``(u >> 11) / 2**53``. Computed in cache-sized blocks of rows, with the
    weight given by the top 16 bits of ``u`` (which the last xor-shift of splitmix64 leaves as they are:
    the weight of a 16-bit prefix is a table's, counted as the table's steps at or below it); the 8 of the
    65,536 prefixes a CDF entry splits are drawn out in full. The same numbers as the plain formula
    (:func:`_poisson_weights_reference`), bit for bit, about 3.5x faster."""
    keys = np.asarray(keys, dtype=np.uint64)
    n = len(keys)
    with np.errstate(over="ignore"):
        base = _splitmix64(keys ^ _splitmix64(np.uint64(seed) + np.uint64(0x5EED)))
        reps = _splitmix64(np.arange(replicates, dtype=np.uint64) * _GOLDEN + np.uint64(seed))
    out = np.empty((n, replicates), dtype=dtype)
    if n == 0 or replicates == 0:
        return out
    rows = max(1, _BLOCK // replicates)
    shape = (min(rows, n), replicates)
    x, t = np.empty(shape, dtype=np.uint64), np.empty(shape, dtype=np.uint64)
    top, hit = np.empty(shape, dtype=np.uint16), np.empty(shape, dtype=bool)
    w, hits2 = np.empty(shape, dtype=np.uint8), np.empty(shape, dtype=bool)
    for s in range(0, n, rows):
        e = min(n, s + rows)
        xs, ts, tops, hits, ws = x[:e - s], t[:e - s], top[:e - s], hit[:e - s], w[:e - s]
        np.bitwise_xor(base[s:e, None], reps[None, :], out=xs)
        with np.errstate(over="ignore"):  # splitmix64 up to its last xor-shift, in place
            xs += _GOLDEN
            np.right_shift(xs, np.uint64(30), out=ts)
            xs ^= ts
            xs *= _MIX1
            np.right_shift(xs, np.uint64(27), out=ts)
            xs ^= ts
            xs *= _MIX2
        np.copyto(tops, xs.view(np.uint16)[:, 3::4] if _LITTLE else (xs >> np.uint64(48)).astype(np.uint16))
        # the table's weight of a prefix, counted as the steps at or below it (a few uint16 comparisons
        # are cheaper than a gather); the prefixes a CDF entry splits are marked
        ws[...] = 0
        for edge in _STEPS:
            np.greater_equal(tops, edge, out=hits)
            np.add(ws, hits, out=ws, casting="unsafe")
        np.equal(tops, _SPLIT_PREFIXES[0], out=hits)
        for edge in _SPLIT_PREFIXES[1:]:
            np.equal(tops, edge, out=hits2[:e - s])
            hits |= hits2[:e - s]
        o = out[s:e]
        np.copyto(o, ws, casting="unsafe")
        if hits.any():
            i, j = np.nonzero(hits)
            z = xs[i, j]
            o[i, j] = _weight_of(z ^ (z >> np.uint64(31)))
    return out


def _weight_of(u: np.ndarray) -> np.ndarray:
    """Poisson(1) weights of full 64-bit draws ``u`` (the plain inverse-CDF rule)."""
    uniform = (u >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
    return np.searchsorted(_POISSON_CDF, uniform, side="right")


def _poisson_weights_reference(keys: np.ndarray, seed: int, replicates: int) -> np.ndarray:
    """The plain formula :func:`poisson_weights` computes faster (kept as the oracle of its test)."""
    keys = np.asarray(keys, dtype=np.uint64)
    with np.errstate(over="ignore"):
        base = _splitmix64(keys ^ _splitmix64(np.uint64(seed) + np.uint64(0x5EED)))
        reps = _splitmix64(np.arange(replicates, dtype=np.uint64) * _GOLDEN + np.uint64(seed))
        u = _splitmix64(base[:, None] ^ reps[None, :])
    return _weight_of(u).astype(np.float32)


def _top16_tables() -> tuple[np.ndarray, np.ndarray]:
    """(weight, split) per value of the top 16 bits of a draw: a CDF entry ``c`` is at or below the
    uniform ``m / 2**53`` (``m = u >> 11``, exact in float64) iff ``m >= ceil(c * 2**53)``; a prefix ``p``
    covers ``m`` in ``[p * 2**37, (p + 1) * 2**37 - 1]``, split where a threshold falls inside."""
    thresholds = np.ceil(_POISSON_CDF * 2.0 ** 53)
    p = np.arange(1 << 16, dtype=np.float64)
    lo = np.searchsorted(thresholds, p * 2.0 ** 37, side="right")
    hi = np.searchsorted(thresholds, (p + 1) * 2.0 ** 37 - 1, side="right")
    lo.flags.writeable = False
    return lo, lo != hi


_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_LITTLE = sys.byteorder == "little"
_BLOCK = 1 << 17  # draws per block (1 MiB of uint64: the block's temporaries stay in cache)
_WEIGHT_OF_TOP16, _SPLIT_TOP16 = _top16_tables()
_SPLIT_PREFIXES = np.flatnonzero(_SPLIT_TOP16).astype(np.uint16)  # 8 of the 65,536
#: the prefixes where the table's weight steps up, once per unit of step: weight(p) = #{steps <= p}
_STEPS = np.repeat(np.arange(1 << 16), np.diff(_WEIGHT_OF_TOP16, prepend=0)).astype(np.uint16)


def group_weight_sums(codes: np.ndarray, weights: np.ndarray, groups: int) -> np.ndarray:
    """``(groups, B)`` float64 sums of the weight rows of each code (``codes`` ``(n,)`` ints in
    ``0..groups-1``): one sparse product. Exact for integer weights (sums far below 2**53)."""
    from scipy import sparse
    n = len(codes)
    ind = sparse.csr_matrix((np.ones(n), (np.asarray(codes, dtype=np.int64), np.arange(n))), shape=(groups, n))
    return np.asarray(ind @ np.asarray(weights, dtype=np.float64))


_BLAS = []


def one_blas_thread():
    """A context in which BLAS runs on the calling thread alone (threadpoolctl, which scikit-learn
    brings). A batch's ``(k, n) @ (n, B)`` product is small: on one thread it is faster, and the other BLAS
    threads no longer busy-wait between batches (on 2 shared cores that wait was ~60% of the labels
    audit's CPU time). The sums of non-integer columns then no longer depend on how many threads the
    machine's BLAS would use (for some row counts OpenBLAS sums a product's terms in another order on
    several threads); integer columns are exact either way."""
    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController
            _BLAS.append(ThreadpoolController())
        except ImportError:  # pragma: no cover - scikit-learn depends on it
            _BLAS.append(None)
    if _BLAS[0] is None:  # pragma: no cover
        from contextlib import nullcontext
        return nullcontext()
    return _BLAS[0].limit(limits=1, user_api="blas")


def _integral(col: np.ndarray, n: int) -> bool:
    """True where a value column holds integers small enough that every weighted sum of ``n`` rows is an
    exact float64 integer (any order of summation gives the same number)."""
    if col.size == 0:
        return True
    big = float(np.abs(col).max())
    return bool(np.isfinite(big) and big <= 2.0 ** 20 and n < 2 ** 24 and np.array_equal(col, np.round(col)))


@lru_cache(maxsize=8)
def bucket_weights(seed: int, replicates: int, buckets: int) -> np.ndarray:
    """``(K, B)`` float64 Poisson(1) weights of hash buckets ``0..K-1`` (bucketed :class:`BootstrapSums`)."""
    w = poisson_weights(_splitmix64(np.arange(buckets, dtype=np.uint64)), seed, replicates).astype(np.float64)
    w.flags.writeable = False
    return w


@state_type("stats.BootstrapSums", fields=("seed", "replicates", "buckets", "point_sums", "_rep_sums", "bucket_sums"))
class BootstrapSums:
    """Point and per-replicate weighted sums of named per-row values; mergeable by addition.

    ``buckets=K`` (optional) selects the bucketed mode of the module docstring: ``add`` keeps ``(K,)``
    per-bucket sums and ``rep_sums`` is computed from them (``bucket_sums @ bucket_weights``) on demand.

    >>> acc = BootstrapSums(seed=0)
    >>> acc.add(hash_keys([0, 1, 2]), {"x": [1, 0, 1], "n": [1, 1, 1]})
    >>> round(acc.point()["x"] / acc.point()["n"], 3)
    0.667
    """

    def __init__(self, seed: int = 0, replicates: int = DEFAULT_REPLICATES, buckets: int | None = None):
        self.seed = int(seed)
        self.replicates = int(replicates)
        self.buckets = None if buckets is None else int(buckets)
        if self.buckets is not None and self.buckets < 1:
            raise ValueError("buckets must be a positive number")
        self.point_sums: dict[str, float] = {}
        self.rep_sums = {}
        self.bucket_sums: dict[str, np.ndarray] = {}

    @property
    def rep_sums(self) -> dict[str, np.ndarray]:
        """Per-replicate sums ``{name: (B,)}`` (computed from the bucket sums in bucketed mode)."""
        if self.buckets is None:
            return self._rep_sums
        if getattr(self, "_rep_cache", None) is None:  # one (k, K) @ (K, B) product, reset by add
            names = list(self.bucket_sums)
            W = bucket_weights(self.seed, self.replicates, self.buckets)
            reps = np.vstack([self.bucket_sums[k] for k in names]) @ W if names else []
            self._rep_cache = dict(zip(names, reps))
        return self._rep_cache

    @rep_sums.setter
    def rep_sums(self, value) -> None:
        self._rep_sums = value

    def add_buckets(self, buckets: np.ndarray, values: Mapping[str, np.ndarray]) -> None:
        """Bucketed mode: add values whose bucket ids (``key % K``, ``(n,)`` int) are already known (lets a
        caller compute them once for several accumulators)."""
        if self.buckets is None:
            raise ValueError("add_buckets needs BootstrapSums(..., buckets=K)")
        for k, v in values.items():
            v = np.asarray(v, dtype=np.float64)
            self.point_sums[k] = self.point_sums.get(k, 0.0) + float(v.sum())
            b = np.bincount(buckets, weights=v, minlength=self.buckets)
            cur = self.bucket_sums.get(k)
            self.bucket_sums[k] = b if cur is None else cur + b
        self._rep_cache = None

    def bucket_of(self, keys: np.ndarray) -> np.ndarray:
        """``(n,)`` int64 bucket ids of uint64 ``keys`` (bucketed mode)."""
        return (np.asarray(keys, dtype=np.uint64) % np.uint64(self.buckets)).astype(np.int64)

    def add(self, keys: np.ndarray, values: Mapping[str, np.ndarray], weights: np.ndarray | None = None) -> None:
        if len(keys) == 0:
            return
        if self.buckets is not None:
            if weights is not None:
                raise ValueError("weights cannot be given in bucketed mode (they are drawn per bucket)")
            self.add_buckets(self.bucket_of(keys), values)
            return
        W = poisson_weights(keys, self.seed, self.replicates) if weights is None else weights
        names = list(values)
        M = np.vstack([np.asarray(values[k], dtype=np.float64) for k in names])  # (k, n)
        reps = M @ W  # (k, B)
        pts = M.sum(axis=1)
        for i, k in enumerate(names):
            self.point_sums[k] = self.point_sums.get(k, 0.0) + float(pts[i])
            self.rep_sums[k] = self.rep_sums.get(k, 0.0) + reps[i]

    def add_table(self, codes: np.ndarray, table: np.ndarray, names, weights: np.ndarray,
                  counts: np.ndarray | None = None, group_sums: np.ndarray | None = None) -> None:
        """Add ``n`` rows whose values are rows of ``table`` (``(S, k)``, columns ``names``): row ``i`` holds
        ``table[codes[i]]`` (a batch's items take few distinct values: items with the same label counts).
        ``weights``: the rows' ``(n, B)`` Poisson weights (None will do where every column is of integers
        and ``group_sums``, ``counts`` are given).

        The same sums as ``add(keys, {name: table[codes, j]}, weights=weights)``, bit for bit: where every
        column holds small integers (flags, counts) each is summed per distinct row, from the ``(S, B)``
        weight sums of the rows that share it (``group_sums``/``counts`` when the caller has them), which
        is exact in any order and needs no ``(n, B)`` product; otherwise by :meth:`add`'s one product on
        the rows it would build."""
        n = len(codes)
        if n == 0:
            return
        if self.buckets is not None:
            raise ValueError("add_table is for the unbucketed mode")
        table = np.asarray(table, dtype=np.float64)
        codes = np.asarray(codes, dtype=np.int64)
        names = list(names)
        if all(_integral(table[:, j], n) for j in range(len(names))):
            if group_sums is None:
                group_sums = group_weight_sums(codes, weights, len(table))
            if counts is None:
                counts = np.bincount(codes, minlength=len(table))
            with one_blas_thread():
                pts = counts.astype(np.float64) @ table
                reps = table.T @ group_sums
        else:  # add's product, on the rows add would build
            M = np.ascontiguousarray(table[codes].T)
            with one_blas_thread():
                reps = M @ np.asarray(weights)
            pts = M.sum(axis=1)
        for j, k in enumerate(names):
            self.point_sums[k] = self.point_sums.get(k, 0.0) + float(pts[j])
            self.rep_sums[k] = self.rep_sums.get(k, 0.0) + reps[j]

    def merge(self, other: "BootstrapSums") -> "BootstrapSums":
        if (other.seed, other.replicates, other.buckets) != (self.seed, self.replicates, self.buckets):
            raise ValueError("cannot merge bootstrap sums with different seeds, replicate or bucket counts")
        out = BootstrapSums(self.seed, self.replicates, self.buckets)
        for src in (self, other):
            for k, v in src.point_sums.items():
                out.point_sums[k] = out.point_sums.get(k, 0.0) + v
            sums, dest = (src.bucket_sums, out.bucket_sums) if self.buckets is not None else (src.rep_sums, out.rep_sums)
            for k, v in sums.items():
                dest[k] = dest.get(k, 0.0) + v
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
        zero = np.float64(0.0)  # a name never added: 0 / 0 is NaN (undefined), not an error
        return self.interval(lambda s: s.get(num, zero) / s.get(den, zero), level)

    # serialisation for shipping partials between processes / Ray workers
    def to_state(self) -> dict:
        if self.buckets is not None:
            return {"seed": self.seed, "replicates": self.replicates, "point": self.point_sums,
                    "buckets": self.buckets, "bucket_sums": {k: np.asarray(v).tolist() for k, v in self.bucket_sums.items()}}
        return {"seed": self.seed, "replicates": self.replicates, "point": self.point_sums,
                "reps": {k: np.asarray(v).tolist() for k, v in self.rep_sums.items()}}

    @classmethod
    def from_state(cls, st: dict) -> "BootstrapSums":
        out = cls(st["seed"], st["replicates"], st.get("buckets"))
        out.point_sums = dict(st["point"])
        if out.buckets is not None:
            out.bucket_sums = {k: np.asarray(v, dtype=np.float64) for k, v in st["bucket_sums"].items()}
        else:
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


@state_type("stats.GroupedSums", fields=("seed", "replicates", "buckets", "groups"))
class GroupedSums:
    """:class:`BootstrapSums` per stratum (a domain, a length bin, a level of a grouping column).

    The one primitive for "the same statistic within each group": ``add(strata, keys, values)`` routes each
    row's values to its stratum's sums (``strata`` is ``(n,)`` of hashable labels; ``None`` rows go
    nowhere). Every stratum draws its Poisson weights from the same (key, seed), so a unit's weight is the
    same in every stratum and in the overall sums: statistics across strata (a difference between two
    groups) stay coherent replicate by replicate. Mergeable by addition like the sums it holds, so it
    streams and shards.

    >>> g = GroupedSums(seed=0)
    >>> g.add(["a", "b", "a"], hash_keys([0, 1, 2]), {"x": [1, 0, 0], "n": [1, 1, 1]})
    >>> g.strata(), g["a"].point()["x"] / g["a"].point()["n"]
    (['a', 'b'], 0.5)
    """

    def __init__(self, seed: int = 0, replicates: int = DEFAULT_REPLICATES, buckets: int | None = None):
        self.seed, self.replicates, self.buckets = int(seed), int(replicates), buckets
        self.groups: dict = {}

    def _new(self) -> BootstrapSums:
        return BootstrapSums(self.seed, self.replicates, self.buckets)

    @staticmethod
    def _rows_by_stratum(strata, n: int) -> dict:
        """``{stratum: (m,) row indices}`` in first-seen order (``None`` rows in none); factorised in C."""
        import pandas as pd
        if len(strata) != n:
            raise ValueError("strata, keys and every value column must have one entry per row")
        codes, uniques = pd.factorize(pd.Series(list(strata), dtype=object), use_na_sentinel=True)
        return GroupedSums._rows_by_code(codes, list(uniques))

    def add(self, strata, keys: np.ndarray, values: Mapping[str, np.ndarray], weights: np.ndarray | None = None) -> None:
        """``weights``: the rows' ``(n, B)`` Poisson weights when the caller has drawn them already (for the
        overall sums of the same rows): drawn once, shared, the same numbers."""
        keys = np.asarray(keys, dtype=np.uint64)
        vals = {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}
        if any(len(v) != len(keys) for v in vals.values()):
            raise ValueError("strata, keys and every value column must have one entry per row")
        for s, ix in self._rows_by_stratum(strata, len(keys)).items():
            self.groups.setdefault(s, self._new()).add(keys[ix], {k: v[ix] for k, v in vals.items()},
                                                       weights=None if weights is None else weights[ix])

    def add_table(self, strata: np.ndarray, labels, codes: np.ndarray, table: np.ndarray, names,
                  weights: np.ndarray, joint_counts: np.ndarray | None = None,
                  joint_sums: np.ndarray | None = None) -> None:
        """:meth:`BootstrapSums.add_table` per stratum: row ``i`` is in stratum ``labels[strata[i]]``
        (``strata`` ``(n,)`` int codes; negative: no stratum) with the values ``table[codes[i]]``. The
        same sums as :meth:`add` with the rows' values and ``weights``; the weight sums of every
        (stratum, distinct row) pair come from one sparse product, or are given: ``joint_sums``
        ``(len(labels) * S, B)`` and ``joint_counts`` ``(len(labels) * S,)``, pair ``(s, j)`` at
        ``s * S + j``."""
        strata = np.asarray(strata, dtype=np.int64)
        codes = np.asarray(codes, dtype=np.int64)
        table = np.asarray(table, dtype=np.float64)
        if len(strata) != len(codes) or len(codes) != len(weights):
            raise ValueError("strata, codes and weights must have one entry per row")
        inside = np.flatnonzero(strata >= 0)
        if inside.size == 0:
            return
        S = len(table)
        if joint_sums is None or joint_counts is None:
            joint = strata[inside] * S + codes[inside]
            sums = group_weight_sums(joint, weights if inside.size == len(codes) else weights[inside], len(labels) * S)
            counts = np.bincount(joint, minlength=len(labels) * S)
        else:
            sums, counts = joint_sums, joint_counts
        seen, first = np.unique(strata[inside], return_index=True)
        for s in seen[np.argsort(first, kind="stable")].tolist():  # strata in first-seen order, as add
            ix = inside[strata[inside] == s]
            exact = all(_integral(table[:, j], len(ix)) for j in range(table.shape[1]))
            self.groups.setdefault(labels[s], self._new()).add_table(
                codes[ix], table, names, None if exact else weights[ix], counts=counts[s * S:(s + 1) * S],
                group_sums=sums[s * S:(s + 1) * S])

    def add_buckets(self, strata, buckets: np.ndarray, values: Mapping[str, np.ndarray], labels=None) -> None:
        """Bucketed mode (``GroupedSums(..., buckets=K)``): as :meth:`add`, with the rows' bucket ids known.

        With ``labels``, ``strata`` are integer codes into it (``(n,)``; a negative code: no stratum), as
        Arrow's ``dictionary_encode`` gives them, so no per-row label is built."""
        buckets = np.asarray(buckets)
        vals = {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}
        rows = self._rows_by_stratum(strata, len(buckets)) if labels is None else \
            self._rows_by_code(np.asarray(strata), labels)
        for s, ix in rows.items():
            self.groups.setdefault(s, self._new()).add_buckets(buckets[ix], {k: v[ix] for k, v in vals.items()})

    @staticmethod
    def _rows_by_code(codes: np.ndarray, labels) -> dict:
        codes = np.where(np.isfinite(codes), codes, -1).astype(np.int64) if codes.dtype.kind == "f" else \
            codes.astype(np.int64)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(labels) + 1))
        return {labels[j]: order[bounds[j]:bounds[j + 1]] for j in range(len(labels)) if bounds[j + 1] > bounds[j]}

    def items(self):
        """``(stratum, BootstrapSums)`` pairs, strata sorted as :meth:`strata`."""
        return [(s, self.groups[s]) for s in self.strata()]

    def merge(self, other: "GroupedSums") -> "GroupedSums":
        out = GroupedSums(self.seed, self.replicates, self.buckets)
        for src in (self, other):
            for s, acc in src.groups.items():
                out.groups[s] = out.groups[s].merge(acc) if s in out.groups else acc.merge(out._new())
        return out

    def strata(self) -> list:
        """The strata seen, sorted (by their string form where labels of mixed types are mixed)."""
        try:
            return sorted(self.groups)
        except TypeError:
            return sorted(self.groups, key=str)

    def __getitem__(self, stratum) -> BootstrapSums:
        return self.groups[stratum]

    def __contains__(self, stratum) -> bool:
        return stratum in self.groups

    def get(self, stratum) -> BootstrapSums:
        """The stratum's sums; empty sums (every figure undefined) for a stratum never seen."""
        return self.groups.get(stratum) or self._new()

    def to_state(self) -> dict:
        return {"seed": self.seed, "replicates": self.replicates, "buckets": self.buckets,
                "groups": [[s, acc.to_state()] for s, acc in self.groups.items()]}

    @classmethod
    def from_state(cls, st: dict) -> "GroupedSums":
        out = cls(st["seed"], st["replicates"], st.get("buckets"))
        out.groups = {(tuple(s) if isinstance(s, list) else s): BootstrapSums.from_state(a) for s, a in st["groups"]}
        return out
