"""The review queue (``artifactlens review RESULT.json -o queue.csv``): the rows most worth a person's time,
with blank verdict columns that the audit reads back, so the loop audit -> review -> interval closes.

    artifactlens review instructions.json -o queue.csv --n 200 --html queue.html
    # fill in 'wrong' (true/false) and optionally 'error_type', then:
    artifactlens audit instructions data.jsonl --checked queue.csv      # error_rate_checked, PPI interval

    artifactlens review labels.json -o queue.csv --n 60
    # fill in 'label' (the right label of the item), then:
    artifactlens audit labels --human-annotations H.json --llm-annotations L.json --gold-sample queue.csv

What it reads: the result JSON and the per-row flags file that the audit wrote with ``--flags FILE`` (the
result's ``flags.path``; ``--flags FILE`` here when the file has moved). The flags file, not the data file,
because it holds every input row in input order beside its flags, scores and reasons: the queue's ``row``
is the 0-based input row the instruction audit's ``--checked`` joins on, and its ``id`` the item id the
labels audit's ``--gold-sample`` joins on. Kinds: ``instructions`` (verdict ``wrong`` + ``error_type``,
read by ``--checked``) and ``labels`` (verdict ``label``, read by ``--gold-sample`` with its default
``--gold-id id --gold-label label``); the other audits have no reader of checked rows yet.

The ranking rule (also written in the side file ``<queue>.review.json``, :data:`RULE`):

1. *Which rows*: a stratified random draw of ``n`` rows, the sampler of ``artifactlens sample``
   (:func:`~artifactlens.audits.instructions.checked.stratified_draw`): one stratum per flag (a row's first
   flag decides) plus the unflagged rows, proportional with at least 3 rows a stratum. Because the rows
   are drawn at random within each stratum, the filled queue is the random sample that prediction-powered
   inference (``--checked``, ``--gold-sample``) assumes; the ranking below only orders it.
2. *In which order* (``rank``, 1 = first): ``value = (flag_score + uncertainty) / 2``, both in [0, 1]:
   ``flag_score`` the share of the audit's flags the row raises (scaled by the most any row raises);
   ``uncertainty`` how undecided the machine is on the row: instructions, the closeness of the row's
   score to each detector's threshold (``exp(-|score - threshold| / s)``, ``s`` the detector's median
   distance to its threshold; the largest over detectors), labels, the human and the LLM label entropy of
   the item (each divided by its largest value; the mean of the two) plus, with several LLMs, the share
   disagreeing with their plurality label. Coverage comes first: the highest-value row of every stratum
   and of every flag raised anywhere in the queue opens it (round 1), then the rest by value.

Each row's ``weight`` is the number of input rows it stands for (its stratum's rows / the rows queued
from it), scaled to a mean of 1: the floor of 3 rows a stratum over-represents rare flags, and
``--checked`` weights the PPI rectifier by it (ppi-python's ``w``) so the estimate stays that of the
whole input. ``--gold-sample`` does not read weights; a labels queue is nearly self-weighting unless a
flag is rare. Check the whole queue when you can: a queue checked only down to some rank leans towards
uncertain rows, and the error rate read back from it leans with them.
"""
from __future__ import annotations

import html as _html
import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from ._version import __version__
from .audits.instructions.checked import design_weights, stratified_draw
from .errors import InputError
from .io.readers import file_sha256
from .result import AuditResult

KINDS = ("instructions", "labels")
VERDICT = {"instructions": ("wrong", "error_type"), "labels": ("label",)}
RULE = ("rows: stratified random draw (strata = the row's first flag, or 'none'; proportional, at least 3 a "
        "stratum; uniform within a stratum, seeded); rank: coverage first (the highest-value row of every stratum "
        "and every flag raised), then value = (flag_score + uncertainty) / 2, flag_score = share of the audit's "
        "flags raised on the row / the most any row raises, uncertainty = instructions: max over detectors of "
        "exp(-|score - threshold| / median |score - threshold|); labels: mean of the human and the LLM label "
        "entropy (each / its maximum), plus the share of LLMs off their plurality label")
