"""``audit_instructions``: find the broken rows of a synthetic instruction set, count them with intervals,
and write the cleaned set.

Config (options, thresholds) -> calculation (:class:`~.check.InstructionCheck` on an engine) ->
rendering (:func:`build_result`: metrics, tables, figures, examples) are kept apart (Evidently style).
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from ...engine import LocalEngine, get_engine
from ...errors import InputError
from ...io.readers import open_source
from ...io.writers import RowWriter
from ...models.detectors import INVALID_FAMILY
from ...result import AuditResult
from ..common import CommonOptions, input_info
from .check import BUCKETS, REPLICATES, InstructionCheck
from .dedupe import Deduplicator
from .detectors import ERROR_TYPES, QUALITY_FAMILY, REGISTRY
from .checked import read_checked
from .detectors.completeness import fit_sample
from .report import LIGHTS, add_checked, build_result
from .revisions import add_revisions, compare, first_rows, key_column, pair_rows
from .layouts import detect_layout, normalise



def build_detectors(embeddings: bool = False, thresholds: dict | None = None, only=None):
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


def progress_lines(batches, quiet: bool, stream=None, every_s: float = 10.0):
    """Pass the batches through; where stderr is not a terminal (a CI log) and not ``quiet``, print a plain
    line every ``every_s`` seconds and at the end: rows read so far and the rate (a terminal gets the
    engine's bar instead)."""
    stream = stream or sys.stderr
    if quiet or stream.isatty():
        yield from batches
        return
    t0 = last = time.perf_counter()
    n = 0
    print("artifactlens: instructions: heuristic pass started (MiniLM relevance only with --embeddings)",
          file=stream, flush=True)
    for b in batches:
        yield b
        n += b.num_rows
        now = time.perf_counter()
        if now - last >= every_s:
            print(f"artifactlens: instructions: {n:,} rows read, {n / (now - t0):,.0f} rows/s", file=stream, flush=True)
            last = now
    print(f"artifactlens: instructions: {n:,} rows read in {time.perf_counter() - t0:.1f} s", file=stream, flush=True)


def _batches(src, spec: dict, info=None, originals: bool = False):
    offset = 0
    for b in src.batches():
        nb = normalise(b, spec, offset)
        if originals:
            nb = with_originals(nb, b, spec, offset)
        if spec["layout"] == "instances" and info is not None:
            empty = b.num_rows - len(set(nb.column("row").to_pylist()))
            if empty:
                info.skip("task with no instances", empty)
        offset += b.num_rows
        if nb.num_rows:
            yield nb


def audit_instructions(path, *, instruction: str | None = None, input: str | None = None, output: str | None = None,
                       embeddings: bool = False, near_duplicates: bool = True, thresholds: dict | None = None,
                       detectors=None, clean=None, checked=None, extra_detectors=(), revised=None, pair_on=None,
                       common: CommonOptions | None = None, **common_kw) -> AuditResult:
    """Audit an instruction set (Alpaca, Self-Instruct, Unnatural Instructions, prompt/completion or chat
    ``messages`` layout, recognised from the column names; or name the columns).

    ``embeddings=True`` adds the MiniLM relevance detector (opt-in: ~150 rows/s on a CPU). ``thresholds``
    overrides detector thresholds by name. ``clean`` writes every row with its flags and ``keep`` and,
    beside it (``X.kept.EXT``), only the kept rows. ``checked`` (a file of hand-checked rows: row, wrong,
    error_type) gives the error rate with a PPI interval (:mod:`.checked`). ``revised`` (a file of the same
    rows revised, paired by position or by the column ``pair_on``) adds the flag rates on both sides and
    McNemar's exact test (:mod:`.revisions`). ``extra_detectors``: more
    :class:`~artifactlens.engine.Detector` objects scored from elsewhere (``model_checks.model_detectors``),
    recorded like any detector; a family outside :data:`~.detectors.ERROR_TYPES` is refused, but for
    the model's invalid answers (:data:`~artifactlens.models.detectors.INVALID_FAMILY`: counted, not an error). Common options (``flags``, ``json``, ``html``,
    ``seed``, ``batch_size``, ``engine``...) as keyword arguments or a :class:`CommonOptions`.
    """
    common = common or CommonOptions(**common_kw)
    if pair_on and not revised:
        raise InputError("--pair-on pairs rows with their revisions: it needs --revised FILE", column=pair_on,
                         expected="--revised FILE --pair-on COL, or neither")
    src = open_source(path, encoding=common.encoding, batch_size=common.batch_size)
    first = next(iter(src.batches()), None)
    spec = detect_layout(first.schema.names, instruction, input, output, path=src.path)
    dets = build_detectors(embeddings, thresholds, detectors) + list(extra_detectors)
    for d in dets:
        if getattr(d, "needs_embeddings", False) and hasattr(d, "device"):
            d.device = common.device  # the run's --device reaches the detector as an argument
    thr = dict(thresholds or {})
    bad = [d.name for d in dets if d.family not in (*ERROR_TYPES, QUALITY_FAMILY, INVALID_FAMILY)]
    if bad:
        raise InputError(f"detector {bad[0]!r} has no known family",
                         expected=f"one of {', '.join((*ERROR_TYPES, QUALITY_FAMILY))}")
    fit_detectors(dets, lambda: _batches(src, spec))
    dedupe = Deduplicator(near=near_duplicates)
    if "duplicate" in thr:
        dedupe.threshold = float(thr["duplicate"])
    labels = read_checked(checked) if checked else None
    check = InstructionCheck(dets, dedupe, seed=common.seed, checked_rows=labels or ())
    result = AuditResult(kind="instructions", title="Instruction data")
    flags_path = common.flags or clean
    info = result.input
    kw = {"workers": _workers(src)} if common.engine == "local" else {}
    engine = common.engine_object or get_engine(common.engine, seed=common.seed, quiet=common.quiet,
                                                label="instructions", **kw)
    names = original_names(first.schema.names, spec) if flags_path else []
    if names and spec["layout"] == "instances":
        names += ["instance_input", "instance_output"]
    batches = progress_lines(_batches(src, spec, info, originals=bool(flags_path)), common.quiet)
    if type(engine) is LocalEngine and kw.get("workers", 1) > 1:
        batches = _coalesce(batches, max(POOL_BATCH_ROWS, common.batch_size))
    if flags_path:
        Path(flags_path).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".artifactlens-", dir=Path(flags_path).parent if flags_path else None) as tmpd:
        tmp = Path(tmpd) / "pass.parquet" if flags_path or revised else None
        out = engine.run(batches, [check], flags_path=tmp)
        written = write_outputs(tmp, names, common.flags, clean) if flags_path else {}
        if revised:
            pairs = _revised_pass(src, revised, tmp, Path(tmpd) / "revised.parquet", dets, common, kw,
                                  (instruction, input, output), pair_on)
    skipped = dict(info.rows_skipped)
    result.input = input_info(src)
    for k, v in skipped.items():
        result.input.skip(k, v)
    result.input.rows_used = int(out[check.name]["acc"].point().get("n", 0))
    result.params = {"layout": spec, "embeddings": embeddings, "near_duplicates": near_duplicates, "seed": common.seed,
                     "detectors": {d.name: d.config() for d in [*dets, dedupe]},
                     "bootstrap": {"replicates": REPLICATES, "buckets": BUCKETS},
                     "thresholds": {n: LIGHTS[n].thresholds_entry() for n in ("error_rate", "duplicate_rate")}}
    if flags_path:
        result.flags = {"path": str(flags_path), "rows": result.input.rows_used,
                        "columns": [d.name for d in dets] + ["duplicate", *ERROR_TYPES, "error", "keep", "qa_type",
                                                              "flags", "reasons"]}
    if clean:
        result.params["clean"] = written
    build_result(result, out[check.name], dets + [dedupe])
    add_checked(result, out[check.name], labels, dets + [dedupe])
    if revised:
        add_revisions(result, *pairs, pair_on)
        result.params["revised"] = {"path": str(revised), "pair_on": pair_on}
    return result


