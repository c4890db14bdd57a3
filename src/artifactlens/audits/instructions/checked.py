"""An error rate a reader can trust: a small human-checked sample combined with the flags on every row.

``--checked FILE`` (CSV/JSONL/Parquet: ``row`` = the 0-based input row as in the flags file, ``wrong`` =
is the row wrong, optional ``error_type``) gives the dataset's error rate with an interval by
prediction-powered inference (Angelopoulos et al., 2023), through ``ppi-python``'s ``ppi_mean_ci``: the
flag (``error``) is the prediction on every row, the checked verdict the label on the sample. The
unlabelled side is the flag on the rows not checked; ``ppi_mean_ci`` uses only its mean and variance, so
it is rebuilt from two counts and the pass stays streaming. Beside it, each detector's precision and
recall on the checked rows. Without a sample, :func:`rows_to_check` says how many rows a check needs for
a given interval width, and :func:`sample_to_check` draws a stratified sample (one stratum per detector
that flags, the first flag of a row deciding; plus the unflagged rows), proportional with at least 3 per
stratum, reproducible from the seed.
"""
from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from ...errors import InputError

TRUE, FALSE = {"1", "true", "yes", "y", "wrong", "t"}, {"0", "false", "no", "n", "right", "ok", "f"}


def read_checked(path) -> dict[int, tuple[bool, str | None, float]]:
    """``{row: (wrong, error_type, weight)}`` from a checked-sample file; an :class:`InputError` naming the
    line. A row whose ``wrong`` is blank is not checked yet (a queue from ``artifactlens sample`` / ``review``
    filled in part) and is left out, never read as right. An optional ``weight`` column (the rows each
    checked row stands for, as ``artifactlens review`` writes) weights the PPI rectifier; default 1."""
    from ...io.readers import read_table
    t = read_table(path)
    for c in ("row", "wrong"):
        if c not in t.schema.names:
            raise InputError(f"the checked sample has no '{c}' column", path=path, column=c,
                             expected="columns row (0-based input row), wrong (true/false), optional error_type")
    types = t.column("error_type").to_pylist() if "error_type" in t.schema.names else [None] * t.num_rows
    weights = t.column("weight").to_pylist() if "weight" in t.schema.names else [1.0] * t.num_rows
    out = {}
    for i, (r, w, e, wt) in enumerate(zip(t.column("row").to_pylist(), t.column("wrong").to_pylist(), types,
                                          weights)):
        v = str(w).strip().lower() if w is not None else ""
        if not v:
            continue
        if v not in TRUE | FALSE or r is None or not str(r).strip().lstrip("-").isdigit() or int(r) < 0:
            raise InputError(f"bad checked row {r!r} / wrong {w!r}", path=path, line=i + 2, column="wrong" if r else "row",
                             expected="a row number >= 0 and wrong = true/false (1/0, yes/no)")
        try:
            wt = float(wt)
        except (TypeError, ValueError):
            wt = math.nan
        if not (math.isfinite(wt) and wt > 0):
            raise InputError(f"bad weight {weights[i]!r}", path=path, line=i + 2, column="weight",
                             expected="a positive number (the rows a checked row stands for), or no weight column")
        out[int(r)] = (v in TRUE, e or None, wt)
    if not out:
        raise InputError("the checked sample is empty", path=path, expected="at least one checked row")
    return out


def ppi_error_rate(labels: np.ndarray, flags_checked: np.ndarray, n_rows: int, n_flagged: int,
                   alpha: float = 0.05, weights=None) -> dict:
    """PPI estimate and interval of the error rate: ``labels`` and ``flags_checked`` on the checked rows,
    ``n_rows`` / ``n_flagged`` over the whole input (the checked rows included); ``weights`` (the rows each
    checked row stands for, as in a stratified draw) weight the checked side (ppi-python's ``w``)."""
    from ppi_py import ppi_mean_ci, ppi_mean_pointestimate
    y = np.asarray(labels, np.float64)
    yhat = np.asarray(flags_checked, np.float64)
    w = None if weights is None or np.allclose(weights, 1.0) else np.asarray(weights, np.float64)
    # unweighted (a uniform draw): the unchecked rows are the unlabelled side; weighted (a stratified draw,
    # whose unchecked rest is not like the whole): every row is, so the flag mean is the input's
    n_u = n_rows - len(y) if w is None else n_rows
    k_u = n_flagged - int(yhat.sum()) if w is None else n_flagged
    if n_u <= 0 or not 0 <= k_u <= n_u:
        raise InputError("the checked sample does not fit the input", expected="checked rows that are input rows")
    yu = np.zeros(n_u)
    yu[:k_u] = 1.0
    lo, hi = ppi_mean_ci(y, yhat, yu, alpha=alpha, w=w)
    est = ppi_mean_pointestimate(y, yhat, yu, w=w)
    f = lambda v: float(np.asarray(v).ravel()[0])
    return {"estimate": min(max(f(est), 0.0), 1.0), "ci": [max(f(lo), 0.0), min(f(hi), 1.0)], "checked": len(y),
            "checked_wrong": int(y.sum()), "flag_rate": n_flagged / n_rows}


def precision_recall(labels: np.ndarray, flags: np.ndarray) -> tuple[float | None, float | None]:
    """Precision on the checked rows a detector flags, recall of the checked rows that are wrong (None where
    undefined: nothing flagged, nothing wrong)."""
    y, p = np.asarray(labels, bool), np.asarray(flags, bool)
    tp = int((y & p).sum())
    return (tp / int(p.sum()) if p.any() else None), (tp / int(y.sum()) if y.any() else None)


