"""The shared machinery every audit is built on: the :class:`Audit` contract (``register`` puts a class in
the registry), the run options, and the rule / metric-table language. Finding and running the audits is
:mod:`artifactlens.api`, one layer above the audit packages. See docs/architecture.md."""
from .base import Audit, register, registered
from .options import RunContext, RunOptions, add_run_arguments
from .rules import HIGHER_IS_WORSE, LOWER_IS_WORSE, MetricSpec, MetricTable, Rule

__all__ = ["Audit", "register", "registered", "RunOptions", "RunContext", "add_run_arguments", "MetricSpec",
           "MetricTable", "Rule", "HIGHER_IS_WORSE", "LOWER_IS_WORSE"]
