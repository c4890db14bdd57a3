"""``audit_simulations``: the simulations audit through the contract (kept for callers of the old name).

The work is in :mod:`.spec` (``compute``), :mod:`.check` (the engine's map over conversations),
:mod:`.inputs` (the normaliser) and :mod:`.report` (the result).
"""
from __future__ import annotations

from ...contract import RunOptions
from ...result import AuditResult
from .spec import SimulationsAudit


def audit_simulations(path, *, flags: str | None = None, seed: int = 0, encoding: str = "utf-8",
                      batch_size: int = 8192, chunk_size: int | None = None, run: RunOptions | None = None,
                      **options) -> AuditResult:
    """Audit multi-agent traces in ``path``; ``options`` are the audit's own (``format``, ``embeddings``,
    ``digression_threshold``, ``min_run``, ``loop_threshold``, ``mistake_agent``, ``mistake_step``, ``judge``).
    ``chunk_size`` is the old name of ``batch_size`` (turns per batch)."""
    run = run or RunOptions(seed=seed, flags=flags, encoding=encoding, batch_size=chunk_size or batch_size)
    return SimulationsAudit().run(path, run=run, **options)
