"""The self-contained HTML report: a scorecard on top, one section per audit.

No CDN, no script, no network: CSS inline, plots as inline SVG (:mod:`.svg`), and a Content-Security-Policy
that forbids scripts, so text planted in the data can never run. Every user string passes through
:func:`html.escape`. Works from results alone, so ``artifactlens report *.json`` can merge runs.

The component styles are scoped under ``.al`` so a notebook cell (``AuditResult._repr_html_``) does not
restyle the notebook around it. Traffic lights say their state in words too (not colour alone); the
palette is Okabe-Ito in the plots and dark, high-contrast greens/ambers/reds in the lights.
"""
from __future__ import annotations

import warnings
from html import escape
from pathlib import Path
from typing import Sequence

from . import svg
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rendering reads the result's shape; nothing here builds one
    from ..result import AuditResult

MAX_TEXT = 3000       # characters of one example field or table cell shown (the JSON has them all)
MAX_TABLE_ROWS = 300  # rows of one table shown
MAX_EXAMPLES = 12     # flagged examples shown per section
MAX_CARDS = 12        # scorecard cards per audit

PAGE_CSS = """
body{margin:0 auto;max-width:1180px;padding:16px 20px;background:#fff}
@media print{body{max-width:none;padding:0}}
"""

CSS = """
.al{--fg:#1b1b1b;--muted:#595959;--line:#d0d0d0;--card:#f6f7f8;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;
font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);overflow-wrap:anywhere}
.al *{box-sizing:border-box}
.al h1{font-size:22px;margin:4px 0 2px}.al h2{font-size:18px;margin:28px 0 6px;border-bottom:2px solid var(--line);
padding-bottom:4px}.al h3{font-size:15px;margin:18px 0 6px}.al h4{font-size:14px;margin:14px 0 4px}
.al .muted{color:var(--muted)}
.al .family{border:1px solid var(--line);border-radius:8px;padding:8px 10px;margin:10px 0;break-inside:avoid}
.al .family>.fh{display:flex;flex-wrap:wrap;gap:4px 14px;align-items:baseline;margin-bottom:6px}
.al .family>.fh b{font-size:15px}
.al .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(240px,100%),1fr));gap:8px}
.al .card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:6px 9px;min-width:0}
.al .card .v{font-size:20px;font-weight:600;font-variant-numeric:tabular-nums}
.al .card .n{font-size:12px;color:var(--muted)}
.al .card .d{display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical;overflow:hidden}
.al .card.bad{border-left:5px solid var(--bad)}.al .card.warn{border-left:5px solid var(--warn)}
.al .card.ok{border-left:5px solid var(--ok)}
.al .light{display:inline-block;font-size:11px;font-weight:700;border-radius:9px;padding:0 7px;color:#fff;
background:#767676;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.al .light.ok{background:var(--ok)}.al .light.warn{background:var(--warn)}.al .light.bad{background:var(--bad)}
.al table{border-collapse:collapse;width:100%;margin:6px 0;font-size:13px}
.al th,.al td{border-bottom:1px solid var(--line);padding:3px 6px;text-align:left;vertical-align:top;
overflow-wrap:anywhere;word-break:break-word}.al th{background:var(--card);position:sticky;top:0}
.al td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}.al th{min-width:4.5em}
.al table.mt{table-layout:fixed}.al table.mt col.c1{width:24%}.al table.mt col.c2{width:9%}
.al table.mt col.c3{width:15%}
.al .tablewrap{max-height:420px;overflow:auto;border:1px solid var(--line);border-radius:4px}
.al .figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(440px,100%),1fr));gap:14px}
.al figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:8px;break-inside:avoid;min-width:0;
overflow-x:auto}.al figure.wide{grid-column:1/-1}.al figure svg{display:block;height:auto;margin:0 auto}
.al figcaption{font-weight:600;margin-bottom:4px}
.al .finding{border-left:4px solid var(--line);padding:4px 8px;margin:4px 0;background:var(--card)}
.al .finding.critical{border-color:var(--bad)}.al .finding.warning{border-color:var(--warn)}
.al .finding.info{border-color:#0072B2}.al .finding .rec{font-size:.9em;margin-top:2px;color:var(--muted)}
.al .ex{border:1px solid var(--line);border-radius:6px;padding:6px 8px;margin:6px 0;break-inside:avoid}
.al pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:2px 0;max-height:12em;overflow:auto;font-size:12px;
background:#fbfbfb}
.al .reason{color:#a40e26;font-size:12px}
.al .turn{border-left:3px solid var(--line);padding:2px 8px;margin:3px 0}
.al .turn.mark{border-color:var(--bad);background:#fff4f4}
.al details summary{cursor:pointer;font-weight:600}
.al nav ul{columns:2 260px;padding-left:18px}
@media print{.al .card .d{display:block}.al .tablewrap{max-height:none;overflow:visible;border:0}.al pre{max-height:none}.al nav{display:none}
.al figure{overflow:visible}.al th{position:static}.al details>*{display:block}}
"""

