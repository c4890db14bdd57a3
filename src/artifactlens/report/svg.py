"""Inline SVG plots from declarative figure specs (no JavaScript, no network, printable).

Each function takes the spec an audit wrote into ``AuditResult.figures`` and returns an ``<svg>`` string.
Colours are the Okabe-Ito palette (distinguishable with colour-blindness); every user string is escaped.
"""
from __future__ import annotations

import math
from html import escape

PALETTE = ["#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
FONT = 'font-family="system-ui,-apple-system,Segoe UI,sans-serif" font-size="11"'


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        if v != 0 and (abs(v) < 0.01 or abs(v) >= 1e5):
            return f"{v:.2e}"
        return f"{v:.3f}".rstrip("0").rstrip(".") if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def _short(s, n=18) -> str:
    s = str(s)
    return s if len(s) <= n else s[: n - 1] + "…"


def _nice_max(v: float) -> float:
    if v <= 0 or not math.isfinite(v):
        return 1.0
    e = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * e:
            return m * e
    return 10 * e


def _legend(names, x0, y0, width: float = 460) -> str:
    """Swatches and names from ``(x0, y0)``, wrapping onto new 14-px rows past ``width``."""
    out, x, y = [], x0, y0
    for i, n in enumerate(names):
        w = 24 + 7 * min(len(str(n)), 24)
        if x > x0 and x + w > x0 + width:
            x, y = x0, y + 14
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
                   f'<text x="{x + 14}" y="{y}" {FONT}>{escape(_short(n, 24))}</text>')
        x += w
    return "".join(out)


def _legend_rows(names, width: float = 460) -> int:
    rows, x = 1, 0.0
    for n in names:
        w = 24 + 7 * min(len(str(n)), 24)
        if x > 0 and x + w > width:
            rows, x = rows + 1, 0.0
        x += w
    return rows if names else 0


def _svg(w, h, body, title) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" '
            f'style="max-width:{w}px" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f'{body}</svg>')


def bar(spec: dict) -> str:
    """Grouped bars: ``categories`` [k], ``series`` {name: [k values]}, optional ``errors`` {name: [[lo, hi]]}."""
    cats = spec.get("categories", [])
    series = spec.get("series", {})
    errors = spec.get("errors", {}) or {}
    names = list(series)
    vals = [v for s in series.values() for v in s if v is not None]
    his = [e[1] for es in errors.values() for e in es if e and e[1] is not None]
    los = [e[0] for es in errors.values() for e in es if e and e[0] is not None]
    vmin = min([0.0] + vals + los)
    vmax = spec.get("y_max") or _nice_max(max([1e-9] + vals + his))
    if vmin < 0:
        vmin = -_nice_max(-vmin)
    if len(cats) > HBAR_AFTER and spec.get("orientation") != "vertical":
        return _hbar(spec, cats, series, errors, names, vmin, vmax)
    show_legend = len(names) > 1 or spec.get("legend")
    W = max(360, 60 + len(cats) * max(28, 14 * len(names) + 10))
    T = 10 + 14 * (_legend_rows(names, W - 60) if show_legend else 1)
    H, L, B = 216 + T, 48, 60
    pw, ph = W - L - 10, H - B - T
    y = lambda v: T + ph * (vmax - v) / (vmax - vmin)  # noqa: E731
    body = [f'<line x1="{L}" y1="{y(0):.1f}" x2="{W - 10}" y2="{y(0):.1f}" stroke="#444"/>']
    for t in range(5):
        v = vmin + (vmax - vmin) * t / 4
        body.append(f'<line x1="{L}" y1="{y(v):.1f}" x2="{W - 10}" y2="{y(v):.1f}" stroke="#ddd"/>'
                    f'<text x="{L - 4}" y="{y(v) + 4:.1f}" text-anchor="end" {FONT}>{_fmt(v)}</text>')
    gw = pw / max(1, len(cats))
    bw = min(28, (gw - 8) / max(1, len(names)))
    for ci, c in enumerate(cats):
        x0 = L + gw * ci + (gw - bw * len(names)) / 2
        for si, n in enumerate(names):
            v = series[n][ci]
            if v is None:
                continue
            x = x0 + si * bw
            top, bot = sorted((y(v), y(0)))
            body.append(f'<rect x="{x:.1f}" y="{top:.1f}" width="{bw - 2:.1f}" height="{max(0.5, bot - top):.1f}" '
                        f'fill="{PALETTE[si % len(PALETTE)]}"><title>{escape(str(n))} / {escape(str(c))}: '
                        f'{_fmt(v)}</title></rect>')
            e = (errors.get(n) or [None] * len(cats))[ci] if errors.get(n) else None
            if e and e[0] is not None and e[1] is not None:
                cx = x + (bw - 2) / 2
                body.append(f'<path d="M{cx:.1f},{y(e[0]):.1f}V{y(e[1]):.1f}M{cx - 3:.1f},{y(e[0]):.1f}h6'
                            f'M{cx - 3:.1f},{y(e[1]):.1f}h6" stroke="#222" fill="none"/>')
        lx = L + gw * ci + gw / 2
        body.append(f'<text x="{lx:.1f}" y="{T + ph + 14}" text-anchor="end" transform="rotate(-30 {lx:.1f} '
                    f'{T + ph + 14})" {FONT}>{escape(_short(c))}</text>')
    if spec.get("y_label"):
        body.append(f'<text x="12" y="{T + ph / 2}" transform="rotate(-90 12 {T + ph / 2})" text-anchor="middle" '
                    f'{FONT}>{escape(spec["y_label"])}</text>')
    if show_legend:
        body.append(_legend(names, L, 12, W - 60))
    return _svg(W, H, "".join(body), spec.get("title", ""))


