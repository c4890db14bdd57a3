"""The audit contract: every audit is an :class:`Audit` subclass registered by kind.

An audit declares, as class attributes::

    @register
    class LabelsAudit(Audit):
        kind = "labels"                       # the CLI kind, written once
        help = "one line for `artifactlens audit --help`"
        examples = "examples:\\n  artifactlens audit labels ..."
        Options = LabelOptions                # a dataclass: the audit's own options, named as on its CLI
        metrics = MetricTable((MetricSpec("minority_erasure_rate", worse=HIGHER_IS_WORSE, warn=.3, bad=.5,
                                          headline=True), ...))
        demo = ("labels.csv", {"text": "text", "human": "human", "llm": "llm"})

        @classmethod
        def add_arguments(cls, parser): ...   # its own CLI flags (dest = the Options field names)

        def compute(self, data, options, ctx) -> AuditResult: ...   # read -> checks on ctx.engine() -> result

and inherits :meth:`Audit.run`, which is final: it validates the options, calls ``compute`` with a
:class:`~.options.RunContext`, then applies the metric table (descriptions, lights, headline, the rule
findings) and records the run options in ``params``. ``run`` writes nothing: JSON, HTML and history are
written by :mod:`artifactlens.outputs`, one module above the audits, called by the CLI, the gate and the
demo. Row flags are :class:`~artifactlens.engine.base.Detector` objects (one ``decide`` rule each).
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from .._version import __version__
from ..errors import InputError
from ..quiet import quiet_run
from ..result import AuditResult
from .options import RUN_OPTION_NAMES, RunContext, RunOptions
from .rules import MetricTable

_REGISTRY: dict[str, type["Audit"]] = {}


def register(cls: type["Audit"]) -> type["Audit"]:
    """Class decorator: make ``cls`` the audit for ``cls.kind``."""
    if not cls.kind or not cls.kind.isidentifier():
        raise TypeError(f"{cls.__name__}.kind must be an identifier, got {cls.kind!r}")
    if not dataclasses.is_dataclass(cls.Options):
        raise TypeError(f"{cls.__name__}.Options must be a dataclass")
    clash = set(f.name for f in dataclasses.fields(cls.Options)) & set(RUN_OPTION_NAMES)
    if clash:
        raise TypeError(f"{cls.__name__}.Options repeats run options {sorted(clash)}: they live in RunOptions")
    other = _REGISTRY.get(cls.kind)
    if other is not None and other.__qualname__ != cls.__qualname__:
        raise TypeError(f"audit kind {cls.kind!r} registered twice ({other.__name__}, {cls.__name__})")
    _REGISTRY[cls.kind] = cls
    return cls


def registered() -> dict[str, type["Audit"]]:
    """The audits registered so far (importing an audit package's ``spec`` registers it); the discovering
    registry the CLI and the API use is :func:`artifactlens.api.registry`, one layer above the audits."""
    return dict(_REGISTRY)


class Audit(ABC):
    """Base of every audit. Subclasses set the class attributes above and implement ``add_arguments``
    and ``compute``; ``run`` is inherited and may not be overridden."""

    kind: ClassVar[str] = ""
    help: ClassVar[str] = ""
    examples: ClassVar[str] = ""
    Options: ClassVar[type] = None  # type: ignore[assignment]
    metrics: ClassVar[MetricTable] = MetricTable()
    #: (file shipped in artifactlens/data/demo/, options) for ``artifactlens demo``; None: no demo
    demo: ClassVar[tuple[str, dict] | None] = None
    #: the name of the positional data argument on the CLI (None where the audit's flags name its inputs)
    data_argument: ClassVar[str | None] = "file"

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if "run" in cls.__dict__:
            raise TypeError(f"{cls.__name__} overrides Audit.run; implement compute() instead")

    # -- options --------------------------------------------------------------------------------------
    @classmethod
    @abstractmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Add the audit's own CLI flags; each ``dest`` is a field of ``Options``."""

    @classmethod
    def options_from_args(cls, args: argparse.Namespace):
        """The ``Options`` from parsed CLI flags (fields taken by name). Override to convert values."""
        return cls.Options(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls.Options)
                              if hasattr(args, f.name)})

    @classmethod
    def data_from_args(cls, args: argparse.Namespace):
        return getattr(args, cls.data_argument) if cls.data_argument else None

    @classmethod
    def make_options(cls, options=None, **kw):
        """``Options`` from an instance, a dict or keywords; an unknown or misspelt option is an
        :class:`InputError` naming it and the known ones."""
        if options is not None and kw:
            raise InputError("pass the audit's options either as an Options object or as keywords, not both")
        if isinstance(options, cls.Options):
            return options
        if isinstance(options, dict):
            kw = options
        elif options is not None:
            raise InputError(f"options for {cls.kind} must be {cls.Options.__name__} or a dict, got "
                             f"{type(options).__name__}")
        names = [f.name for f in dataclasses.fields(cls.Options)]
        unknown = [k for k in kw if k not in names]
        if unknown:
            hint = " (a run option: pass it in run=RunOptions(...))" if unknown[0] in RUN_OPTION_NAMES else ""
            raise InputError(f"the {cls.kind} audit has no option {unknown[0]!r}{hint}",
                             expected=f"options among: {', '.join(names)}")
        return cls.Options(**kw)

    # -- the work -------------------------------------------------------------------------------------
    @abstractmethod
    def compute(self, data, options, ctx: RunContext) -> AuditResult:
        """Read ``data``, run the checks on ``ctx.engine(...)``, build and return the result."""

    def run(self, data=None, options=None, run: RunOptions | None = None, **kw) -> AuditResult:
        """Audit ``data`` (a path, a pandas DataFrame, a pyarrow Table or a ``datasets.Dataset``) with the
        audit's ``options`` (an ``Options``, a dict, or keywords) and the common ``run`` options."""
        run = run if run is not None else RunOptions()
        if not isinstance(run, RunOptions):
            raise InputError(f"run must be RunOptions, got {type(run).__name__}")
        opts = self.make_options(options, **kw)
        with as_path(data, run) as path, quiet_run(run.quiet):  # --quiet: no library warning, log line or bar
            ctx = RunContext(run=run, kind=self.kind, key=run_key(self.kind, path, opts, run))
            result = self.compute(path, opts, ctx)
        if getattr(opts, "title", None):  # an Options field ``title`` names the result (a merged report's sections)
            result.title = opts.title
        self.apply_metric_table(result)
        result.params["run"] = run.record()
        result.params.setdefault("seed", run.seed)
        return result

    # -- the metric table -----------------------------------------------------------------------------
    def apply_metric_table(self, result: AuditResult) -> None:
        """Lights (``params['thresholds']``), descriptions, groups and the headline from ``metrics``, and
        one finding per metric past its 'bad' rule that no finding of the audit names; sections too."""
        table = self.metrics
        for r in [result, *result.sections]:
            th = dict(r.params.get("thresholds") or {})
            for name, m in r.metrics.items():
                spec = table.spec(name)
                if spec is None:
                    continue
                entry = spec.thresholds_entry()
                if entry is not None:
                    th[name] = entry
                if spec.description and not m.description:
                    m.description = spec.description
                if spec.group and m.group is None:
                    m.group = spec.group
            if th:
                r.params["thresholds"] = th
            if not r.headline:
                r.headline = [n for n in table.headline() if n in r.metrics and r.metrics[n].value is not None]
            named = {f.metric for f in r.findings if f.metric}
            for name, m in r.metrics.items():
                spec = table.spec(name)
                if spec is None or name in named or spec.light(m.value) != "bad":
                    continue
                rule = spec.rules()["bad"]
                r.add_finding("warning", f"{name} = {m.value:.3g} is past its 'bad' mark ({rule}): "
                                         f"{m.description or spec.description}", name)


