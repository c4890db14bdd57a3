"""The Ray Data engine: the same checks, mapped by ``ray.data`` on a local Ray instance or a cluster.

Wraps ``ray.data.from_arrow_refs(...).map_batches(<actor class>, concurrency=N)``: each actor unpickles
the checks and calls ``Check.setup`` once (models load once per worker), then maps whole input batches.
Each batch travels with two tag columns (its index and first row) so an actor builds the same
:class:`BatchContext` the local engine would. The actor returns the batch's map outputs pickled into one
cell (and, when a flags file is written, the input rows beside it); the driver takes results back in
input order (``preserve_order``), merges states in input order and streams rows to the flags file through
the local engine's :class:`~.local.Accumulator`, so metrics and flags are identical to the local run.

The input is read by this process (the same readers, errors and schema as the local engine) and sent
to the object store ``window`` batches at a time, one dataset per window (default 512 batches, about 4M
rows at the default batch size; each window's actor pool sets the checks up once; Ray spills the object
store to disk before memory runs out). ``address`` joins a running cluster (``--ray-address``); otherwise a local Ray starts
with ``workers`` CPUs (default: all cores).
"""
from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import socket
import threading
import warnings
from typing import Sequence

import numpy as np
import pyarrow as pa

from .base import BatchContext, Check
from .local import Accumulator, has_sequential_step, map_batch
from ..errors import InputError, MissingDependency

_BATCH, _OFFSET, _OUT = "__al_batch", "__al_offset", "__al_out"


class _MapActor:
    """One per Ray worker: holds the checks (set up once) and maps the batches it is given."""

    def __init__(self, blob: bytes, seed: int, with_rows: bool):
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        self.checks: list[Check] = pickle.loads(blob)
        for c in self.checks:
            c.setup()
        self.seed = seed
        self.with_rows = with_rows

    def __call__(self, table: pa.Table) -> pa.Table:
        parts = []
        idx = table.column(_BATCH).to_numpy()
        # a block holds one input batch; split defensively should Ray ever bundle two
        for b in np.unique(idx):
            rows = np.flatnonzero(idx == b)
            part = table.take(pa.array(rows)) if len(rows) != table.num_rows else table
            offset = int(part.column(_OFFSET)[0].as_py())
            batch = part.drop_columns([_BATCH, _OFFSET]).combine_chunks().to_batches()[0]
            ctx = BatchContext(batch_index=int(b), row_offset=offset, seed=self.seed)
            out = pickle.dumps((batch.num_rows, map_batch(self.checks, batch, ctx)))
            if self.with_rows:
                cell = pa.array([out] + [None] * (batch.num_rows - 1), type=pa.binary())
                parts.append(pa.Table.from_batches([batch]).append_column(_BATCH, pa.array(np.full(batch.num_rows, b)))
                             .append_column(_OUT, cell))
            else:
                parts.append(pa.table({_BATCH: [int(b)], _OUT: pa.array([out], type=pa.binary())}))
        return pa.concat_tables(parts, promote_options="permissive") if len(parts) > 1 else parts[0]


#: seconds the loopback probe may take (bind, connect, accept on 127.0.0.1)
LOOPBACK_TIMEOUT_S = 3.0
#: seconds ``ray.init`` may take before the run stops with "Ray cannot start" (a local start takes ~15 s
#: on two busy cores; joining a cluster less)
INIT_TIMEOUT_S = 120.0


