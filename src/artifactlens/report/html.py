"""The self-contained HTML report: a scorecard on top, one section per audit.

No CDN, no script, no network: CSS inline, plots as inline SVG (:mod:`.svg`). Every user string passes
through :func:`html.escape`. Works from results alone, so ``artifactlens report *.json`` can merge runs.
"""
from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Sequence

from . import svg
from ..result import AuditResult

CSS = """
:root{--fg:#1b1b1b;--muted:#5a5a5a;--line:#d9d9d9;--bg:#fff;--card:#f7f7f8;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--fg);
background:var(--bg);margin:0 auto;max-width:1100px;padding:16px 20px}
h1{font-size:22px;margin:4px 0 2px}h2{font-size:18px;margin:28px 0 6px;border-bottom:2px solid var(--line);
padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}.muted{color:var(--muted)}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:10px}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:8px 10px;overflow-wrap:anywhere}
.card .v{font-size:20px;font-weight:600}.card .n{font-size:12px;color:var(--muted)}
.light{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px;vertical-align:middle}
.light.ok{background:var(--ok)}.light.warn{background:var(--warn)}.light.bad{background:var(--bad)}
.light.none{background:#bbb}
table{border-collapse:collapse;width:100%;margin:6px 0;font-size:13px;table-layout:auto}
th,td{border-bottom:1px solid var(--line);padding:3px 6px;text-align:left;vertical-align:top;
overflow-wrap:anywhere;word-break:break-word}th{background:var(--card)}td.num{text-align:right;
font-variant-numeric:tabular-nums;white-space:nowrap}
.tablewrap{max-height:420px;overflow:auto}
.figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:14px}
figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:8px;break-inside:avoid}
figcaption{font-weight:600;margin-bottom:4px}
.finding{border-left:4px solid var(--line);padding:4px 8px;margin:4px 0;background:var(--card)}
.finding.critical{border-color:var(--bad)}.finding.warning{border-color:var(--warn)}.finding.info{border-color:#0072B2}
.ex{border:1px solid var(--line);border-radius:6px;padding:6px 8px;margin:6px 0;break-inside:avoid}
.ex pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:2px 0;max-height:12em;overflow:auto;font-size:12px}
.reason{color:var(--bad);font-size:12px}
.turn{border-left:3px solid var(--line);padding:2px 8px;margin:3px 0}.turn.mark{border-color:var(--bad);background:#fff4f4}
details summary{cursor:pointer}
@media print{.tablewrap{max-height:none;overflow:visible}.ex pre{max-height:none}body{max-width:none}}
"""


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return escape(str(v))


def _ci(m: dict | object) -> str:
    ci = m.get("ci") if isinstance(m, dict) else getattr(m, "ci", None)
    return f"[{_fmt(ci[0])}, {_fmt(ci[1])}]" if ci else ""


def light_for(result: AuditResult, name: str) -> str:
    """Traffic light from thresholds recorded in ``params['thresholds'][name]`` as ``{"warn": x, "bad": y,
    "higher_is_worse": bool}``; 'none' when the audit states no threshold."""
    th = (result.params.get("thresholds") or {}).get(name)
    m = result.metrics.get(name)
    if not th or m is None or m.value is None:
        return "none"
    v, hw = m.value, th.get("higher_is_worse", True)
    worse = (lambda a, b: a >= b) if hw else (lambda a, b: a <= b)
    if "bad" in th and worse(v, th["bad"]):
        return "bad"
    if "warn" in th and worse(v, th["warn"]):
        return "warn"
    return "ok"


def scorecard(results: Sequence[AuditResult]) -> str:
    cards = []
    for r in results:
        for name in r.headline:
            m = r.metrics.get(name)
            if m is None:
                continue
            lt = light_for(r, name)
            cards.append(f'<div class="card" data-metric="{escape(name)}" data-kind="{escape(r.kind)}">'
                         f'<div class="n"><span class="light {lt}" title="{lt}"></span>{escape(r.kind)} · '
                         f'{escape(name)}</div><div class="v">{_fmt(m.value)}</div>'
                         f'<div class="n">{_ci(m)} {escape(m.description)}</div></div>')
    return f'<div class="grid scorecard">{"".join(cards)}</div>' if cards else ""


def _table(t: dict) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in t["columns"])
    rows = []
    for r in t["rows"][:500]:
        cells = "".join(f'<td class="num">{_fmt(v)}</td>' if isinstance(v, (int, float)) and not isinstance(v, bool)
                        else f"<td>{escape(str(v)) if v is not None else ''}</td>" for v in r)
        rows.append(f"<tr>{cells}</tr>")
    more = f'<p class="muted">{len(t["rows"]) - 500} more rows in the JSON.</p>' if len(t["rows"]) > 500 else ""
    return (f'<h3>{escape(t.get("title", ""))}</h3><div class="tablewrap"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>{more}')