HBAR_AFTER = 16  # more categories than this: horizontal bars, one row each, so labels stay readable


def _hbar(spec, cats, series, errors, names, vmin, vmax) -> str:
    """Horizontal grouped bars for many categories (e.g. 60 classes): the figure grows in height."""
    W, L, R = 560, 180, 16
    T = 10 + 14 * max(1, _legend_rows(names, W - L)) + 16
    rh = max(14, 9 * len(names) + 5)
    H = T + rh * len(cats) + 22
    pw = W - L - R
    x = lambda v: L + pw * (v - vmin) / ((vmax - vmin) or 1)  # noqa: E731
    body = []
    for t in range(5):
        v = vmin + (vmax - vmin) * t / 4
        body.append(f'<line x1="{x(v):.1f}" y1="{T}" x2="{x(v):.1f}" y2="{H - 20}" stroke="#ddd"/>'
                    f'<text x="{x(v):.1f}" y="{H - 6}" text-anchor="middle" {FONT}>{_fmt(v)}</text>'
                    f'<text x="{x(v):.1f}" y="{T - 4}" text-anchor="middle" {FONT}>{_fmt(v)}</text>')
    bh = (rh - 4) / max(1, len(names))
    for ci, c in enumerate(cats):
        y0 = T + ci * rh + 2
        body.append(f'<text x="{L - 6}" y="{y0 + rh / 2 + 2:.1f}" text-anchor="end" {FONT}>'
                    f'{escape(_short(c, 26))}</text>')
        for si, n in enumerate(names):
            v = series[n][ci]
            if v is None:
                continue
            a, b = sorted((x(v), x(0)))
            yy = y0 + si * bh
            body.append(f'<rect x="{a:.1f}" y="{yy:.1f}" width="{max(0.5, b - a):.1f}" height="{max(1.0, bh - 1):.1f}" '
                        f'fill="{PALETTE[si % len(PALETTE)]}"><title>{escape(str(n))} / {escape(str(c))}: '
                        f'{_fmt(v)}</title></rect>')
            e = (errors.get(n) or [None] * len(cats))[ci] if errors.get(n) else None
            if e and e[0] is not None and e[1] is not None:
                cy = yy + (bh - 1) / 2
                body.append(f'<path d="M{x(e[0]):.1f},{cy:.1f}H{x(e[1]):.1f}" stroke="#222" fill="none"/>')
    body.append(f'<line x1="{x(0):.1f}" y1="{T}" x2="{x(0):.1f}" y2="{H - 20}" stroke="#444"/>')
    if len(names) > 1 or spec.get("legend"):
        body.append(_legend(names, L, 12, W - L))
    return _svg(W, H, "".join(body), spec.get("title", ""))


def histogram(spec: dict) -> str:
    """``edges`` [k+1], ``series`` {name: [k counts]}; drawn as densities so sizes compare."""
    edges = spec["edges"]
    cats = [f"{_fmt(edges[i])}–{_fmt(edges[i + 1])}" for i in range(len(edges) - 1)]
    series = {}
    for n, counts in spec["series"].items():
        tot = sum(c for c in counts if c) or 1
        series[n] = [c / tot for c in counts]
    return bar({"categories": cats, "series": series, "title": spec.get("title", ""),
                "y_label": spec.get("y_label", "share"), "legend": True, "orientation": "vertical"})


