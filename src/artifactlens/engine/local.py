"""The local engine: runs checks over a stream of record batches, in-process or on a process pool.

It owns scheduling and I/O (reading batches, streaming per-row outputs to the flags file); checks own
the computation. With ``workers > 1`` the batches are mapped on a ``concurrent.futures`` process pool
(forkserver processes; each calls ``Check.setup`` once) while this process reads the input ahead and
writes results; results are taken back in input order and merged in input order, so the answer is the
same as the sequential run's, bit for bit. Only a bounded window of batches is in flight (memory stays
flat). ``workers=None`` (the default) uses the pool only where it pays and is safe: an input file of
at least ``PARALLEL_MIN_BYTES``, more than one core, and checks whose class declares ``pure_map = True``
(``ARTIFACTLENS_WORKERS=N`` forces N workers for any check that does not set ``pure_map = False``).
The Ray Data engine (:mod:`.ray_engine`) runs the same checks unchanged.
"""
from __future__ import annotations

import os
import pickle
import sys
from collections import deque
from typing import Iterable, Iterator, Sequence

import pyarrow as pa

from .base import BatchContext, Check, MapOutput
from ..io.writers import RowWriter
from ..quiet import LIBRARY_LOGGERS

PARALLEL_MIN_BYTES = 32 << 20  # below this the pool's start-up (~1-3 s per worker) does not pay


def _progress(total_rows: int | None, quiet: bool, label: str):
    if quiet or not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    prog = Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
                    TimeElapsedColumn(), transient=True, console=Console(stderr=True))  # stdout stays for results
    return prog


def map_batch(checks: Sequence[Check], batch: pa.RecordBatch, ctx: BatchContext) -> list[MapOutput]:
    """Every check's map over one batch (the unit of work each engine schedules)."""
    return [c.map(batch, ctx) for c in checks]


def declares_pure_map(c: Check) -> bool:
    """True where the check's own class (not the base) sets ``pure_map = True``: its author checked that
    ``map`` keeps no state between batches, so the automatic process pool may split its batches."""
    return c.pure_map and any("pure_map" in vars(k) for k in type(c).__mro__ if k is not Check)


def has_sequential_step(c: Check) -> bool:
    return type(c).sequential is not Check.sequential


class Accumulator:
    """Runs each check's ``sequential`` step, merges map outputs in the order given and streams rows to the
    flags file (shared by all engines, always in the driver process)."""

    def __init__(self, checks: Sequence[Check], flags_path=None, keep_input_columns: bool = True, seed: int = 0):
        self.checks = list(checks)
        self.seed = seed
        self.batches = 0
        self.states: dict[str, object] = {}
        self.keep_input_columns = keep_input_columns
        self.writer = RowWriter(flags_path) if flags_path else None
        self.rows = 0
        #: a check that expands rows writes its own rows: the input's are not written beside them
        self.expands = any(getattr(c, "expands_rows", False) for c in self.checks)
        self.rows_written = 0

    def __enter__(self):
        if self.writer:
            self.writer.__enter__()
        return self

    def add(self, batch: pa.RecordBatch | None, outputs: Sequence[MapOutput], n: int | None = None) -> None:
        """Merge one batch's outputs; ``batch`` may be None (with ``n`` rows) when no input row is written."""
        n = batch.num_rows if batch is not None else n
        ctx = BatchContext(batch_index=self.batches, row_offset=self.rows, seed=self.seed)
        out_cols: dict[str, pa.Array] = {}
        for c, mo in zip(self.checks, outputs):
            if has_sequential_step(c):
                mo = c.sequential(batch, mo, ctx)
            self.states[c.name] = mo.state if c.name not in self.states else c.merge(self.states[c.name], mo.state)
            if mo.columns:
                out_cols.update(mo.columns)
        if self.writer:
            if self.expands:
                m = len(next(iter(out_cols.values()))) if out_cols else 0
                self.writer.write(_append_columns(None, out_cols, m))
                self.rows_written += m
            else:
                self.writer.write(_append_columns(batch if self.keep_input_columns else None, out_cols, n))
                self.rows_written += n
        self.rows += n
        self.batches += 1

    def __exit__(self, exc_type, exc, tb):
        if self.writer:
            self.writer.__exit__(exc_type, exc, tb)
        return False

    def results(self) -> dict:
        return {c.name: c.finalize(self.states[c.name]) if c.name in self.states else None for c in self.checks}


def _input_bytes(source) -> int:
    path = getattr(source, "path", None)
    try:
        return path.stat().st_size if path is not None and path.is_file() else 0
    except OSError:
        return 0


def auto_workers(source) -> int:
    """Worker processes for ``source``: ``ARTIFACTLENS_WORKERS`` if set, else all cores for a large file."""
    env = os.environ.get("ARTIFACTLENS_WORKERS")
    if env:
        return max(1, int(env))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores if cores > 1 and _input_bytes(source) >= PARALLEL_MIN_BYTES else 1


