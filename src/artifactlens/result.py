"""One result schema for every audit.

An :class:`AuditResult` is what the Python API returns and what the CLI writes as JSON; the report, the
datasheet, the CI gate and the history all read this one shape::

    {
      "schema_version": 1,
      "tool": {"name": "artifactlens", "version": "0.1.0"},
      "kind": "labels",                      # labels | preferences | instructions | simulations | text
      "title": "...", "created": "ISO-8601 UTC",
      "params": {...},                       # options and every threshold used
      "input": {"path", "sha256", "format", "rows_read", "rows_used", "rows_skipped": {reason: n}},
      "metrics": {name: {"value", "description", "ci": [lo, hi] | null, "n", "group"}},
      "headline": [metric names for the scorecard],
      "findings": [{"severity": "info|warning|critical", "message", "metric", "evidence_rows": [...]}],
      "tables": {name: {"title", "columns": [...], "rows": [[...]]}},
      "figures": [{"type": "bar|histogram|heatmap|forest|line|timeline", "title", ...spec}],
      "examples": [{"row", "title", "fields": {...}, "reasons": [...]}],
      "flags": {"path", "rows", "columns": [...], "counts": {flag: n}},
      "sections": [nested AuditResult dicts, e.g. one per LLM model]
    }

Figures are declarative specs (data, not SVG) so a report can be made later from the JSON alone
(configuration, calculation and rendering kept apart, as in Evidently).
"""
from __future__ import annotations

import datetime as _dt
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ._version import __version__

SCHEMA_VERSION = 1
KINDS = ("labels", "preferences", "instructions", "simulations", "text")
SEVERITIES = ("info", "warning", "critical")


def _clean(v):
    """JSON-safe and deterministic: NaN/inf -> None, numpy scalars -> Python, floats rounded to 12 digits."""
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, (str, bytes)) and getattr(v, "ndim", 0) == 0:
        v = v.item()
    if hasattr(v, "tolist"):
        return _clean(v.tolist())
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        return float(f"{v:.12g}")
    return v


@dataclass
class Metric:
    """A named figure: value, one-line description, optional 95% interval and the count behind it."""

    value: float | int | None
    description: str
    ci: tuple[float, float] | None = None
    n: int | None = None
    group: str | None = None  # the section of the scorecard it belongs to (e.g. "minority erasure")

    def to_dict(self) -> dict:
        d = {"value": self.value, "description": self.description,
             "ci": list(self.ci) if self.ci is not None and None not in self.ci else None}
        if self.n is not None:
            d["n"] = self.n
        if self.group is not None:
            d["group"] = self.group
        return d


@dataclass
class Finding:
    severity: str
    message: str
    metric: str | None = None
    evidence_rows: list = field(default_factory=list)
    recommendation: str | None = None  # what to do about it (one line; a command where one applies)

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}")

    def to_dict(self) -> dict:
        d = asdict(self)
        if d["recommendation"] is None:
            del d["recommendation"]  # results without recommendations keep their earlier form
        return d


_FINDING_FIELDS = ("severity", "message", "metric", "evidence_rows", "recommendation")


@dataclass
class InputInfo:
    path: str | None = None
    sha256: str | None = None
    format: str | None = None
    rows_read: int = 0
    rows_used: int = 0
    rows_skipped: dict = field(default_factory=dict)

    def skip(self, reason: str, n: int = 1) -> None:
        self.rows_skipped[reason] = self.rows_skipped.get(reason, 0) + n


