"""Per-batch checkpoints, so an interrupted long run resumes where it stopped (``--resume DIR``).

Layout: ``DIR/<key>/`` where ``key`` = sha256 of (input sha256, the audit's params, the checks' names,
the batch size, the tool version): a different input or different options never reuse a checkpoint.
Inside: ``part-<i>.parquet`` (batch i's flags rows, exactly what the flags file gets) and ``state.npz``
(the merged check states and the checks' own plain attributes after the first ``batches`` batches, with
the rows count and the key). Every file is written to a temporary name, then renamed, state last: a
crash leaves the previous consistent state.

:class:`ResumableEngine` runs like :class:`~artifactlens.engine.LocalEngine` (in-process, same
:class:`~artifactlens.engine.local.Accumulator`, so the same merge order and bytes). On resume it reads
and drops the finished batches (a stream cannot seek; reading is cheap next to mapping), copies their
saved flags parts into the flags file, restores the states and maps only the rest. When the run
finishes the checkpoint folder is removed.

States are written as plain data (:mod:`artifactlens.plain`: a JSON tree plus numpy ``.npy`` arrays in
one ``.npz``, read with ``allow_pickle=False``; classes only by registered name), never pickled, so a
checkpoint cannot run code, whoever wrote it. A checkpoint is used only if it names this run's key, its
rows count matches the input batches it claims to cover, every flags part it needs is there and every
restored check attribute has the type the check already holds. Anything else (tampered, foreign,
truncated, from an older version) is ignored with one line on stderr, and the run starts over (the
checkpoint is only a shortcut). Check attributes that are not plain data (detectors, models, taggers) are
the check's configuration, built again from the same options (the key binds them); state that a check
keeps between batches must be plain data or a registered state type (as the deduplicator's is).
"""
from __future__ import annotations

import contextlib
import contextvars
import hashlib
import io
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Iterable, Sequence

import pyarrow as pa

from .base import BatchContext, Check
from .local import Accumulator, LocalEngine, map_batch
from .. import plain
from ..errors import safe_text
from ..io.writers import atomic_write_bytes

STATE_EVERY_S = 30.0  # seconds between state snapshots (flags parts are saved for every batch)
SAVE_SHARE_INVERSE = 10  # ... or 10x the time the last snapshot took, whichever is longer
STATE_FILE = "state.npz"


class UnusableCheckpoint(ValueError):
    """A checkpoint that does not belong to this run, or is not one this version wrote."""


def checkpoint_key(input_sha256: str, params: dict, checks: Sequence[Check], batch_size: int | None = None) -> str:
    from .._version import __version__
    spec = {"input": input_sha256, "params": params, "checks": [c.name for c in checks],
            "batch_size": batch_size, "version": __version__}
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:32]


class CheckpointStore:
    """The checkpoint folder of one run (``root/key``)."""

    def __init__(self, root, key: str):
        self.key = key
        self.dir = Path(root) / key
        self.dir.mkdir(parents=True, exist_ok=True)
        #: why the last :meth:`load_state` found no usable state (None: there was none)
        self.refused: str | None = None

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
        arrays: list = []
        states = plain.try_encode(acc.states, arrays)  # a state that is not plain data is a bug: it raises
        tree = plain.tagged_dict({"key": self.key, "batches": acc.batches, "rows": acc.rows, "states": states,
                                  "checks": [_check_attrs(c, arrays) for c in checks]})
        atomic_write_bytes(self.dir / STATE_FILE, plain.dumps_tree(tree, arrays))

    def load_state(self) -> dict | None:
        """``{"key", "batches", "rows", "states", "checks"}`` of the last snapshot, or None (none, or
        unusable: then :attr:`refused` says why)."""
        self.refused = None
        path = self.dir / STATE_FILE
        if not path.exists():
            return None
        try:
            saved = plain.loads(path.read_bytes())
            if type(saved) is not dict or not {"key", "batches", "rows", "states", "checks"} <= set(saved):
                raise UnusableCheckpoint("it is not a checkpoint state")
            if saved["key"] != self.key:
                raise UnusableCheckpoint("it belongs to another run (its key differs)")
            b, r = saved["batches"], saved["rows"]
            if type(b) is not int or type(r) is not int or b < 0 or r < 0 or type(saved["states"]) is not dict \
                    or type(saved["checks"]) is not list:
                raise UnusableCheckpoint("its counts or states are malformed")
            missing = next((i for i in range(b) if not self.part_path(i).exists()), None)
            if missing is not None:
                raise UnusableCheckpoint(f"the flags part of batch {missing} is missing")
            return saved
        except (plain.NotPlain, UnusableCheckpoint) as e:
            self.refused = str(e)
        except Exception as e:  # noqa: BLE001 - a registered class refusing its fields, a broken Arrow stream
            self.refused = f"{type(e).__name__}: {e}"
        return None

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _check_attrs(c: Check, arrays: list) -> dict:
    """A check's own attributes that are plain data (a deduplicator's seen keys, a count kept in
    ``sequential``), encoded, to restore on resume; the rest is configuration, built again."""
    out = {}
    for k, v in vars(c).items():
        try:
            out[k] = plain.try_encode(v, arrays)
        except plain.NotPlain:
            continue
    return plain.tagged_dict(out)


