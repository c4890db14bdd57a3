"""What every audit shares: the common options, input bookkeeping, progress and writing the outputs."""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, TypeVar

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
    verbose: bool = False
    store: str | None = None  # a DuckDB file: every result is appended to the audit history
    device: str | None = None  # where MiniLM runs: cpu, cuda, cuda:N or auto (text.embeddings.device)

    def __post_init__(self):
        if self.ray_address:  # audits call get_engine(engine, seed=, quiet=); the Ray engine reads it there
            os.environ["ARTIFACTLENS_RAY_ADDRESS"] = self.ray_address
        if self.device:  # read by text.embeddings in this process, its pool workers and local Ray workers
            os.environ["ARTIFACTLENS_DEVICE"] = self.device

    @classmethod
    def from_args(cls, a: argparse.Namespace) -> "CommonOptions":
        return cls(json=a.json, html=a.html, flags=a.flags, seed=a.seed, engine=a.engine,
                   ray_address=getattr(a, "ray_address", None), batch_size=a.batch_size, encoding=a.encoding,
                   quiet=a.quiet, verbose=getattr(a, "verbose", False), store=getattr(a, "store", None),
                   device=getattr(a, "device", None))

    def log(self, message: str) -> None:
        """A detail line on stderr, shown with ``--verbose`` only."""
        if self.verbose:
            print(f"artifactlens: {message}", file=sys.stderr, flush=True)


def add_common_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("outputs and run options (every audit)")
    g.add_argument("--json", metavar="OUT", help="write the result as JSON")
    g.add_argument("--html", metavar="OUT", help="write a self-contained HTML report")
    g.add_argument("--flags", metavar="OUT", help="write every input row with its flags (.parquet, .jsonl or .csv)")
    g.add_argument("--seed", type=int, default=0, help="seed for bootstrap intervals and splits (default 0)")
    g.add_argument("--engine", choices=["local", "ray"], default="local", help="where checks run (default local)")
    g.add_argument("--ray-address", metavar="ADDR", help="an existing Ray cluster (with --engine ray)")
    g.add_argument("--device", choices=["cpu", "cuda", "auto"], help="where MiniLM embeddings run (default cpu; "
                   "auto = CUDA when torch sees a GPU; float16 there)")
    g.add_argument("--batch-size", type=int, default=8192, help="rows per record batch (default 8192)")
    g.add_argument("--encoding", default="utf-8", help="text encoding of the input (default utf-8)")
    g.add_argument("--store", metavar="DB", help="append the result to an audit history (DuckDB file, e.g. "
                   "audits.duckdb); see `artifactlens history`")
    g.add_argument("--resume", metavar="DIR", help="checkpoint every batch in DIR; rerun the same command to go on "
                   "from where an interrupted run stopped (local engine, in-process)")
    g.add_argument("--quiet", action="store_true", help="no progress bars")
    g.add_argument("--verbose", action="store_true", help="say what is read, computed and written (on stderr)")


def input_info(src: DataSource) -> InputInfo:
    """Input bookkeeping from a data source after it was read (rows read, reader skips)."""
    info = InputInfo(path=str(src.path), sha256=src.sha256, format=src.format, rows_read=src.rows_read)
    for reason, n in src.skipped.items():
        info.skip(reason, n)
    return info


def finish(result: AuditResult, common: CommonOptions) -> AuditResult:
    """Write the JSON and HTML outputs the options ask for; append to the history with ``store``."""
    if common.json:
        result.to_json(common.json)
        common.log(f"wrote {common.json}")
    if common.html:
        from ..report.html import write_report
        write_report([result], common.html, title=f"artifactlens · {result.title or result.kind}")
        common.log(f"wrote {common.html}")
    if getattr(common, "store", None):
        from ..history import HistoryStore
        with HistoryStore(common.store) as h:
            run_id = h.append(result)
        common.log(f"stored run {run_id} in {common.store}")
    return result


T = TypeVar("T")


def progress(items: Iterable[T], label: str, total: int | None = None, quiet: bool = False,
             delay: float = 1.0) -> Iterator[T]:
    """Yield ``items``; a rich progress bar on stderr appears once the pass has run ``delay`` seconds.

    Nothing is drawn when ``quiet`` or when stderr is not a terminal (CI logs stay clean). ``total``
    defaults to ``len(items)`` where it has one. Usage: ``for text in progress(texts, "embedding"): ...``
    """
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    if quiet or not sys.stderr.isatty():
        yield from items
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    start, done, prog, task = time.monotonic(), 0, None, None
    try:
        for item in items:
            yield item
            done += 1
            if prog is None and time.monotonic() - start >= delay:
                prog = Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                transient=True, console=Console(stderr=True))
                prog.start()
                task = prog.add_task(label, total=total, completed=done)
            elif prog is not None:
                prog.update(task, completed=done)
    finally:
        if prog is not None:
            prog.stop()


def demo_path(name: str) -> Path:
    """Path of a demo data file shipped in the package (``artifactlens/data/demo/<name>``)."""
    from importlib.resources import files
    return Path(str(files("artifactlens") / "data" / "demo" / name))