READ_BACK = {"instructions": "artifactlens audit instructions DATA --checked {queue}",
             "labels": "artifactlens audit labels ... --gold-sample {queue} --gold-id {id} --gold-label label"}


def load_flags(result: AuditResult, flags=None, result_path=None) -> tuple[pa.Table, str]:
    """The per-row flags file of ``result`` (or ``flags``) as an Arrow table, and its path."""
    from .io.readers import read_table
    path = flags or (result.flags or {}).get("path")
    if not path:
        raise InputError("the result names no flags file", path=result_path, column="flags.path",
                         expected="a result of an audit run with --flags FILE, or review --flags FILE")
    if not Path(path).is_file():
        raise InputError("no such flags file", path=path, expected="the --flags file the audit wrote "
                         "(pass review --flags FILE where it has moved)")
    t = read_table(path)
    rows = (result.flags or {}).get("rows")
    if rows is not None and flags is None and t.num_rows != rows:
        raise InputError(f"the flags file has {t.num_rows} rows, the result says {rows}", path=path,
                         expected="the flags file written by the run that wrote the result")
    return t, str(path)


def _col(t: pa.Table, name: str) -> np.ndarray:
    return np.array(t.column(name).to_pylist(), dtype=object)


def _bool(t: pa.Table, name: str) -> np.ndarray:
    return np.array([bool(x) for x in t.column(name).to_pylist()], dtype=bool)


def _num(t: pa.Table, name: str) -> np.ndarray:
    return np.array([np.nan if x is None else float(x) for x in t.column(name).to_pylist()], dtype=float)


def _scaled(x: np.ndarray) -> np.ndarray:
    x = np.nan_to_num(np.asarray(x, float), nan=0.0)
    top = x.max() if x.size else 0.0
    return x / top if top > 0 else np.zeros_like(x)


# -- per kind: strata, flags raised, uncertainty, the columns shown --------------------------------------
def _instructions(result: AuditResult, t: pa.Table):
    names = set(t.schema.names)
    fl = "al_flags" if "al_flags" in names else "flags"
    if fl not in names:
        raise InputError("not an instruction flags file (no 'flags' column)", column="flags",
                         expected="the --flags file of an instructions audit")
    dets = result.params.get("detectors") or {}
    flag_cols = [d for d in dict.fromkeys([*dets, "duplicate"]) if d in names
                 and pa.types.is_boolean(t.schema.field(d).type)]
    raised = np.column_stack([_bool(t, d) for d in flag_cols]) if flag_cols else np.zeros((t.num_rows, 0), bool)
    strata = np.array([(s or "").split(",")[0] or "none" for s in t.column(fl).to_pylist()], dtype=object)
    close = np.zeros(t.num_rows)
    for d, spec in dets.items():
        sc = f"{d}_score"
        if sc not in names or not isinstance(spec, dict) or spec.get("threshold") is None:
            continue
        s = _num(t, sc)
        dist = np.abs(s - float(spec["threshold"]))
        ok = np.isfinite(dist)
        if not ok.any():
            continue
        scale = float(np.median(dist[ok])) or 1.0
        close = np.maximum(close, np.where(ok, np.exp(-dist / scale), 0.0))
    bools = {f.name for f in t.schema if pa.types.is_boolean(f.type)}
    reasons = "al_reasons" if "al_reasons" in names else "reasons"
    show = [c for c in t.schema.names if c not in ("keep", "error", fl, reasons, "row") and not c.endswith("_score")
            and c not in bools]
    flags_text = [s or "" for s in t.column(fl).to_pylist()]
    reason_text = [s or "" for s in t.column(reasons).to_pylist()] if reasons in names else [""] * t.num_rows
    return strata, flag_cols, raised, close, show, flags_text, reason_text


