"""``artifactlens demo``: every audit that is built, on the demo data shipped in the package.

The demo data (``artifactlens/data/demo/``) is written for this project, small but realistic, with
artifacts planted where we know them so the report shows something real.
"""
from __future__ import annotations

from pathlib import Path

from .audits import available
from .audits.common import CommonOptions
from .report.html import write_report


def run_demo(out_dir="artifactlens-demo", seed: int = 0, quiet: bool = True) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for kind, mod in available().items():
        common = CommonOptions(json=str(out / f"{kind}.json"), flags=str(out / f"{kind}_flags.jsonl"), seed=seed,
                               quiet=quiet)
        r = mod.run_demo(out, common)
        results.append(r)
    write_report(results, out / "report.html", title="artifactlens demo report")
    return out
