"""Audit history: every result appended to an embedded DuckDB file, listed and compared between runs.

Wraps DuckDB (one file, no server, SQL on it from any tool) so a pipeline can keep the figures of every
audit it ran, per dataset version (the input's sha256), and see what moved::

    artifactlens audit labels v1.csv ... --store audits.duckdb
    artifactlens audit labels v2.csv ... --store audits.duckdb
    artifactlens history --store audits.duckdb
    artifactlens diff 1 2 --store audits.duckdb

Tables (plain SQL, query them directly if you like)::

    runs(run_id, stored_at, created, version, kind, title, dataset, sha256, rows_read, rows_used, result_json)
    metrics(run_id, section, name, value, ci_low, ci_high, n, description)   # section '' = top level

A metric *moved* between two runs when their 95% intervals do not overlap; it *drifted* when one
estimate falls outside the other's interval but the intervals still overlap (worth a look, not proof).
Metrics without intervals are compared exactly (*changed* / *same*).
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .result import AuditResult

DEFAULT_STORE = "audits.duckdb"
LOCK_WAIT_S = 60.0  # how long a run waits for another run's lock on the store before giving up
DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


def check_store_path(path) -> None:
    """Refuse a ``--store`` that is neither a DuckDB file nor a new path (a CSV, a folder, a result JSON
    would otherwise be opened as an empty database, or silently store nothing)."""
    p = Path(path)
    if p.is_dir():
        raise InputError("--store names a folder", path=str(path), expected="a DuckDB file such as audits.duckdb")
    if not p.exists():
        if p.suffix.lower() in (".csv", ".tsv", ".json", ".jsonl", ".parquet", ".html", ".toml", ".txt"):
            raise InputError(f"--store names a new '{p.suffix}' file: the history is a DuckDB database",
                             path=str(path), expected="a name such as audits.duckdb")
        return
    try:
        with open(p, "rb") as f:
            head = f.read(12)
    except OSError as e:
        from .errors import os_error
        raise os_error(e, path, action="read", option="--store") from None
    if head and head[8:12] != DUCKDB_MAGIC:
        raise InputError("--store names a file that is not a DuckDB database (it is left untouched)",
                         path=str(path), expected="a DuckDB file written with --store, or a new path")


def _locked(e: Exception) -> bool:
    text = str(e)
    return "Could not set lock" in text or "Conflicting lock" in text


def connect(path, read_only: bool = False, wait_s: float = LOCK_WAIT_S):
    """``duckdb.connect`` that waits (with jittered back-off, at most ``wait_s``) while another process
    holds the store's lock: several runs on one ``--store`` at once all get their turn."""
    import duckdb
    deadline, pause = time.monotonic() + wait_s, 0.02
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as e:
            if not _locked(e):
                raise
            if time.monotonic() >= deadline:
                raise InputError(f"the audit history stayed locked by another run for {wait_s:.0f} s",
                                 path=str(path), expected="one writer at a time (try again when it ends)") from None
            time.sleep(min(pause * (0.5 + random.random()), max(0.0, deadline - time.monotonic())))
            pause = min(pause * 1.6, 1.0)

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS runs(run_id INTEGER PRIMARY KEY, stored_at VARCHAR, created VARCHAR,
       version VARCHAR, kind VARCHAR, title VARCHAR, dataset VARCHAR, sha256 VARCHAR, rows_read BIGINT,
       rows_used BIGINT, result_json VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS metrics(run_id INTEGER, section VARCHAR, name VARCHAR, value DOUBLE,
       ci_low DOUBLE, ci_high DOUBLE, n BIGINT, description VARCHAR)""",
]


def _num(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def flat_metrics(result: AuditResult, section: str = "") -> list[tuple]:
    """``(section, name, value, ci_low, ci_high, n, description)`` for the result and its nested sections."""
    out = [(section, k, _num(m.value), _num(m.ci[0]) if m.ci else None, _num(m.ci[1]) if m.ci else None,
            m.n, m.description) for k, m in result.metrics.items()]
    for s in result.sections:
        name = s.title or s.kind
        out.extend(flat_metrics(s, f"{section} / {name}" if section else name))
    return out


@dataclass
class MetricDiff:
    section: str
    name: str
    a: float | None
    a_ci: tuple | None
    b: float | None
    b_ci: tuple | None
    status: str  # moved | drifted | steady | changed | same | new | gone

    @property
    def delta(self):
        return None if self.a is None or self.b is None else self.b - self.a


def compare(a: tuple | None, b: tuple | None) -> str:
    """Status of one metric between two runs; ``a``/``b`` are ``(value, ci_low, ci_high)`` or None."""
    if a is None:
        return "new"
    if b is None:
        return "gone"
    (va, la, ha), (vb, lb, hb) = a, b
    if va is None or vb is None:
        return "same" if va == vb else "changed"
    if None not in (la, ha, lb, hb):
        if hb < la or ha < lb:
            return "moved"
        if not (la <= vb <= ha) or not (lb <= va <= hb):
            return "drifted"
        return "steady"
    if (None not in (la, ha) and not la <= vb <= ha) or (None not in (lb, hb) and not lb <= va <= hb):
        return "drifted"
    return "same" if abs(va - vb) <= 1e-12 * max(1.0, abs(va)) else "changed"


class HistoryStore:
    """An audit history in one DuckDB file. Use as a context manager (the file is locked while open:
    keep it open briefly; another run waits up to ``wait_s`` for the lock)."""

    def __init__(self, path=DEFAULT_STORE, read_only: bool = False, wait_s: float = LOCK_WAIT_S):
        import duckdb
        self.path = Path(path)
        if read_only and not self.path.exists():
            raise InputError("no audit history here", path=str(path),
                             expected="a DuckDB file written with --store (run an audit with --store first)")
        check_store_path(self.path)
        try:
            self.con = connect(self.path, read_only=read_only, wait_s=wait_s)
        except duckdb.Error as e:
            raise InputError(f"cannot open the audit history ({str(e).splitlines()[0]})", path=str(path),
                             expected="a DuckDB file written by artifactlens") from None
        if not read_only:
            for stmt in _SCHEMA:
                self.con.execute(stmt)
        elif not self._has_runs_table():
            raise InputError("not an artifactlens history (no runs table)", path=str(path),
                             expected="a DuckDB file written with --store")

    def _has_runs_table(self) -> bool:
        return bool(self.con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'runs'")
                    .fetchall()[0][0])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.con.close()

    # -- writing --------------------------------------------------------------------------------------
    def append(self, result: AuditResult) -> int:
        """Store one result (and its nested sections' metrics); returns its run id."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            run_id = self.con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchall()[0][0]
            now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
            inp = result.input
            self.con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             [run_id, now, result.created, result.version, result.kind, result.title, inp.path,
                              inp.sha256, inp.rows_read, inp.rows_used, result.to_json(indent=None)])
            rows = flat_metrics(result)
            if rows:
                self.con.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                     [[run_id, *r] for r in rows])
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return int(run_id)

    # -- reading --------------------------------------------------------------------------------------
    def runs(self, kind: str | None = None, sha256: str | None = None) -> list[dict]:
        """Every run, oldest first: run_id, stored_at, created, version, kind, title, dataset, sha256, rows."""
        sql = ("SELECT run_id, stored_at, created, version, kind, title, dataset, sha256, rows_read, rows_used "
               "FROM runs WHERE (? IS NULL OR kind = ?) AND (? IS NULL OR sha256 LIKE ? || '%') ORDER BY run_id")
        cols = ["run_id", "stored_at", "created", "version", "kind", "title", "dataset", "sha256", "rows_read",
                "rows_used"]
        return [dict(zip(cols, r)) for r in self.con.execute(sql, [kind, kind, sha256, sha256]).fetchall()]

    def resolve(self, spec) -> int:
        """A run id from ``spec``: an id (``3``), or counted back from the latest (``-1`` latest, ``-2``...)."""
        try:
            i = int(spec)
        except (TypeError, ValueError):
            raise InputError(f"not a run: {spec!r}", path=str(self.path),
                             expected="a run id from `artifactlens history`, -1 for the latest, or a result JSON"
                             ) from None
        ids = [r[0] for r in self.con.execute("SELECT run_id FROM runs ORDER BY run_id").fetchall()]
        if i < 0 and len(ids) >= -i:
            return ids[i]
        if i in ids:
            return i
        raise InputError(f"no run {spec} in the history ({len(ids)} runs)", path=str(self.path),
                         expected="a run id listed by `artifactlens history`")

    def result(self, run_id: int) -> AuditResult:
        rows = self.con.execute("SELECT result_json FROM runs WHERE run_id = ?", [int(run_id)]).fetchall()
        if not rows:
            raise InputError(f"no run {run_id}", path=str(self.path), expected="a run id from `artifactlens history`")
        return AuditResult.from_dict(json.loads(rows[0][0]))

    def metrics(self, run_id: int) -> dict[tuple, tuple]:
        """``{(section, name): (value, ci_low, ci_high)}`` of one run."""
        rows = self.con.execute("SELECT section, name, value, ci_low, ci_high FROM metrics WHERE run_id = ?",
                                [int(run_id)]).fetchall()
        return {(s, n): (v, lo, hi) for s, n, v, lo, hi in rows}