def _revised_pass(src, revised, raw_flags, rev_flags, dets, common, kw, columns, pair_on):
    """Score the revised rows with the same (fitted) detectors on the same kind of engine, pair them with
    the audited rows, and compare every flag: ``(table rows, (unpaired raw, unpaired revised))``."""
    rsrc = open_source(revised, encoding=common.encoding, batch_size=common.batch_size)
    rfirst = next(iter(rsrc.batches()), None)
    if rfirst is None:
        raise InputError("the revised file has no rows", path=rsrc.path, expected="the revisions of the audited rows")
    rspec = detect_layout(rfirst.schema.names, *columns, path=rsrc.path)
    engine = get_engine(common.engine, seed=common.seed, quiet=True, label="instructions (revised)", **kw)
    engine.run(_batches(rsrc, rspec), [InstructionCheck(dets, None, seed=common.seed)], flags_path=rev_flags)
    names = [d.name for d in dets] + list(ERROR_TYPES) + ["error"]
    raw_rows, raw = first_rows(raw_flags, names)
    rev_rows, rev = first_rows(rev_flags, names)
    if pair_on:
        i, j = pair_rows([key_column(src.path, pair_on, common.encoding)[k] for k in raw_rows],
                         [key_column(rsrc.path, pair_on, common.encoding)[k] for k in rev_rows],
                         src.path, rsrc.path, pair_on)
    else:
        i, j = pair_rows(raw_rows, rev_rows, src.path, rsrc.path, None)
    if not len(i):
        raise InputError("no audited row has a revision", path=rsrc.path,
                         expected=f"rows paired {'on ' + repr(pair_on) if pair_on else 'by position'}")
    quality = [d.name for d in dets if d.family == QUALITY_FAMILY]
    for side in (raw, rev):  # 'flagged': any error or a quality flag (what experts would revise)
        side["flagged"] = np.logical_or.reduce([side["error"], *[side[q] for q in quality]])
    rows = compare({k: v[i] for k, v in raw.items()}, {k: v[j] for k, v in rev.items()}, names + ["flagged"])
    return rows, (len(raw_rows) - len(i), len(rev_rows) - len(j))


