"""Raw rows against their revisions: does the audit flag the rows experts rewrote more often than the
rewritten rows? (issue 20; CoachLM's experts revised 2,301 Alpaca rows.)

``--revised FILE`` names a second instruction file whose rows are revisions of the audited ones, paired
by order (row *i* with row *i*) or by an id column both files hold (``--pair-on COL``). The same detectors
(fitted on the audited rows, as without a revised file) score the revised rows; for every flag and for
``error`` (any error type), the table ``revisions`` gives the flag rate on each side, the discordant
pairs (``b``: flagged raw, clean revised; ``c``: the reverse), the paired difference with a 95 % Wald
interval, and McNemar's exact test. The exact test wraps ``statsmodels.stats.contingency_tables.mcnemar``
(``exact=True``: the two-sided binomial test on the discordant pairs); the one-sided p ("raw flagged more
often", H1: b > c) is ``scipy.stats.binomtest(b, b + c, 0.5, alternative="greater")``, which is half the
two-sided p when b > c. statsmodels gives no one-sided option, hence both.
"""
from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ...errors import InputError
from ...io.readers import open_source


def mcnemar_one_sided(b: int, c: int) -> dict:
    """Exact McNemar on ``b`` (raw flagged, revised not) and ``c`` (revised flagged, raw not):
    ``p_greater`` (H1: raw flagged more often) and ``p_two_sided`` (statsmodels)."""
    from scipy.stats import binomtest
    from statsmodels.stats.contingency_tables import mcnemar
    if b + c == 0:
        return {"p_greater": 1.0, "p_two_sided": 1.0}
    two = float(mcnemar([[0, b], [c, 0]], exact=True).pvalue)
    return {"p_greater": float(binomtest(b, b + c, 0.5, alternative="greater").pvalue), "p_two_sided": two}


def paired_difference(raw: np.ndarray, rev: np.ndarray) -> tuple[float, tuple[float, float]]:
    """Difference of the two flag rates on paired rows and its 95 % Wald interval for paired proportions
    (Agresti, *Categorical Data Analysis*, 10.1.1: var = ((b + c) - (b - c)^2 / n) / n^2)."""
    n = len(raw)
    b = int((raw & ~rev).sum())
    c = int((~raw & rev).sum())
    d = (b - c) / n
    se = math.sqrt(max((b + c) - (b - c) ** 2 / n, 0.0)) / n
    return d, (d - 1.96 * se, d + 1.96 * se)


def pair_rows(raw_keys, rev_keys, raw_path, rev_path, key: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(i, j)`` into the two sides' row lists that pair: by position (``key`` None; the shorter
    side decides) or by equal key values (each key once per side; a repeated key is an InputError)."""
    if key is None:
        n = min(len(raw_keys), len(rev_keys))
        return np.arange(n), np.arange(n)
    pos = {}
    for side, keys, path in (("raw", raw_keys, raw_path), ("revised", rev_keys, rev_path)):
        seen = {}
        for i, k in enumerate(keys):
            if k in seen:
                raise InputError(f"the pairing key {key!r} repeats the value {k!r}", path=path, line=i + 1, column=key,
                                 expected="one row per id in each file")
            seen[k] = i
        pos[side] = seen
    common = [k for k in pos["raw"] if k in pos["revised"]]
    return (np.array([pos["raw"][k] for k in common], np.int64), np.array([pos["revised"][k] for k in common], np.int64))


def key_column(path, key: str, encoding: str = "utf-8") -> list:
    """The values of ``key`` in every input row of ``path`` (an InputError when the column is absent)."""
    src = open_source(path, encoding=encoding)
    out = []
    for b in src.batches():
        if key not in b.schema.names:
            raise InputError(f"no column {key!r} to pair rows on", path=path, column=key,
                             expected=f"a column both files hold; columns: {', '.join(b.schema.names)}")
        out.extend(b.column(key).to_pylist())
    return out


def first_rows(flags_file, names: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """From a pass's Parquet file: the input rows (first normalised row of each) and their flag columns."""
    t = pq.read_table(flags_file, columns=["row", *names])
    rows = t.column("row").to_numpy()
    _, first = np.unique(rows, return_index=True)
    first = np.sort(first)
    take = pa.array(first, type=pa.int64())
    return rows[first], {n: t.column(n).take(take).to_numpy(zero_copy_only=False).astype(bool) for n in names}


