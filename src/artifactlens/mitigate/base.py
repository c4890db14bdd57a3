"""The shared layer of the mitigations: the registry, :class:`Mitigation`, what one returns, and the
audit options a result was made with.

A mitigation is one class, registered under its audit kind, with a ``name`` (``--method NAME``), a
one-line ``reason`` (written into the ``mitigation_reason`` column beside what the row's own evidence
says) and ``targets``: the audited figures it moves and the direction it moves them (``"down"``,
``"up"``). ``apply(ctx)`` reads the input rows and the audit's per-row flags from ``ctx`` and returns a
:class:`Mitigated`: the rows (every input row, in order, the mitigated values in the columns the audit
read), a ``mitigation`` and a ``mitigation_reason`` value per row, the rows the re-audit should read
(all of them, unless the mitigation is a filter) and any extra tables for the after-result.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import pyarrow as pa

from ..errors import InputError
from ..result import AuditResult

REGISTRY: dict[str, dict[str, type["Mitigation"]]] = {}


def register(cls: type["Mitigation"]) -> type["Mitigation"]:
    """Class decorator: make ``cls`` the ``cls.name`` mitigation of ``cls.kind``."""
    REGISTRY.setdefault(cls.kind, {})[cls.name] = cls
    return cls


@dataclass
class Context:
    """What a mitigation reads: the input rows (``table``; None for the kinds read as records), the
    input's path, the result it mitigates, the audit options it was made with and the per-row flags of
    that audit (``flags``, row-aligned with ``table``; None where the kind has none)."""

    kind: str
    path: Any
    before: AuditResult
    options: dict
    table: pa.Table | None = None
    flags: pa.Table | None = None
    settings: dict = field(default_factory=dict)  # the mitigation's own settings (e.g. ``reweight``)
    records: list | None = None  # kinds read as records (simulations): the parsed conversations


@dataclass
class Mitigated:
    """A mitigation's output. ``table``: every input row in order (mitigated values in place);
    ``action``/``why``: the ``mitigation`` and ``mitigation_reason`` of each row (``None`` action: the row
    is unchanged); ``audit_rows``: the rows the re-audit reads (None: all); ``records``: for kinds read as
    records (simulations), the records to write instead of ``table``; ``tables``: extra result tables
    ``{name: (title, columns, rows)}``; ``notes``: info findings for the after-result."""

    table: pa.Table | None
    action: list
    why: list
    audit_rows: list | None = None
    records: list | None = None
    tables: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    #: figures the mitigation computes itself, not the audit: ``{name: (before, after)}``
    figures: dict = field(default_factory=dict)


class Mitigation:
    """Base of every mitigation: set ``kind``, ``name``, ``reason``, ``targets`` and implement ``apply``."""

    kind: ClassVar[str] = ""
    name: ClassVar[str] = ""
    reason: ClassVar[str] = ""
    #: ((metric, "down" | "up"), ...): the audited figures this moves, in the stated direction
    targets: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: True: the kind has no mechanical fix; ``apply`` is not called, ``advice`` says what to do
    advice_only: ClassVar[bool] = False
    #: False: the rows are not changed (the mitigation is a table), so the re-audit would repeat the audit
    changes_rows: ClassVar[bool] = True

    def applies(self, ctx: Context) -> str | None:
        """None when the mitigation can run on ``ctx``; else why not (one line)."""
        return None

    def apply(self, ctx: Context) -> Mitigated:  # pragma: no cover - every subclass implements it
        raise NotImplementedError

    def advice(self, ctx: Context) -> str:
        return self.reason


def column(table: pa.Table, name: str, path=None) -> list:
    """``table[name]`` as a Python list; a missing column is one :class:`InputError` naming it."""
    if name not in table.column_names:
        raise InputError(f"missing column '{name}' that the audit read", path=path, column=name,
                         expected=f"one of {', '.join(table.column_names)}")
    return table.column(name).to_pylist()


def replace(table: pa.Table, name: str, values: list, type: pa.DataType | None = None) -> pa.Table:
    """``table`` with column ``name`` replaced by ``values`` (same position; type kept where it fits)."""
    i = table.column_names.index(name)
    old = table.schema.field(name).type
    try:
        arr = pa.array(values, type=type or old)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        arr = pa.array([None if v is None else str(v) for v in values], type=pa.string())
    return table.set_column(i, name, arr)