def kept_path(clean) -> Path:
    p = Path(clean)
    return p.with_name(f"{p.stem}.kept{p.suffix}")


ORIG = "__orig__"  # the input's own columns ride along in the batches as __orig__0, __orig__1, ...
CANONICAL = ("instruction", "input", "output", "source", "group", "row")


def original_names(names, spec: dict) -> list[str]:
    """The input columns every output keeps, in order (``instances``: the task's columns without the list,
    then each instance's ``instance_input``/``instance_output``)."""
    names = list(names)
    return [n for n in names if n != "instances"] if spec["layout"] == "instances" else names


def with_originals(nb: pa.RecordBatch, b: pa.RecordBatch, spec: dict, offset: int) -> pa.RecordBatch:
    """``nb`` (normalised) plus the input batch ``b``'s own columns, one per normalised row."""
    cols = [c for c in b.schema.names if not (spec["layout"] == "instances" and c == "instances")]
    take = None
    if nb.num_rows != b.num_rows:
        take = pa.array(nb.column("row").to_numpy() - offset, type=pa.int64())
    arrays = [b.column(c) if take is None else b.column(c).take(take) for c in cols]
    if spec["layout"] == "instances":
        arrays += [nb.column("input"), nb.column("output")]
    return pa.RecordBatch.from_arrays([*nb.columns, *arrays],
                                      names=[*nb.schema.names, *[f"{ORIG}{j}" for j in range(len(arrays))]])


def write_outputs(tmp, names: list[str], flags=None, clean=None) -> dict:
    """From the pass's Parquet file ``tmp``: ``flags`` and ``clean`` (every input row: the input's own
    columns under their own names, in order, then the flag columns; a flag column whose name an input
    column has is written ``al_NAME``) and ``X.kept.EXT`` beside ``clean`` (the kept rows, the input's own
    columns only: a chat record comes back whole). Every file is committed only when all are written."""
    import contextlib

    import pyarrow.parquet as pq
    pf = pq.ParquetFile(tmp)
    check_cols = [c for c in pf.schema_arrow.names if c not in CANONICAL and not c.startswith(ORIG)]
    out_names = names + [f"al_{c}" if c in names else c for c in check_cols]
    targets = list(dict.fromkeys(str(Path(p)) for p in (flags, clean) if p))
    kept = total = 0
    with contextlib.ExitStack() as stack:
        full = [stack.enter_context(RowWriter(p)) for p in targets]
        wk = stack.enter_context(RowWriter(kept_path(clean))) if clean else None
        for b in pf.iter_batches():
            t = pa.Table.from_batches([b])
            orig = [t.column(f"{ORIG}{j}") for j in range(len(names))]
            row = pa.Table.from_arrays([*orig, *[t.column(c) for c in check_cols]], names=out_names)
            for w in full:
                w.write(row.combine_chunks().to_batches()[0] if row.num_rows else row.to_batches()[0])
            total += t.num_rows
            if wk is not None:
                kb = pa.Table.from_arrays(orig, names=names).filter(t.column("keep"))
                kept += kb.num_rows
                if kb.num_rows:
                    wk.write(kb.combine_chunks().to_batches()[0])
    if not clean:
        return {}
    return {"path": str(clean), "kept_path": str(kept_path(clean)), "rows": total, "kept": kept,
            "dropped": total - kept, "dropped_reason": "rows with any error flag or a duplicate (see the flags column)"}
