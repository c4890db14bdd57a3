"""The simulations audit's contract face: options, metric table, CLI flags and ``compute``."""
from __future__ import annotations

import os
from dataclasses import dataclass

from ...contract import HIGHER_IS_WORSE, Audit, MetricSpec, MetricTable, register
from . import EXAMPLES, HELP, add_arguments as _add_arguments
from .audit import THRESHOLDS, audit_simulations
from .digression import MIN_RUN
from .rules import LOOP_THRESHOLD


@dataclass
class SimulationOptions:
    """The simulations audit's own options (CLI flags of the same names)."""

    format: str | None = None
    digression_threshold: float | None = None
    min_run: int = MIN_RUN
    loop_threshold: float = LOOP_THRESHOLD
    embeddings: str | None = None
    judge: object = None  # an LLM judge object (the CLI builds it from --judge-url)
    title: str | None = None


@register
class SimulationsAudit(Audit):
    kind = "simulations"
    help = HELP
    examples = EXAMPLES
    Options = SimulationOptions
    demo = ("simulations.jsonl",
            {"title": "Simulations (demo: CAMEL-style role-play with planted flips, interruptions, digressions)"})
    metrics = MetricTable((
        MetricSpec("n_conversations", headline=True),
        MetricSpec("task_accuracy", headline=True),
        *(MetricSpec(m, worse=HIGHER_IS_WORSE, warn=w, bad=b, headline=True) for m, (w, b) in THRESHOLDS.items()),
    ))

    @classmethod
    def add_arguments(cls, parser) -> None:
        _add_arguments(parser)

    @classmethod
    def options_from_args(cls, a):
        judge = None
        if a.judge_url:
            from .judge import LLMJudge
            judge = LLMJudge(a.judge_url, a.judge_model, os.environ.get(a.judge_key_env) if a.judge_key_env else None)
        return SimulationOptions(format=a.format, digression_threshold=a.digression_threshold, min_run=a.min_run,
                                 loop_threshold=a.loop_threshold, embeddings=a.embeddings, judge=judge)

    def compute(self, data, o: SimulationOptions, ctx):
        r = ctx.run
        res = audit_simulations(data, format=o.format, digression_threshold=o.digression_threshold,
                                min_run=o.min_run, loop_threshold=o.loop_threshold, judge=o.judge, flags=r.flags,
                                seed=r.seed, encoding=r.encoding, chunk_size=max(1, min(r.batch_size, 2048)),
                                embeddings=o.embeddings)
        if o.title:
            res.title = o.title
        return res