def rows_to_check(rate: float, width: float, z: float = 1.96) -> int:
    """Rows to check for a 95 % interval of total ``width`` around an error rate near ``rate`` by a plain
    (no-flag) binomial sample: ``(2 z)^2 p (1 - p) / width^2``; PPI needs no more than this and fewer
    where the flags agree with the checks."""
    p = min(max(rate, 0.05), 0.95)
    return int(math.ceil((2 * z) ** 2 * p * (1 - p) / width ** 2))


def sample_to_check(flags_path, n: int, seed: int = 0) -> pa.Table:
    """A stratified sample of ``n`` rows from an instruction flags file, to check by hand: columns ``row``,
    ``stratum``, the instruction/input/output (or the input's own columns), ``flags``, ``reasons``, the
    design ``weight`` (:func:`design_weights`), and empty ``wrong`` / ``error_type`` to fill in. Strata: the
    first flag of each row, or ``none``."""
    from ...io.readers import read_table
    t = read_table(flags_path)
    fl = "al_flags" if "al_flags" in t.schema.names else "flags"
    if fl not in t.schema.names:
        raise InputError("not an instruction flags file (no 'flags' column)", path=flags_path, column="flags")
    strata = np.array([(s or "").split(",")[0] or "none" for s in t.column(fl).to_pylist()], dtype=object)
    picked = stratified_draw(strata, n, seed)
    text = [c for c in t.schema.names if c not in ("keep", "error") and not c.endswith("_score")
            and not (c in _bool_cols(t) and c != fl)]
    out = t.take(pa.array(picked)).select(text)
    reasons = "al_reasons" if "al_reasons" in t.schema.names else "reasons"
    cols = {"row": pa.array(picked), "stratum": pa.array(strata[picked].tolist(), pa.string())}
    for c in out.schema.names:
        if c not in (fl, reasons):
            cols[c] = out.column(c)
    cols.update({"flags": out.column(fl), "reasons": t.take(pa.array(picked)).column(reasons),
                 "weight": pa.array(np.round(design_weights(strata, picked), 6)),
                 "wrong": pa.nulls(len(picked), pa.string()), "error_type": pa.nulls(len(picked), pa.string())})
    return pa.table(cols)


def stratified_draw(strata, n: int, seed: int = 0) -> np.ndarray:
    """The sorted row indices of a stratified random draw of ``n`` rows (``strata``: one label a row):
    proportional allocation with at least 3 rows a stratum (fewer where it has fewer), the floor taken
    from the largest strata, rounding by largest remainder; within a stratum a uniform draw without
    replacement, reproducible from ``seed``. Used by :func:`sample_to_check` and ``artifactlens review``."""
    strata = np.asarray(strata, dtype=object)
    rng = np.random.default_rng(seed)
    levels, counts = np.unique(strata, return_counts=True)
    n = min(n, strata.size)
    want = np.maximum(np.minimum(counts, 3), np.floor(n * counts / counts.sum()).astype(int))
    while want.sum() > n:  # trim the largest strata back to n; then, if the floors alone pass n, the floors
        extra = want - np.minimum(counts, 3)  # of the strata with most rows drawn (the largest of them first)
        i = int(np.argmax(extra)) if extra.max() > 0 else int(np.lexsort((-counts, -want))[0])
        want[i] -= 1
    rest = n - want.sum()
    for i in np.argsort(-(n * counts / counts.sum() - want)):  # largest remainders first
        if rest <= 0:
            break
        if want[i] < counts[i]:
            want[i] += 1
            rest -= 1
    picked = []
    for level, k in zip(levels, want):
        idx = np.flatnonzero(strata == level)
        picked.extend(rng.choice(idx, size=int(k), replace=False).tolist())
    return np.sort(np.array(picked, dtype=np.int64))


def design_weights(strata, picked) -> np.ndarray:
    """The weight of each drawn row: the input rows it stands for (its stratum's rows / the rows drawn from
    it), scaled to a mean of 1; ``--checked`` weights the PPI rectifier by it (:func:`ppi_error_rate`)."""
    strata = np.asarray(strata, dtype=object)
    picked = np.asarray(picked, dtype=np.int64)
    levels, counts = np.unique(strata, return_counts=True)
    size = dict(zip(levels, counts))
    drawn = dict(zip(*np.unique(strata[picked], return_counts=True)))
    return np.array([size[s] / drawn[s] for s in strata[picked]], float) * len(picked) / strata.size


def _bool_cols(t) -> set:
    """The boolean flag columns of a flags file (detectors, families, duplicate): left out of the sample."""
    return {f.name for f in t.schema if pa.types.is_boolean(f.type)}


def sample_from_result(result, n: int, out, seed: int = 0) -> int:
    """``artifactlens sample instructions RESULT --n N -o OUT``: the stratified sample of the flags file a
    result JSON names (``flags.path``; or a flags file itself) written to ``out``. Returns the rows drawn."""
    import json
    from pathlib import Path

    from ...io.writers import RowWriter
    p = Path(result)
    flags = p
    if p.suffix.lower() == ".json":
        try:
            flags = Path(json.loads(p.read_text(encoding="utf-8"))["flags"]["path"])
        except (ValueError, KeyError, TypeError):
            raise InputError("the result names no flags file", path=p, column="flags.path",
                             expected="a result of an audit run with --flags or --clean") from None
    t = sample_to_check(flags, n, seed)
    with RowWriter(out) as w:
        for b in t.to_batches():
            w.write(b)
    return t.num_rows