def heatmap(spec: dict) -> str:
    """``rows`` [r], ``cols`` [c], ``values`` [[r x c]]; cells annotated with their value."""
    rows, cols, vals = spec["rows"], spec["cols"], spec["values"]
    cell = 34 if max(len(rows), len(cols)) <= 12 else 22
    L, T = 110, 70
    W, H = L + cell * len(cols) + 80, T + cell * len(rows) + 30  # room for the slanted last labels
    flat = [v for r in vals for v in r if v is not None]
    vmax = max(flat + [1e-9])
    body = []
    for j, c in enumerate(cols):
        x = L + j * cell + cell / 2
        body.append(f'<text x="{x:.1f}" y="{T - 6}" transform="rotate(-40 {x:.1f} {T - 6})" {FONT}>'
                    f'{escape(_short(c, 14))}</text>')
    for i, r in enumerate(rows):
        body.append(f'<text x="{L - 6}" y="{T + i * cell + cell / 2 + 4:.1f}" text-anchor="end" {FONT}>'
                    f'{escape(_short(r, 16))}</text>')
        for j in range(len(cols)):
            v = vals[i][j]
            a = 0 if v is None else 0.08 + 0.92 * (v / vmax)
            body.append(f'<rect x="{L + j * cell}" y="{T + i * cell}" width="{cell - 1}" height="{cell - 1}" '
                        f'fill="#0072B2" fill-opacity="{a:.2f}"><title>{escape(str(r))} → {escape(str(c))}: '
                        f'{_fmt(v)}</title></rect>')
            if cell >= 30 and v is not None:
                color = "#fff" if a > 0.55 else "#000"
                body.append(f'<text x="{L + j * cell + cell / 2:.1f}" y="{T + i * cell + cell / 2 + 4:.1f}" '
                            f'text-anchor="middle" fill="{color}" {FONT}>{_fmt(v)}</text>')
    if spec.get("x_label"):
        body.append(f'<text x="{L}" y="12" {FONT} font-weight="bold">{escape(spec["x_label"])} →</text>')
    if spec.get("y_label"):
        body.append(f'<text x="4" y="{T - 6}" {FONT} font-weight="bold">{escape(spec["y_label"])} ↓</text>')
    return _svg(W, H, "".join(body), spec.get("title", ""))


def forest(spec: dict) -> str:
    """``labels`` [k], ``estimates`` [k], ``lo`` [k], ``hi`` [k], optional ``ref`` (default 0)."""
    labels, est = spec["labels"], spec["estimates"]
    lo, hi = spec.get("lo") or [None] * len(est), spec.get("hi") or [None] * len(est)
    ref = spec.get("ref", 0.0)
    allv = [v for v in list(est) + list(lo) + list(hi) + [ref] if v is not None]
    vmin, vmax = min(allv), max(allv)
    pad = (vmax - vmin) * 0.08 or 0.5
    vmin, vmax = vmin - pad, vmax + pad
    L, R, T, rh = 150, 20, 20, 20
    W, H = 520, T + rh * len(labels) + 30
    x = lambda v: L + (W - L - R) * (v - vmin) / (vmax - vmin)  # noqa: E731
    body = [f'<line x1="{x(ref):.1f}" y1="{T - 6}" x2="{x(ref):.1f}" y2="{H - 24}" stroke="#888" '
            f'stroke-dasharray="3,3"/>']
    for i, lab in enumerate(labels):
        yy = T + i * rh + rh / 2
        body.append(f'<text x="{L - 8}" y="{yy + 4:.1f}" text-anchor="end" {FONT}>{escape(_short(lab, 22))}</text>')
        if lo[i] is not None and hi[i] is not None:
            body.append(f'<line x1="{x(lo[i]):.1f}" y1="{yy:.1f}" x2="{x(hi[i]):.1f}" y2="{yy:.1f}" stroke="#222"/>')
        if est[i] is not None:
            body.append(f'<circle cx="{x(est[i]):.1f}" cy="{yy:.1f}" r="4" fill="{PALETTE[1]}"><title>'
                        f'{escape(str(lab))}: {_fmt(est[i])} [{_fmt(lo[i])}, {_fmt(hi[i])}]</title></circle>')
    for t in range(5):
        v = vmin + (vmax - vmin) * t / 4
        body.append(f'<text x="{x(v):.1f}" y="{H - 8}" text-anchor="middle" {FONT}>{_fmt(v)}</text>')
    if spec.get("x_label"):
        body.append(f'<text x="{L}" y="12" {FONT}>{escape(spec["x_label"])}</text>')
    return _svg(W, H, "".join(body), spec.get("title", ""))


