"""Instruction-data layouts, recognised from the column names (no flags needed).

Every layout is turned, batch by batch, into the same four text columns ``instruction``, ``input``,
``output``, ``source`` (never null; a missing input is ``""``) plus ``group`` (the id rows are resampled
by: the task for exploded ``instances``, else the row). Vectorised over Arrow (``pyarrow.compute``
list/struct kernels), so nested layouts cost no per-row Python.

=====================  ========================================================================
layout               columns recognised
=====================  ========================================================================
alpaca               ``instruction``, ``input``, ``output`` (Alpaca, Alpaca-cleaned, GPT-4-LLM)
self_instruct_pred   ``instruction``, ``input``, ``response`` (+ ``target``: Self-Instruct human eval)
instances            ``instruction`` + ``instances`` [{input, output}] (Self-Instruct seed tasks,
                     Unnatural Instructions core): one row per instance, grouped by task
prompt_completion    ``prompt``, ``completion`` (Self-Instruct fine-tuning files)
reference            ``instruction``, ``input``, ``reference response`` (CoachLM)
messages             ``messages`` [{role, content}] or ``conversations`` [{from, value}]: the first
                     user turn is the instruction, the next assistant turn the output
=====================  ========================================================================
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...errors import InputError

OUTPUT_NAMES = ("output", "response", "completion", "reference response", "reference_response", "answer",
                "target")
INSTRUCTION_NAMES = ("instruction", "prompt", "question", "query")
INPUT_NAMES = ("input", "context")
SOURCE_NAMES = ("source", "dataset", "origin", "category")
NO_INPUT = ("<noinput>", "<no input>", "noinput", "no input", "n/a", "none", "null", "<nooutput>")


def _text(col: pa.Array | None, n: int) -> pa.Array:
    if col is None:
        return pa.array([""] * n, type=pa.string())
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        col = pc.cast(col, pa.string()) if not pa.types.is_nested(col.type) else \
            pa.array([None if v is None else str(v) for v in col.to_pylist()], type=pa.string())
    return pc.fill_null(col.cast(pa.string()), "")


def _first(names, candidates, explicit=None):
    if explicit:
        return explicit if explicit in names else None
    low = {n.lower(): n for n in names}
    for c in candidates:
        if c in low:
            return low[c]
    return None


def detect_layout(names, instruction=None, input=None, output=None, path=None) -> dict:
    """Which layout ``names`` (column names) hold, and the column of each role. Raises InputError."""
    names = list(names)
    if instruction is None and output is None:
        for chat in ("messages", "conversations"):
            if chat in names:
                return {"layout": "messages", "chat": chat, "source": _first(names, SOURCE_NAMES)}
    ins = _first(names, INSTRUCTION_NAMES, instruction)
    if ins and "instances" in names and output is None:
        return {"layout": "instances", "instruction": ins, "source": _first(names, SOURCE_NAMES)}
    out = _first(names, OUTPUT_NAMES, output)
    if ins is None or out is None:
        role = "--instruction" if ins is None else "--output"
        raise InputError(f"cannot tell the instruction layout; columns found: {', '.join(names)}", path=path,
                         column=(instruction if ins is None else output) or role.strip("-"),
                         expected="Alpaca instruction/input/output, Self-Instruct instruction/input/response, "
                                  "prompt/completion, instances, or chat messages (or name them with "
                                  "--instruction/--input/--output)")
    inp = _first(names, INPUT_NAMES, input)
    layout = {"response": "self_instruct_pred", "completion": "prompt_completion"}.get(out.lower(), "alpaca")
    if "reference" in out.lower():
        layout = "reference"
    return {"layout": layout, "instruction": ins, "input": inp, "output": out, "source": _first(names, SOURCE_NAMES)}


def _clear_no_input(col: pa.Array) -> pa.Array:
    """``<noinput>``, ``N/A`` and friends mean no input: replaced by ``""``."""
    low = pc.utf8_lower(pc.utf8_trim_whitespace(col))
    return pc.if_else(pc.is_in(low, value_set=pa.array(NO_INPUT)), "", col)


def _struct_field(values: pa.Array, names) -> pa.Array | None:
    for nm in names:
        if pa.types.is_struct(values.type) and values.type.get_field_index(nm) >= 0:
            return pc.struct_field(values, nm)
    return None


def normalise(batch: pa.RecordBatch, spec: dict, row_offset: int = 0) -> pa.RecordBatch:
    """One batch in any recognised layout -> ``instruction, input, output, source, group, row``.

    ``row`` is the 0-based input row each output row comes from (instances explode to several rows).
    """
    n = batch.num_rows
    cols = dict(zip(batch.schema.names, batch.columns))
    rows = np.arange(row_offset, row_offset + n, dtype=np.int64)
    src = _text(cols.get(spec.get("source")) if spec.get("source") else None, n)
    if spec.get("source") is None:
        src = pa.array(["all"] * n, type=pa.string())
    lay = spec["layout"]
    if lay == "messages":
        ins, out = _chat_first_exchange(cols[spec["chat"]], n)
        inp = pa.array([""] * n, type=pa.string())
        group = rows
    elif lay == "instances":
        inst = cols["instances"]
        if not (pa.types.is_list(inst.type) or pa.types.is_large_list(inst.type)):
            raise InputError("'instances' is not a list", column="instances",
                             expected="a list of {input, output} objects")
        parent = pc.list_parent_indices(inst).to_numpy()
        flat = pc.list_flatten(inst)
        task_ins = _text(cols[spec["instruction"]], n)
        ins = task_ins.take(pa.array(parent))
        inp = _text(_struct_field(flat, ("input",)), len(flat))
        out = _text(_struct_field(flat, ("output",)), len(flat))
        src = src.take(pa.array(parent))
        rows = rows[parent]
        group = rows
    else:
        ins = _text(cols[spec["instruction"]], n)
        inp = _text(cols.get(spec["input"]) if spec.get("input") else None, n)
        out = _text(cols[spec["output"]], n)
        group = rows
    return pa.RecordBatch.from_arrays(
        [ins, _clear_no_input(inp), out, src, pa.array(group), pa.array(rows)],
        names=["instruction", "input", "output", "source", "group", "row"])


def _chat_first_exchange(col: pa.Array, n: int):
    """First user turn and the assistant turn after it, vectorised over a list<struct> column."""
    flat = pc.list_flatten(col)
    parent = pc.list_parent_indices(col).to_numpy()
    role = _struct_field(flat, ("role", "from"))
    text = _struct_field(flat, ("content", "value", "text"))
    if role is None or text is None:
        raise InputError("chat turns without role/content", column="messages",
                         expected="a list of {role, content} (or {from, value}) objects")
    role = pc.utf8_lower(pc.fill_null(role.cast(pa.string()), "")).to_numpy(zero_copy_only=False)
    text = pc.fill_null(text.cast(pa.string()), "").to_numpy(zero_copy_only=False)
    ins = np.full(n, "", dtype=object)
    out = np.full(n, "", dtype=object)
    is_user = np.isin(role, ["user", "human", "prompter"])
    is_asst = np.isin(role, ["assistant", "gpt", "bot", "model", "chatgpt"])
    pos = np.arange(len(role))
    first_user = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_user, parent[is_user], pos[is_user])
    ok = first_user < len(role)
    ins[ok] = text[first_user[ok]]
    after = is_asst & (pos > first_user[parent].clip(max=len(role)))
    first_asst = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_asst, parent[after], pos[after])
    ok = first_asst < len(role)
    out[ok] = text[first_asst[ok]]
    return pa.array(ins, type=pa.string()), pa.array(out, type=pa.string())
