"""A data card for a synthetic dataset from audit results (``artifactlens datasheet``).

Follows the questions of "Datasheets for Datasets" (Gebru et al., 2021) that an audit can answer, in the
layout of a Hugging Face dataset card (YAML front matter, then Markdown sections), so it pastes straight
into a dataset's README.md. What the tool cannot know (the generating model, prompt and date) is taken
as the user states it and marked as stated; everything else comes from the results, with intervals.
"""
from __future__ import annotations

from typing import Sequence

from .result import AuditResult

# What each audit cannot see: stated in the card so readers do not over-trust a clean bill.
LIMITS = {
    "labels": "Label artifacts are measured against the human labels given; where human labels are few or "
              "themselves skewed, erasure and drift are measured against that skew.",
    "preferences": "Judge biases (position, length, self-preference) are estimated from the pairs present; "
                   "biases that need swapped-order reruns are only measured where those reruns are in the data.",
    "instructions": "Broken rows are found by heuristics and embedding similarity; a fluent but wrong output "
                    "is caught only where a reference or a cleaned version is given.",
    "simulations": "Role flips and digressions are detected from the transcript text; failures that leave no "
                   "trace in the text (wrong tool results, hidden state) are not seen.",
    "text": "Style differences (formality, figurative language, diversity) are population-level; they do not "
            "say which single text is machine-written.",
}
GENERAL_LIMITS = [
    "Intervals are 95% bootstrap intervals over rows (or groups where rows are not independent); they cover "
    "sampling noise, not systematic bias of the detectors.",
    "A flag is a score over a stated threshold (recorded below), not a verdict; inspect flagged rows before "
    "dropping them.",
    "artifactlens does not modify the data: the cleaning listed is what was measured or what the user did.",
]


def result_sha256(r: AuditResult) -> str:
    """The sha256 of a result's JSON as artifactlens writes it (``to_json`` plus a newline): the sha256 of
    the result file it was read from, so a card or a Croissant record names the results it came from."""
    import hashlib
    return hashlib.sha256((r.to_json() + "\n").encode("utf-8")).hexdigest()