@dataclass
class AuditResult:
    kind: str
    title: str = ""
    params: dict = field(default_factory=dict)
    input: InputInfo = field(default_factory=InputInfo)
    metrics: dict[str, Metric] = field(default_factory=dict)
    headline: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    tables: dict[str, dict] = field(default_factory=dict)
    figures: list[dict] = field(default_factory=list)
    examples: list[dict] = field(default_factory=list)
    flags: dict = field(default_factory=dict)
    sections: list["AuditResult"] = field(default_factory=list)
    created: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    version: str = __version__

    # -- building -----------------------------------------------------------------------------------
    def add_metric(self, name: str, value, description: str, ci=None, n=None, group=None) -> Metric:
        if ci is not None and (ci[0] is None or ci[1] is None):
            ci = None
        m = Metric(value=_clean(value), description=description, ci=None if ci is None else tuple(_clean(list(ci))),
                   n=n, group=group)
        self.metrics[name] = m
        return m

    def add_finding(self, severity: str, message: str, metric: str | None = None, evidence_rows=()) -> None:
        self.findings.append(Finding(severity, message, metric, list(evidence_rows)[:20]))

    def add_table(self, name: str, columns: list[str], rows: list[list], title: str = "") -> None:
        self.tables[name] = {"title": title or name, "columns": list(columns), "rows": _clean(rows)}

    def add_figure(self, type: str, title: str, **spec) -> None:
        self.figures.append(_clean({"type": type, "title": title, **spec}))

    # -- access -------------------------------------------------------------------------------------
    def __getitem__(self, name: str):
        return self.metrics[name].value

    def metric(self, name: str) -> Metric:
        return self.metrics[name]

    # -- serialisation ------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return _clean({
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "artifactlens", "version": self.version},
            "kind": self.kind,
            "title": self.title,
            "created": self.created,
            "params": self.params,
            "input": asdict(self.input),
            "metrics": {k: m.to_dict() for k, m in self.metrics.items()},
            "headline": self.headline,
            "findings": [f.to_dict() for f in self.findings],
            "tables": self.tables,
            "figures": self.figures,
            "examples": self.examples,
            "flags": self.flags,
            "sections": [s.to_dict() for s in self.sections],
        })

    def to_json(self, path=None, indent: int = 2) -> str:
        text = json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, sort_keys=False)
        if path is not None:
            from .io.writers import atomic_write_text
            atomic_write_text(path, text + "\n")
        return text

    @classmethod
    def from_dict(cls, d: dict) -> "AuditResult":
        if d.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"unsupported schema_version {d.get('schema_version')!r}")
        metrics = {k: Metric(value=m["value"], description=m.get("description", ""),
                             ci=tuple(m["ci"]) if m.get("ci") else None, n=m.get("n"), group=m.get("group"))
                   for k, m in d.get("metrics", {}).items()}
        return cls(kind=d["kind"], title=d.get("title", ""), params=d.get("params", {}),
                   input=InputInfo(**d.get("input", {})), metrics=metrics, headline=d.get("headline", []),
                   findings=[Finding(**{k: v for k, v in f.items() if k in _FINDING_FIELDS})
                             for f in d.get("findings", [])], tables=d.get("tables", {}),
                   figures=d.get("figures", []), examples=d.get("examples", []), flags=d.get("flags", {}),
                   sections=[cls.from_dict(s) for s in d.get("sections", [])], created=d.get("created", ""),
                   version=d.get("tool", {}).get("version", ""))

    @classmethod
    def from_json(cls, path_or_text) -> "AuditResult":
        p = Path(str(path_or_text)) if not str(path_or_text).lstrip().startswith("{") else None
        text = p.read_text(encoding="utf-8") if p is not None else str(path_or_text)
        return cls.from_dict(json.loads(text))

    # -- notebooks ----------------------------------------------------------------------------------
    def _repr_html_(self) -> str:
        from .report.html import render_section
        return render_section(self, standalone=True)

    def metrics_frame(self):
        """The metrics as a pandas DataFrame (name, value, ci_low, ci_high, n, description)."""
        import pandas as pd
        return pd.DataFrame([{"name": k, "value": m.value, "ci_low": m.ci[0] if m.ci else None,
                              "ci_high": m.ci[1] if m.ci else None, "n": m.n, "description": m.description}
                             for k, m in self.metrics.items()])

    def examples_frame(self):
        """The flagged examples as a pandas DataFrame: row, title, reasons ('; '-joined), then each field."""
        import pandas as pd
        return pd.DataFrame([{"row": e.get("row"), "title": e.get("title"), "reasons": "; ".join(map(str, e.get(
            "reasons") or [])), **(e.get("fields") or {})} for e in self.examples])

    def flags_frame(self):
        """The per-row flags file (``flags['path']``: parquet, jsonl or csv) as a pandas DataFrame."""
        import pandas as pd
        path = self.flags.get("path")
        if not path:
            raise ValueError("this result has no flags file (run the audit with flags=/--flags)")
        p = str(path)
        if p.endswith(".parquet"):
            return pd.read_parquet(p)
        return pd.read_json(p, lines=True) if p.endswith(".jsonl") else pd.read_csv(p)

    def __repr__(self) -> str:
        head = ", ".join(f"{k}={self.metrics[k].value}" for k in self.headline if k in self.metrics)
        return f"AuditResult(kind={self.kind!r}, rows={self.input.rows_read}, {head})"
