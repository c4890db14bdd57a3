"""The merged HTML report, without a browser: scorecard figures, traffic lights, escaping, stress cases,
the notebook representation and the pandas conversion. (The browser test is tests/test_browser.py.)"""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from artifactlens.report import svg
from artifactlens.report.html import _fmt, light_for, render_report, threshold_text, write_report
from artifactlens.result import AuditResult
from support.samples import demo_results
from support.samples import labels_result, long_text_result, many_classes_result, prefs_result


class _Tags(HTMLParser):
    """Counts tags and collects script elements; checks every opened tag closes in order."""
    VOID = {"meta", "br", "img", "input", "link", "hr", "col", "rect", "circle", "line", "path", "polygon", "polyline"}

    def __init__(self):
        super().__init__()
        self.stack, self.scripts, self.tags, self.errors = [], 0, {}, []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "script":
            self.scripts += 1
        if any(k.startswith("on") for k, _ in attrs):
            self.errors.append(f"event handler attribute on <{tag}>")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()


def parse(html: str) -> _Tags:
    p = _Tags()
    p.feed(html)
    return p


def test_scorecard_shows_each_family_headline_with_interval_and_light():
    html = render_report([labels_result(), prefs_result()])
    card = re.search(r'<div class="card (\w+)" data-metric="minority_erasure_rate" data-kind="labels"'
                     r'[^>]*>(.*?)</div></div>', html, re.S)
    assert card, "no scorecard card for minority_erasure_rate"
    assert card.group(1) == "bad"  # 0.42 >= bad 0.4
    assert "0.420" in card.group(2) and "[0.350, 0.490]" in card.group(2)
    assert ">BAD<" in card.group(2)  # the light says its state in words, not colour alone
    # error_rate 0.08 < warn 0.1 -> ok; agreement 0.71 (lower is worse, warn 0.7) -> ok; position bias -> none
    assert re.search(r'class="card ok" data-metric="error_rate"', html)
    assert re.search(r'class="card ok" data-metric="judge_human_agreement"', html)
    assert re.search(r'class="card none" data-metric="position_bias"', html)
    # nested section's headline appears with its section name
    assert "Model gpt-x · minority_erasure_rate" in html
    assert html.count('class="family"') == 2


def test_lights_follow_thresholds_both_directions():
    r = prefs_result(agreement=0.6)
    assert light_for(r, "judge_human_agreement") == "warn"
    r = prefs_result(agreement=0.45)
    assert light_for(r, "judge_human_agreement") == "bad"
    assert threshold_text(r, "judge_human_agreement") == "watch ≤ 0.7 · bad ≤ 0.5"
    r = labels_result(erasure=0.25, ci=(0.2, 0.3))
    assert light_for(r, "minority_erasure_rate") == "warn"
    assert light_for(r, "no_such_metric") == "none"


def test_planted_markup_is_escaped_everywhere():
    html = render_report([labels_result(), prefs_result()], title="t <script>alert(1)</script>")
    p = parse(html)
    assert p.scripts == 0
    assert p.tags.get("img", 0) == 0
    assert not p.errors, p.errors[:3]
    assert "&lt;script&gt;window.__planted" in html
    assert "script-src" not in html and "default-src 'none'" in html  # CSP forbids any script


def test_page_is_well_formed_and_has_every_figure():
    html = render_report([labels_result(), prefs_result()])
    p = parse(html)
    assert not p.errors, p.errors[:3]
    assert p.tags["svg"] == 6 + 0  # bar, histogram, heatmap, forest, line, scatter (the timeline is HTML)
    assert html.count("<figure") == 7
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html