class LocalEngine:
    """Run ``checks`` over ``batches``; merge their states; optionally stream input+check columns to
    ``flags_path`` (every input row kept, in input order).

    ``workers``: 1 runs in-process; N > 1 maps batches on N processes (the checks must pickle and have
    ``pure_map``; if not, the run stays in-process); None decides by input size (see the module docstring).
    Returns ``{check.name: check.finalize(merged_state)}``.
    """

    def __init__(self, seed: int = 0, quiet: bool = True, label: str = "auditing", workers: int | None = None,
                 **_ignored):
        self.seed = seed
        self.quiet = quiet
        self.label = label
        self.workers = workers
        self.rows = 0
        self.used_workers = 1

    def run(self, source, checks: Sequence[Check], flags_path=None,
            keep_input_columns: bool = True, total_rows: int | None = None) -> dict:
        """``source``: a :class:`~artifactlens.io.DataSource` or any iterable of record batches."""
        batches: Iterable[pa.RecordBatch] = source.batches() if hasattr(source, "batches") else source
        workers = self.workers if self.workers is not None else auto_workers(source)
        if self.workers is None and "ARTIFACTLENS_WORKERS" not in os.environ \
                and not all(declares_pure_map(c) for c in checks):
            workers = 1  # automatic parallelism only for checks whose authors declared their map pure
        blob = _pickled(checks) if workers > 1 and all(c.pure_map for c in checks) else None
        self.used_workers = workers if blob is not None else 1
        if self.used_workers == 1:
            for c in checks:
                c.setup()
            mapped = self._sequential(batches, checks)
        else:
            mods = sorted({type(c).__module__ for c in checks if type(c).__module__.startswith("artifactlens.")})
            mapped = self._pooled(batches, blob, self.used_workers, mods)
        prog = _progress(total_rows, self.quiet, self.label)
        task = prog.add_task(self.label, total=total_rows) if prog else None
        if prog:
            prog.start()
        try:
            with Accumulator(checks, flags_path, keep_input_columns, self.seed) as acc:
                for batch, outputs in mapped:
                    acc.add(batch, outputs)
                    if prog:
                        prog.update(task, advance=batch.num_rows)
        finally:
            if prog:
                prog.stop()
            close = getattr(mapped, "close", None)
            if close:
                close()
        self.rows = acc.rows
        return acc.results()

    def _contexts(self, batches) -> Iterator[tuple[pa.RecordBatch, BatchContext]]:
        offset = 0
        for i, batch in enumerate(batches):
            yield batch, BatchContext(batch_index=i, row_offset=offset, seed=self.seed)
            offset += batch.num_rows

    def _sequential(self, batches, checks):
        for batch, ctx in self._contexts(batches):
            yield batch, map_batch(checks, batch, ctx)

    def _pooled(self, batches, blob: bytes, workers: int, preload: Sequence[str] = ()):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor
        window = 2 * workers  # batches in flight: bounded memory, workers never idle on a slow reader
        mp_ctx = mp.get_context("forkserver")
        # the package's check modules are imported once, in the fork server (when it starts), not in every
        # worker (~1 s CPU each)
        mp_ctx.set_forkserver_preload(["__main__", *preload])
        _start_forkserver()
        with ProcessPoolExecutor(workers, mp_context=mp_ctx, initializer=_worker_init,
                                 initargs=(blob, os.getpid(), self.quiet)) as pool:
            pending: deque = deque()
            try:
                for batch, ctx in self._contexts(batches):
                    pending.append((batch, pool.submit(_worker_map, batch, ctx)))
                    if len(pending) >= window:
                        b, fut = pending.popleft()
                        yield b, fut.result()
                while pending:
                    b, fut = pending.popleft()
                    yield b, fut.result()
            finally:
                for _, fut in pending:
                    fut.cancel()


def _pickled(checks: Sequence[Check]) -> bytes | None:
    try:
        return pickle.dumps(list(checks))
    except Exception:  # lambdas, open models...: run in-process instead
        return None


_WORKER_CHECKS: list[Check] = []
# one process per core: no thread oversubscription (Polars and BLAS read these when imported)
_WORKER_ENV = {"OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "POLARS_MAX_THREADS": "1"}


def _start_forkserver() -> None:
    """Start the fork server (if not running) with :data:`_WORKER_ENV`, so the modules it preloads set
    their thread pools for one process per core; this process's environment is left as it was."""
    from multiprocessing import forkserver
    added = [k for k in _WORKER_ENV if k not in os.environ]
    os.environ.update({k: _WORKER_ENV[k] for k in added})
    try:
        forkserver.ensure_running()
    finally:
        for k in added:
            del os.environ[k]


def _exit_with_parent(parent: int) -> None:
    """A worker ends when the process that started the pool is gone (even after its SIGKILL, when no
    shutdown reaches the pool): a daemon thread checks once a second."""
    import threading
    import time

    def watch():
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(1)
            except OSError:
                pass
    threading.Thread(target=watch, name="artifactlens-parent-watch", daemon=True).start()


def _worker_init(blob: bytes, parent: int | None = None, quiet: bool = False) -> None:
    if parent is not None:
        _exit_with_parent(parent)
    if quiet:  # --quiet: a worker (which lives only for this run) prints no library warning or log line
        import logging
        import warnings
        warnings.simplefilter("ignore")
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
    os.environ.update({k: os.environ.get(k, v) for k, v in _WORKER_ENV.items()})
    _WORKER_CHECKS[:] = pickle.loads(blob)
    for c in _WORKER_CHECKS:
        c.setup()


def _worker_map(batch: pa.RecordBatch, ctx: BatchContext) -> list[MapOutput]:
    return map_batch(_WORKER_CHECKS, batch, ctx)


def _append_columns(batch: pa.RecordBatch | None, cols: dict[str, pa.Array], n: int) -> pa.RecordBatch:
    arrays, names = [], []
    if batch is not None:
        arrays.extend(batch.columns)
        names.extend(batch.schema.names)
    for k, v in cols.items():
        if k in names:  # an input column with the same name: keep both, output prefixed
            k = f"al_{k}"
        arrays.append(v)
        names.append(k)
    return pa.RecordBatch.from_arrays(arrays, names=names)
