"""Per-turn detectors of the failure modes that can be checked without a model, mapped to MAST.

Each is one :class:`~artifactlens.engine.base.Detector`: ``score`` reads the per-turn feature columns
(:mod:`.features`, built once per batch by :mod:`.check`) and gives a score and a reason naming the
evidence turn; the flag is ``decide(score)`` against the recorded ``threshold``. ``family`` is the MAST
failure mode it approximates (Cemri et al., "Why Do Multi-Agent LLM Systems Fail?", NeurIPS 2025 D&B).
The thresholds are stated choices, not fitted to a labelled set (no MAST turn labels ship here); the
tests in tests/test_simulations_detectors.py hold one case table per detector.

Out of reach without a model (:data:`MAST_NEEDS_MODEL`): FM-1.4 loss of conversation history, FM-2.2 fail
to ask for clarification, FM-2.4 information withholding, FM-2.6 reasoning-action mismatch, FM-3.2 no or
incomplete verification, FM-3.3 incorrect verification (and FM-1.1 disobeying the task beyond its stated
protocol; FM-2.3 task derailment only as far as embedding similarity to the task goes).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from ...engine.base import Detector, RowScores

MAST = {"FM-1.1": "disobey task specification", "FM-1.2": "disobey role specification", "FM-1.3": "step repetition",
        "FM-1.4": "loss of conversation history", "FM-1.5": "unaware of termination conditions",
        "FM-2.1": "conversation reset", "FM-2.2": "fail to ask for clarification", "FM-2.3": "task derailment",
        "FM-2.4": "information withholding", "FM-2.5": "ignored other agent's input",
        "FM-2.6": "reasoning-action mismatch", "FM-3.1": "premature termination",
        "FM-3.2": "no or incomplete verification", "FM-3.3": "incorrect verification"}
MAST_NEEDS_MODEL = ("FM-1.4", "FM-2.2", "FM-2.4", "FM-2.6", "FM-3.2", "FM-3.3")

DETECTORS: dict[str, type[Detector]] = {}


def register(cls: type[Detector]) -> type[Detector]:
    DETECTORS[cls.name] = cls
    return cls


def _col(batch: pa.RecordBatch, name: str) -> np.ndarray:
    return batch.column(name).to_numpy(zero_copy_only=False)


def _reasons(score, flag_at, fmt) -> list:
    return [fmt(i) if ok else None for i, ok in enumerate(flag_at)]


@register
class StepRepetition(Detector):
    name = "step_repetition"
    family = "FM-1.3"
    threshold = 0.8
    description = "a turn whose word 3-grams overlap an earlier turn's by Jaccard >= 0.8 (a repeated step)"

    def score(self, batch):
        s, of = _col(batch, "ngram_sim"), _col(batch, "ngram_of")
        return RowScores(s, _reasons(s, self.decide(s), lambda i: f"3-gram Jaccard {s[i]:.2f} to turn {of[i]}"))


@register
class SemanticRepetition(Detector):
    name = "semantic_repetition"
    family = "FM-1.3"
    threshold = 0.95
    description = ("a turn whose embedding has cosine >= 0.95 to an earlier turn's (a restated step; the same "
                   "vectors as the digression score)")

    def score(self, batch):
        s, of = _col(batch, "emb_sim"), _col(batch, "emb_of")
        return RowScores(s, _reasons(s, self.decide(s), lambda i: f"embedding cosine {s[i]:.3f} to turn {of[i]}"))


@register
class Livelock(Detector):
    name = "livelock"
    family = "FM-1.3"
    threshold = 3
    description = "the third (or later) turn in a row that brings no new content (<= 20% unseen 3-grams)"

    def score(self, batch):
        s = _col(batch, "stale_run").astype(np.float64)
        return RowScores(s, _reasons(s, self.decide(s), lambda i: f"{int(s[i])} turns in a row without new content"))


@register
class UnawareOfTermination(Detector):
    name = "unaware_of_termination"
    family = "FM-1.5"
    threshold = 2
    description = "the run goes on after its stop marker (TERMINATE, <CAMEL_TASK_DONE>, <INFO>, final answer): " \
                  "the second turn after it or later"

    def score(self, batch):
        s, stop = _col(batch, "after_stop"), _col(batch, "stop_at")
        return RowScores(s, _reasons(s, self.decide(s), lambda i: f"{int(s[i])} turns after the stop marker in turn "
                                                                      f"{stop[i]}"))


@register
class ConversationReset(Detector):
    name = "conversation_reset"
    family = "FM-2.1"
    threshold = 0.5
    description = "a later turn (3rd on) that restates the first turn (3-gram Jaccard >= 0.5) or says it starts over"

    def score(self, batch):
        s = _col(batch, "reset_score")
        return RowScores(s, _reasons(s, self.decide(s), lambda i: f"restarts the task: similarity {s[i]:.2f} to turn 0"
                                     if s[i] < 1 else "says it starts the task over"))


class _RuleHits(Detector):
    """Score: how many of the audit's stated rules a turn breaks, read from ``column`` (the comma-joined
    names of the rules that fired, written by the check); the reason names them after ``label``."""

    column = label = ""
    threshold = 1

    def score(self, batch):
        rules = batch.column(self.column).to_pylist()
        s = np.array([len(r.split(",")) if r else 0 for r in rules], dtype=np.float64)
        return RowScores(s, _reasons(s, self.decide(s), lambda i: f"{self.label}: {rules[i]}"))


@register
class RoleFlip(_RuleHits):
    name, family, column, label = "role_flip", "FM-1.2", "flip_rules", "role flip"
    description = "the paper's role flips: a turn speaks as another participant or does another role's part"


@register
class Interruption(_RuleHits):
    name, family, column, label = "interruption", "FM-1.1", "interruption_rules", "interruption"
    description = "a message lacking its role's protocol structure (CAMEL Instruction/Input/Solution), or cut off"


@register
class IgnoredInput(Detector):
    name = "ignored_input"
    family = "FM-2.5"
    threshold = 0.6
    description = "a turn that repeats the speaker's own earlier turn (3-gram Jaccard >= 0.6) after another agent " \
                  "answered it"

    def score(self, batch):
        s, of = _col(batch, "self_sim"), _col(batch, "self_of")
        return RowScores(s, _reasons(s, self.decide(s), lambda i: f"repeats its own turn {of[i]} (Jaccard {s[i]:.2f}) "
                                                                      "after another agent answered"))


@register
class ToolErrorLoop(Detector):
    name = "tool_error_loop"
    family = "FM-1.3"
    threshold = 2
    description = "a failing tool result whose error (digits aside) has already failed before: the same failing " \
                  "call retried"

    def score(self, batch):
        s = _col(batch, "error_repeat").astype(np.float64)
        return RowScores(s, _reasons(s, self.decide(s), lambda i: f"the same tool error for the {int(s[i])}th time"))


@register
class PrematureTermination(Detector):
    name = "premature_termination"
    family = "FM-3.1"
    threshold = 0.5
    description = "the run stops (its stop turn) with no answer ('cannot', 'unable', 'no information'...) or with " \
                  "half or more of the task's numbered steps never mentioned"

    def score(self, batch):
        s = _col(batch, "premature_score")
        return RowScores(s, _reasons(s, self.decide(s), lambda i: "stops without an answer" if s[i] >= 1 else
                                     f"stops with {s[i]:.0%} of the task's stated steps never mentioned"))


@register
class ToolError(Detector):
    name = "tool_error"
    family = None  # evidence for attribution, not a MAST mode by itself
    threshold = 1
    description = "a tool or code-execution result that reports a failure (exit code, traceback, error status)"

    def score(self, batch):
        s = _col(batch, "tool_error").astype(np.float64)
        return RowScores(s, _reasons(s, self.decide(s), lambda i: "tool call failed"))


def all_detectors() -> list[Detector]:
    return [cls() for cls in DETECTORS.values()]
