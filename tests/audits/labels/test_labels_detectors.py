"""The labels audit's flags, one Detector each: per detector the items it must flag and the near misses it
must leave, the reason it gives, and the recorded rule (the case-table style of the instruction detectors)."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pytest

from artifactlens.audits.labels.detectors import FLAG_RULES, REGISTRY
from artifactlens.audits.labels.items import ItemComparison

# name: (must flag [(human labels, LLM labels, words the reason must hold)], near misses [(human, LLM)])
CASES = {
    "llm_erases_minority": (
        [("aab", "aaa", "no LLM label"), ("aabbc", "aaaa", "is a human minority label"), ("xxy", "xxxx", "x")],
        [("aab", "aab"), ("aaa", "aaa"), ("aab", "b"), ("ab", "aa")]),  # (ab: no minority set to erase)
    "llm_overconfident": (
        [("aab", "aaa", "LLM unanimous"), ("abc", "bbbb", "humans disagree"), ("ab", "a", "where humans")],
        [("aaa", "aaa"), ("aab", "aab"), ("aab", "ab")]),
    "majority_mismatch": (
        [("aab", "bbb", "majority differs"), ("abb", "aaa", "humans"), ("ccd", "ddc d", "LLM")],
        [("aab", "aaa"), ("ab", "aa"), ("abc", "c")]),
}


def _c(s: str) -> Counter:
    return Counter(s.replace(" ", ""))


@pytest.mark.parametrize("name", list(CASES))
def test_flags_the_planted_items_with_a_reason(name):
    d = REGISTRY[name]()
    for h, l, words in CASES[name][0]:
        s = d.item_score(ItemComparison(_c(h), _c(l)))
        assert d.hit(s), (name, h, l, s)
        assert words in d.reason(_c(h), _c(l))


@pytest.mark.parametrize("name", list(CASES))
def test_leaves_the_near_misses(name):
    d = REGISTRY[name]()
    for h, l in CASES[name][1]:
        assert not d.hit(d.item_score(ItemComparison(_c(h), _c(l)))), (name, h, l)


def test_every_detector_has_a_case_table_and_its_rule_recorded():
    assert set(REGISTRY) == set(CASES)
    assert FLAG_RULES["llm_overconfident"]["rule"] == "score > threshold"  # strict: entropy 0 is not flagged
    assert FLAG_RULES["llm_erases_minority"]["rule"] == FLAG_RULES["majority_mismatch"]["rule"] == "score <= threshold"


def test_the_engine_form_scores_a_batch_like_the_items():
    rows = [(h, l) for cases in CASES.values() for h, l, *_ in cases[0] + [(*m, "") for m in cases[1]]]
    batch = pa.RecordBatch.from_pydict({"human": [list(h.replace(" ", "")) for h, _ in rows],
                                        "llm": [list(l.replace(" ", "")) for _, l in rows]})
    for name, cls in REGISTRY.items():
        d = cls()
        rs = d.score(batch)
        want = [d.item_score(ItemComparison(_c(h), _c(l))) for h, l in rows]
        np.testing.assert_array_equal(rs.score, np.array(want, dtype=float))
        assert len(rs.reason) == len(rows)