def verified_attrs(checks: Sequence[Check], saved: list) -> list[dict]:
    """The saved attributes of each check, checked against the checks of this run: as many checks, and
    only attributes each already has, of the type it already holds (else :class:`UnusableCheckpoint`)."""
    if len(saved) != len(checks):
        raise UnusableCheckpoint(f"it holds {len(saved)} checks, this run has {len(checks)}")
    out = []
    for c, attrs in zip(checks, saved):
        if type(attrs) is not dict or not all(type(k) is str for k in attrs):
            raise UnusableCheckpoint(f"the attributes of check '{c.name}' are malformed")
        have = vars(c)
        for k, v in attrs.items():
            if k not in have or type(have[k]) is not type(v):
                raise UnusableCheckpoint(f"check '{c.name}' has no attribute '{k}' of type {type(v).__name__}")
        out.append(attrs)
    return out


def _refused_line(store: CheckpointStore, why: str) -> None:
    print(safe_text(f"artifactlens: ignoring the checkpoint in {store.dir}: {why}; starting over",
                    newlines=False), file=sys.stderr)


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
        self.snapshots = True  # False once a state could not be written as plain data


    def run(self, source, checks: Sequence[Check], flags_path=None, keep_input_columns: bool = True,
            total_rows: int | None = None) -> dict:
        batches: Iterable[pa.RecordBatch] = source.batches() if hasattr(source, "batches") else source
        for c in checks:
            c.setup()
        saved = self._usable(self.store.load_state(), checks)
        done = saved["batches"] if saved else 0
        it = iter(batches)
        skipped: list[pa.RecordBatch] = []  # the finished batches, read (a stream cannot seek) to check the count
        for _ in range(done):
            b = next(it, None)
            if b is None:
                break
            skipped.append(b)
        rows = sum(b.num_rows for b in skipped)
        if saved and (len(skipped) != done or rows != saved["rows"]):
            _refused_line(self.store, f"it covers {saved['rows']} rows in {done} batches, the input has "
                                      f"{rows} rows in its first {len(skipped)}")
            saved, done = None, 0
        self.resumed_batches = done
        todo = _chain([] if saved else skipped, it)
        del skipped
        with Accumulator(checks, flags_path, keep_input_columns, self.seed) as acc:
            tee = acc.writer = _Tee(acc.writer)
            if saved:
                for i in range(done):  # their flags rows come from the parts
                    if tee.writer is not None:
                        tee.writer.write(self.store.load_part(i))
                acc.states, acc.rows, acc.batches = saved["states"], saved["rows"], done
                for c, attrs in zip(checks, saved["attrs"]):
                    vars(c).update(attrs)
            last, every = time.monotonic(), self.state_every_s
            for batch in todo:
                ctx = BatchContext(batch_index=acc.batches, row_offset=acc.rows, seed=self.seed)
                acc.add(batch, map_batch(checks, batch, ctx))
                self.store.save_part(acc.batches - 1, tee.last if tee.last is not None else batch.slice(0, 0))
                if self.snapshots and time.monotonic() - last >= every:
                    took = time.monotonic()
                    self._snapshot(acc, checks)
                    last = time.monotonic()
                    # a large state (a labels run keeps 200,000 items) costs seconds to write: snapshot
                    # no more often than every 10 such writes, so they take at most ~10% of the run
                    # (state_every_s=0: after every batch, as asked)
                    if self.state_every_s:
                        every = max(self.state_every_s, SAVE_SHARE_INVERSE * (last - took))
        self.rows = acc.rows
        out = acc.results()
        self.store.remove()
        return out

    def _snapshot(self, acc: Accumulator, checks: Sequence[Check]) -> None:
        """Save the states; a state that is not plain data stops the snapshots of this pass (said once:
        its flags parts are kept, a rerun maps it again) instead of the run."""
        try:
            self.store.save_state(acc, checks)
        except plain.NotPlain as e:
            self.snapshots = False
            print(safe_text(f"artifactlens: --resume cannot save this pass's state ({e}); an interrupted run "
                            "will map it again", newlines=False), file=sys.stderr)

    def _usable(self, saved: dict | None, checks: Sequence[Check]) -> dict | None:
        """The loaded state with its check attributes verified (``saved["attrs"]``), or None (said once)."""
        if saved is None:
            if self.store.refused:
                _refused_line(self.store, self.store.refused)
            return None
        try:
            return {**saved, "attrs": verified_attrs(checks, saved["checks"])}
        except UnusableCheckpoint as e:
            _refused_line(self.store, str(e))
            return None


def _chain(first, rest):
    yield from first
    yield from rest


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
