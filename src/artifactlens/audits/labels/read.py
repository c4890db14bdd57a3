"""Input for the labels audit: wide files (one item a row, label lists in cells) and long files (one
annotation a row), both turned into a stream of *item batches* with one label-list column per source.

Wide cells are parsed by :func:`artifactlens.io.conventions.parse_label_list` (``"[3.0, 4.0, nan]"``,
``"['a', 'b']"``, JSON lists, native list columns; never ``eval``). Long files are grouped by item id in
one pass (the annotations of an item may be anywhere in the file) and re-emitted as wide item batches
whose label cells are JSON lists, so both layouts share one check.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Iterator

import pyarrow as pa

from ...errors import InputError
from ...io.conventions import normalise_label
from ...io.readers import DataSource, require_columns


@dataclass
class Layout:
    """Where the labels are: ``llm`` maps a model name to its label-list column in the item batches."""

    text: str | None
    human: str
    llm: dict[str, str]
    id: str | None = None
    domain: str | None = None
    format: str = "wide"
    long: dict = field(default_factory=dict)  # long format: annotator/label/source/model columns


def wide_batches(src: DataSource, layout: Layout) -> Iterator[pa.RecordBatch]:
    """The file's batches, after checking on the first one that every named column exists."""
    first = True
    for b in src.batches():
        if first:
            require_columns(b.schema.names, _roles(layout), src.path)
            first = False
        yield b


def _roles(layout: Layout) -> dict:
    roles = {"--text": layout.text, "--human": layout.human, "--id": layout.id, "--domain": layout.domain}
    roles.update({f"--llm ({m})": c for m, c in layout.llm.items()})
    return roles


def long_to_items(src: DataSource, layout: Layout, human_value: str = "human",
                  llm_values: tuple[str, ...] = ()) -> tuple[Layout, list[pa.RecordBatch], dict]:
    """Group a long file (one annotation a row) into item batches.

    Rows whose source is ``human_value`` are human labels; rows whose source is in ``llm_values`` (any
    other source when empty) are LLM labels of the model named by the ``model`` column, or by the source
    value when there is no model column. Returns the item layout, the batches and rows skipped by reason.
    """
    cols = layout.long
    roles = {"--id": layout.id, "--text": layout.text, "--domain": layout.domain, "--label": cols["label"],
             "--source": cols["source"], "--annotator": cols.get("annotator"), "--model": cols.get("model")}
    if layout.id is None:
        raise InputError("a long file needs --id (the item each annotation belongs to)", path=src.path,
                         expected="--id COL")
    items: dict[str, dict] = {}
    skipped: dict[str, int] = {}
    models: dict[str, None] = {}
    row0 = 0
    for b in src.batches():
        if row0 == 0:
            require_columns(b.schema.names, roles, src.path)
        get = lambda c: b.column(c).to_pylist() if c else [None] * b.num_rows  # noqa: E731
        for r, (iid, text, dom, lab, source, model) in enumerate(zip(get(layout.id), get(layout.text), get(layout.domain),
                                                      get(cols["label"]), get(cols["source"]), get(cols.get("model")))):
            if iid is None or str(iid).strip() == "":
                skipped["annotation without an item id"] = skipped.get("annotation without an item id", 0) + 1
                continue
            it = items.setdefault(str(iid), {"text": None, "domain": None, "human": [], "llm": {}})
            if it["text"] is None and text not in (None, ""):
                it["text"] = text
            if it["domain"] is None and dom not in (None, ""):
                it["domain"] = dom
            s = None if source is None else str(source).strip()
            try:
                lab = normalise_label(lab)
            except ValueError as e:
                raise InputError(str(e), path=src.path, row=row0 + r, column=cols["label"],
                                 expected="a label of at most 64 digits, text, or empty") from None
            if s == human_value:
                it["human"].append(lab)
            elif s and (not llm_values or s in llm_values):
                name = str(model) if cols.get("model") and model not in (None, "") else s
                models.setdefault(name, None)
                it["llm"].setdefault(name, []).append(lab)
            else:
                skipped["annotation from another source"] = skipped.get("annotation from another source", 0) + 1
        row0 += b.num_rows
    if not models:
        raise InputError(f"no LLM annotations (no source other than '{human_value}')", path=src.path,
                         column=cols["source"], expected="rows whose source names an LLM")
    out = Layout(text="text" if layout.text else None, human="human", llm={m: f"llm:{m}" for m in models}, id="id",
                 domain="domain" if layout.domain else None, format="long", long=cols)
    return out, grouped_batches(items, list(items), out.llm, src.batch_size), skipped


def grouped_batches(items: dict, ids: list, llm_cols: dict, step: int) -> list[pa.RecordBatch]:
    """Item batches from ``{id: {"text", "domain", "human": [labels], "llm": {model: [labels]}}}`` (the
    items of ``ids``, in that order): ``id``, ``text``, ``domain``, ``human`` and one ``llm_cols[model]``
    column per model, the label cells JSON lists."""
    batches = []
    for start in range(0, len(ids), step):
        chunk = ids[start:start + step]
        data = {"id": chunk, "text": [items[i]["text"] for i in chunk],
                "domain": [items[i]["domain"] for i in chunk],
                "human": [json.dumps(items[i]["human"]) for i in chunk]}
        for m, c in llm_cols.items():
            data[c] = [json.dumps(items[i]["llm"].get(m, [])) for i in chunk]
        batches.append(pa.RecordBatch.from_pydict(data))
    return batches
