"""``artifactlens demo``: every registered audit on the demo data shipped in the package, one report.

The demo data (``artifactlens/data/demo/``) is written for this project, small but realistic, with
artifacts planted where we know them so the report shows something real. Each audit names its demo
file and options in its ``demo`` class attribute.
"""
from __future__ import annotations

from pathlib import Path

from .api import registry
from .contract import RunOptions
from .outputs import write_outputs, write_results


def demo_path(name: str) -> Path:
    """Path of a demo data file shipped in the package (``artifactlens/data/demo/<name>``)."""
    from importlib.resources import files
    return Path(str(files("artifactlens") / "data" / "demo" / name))


def run_one_demo(audit, out: Path, run: RunOptions):
    """``audit`` on its demo file; ``{out}`` in an option's value is the output folder."""
    name, opts = audit.demo
    opts = {k: v.format(out=out) if isinstance(v, str) else v for k, v in opts.items()}
    return audit.run(demo_path(name), run=run, **opts)


def run_demo(out_dir="artifactlens-demo", seed: int = 0, quiet: bool = True) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for kind, cls in registry().items():
        if cls.demo is None:
            continue
        run = RunOptions(seed=seed, quiet=quiet, flags=str(out / f"{kind}_flags.jsonl"))
        r = run_one_demo(cls(), out, run)
        write_outputs(r, json=str(out / f"{kind}.json"))
        results.append(r)
    write_results(results, html=out / "report.html", title="artifactlens demo report")
    return out
