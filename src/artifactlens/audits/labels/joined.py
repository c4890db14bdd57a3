"""Labels as people keep them: human and LLM labels in two files joined by item id, and multi-label
annotations as one 0/1 column per class.

Two files (``--llm-file F``): FILE holds the human labels (``--human``, with ``--text`` and ``--domain``),
F the LLM labels (``--llm``, one column per LLM); rows are joined by ``--id`` (``--llm-id`` when F names
its id column otherwise). Either file may have several rows per id (one per annotator, or one per LLM
sample): their labels are pooled per item, and a cell may itself be a label list, as in a wide file.
An id present in only one file is no item of the audit: its rows are counted under "rows without a
partner" for that file, in the input's skipped rows and in a finding, never dropped silently.

Multi-label binary columns (``--multi-label``): ``--human`` then names comma-separated 0/1 columns, one per
class (``--human toxic,insult,threat``), and each ``--llm`` value a group of the same length in the same
class order (``--llm gpt_toxic,gpt_insult,gpt_threat``; with ``--llm-file`` and the same column names
``--llm`` may be left out). The class of a column is the human column's name. Each row is one annotation;
each class marked 1 is one label of the item (an annotation that marks two classes gives two labels),
and a row that marks none gives the label :data:`NONE_LABEL`, so every annotation counts. Cells: 1/0,
true/false, yes/no (any case, numbers as 1.0/0.0 too); an empty cell is a missing value, a row whose
cells are all missing is skipped and counted; anything else is an :class:`InputError` naming the file,
row and column. The first-order figures then read "label" as "class marked", and the one-label
figures (majority match, minority erasure) are about the classes marked most and least.

Rows are grouped by id in one pass per file (a dict of the items, like the long format), so memory grows
with the number of items, not the file.
"""
from __future__ import annotations

import math
import os

from ...errors import InputError
from ...io.conventions import parse_label_list
from ...io.readers import DataSource, require_columns
from .read import Layout, grouped_batches

NONE_LABEL = "(none)"
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


def _binary(v):
    """True, False or None (missing) for one multi-label cell; ValueError otherwise."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        if v in (0, 1):
            return bool(v)
        raise ValueError(v)
    s = str(v).strip().lower()
    if s == "":
        return None
    if s in _TRUE or s in ("1.0",):
        return True
    if s in _FALSE or s in ("0.0",):
        return False
    raise ValueError(v)


def split_columns(spec: str) -> list[str]:
    cols = [c.strip() for c in str(spec).split(",")]
    if not cols or any(not c for c in cols):
        raise InputError(f"'{spec}' is not a comma-separated list of columns", expected="e.g. toxic,insult,threat")
    return cols


def _llm_name(cols: list[str], llm_path, multi: bool, taken: set) -> str:
    if multi and len(cols) > 1:
        prefix = os.path.commonprefix(cols).rstrip("_-:. ")
        name = prefix or (os.path.splitext(os.path.basename(str(llm_path)))[0] if llm_path else ",".join(cols))
    else:
        name = cols[0]
    if name in taken:  # the LLM file uses the human side's column names: name the LLM after its file
        stem = os.path.splitext(os.path.basename(str(llm_path)))[0] if llm_path else "llm"
        name = stem if stem not in taken else f"llm:{name}"
    return name


class _Side:
    """How one file's rows become labels: ``groups`` {name: [columns]} (one column, or a multi-label group)."""

    def __init__(self, groups: dict, classes: list | None):
        self.groups, self.classes = groups, classes

    def labels(self, row: dict, path, r: int, name: str) -> list | None:
        cols = self.groups[name]
        if self.classes is None:
            try:
                return [lab for lab in parse_label_list(row[cols[0]]) if lab is not None]
            except ValueError as e:
                raise InputError(f"the label cell does not parse: {e}", path=path, row=r, column=cols[0],
                                 expected="a label or a list of labels") from None
        marked, seen = [], False
        for cls, col in zip(self.classes, cols):
            try:
                v = _binary(row[col])
            except ValueError:
                raise InputError(f"{row[col]!r} is not a 0/1 value", path=path, row=r, column=col,
                                 expected="0 or 1 (one column per class, --multi-label)") from None
            seen |= v is not None
            if v:
                marked.append(cls)
        if not seen:
            return None
        return marked or [NONE_LABEL]


def _read(src: DataSource, id_col: str | None, side: _Side, role: str, extra: dict, items: dict, order: list,
          sink, skipped: dict) -> int:
    """Pool one file's rows into ``items`` (``sink(item, name, labels)``); returns the rows read."""
    n_rows = 0
    batches = src.batches()
    try:
        n_rows = _pool(batches, src, id_col, side, role, extra, items, order, sink, skipped)
    finally:
        batches.close()  # an error mid-file: the reader's threads stop now, not at interpreter exit (abort)
    return n_rows