def test_sixty_classes_do_not_break_the_layout():
    r = many_classes_result(60)
    html = render_report([r])
    assert not parse(html).errors
    bar = svg.bar(r.figures[0])
    # many classes: horizontal bars, one row per class, figure grows in height not width
    w, h = map(float, re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', bar).groups())
    assert w <= 600 and h >= 60 * 14
    assert bar.count("<rect") >= 60 * 2 - 10  # two series per class (zero-height bars kept as 0.5)
    # a 60x60 heatmap spans the full row of the figure grid
    assert re.search(r'<figure class="wide" data-type="heatmap">', html)
    # twenty series: the legend wraps and stays inside the drawing
    line = svg.line(r.figures[2])
    w = float(re.search(r'viewBox="0 0 ([\d.]+)', line).group(1))
    xs = [float(x) for x in re.findall(r'<text x="([\d.]+)" y="\d+" [^>]*>class_', line)]
    assert xs and max(xs) < w


def test_ten_thousand_character_text_is_cut_and_wraps():
    r = long_text_result(10_000)
    html = render_report([r])
    assert not parse(html).errors
    assert "more characters in the JSON" in html
    assert len(html) < 60_000  # each copy of the text is cut to a few thousand characters
    assert "overflow-wrap:anywhere" in html


def test_nested_sections_and_skips_rendered():
    html = render_report([labels_result()])
    assert "<h3>Model gpt-x</h3>" in html
    assert "empty text: 20" in html
    assert "per-row flags: labels_flags.parquet (erased: 498)" in html


def test_bad_figure_spec_does_not_sink_the_report():
    r = labels_result()
    r.figures.append({"type": "heatmap", "title": "broken"})  # no rows/cols/values
    with pytest.warns(UserWarning, match="could not be drawn"):
        html = render_report([r])
    assert "this figure could not be drawn" in html


def test_write_report_merges_json_results(tmp_path):
    paths = []
    for r in (labels_result(), prefs_result()):
        p = tmp_path / f"{r.kind}.json"
        r.to_json(p)
        paths.append(p)
    out = write_report([AuditResult.from_json(p) for p in paths], tmp_path / "r.html")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "Task labels" in text and "Preferences" in text


def test_repr_html_is_scoped_for_notebooks():
    r = labels_result()
    h = r._repr_html_()
    assert h.startswith("<style>") and '<div class="al">' in h
    css = h[len("<style>"):h.index("</style>")]
    # no rule may touch the notebook around the cell
    selectors = re.findall(r"(?:^|})\s*([^{}@]+)\{", css)
    assert selectors and all(s.strip().startswith(".al") for s in selectors if s.strip()), selectors[:5]
    assert "minority_erasure_rate" in h and "0.420" in h
    assert h.count("<svg") == 6 and 'class="card bad" data-metric="minority_erasure_rate"' in h


def test_metrics_frame_to_pandas():
    df = labels_result().metrics_frame()
    row = df.set_index("name").loc["minority_erasure_rate"]
    assert row["value"] == pytest.approx(0.42)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((0.35, 0.49))
    assert len(df) == 4


def test_examples_and_flags_frames(tmp_path):
    from artifactlens.io.writers import RowWriter
    import pyarrow as pa
    r = labels_result()
    ex = r.examples_frame()
    assert list(ex.columns[:3]) == ["row", "title", "reasons"] and ex.loc[0, "llm"] == "positive"
    with pytest.raises(ValueError, match="no flags file"):
        AuditResult(kind="labels").flags_frame()
    for ext in ("parquet", "jsonl", "csv"):
        path = tmp_path / f"flags.{ext}"
        with RowWriter(path) as w:
            w.write(pa.RecordBatch.from_pydict({"text": ["a", "b", "c"], "erased": [True, False, True]}))
        r.flags = {"path": str(path), "rows": 3, "columns": ["erased"], "counts": {"erased": 2}}
        df = r.flags_frame()
        assert len(df) == 3 and int(df["erased"].astype(bool).sum()) == 2, ext


def test_demo_report_small_and_matches_results(demo_dir):
    """The real `artifactlens demo` output (every audit landed): under 2 MB, well formed, no script,
    every headline figure of every result on the scorecard."""
    html = (demo_dir / "report.html").read_text(encoding="utf-8")
    assert len(html.encode()) < 2_000_000
    p = parse(html)
    assert p.scripts == 0 and not p.errors, p.errors[:3]
    for r in demo_results(demo_dir):
        for name in r.headline:
            if name in r.metrics:
                card = re.search(rf'data-metric="{re.escape(name)}" data-kind="{r.kind}"[^>]*>.*?<div class="v">'
                                 rf'([^<]*)</div>', html, re.S)
                assert card and card.group(1) == _fmt(r.metrics[name].value), (r.kind, name)
