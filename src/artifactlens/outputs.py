"""Writing what an audit returns: the one module that writes results (JSON), reports (HTML) and the
audit history. It sits above the audits: the CLI, the gate and the demo call it; no audit does.

    result = get_audit("labels").run("labels.csv", human="human", llm="llm")
    write_outputs(result, json="labels.json", html="labels.html", store="audits.duckdb")
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from .mitigate import attach_recommendations
from .result import AuditResult


@dataclass(frozen=True)
class OutputOptions:
    """Where a result goes: ``json`` (the result), ``html`` (a self-contained report), ``store`` (a DuckDB
    audit history), and ``title`` (the result's title, so a merged report tells its sections apart)."""

    json: str | None = None
    html: str | None = None
    store: str | None = None
    title: str | None = None

    @classmethod
    def from_args(cls, a: argparse.Namespace) -> "OutputOptions":
        return cls(json=getattr(a, "json", None), html=getattr(a, "html", None), store=getattr(a, "store", None),
                   title=getattr(a, "title", None))

    def paths(self) -> list[str]:
        return [p for p in (self.json, self.html, self.store) if p]


def add_output_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("outputs (every audit)")
    g.add_argument("--json", metavar="OUT", help="write the result as JSON")
    g.add_argument("--html", metavar="OUT", help="write a self-contained HTML report")
    g.add_argument("--store", metavar="DB", help="append the result to an audit history (DuckDB file, e.g. "
                   "audits.duckdb); see `artifactlens history`")
    g.add_argument("--title", metavar="TEXT", help="the result's title (tells sections of a merged report apart)")


def write_outputs(result: AuditResult, out: OutputOptions | None = None, log=None, gate=None, **kw) -> AuditResult:
    """Write ``result`` where ``out`` (or the keywords json=, html=, store=, title=) says; returns it."""
    out = out or OutputOptions(**kw)
    say = log or (lambda m: None)
    # a one-line "what to do" (and the mitigate command) per finding; the command says RESULT.json for the
    # result file, so that a result never depends on where it was written (same input and seed, same bytes)
    attach_recommendations(result)
    if out.title:
        result.title = out.title
    if out.json:
        result.to_json(out.json)
        say(f"wrote {out.json}")
    if out.html:
        from .report.html import write_report
        write_report([result], out.html, title=f"artifactlens · {result.title or result.kind}", gate=gate)
        say(f"wrote {out.html}")
    if out.store:
        from .history import HistoryStore
        with HistoryStore(out.store) as h:
            run_id = h.append(result)
        say(f"stored run {run_id} in {out.store}")
    return result


def write_results(results, json_dir=None, html=None, store=None, title: str = "artifactlens report", gate=None,
                  names=None, log=None) -> None:
    """Several results: each as JSON in ``json_dir`` (named by ``names`` or ``NN-kind.json``), one merged
    report at ``html``, every result appended to ``store``."""
    say = log or (lambda m: None)
    for r in results:
        attach_recommendations(r)
    if json_dir:
        d = Path(json_dir)
        d.mkdir(parents=True, exist_ok=True)
        for i, r in enumerate(results):
            r.to_json(d / (names[i] if names else f"{i + 1:02d}-{r.kind}.json"))
    if store:
        from .history import HistoryStore
        with HistoryStore(store) as h:
            ids = [h.append(r) for r in results]
        say(f"stored runs {ids} in {store}")
    if html:
        from .report.html import write_report
        write_report(results, html, title=title, gate=gate)
