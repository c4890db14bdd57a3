"""One package per data kind; each holds the whole audit for that kind.

Every audit package has a ``spec`` module with its :class:`~artifactlens.contract.Audit` subclass,
registered by kind (``@register``): options, metric table, CLI flags and ``compute``. The registry
(:func:`artifactlens.contract.registry`) is the one list of audits: the CLI, the gate, the demo and the
shell completion iterate it. See docs/architecture.md.
"""
from __future__ import annotations


def available() -> dict:
    """``{kind: Audit subclass}`` (the registry)."""
    from ..contract import registry
    return registry()


def load_audit(kind: str):
    """The audit class for ``kind``, or None."""
    return available().get(kind)


def __getattr__(name):
    if name == "AUDIT_KINDS":
        return tuple(available())
    raise AttributeError(name)
