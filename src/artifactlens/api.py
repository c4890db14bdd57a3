"""The audits, found and run: the registry and the one API rule.

    artifactlens.audit(kind, data, run=RunOptions(...), **options)

This module sits above the audit packages (it imports each one's ``spec`` module, which registers its
:class:`~artifactlens.contract.Audit`), so the contract below them never imports an audit. The kind is
written once, in the audit class; adding a package under ``artifactlens/audits/`` with a ``spec`` module
adds a kind to the CLI, the gate, the demo and the shell completion.
"""
from __future__ import annotations

import importlib
import pkgutil

from . import audits
from .contract.base import Audit, registered
from .contract.options import RunOptions
from .errors import InputError
from .result import AuditResult

#: the scorecard and CLI order (the paper's order); kinds not listed come after, by name
KIND_ORDER = ("labels", "preferences", "instructions", "simulations", "text")
_discovered = False


def registry() -> dict[str, type[Audit]]:
    """``{kind: Audit subclass}`` for every audit package, in :data:`KIND_ORDER` then by name."""
    global _discovered
    if not _discovered:
        for m in pkgutil.iter_modules(audits.__path__):
            if m.ispkg:
                importlib.import_module(f"{audits.__name__}.{m.name}.spec")
        _discovered = True
    order = {k: i for i, k in enumerate(KIND_ORDER)}
    return dict(sorted(registered().items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def get_audit(kind: str) -> Audit:
    """An instance of the audit registered for ``kind``; an :class:`InputError` naming the kinds otherwise."""
    reg = registry()
    if not isinstance(kind, str) or kind not in reg:
        raise InputError(f"unknown audit kind {kind!r}", expected=f"one of {', '.join(reg)}")
    return reg[kind]()


def audit(kind: str, data=None, run: RunOptions | None = None, **options) -> AuditResult:
    """Run the ``kind`` audit on ``data`` (a path, DataFrame, pyarrow Table or ``datasets.Dataset``) with
    its own keyword ``options`` (named as on its CLI: ``--human-annotations`` -> ``human_annotations``) and
    the common ``run`` options. Returns the :class:`AuditResult` the CLI writes; writes nothing."""
    return get_audit(kind).run(data, run=run, **options)
