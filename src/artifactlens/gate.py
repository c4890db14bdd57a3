"""The CI gate: ``artifactlens check CONFIG.toml`` runs the audits a config names and holds each metric
to a threshold. Exit 0 when every threshold holds, 1 naming each breach, 2 on a bad config.

Reads TOML with the standard library's ``tomllib`` (its errors carry line and column); runs each audit
through the registry (:func:`artifactlens.api.get_audit`, with the config's run settings), so the gate sees
exactly what a notebook user sees. A config::

    [settings]                       # all optional
    store = "audits.duckdb"          # append every result to the audit history
    html = "gate-report.html"        # one report, traffic lights from these thresholds
    json_dir = "gate-results"        # every result as JSON
    seed = 0

    [[audit]]
    kind = "labels"                  # labels | preferences | instructions | simulations | text
    path = "data/labels.csv"         # `path` goes first; every other key is a keyword of audit_labels()
    text = "text"
    human = "human"
    llm = "llm"
    [audit.thresholds]
    minority_erasure_rate = "<= 0.5"
    error_rate = "<= 0.1"

    [[audit]]
    kind = "preferences"
    result = "prefs.json"            # check a result written earlier instead of running the audit
    thresholds = { judge_human_agreement = ">= 0.6" }

``demo = true`` runs the audit on its shipped demo data. Paths are relative to the working directory.
A threshold compares the metric's value (not its interval); a metric with no value is a breach.
"""
from __future__ import annotations

import re
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .api import get_audit, registry
from .contract import RunOptions
from .contract.rules import OPS, Rule  # noqa: F401  (OPS: the comparisons a rule knows)
from .demo import run_one_demo
from .errors import InputError
from .outputs import write_results
from .result import AuditResult

RESERVED = {"kind", "thresholds", "result", "demo"}
SETTINGS = {"store", "html", "json_dir", "seed", "batch_size", "engine", "workers", "encoding"}


@dataclass(frozen=True)
class Threshold:
    """A gate limit: ``metric`` held to a :class:`~artifactlens.contract.Rule` (the rule type the metric
    tables' lights use too)."""

    metric: str
    rule: Rule

    @property
    def op(self) -> str:
        return self.rule.op

    @property
    def limit(self) -> float:
        return self.rule.limit

    def holds(self, value) -> bool:
        return self.rule.holds(value)

    def __str__(self) -> str:
        return f"{self.metric} {self.rule}"


@dataclass
class AuditSpec:
    kind: str
    index: int  # position among the [[audit]] tables, 0-based
    options: dict = field(default_factory=dict)
    thresholds: list[Threshold] = field(default_factory=list)
    result: str | None = None
    demo: bool = False


@dataclass
class GateConfig:
    path: Path
    audits: list[AuditSpec]
    store: str | None = None
    html: str | None = None
    json_dir: str | None = None
    seed: int = 0
    text: str = ""
    run_settings: dict = field(default_factory=dict)

    def run_options(self, quiet: bool = True, verbose: bool = False):
        return RunOptions(**{**self.run_settings, "seed": self.seed}, quiet=quiet, verbose=verbose)

    def thresholds_for(self, kind: str) -> list[Threshold]:
        return [t for a in self.audits if a.kind == kind for t in a.thresholds]

    def light(self, kind: str, metric: str, value) -> str | None:
        """'ok' / 'bad' for a metric this gate holds to a threshold, None where it says nothing (the report's
        traffic lights ask this first)."""
        ts = [t for t in self.thresholds_for(kind) if t.metric == metric]
        if not ts:
            return None
        return "ok" if all(t.holds(value) for t in ts) else "bad"


@dataclass
class Outcome:
    kind: str
    threshold: Threshold
    value: float | None
    ci: tuple | None

    @property
    def passed(self) -> bool:
        return self.threshold.holds(self.value)

    def line(self) -> str:
        v = "no value" if self.value is None else f"{self.value:.4g}"
        ci = f" [95% CI {self.ci[0]:.4g}, {self.ci[1]:.4g}]" if self.ci else ""
        word = "pass  " if self.passed else "BREACH"
        return f"{word} {self.kind}: {self.threshold.metric} = {v}{ci}; required {self.threshold.op} " \
               f"{self.threshold.limit:g}"


