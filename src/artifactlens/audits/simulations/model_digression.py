"""A per-turn digression judge through the common model client, as the paper used GPT-4 (Das et al., 2024).

:class:`DigressionJudge` is a :class:`~artifactlens.engine.Detector` over turn rows (columns ``task`` and
``text``: score 1.0 off task, 0.0 on task, NaN where the answer is neither ON nor OFF) and keeps the old
:class:`.judge.LLMJudge` interface the audit calls (``judge(task, text) -> True/False/None``), now cached,
retried, capped and run with bounded concurrency; ``prefetch(tasks, texts)`` asks for a whole chunk at once.

The simulations audit builds one from ``--llm-endpoint``/``--llm-model`` (the old ``--judge-*`` flags are
aliases) and asks for every turn of a batch of conversations at once (``prefetch``); a turn it finds off task
is flagged ``llm_digression``, one whose answer did not parse ``llm_digression_invalid`` (the raw answer in
the reasons).
"""
from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

from ...engine import RowScores
from ...models.client import public_url
from ...models.detectors import ModelDetector
from ...models.options import ModelOptions
from .judge import PROMPT

_WORD = re.compile(r"\b(ON|OFF)\b", re.I)


def parse_on_off(answer: str | None) -> bool | None:
    """True for OFF (digresses), False for ON, None where the answer names neither."""
    m = _WORD.search(answer or "")
    return None if not m else m.group(1).upper() == "OFF"


class DigressionJudge(ModelDetector):
    name = "llm_digression"
    family = "digression"
    description = "the model judge says the turn digresses from the task"
    threshold = 0.5

    def __init__(self, options: ModelOptions, seed: int = 0, prompt: str = PROMPT):
        super().__init__(options, seed, max_tokens=3)
        self.prompt = prompt
        self.url = None if options is None else public_url(options.llm_endpoint)  # what the report records
        self._memo: dict[tuple[str, str], bool | None] = {}
        self._raw: dict[tuple[str, str], str] = {}  # the answers that did not parse (kept in the flags)

    def _prompt(self, task: str, text: str) -> str:
        return self.prompt.format(task=task[:2000], text=text[:2000])

    def prefetch(self, tasks, texts) -> None:
        todo = list(dict.fromkeys((a, b) for a, b in zip(tasks, texts) if (a, b) not in self._memo))
        if not todo:
            return
        for pair, ans in zip(todo, self.ask([self._prompt(a, b) for a, b in todo])):
            self._memo[pair] = parse_on_off(ans)
            if self._memo[pair] is None:
                self._raw[pair] = ans

    def raw(self, task: str, text: str) -> str | None:
        """The raw answer for a turn whose answer did not parse (None where it parsed)."""
        return self._raw.get((task, text))

    def judge(self, task: str, text: str) -> bool | None:
        if (task, text) not in self._memo:
            self.prefetch([task], [text])
        return self._memo[(task, text)]

    def score(self, batch: pa.RecordBatch) -> RowScores:
        tasks = [str(v or "") for v in batch.column("task").to_pylist()]
        texts = [str(v or "") for v in batch.column("text").to_pylist()]
        self.prefetch(tasks, texts)
        got = [self._memo[(a, b)] for a, b in zip(tasks, texts)]
        return RowScores(np.array([np.nan if g is None else float(g) for g in got]),
                         ["model judge: off task" if g else None for g in got])
