"""``audit_instructions``: find the broken rows of a synthetic instruction set, count them with intervals,
and write the cleaned set.

Config (options, thresholds) -> calculation (:class:`~.check.InstructionCheck` on an engine) ->
rendering (:func:`build_result`: metrics, tables, figures, examples) are kept apart (Evidently style).
"""
from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa

from ...engine import LocalEngine, get_engine
from ...errors import InputError
from ...io.readers import open_source
from ...io.writers import RowWriter
from ...result import AuditResult
from ..common import CommonOptions, input_info
from .check import BUCKETS, REPLICATES, InstructionCheck
from .dedupe import Deduplicator
from .detectors import ERROR_TYPES, REGISTRY
from .detectors.completeness import fit_sample
from .layouts import detect_layout, normalise

ERROR_RATE_LIGHTS = {"warn": 0.10, "bad": 0.25, "higher_is_worse": True}


def build_detectors(embeddings: bool = True, thresholds: dict | None = None, only=None):
    """Instantiate the registered detectors (all, or ``only``), with ``thresholds`` {name: value} applied."""
    thresholds = dict(thresholds or {})
    names = list(only) if only else list(REGISTRY)
    unknown = [k for k in list(thresholds) + names if k not in REGISTRY and k != "duplicate"]
    if unknown:
        raise InputError(f"unknown detector '{unknown[0]}'", expected=f"one of {', '.join([*REGISTRY, 'duplicate'])}")
    out = []
    for name in names:
        d = REGISTRY[name]()
        if d.needs_embeddings and not embeddings:
            continue
        if name in thresholds:
            d.threshold = float(thresholds[name])
        out.append(d)
    return out


def fit_detectors(dets, batches) -> None:
    """Fit the detectors that learn from the data (``fit(features)``: e.g. the usual output length per task
    type) on one sample of the rows (:func:`~.detectors.completeness.fit_sample`), before the pass."""
    fitters = [d for d in dets if hasattr(d, "fit")]
    if fitters:
        sample = fit_sample(batches())
        for d in fitters:
            if sample is not None:
                d.fit(sample)


PARALLEL_MIN_ROWS = 200_000  # a Parquet file this long pays for the pool even when it is small on disk


def _workers(src) -> int:
    """The local engine's worker count: its own rule (``auto_workers``: ARTIFACTLENS_WORKERS, or a file
    of 32 MiB+), or all cores for a Parquet file of ``PARALLEL_MIN_ROWS`` rows (compressed, it can be
    far under 32 MiB). The engine sees only our normalised batch stream, not the file, so we decide."""
    from ...engine.local import auto_workers
    n = auto_workers(src)
    if n == 1 and src.format == "parquet" and "ARTIFACTLENS_WORKERS" not in os.environ:
        import pyarrow.parquet as pq
        if pq.ParquetFile(src.path).metadata.num_rows >= PARALLEL_MIN_ROWS:
            n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return n


POOL_BATCH_ROWS = 65536  # batches sent to the process pool: its per-batch costs (pickled partial state,
# regex compiles) are paid once per 64k rows; results do not depend on batch boundaries


def _coalesce(batches, rows: int):
    """Consecutive batches concatenated into batches of at least ``rows`` rows (the last may be shorter)."""
    concat = lambda bs: bs[0] if len(bs) == 1 else pa.Table.from_batches(bs).combine_chunks().to_batches()[0]
    buf, n = [], 0
    for b in batches:
        buf.append(b)
        n += b.num_rows
        if n >= rows:
            yield concat(buf)
            buf, n = [], 0
    if buf:
        yield concat(buf)


def _batches(src, spec: dict, info=None):
    offset = 0
    for b in src.batches():
        nb = normalise(b, spec, offset)
        if spec["layout"] == "instances" and info is not None:
            empty = b.num_rows - len(set(nb.column("row").to_pylist()))
            if empty:
                info.skip("task with no instances", empty)
        offset += b.num_rows
        if nb.num_rows:
            yield nb