def _labels(result: AuditResult, t: pa.Table):
    from .audits.labels.detectors import FLAG_RULES
    names = set(t.schema.names)
    flag_cols = [c for c in (result.flags or {}).get("columns") or [] if c in names]
    if not flag_cols:
        flag_cols = [c for c in names if c.split("__")[0] in FLAG_RULES and pa.types.is_boolean(t.schema.field(c).type)]
    if not flag_cols:
        raise InputError("not a labels flags file (no flag column)", column=", ".join(FLAG_RULES),
                         expected="the --flags file of a labels audit")
    raised = np.column_stack([_bool(t, c) for c in flag_cols])
    family = [c.split("__")[0] for c in flag_cols]
    strata = np.array(["none"] * t.num_rows, dtype=object)
    for f in reversed([f for f in FLAG_RULES if f in family]):  # the first family in rule order decides
        hit = raised[:, [j for j, x in enumerate(family) if x == f]].any(axis=1)
        strata[hit] = f
    suffixes = sorted({c[len(c.split("__")[0]):] for c in flag_cols})
    h_ent = [_num(t, f"human_entropy_bits{s}") for s in suffixes if f"human_entropy_bits{s}" in names]
    l_ent = [_num(t, f"llm_entropy_bits{s}") for s in suffixes if f"llm_entropy_bits{s}" in names]
    unc_h = _scaled(_row_mean(h_ent, t.num_rows))  # the same human labels in every LLM's columns
    unc_l = _scaled(_row_mean(l_ent, t.num_rows))
    llm_cols = [f"llm_labels{s}" for s in suffixes if f"llm_labels{s}" in names]
    if len(llm_cols) > 1:  # several LLMs: the share off their plurality label
        from collections import Counter
        tops = np.column_stack([[_first_majority(x) for x in t.column(c).to_pylist()] for c in llm_cols])
        off = []
        for row in tops:
            got = [x for x in row if x is not None]
            off.append(1 - Counter(got).most_common(1)[0][1] / len(got) if got else 0.0)
        unc_l = np.clip(unc_l + np.array(off), 0.0, 1.0)
    close = (unc_h + unc_l) / 2
    computed = ("skip_reason", "human_labels", "llm_labels", "human_entropy_bits", "llm_entropy_bits")
    show = [c for c in t.schema.names if c.split("__")[0] not in computed and c not in flag_cols
            and not c.split("__")[0].endswith(("_score", "_reason")) and c != "label"]
    flags_text = [",".join(c for c, on in zip(flag_cols, r) if on) for r in raised]
    rcols = [f"{c.split('__')[0]}_reason{c[len(c.split('__')[0]):]}" for c in flag_cols]
    rvals = [t.column(c).to_pylist() if c in names else [None] * t.num_rows for c in rcols]
    reason_text = ["; ".join(str(v[i]) for v, on in zip(rvals, raised[i]) if on and v[i]) for i in range(t.num_rows)]
    return strata, flag_cols, raised, close, show, flags_text, reason_text


def _row_mean(cols: list, n: int) -> np.ndarray:
    """The mean across columns of each row, skipping NaN (0 where a row has none)."""
    if not cols:
        return np.zeros(n)
    x = np.column_stack(cols)
    ok = np.isfinite(x)
    return np.where(ok.any(axis=1), np.where(ok, x, 0.0).sum(axis=1) / np.maximum(ok.sum(axis=1), 1), 0.0)


def _first_majority(cell):
    """The first label of a ``human_labels``/``llm_labels`` cell (``"a×3, b×1"`` or a JSON list), or None."""
    if cell is None:
        return None
    s = str(cell).strip()
    if s.startswith("["):
        try:
            v = json.loads(s)
            return str(v[0]) if v else None
        except ValueError:
            return None
    return s.split(",")[0].split("×")[0].strip() or None


