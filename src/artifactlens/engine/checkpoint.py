"""Per-batch checkpoints, so an interrupted long run resumes where it stopped (``--resume DIR``).

Layout: ``DIR/<key>/`` where ``key`` = sha256 of (input sha256, the audit's params, the checks' names,
the batch size, the tool version): a different input or different options never reuse a checkpoint.
Inside: ``part-<i>.parquet`` (batch i's flags rows, exactly what the flags file gets), and
``state.pkl`` + ``state.json`` (the merged check states and the checks' own attributes after the first
``batches`` batches, with the rows count). Every file is written to a temporary name, then renamed,
state last: a crash leaves the previous consistent state.

:class:`ResumableEngine` runs like :class:`~artifactlens.engine.LocalEngine` (in-process, same
:class:`~artifactlens.engine.local.Accumulator`, so the same merge order and bytes). On resume it reads
and drops the finished batches (a stream cannot seek; reading is cheap next to mapping), copies their
saved flags parts into the flags file, restores the states and maps only the rest. When the run
finishes the checkpoint folder is removed.

States are saved with :mod:`pickle` (they are arbitrary Python: Counters, bootstrap sums, arrays) and
read back with a restricted unpickler that only rebuilds numpy arrays, plain containers and classes
defined in ``artifactlens``, ``collections`` and ``datasketch``: a tampered checkpoint cannot run code.
Anything else fails the load, and the run starts over (the checkpoint is only a shortcut).
"""
from __future__ import annotations

import contextlib
import contextvars
import hashlib
import io
import json
import os
import pickle
import shutil
import time
from pathlib import Path
from typing import Iterable, Sequence

import pyarrow as pa

from .base import BatchContext, Check
from .local import Accumulator, LocalEngine, map_batch
from ..io.writers import atomic_write_bytes

STATE_EVERY_S = 30.0  # seconds between state snapshots (flags parts are saved for every batch)

_SAFE_BUILTINS = {"set", "frozenset", "dict", "list", "tuple", "complex", "slice", "range", "bytearray",
                  "bytes", "int", "float", "str", "bool"}
_SAFE_NAMES = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
               ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("copyreg", "_reconstructor")}
_SAFE_CLASS_MODULES = ("artifactlens.", "collections", "datasketch.", "numpy.dtypes")


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module == "builtins" and name in _SAFE_BUILTINS:
            return super().find_class(module, name)
        if (module, name) in _SAFE_NAMES:
            return super().find_class(module, name)
        if module.startswith(_SAFE_CLASS_MODULES) or module == "collections":
            obj = super().find_class(module, name)
            if isinstance(obj, type):  # classes only: no module-level functions
                return obj
        raise pickle.UnpicklingError(f"checkpoint refers to {module}.{name}, which it may not load")


def safe_loads(data: bytes):
    """Unpickle a checkpoint state (restricted: see the module docstring)."""
    return _RestrictedUnpickler(io.BytesIO(data)).load()


def checkpoint_key(input_sha256: str, params: dict, checks: Sequence[Check], batch_size: int | None = None) -> str:
    from .._version import __version__
    spec = {"input": input_sha256, "params": params, "checks": [c.name for c in checks],
            "batch_size": batch_size, "version": __version__}
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:32]


