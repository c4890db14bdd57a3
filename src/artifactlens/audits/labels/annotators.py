"""Named annotators: the labels of each person and each LLM, item by item, as flat numpy arrays.

Two layouts are read without conversion:

- the public Alt-Test release (Calderon et al., ACL 2025; github.com/nitaytech/AltTest): one JSON object
  per side, ``{annotator: {item id: label}}`` (``human_annotations.json``, ``llm_annotations.json``);
- a long file, one annotation a row (``--format long --id --annotator --label --source --model``): human
  rows name their annotator, LLM rows their model (or the source value when there is no model column).

Labels go through :func:`artifactlens.io.conventions.normalise_label` (``1`` and ``"1"`` are one class,
integers beyond 2^53 stay exact, an absurdly long integer is an error). In these typed layouts only JSON
``null``/NaN and blank text are missing (a text label such as ``"none"`` is a label); in untyped list cells
the usual missing tokens apply. A repeated (annotator, item) keeps the last label, as a JSON object
does, and the repeats are counted. An LLM with several samples of one item keeps them all
(``llm_self_agreement``); tests that need one LLM label per item use its plurality label (first seen
wins a tie) or, for numbers, the mean of its samples.

``label_type``: ``categorical`` (classes, compared for equality), ``text`` (free text: classes too, but
the Alternative Annotator Test scores alignment with a text similarity, :mod:`.alttest`), ``ordinal`` or
``numeric`` (numbers; a label that is not a number is an :class:`InputError` naming the file, annotator
and item). ``auto`` (the default) reads the labels as numeric when every one is a number; otherwise as
free text when :func:`many_classes` holds (more distinct labels than ``max(50, 0.2 x items)``: a
classification has a few classes however many items it has, free text about as many answers as
annotations; KiloGram: 4,434 labels on 993 items), else categorical; and says which, and why.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import InputError
from ...io.conventions import normalise_label
from .items import label_key, sort_key

LABEL_TYPES = ("auto", "categorical", "text", "ordinal", "numeric")
TYPED_MISSING = frozenset({""})  # JSON layouts: null/NaN and blank text are missing, other text is a label
#: free text / too many classes: more distinct labels than max(MANY_CLASSES_MIN, MANY_CLASSES_SHARE x items)
MANY_CLASSES_MIN, MANY_CLASSES_SHARE = 50, 0.2
MANY_CLASSES_RULE = (f"more distinct labels than max({MANY_CLASSES_MIN}, {MANY_CLASSES_SHARE:g} x items)")
TOP_CLASSES = 30  # per-class figures kept for free-text labels (the most frequent ones; the rest as '(other)')


def many_classes(n_classes: int, n_items: int) -> bool:
    """The free-text rule: ``n_classes > max(50, 0.2 * n_items)``. The labels audit reads such string
    labels as free text, and shows per-class figures for the most frequent classes only."""
    return n_classes > max(MANY_CLASSES_MIN, MANY_CLASSES_SHARE * n_items)


@dataclass
class Annotations:
    """Annotations as parallel arrays. Humans: ``h_who`` (index into ``humans``), ``h_item`` (index into
    ``items``), ``h_code`` (index into ``classes``) and ``h_val`` (the number, NaN when not a number); one
    entry per (human, item). LLMs: the same with ``l_*`` (several samples of one item allowed)."""

    items: list[str]
    humans: list[str]
    llms: list[str]
    classes: list
    label_type: str
    h_who: np.ndarray
    h_item: np.ndarray
    h_code: np.ndarray
    h_val: np.ndarray
    l_who: np.ndarray
    l_item: np.ndarray
    l_code: np.ndarray
    l_val: np.ndarray
    skipped: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    paths: list = field(default_factory=list)
    cache: dict = field(default_factory=dict, repr=False, compare=False)  # per-label work of the text scorers

    @property
    def numeric(self) -> bool:
        return self.label_type in ("ordinal", "numeric")

    def humans_per_item(self) -> np.ndarray:
        return np.bincount(self.h_item, minlength=len(self.items))

    def llm_single(self, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One label per item for LLM ``m``: (present mask, class code, value), each of length n_items.
        Several samples: the plurality class (first seen wins a tie) and the mean value."""
        n, k = len(self.items), max(1, len(self.classes))
        sel = self.l_who == m
        it, code, val = self.l_item[sel], self.l_code[sel], self.l_val[sel]
        present = np.bincount(it, minlength=n) > 0
        out_code = np.full(n, -1, dtype=np.int64)
        out_val = np.full(n, np.nan)
        if it.size == 0:
            return present, out_code, out_val
        if np.bincount(it, minlength=n).max() == 1:
            out_code[it], out_val[it] = code, val
            return present, out_code, out_val
        counts = np.bincount(it * k + code, minlength=n * k).reshape(n, k).astype(float)
        first = np.full(n * k, np.inf)
        np.minimum.at(first, it * k + code, np.arange(it.size, dtype=float))
        score = counts - first.reshape(n, k) / (it.size + 1.0)  # most samples, then the earliest seen
        out_code[present] = np.argmax(score, axis=1)[present]
        sums = np.bincount(it, weights=np.nan_to_num(val), minlength=n)
        out_val[present] = sums[present] / np.bincount(it, minlength=n)[present]
        return present, out_code, out_val