def loopback_problem(timeout: float = LOOPBACK_TIMEOUT_S) -> str | None:
    """Why a local TCP server on 127.0.0.1 cannot be bound and reached within ``timeout`` seconds (every
    Ray process talks to the others over it), or None when it can. With the loopback interface down,
    ``ray.init`` waits for its own processes forever."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
            srv.settimeout(timeout)
            srv.bind(("127.0.0.1", 0))
            srv.listen(1)
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as cli:
                cli.settimeout(timeout)
                cli.connect(srv.getsockname())
                conn, _ = srv.accept()
                conn.close()
    except OSError as e:  # socket.timeout is an OSError
        why = "it timed out" if isinstance(e, socket.timeout) else (e.strerror or str(e) or type(e).__name__)
        return f"no local connection on 127.0.0.1 ({why}): is the loopback interface down?"
    return None


class _StartTimeout(BaseException):
    """Raised by the alarm inside ``ray.init`` (a BaseException, so Ray's ``except Exception`` keeps out)."""


def _within(seconds: float, fn):
    """``fn()``, stopped by :class:`_StartTimeout` after ``seconds`` (a SIGALRM timer, main thread only:
    ``ray.init`` must run on the main thread). Ctrl-C interrupts it meanwhile (the default SIGINT
    handler is put back for the call if something had set it to ignore)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        return fn()

    def alarm(signum, frame):
        raise _StartTimeout

    old_alarm = signal.signal(signal.SIGALRM, alarm)
    old_int = signal.getsignal(signal.SIGINT)
    if old_int in (signal.SIG_IGN, None):
        signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_alarm)
        if old_int in (signal.SIG_IGN, None):
            signal.signal(signal.SIGINT, old_int if old_int is not None else signal.SIG_DFL)


def actor_pool(ray, size: int) -> dict:
    """``map_batches`` keywords for a pool of ``size`` actors (``compute=``; ``concurrency=`` on older Ray)."""
    try:
        return {"compute": ray.data.ActorPoolStrategy(size=size)}
    except (AttributeError, TypeError):  # older Ray
        return {"concurrency": size}


def ensure_ray(address: str | None = None, workers: int | None = None, quiet: bool = True,
               init_timeout_s: float | None = None):
    """Connect to ``address`` or start a local Ray (``workers`` CPUs); reuse one already running.

    Before starting, :func:`loopback_problem` checks the local network Ray needs; ``ray.init`` itself is
    bounded by ``init_timeout_s``. Either failing is one :class:`InputError` ("Ray cannot start: ..."),
    in bounded time, never a hang."""
    try:
        import ray
    except ImportError as e:
        raise MissingDependency("ray", extra="ray", purpose="--engine ray") from e
    if not ray.is_initialized():
        init_timeout_s = INIT_TIMEOUT_S if init_timeout_s is None else init_timeout_s
        problem = loopback_problem()
        if problem:
            raise InputError(f"Ray cannot start: {problem}", expected="a working loopback (ip link set lo up), "
                             "or --engine local")
        kw = dict(include_dashboard=False, ignore_reinit_error=True, log_to_driver=not quiet,
                  logging_level=logging.ERROR if quiet else logging.WARNING)
        address = address or os.environ.get("RAY_ADDRESS")
        start = (lambda: ray.init(address=address, **kw)) if address else \
            (lambda: ray.init(num_cpus=workers or os.cpu_count(), **kw))
        try:
            _within(init_timeout_s, start)
        except _StartTimeout:
            with contextlib.suppress(_StartTimeout, Exception):  # what it had started, bounded too
                _within(10.0, ray.shutdown)
            where = f"joining {address}" if address else "starting a local Ray"
            raise InputError(f"Ray cannot start: {where} took more than {init_timeout_s:g} s",
                             expected="a reachable Ray (check --ray-address and the network), or --engine local"
                             ) from None
        except ConnectionError as e:  # an address where no cluster answers
            raise InputError(f"Ray cannot start: {str(e).splitlines()[0] if str(e) else type(e).__name__}",
                             expected="a reachable Ray (check --ray-address), or --engine local") from None
    from ray.data import DataContext
    ctx = DataContext.get_current()
    ctx.execution_options.preserve_order = True
    with ray_output(quiet):
        ctx.enable_progress_bars = not quiet
    if hasattr(ctx, "print_on_execution_start"):
        ctx.print_on_execution_start = not quiet
    return ray


@contextlib.contextmanager
def ray_output(quiet: bool):
    """What Ray prints in this process during the block: with ``quiet`` nothing below an error (its
    loggers at ERROR, its warnings ignored), else Ray Data's progress lines (INFO). The loggers' levels
    and the warning filters are put back afterwards."""
    with contextlib.suppress(ImportError):  # its import sets up its loggers and warning filters: first
        import ray.data  # noqa: F401
    loggers = [logging.getLogger(n) for n in ("ray", "ray.data")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR if quiet else logging.INFO if lg.name == "ray.data" else lg.level)
    try:
        with warnings.catch_warnings():
            if quiet:
                warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


class RayEngine:
    """Run ``checks`` with Ray Data; same signature and same results as :class:`~.local.LocalEngine`.

    ``workers``: actors in the pool (default: the cluster's CPUs); ``address``: an existing cluster;
    ``window``: batches sent to the object store per dataset.
    """

    def __init__(self, seed: int = 0, quiet: bool = True, label: str = "auditing", workers: int | None = None,
                 address: str | None = None, ray_address: str | None = None, window: int = 512, **_ignored):
        self.seed = seed
        self.quiet = quiet
        self.label = label
        self.workers = workers
        self.address = address or ray_address or os.environ.get("ARTIFACTLENS_RAY_ADDRESS")
        self.window = window
        self.rows = 0

    def run(self, source, checks: Sequence[Check], flags_path=None,
            keep_input_columns: bool = True, total_rows: int | None = None) -> dict:
        impure = [c.name for c in checks if not c.pure_map]
        if impure:
            raise InputError(f"the check '{impure[0]}' keeps state from one batch to the next (pure_map=False), "
                             "so it cannot be spread over workers", expected="--engine local for this audit")
        with ray_output(self.quiet):
            return self._run(source, checks, flags_path, keep_input_columns)

    def _run(self, source, checks, flags_path, keep_input_columns) -> dict:
        ray = ensure_ray(self.address, self.workers, self.quiet)
        batches = source.batches() if hasattr(source, "batches") else source
        workers = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        expands = any(getattr(c, "expands_rows", False) for c in checks)  # their rows come from map alone
        with_rows = (bool(flags_path) and keep_input_columns and not expands) or any(has_sequential_step(c)
                                                                                    for c in checks)
        blob = pickle.dumps(list(checks))
        with Accumulator(checks, flags_path, keep_input_columns, self.seed) as acc:
            offset, index, window = 0, 0, []
            for batch in batches:
                n = batch.num_rows
                tagged = batch.append_column(_BATCH, pa.array(np.full(n, index, dtype=np.int64))) \
                              .append_column(_OFFSET, pa.array(np.full(n, offset, dtype=np.int64)))
                window.append(ray.put(pa.Table.from_batches([tagged])))
                offset, index = offset + n, index + 1
                if len(window) >= self.window:
                    self._run_window(ray, window, blob, workers, with_rows, acc)
                    window = []
            if window:
                self._run_window(ray, window, blob, workers, with_rows, acc)
        self.rows = acc.rows
        return acc.results()

    def _run_window(self, ray, refs, blob, workers, with_rows, acc: Accumulator) -> None:
        pool = actor_pool(ray, min(workers, len(refs)))
        ds = ray.data.from_arrow_refs(refs).map_batches(
            _MapActor, fn_constructor_args=(blob, self.seed, with_rows), batch_size=None, batch_format="pyarrow",
            zero_copy_batch=True, num_cpus=1, max_restarts=0, **pool)
        for out in ds.iter_batches(batch_size=None, batch_format="pyarrow", prefetch_batches=2):
            idx = out.column(_BATCH).to_numpy()
            cells = out.column(_OUT)
            starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
            ends = np.r_[starts[1:], len(idx)]
            for s, e in zip(starts, ends):
                n, outputs = pickle.loads(cells[int(s)].as_py())
                batch = None
                if with_rows:
                    batch = out.slice(s, e - s).drop_columns([_BATCH, _OUT]).combine_chunks().to_batches()[0]
                acc.add(batch, outputs, n)