LIGHT_WORDS = {"ok": "OK", "warn": "WATCH", "bad": "BAD", "none": "no threshold"}


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return _text(v)


def _text(v, limit: int = MAX_TEXT) -> str:
    """Escaped text, cut (before escaping, so no entity is split) with a note of what was left out."""
    s = str(v)
    if len(s) <= limit:
        return escape(s)
    return f'{escape(s[:limit])}<span class="muted">… ({len(s) - limit:,} more characters in the JSON)</span>'


def _ci(m) -> str:
    ci = m.get("ci") if isinstance(m, dict) else getattr(m, "ci", None)
    return f"[{_fmt(ci[0])}, {_fmt(ci[1])}]" if ci else ""


def light_for(result: "AuditResult", name: str, gate=None) -> str:
    """'ok' | 'warn' | 'bad' | 'none' for metric ``name``.

    A gate config (anything with ``light(kind, metric, value)`` and ``thresholds_for(kind)``, such as :class:`artifactlens.gate.GateConfig`) decides first where it holds the metric to a
    threshold (pass -> ok, breach -> bad); otherwise ``result.params['thresholds'][name]`` =
    ``{"warn": x, "bad": y, "higher_is_worse": bool}``; 'none' when nobody states a threshold.
    """
    m = result.metrics.get(name)
    if gate is not None and m is not None:
        lt = gate.light(result.kind, name, m.value)
        if lt:
            return lt
    th = (result.params.get("thresholds") or {}).get(name)
    if not th or m is None or not isinstance(m.value, (int, float)) or isinstance(m.value, bool):
        return "none"
    v, hw = m.value, th.get("higher_is_worse", True)
    worse = (lambda a, b: a >= b) if hw else (lambda a, b: a <= b)
    if th.get("bad") is not None and worse(v, th["bad"]):
        return "bad"
    if th.get("warn") is not None and worse(v, th["warn"]):
        return "warn"
    return "ok"


def threshold_text(result: "AuditResult", name: str, gate=None) -> str:
    """The rule behind a light, in words: 'gate: <= 0.5' or 'watch >= 0.2 · bad >= 0.4'."""
    if gate is not None:
        ts = [t for t in gate.thresholds_for(result.kind) if t.metric == name]
        if ts:
            return "gate: " + ", ".join(f"{t.op} {t.limit:g}" for t in ts)
    th = (result.params.get("thresholds") or {}).get(name)
    if not th:
        return ""
    op = "≥" if th.get("higher_is_worse", True) else "≤"
    parts = [f"{w} {op} {th[k]:g}" for k, w in (("warn", "watch"), ("bad", "bad")) if isinstance(th.get(k), (int, float))]
    return " · ".join(parts)


def _card(r: "AuditResult", name: str, gate, prefix: str = "") -> str:
    m = r.metrics[name]
    lt = light_for(r, name, gate)
    rule = threshold_text(r, name, gate)
    rule_html = f'<div class="n">{escape(rule)}</div>' if rule else ""
    return (f'<div class="card {lt}" data-metric="{escape(name)}" data-kind="{escape(r.kind)}" data-light="{lt}">'
            f'<div class="n"><span class="light {lt}">{LIGHT_WORDS[lt]}</span> {_text(prefix + name, 200)}</div>'
            f'<div class="v">{_fmt(m.value)}</div>'
            f'<div class="n">{("95% CI " + _ci(m)) if m.ci else "no interval"}</div>'
            f'<div class="n d" title="{escape(str(m.description)[:1000])}">{_text(m.description, 300)}</div>'
            f'{rule_html}</div>')


def _headline_cards(r: "AuditResult", gate, prefix: str = "") -> list[str]:
    cards = [_card(r, n, gate, prefix) for n in r.headline if n in r.metrics]
    for s in r.sections:
        cards.extend(_headline_cards(s, gate, prefix=f"{prefix}{s.title or s.kind} · "))
    return cards