@contextlib.contextmanager
def as_path(data, run: RunOptions):
    """A path for ``data``: a path as it is; a pandas DataFrame, pyarrow Table or ``datasets.Dataset``
    written once to a temporary Parquet file (removed after the run)."""
    if data is None or isinstance(data, (str, os.PathLike)):
        yield data
        return
    import pyarrow as pa
    import pyarrow.parquet as pq
    table = None
    if isinstance(data, pa.Table):
        table = data
    elif isinstance(data, pa.RecordBatch):
        table = pa.Table.from_batches([data])
    elif type(data).__module__.startswith("pandas") and hasattr(data, "columns"):
        table = pa.Table.from_pandas(data, preserve_index=False)
    elif hasattr(data, "data") and type(data).__module__.startswith("datasets"):
        table = data.data.table if hasattr(data.data, "table") else pa.table(data.to_dict())
    elif isinstance(data, (list, tuple)) and all(isinstance(x, (str, os.PathLike)) for x in data):
        yield data
        return
    if table is None:
        raise InputError(f"cannot read data of type {type(data).__name__}",
                         expected="a path, a pandas DataFrame, a pyarrow Table or a datasets.Dataset")
    with tempfile.TemporaryDirectory(prefix="artifactlens-") as d:
        p = Path(d) / "data.parquet"
        pq.write_table(table, p)
        yield str(p)


def run_key(kind: str, path, options, run: RunOptions) -> str:
    """Checkpoint key of one run: kind, the input files' sha256, the options, what of the run options can
    change a figure, and the tool version. Outputs and verbosity aside."""
    from ..io.readers import file_sha256
    paths = path if isinstance(path, (list, tuple)) else [path]
    shas = []
    for p in paths:
        if p is not None and Path(p).is_file():
            shas.append(file_sha256(Path(p)))
    opts = {}
    for f in dataclasses.fields(options):
        v = getattr(options, f.name)
        if isinstance(v, (str, os.PathLike)) and Path(v).is_file():
            v = ("file", file_sha256(Path(v)))
        opts[f.name] = repr(v)
    blob = json.dumps({"kind": kind, "inputs": shas, "options": opts, "run": run.record(),
                       "version": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]