def _timeline(spec: dict) -> str:
    turns = []
    for t in spec.get("turns", []):
        marks = t.get("marks") or []
        cls = "turn mark" if marks else "turn"
        reason = f'<div class="reason">{escape("; ".join(marks))}</div>' if marks else ""
        turns.append(f'<div class="{cls}"><b>{escape(str(t.get("speaker", "")))}</b>{reason}'
                     f'<pre>{escape(str(t.get("text", ""))[:2000])}</pre></div>')
    return "".join(turns)


def _figure(spec: dict) -> str:
    inner = _timeline(spec) if spec.get("type") == "timeline" else svg.render(spec)
    if not inner:
        return ""
    note = f'<div class="muted">{escape(spec["note"])}</div>' if spec.get("note") else ""
    return f'<figure data-type="{escape(spec.get("type", ""))}"><figcaption>{escape(spec.get("title", ""))}' \
           f'</figcaption>{inner}{note}</figure>'


def _example(ex: dict) -> str:
    fields = "".join(f"<div><b>{escape(str(k))}</b><pre>{escape(str(v))[:3000]}</pre></div>"
                     for k, v in (ex.get("fields") or {}).items())
    reasons = "".join(f'<div class="reason">⚑ {escape(str(r))}</div>' for r in ex.get("reasons") or [])
    row = f' <span class="muted">row {escape(str(ex["row"]))}</span>' if ex.get("row") is not None else ""
    return f'<div class="ex"><b>{escape(str(ex.get("title", "")))}</b>{row}{reasons}{fields}</div>'


def render_section(r: AuditResult, standalone: bool = False, level: int = 2) -> str:
    h = f"h{level}"
    inp = r.input
    skipped = ", ".join(f"{escape(k)}: {v:,}" for k, v in inp.rows_skipped.items()) or "none"
    parts = [f'<section class="audit" data-kind="{escape(r.kind)}"><{h}>{escape(r.title or r.kind)}</{h}>',
             f'<p class="muted">input {escape(str(inp.path or ""))} · {inp.rows_read:,} rows read · '
             f'{inp.rows_used:,} used · skipped: {skipped}</p>']
    if r.findings:
        parts.append("".join(f'<div class="finding {escape(f.severity)}"><b>{escape(f.severity)}</b> '
                             f'{escape(f.message)}</div>' for f in r.findings))
    if r.metrics:
        rows = "".join(f'<tr><td>{escape(k)}</td><td class="num">{_fmt(m.value)}</td><td class="num">{_ci(m)}</td>'
                       f'<td>{escape(m.description)}</td></tr>' for k, m in r.metrics.items())
        parts.append('<details open><summary>Metrics</summary><div class="tablewrap"><table><thead><tr>'
                     '<th>metric</th><th>value</th><th>95% interval</th><th>what it is</th></tr></thead>'
                     f'<tbody>{rows}</tbody></table></div></details>')
    figs = [f for f in (_figure(s) for s in r.figures) if f]
    if figs:
        parts.append(f'<div class="figs">{"".join(figs)}</div>')
    for t in r.tables.values():
        parts.append(_table(t))
    if r.examples:
        parts.append("<h3>Examples</h3>" + "".join(_example(e) for e in r.examples[:12]))
    if r.flags.get("path"):
        parts.append(f'<p class="muted">per-row flags: {escape(str(r.flags["path"]))}</p>')
    for s in r.sections:
        parts.append(render_section(s, level=min(level + 1, 4)))
    parts.append("</section>")
    body = "".join(parts)
    return f"<style>{CSS}</style>{body}" if standalone else body


def render_report(results: Sequence[AuditResult], title: str = "artifactlens report") -> str:
    from .. import __version__
    created = max((r.created for r in results), default="")
    toc = "".join(f'<li><a href="#s{i}">{escape(r.title or r.kind)}</a></li>' for i, r in enumerate(results))
    sections = "".join(f'<div id="s{i}">{render_section(r)}</div>' for i, r in enumerate(results))
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
            f'img-src data:">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
            f'<h1>{escape(title)}</h1><p class="muted">artifactlens {escape(__version__)} · {escape(created)}</p>'
            f'<h2>Scorecard</h2>{scorecard(results)}<nav><ul>{toc}</ul></nav>{sections}</body></html>')


def write_report(results: Sequence[AuditResult] | AuditResult, path, title: str = "artifactlens report") -> Path:
    from ..io.writers import atomic_write_text
    if isinstance(results, AuditResult):
        results = [results]
    return atomic_write_text(path, render_report(list(results), title=title))
