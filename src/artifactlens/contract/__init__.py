"""The shared machinery every audit is built on: the :class:`Audit` contract and its registry, the run
options, and the rule / metric-table language. See docs/architecture.md."""
from .base import KIND_ORDER, Audit, audit, get_audit, register, registry
from .options import RunContext, RunOptions, add_run_arguments
from .rules import HIGHER_IS_WORSE, LOWER_IS_WORSE, MetricSpec, MetricTable, Rule

__all__ = ["Audit", "register", "registry", "get_audit", "audit", "KIND_ORDER", "RunOptions", "RunContext",
           "add_run_arguments", "MetricSpec", "MetricTable", "Rule", "HIGHER_IS_WORSE", "LOWER_IS_WORSE"]
