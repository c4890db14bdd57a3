"""Security: reports escape every user text; no eval/exec/pickle of user input; no network unless asked.
(Label lists parsed without eval: tests/test_io.py.)

The browser check that no planted script runs is the report's own (tests/test_browser.py); here the HTML
text itself is checked: the planted markup appears only escaped.
"""
from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from support.bad_input import SPECS, built, write

SRC = Path(__file__).resolve().parents[1] / "src" / "artifactlens"
PAYLOADS = ["<script>alert('xss1')</script>", "<img src=x onerror=alert('xss2')>",
            "\"><svg onload=alert('xss3')>", "</textarea><script>alert('xss4')</script>",
            "javascript:alert('xss5')", "<iframe srcdoc='<script>alert(6)</script>'>"]
RAW = ["<script>alert('xss", "<img src=x onerror", "<svg onload", "<iframe srcdoc"]


def _planted_rows(kind: str, n: int = 40) -> list[dict]:
    spec = SPECS[kind]
    rows = [spec.row(i) for i in range(n)]
    for i, r in enumerate(rows):
        r[spec.text] = f"{PAYLOADS[i % len(PAYLOADS)]} {r[spec.text]}"
    if kind == "labels":  # label names reach tables, figure axes and legends
        for i, r in enumerate(rows):
            r["human"] = str(["<script>alert('xss0')</script>", "b", "<img src=x onerror=alert(0)>"][: 2 + i % 2])
            r["llm"] = str(["<script>alert('xss0')</script>"] * 3)
    if kind == "preferences":
        for i, r in enumerate(rows):
            r["response_b"] = PAYLOADS[(i + 1) % len(PAYLOADS)] + " " + r["response_b"]
            r["prompt"] = PAYLOADS[(i + 2) % len(PAYLOADS)] + r["prompt"]
    if kind == "instructions":
        for i, r in enumerate(rows):
            r["output"] = PAYLOADS[(i + 3) % len(PAYLOADS)] + " " + r["output"]
    if kind == "simulations":  # payloads in flagged turns (a role flip, a loop): the report shows those
        for i, r in enumerate(rows):
            for t in r["turns"]:
                t["text"] = PAYLOADS[i % len(PAYLOADS)] + " " + t["text"]
            flip = {"speaker": "User", "role": "user", "text": "Solution: " + PAYLOADS[i % len(PAYLOADS)]}
            r["turns"] += [flip, dict(r["turns"][1]), dict(r["turns"][1]), dict(r["turns"][1])]
    return rows


def assert_escaped(html: str) -> None:
    for raw in RAW:
        assert raw not in html, f"unescaped user markup in the report: {raw!r}"


@pytest.mark.parametrize("kind", list(SPECS))
def test_report_escapes_planted_markup(run_cli, tmp_path, kind):
    built(kind)
    src = write(tmp_path / "in.jsonl", _planted_rows(kind), "jsonl")
    html = tmp_path / "r.html"
    code, _, err = run_cli("audit", kind, src, *SPECS[kind].args, "--html", html, "--json", tmp_path / "r.json",
                           "--quiet")
    assert code == 0, err
    text = html.read_text(encoding="utf-8")
    assert_escaped(text)
    assert "&lt;script&gt;" in text or "&lt;img" in text or "&lt;svg" in text or "&lt;b" in text, \
        "no planted text is shown at all: the test would not see a missing escape"


def test_merged_report_escapes_titles_and_findings(tmp_path):
    from artifactlens.report.html import write_report
    from artifactlens.result import AuditResult
    r = AuditResult(kind="labels", title=PAYLOADS[0])
    r.add_metric("rate<script>", 0.5, PAYLOADS[1], ci=(0.4, 0.6), n=10)
    r.add_finding("warning", PAYLOADS[2], "rate<script>", [1])
    r.add_table("t" + PAYLOADS[0], ["col" + PAYLOADS[1]], [[PAYLOADS[3]]], PAYLOADS[4])
    r.add_figure("bar", PAYLOADS[5], categories=[PAYLOADS[0]], series={PAYLOADS[1]: [1.0]})
    r.examples.append({"row": 1, "title": PAYLOADS[0], "fields": {PAYLOADS[1]: PAYLOADS[2]}, "reasons": [PAYLOADS[3]]})
    out = write_report([r], tmp_path / "m.html", title=PAYLOADS[0])
    assert_escaped(Path(out).read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------------------
# no eval / exec / unpickling of user input
# ---------------------------------------------------------------------------------------------------------
DANGEROUS = re.compile(r"(?<![\w.])(eval|exec)\s*\(|pickle\.loads?\s*\(|marshal\.loads?\s*\(|yaml\.load\s*\(|"
                       r"torch\.load\s*\(|allow_pickle\s*=\s*True|joblib\.load\s*\(|shell\s*=\s*True|os\.system\s*\(")
# Each allowed place, and why it never sees user input.
ALLOWED = {
    ("engine/local.py", "pickle.loads("): "the process pool's workers load the checks the driver pickled",
    ("engine/ray_engine.py", "pickle.loads("): "Ray actors load the checks / outputs the engine pickled",
}


def test_no_eval_exec_or_unpickling_of_user_input():
    found = []
    for p in sorted(SRC.rglob("*.py")):
        rel = p.relative_to(SRC).as_posix()
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            for m in DANGEROUS.finditer(code):
                token = m.group(0).replace(" ", "")
                if not any(rel == f and token.startswith(t.rstrip("(")) for f, t in ALLOWED):
                    found.append(f"{rel}:{n}: {line.strip()}")
    assert not found, "eval/exec/unpickling outside the reviewed places:\n" + "\n".join(found)


def test_checkpoint_unpickler_is_restricted():
    text = (SRC / "engine" / "checkpoint.py").read_text(encoding="utf-8")
    assert "def find_class" in text and "pickle.loads(" not in text and "pickle.load(" not in text


# ---------------------------------------------------------------------------------------------------------
# no network unless asked
# ---------------------------------------------------------------------------------------------------------
@pytest.fixture
def no_network(monkeypatch):
    attempts = []

    def refuse(*a, **k):
        attempts.append(a)
        raise OSError("network access attempted during an audit")

    real_connect = socket.socket.connect

    def connect(self, addr):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            refuse(addr)
        return real_connect(self, addr)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", lambda self, addr: refuse(addr))
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


@pytest.mark.parametrize("kind", list(SPECS))
def test_audits_use_no_network(run_cli, tmp_path, no_network, kind):
    built(kind)
    src = write(tmp_path / "in.jsonl", [SPECS[kind].row(i) for i in range(30)], "jsonl")
    code, _, err = run_cli("audit", kind, src, *SPECS[kind].args, "--json", tmp_path / "r.json",
                           "--html", tmp_path / "r.html", "--quiet")
    assert code == 0, err
    assert no_network == []