def audit_instructions(path, *, instruction: str | None = None, input: str | None = None, output: str | None = None,
                       embeddings: bool = True, near_duplicates: bool = True, thresholds: dict | None = None,
                       detectors=None, clean=None, common: CommonOptions | None = None, **common_kw) -> AuditResult:
    """Audit an instruction set (Alpaca, Self-Instruct, Unnatural Instructions, prompt/completion or chat
    ``messages`` layout, recognised from the column names; or name the columns).

    ``embeddings=False`` skips the MiniLM relevance detector (the fast heuristic pass). ``thresholds``
    overrides detector thresholds by name. ``clean`` writes every row with its flags and ``keep`` and,
    beside it (``X.kept.EXT``), only the kept rows. Common options (``flags``, ``json``, ``html``,
    ``seed``, ``batch_size``, ``engine``...) as keyword arguments or a :class:`CommonOptions`.
    """
    common = common or CommonOptions(**common_kw)
    src = open_source(path, encoding=common.encoding, batch_size=common.batch_size)
    first = next(iter(src.batches()), None)
    spec = detect_layout(first.schema.names, instruction, input, output, path=src.path)
    dets = build_detectors(embeddings, thresholds, detectors)
    thr = dict(thresholds or {})
    fit_detectors(dets, lambda: _batches(src, spec))
    dedupe = Deduplicator(near=near_duplicates)
    if "duplicate" in thr:
        dedupe.threshold = float(thr["duplicate"])
    check = InstructionCheck(dets, dedupe, seed=common.seed)
    result = AuditResult(kind="instructions", title="Instruction data")
    flags_path = common.flags or clean
    info = result.input
    kw = {"workers": _workers(src)} if common.engine == "local" else {}
    engine = common.engine_object or get_engine(common.engine, seed=common.seed, quiet=common.quiet,
                                                label="instructions", **kw)
    batches = _batches(src, spec, info)
    if type(engine) is LocalEngine and kw.get("workers", 1) > 1:
        batches = _coalesce(batches, max(POOL_BATCH_ROWS, common.batch_size))
    out = engine.run(batches, [check], flags_path=flags_path)
    skipped = dict(info.rows_skipped)
    result.input = input_info(src)
    for k, v in skipped.items():
        result.input.skip(k, v)
    result.input.rows_used = int(out[check.name]["acc"].point().get("n", 0))
    result.params = {"layout": spec, "embeddings": embeddings, "near_duplicates": near_duplicates, "seed": common.seed,
                     "detectors": {d.name: d.config() for d in [*dets, dedupe]},
                     "bootstrap": {"replicates": REPLICATES, "buckets": BUCKETS},
                     "thresholds": {"error_rate": ERROR_RATE_LIGHTS, "duplicate_rate": {"warn": 0.05, "bad": 0.2,
                                                                                        "higher_is_worse": True}}}
    if flags_path:
        result.flags = {"path": str(flags_path), "rows": result.input.rows_used,
                        "columns": [d.name for d in dets] + ["duplicate", *ERROR_TYPES, "error", "keep", "qa_type",
                                                              "flags", "reasons"]}
    if clean:
        result.params["clean"] = write_clean(flags_path, clean)
    from .report import build_result
    build_result(result, out[check.name], dets + [dedupe])
    return result


def kept_path(clean) -> Path:
    p = Path(clean)
    return p.with_name(f"{p.stem}.kept{p.suffix}")


def write_clean(flags_path, clean) -> dict:
    """Copy the flagged rows to ``clean`` (if it is not the flags file) and write the kept rows, in the
    Alpaca layout plus ``source``, to ``X.kept.EXT``. Returns the paths and row counts."""
    kept, total = 0, 0
    same = Path(flags_path).resolve() == Path(clean).resolve()
    with RowWriter(kept_path(clean)) as wk:
        wa = None if same else RowWriter(clean).__enter__()
        try:
            for b in open_source(flags_path).batches():
                total += b.num_rows
                if wa:
                    wa.write(b)
                mask = b.column("keep")
                kb = b.filter(mask).select(["instruction", "input", "output", "source"])
                kept += kb.num_rows
                if kb.num_rows:
                    wk.write(kb)
        finally:
            if wa:
                wa.__exit__(None, None, None)
    return {"path": str(clean), "kept_path": str(kept_path(clean)), "rows": total, "kept": kept,
            "dropped": total - kept, "dropped_reason": "rows with any error flag or a duplicate (see the flags column)"}