class _Builder:
    """Collects (annotator, item, label) triples and codes them."""

    def __init__(self, label_type: str):
        if label_type not in LABEL_TYPES:
            raise InputError(f"unknown label type {label_type!r}", expected=" or ".join(LABEL_TYPES))
        self.label_type = label_type
        self.items: dict[str, int] = {}
        self.names = {"human": {}, "llm": {}}
        self.rows = {"human": {}, "llm": []}  # human: {(who, item): label}; llm: [(who, item, label)]
        self.labels: dict[str, object] = {}
        self.skipped: dict[str, int] = {}
        self.first_text: tuple | None = None  # where the first non-number label is (for the error)

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n

    def add(self, side: str, who: str, item: str, raw, where: tuple, missing=None) -> None:
        try:
            lab = normalise_label(raw) if missing is None else normalise_label(raw, missing=missing)
        except ValueError as e:
            path, row, column = where
            raise InputError(f"annotator {who!r}, item {item!r}: {e}", path=path, row=row, column=column,
                             expected="a label of at most 64 digits, text, or null") from None
        if lab is None:
            self.skip(f"{side} annotation with a missing label")
            return
        i = self.items.setdefault(item, len(self.items))
        w = self.names[side].setdefault(who, len(self.names[side]))
        k = label_key(lab)
        self.labels.setdefault(k, lab)
        if self.first_text is None and not _is_number(lab):
            self.first_text = (where, who, item, lab)
        if side == "human":
            if (w, i) in self.rows["human"]:
                self.skip("repeated annotation by the same human of the same item (the last one kept)")
            self.rows["human"][(w, i)] = k
        else:
            self.rows["llm"].append((w, i, k))

    def build(self) -> Annotations:
        if not self.rows["human"]:
            raise InputError("no human annotation with a label", expected="human annotations {annotator: {item: label}}")
        if not self.rows["llm"]:
            raise InputError("no LLM annotation with a label", expected="LLM annotations {model: {item: label}}")
        notes = []
        label_type = self.label_type
        if label_type == "auto":
            n_labels, n_items = len(self.labels), len(self.items)
            if self.first_text is None:
                label_type, why = "numeric", "every label is a number"
            elif many_classes(n_labels, n_items):
                label_type, why = "text", (f"free text: {n_labels:,} distinct labels on {n_items:,} items, "
                                           f"{MANY_CLASSES_RULE}")
            else:
                label_type, why = "categorical", "some labels are text"
            notes.append(f"labels read as {label_type} ({why}); pass --label-type to choose")
        elif label_type in ("ordinal", "numeric") and self.first_text is not None:
            (path, row, column), who, item, lab = self.first_text
            raise InputError(f"annotator {who!r}, item {item!r}: label {lab!r} is not a number", path=path, row=row,
                             column=column, expected=f"numbers for --label-type {label_type} (or categorical)")
        keys = sorted(self.labels, key=lambda k: sort_key(self.labels[k]))
        index = {k: j for j, k in enumerate(keys)}
        classes = [self.labels[k] for k in keys]
        values = np.array([float(c) if _is_number(c) else np.nan for c in classes])

        def arrays(triples):
            a = np.array(triples, dtype=object).reshape(-1, 3)
            who = a[:, 0].astype(np.int64)
            item = a[:, 1].astype(np.int64)
            code = np.array([index[k] for k in a[:, 2]], dtype=np.int64)
            return who, item, code, values[code] if code.size else np.zeros(0)

        hw, hi, hc, hv = arrays([(w, i, k) for (w, i), k in self.rows["human"].items()])
        lw, li, lc, lv = arrays(self.rows["llm"])
        return Annotations(items=list(self.items), humans=list(self.names["human"]), llms=list(self.names["llm"]),
                           classes=classes, label_type=label_type, h_who=hw, h_item=hi, h_code=hc, h_val=hv,
                           l_who=lw, l_item=li, l_code=lc, l_val=lv, skipped=dict(self.skipped), notes=notes)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _load_object(path) -> dict:
    p = Path(path)
    try:
        with open(p, "rb") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise InputError("no such file", path=path) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", path=path, expected="a JSON file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        line = getattr(e, "lineno", None)
        raise InputError(f"not valid JSON ({getattr(e, 'msg', e)})", path=path, line=line,
                         expected="one JSON object {annotator: {item id: label}}") from None
    except RecursionError:
        raise InputError("JSON nested too deeply", path=path, expected="{annotator: {item id: label}}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise InputError("not the Alt-Test layout", path=path,
                         expected="one JSON object {annotator: {item id: label}} (the Alt-Test release layout)")
    return data