class CheckpointStore:
    """The checkpoint folder of one run (``root/key``)."""

    def __init__(self, root, key: str):
        self.dir = Path(root) / key
        self.dir.mkdir(parents=True, exist_ok=True)

    def part_path(self, i: int) -> Path:
        return self.dir / f"part-{i:07d}.parquet"

    def save_part(self, i: int, batch: pa.RecordBatch) -> None:
        import pyarrow.parquet as pq
        buf = io.BytesIO()
        pq.write_table(pa.Table.from_batches([batch]), buf)
        atomic_write_bytes(self.part_path(i), buf.getvalue())

    def load_part(self, i: int) -> pa.RecordBatch:
        import pyarrow.parquet as pq
        t = pq.read_table(self.part_path(i))
        return t.combine_chunks().to_batches()[0] if t.num_rows else pa.RecordBatch.from_pylist([], schema=t.schema)

    def save_state(self, acc: Accumulator, checks: Sequence[Check]) -> None:
        blob = pickle.dumps({"states": acc.states, "checks": [_check_attrs(c) for c in checks]}, protocol=5)
        atomic_write_bytes(self.dir / "state.pkl", blob)
        meta = {"batches": acc.batches, "rows": acc.rows, "sha256": hashlib.sha256(blob).hexdigest()}
        atomic_write_bytes(self.dir / "state.json", json.dumps(meta).encode())

    def load_state(self) -> dict | None:
        """``{"batches", "rows", "states", "checks"}`` of the last snapshot, or None (none, or unusable)."""
        try:
            meta = json.loads((self.dir / "state.json").read_text())
            blob = (self.dir / "state.pkl").read_bytes()
            if hashlib.sha256(blob).hexdigest() != meta["sha256"]:
                return None
            if not all(self.part_path(i).exists() for i in range(meta["batches"])):
                return None
            return {**meta, **safe_loads(blob)}
        except (OSError, ValueError, KeyError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _check_attrs(c: Check) -> dict:
    """A check's own attributes (e.g. a deduplicator's seen hashes), to restore on resume."""
    return dict(vars(c))


class _Tee:
    """Wraps the accumulator's RowWriter to keep the last batch written (saved as the batch's part)."""

    def __init__(self, writer):
        self.writer, self.last = writer, None

    def write(self, batch):
        self.last = batch
        if self.writer is not None:
            self.writer.write(batch)

    def __exit__(self, *exc):
        return self.writer.__exit__(*exc) if self.writer is not None else False


class ResumableEngine(LocalEngine):
    """The local engine (in-process) with per-batch checkpoints in ``root`` under ``key``.

    ``key`` comes from :func:`checkpoint_key` (input sha256 + params); ``state_every_s`` bounds the time
    lost by an interruption (the flags parts are kept for every batch).
    """

    def __init__(self, root, key: str, seed: int = 0, quiet: bool = True, state_every_s: float | None = None,
                 **kw):
        kw.pop("workers", None)  # checkpoints follow the batches in order: in-process
        super().__init__(seed=seed, quiet=quiet, workers=1, **kw)
        self.store = CheckpointStore(root, key)
        self.state_every_s = STATE_EVERY_S if state_every_s is None else state_every_s
        self.resumed_batches = 0

    def run(self, source, checks: Sequence[Check], flags_path=None, keep_input_columns: bool = True,
            total_rows: int | None = None) -> dict:
        batches: Iterable[pa.RecordBatch] = source.batches() if hasattr(source, "batches") else source
        for c in checks:
            c.setup()
        saved = self.store.load_state()
        done = saved["batches"] if saved else 0
        self.resumed_batches = done
        it = iter(batches)
        with Accumulator(checks, flags_path, keep_input_columns, self.seed) as acc:
            tee = acc.writer = _Tee(acc.writer)
            for i in range(done):  # finished batches: read and drop; their flags rows come from the parts
                next(it)
                if tee.writer is not None:
                    tee.writer.write(self.store.load_part(i))
            if saved:
                acc.states, acc.rows, acc.batches = saved["states"], saved["rows"], done
                for c, attrs in zip(checks, saved["checks"]):
                    vars(c).update(attrs)
            last = time.monotonic()
            for batch in it:
                ctx = BatchContext(batch_index=acc.batches, row_offset=acc.rows, seed=self.seed)
                acc.add(batch, map_batch(checks, batch, ctx))
                self.store.save_part(acc.batches - 1, tee.last if tee.last is not None else batch.slice(0, 0))
                if time.monotonic() - last >= self.state_every_s:
                    self.store.save_state(acc, checks)
                    last = time.monotonic()
        self.rows = acc.rows
        out = acc.results()
        self.store.remove()
        return out


# -- the CLI's --resume: get_engine("local") checkpoints every engine run inside ``resume_context`` ----------
_RESUME: contextvars.ContextVar = contextvars.ContextVar("artifactlens_resume", default=None)
OUTPUT_OPTIONS = {"json", "html", "flags", "clean", "store", "resume", "quiet", "verbose", "_audit"}


def run_key(options: dict) -> str:
    """Key of one CLI run: its options (outputs and --resume aside) and the sha256 of each input file."""
    from ..io.readers import file_sha256
    opts = {k: v for k, v in options.items() if k not in OUTPUT_OPTIONS and not callable(v)}
    shas = {k: file_sha256(Path(v)) for k, v in opts.items()
            if isinstance(v, (str, Path)) and str(v) and Path(v).exists()}
    return checkpoint_key(json.dumps(shas, sort_keys=True), {k: repr(v) for k, v in opts.items()}, [])


@contextlib.contextmanager
def resume_context(args):
    """``with resume_context(args): audit.run_cli(...)``: a no-op unless ``args.resume`` names a folder."""
    root = getattr(args, "resume", None)
    if not root:
        yield
        return
    token = _RESUME.set({"root": Path(root), "key": run_key(vars(args)), "runs": 0})
    try:
        yield
    finally:
        _RESUME.reset(token)


def resumable_engine(**kw) -> ResumableEngine | None:
    """The engine ``get_engine("local")`` returns inside :func:`resume_context` (else None); the n-th engine
    run of the audit gets the key ``<run key>-<n>``."""
    ctx = _RESUME.get()
    if ctx is None:
        return None
    ctx["runs"] += 1
    return ResumableEngine(ctx["root"], f"{ctx['key']}-{ctx['runs']}", **kw)
