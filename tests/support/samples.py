"""Hand-built AuditResults for the report, gate, history and datasheet tests (no audit module needed).

Every figure type, a nested section, thresholds for the traffic lights, a planted <script> and
<img onerror> in the data (they must never run), and builders for the stress cases: 60 classes and a
10,000-character text.
"""
from __future__ import annotations

from artifactlens.result import AuditResult, InputInfo

PLANTED = ("<script>window.__planted = 1; document.title = 'pwned'</script>"
           "<img src=x onerror=\"window.__planted = 2\">")


def labels_result(erasure: float = 0.42, ci=(0.35, 0.49), seed_tag: str = "") -> AuditResult:
    r = AuditResult(kind="labels", title="Task labels",
                    input=InputInfo(path="labels.csv", sha256="ab" * 32, format="csv", rows_read=1200,
                                    rows_used=1180, rows_skipped={"empty text": 20}))
    r.add_metric("minority_erasure_rate", erasure, "share of items whose human minority label the LLM dropped",
                 ci=ci, n=1180)
    r.add_metric("error_rate", 0.08, "LLM label differs from the human majority", ci=(0.065, 0.095), n=1180)
    r.add_metric("share_drift_tv", 0.12, "total variation between human and LLM class shares", ci=(0.1, 0.14))
    r.add_metric("krippendorff_alpha", 0.61, "agreement among human annotators")
    r.headline = ["minority_erasure_rate", "error_rate", "share_drift_tv"]
    r.params = {"seed": 0, "thresholds": {
        "minority_erasure_rate": {"warn": 0.2, "bad": 0.4, "higher_is_worse": True},
        "error_rate": {"warn": 0.1, "bad": 0.2, "higher_is_worse": True},
        "share_drift_tv": {"warn": 0.1, "bad": 0.3, "higher_is_worse": True}}}
    r.add_finding("critical", "The LLM erases the minority label on 42% of items" + seed_tag,
                  "minority_erasure_rate", [3, 7])
    r.add_finding("info", "Human annotators agree moderately (alpha 0.61)")
    r.add_table("confusion", ["human", "llm", "n"], [["positive", "positive", 500], ["negative", "positive", 120]],
                "Human majority vs LLM label")
    r.add_figure("bar", "Class shares", categories=["positive", "negative", "neutral"],
                 series={"human": [0.4, 0.35, 0.25], "llm": [0.55, 0.3, 0.15]},
                 errors={"human": [[0.37, 0.43], [0.32, 0.38], [0.22, 0.28]]})
    r.add_figure("histogram", "Entropy per item", edges=[0, 0.5, 1, 1.5],
                 series={"human": [10, 20, 5], "llm": [25, 8, 2]})
    r.add_figure("heatmap", "Confusion", rows=["positive", "negative"], cols=["positive", "negative"],
                 values=[[500, 20], [120, 300]], x_label="LLM", y_label="human")
    r.add_figure("forest", "Erasure by domain", labels=["news", "reviews"], estimates=[0.3, 0.5], lo=[0.2, 0.4],
                 hi=[0.4, 0.6], ref=0)
    r.add_figure("line", "Erasure by subjectivity", x=[1, 2, 3], series={"erasure": [0.2, 0.4, 0.6]},
                 bands={"erasure": [[0.1, 0.3], [0.3, 0.5], [0.5, 0.7]]})
    r.add_figure("scatter", "Embedding map", points={"human": [[0, 0], [1, 1]], "llm": [[0.5, 0.2], [0.8, 0.9]]})
    r.examples = [{"row": 3, "title": "minority label erased", "fields": {"text": "I guess it was fine " + PLANTED,
                   "human": "[positive, negative, negative]", "llm": "positive"},
                   "reasons": ["human minority 'negative' absent from LLM labels " + PLANTED]}]
    r.flags = {"path": "labels_flags.parquet", "rows": 1200, "columns": ["erased"], "counts": {"erased": 498}}
    sub = AuditResult(kind="labels", title="Model gpt-x")
    sub.add_metric("minority_erasure_rate", 0.5, "per model", ci=(0.4, 0.6))
    sub.headline = ["minority_erasure_rate"]
    r.sections = [sub]
    return r


def prefs_result(agreement: float = 0.71) -> AuditResult:
    r = AuditResult(kind="preferences", title="Preferences " + PLANTED,
                    input=InputInfo(path="pairs.jsonl", sha256="cd" * 32, format="jsonl", rows_read=800,
                                    rows_used=800))
    r.add_metric("judge_human_agreement", agreement, "judge picks the human's choice", ci=(0.67, 0.75), n=800)
    r.add_metric("position_bias", 0.09, "judge prefers the first answer beyond chance", ci=(0.05, 0.13), n=800)
    r.headline = ["judge_human_agreement", "position_bias"]
    r.params = {"thresholds": {"judge_human_agreement": {"warn": 0.7, "bad": 0.5, "higher_is_worse": False}}}
    r.add_finding("warning", "The judge prefers the first-shown answer")
    r.add_figure("timeline", "A judged conversation", turns=[{"speaker": "user", "text": "hi " + PLANTED},
                                                            {"speaker": "judge", "text": "A", "marks": ["position"]}])
    return r


def many_classes_result(k: int = 60) -> AuditResult:
    r = AuditResult(kind="labels", title="Sixty classes", input=InputInfo(path="many.csv", rows_read=k * 10))
    cats = [f"class_{i:02d}_with_a_rather_long_name" for i in range(k)]
    r.add_metric("minority_erasure_rate", 0.3, "share erased", ci=(0.2, 0.4))
    r.headline = ["minority_erasure_rate"]
    r.add_figure("bar", "Shares of 60 classes", categories=cats,
                 series={"human": [1 / k] * k, "llm": [(i % 5) / (2.5 * k) for i in range(k)]})
    r.add_figure("heatmap", "60 x 60 confusion", rows=cats, cols=cats,
                 values=[[10 if i == j else (i * j) % 3 for j in range(k)] for i in range(k)])
    r.add_figure("line", "Many series", x=list(range(5)), series={c: [0.1 * i for i in range(5)] for c in cats[:20]})
    r.add_table("per_class", ["class", "human", "llm"], [[c, 10, 9] for c in cats])
    return r


def long_text_result(n: int = 10_000) -> AuditResult:
    long = ("Supercalifragilisticexpialidocious" * (n // 34 + 1))[:n]  # no spaces: must still wrap
    r = AuditResult(kind="instructions", title="Long texts", input=InputInfo(path="long.jsonl", rows_read=1))
    r.add_metric("broken_rate", 0.1, long[:500], ci=(0.05, 0.15))
    r.headline = ["broken_rate"]
    r.add_finding("warning", long)
    r.add_table("rows", ["instruction", "score"], [[long, 0.9]])
    r.examples = [{"row": 0, "title": long[:300], "fields": {"instruction": long, "output": long},
                   "reasons": [long[:1000]]}]
    return r


def demo_results(demo_dir) -> list[AuditResult]:
    """The demo's results (``demo_dir`` is the session fixture in conftest.py)."""
    return [AuditResult.from_json(p) for p in sorted(demo_dir.glob("*.json"))]