def _line_of(text: str, key: str, audit_index: int | None = None) -> int | None:
    """1-based line of ``key =`` (inside the ``audit_index``-th ``[[audit]]`` table when given)."""
    lines = text.splitlines()
    start = 0
    if audit_index is not None:
        seen = -1
        for i, ln in enumerate(lines):
            if re.match(r"^\s*\[\[\s*audit\s*\]\]", ln):
                seen += 1
                if seen == audit_index:
                    start = i
                    break
    pat = re.compile(rf'^\s*"?{re.escape(key)}"?\s*=|[{{,]\s*"?{re.escape(key)}"?\s*=')
    for i in range(start, len(lines)):
        if i > start and audit_index is not None and re.match(r"^\s*\[\[\s*audit\s*\]\]", lines[i]):
            break
        if pat.search(lines[i]):
            return i + 1
    return start + 1 if audit_index is not None else None


def parse_threshold(metric: str, rule) -> Threshold:
    """``"<= 0.5"`` or ``{max = 0.5}`` / ``{min = 0.7}`` -> :class:`Threshold`; ValueError otherwise."""
    try:
        return Threshold(metric, Rule.parse(rule))
    except ValueError:
        raise ValueError(f"threshold for {metric!r} must be like \"<= 0.5\" or {{max = 0.5}} with a finite limit, "
                         f"got {rule!r}") from None


def load_config(path) -> GateConfig:
    """Parse and validate a gate config; every problem is an :class:`InputError` naming line and key."""
    p = Path(path)
    if not p.is_file():
        raise InputError("no such config file", path=str(p), expected="a TOML gate config (see docs/ci-gate.md)")
    text = p.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+), column (\d+)", str(e))
        col = f" at column {m.group(2)}" if m else ""
        raise InputError(f"not valid TOML: {str(e).split(' (at line')[0]}{col}", path=str(p),
                         line=int(m.group(1)) if m else None, expected="TOML (https://toml.io)") from None

    def bad(msg, key, idx=None, expected=None):
        return InputError(msg, path=str(p), line=_line_of(text, key, idx), expected=expected)

    unknown = set(data) - {"settings", "audit"}
    if unknown:
        k = sorted(unknown)[0]
        raise bad(f"unknown top-level key {k!r}", k, expected="[settings] and [[audit]] tables")
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise bad("settings must be a table", "settings", expected="[settings]")
    for k in settings:
        if k not in SETTINGS:
            raise bad(f"unknown setting {k!r}", k, expected=", ".join(sorted(SETTINGS)))
    run_settings = {k: settings[k] for k in ("seed", "batch_size", "engine", "workers", "encoding") if k in settings}
    for k, v in run_settings.items():
        try:
            RunOptions(**{k: v})
        except InputError as e:
            raise bad(f"setting {k}: {e.message}", k, expected=e.expected) from None
    seed = run_settings.get("seed", 0)
    for k in ("store", "html", "json_dir"):
        if k in settings and not isinstance(settings[k], str):
            raise bad(f"{k} must be a string (a path)", k, expected="a path in quotes")
    audits_raw = data.get("audit", [])
    if not isinstance(audits_raw, list) or not audits_raw:
        raise InputError("the config names no audit", path=str(p), expected="at least one [[audit]] table with kind")
    audits = []
    for i, a in enumerate(audits_raw):
        audits.append(_audit_spec(a, i, bad))
    return GateConfig(path=p, audits=audits, store=settings.get("store"), html=settings.get("html"),
                      json_dir=settings.get("json_dir"), seed=seed, text=text, run_settings=run_settings)