def read_alt_test(human_path, llm_path, label_type: str = "auto") -> Annotations:
    """The Alt-Test release layout: ``human_annotations.json`` and ``llm_annotations.json``."""
    b = _Builder(label_type)
    for side, path in (("human", human_path), ("llm", llm_path)):
        for who, anns in _load_object(path).items():
            for item, lab in anns.items():
                if isinstance(lab, (dict, list)):
                    raise InputError(f"annotator {who!r}, item {item!r}: the label is a {type(lab).__name__}",
                                     path=path, expected="one label (text, number or null) per item")
                b.add(side, str(who), str(item), lab, (path, None, None), missing=TYPED_MISSING)
    out = b.build()
    out.paths = [str(human_path), str(llm_path)]
    return out


def read_long(src, *, id: str, label: str, source: str, annotator: str | None, model: str | None,
              human_value: str = "human", llm_values: tuple = (), label_type: str = "auto") -> Annotations:
    """A long file (a :class:`~artifactlens.io.readers.DataSource`), one annotation a row."""
    from ...io.readers import require_columns
    if not annotator:
        raise InputError("the annotator test needs named annotators: pass --annotator COL", path=src.path,
                         expected="a column naming who gave each human label")
    b = _Builder(label_type)
    roles = {"--id": id, "--label": label, "--source": source, "--annotator": annotator, "--model": model}
    row0 = 0
    for batch in src.batches():
        if row0 == 0:
            require_columns(batch.schema.names, roles, src.path)
        get = lambda c: batch.column(c).to_pylist() if c else [None] * batch.num_rows  # noqa: E731
        for r, (iid, lab, s, who, mod) in enumerate(zip(get(id), get(label), get(source), get(annotator), get(model))):
            where = (src.path, row0 + r, label)
            if iid is None or str(iid).strip() == "":
                b.skip("annotation without an item id")
                continue
            s = None if s is None else str(s).strip()
            if s == human_value:
                if who is None or str(who).strip() == "":
                    b.skip("human annotation without an annotator")
                    continue
                b.add("human", str(who).strip(), str(iid), lab, where)
            elif s and (not llm_values or s in llm_values):
                name = str(mod).strip() if model and mod not in (None, "") else s
                b.add("llm", name, str(iid), lab, where)
            else:
                b.skip("annotation from another source")
        row0 += batch.num_rows
    out = b.build()
    out.paths = [str(src.path)]
    return out


def read_gold(path, ann: Annotations, *, id: str = "id", label: str = "label", encoding: str = "utf-8"):
    """A small human-labelled sample (item id, label) for prediction-powered inference: returns
    ``(item index array, class code array, value array, skipped)``; items not among the annotated ones
    and labels outside the classes seen are counted, never silently dropped."""
    from ...io.readers import open_source, require_columns
    src = open_source(path, encoding=encoding)
    index = {k: j for j, k in enumerate(ann.items)}
    keys = {label_key(c): j for j, c in enumerate(ann.classes)}
    items, codes, vals, skipped = [], [], [], {}
    row0 = 0
    for batch in src.batches():
        if row0 == 0:
            require_columns(batch.schema.names, {"gold --id": id, "gold --label": label}, path)
        for r, (iid, lab) in enumerate(zip(batch.column(id).to_pylist(), batch.column(label).to_pylist())):
            try:
                lab = normalise_label(lab)
            except ValueError as e:
                raise InputError(str(e), path=path, row=row0 + r, column=label) from None
            reason = ("gold row with a missing label" if lab is None else
                      "gold item not among the annotated items" if str(iid) not in index else
                      "gold label outside the classes the annotators used" if label_key(lab) not in keys else None)
            if reason:
                skipped[reason] = skipped.get(reason, 0) + 1
                continue
            items.append(index[str(iid)]), codes.append(keys[label_key(lab)])
            vals.append(float(lab) if _is_number(lab) else math.nan)
        row0 += batch.num_rows
    return np.asarray(items, dtype=np.int64), np.asarray(codes, dtype=np.int64), np.asarray(vals), skipped


def item_batches(ann: Annotations, batch_size: int = 8192):
    """The annotations as the item batches of the first-order check: ``id``, ``human`` and one
    ``llm:<name>`` column per LLM, each cell a JSON list of the item's labels."""
    import pyarrow as pa
    n = len(ann.items)
    classes = [c if not isinstance(c, float) or math.isfinite(c) else str(c) for c in ann.classes]

    def lists(item, code, sel=None):
        if sel is not None:
            item, code = item[sel], code[sel]
        order = np.argsort(item, kind="stable")
        bounds = np.searchsorted(item[order], np.arange(n + 1))
        codes = code[order].tolist()
        return [json.dumps([classes[c] for c in codes[bounds[i]:bounds[i + 1]]]) for i in range(n)]

    cols = {"id": ann.items, "human": lists(ann.h_item, ann.h_code)}
    for m, name in enumerate(ann.llms):
        cols[f"llm:{name}"] = lists(ann.l_item, ann.l_code, ann.l_who == m)
    table = pa.table(cols)
    return table.to_batches(max_chunksize=batch_size)