def compare(raw: dict[str, np.ndarray], rev: dict[str, np.ndarray], names: list[str]) -> list[list]:
    """One table row per flag in ``names`` (paired arrays): name, pairs, raw rate, revised rate, b, c,
    difference, its interval, one-sided and two-sided exact McNemar p."""
    out = []
    for name in names:
        a, z = raw[name], rev[name]
        b, c = int((a & ~z).sum()), int((~a & z).sum())
        d, (lo, hi) = paired_difference(a, z)
        p = mcnemar_one_sided(b, c)
        out.append([name, len(a), float(a.mean()), float(z.mean()), b, c, d, lo, hi, p["p_greater"], p["p_two_sided"]])
    return out


COLUMNS = ["flag", "pairs", "raw rate", "revised rate", "raw only (b)", "revised only (c)", "difference",
           "ci_low", "ci_high", "p (raw > revised, exact McNemar, one-sided)", "p (two-sided)"]


def add_revisions(r, rows: list[list], unpaired: tuple[int, int], key: str | None) -> None:
    """The ``revisions`` table, the ``revised_flag_gap`` metric (``error``, with its interval), the
    ``revised_flagged_gap`` metric (``flagged``: any error or quality flag) and a finding on each."""
    err = next(x for x in rows if x[0] == "error")
    any_ = next((x for x in rows if x[0] == "flagged"), None)
    kept = [err] + ([any_] if any_ else []) + [x for x in rows if x[0] not in ("error", "flagged") and (x[4] or x[5])]
    how = f"paired on '{key}'" if key else "paired by position"
    r.add_table("revisions", COLUMNS, kept, f"Raw rows against their revisions ({err[1]} pairs, {how}; flags that "
                "differ on some pair, 'error' = any error type, 'flagged' = any error or a flag of what experts "
                "revise without it being an error)")
    r.add_metric("revised_flag_gap", err[6], "flag rate (any error type) on the audited rows minus on their revisions "
                 "(paired; 95 % Wald interval)", (err[7], err[8]), err[1], "revisions")
    r.add_metric("revised_flag_rate", err[3], "flag rate (any error type) on the revisions", n=err[1], group="revisions")
    r.add_metric("revised_mcnemar_p", err[9], "one-sided exact McNemar p: the audited rows are flagged more often than "
                 "their revisions", n=err[1], group="revisions")
    for row, what, metric in ((err, "with an error flag", "revised_flag_gap"),
                              (any_, "with any flag (errors and below the experts' standard)", "revised_flagged_gap")):
        if row is None:
            continue
        if row is any_:
            r.add_metric("revised_flagged_gap", row[6], "share of audited rows with any flag (errors and quality "
                         "flags) minus that of their revisions (paired; 95 % Wald interval)", (row[7], row[8]),
                         row[1], "revisions")
            r.add_metric("revised_flagged_mcnemar_p", row[9], "one-sided exact McNemar p on 'flagged'", n=row[1],
                         group="revisions")
        sig = row[9] < 0.05 and row[6] >= 0.03
        r.add_finding("info" if sig else "warning",
                      f"audited rows {what} {row[2]:.1%}, their revisions {row[3]:.1%} ({row[6] * 100:+.1f} points, "
                      f"b={row[4]}, c={row[5]}, one-sided exact McNemar p={row[9]:.3g}): these flags "
                      + ("separate raw rows from their revisions" if sig else "do not separate raw rows from their "
                         "revisions (p >= 0.05 or under 3 points)"), metric)
    if any(unpaired):
        r.input.skip("row without a revision", unpaired[0])
        if unpaired[1]:
            r.input.skip("revision without an audited row", unpaired[1])
