"""The common run options every audit takes, validated where they enter (scikit-learn style).

:class:`RunOptions` holds how an audit runs, never what it computes: seed, engine, workers, Ray address,
device, batch size, encoding, flags path, resume folder and how much it talks. Nothing here is written to
``os.environ`` or to a context variable; the audit gets it as an argument and passes it on (the engine,
the embedding device). The CLI builds it from its flags (:meth:`RunOptions.from_args`), the gate from
its ``[settings]``, the API from ``run=RunOptions(...)``; each of them gets the same validation and the
same error: an :class:`~artifactlens.errors.InputError` naming the option (exit 2 on the CLI).

:class:`RunContext` is what ``Audit.compute`` receives beside its own options: the run options plus the
engines for this run (the n-th engine of a ``resume`` run gets its own checkpoint key).
"""
from __future__ import annotations

import argparse
import codecs
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..errors import InputError

ENGINES = ("local", "ray")
DEVICES = ("cpu", "cuda", "auto")
MAX_SEED = 2**63 - 1
MAX_BATCH = 10_000_000
MAX_WORKERS = 4096


def _int_option(name: str, value, lo: int, hi: int, none_ok: bool = False):
    if value is None and none_ok:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be an integer, got {value!r}", expected=f"an integer from {lo} to {hi:,}")
    if not lo <= value <= hi:
        raise InputError(f"{name} {value} is out of range", expected=f"an integer from {lo} to {hi:,}")
    return value


@dataclass(frozen=True)
class RunOptions:
    """How an audit runs. ``flags``: write every input row with its flag columns (.parquet, .jsonl, .csv).
    ``resume``: checkpoint every batch in this folder; the same call again goes on where it stopped.
    ``workers``: processes/actors (None: the engine decides by input size). ``device``: where MiniLM
    runs (cpu, cuda, cuda:N, auto)."""

    seed: int = 0
    engine: str = "local"
    workers: int | None = None
    ray_address: str | None = None
    device: str | None = None
    batch_size: int = 8192
    encoding: str = "utf-8"
    flags: str | None = None
    resume: str | None = None
    quiet: bool = True
    verbose: bool = False

    def __post_init__(self):
        _int_option("seed", self.seed, 0, MAX_SEED)
        _int_option("batch_size", self.batch_size, 1, MAX_BATCH)
        _int_option("workers", self.workers, 1, MAX_WORKERS, none_ok=True)
        if self.engine not in ENGINES:
            raise InputError(f"unknown engine {self.engine!r}", expected=" or ".join(ENGINES))
        if self.device is not None:
            d = str(self.device).strip().lower()
            if d not in DEVICES and not (d.startswith("cuda:") and d[5:].isdigit()):
                raise InputError(f"unknown device {self.device!r}", expected="cpu, cuda, cuda:N or auto")
        if not isinstance(self.encoding, str):
            raise InputError(f"encoding must be a name, got {self.encoding!r}", expected="e.g. utf-8 or cp1252")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise InputError(f"unknown encoding {self.encoding!r}", expected="a Python codec name, e.g. utf-8, "
                             "utf-16 or cp1252") from None
        for k in ("flags", "resume", "ray_address"):
            v = getattr(self, k)
            if v is not None and not isinstance(v, (str, Path)):
                raise InputError(f"{k} must be a path or a string, got {v!r}")

    @classmethod
    def from_args(cls, a: argparse.Namespace) -> "RunOptions":
        return cls(**{f.name: getattr(a, f.name) for f in fields(cls) if hasattr(a, f.name)})

    @classmethod
    def from_mapping(cls, d: dict) -> "RunOptions":
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise InputError(f"unknown run option {sorted(unknown)[0]!r}",
                             expected=", ".join(f.name for f in fields(cls)))
        return cls(**d)

    def replace(self, **kw) -> "RunOptions":
        return type(self)(**{**asdict(self), **kw})

    def record(self) -> dict:
        """What goes into ``result.params['run']``: everything that can change a figure or its rows."""
        return {"seed": self.seed, "engine": self.engine, "batch_size": self.batch_size, "encoding": self.encoding,
                "device": self.device or "cpu"}

    def log(self, message: str) -> None:
        """A detail line on stderr, shown with ``verbose`` only."""
        if self.verbose:
            print(f"artifactlens: {message}", file=sys.stderr, flush=True)


RUN_OPTION_NAMES = tuple(f.name for f in fields(RunOptions))


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """The common run flags (every audit); the output flags (--json, --html, --store) come from
    :func:`artifactlens.outputs.add_output_arguments`."""
    g = p.add_argument_group("run options (every audit)")
    g.add_argument("--flags", metavar="OUT", help="write every input row with its flags (.parquet, .jsonl or .csv)")
    g.add_argument("--seed", type=int, default=0, help="seed for bootstrap intervals and splits (default 0)")
    g.add_argument("--engine", choices=list(ENGINES), default="local", help="where checks run (default local)")
    g.add_argument("--workers", type=int, metavar="N", help="worker processes / Ray actors (default: by input size)")
    g.add_argument("--ray-address", metavar="ADDR", help="an existing Ray cluster (with --engine ray)")
    g.add_argument("--device", choices=list(DEVICES), help="where MiniLM embeddings run (default cpu; "
                   "auto = CUDA when torch sees a GPU; float16 there)")
    g.add_argument("--batch-size", type=int, default=8192, help="rows per record batch (default 8192)")
    g.add_argument("--encoding", default="utf-8", help="text encoding of the input (default utf-8)")
    g.add_argument("--resume", metavar="DIR", help="checkpoint every batch in DIR; rerun the same command to go on "
                   "from where an interrupted run stopped (local engine, in-process)")
    g.add_argument("--quiet", action="store_true", help="print nothing but errors (no progress)")
    g.add_argument("--verbose", action="store_true", help="say what is read, computed and written (on stderr)")


@dataclass
class RunContext:
    """What an audit's ``compute`` gets beside its options: ``run`` (the :class:`RunOptions`), ``kind`` and
    ``key`` (this run's checkpoint key: input hashes and options, outputs aside). ``engine(label)`` gives
    the engine for the next pass over the data; every pass of a resumed run has its own checkpoint."""

    run: RunOptions
    kind: str
    key: str = ""
    passes: int = field(default=0)

    def engine(self, label: str | None = None, **kw):
        from ..engine import LocalEngine, get_engine
        from ..engine.checkpoint import ResumableEngine
        self.passes += 1
        r = self.run
        common = {"seed": r.seed, "quiet": r.quiet, "label": label or self.kind}
        if r.engine == "local" and r.resume:
            return ResumableEngine(Path(r.resume), f"{self.key}-{self.passes}", **common, **kw)
        if r.engine == "local":
            kw.setdefault("workers", r.workers)
            return LocalEngine(**common, **kw)
        kw["workers"] = kw.get("workers") or r.workers
        return get_engine("ray", address=r.ray_address, **common, **kw)

    @property
    def seed(self) -> int:
        return self.run.seed

    @property
    def device(self) -> str | None:
        return self.run.device

    def log(self, message: str) -> None:
        self.run.log(message)
