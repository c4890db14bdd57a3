"""The labels audit's per-item flags: one :class:`~artifactlens.engine.Detector` each, registered by name.

An item is scored from its two label counts (:class:`~.items.ItemComparison`), so a detector implements
``item_score(it)`` and ``reason(h, l)``; the flag is the engine's one ``decide`` rule (score, threshold,
direction; a NaN score is never flagged), recorded in ``params['flag_rules']``. The check scores each
distinct (human, LLM) pair of a batch once and spreads the result over its items. Add a flag: one class
here with ``@register`` and a row in its case table (tests/audits/labels/test_labels_detectors.py).
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa

from ...engine import Detector, RowScores
from .items import ItemComparison, describe

REGISTRY: dict[str, type["ItemDetector"]] = {}


def register(cls):
    REGISTRY[cls.name] = cls
    return cls


class ItemDetector(Detector):
    """A flag decided from one item's human and LLM label counts."""

    def item_score(self, it: ItemComparison) -> float:
        raise NotImplementedError

    def reason(self, h: Counter, l: Counter) -> str:
        raise NotImplementedError

    def score(self, batch: pa.RecordBatch) -> RowScores:  # the engine's form (columns "human", "llm": label lists)
        pairs = list(zip(batch.column("human").to_pylist(), batch.column("llm").to_pylist()))
        s = np.array([self.item_score(ItemComparison(Counter(h), Counter(l))) for h, l in pairs], dtype=float)
        return RowScores(s, [self.reason(Counter(h), Counter(l)) for h, l in pairs])

    def hit(self, score: float) -> bool:
        return bool(self.decide(np.array([score]))[0])

    def rule(self) -> dict:
        """The ``params['flag_rules']`` entry: threshold, the rule in words, what the score is."""
        op = (">" if self.strict else ">=") if self.higher_is_worse else ("<" if self.strict else "<=")
        return {"threshold": self.threshold, "rule": f"score {op} threshold", "score": self.description}


@register
class LlmErasesMinority(ItemDetector):
    name, threshold, higher_is_worse = "llm_erases_minority", 0.0, False
    description = "share of LLM labels in the human minority set"

    def item_score(self, it):
        return it.llm_share_in_human_minority()

    def reason(self, h, l):
        return f"humans {describe(h)}; no LLM label ({describe(l)}) is a human minority label"


@register
class LlmOverconfident(ItemDetector):
    name, threshold, strict = "llm_overconfident", 0.0, True
    description = "human entropy (bits) where the LLM is unanimous"

    def item_score(self, it):
        return it.human_entropy if it.llm_unanimous else float("nan")

    def reason(self, h, l):
        return f"LLM unanimous ({describe(l)}) where humans disagree ({describe(h)})"


@register
class MajorityMismatch(ItemDetector):
    name, threshold, higher_is_worse = "majority_mismatch", 0.0, False
    description = "Jaccard overlap of the human and LLM majority sets"

    def item_score(self, it):
        return it.majority_jaccard()

    def reason(self, h, l):
        return f"majority differs: humans {describe(h)}, LLM {describe(l)}"


def all_detectors() -> list[ItemDetector]:
    return [cls() for cls in REGISTRY.values()]


#: ``{name: rule}`` as recorded in the result's params (and read by the review queue)
FLAG_RULES = {d.name: d.rule() for d in all_detectors()}