def build_queue(result: AuditResult, t: pa.Table, n: int = 200, seed: int = 0) -> tuple[pa.Table, dict]:
    """The review queue of ``result`` (its flags table ``t``) and the side file's content; see the module
    docstring for the rule."""
    if result.kind not in KINDS:
        raise InputError(f"no review queue for a {result.kind} result yet", expected=" or ".join(KINDS) +
                         " results (the audits that read checked rows back: --checked, --gold-sample)")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError(f"--n {n!r} is not a positive number of rows", expected="--n 200")
    if t.num_rows == 0:
        raise InputError("the flags file has no row", expected="the --flags file of a run on some data")
    strata, flag_cols, raised, close, show, flags_text, reason_text = (
        _instructions if result.kind == "instructions" else _labels)(result, t)
    k = raised.sum(axis=1) if raised.size else np.zeros(t.num_rows)
    flag_score = _scaled(k)
    value = (flag_score + np.clip(close, 0.0, 1.0)) / 2
    picked = stratified_draw(strata, n, seed)
    # coverage first: the best row of every stratum and every flag raised among the picked rows
    first, order = [], sorted(picked.tolist(), key=lambda i: (-value[i], i))
    for level in sorted(set(strata[picked])):
        first.append(next(i for i in order if strata[i] == level))
    for j in range(raised.shape[1]):
        on = [i for i in order if raised[i, j]]
        if on and not any(raised[i, j] for i in first):
            first.append(on[0])
    opened = set(first)
    ranked = sorted(opened, key=lambda i: (-value[i], i)) + [i for i in order if i not in opened]
    rank = {i: r + 1 for r, i in enumerate(ranked)}
    rows = np.array(ranked, dtype=np.int64)
    sub = t.take(pa.array(rows))
    levels, counts = np.unique(strata, return_counts=True)
    queued = {lv: int((strata[rows] == lv).sum()) for lv in levels}
    stands = {lv: float(c / queued[lv]) if queued[lv] else None for lv, c in zip(levels, counts)}
    weight = design_weights(strata, rows)
    cols = {"rank": pa.array([rank[i] for i in ranked], pa.int64()), "row": pa.array(rows),
            "stratum": pa.array(strata[rows].tolist(), pa.string()),
            "value": pa.array(np.round(value[rows], 4)), "flag_score": pa.array(np.round(flag_score[rows], 4)),
            "uncertainty": pa.array(np.round(np.clip(close[rows], 0, 1), 4)), "weight": pa.array(np.round(weight, 6))}
    taken = set(cols) | set(VERDICT[result.kind]) | {"flags", "reasons"}
    for c in show:
        if c not in taken:
            cols[c] = sub.column(c)
    cols["flags"] = pa.array([flags_text[i] for i in ranked], pa.string())
    cols["reasons"] = pa.array([reason_text[i] for i in ranked], pa.string())
    for v in VERDICT[result.kind]:
        cols[v] = pa.nulls(len(ranked), pa.string())
    meta = {"tool": {"name": "artifactlens", "version": __version__}, "kind": result.kind, "rule": RULE,
            "rows": int(len(ranked)), "of": int(t.num_rows), "seed": seed,
            "strata": {str(lv): {"rows": int(c), "queued": queued[lv], "each_stands_for": stands[lv]}
                       for lv, c in zip(levels, counts)},
            "weight": "each row's stratum size / rows queued from it, times queue size / input rows (mean 1): "
                      "--checked weights the PPI rectifier by it; --gold-sample does not read it",
            "flags": flag_cols, "verdict_columns": list(VERDICT[result.kind])}
    if result.kind == "labels":
        meta["id_column"] = _id_column(result, t)
    return pa.table(cols), meta


def _id_column(result: AuditResult, t: pa.Table) -> str:
    c = result.params.get("id") or "id"
    return c if c in t.schema.names else "id"


def write_queue(result_path, out, n: int = 200, flags=None, html=None, seed: int = 0) -> dict:
    """``artifactlens review``: the queue to ``out`` (.csv, .jsonl or .parquet), the side file
    ``<out stem>.review.json`` beside it, and with ``html`` a page to read it in. Returns the side file's
    content."""
    from .io.writers import RowWriter, atomic_write_text, check_writable, guard_outputs
    p = Path(result_path)
    if not p.is_file():
        raise InputError("no such file", path=p, expected="a result JSON written by artifactlens")
    try:
        result = AuditResult.from_json(p)
    except (ValueError, KeyError, TypeError) as e:
        raise InputError(f"not an artifactlens result ({e})", path=p, expected="a result JSON") from None
    t, fpath = load_flags(result, flags, p)
    outs = {"-o": out, "-o (side file)": side_path(out), "--html": html}
    guard_outputs([p, fpath], outs)
    for opt, path in outs.items():
        if path:
            check_writable(path, opt.split()[0])
    table, meta = build_queue(result, t, n, seed)
    meta["result"] = {"path": str(p), "sha256": file_sha256(p), "input_sha256": result.input.sha256}
    meta["flags_file"] = {"path": fpath, "sha256": file_sha256(Path(fpath))}
    meta["read_back"] = READ_BACK[result.kind].format(queue=out, id=meta.get("id_column", "id"))
    if result.kind == "labels" and not (result.params.get("annotators") or any(
            s.params.get("annotators") for s in result.sections)):
        meta["read_back"] += (" (--gold-sample needs named annotators: --human-annotations/--llm-annotations, or "
                              "a long file with --annotator; this run had none)")
    with RowWriter(out) as w:
        for b in table.to_batches():
            w.write(b)
    side = side_path(out)
    atomic_write_text(side, json.dumps(meta, indent=2) + "\n")
    if html:
        atomic_write_text(html, render_html(table, meta))
    return meta