def scorecard(results: Sequence["AuditResult"], gate=None) -> str:
    """One block per audit (artifact family): its headline figures, intervals and traffic lights."""
    fams = []
    for i, r in enumerate(results):
        cards = _headline_cards(r, gate)
        more = len(cards) - MAX_CARDS
        cards = cards[:MAX_CARDS]
        if more > 0:
            cards.append(f'<div class="card"><div class="n">{more} more headline figures in the section below'
                         f'</div></div>')
        crit = sum(f.severity == "critical" for f in r.findings)
        warn = sum(f.severity == "warning" for f in r.findings)
        fams.append(f'<div class="family" data-kind="{escape(r.kind)}"><div class="fh"><b><a href="#s{i}">'
                    f'{_text(r.title or r.kind, 200)}</a></b><span class="muted">{escape(r.kind)} · '
                    f'{r.input.rows_read:,} rows · {crit} critical, {warn} warning findings</span></div>'
                    f'<div class="grid">{"".join(cards) or "<div class=muted>no headline figures</div>"}'
                    f'</div></div>')
    return f'<div class="scorecard">{"".join(fams)}</div>'


def _table(t: dict) -> str:
    head = "".join(f"<th>{_text(c, 200)}</th>" for c in t.get("columns", []))
    rows = []
    for r in t.get("rows", [])[:MAX_TABLE_ROWS]:
        cells = "".join(f'<td class="num">{_fmt(v)}</td>' if isinstance(v, (int, float)) and not isinstance(v, bool)
                        else f"<td>{_text(v, 600) if v is not None else ''}</td>" for v in r)
        rows.append(f"<tr>{cells}</tr>")
    n = len(t.get("rows", []))
    more = f'<p class="muted">{n - MAX_TABLE_ROWS:,} more rows in the JSON.</p>' if n > MAX_TABLE_ROWS else ""
    return (f'<h4>{_text(t.get("title", ""), 300)}</h4><div class="tablewrap"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>{more}')


def _timeline(spec: dict) -> str:
    turns = []
    for t in spec.get("turns", [])[:200]:
        marks = t.get("marks") or []
        cls = "turn mark" if marks else "turn"
        reason = f'<div class="reason">⚑ {_text("; ".join(map(str, marks)), 500)}</div>' if marks else ""
        turns.append(f'<div class="{cls}"><b>{_text(t.get("speaker", ""), 100)}</b>{reason}'
                     f'<pre>{_text(t.get("text", ""), 2000)}</pre></div>')
    return "".join(turns)


def _figure(spec: dict) -> str:
    try:
        inner = _timeline(spec) if spec.get("type") == "timeline" else svg.render(spec)
    except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError) as e:
        warnings.warn(f"figure {spec.get('title')!r} ({spec.get('type')}) could not be drawn: {e!r}", stacklevel=2)
        inner = f'<div class="finding warning">this figure could not be drawn ({escape(type(e).__name__)})</div>'
    if not inner:
        return ""
    wide = ' class="wide"' if spec.get("type") == "timeline" or _svg_width(inner) > 600 else ""
    note = f'<div class="muted">{_text(spec["note"], 1000)}</div>' if spec.get("note") else ""
    return (f'<figure{wide} data-type="{escape(str(spec.get("type", "")))}"><figcaption>'
            f'{_text(spec.get("title", ""), 300)}</figcaption>{inner}{note}</figure>')


def _svg_width(s: str) -> float:
    i = s.find('viewBox="0 0 ')
    if i < 0:
        return 0.0
    try:
        return float(s[i + 13:].split(" ", 1)[0])
    except ValueError:
        return 0.0


def _example(ex: dict) -> str:
    fields = "".join(f"<div><b>{_text(k, 200)}</b><pre>{_text(v)}</pre></div>"
                     for k, v in (ex.get("fields") or {}).items())
    reasons = "".join(f'<div class="reason">⚑ {_text(r, 500)}</div>' for r in ex.get("reasons") or [])
    row = f' <span class="muted">row {_text(ex["row"], 100)}</span>' if ex.get("row") is not None else ""
    return f'<div class="ex"><b>{_text(ex.get("title", ""), 300)}</b>{row}{reasons}{fields}</div>'


