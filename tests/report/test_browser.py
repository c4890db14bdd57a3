"""The report in a real headless browser: Debian's chromium driven by Playwright (never a downloaded one).

`make test` installs chromium with apt where it can; these tests skip, saying why, only when no chromium
(or no playwright) is there. Checks: no console errors, every plot drawn with a non-zero size, the scorecard
shows the figures of the results, a <script> planted in the data does not run, no horizontal overflow on a
laptop screen or a narrow one, and printing works. Screenshot: test-artifacts/report.png.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from artifactlens.report.html import write_report
from support.samples import demo_results
from support.samples import labels_result, long_text_result, many_classes_result, prefs_result
from support.paths import ROOT as PROJECT_ROOT

ROOT = PROJECT_ROOT
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("ARTIFACTLENS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM}: `make test` installs it with apt-get (Debian, as root); "
                    "elsewhere install chromium or set ARTIFACTLENS_CHROMIUM")
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[test])")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_page(browser, path: Path, width=1280, height=860):
    page = browser.new_page(viewport={"width": width, "height": height})
    errors = []
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("request", lambda r: errors.append(f"network request: {r.url}")
            if not r.url.startswith(("file:", "data:")) else None)
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    return page, errors


def svg_sizes(page):
    return page.eval_on_selector_all("svg", "els => els.map(e => { const r = e.getBoundingClientRect(); "
                                            "return [r.width, r.height, e.getAttribute('aria-label')]; })")


def scorecard_values(page) -> dict:
    return page.eval_on_selector_all(
        ".scorecard .card[data-metric]",
        "els => Object.fromEntries(els.map(e => [e.dataset.kind + ':' + e.dataset.metric + ':' + "
        "e.querySelector('.n').textContent, [e.querySelector('.v').textContent, e.dataset.light, "
        "e.textContent]]))")


def test_report_in_chromium(browser, tmp_path):
    results = [labels_result(), prefs_result(), many_classes_result(60), long_text_result(10_000)]
    path = write_report(results, tmp_path / "report.html", title="artifactlens browser test")
    page, errors = open_page(browser, path)

    assert errors == []
    sizes = svg_sizes(page)
    assert len(sizes) == 6 + 3  # labels: six figure types; sixty classes: bar, heatmap, line
    assert all(w > 50 and h > 50 for w, h, _ in sizes), sizes

    # the planted <script> and <img onerror> stayed text
    assert page.evaluate("window.__planted") is None
    assert page.title() == "artifactlens browser test"
    assert "<script>window.__planted" in page.inner_text("body")

    cards = scorecard_values(page)
    erasure = next(v for k, v in cards.items() if k.startswith("labels:minority_erasure_rate:")
                   and "Model" not in k)
    assert erasure[0] == "0.420" and erasure[1] == "bad" and "[0.350, 0.490]" in erasure[2]
    agree = next(v for k, v in cards.items() if k.startswith("preferences:judge_human_agreement"))
    assert agree[0] == "0.710" and agree[1] == "ok"
    assert page.is_visible(".scorecard")

    # no horizontal overflow on a laptop screen, nor on a narrow one (long texts, 60 classes)
    for width in (1280, 760):
        page.set_viewport_size({"width": width, "height": 860})
        sw, cw = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert sw <= cw + 1, f"page {sw}px wide in a {cw}px window"
    page.set_viewport_size({"width": 1280, "height": 860})

    # print: all table rows visible (no scroll boxes), and a PDF comes out
    page.emulate_media(media="print")
    assert page.eval_on_selector(".tablewrap", "e => getComputedStyle(e).overflowY") == "visible"
    pdf = page.pdf(format="A4")
    assert pdf[:4] == b"%PDF" and len(pdf) > 10_000
    page.emulate_media(media="screen")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-samples.png"))
    page.close()


def test_demo_report_in_chromium(browser, demo_dir):
    """The real `artifactlens demo` report: under 2 MB, renders cleanly, scorecard = the JSON figures."""
    report = demo_dir / "report.html"
    assert report.stat().st_size < 2_000_000
    results = demo_results(demo_dir)
    assert results

    page, errors = open_page(browser, report)
    assert errors == []
    sizes = svg_sizes(page)
    assert len(sizes) == page.eval_on_selector_all("figure svg", "e => e.length") > 0
    assert all(w > 50 and h > 50 for w, h, _ in sizes), [s for s in sizes if s[0] <= 50 or s[1] <= 50]
    shown = page.eval_on_selector_all(
        ".scorecard .family", "fs => fs.map(f => [f.dataset.kind, [...f.querySelectorAll('.card[data-metric]')]"
        ".map(c => [c.dataset.metric, c.querySelector('.v').textContent])])")
    from artifactlens.report.html import _fmt
    by_kind = {r.kind: r for r in results}
    assert sorted(k for k, _ in shown) == sorted(by_kind)
    for kind, cards in shown:
        r = by_kind[kind]
        head = [n for n in r.headline if n in r.metrics]
        top = cards[:len(head)]
        assert [c[0] for c in top] == head
        assert [c[1] for c in top] == [_fmt(r.metrics[n].value) for n in head]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"))
    page.close()
