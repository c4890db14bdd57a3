"""Per-item label statistics: the definitions every figure of the labels audit is built from.

An *item* has a list of human labels and a list of LLM labels (missing ones already removed). For one
list of labels (counts ``c_l`` of each distinct label ``l``, ``n = sum c_l``):

- unanimous: one distinct label (a single label is unanimous);
- entropy (bits): ``-sum (c_l/n) log2 (c_l/n)``;
- majority set: the labels with the highest count; undefined (None) when every label appears once
  (so also for a single label);
- minority set: the labels with the lowest count; undefined when all labels appear equally often
  (so also when the item is unanimous);
- item label (kappa, pooled alpha, flip matrix): the one label when there is exactly one, else the single
  majority label, else undefined.

Plain Python on :class:`collections.Counter`; numbers and strings are both labels (``3``, ``3.0`` and
``'3'`` are one label; ``''`` is missing; see :func:`artifactlens.io.conventions.normalise_label`).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import cached_property


def is_number(label) -> bool:
    """A numeric label: a float, or an exact int beyond 2**53 (see ``normalise_label``)."""
    return isinstance(label, (float, int)) and not isinstance(label, bool)


def label_key(label) -> str:
    """A stable text key for a label (numbers and strings never collide; a float's repr always has a '.',
    an 'e' or 'inf', so an exact big int never collides with a float either)."""
    return f"n:{label!r}" if is_number(label) else f"s:{label}"


def label_text(label) -> str:
    """How a label is shown: ``3.0`` -> ``"3"``, text as is."""
    if isinstance(label, float) and label.is_integer():
        return str(int(label))
    return str(label)


def sort_key(label):
    """Numbers first (ascending), then text (alphabetical)."""
    return (0, label, "") if is_number(label) else (1, 0.0, str(label))


def sorted_keys(labels: dict) -> list[str]:
    """The keys of ``{label_key: label}`` in label order."""
    return sorted(labels, key=lambda k: sort_key(labels[k]))


def entropy_bits(counts: Counter) -> float:
    n = sum(counts.values())
    return 0.0 - sum((c / n) * math.log2(c / n) for c in counts.values()) if n else float("nan")


def majority_set(counts: Counter) -> frozenset | None:
    if not counts or max(counts.values()) == 1:
        return None
    top = max(counts.values())
    return frozenset(l for l, c in counts.items() if c == top)


def minority_set(counts: Counter) -> frozenset | None:
    if not counts or len(set(counts.values())) == 1:
        return None
    low = min(counts.values())
    return frozenset(l for l, c in counts.items() if c == low)


def single_majority(counts: Counter):
    """The one majority label, or None when the majority set is undefined or tied."""
    m = majority_set(counts)
    return next(iter(m)) if m is not None and len(m) == 1 else None


def item_label(counts: Counter):
    """The side's one label for an item, as Cohen's kappa, the pooled alpha and the flip matrix read it: the
    label itself when the side gave exactly one, else its single majority (None when that is undefined or
    tied). The majority-set figures keep the paper's rule (one label has no majority)."""
    if sum(counts.values()) == 1:
        return next(iter(counts))
    return single_majority(counts)


@dataclass
class ItemComparison:
    """Human vs LLM labels of one item, per the definitions above (each set computed once)."""

    human: Counter
    llm: Counter

    @cached_property
    def human_majority(self):
        return majority_set(self.human)

    @cached_property
    def llm_majority(self):
        return majority_set(self.llm)

    @cached_property
    def human_minority(self):
        return minority_set(self.human)

    @cached_property
    def llm_minority(self):
        return minority_set(self.llm)

    @property
    def human_unanimous(self) -> bool:
        return len(self.human) == 1

    @property
    def llm_unanimous(self) -> bool:
        return len(self.llm) == 1

    @property
    def human_entropy(self) -> float:
        return entropy_bits(self.human)

    @property
    def llm_entropy(self) -> float:
        return entropy_bits(self.llm)

    @property
    def majority_match(self) -> bool:
        h, l = self.human_majority, self.llm_majority
        return h is not None and l is not None and bool(h & l)

    @property
    def minority_match(self) -> bool:
        h, l = self.human_minority, self.llm_minority
        return h is not None and l is not None and bool(h & l)

    @property
    def human_minority_defined(self) -> bool:
        return self.human_minority is not None

    def llm_share_in_human_minority(self) -> float:
        """Share of LLM labels that fall in the human minority set (NaN when that set is undefined)."""
        m = self.human_minority
        if m is None:
            return float("nan")
        return sum(c for l, c in self.llm.items() if l in m) / sum(self.llm.values())

    @property
    def minority_erased(self) -> bool:
        return self.human_minority_defined and self.llm_share_in_human_minority() == 0.0

    @property
    def overconfident(self) -> bool:
        """The LLM is unanimous where the humans disagree."""
        return self.llm_unanimous and not self.human_unanimous

    def majority_jaccard(self) -> float:
        """Overlap of the two majority sets (NaN when either is undefined)."""
        h, l = self.human_majority, self.llm_majority
        if h is None or l is None:
            return float("nan")
        return len(h & l) / len(h | l)

    @property
    def majority_mismatch(self) -> bool:
        return self.majority_jaccard() == 0.0


def describe(counts: Counter) -> str:
    """``{0: 3, 1: 2}`` -> ``"0×3, 1×2"`` (most frequent first)."""
    return ", ".join(f"{label_text(l)}×{c}" for l, c in sorted(counts.items(), key=lambda kv: (-kv[1], label_key(kv[0]))))