def side_path(out) -> Path:
    o = Path(out)
    return o.with_name(f"{o.stem}.review.json")


def render_html(table: pa.Table, meta: dict) -> str:
    """A self-contained page of the queue (every cell escaped), the rule and the read-back command."""
    e = lambda x: _html.escape("" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x)))  # noqa: E731
    cols = table.schema.names
    head = "".join(f"<th>{e(c)}</th>" for c in cols)
    body = []
    for row in table.to_pylist():
        cells = []
        for c in cols:
            v = row[c]
            text = e(v)
            if isinstance(v, str) and len(v) > 400:
                text = e(v[:400]) + "&hellip;"
            cells.append(f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    strata = "".join(f"<li>{e(k)}: {v['queued']} of {v['rows']} rows</li>" for k, v in meta["strata"].items())
    return ("<!doctype html><html><head><meta charset='utf-8'><title>artifactlens review queue</title><style>"
            "body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top;max-width:32em}"
            "th{background:#f3f3f3;position:sticky;top:0}</style></head><body>"
            f"<h1>Review queue: {e(meta['kind'])}, {meta['rows']} of {meta['of']} rows</h1>"
            f"<p>artifactlens {e(meta['tool']['version'])}; from result <code>{e(meta['result']['sha256'][:16])}</code>. "
            f"Fill in <b>{e(', '.join(meta['verdict_columns']))}</b> in the queue file, then "
            f"<code>{e(meta['read_back'])}</code>.</p><p><b>Rule:</b> {e(meta['rule'])}</p><ul>{strata}</ul>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></body></html>\n")


# -- CLI ------------------------------------------------------------------------------------------------
def add_subcommands(sub) -> None:
    """``artifactlens review``; called once from ``artifactlens.cli.build_parser``."""
    import argparse
    p = sub.add_parser("review", help="a queue of the rows most worth checking by hand, to read back with "
                       "--checked / --gold-sample", description=__doc__.split("\n\n")[0],
                       epilog="examples:\n  artifactlens review instructions.json -o queue.csv --n 200 --html "
                              "queue.html\n  artifactlens review labels.json -o queue.csv --flags labels_flags.parquet\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("result", metavar="RESULT.json", help="a result of an audit run with --flags FILE")
    p.add_argument("-o", "--out", required=True, metavar="QUEUE.csv", help="the queue (.csv, .jsonl or .parquet)")
    p.add_argument("--n", type=int, default=200, help="rows in the queue (default 200)")
    p.add_argument("--html", metavar="QUEUE.html", help="also a page to read the queue in")
    p.add_argument("--flags", metavar="FILE", help="the audit's flags file (default: the one the result names)")
    p.add_argument("--seed", type=int, default=0, help="seed of the draw (default 0)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(_run=cmd_review)


def cmd_review(args) -> int:
    meta = write_queue(args.result, args.out, n=args.n, flags=args.flags, html=args.html, seed=args.seed)
    if not args.quiet:
        print(f"{meta['rows']} rows to check written to {args.out} (rule and strata in {side_path(args.out)}): "
              f"fill in {', '.join(repr(c) for c in meta['verdict_columns'])}, then {meta['read_back']}")
    return 0