def _audit_spec(a: dict, i: int, bad) -> AuditSpec:
    kinds = registry()
    kind = a.get("kind")
    if not isinstance(kind, str) or kind not in kinds:
        raise bad(f"unknown audit kind {kind!r}: audit #{i + 1} needs kind = one of {', '.join(kinds)}", "kind", i,
                  expected="kind = \"labels\" (or another audit kind)")
    th_raw = a.get("thresholds", {})
    if not isinstance(th_raw, dict):
        raise bad("thresholds must be a table of metric = \"<= x\"", "thresholds", i,
                  expected='thresholds = { metric = "<= 0.5" }')
    thresholds = []
    for metric, rule in th_raw.items():
        try:
            thresholds.append(parse_threshold(metric, rule))
        except ValueError as e:
            raise bad(str(e), metric, i, expected='"<= x", "< x", ">= x", "> x", "== x", {max = x} or {min = x}')
    result = a.get("result")
    if result is not None and not isinstance(result, str):
        raise bad("result must be a path to a result JSON", "result", i, expected="a path in quotes")
    demo = a.get("demo", False)
    if not isinstance(demo, bool):
        raise bad("demo must be true or false", "demo", i, expected="true or false")
    options = {k: v for k, v in a.items() if k not in RESERVED}
    if result and (demo or options):
        k = "demo" if demo else next(iter(options))
        raise bad(f"an audit with result = ... is not run: drop {k!r}", k, i,
                  expected="either result = \"x.json\" or the audit's options")
    if options:
        try:
            kinds[kind].make_options(**{k: v for k, v in options.items() if k != "path"})
        except InputError as e:
            key = next((k for k in options if f"'{k}'" in e.message), "kind")
            raise bad(e.message, key, i, expected=e.expected) from None
        except TypeError as e:
            raise bad(f"bad options for the {kind} audit: {e}", "kind", i) from None
    return AuditSpec(kind=kind, index=i, options=options, thresholds=thresholds, result=result, demo=demo)


def run_audit(spec: AuditSpec, cfg: GateConfig, quiet: bool = True, verbose: bool = False) -> AuditResult:
    """The spec's result: read from JSON, the demo run, or the registered audit run with the options and the
    config's run settings (the seed reaches every audit the same way)."""

    def bad(msg, key, expected=None):
        return InputError(msg, path=str(cfg.path), line=_line_of(cfg.text, key, spec.index),
                          expected=expected)

    if spec.result:
        rp = Path(spec.result)
        if not rp.is_file():
            raise bad(f"no such result file: {spec.result}", "result", "a result JSON written by artifactlens")
        try:
            r = AuditResult.from_json(rp)
        except (ValueError, KeyError, TypeError) as e:
            raise bad(f"not an artifactlens result: {spec.result} ({e})", "result", "a result JSON") from None
        if r.kind != spec.kind:
            raise bad(f"{spec.result} holds a {r.kind!r} result, not {spec.kind!r}", "kind", f"kind = {r.kind!r}")
        return r
    if spec.kind not in registry():
        raise bad(f"unknown audit kind {spec.kind!r}", "kind", f"one of: {', '.join(registry())}")
    audit = get_audit(spec.kind)
    run = cfg.run_options(quiet=quiet, verbose=verbose)
    if spec.demo:
        with tempfile.TemporaryDirectory(prefix="artifactlens-gate-") as tmp:
            return run_one_demo(audit, Path(tmp), run)
    opts = dict(spec.options)
    path = opts.pop("path", None)
    try:
        options = audit.make_options(**opts)
    except InputError as e:
        key = next((k for k in spec.options if f"'{k}'" in e.message), "kind")
        raise bad(e.message, key, e.expected) from None
    except TypeError as e:
        raise bad(f"bad options for the {spec.kind} audit: {e}", "kind") from None
    return audit.run(path, options, run=run)


def evaluate(spec: AuditSpec, result: AuditResult, cfg: GateConfig) -> list[Outcome]:
    out = []
    for t in spec.thresholds:
        m = result.metrics.get(t.metric)
        if m is None:
            raise InputError(f"the {spec.kind} audit has no metric {t.metric!r}", path=str(cfg.path),
                             line=_line_of(cfg.text, t.metric, spec.index),
                             expected="one of: " + ", ".join(result.metrics))
        value = m.value if isinstance(m.value, (int, float)) and not isinstance(m.value, bool) else None
        out.append(Outcome(spec.kind, t, value, m.ci))
    return out


def run_gate(cfg: GateConfig, quiet: bool = True, verbose: bool = False, log=print):
    """Run every audit of the config; return ``(results, outcomes)``. Writes json/html/store as set."""
    results, outcomes = [], []
    for spec in cfg.audits:
        r = run_audit(spec, cfg, quiet=quiet, verbose=verbose)
        results.append(r)
        outcomes.extend(evaluate(spec, r, cfg))
    write_results(results, json_dir=cfg.json_dir, store=cfg.store, html=cfg.html, title=f"artifactlens check · {cfg.path.name}", gate=cfg,
                  log=log if verbose else None)
    return results, outcomes
