"""`artifactlens datasheet`: a data card with what the user states, the artifacts with figures, the cleaning
and the known limits; valid YAML front matter and Markdown tables that survive '|' and newlines in data."""
from __future__ import annotations

import re

import pytest

from artifactlens.datasheet import _num, render_datasheet
from support.samples import demo_results
from support.samples import labels_result, prefs_result


def _front_matter(md: str) -> dict:
    yaml = pytest.importorskip("yaml")
    m = re.match(r"^---\n(.*?)\n---\n", md, re.S)
    assert m, "no YAML front matter"
    return yaml.safe_load(m.group(1))


def test_datasheet_cli(run_cli, tmp_path):
    a, b = tmp_path / "labels.json", tmp_path / "prefs.json"
    labels_result().to_json(a)
    prefs_result().to_json(b)
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Label the sentiment.\n```\nexample\n```\n", encoding="utf-8")
    out = tmp_path / "DATASHEET.md"
    code, stdout, err = run_cli("datasheet", a, b, "-o", out, "--name", "sent-synth", "--model", "gpt-x-2024",
                                "--prompt", f"@{prompt}", "--date", "2024-06-01", "--license", "cc-by-4.0")
    assert code == 0, err
    md = out.read_text(encoding="utf-8")
    fm = _front_matter(md)
    assert fm["pretty_name"] == "sent-synth" and fm["license"] == "cc-by-4.0"
    assert "artifactlens-labels" in fm["tags"] and fm["size_categories"] == ["1K<n<10K"]
    assert "- **Model:** gpt-x-2024" in md and "- **Date:** 2024-06-01" in md
    # the prompt's own ``` fence does not end the block
    assert "````text\nLabel the sentiment.\n```\nexample\n```\n\n````" in md
    # artifacts with figures and intervals, findings, cleaning, limits
    assert "| minority_erasure_rate | 0.420 | [0.350, 0.490] |" in md
    assert "- **critical:** The LLM erases the minority label on 42% of items" in md
    assert "1,180 of 1,200 rows used (not used: empty text: 20)" in md
    assert "Rows flagged (kept, not removed): erased: 498" in md
    assert "## Known limits" in md and "Not audited here: instructions, simulations, text." in md
    assert "minority_erasure_rate: {'warn': 0.2, 'bad': 0.4, 'higher_is_worse': True}" in md
    assert "#### Model gpt-x" in md


def test_unstated_generation_and_hostile_text():
    r = prefs_result()
    r.add_metric("odd|name", 1.0, "a | pipe\nand a newline")
    r.headline.append("odd|name")
    md = render_datasheet([r])
    assert "- **Model:** not stated" in md and "- **Prompt:** not stated" in md
    row = next(l for l in md.splitlines() if l.startswith("| odd"))
    assert row == "| odd\\|name | 1.000 | n/a | a \\| pipe and a newline |"
    assert "<script>" not in md  # '<' escaped so a card viewer renders no markup from the data
    assert _front_matter(md)["pretty_name"] == "pairs.jsonl"


def test_bad_input_is_one_line(run_cli, tmp_path):
    code, _, err = run_cli("datasheet", tmp_path / "missing.json", "-o", tmp_path / "x.md")
    assert code == 2 and "no such file" in err
    junk = tmp_path / "junk.json"
    junk.write_text('{"schema_version": 99}')
    code, _, err = run_cli("datasheet", junk, "-o", tmp_path / "x.md")
    assert code == 2 and "not an artifactlens result" in err
    code, _, err = run_cli("datasheet", junk, "-o", tmp_path / "x.md", "--prompt", "@nope.txt")
    assert code == 2 and "no such prompt file" in err


def test_datasheet_from_the_real_demo(run_cli, demo_dir, tmp_path):
    results = sorted(demo_dir.glob("*.json"))
    out = tmp_path / "DATASHEET.md"
    code, _, err = run_cli("datasheet", *results, "-o", out, "--model", "demo-model")
    assert code == 0, err
    md = out.read_text(encoding="utf-8")
    for r in demo_results(demo_dir):
        assert f"### {r.title or r.kind}" in md
        for name in r.headline:
            m = r.metrics.get(name)
            if m is not None and m.ci:
                assert f"| {name} | {_num(m.value)} | [{_num(m.ci[0])}, {_num(m.ci[1])}] |" in md
        assert f"- **{r.kind}:** {r.input.rows_used:,} of {r.input.rows_read:,} rows used" in md