def _md(s) -> str:
    """Text safe inside a Markdown table cell or line."""
    return str(s).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def _num(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return _md(v)


def _yaml_str(s: str) -> str:
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _size_category(n: int) -> str:
    for lim, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < lim:
            return name
    return "n>1M"


def render_datasheet(results: Sequence[AuditResult], name: str | None = None, model: str | None = None,
                     prompt: str | None = None, date: str | None = None, license: str | None = None) -> str:
    """The data card as Markdown (with YAML front matter). ``model``/``prompt``/``date`` are as stated."""
    from ._version import __version__
    results = list(results)
    rows = max((r.input.rows_read for r in results), default=0)
    title = name or next((r.input.path for r in results if r.input.path), None) or "Synthetic dataset"
    stated = "not stated"
    out = ["---",
           f"pretty_name: {_yaml_str(title)}",
           *( [f"license: {_yaml_str(license)}"] if license else []),
           "tags:", "- synthetic", "- llm-generated", "- artifactlens",
           *[f"- artifactlens-{r.kind}" for r in results],
           "size_categories:", f"- {_size_category(rows)}",
           "---", "",
           f"# Data card: {_md(title)}", "",
           f"Written by artifactlens {__version__} from {len(results)} audit result"
           f"{'s' if len(results) != 1 else ''}, after \"Datasheets for Datasets\" (Gebru et al., 2021). "
           "Figures are point estimates with 95% bootstrap intervals.", "",
           "Results (sha256 of each result JSON): " + ", ".join(f"{_md(r.kind)} `{result_sha256(r)}`"
                                                                for r in results) + ".", "",
           "## How the data was generated", "",
           "_As stated by whoever ran the audit; artifactlens cannot check these._", "",
           f"- **Model:** {_md(model) if model else stated}",
           f"- **Date:** {_md(date) if date else stated}",
           f"- **Prompt:** {stated if not prompt else ''}"]
    if prompt:
        import re
        fence = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", str(prompt))), default=0))
        out += ["", f"{fence}text", str(prompt), fence]
    out += ["", "## Composition", "", "| audit | file | format | rows read | rows used | sha256 |",
            "|---|---|---|---:|---:|---|"]
    for r in results:
        i = r.input
        out.append(f"| {_md(r.kind)} | {_md(i.path or '')} | {_md(i.format or '')} | {_num(i.rows_read)} | "
                   f"{_num(i.rows_used)} | `{_md((i.sha256 or '')[:16])}` |")
    out += ["", "## Artifacts found", ""]
    for r in results:
        out += _artifacts(r)
    out += ["## Cleaning applied", ""]
    out += _cleaning(results)
    out += ["", "## Known limits", ""]
    out += [f"- **{_md(r.kind)}:** {LIMITS[r.kind]}" for r in results if r.kind in LIMITS]
    out += [f"- {t}" for t in GENERAL_LIMITS]
    missing = [k for k in LIMITS if k not in {r.kind for r in results}]
    if missing:
        out.append(f"- Not audited here: {', '.join(missing)}.")
    out += ["", "## Thresholds used", ""]
    for r in results:
        th = r.params.get("thresholds") or {}
        flat = {k: v for k, v in r.params.items() if k != "thresholds" and isinstance(v, (int, float, str, bool))}
        if th or flat:
            out.append(f"- **{_md(r.kind)}:** " + "; ".join(
                [f"{_md(k)}: {_md(v)}" for k, v in th.items()] + [f"{_md(k)} = {_md(v)}" for k, v in flat.items()]))
    out += ["", "## Citation", "", "Audit method after: Das et al., \"Under the Surface: Tracking the "
            "Artifactuality of LLM-Generated Data\", 2024.", ""]
    return "\n".join(out)


def _artifacts(r: AuditResult, level: int = 3) -> list[str]:
    out = [f"{'#' * level} {_md(r.title or r.kind)}", ""]
    names = [n for n in r.headline if n in r.metrics] or list(r.metrics)[:8]
    if names:
        out += ["| figure | value | 95% interval | what it is |", "|---|---:|---|---|"]
        for n in names:
            m = r.metrics[n]
            ci = f"[{_num(m.ci[0])}, {_num(m.ci[1])}]" if m.ci else "n/a"
            out.append(f"| {_md(n)} | {_num(m.value)} | {ci} | {_md(m.description)} |")
        out.append("")
    for f in r.findings:
        if f.severity in ("critical", "warning"):
            out.append(f"- **{f.severity}:** {_md(f.message)}")
    if any(f.severity in ("critical", "warning") for f in r.findings):
        out.append("")
    other = len(r.metrics) - len(names)
    if other > 0:
        out += [f"_{other} more figures in the {r.kind} result JSON._", ""]
    for s in r.sections:
        out += _artifacts(s, min(level + 1, 6))
    return out


def _cleaning(results: Sequence[AuditResult]) -> list[str]:
    out = []
    for r in results:
        i = r.input
        skipped = "; ".join(f"{_md(k)}: {_num(v)}" for k, v in i.rows_skipped.items())
        out.append(f"- **{_md(r.kind)}:** {_num(i.rows_used)} of {_num(i.rows_read)} rows used"
                   + (f" (not used: {skipped})" if skipped else "") + ".")
        counts = r.flags.get("counts") or {}
        if counts:
            out.append("  Rows flagged (kept, not removed): " +
                       "; ".join(f"{_md(k)}: {_num(v)}" for k, v in counts.items()) +
                       (f"; per-row flags in `{_md(r.flags['path'])}`" if r.flags.get("path") else "") + ".")
        clean = {k: v for k, v in r.params.items() if "clean" in k.lower() and v}
        if clean:
            out.append("  Cleaning stated in the audit options: " +
                       "; ".join(f"{_md(k)} = {_md(v)}" for k, v in clean.items()) + ".")
    return out


def write_datasheet(results: Sequence[AuditResult], path, **stated) -> str:
    from .io.writers import atomic_write_text
    text = render_datasheet(results, **stated)
    atomic_write_text(path, text)
    return text
