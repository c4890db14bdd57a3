"""Failure attribution: which agent and which step made a failed run fail, from the detectors' hits.

A deterministic first pass in the spirit of Who&When (Zhang et al., ICML 2025), before any LLM call:

- the *responsible agent* of a turn is its speaker, except that a tool or code-execution turn (and a
  human / user-proxy turn) is charged to the agent whose turn came before it (the one that made the call);
- the *decisive step* is the earliest turn with evidence of a *cause* (:data:`CAUSES`: a failed tool call,
  charged to the agent that made it; a tool-error loop; a premature stop). Loops, repetition, resets,
  ignored input and runs past their stop marker are *symptoms*: they follow the decisive error (Who&When's
  definition: the earliest step whose correction turns failure into success), so they weigh in the ranking
  of agents but never pick the step. The ranked guess lists agents by the evidence charged to them;
- with no such turn, the guess is the agent that gave the final answer (the last substantive turn of an
  agent) at its first substantive turn: the failure is then most often a wrong answer, not a visible loop.

:func:`baselines` gives the trivial guesses the metrics are compared with on the same traces: the most
frequent speaker, the last speaker, the first step and the last step.
"""
from __future__ import annotations

import re
from collections import Counter

from .traces import TOOL_SPEAKER

#: detectors whose hit can be the decisive step (causes); the others are symptoms (see the module doc)
CAUSES = ("tool_error", "tool_error_loop", "premature_termination")
#: evidence weight of each detector's flag in the ranking of agents (a stated choice, not fitted)
WEIGHTS = {"tool_error_loop": 3.0, "tool_error": 2.0, "premature_termination": 2.0, "step_repetition": 0.5,
           "semantic_repetition": 0.5, "livelock": 0.5, "ignored_input": 0.5, "conversation_reset": 0.5,
           "role_flip": 0.5, "unaware_of_termination": 0.5, "interruption": 0.25, "digression": 0.25}
HUMAN = re.compile(r"(?i)^(human|user|user_?proxy|admin|system)$")
MIN_WORDS = 4


def is_agent(speaker: str) -> bool:
    return not TOOL_SPEAKER.search(speaker) and not HUMAN.match(speaker.strip())


def responsible(speakers: list[str], tool_turn: list[bool]) -> list[str | None]:
    """For each turn, the agent it is charged to (None before any agent has spoken)."""
    out, last = [], None
    for s, tool in zip(speakers, tool_turn):
        if is_agent(s) and not tool:
            last = s
            out.append(s)
        else:
            out.append(last)
    return out


def attribute(speakers: list[str], texts: list[str], tool_turn: list[bool], hits: list[list[str]]) -> dict:
    """The ranked guess for one failed conversation: ``agent``, ``step``, ``ranking`` [(agent, weight)],
    ``evidence`` (the decisive turn's detectors) and ``rule`` (which rule decided)."""
    resp = responsible(speakers, tool_turn)
    weight: Counter = Counter()
    first_hit: dict[str, int] = {}
    decisive = None
    for i, names in enumerate(hits):
        w = sum(WEIGHTS.get(n, 1.0) for n in names)
        a = resp[i]
        if w and a is not None:
            weight[a] += w
            first_hit.setdefault(a, i)
            if decisive is None and any(n in CAUSES for n in names):
                decisive = i
    subst = [i for i, (a, t) in enumerate(zip(resp, texts)) if a is not None and speakers[i] == a
             and len(t.split()) >= MIN_WORDS]
    if decisive is not None:
        agent, step, rule = resp[decisive], decisive, "earliest turn with a cause (" + ", ".join(CAUSES) + ")"
        evidence = hits[decisive]
    elif subst:
        agent = resp[subst[-1]]
        step = next(i for i in subst if resp[i] == agent)
        rule, evidence = "no decisive hit: the agent that gave the final answer, at its first substantive turn", []
    else:
        agents = [a for a in resp if a is not None]
        agent = agents[-1] if agents else (speakers[-1] if speakers else None)
        step, rule, evidence = len(speakers) - 1, "no agent turn with content: the last speaker", []
    ranking = sorted(weight.items(), key=lambda kv: (-kv[1], first_hit[kv[0]]))
    if agent is not None and all(a != agent for a, _ in ranking):
        ranking.insert(0, (agent, 0.0))
    return {"agent": agent, "step": step, "ranking": ranking[:5], "evidence": evidence, "rule": rule}


def baselines(speakers: list[str]) -> dict:
    """The trivial guesses: most frequent speaker (ties: the first to speak), last speaker, first and last step."""
    c = Counter(speakers)
    top = max(c.values()) if c else 0
    most = next((s for s in speakers if c[s] == top), None)
    return {"most_frequent_agent": most, "last_speaker": speakers[-1] if speakers else None,
            "first_step": 0, "last_step": len(speakers) - 1}


def same_agent(a, b) -> bool:
    """Agent names compared as Who&When's labels are: case-insensitively, the channel in parentheses aside."""
    if a is None or b is None:
        return False
    norm = lambda s: re.sub(r"\s*\(.*\)\s*$", "", str(s)).strip().lower()  # noqa: E731
    return norm(a) == norm(b)
