"""Simulation audit: failure modes of multi-agent traces, and which agent and step went wrong.

After "Under the Surface" (Das et al., 2024): role-play agents flip roles, interrupt, digress from the
task, and digressing runs solve fewer tasks; after MAST (Cemri et al., 2025) and Who&When (Zhang et al.,
2025): the failure modes that can be checked mechanically, and failure attribution. Modules:
:mod:`.conversation` (the normalised trace), :mod:`.parsers` and :mod:`.traces` (formats),
:mod:`.inputs` (files -> conversation batches), :mod:`.rules` (flip / interruption / loop rules),
:mod:`.features` and :mod:`.detectors` (per-turn detectors, MAST modes), :mod:`.digression` (embedding
similarity to the task), :mod:`.attribution`, :mod:`.check` (the engine's map), :mod:`.judge` (optional
LLM judge), :mod:`.report` (result building), :mod:`.spec` (the audit).
"""
from __future__ import annotations

from .audit import audit_simulations
from .digression import DIGRESSION_THRESHOLD, EMBEDDINGS, MIN_RUN, STATIC_DIGRESSION_THRESHOLD
from .parsers import FORMATS
from .rules import LOOP_THRESHOLD
from .spec import EXAMPLES, HELP, add_arguments

KIND = "simulations"

__all__ = ["KIND", "HELP", "EXAMPLES", "add_arguments", "audit_simulations", "FORMATS", "LOOP_THRESHOLD",
           "DIGRESSION_THRESHOLD", "STATIC_DIGRESSION_THRESHOLD", "EMBEDDINGS", "MIN_RUN"]