def diff_metrics(a: dict[tuple, tuple], b: dict[tuple, tuple]) -> list[MetricDiff]:
    """Compare two ``{(section, name): (value, lo, hi)}`` maps; moved first, then drifted, changed, the rest."""
    order = {"moved": 0, "drifted": 1, "changed": 2, "new": 3, "gone": 4, "steady": 5, "same": 6}
    keys = list(a) + [k for k in b if k not in a]
    out = []
    for k in keys:
        va, vb = a.get(k), b.get(k)
        out.append(MetricDiff(k[0], k[1], va[0] if va else None, tuple(va[1:]) if va and va[1] is not None else None,
                              vb[0] if vb else None, tuple(vb[1:]) if vb and vb[1] is not None else None,
                              compare(va, vb)))
    return sorted(out, key=lambda d: order[d.status])


def result_metrics(result: AuditResult) -> dict[tuple, tuple]:
    return {(s, n): (v, lo, hi) for s, n, v, lo, hi, _, _ in flat_metrics(result)}


def _f(v) -> str:
    return "n/a" if v is None else f"{v:.4g}"


def format_runs(runs: list[dict], store: "HistoryStore | None" = None) -> str:
    if not runs:
        return "no runs stored yet"
    lines = [f"{'run':>4}  {'stored (UTC)':<20} {'kind':<12} {'rows':>9}  {'sha256':<12}  {'version':<8} dataset"]
    for r in runs:
        lines.append(f"{r['run_id']:>4}  {(r['stored_at'] or '')[:19]:<20} {r['kind']:<12} {r['rows_read'] or 0:>9,}  "
                     f"{(r['sha256'] or '')[:12]:<12}  {r['version'] or '':<8} {r['dataset'] or ''}")
        if store is not None:
            res = store.result(r["run_id"])
            head = [f"{k}={_f(_num(res.metrics[k].value))}" for k in res.headline if k in res.metrics]
            if head:
                lines.append(f"{'':>6}{'  '.join(head)}")
    return "\n".join(lines)


def format_diff(diffs: list[MetricDiff], label_a: str, label_b: str, show_all: bool = False) -> str:
    def ci(c):
        return f"[{_f(c[0])}, {_f(c[1])}]" if c else ""
    shown = [d for d in diffs if show_all or d.status not in ("steady", "same")]
    moved = sum(d.status == "moved" for d in diffs)
    drifted = sum(d.status == "drifted" for d in diffs)
    head = (f"{label_a} -> {label_b}: {len(diffs)} metrics, {moved} moved beyond their intervals, "
            f"{drifted} drifted (an estimate outside the other's interval)")
    if not shown:
        return head + "\nnothing moved"
    lines = [head, f"{'status':<8} {'metric':<40} {'a':>10} {'a 95% CI':<22} {'b':>10} {'b 95% CI':<22} {'b - a':>9}"]
    for d in shown:
        name = f"{d.section}: {d.name}" if d.section else d.name
        delta = "" if d.delta is None else f"{d.delta:+.4g}"
        lines.append(f"{d.status:<8} {name:<40} {_f(d.a):>10} {ci(d.a_ci):<22} {_f(d.b):>10} {ci(d.b_ci):<22} "
                     f"{delta:>9}")
    return "\n".join(lines)
