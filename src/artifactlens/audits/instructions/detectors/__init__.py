"""Row-level detectors for instruction data, one small class per flag, registered by name, one module
per error family.

``family`` is the error type of "Under the Surface" (Das et al., 2024, sec. instructions) the flag counts
toward: ``incomprehensible_instruction`` (:mod:`.instruction`), ``inconsistent_input`` (:mod:`.input`),
``inconsistent_output`` (:mod:`.output`), ``incorrect_output`` (:mod:`.incorrect`), and the verifiable
instruction-following checks of IFEval (Zhou et al., 2023) plus completeness, ``not_following``
(:mod:`.following`, :mod:`.completeness`); duplicates have their own family. One family is not an error:
``below_expert_standard`` (``QUALITY_FAMILY``: a bare answer where comparable answers elaborate, what
CoachLM's experts rewrote), counted and compared like any flag, never in ``error``. "Tests" in each docstring is
the precision measured in ``tests/test_instructions_detectors*.py``: rows it must flag that it flags /
near-miss rows it must leave alone that it leaves alone. Adding a detector means adding one class with
``@register`` (in any module, e.g. a model-backed score: ``register(MyDetector)``); the audit's detector
list is the registry.
"""
from __future__ import annotations

from .base import (ERROR_TYPES, FAMILY_TITLES, QUALITY_FAMILY, REGISTRY, Features, InstructionDetector, count_chars,
                   count_substring, reasons_where, register, rx, words)
from . import instruction, input, output, incorrect, following, completeness  # noqa: F401  (registration order = column order)

__all__ = ["ERROR_TYPES", "FAMILY_TITLES", "QUALITY_FAMILY", "REGISTRY", "Features", "InstructionDetector", "count_chars",
           "count_substring", "reasons_where", "register", "rx", "words"]
