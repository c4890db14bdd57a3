"""The mitigations by kind: importing the kind modules registers their classes; the first registered
one that applies is the default (``ties`` before ``style`` before ``length`` for preferences)."""
from __future__ import annotations

from ..errors import InputError
from . import instructions, labels, preferences, simulations, text  # noqa: F401  (registers them)
from .base import REGISTRY, Context, Mitigation


def kinds() -> list[str]:
    return list(REGISTRY)


def choose(kind: str, method: str | None, ctx: Context | None = None) -> Mitigation:
    """The mitigation ``method`` of ``kind`` (the first that applies to ``ctx`` when None); an
    :class:`InputError` naming the choices otherwise."""
    ms = REGISTRY.get(kind)
    if not ms:
        raise InputError(f"no mitigation for kind {kind!r}", expected=f"one of {', '.join(REGISTRY)}")
    if method is not None:
        if method not in ms:
            raise InputError(f"the {kind} mitigations have no method {method!r}", expected=f"one of {', '.join(ms)}")
        m = ms[method]()
        why = m.applies(ctx) if ctx is not None else None
        if why:
            raise InputError(f"mitigate {kind} --method {method}: {why}")
        return m
    reasons = []
    for name, cls in ms.items():
        m = cls()
        why = m.applies(ctx) if ctx is not None else None
        if not why:
            return m
        reasons.append(f"{name}: {why}")
    raise InputError(f"no {kind} mitigation applies to this result ({'; '.join(reasons)})")