def line(spec: dict) -> str:
    """``x`` [k] (numbers or labels), ``series`` {name: [k]}, optional ``bands`` {name: [[lo, hi]]}."""
    xs, series, bands = spec["x"], spec["series"], spec.get("bands") or {}
    vals = [v for s in series.values() for v in s if v is not None] + \
           [v for b in bands.values() for e in b if e for v in e if v is not None]
    vmin, vmax = (spec.get("y_min", min(vals + [0.0])), spec.get("y_max", _nice_max(max(vals + [1e-9]))))
    W, L, B = 480, 48, 40
    T = 10 + 14 * max(1, _legend_rows(list(series), W - L))
    H = T + 216
    pw, ph = W - L - 14, H - B - T
    px = lambda i: L + pw * (i / max(1, len(xs) - 1))  # noqa: E731
    py = lambda v: T + ph * (vmax - v) / ((vmax - vmin) or 1)  # noqa: E731
    body = []
    for t in range(5):
        v = vmin + (vmax - vmin) * t / 4
        body.append(f'<line x1="{L}" y1="{py(v):.1f}" x2="{W - 14}" y2="{py(v):.1f}" stroke="#ddd"/>'
                    f'<text x="{L - 4}" y="{py(v) + 4:.1f}" text-anchor="end" {FONT}>{_fmt(v)}</text>')
    step = max(1, len(xs) // 10)
    for i, xv in enumerate(xs):
        if i % step == 0:
            body.append(f'<text x="{px(i):.1f}" y="{T + ph + 14}" text-anchor="middle" {FONT}>'
                        f'{escape(_short(_fmt(xv), 8))}</text>')
    for si, (n, ys) in enumerate(series.items()):
        col = PALETTE[si % len(PALETTE)]
        band = bands.get(n)
        if band:
            pts = [(px(i), py(e[1])) for i, e in enumerate(band) if e and e[1] is not None] + \
                  [(px(i), py(e[0])) for i, e in reversed(list(enumerate(band))) if e and e[0] is not None]
            if pts:
                body.append(f'<polygon points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in pts)}" fill="{col}" '
                            f'fill-opacity="0.15"/>')
        pts = [(px(i), py(v)) for i, v in enumerate(ys) if v is not None]
        if pts:
            body.append(f'<polyline points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in pts)}" fill="none" '
                        f'stroke="{col}" stroke-width="2"/>')
            body.extend(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.5" fill="{col}"/>' for a, b in pts)
    if spec.get("x_label"):
        body.append(f'<text x="{L + pw / 2}" y="{H - 4}" text-anchor="middle" {FONT}>{escape(spec["x_label"])}</text>')
    if spec.get("y_label"):
        body.append(f'<text x="12" y="{T + ph / 2}" transform="rotate(-90 12 {T + ph / 2})" text-anchor="middle" '
                    f'{FONT}>{escape(spec["y_label"])}</text>')
    body.append(_legend(list(series), L, 12, W - L))
    return _svg(W, H, "".join(body), spec.get("title", ""))


MAX_POINTS = 1500  # per scatter series: keeps the page small; every k-th point beyond that


def scatter(spec: dict) -> str:
    """``points`` {name: [[x, y], ...]} (e.g. a 2-D embedding projection coloured by source)."""
    pts_all = [p for ps in spec["points"].values() for p in ps]
    if not pts_all:
        return ""
    xs, ys = [p[0] for p in pts_all], [p[1] for p in pts_all]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    W, M = 420, 24
    T = 4 + 14 * max(1, _legend_rows(list(spec["points"]), W - M))
    H = T + 300
    px = lambda v: M + (W - 2 * M) * (v - x0) / ((x1 - x0) or 1)  # noqa: E731
    py = lambda v: H - M - (H - T - M) * (v - y0) / ((y1 - y0) or 1)  # noqa: E731
    body = [f'<rect x="{M}" y="{T}" width="{W - 2 * M}" height="{H - T - M}" fill="none" stroke="#ccc"/>']
    for si, (n, ps) in enumerate(spec["points"].items()):
        col = PALETTE[si % len(PALETTE)]
        step = max(1, math.ceil(len(ps) / MAX_POINTS))
        body.extend(f'<circle cx="{px(a):.1f}" cy="{py(b):.1f}" r="2.5" fill="{col}" fill-opacity="0.6"/>'
                    for a, b in ps[::step])
    body.append(_legend(list(spec["points"]), M, 14, W - M))
    return _svg(W, H, "".join(body), spec.get("title", ""))


RENDERERS = {"bar": bar, "histogram": histogram, "heatmap": heatmap, "forest": forest, "line": line,
             "scatter": scatter}


def render(spec: dict) -> str:
    fn = RENDERERS.get(spec.get("type"))
    return fn(spec) if fn else ""
