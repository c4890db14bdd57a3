"""What every audit shares: the common options, input bookkeeping and writing the outputs."""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from ..io.readers import DataSource
from ..result import AuditResult, InputInfo


@dataclass
class CommonOptions:
    """Options every audit takes (CLI flags of the same names)."""

    json: str | None = None
    html: str | None = None
    flags: str | None = None
    seed: int = 0
    engine: str = "local"
    ray_address: str | None = None
    batch_size: int = 8192
    encoding: str = "utf-8"
    quiet: bool = True

    @classmethod
    def from_args(cls, a: argparse.Namespace) -> "CommonOptions":
        return cls(json=a.json, html=a.html, flags=a.flags, seed=a.seed, engine=a.engine,
                   ray_address=getattr(a, "ray_address", None), batch_size=a.batch_size, encoding=a.encoding,
                   quiet=a.quiet)


def add_common_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("outputs and run options (every audit)")
    g.add_argument("--json", metavar="OUT", help="write the result as JSON")
    g.add_argument("--html", metavar="OUT", help="write a self-contained HTML report")
    g.add_argument("--flags", metavar="OUT", help="write every input row with its flags (.parquet, .jsonl or .csv)")
    g.add_argument("--seed", type=int, default=0, help="seed for bootstrap intervals and splits (default 0)")
    g.add_argument("--engine", choices=["local", "ray"], default="local", help="where checks run (default local)")
    g.add_argument("--ray-address", metavar="ADDR", help="an existing Ray cluster (with --engine ray)")
    g.add_argument("--batch-size", type=int, default=8192, help="rows per record batch (default 8192)")
    g.add_argument("--encoding", default="utf-8", help="text encoding of the input (default utf-8)")
    g.add_argument("--quiet", action="store_true", help="no progress bars")


def input_info(src: DataSource) -> InputInfo:
    """Input bookkeeping from a data source after it was read (rows read, reader skips)."""
    info = InputInfo(path=str(src.path), sha256=src.sha256, format=src.format, rows_read=src.rows_read)
    for reason, n in src.skipped.items():
        info.skip(reason, n)
    return info


def finish(result: AuditResult, common: CommonOptions) -> AuditResult:
    """Write the JSON and HTML outputs the options ask for."""
    if common.json:
        result.to_json(common.json)
    if common.html:
        from ..report.html import write_report
        write_report([result], common.html, title=f"artifactlens · {result.title or result.kind}")
    return result


def demo_path(name: str) -> Path:
    """Path of a demo data file shipped in the package (``artifactlens/data/demo/<name>``)."""
    from importlib.resources import files
    return Path(str(files("artifactlens") / "data" / "demo" / name))
