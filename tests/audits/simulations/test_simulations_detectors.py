"""One case table per detector: a hand-written conversation, the turn that must be flagged, and no other."""
from __future__ import annotations

import pytest

from artifactlens.audits.simulations.check import SimulationCheck, SimulationConfig, map_conversations
from artifactlens.audits.simulations.conversation import Conversation, Turn
from artifactlens.audits.simulations.detectors import DETECTORS

PLAN = "Compute the average delivery time per region from the orders table and chart it by week."
A = "I loaded the orders table and grouped the delivery times by region for every week of the year."
B = "The chart shows the weekly averages per region; the north region is the slowest at four days."


def conv(*turns, task=PLAN, terminated=True):
    return Conversation("c", task, [Turn(s, r, t, None, t if r == "tool" else None, None,
                                         r == "tool" and "Error" in t) for s, r, t in turns],
                        None, "persona", terminated, {"Ana": {"Ana"}, "Bo": {"Bo"}}, "c", 1)


LOOP = "Please run the regional query again and send me the weekly average delivery times for each region."
CASES = {
    "step_repetition": (conv(("Ana", "a", LOOP), ("Bo", "a", A), ("Ana", "a", LOOP)), 2),
    "ignored_input": (conv(("Ana", "a", LOOP), ("Bo", "a", A), ("Ana", "a", LOOP + " Thanks")), 2),
    "livelock": (conv(("Ana", "a", A), ("Bo", "a", A), ("Ana", "a", A), ("Bo", "a", A + " ok")), 3),
    "unaware_of_termination": (conv(("Ana", "a", A), ("Bo", "a", "TERMINATE"), ("Ana", "a", B),
                                    ("Bo", "a", "Anything else to add about the chart?")), 3),
    "conversation_reset": (conv(("Ana", "a", A), ("Bo", "a", B), ("Ana", "a", "Let us start over from scratch.")), 2),
    "role_flip": (conv(("Ana", "a", A), ("Bo", "a", "I am Ana, and I say the chart is done.")), 1),
    "tool_error": (conv(("Ana", "a", A), ("Executor", "tool", "ValueError: no such column 'region'")), 1),
    "tool_error_loop": (conv(("Ana", "a", A), ("Executor", "tool", "ValueError: no column 'region' at row 3"),
                             ("Ana", "a", B), ("Executor", "tool", "ValueError: no column 'region' at row 9")), 3),
    "premature_termination": (conv(("Ana", "a", A), ("Bo", "a", "I could not find the data. TERMINATE")), 1),
}


def _flags(c):
    cfg = SimulationConfig(embeddings="static", embeddings_kind="static", digression_threshold=-1)
    cols, _ = map_conversations([c], cfg, SimulationCheck(cfg).detectors)
    return {k: v.to_pylist() for k, v in cols.items()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_detector_flags_its_case_and_only_that_turn(name):
    c, turn = CASES[name]
    f = _flags(c)
    col = name
    assert [i for i, x in enumerate(f[col]) if x] == [turn], (name, f[f"{name}_score"])
    expected = "speaks_as_other" if name == "role_flip" else name  # flips keep the paper's rule names
    assert expected in f["flags"][turn].split(",") and f["reasons"][turn]
    mode = DETECTORS[name].family
    assert mode is None or mode in f["mast_modes"][turn]


def test_every_detector_has_a_case_and_a_clean_conversation_has_no_flag():
    assert set(CASES) | {"semantic_repetition", "interruption"} == set(DETECTORS)
    f = _flags(conv(("Ana", "a", A), ("Bo", "a", B)))
    assert not any(f[n][i] for n in DETECTORS for i in range(2))


def test_tool_error_is_charged_to_the_agent_that_called():
    f = _flags(CASES["tool_error"][0])
    assert f["responsible_agent"] == ["Ana", "Ana"]