def _pool(batches, src, id_col, side, role, extra, items, order, sink, skipped) -> int:
    n_rows = 0
    for b in batches:
        if n_rows == 0:
            need = {f"--id ({role} file)": id_col, **extra}
            for name, cols in side.groups.items():
                need.update({f"{role} label ({name})" if len(cols) == 1 else f"{role} class ({c})": c for c in cols})
            require_columns(b.schema.names, need, src.path)
        cols = {c: b.column(c).to_pylist() for c in b.schema.names if c in _wanted(side, id_col, extra)}
        for k in range(b.num_rows):
            r = n_rows + k
            row = {c: v[k] for c, v in cols.items()}
            iid = str(r) if id_col is None else row[id_col]
            if iid is None or str(iid).strip() == "":
                skipped[f"{role} row without an item id"] = skipped.get(f"{role} row without an item id", 0) + 1
                continue
            iid = str(iid)
            it = items.get(iid)
            if it is None:
                it = items[iid] = {"text": None, "domain": None, "human": [], "llm": {}, "rows": {"human": 0, "llm": 0}}
                order.append(iid)
            it["rows"][role] += 1
            for key, col in extra.items():
                field = "text" if key == "--text" else "domain"
                if col and it[field] is None and row[col] not in (None, ""):
                    it[field] = row[col]
            for name in side.groups:
                labels = side.labels(row, src.path, r, name)
                if labels is None:
                    reason = f"{role} multi-label row with every class cell empty"
                    skipped[reason] = skipped.get(reason, 0) + 1
                    continue
                sink(it, name, labels)
        n_rows += b.num_rows
    return n_rows


def _wanted(side: _Side, id_col, extra) -> set:
    return {c for cols in side.groups.values() for c in cols} | {id_col} | {c for c in extra.values() if c}


def read_joined(src: DataSource, llm_src: DataSource | None, *, id: str | None, human, llm: list, text=None,
                domain=None, llm_id: str | None = None, multi_label: bool = False, batch_size: int = 8192):
    """Item batches of two joined files (or one multi-label file): ``(layout, batches, skipped, notes)``."""
    if llm_src is not None and not id:
        raise InputError("--llm-file needs --id COL: the item id both files share", path=src.path,
                         expected="--id COL (and --llm-id COL when the LLM file names it otherwise)")
    if not human:
        raise InputError("the human labels need --human COL", path=src.path, expected="--human COL")
    h_cols = split_columns(human) if multi_label else [str(human)]
    if multi_label:
        llm_groups = [split_columns(g) for g in (llm or [])] or ([list(h_cols)] if llm_src is not None else [])
        for g in llm_groups:
            if len(g) != len(h_cols):
                raise InputError(f"--llm {','.join(g)} names {len(g)} class columns, --human names {len(h_cols)}",
                                 path=src.path, expected="one LLM column per human class column, in the same order")
    else:
        llm_groups = [[c] for c in (llm or [])]
    if not llm_groups:
        raise InputError("no LLM label column: pass --llm COL", path=src.path, expected="--llm COL [COL ...]")
    names, taken = {}, {"human", *(h_cols if not multi_label else [])}
    for g in llm_groups:
        name = _llm_name(g, llm_src.path if llm_src is not None else None, multi_label, taken)
        taken.add(name)
        names[name] = g
    classes = h_cols if multi_label else None
    items, order, skipped = {}, [], {}

    def to_human(it, _name, labels):
        it["human"].extend(labels)

    def to_llm(it, name, labels):
        it["llm"].setdefault(name, []).extend(labels)

    extra = {"--text": text, "--domain": domain}
    if llm_src is None:  # one file, both sides in it
        side = _Side({"human": h_cols, **names}, classes)

        def both(it, name, labels):
            (to_human if name == "human" else to_llm)(it, name, labels)
        _read(src, id, side, "human", extra, items, order, both, skipped)
        ids = order
    else:
        _read(src, id, _Side({"human": h_cols}, classes), "human", extra, items, order, to_human, skipped)
        _read(llm_src, llm_id or id, _Side(names, classes), "llm", {}, items, order, to_llm, skipped)
        ids = [i for i in order if items[i]["rows"]["human"] and items[i]["rows"]["llm"]]
    notes = _partner_notes(items, order, src, llm_src, skipped) if llm_src is not None else []
    if multi_label:
        n_none = sum(it["human"].count(NONE_LABEL) + sum(v.count(NONE_LABEL) for v in it["llm"].values())
                     for it in items.values())
        notes.append(("info", f"multi-label columns: each class marked 1 is one label of its item; {n_none:,} "
                              f"annotation(s) marked no class and count as the label '{NONE_LABEL}'"))
    if not ids:
        raise InputError("no item id is in both files" if llm_src is not None else "no row with a label",
                         path=src.path if llm_src is None else f"{src.path} + {llm_src.path}",
                         expected="the same item ids in the --id column of both files")
    layout = Layout(text="text" if text else None, human="human", llm={m: f"llm:{m}" for m in names}, id="id",
                    domain="domain" if domain else None)
    return layout, grouped_batches(items, ids, layout.llm, batch_size), skipped, notes


def _partner_notes(items, order, src, llm_src, skipped) -> list:
    lone = {"human": [0, 0], "llm": [0, 0]}  # rows, items
    for i in order:
        rows = items[i]["rows"]
        for side, other in (("human", "llm"), ("llm", "human")):
            if rows[side] and not rows[other]:
                lone[side][0] += rows[side]
                lone[side][1] += 1
    notes = []
    for side, path, other in (("human", src.path, llm_src.path), ("llm", llm_src.path, src.path)):
        n_rows, n_items = lone[side]
        if n_rows:
            reason = f"{side} row without a partner (its id is not in {os.path.basename(str(other))})"
            skipped[reason] = skipped.get(reason, 0) + n_rows
            notes.append(("warning", f"{n_rows:,} row(s) of {path} ({n_items:,} item id(s)) have no partner in "
                                     f"{other} and are left out of every figure"))
    return notes
