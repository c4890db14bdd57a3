"""Per-turn rules: role flips, interruptions, loops (repeated near-identical messages).

Regular expressions for the protocol rules (CAMEL's ``Instruction:`` / ``Input:`` / ``Solution:`` /
``Next request.``; persona names in SPP and generic turns) and :func:`rapidfuzz.process.cdist` with
``fuzz.ratio`` for near-identical messages (C++, all pairs of a conversation at once).

Every rule has a name and a one-line description (:data:`FLIP_RULES`, :data:`INTERRUPTION_RULES`); a
turn's flags are the names of the rules it breaks, so each flag carries its reason.
"""
from __future__ import annotations

import re

import numpy as np

from .parsers import CAMEL_DONE, Conversation, Turn

FLIP_RULES = {
    "user_gives_solution": "the AI user gives a 'Solution:' (the user starts solving)",
    "assistant_gives_instruction": "the AI assistant gives an 'Instruction:' (the assistant starts instructing)",
    "speaks_as_other": "the speaker names itself as another participant ('As the X, I ...', 'I am X')",
    "several_speakers": "one turn holds lines of several speakers ('X: ...' for another participant X)",
}
INTERRUPTION_RULES = {
    "user_without_instruction": "an AI-user message without 'Instruction:' that is not the end marker",
    "instruction_without_input": "an AI-user instruction without its 'Input:' line",
    "assistant_without_solution": "an AI-assistant message without 'Solution:'",
    "solution_without_next_request": "an AI-assistant solution that does not end with 'Next request.'",
    "empty_turn": "a turn with no text",
    "cut_off": "a persona turn that stops mid-sentence (no closing punctuation)",
}
LOOP_THRESHOLD = 90.0  # fuzz.ratio (0-100) to an earlier message of the conversation
LOOP_MIN_CHARS = 20    # shorter messages ("OK.", "Next request.") repeat legitimately

_SOLUTION = re.compile(r"(?im)^\W*Solution\s*:")
_INSTRUCTION = re.compile(r"(?im)^\W*Instruction\s*:")
_INPUT = re.compile(r"(?im)^\W*Input\s*:")
_NEXT = re.compile(r"(?i)next request\.?\W*$")
_CLOSED = re.compile(r"""([.!?:;…)\]"'`*>]|```|<CAMEL_TASK_DONE>|\d)\s*$""")
_LISTY = re.compile(r"^\s*(\d+[.)]|[-*•|#]|[\w ()'-]{1,40}:)")  # list items, table rows, "House 1: x" lines


def _others(conv: Conversation, speaker: str) -> list[str]:
    own = {a.lower() for a in conv.aliases.get(speaker, {speaker})}
    names = {a for spk, al in conv.aliases.items() if spk != speaker for a in al}
    return sorted((n for n in names if n.lower() not in own and n and not any(n.lower() in o for o in own)),
                  key=len, reverse=True)


def _flip_patterns(names: list[str]):
    alt = "|".join(re.escape(n) for n in names)
    art = r"(?:the |a |an )?"
    selfref = re.compile(rf"(?i)\b(?:as {art}(?:{alt})\s*,\s*(?:I|we)\b|I am {art}(?:{alt})\b|I'm {art}(?:{alt})\b"
                         rf"|speaking as {art}(?:{alt})\b|this is {art}(?:{alt}) speaking)")
    speaker_line = re.compile(rf"(?im)^\W*(?:{alt})\W*:")
    return selfref, speaker_line


def turn_flags(conv: Conversation) -> list[list[str]]:
    """For each turn, the names of the flip and interruption rules it breaks (in rule order)."""
    out: list[list[str]] = []
    pats: dict[str, tuple] = {}
    done = False
    for t in conv.turns:
        f: list[str] = []
        text = t.text.strip()
        if t.speaker not in pats:
            others = _others(conv, t.speaker)
            pats[t.speaker] = _flip_patterns(others) if others else (None, None)
        selfref, speaker_line = pats[t.speaker]
        if conv.style == "camel" and t.role == "user" and _SOLUTION.search(text):
            f.append("user_gives_solution")
        if conv.style == "camel" and t.role == "assistant" and _INSTRUCTION.search(text):
            f.append("assistant_gives_instruction")
        if selfref is not None and selfref.search(text):
            f.append("speaks_as_other")
        if speaker_line is not None and speaker_line.search(text):
            f.append("several_speakers")
        if not text:
            f.append("empty_turn")
        elif conv.style == "camel" and not done:
            f.extend(_camel_structure(t, text))
        elif conv.style != "camel" and _cut_off(text):
            f.append("cut_off")
        done = done or CAMEL_DONE in text
        out.append(f)
    return out


def _cut_off(text: str) -> bool:
    """The last line is prose of 4+ words that ends without closing punctuation."""
    last = text.rstrip().splitlines()[-1]
    return len(last.split()) >= 4 and not _LISTY.match(last) and not _CLOSED.search(last)


def _camel_structure(t: Turn, text: str) -> list[str]:
    if t.role == "user":
        if CAMEL_DONE in text:
            return []
        if not _INSTRUCTION.search(text):
            return ["user_without_instruction"]
        return [] if _INPUT.search(text) else ["instruction_without_input"]
    if t.role == "assistant":
        if not _SOLUTION.search(text):
            return ["assistant_without_solution"]
        return [] if _NEXT.search(text) else ["solution_without_next_request"]
    return []


def repeats(texts: list[str], threshold: float = LOOP_THRESHOLD, min_chars: int = LOOP_MIN_CHARS):
    """``(n,)`` best similarity (0-100) of each message to an EARLIER one, and the index of that one (-1)."""
    from rapidfuzz import fuzz, process
    n = len(texts)
    best = np.zeros(n)
    idx = np.full(n, -1)
    norm = [" ".join(t.lower().split()) for t in texts]
    keep = [i for i, t in enumerate(norm) if len(t) >= min_chars]
    if len(keep) < 2:
        return best, idx
    sub = [norm[i] for i in keep]
    m = process.cdist(sub, sub, scorer=fuzz.ratio, score_cutoff=threshold * 0.8, dtype=np.uint8, workers=1)
    m = np.tril(m, k=-1)
    for r, i in enumerate(keep):
        if r and m[r, :r].max() > 0:
            j = int(m[r, :r].argmax())
            best[i], idx[i] = float(m[r, j]), keep[j]
    return best, idx
