"""Helpers the audits share: input bookkeeping, progress and the demo data path. (Run options live in
:mod:`artifactlens.contract.options`; writing outputs in :mod:`artifactlens.outputs`.)"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, TypeVar

from ..io.readers import DataSource
from ..result import AuditResult, InputInfo


@dataclass
class CommonOptions:
    """The instruction audit's internal bundle of run options (built from RunOptions by its spec); being
    replaced by :class:`artifactlens.contract.RunOptions` passed as it is."""

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
    engine_object: object = None  # an engine built by the contract's RunContext (resume, Ray address, workers)

    def log(self, message: str) -> None:
        """A detail line on stderr, shown with ``--verbose`` only."""
        if self.verbose:
            print(f"artifactlens: {message}", file=sys.stderr, flush=True)


def input_info(src: DataSource) -> InputInfo:
    """Input bookkeeping from a data source after it was read (rows read, reader skips)."""
    info = InputInfo(path=str(src.path), sha256=src.sha256, format=src.format, rows_read=src.rows_read)
    for reason, n in src.skipped.items():
        info.skip(reason, n)
    return info


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