def render_section(r: "AuditResult", standalone: bool = False, level: int = 2, gate=None) -> str:
    """One audit as HTML; ``standalone`` wraps it with the scoped styles (for a notebook cell)."""
    h = f"h{min(level, 6)}"
    inp = r.input
    skipped = ", ".join(f"{_text(k, 200)}: {v:,}" for k, v in inp.rows_skipped.items()) or "none"
    sha = f" · sha256 {escape(inp.sha256[:12])}" if inp.sha256 else ""
    parts = [f'<section class="audit" data-kind="{escape(r.kind)}"><{h}>{_text(r.title or r.kind, 300)}</{h}>',
             f'<p class="muted">input {_text(inp.path or "", 500)}{sha} · {inp.rows_read:,} rows read · '
             f'{inp.rows_used:,} used · skipped: {skipped}</p>']
    if standalone and r.headline:
        parts.append(f'<div class="grid">{"".join(_headline_cards(r, gate))}</div>')
    if r.findings:
        parts.append("".join(f'<div class="finding {escape(f.severity)}"><b>{escape(f.severity)}</b> '
                             f'{_text(f.message, 1000)}'
                             + (f'<div class="rec">what to do: {_text(rec, 1000)}</div>'
                                if (rec := getattr(f, "recommendation", None)) else "")
                             + '</div>' for f in r.findings))
    if r.metrics:
        rows = "".join(f'<tr><td>{_text(k, 200)}</td><td class="num">{_fmt(m.value)}</td><td class="num">{_ci(m)}'
                       f'</td><td>{_text(m.description, 500)}</td></tr>' for k, m in r.metrics.items())
        parts.append('<details open><summary>Metrics</summary><div class="tablewrap"><table class="mt"><colgroup>'
                     '<col class="c1"><col class="c2"><col class="c3"><col></colgroup><thead><tr>'
                     '<th>metric</th><th>value</th><th>95% interval</th><th>what it is</th></tr></thead>'
                     f'<tbody>{rows}</tbody></table></div></details>')
    figs = [f for f in (_figure(s) for s in r.figures) if f]
    if figs:
        parts.append(f'<div class="figs">{"".join(figs)}</div>')
    for t in r.tables.values():
        parts.append(_table(t))
    if r.examples:
        more = len(r.examples) - MAX_EXAMPLES
        note = f'<p class="muted">{more:,} more examples in the JSON.</p>' if more > 0 else ""
        parts.append(f"<{'h' + str(min(level + 1, 6))}>Flagged examples</{'h' + str(min(level + 1, 6))}>"
                     + "".join(_example(e) for e in r.examples[:MAX_EXAMPLES]) + note)
    if r.flags.get("path"):
        counts = ", ".join(f"{_text(k, 100)}: {v:,}" for k, v in (r.flags.get("counts") or {}).items()
                           if isinstance(v, int))
        parts.append(f'<p class="muted">per-row flags: {_text(r.flags["path"], 500)}'
                     f'{" (" + counts + ")" if counts else ""}</p>')
    if r.params:
        parts.append(f'<details><summary>Parameters and thresholds</summary><pre>'
                     f'{_text(_params_text(r.params), 20000)}</pre></details>')
    for s in r.sections:
        parts.append(render_section(s, level=level + 1, gate=gate))
    parts.append("</section>")
    body = "".join(parts)
    return f'<style>{CSS}</style><div class="al">{body}</div>' if standalone else body


def _params_text(params: dict) -> str:
    import json
    return json.dumps(params, indent=1, ensure_ascii=False, default=str)


def render_report(results: Sequence["AuditResult"], title: str = "artifactlens report", gate=None) -> str:
    from .._version import __version__
    created = max((r.created for r in results), default="")
    toc = "".join(f'<li><a href="#s{i}">{_text(r.title or r.kind, 200)}</a> <span class="muted">'
                  f'({len(r.findings)} findings)</span></li>' for i, r in enumerate(results))
    sections = "".join(f'<div id="s{i}">{render_section(r, gate=gate)}</div>' for i, r in enumerate(results))
    gate_note = (f'<p class="muted">Lights marked “gate” follow {escape(str(gate.path))}; the others follow the '
                 f'thresholds each audit records.</p>' if gate is not None else "")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
            f'img-src data:">'
            f"<title>{escape(title)}</title><style>{PAGE_CSS}{CSS}</style></head><body class=\"al\">"
            f'<header><h1>{_text(title, 300)}</h1><p class="muted">artifactlens {escape(__version__)} · '
            f'{escape(created)} · {len(results)} audit{"s" if len(results) != 1 else ""}</p></header>'
            f'<main><h2 id="scorecard">Scorecard</h2>{scorecard(results, gate)}{gate_note}'
            f'<nav aria-label="audits"><ul>{toc}</ul></nav>{sections}</main></body></html>')


def write_report(results: "Sequence[AuditResult] | AuditResult", path, title: str = "artifactlens report",
                 gate=None) -> Path:
    """Write the merged report for ``results`` to ``path``; ``gate`` (a GateConfig) sets traffic lights."""
    from ..io.writers import atomic_write_text
    if hasattr(results, "metrics"):  # one result
        results = [results]
    return atomic_write_text(path, render_report(list(results), title=title, gate=gate))
