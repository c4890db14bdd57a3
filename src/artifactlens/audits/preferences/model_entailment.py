"""Entailment of the reference by each response, from a model (the paper used RoBERTa-MNLI).

:class:`EntailmentDetector` scores one response column: P(entailment) of the reference (hypothesis) by
the response (premise) from a local NLI model (``--nli-path``: :class:`.locality.NLIScorer`, max over the
response's sentences), or, without one, from the endpoint (``--llm-endpoint``): YES 1.0, NO 0.0, NaN where
the answer is neither. The flag: the response does not entail the reference (score <= 0.5).

Hook (wherever the preferences audit scores pairs with detectors):
``detectors += entailment_detectors(model_options, a=spec.a, b=spec.b, reference=spec.reference, seed=seed)``.
"""
from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

from ...engine import RowScores
from ...models.detectors import ModelDetector
from ...models.options import ModelOptions

#: fields {response}, {reference}
ENTAIL_PROMPT = ("Premise: {response}\n\nHypothesis: {reference}\n\nDoes the premise entail the hypothesis? "
                 "Answer with one word: YES or NO.")
_YES = re.compile(r"\b(YES|NO)\b", re.I)


def parse_yes_no(answer: str | None) -> float:
    m = _YES.search(answer or "")
    return np.nan if not m else float(m.group(1).upper() == "YES")


class EntailmentDetector(ModelDetector):
    family = "reference_entailment"
    threshold = 0.5
    higher_is_worse = False

    def __init__(self, options: ModelOptions, column: str, reference: str = "reference", seed: int = 0,
                 prompt: str = ENTAIL_PROMPT):
        super().__init__(options, seed, max_tokens=3)
        self.column, self.reference, self.prompt = column, reference, prompt
        self.name = f"entailment_{column}"
        self.description = f"{column} does not entail the reference ({'NLI model' if options.nli_path else 'model judge'})"
        self._nli = None

    def __getstate__(self):
        return {**super().__getstate__(), "_nli": None}

    def setup(self) -> None:
        if self.options.nli_path:
            if self._nli is None:
                from .locality import NLIScorer
                self._nli = NLIScorer(self.options.nli_path)
        else:
            super().setup()

    def score(self, batch: pa.RecordBatch) -> RowScores:
        self.setup()
        resp = [str(v or "") for v in batch.column(self.column).to_pylist()]
        ref = [str(v or "") for v in batch.column(self.reference).to_pylist()]
        if self._nli is not None:
            s = self._nli.score(resp, ref)
        else:
            s = np.array([parse_yes_no(a) for a in self.ask(
                [self.prompt.format(response=a[:3000], reference=b[:3000]) for a, b in zip(resp, ref)])])
        return RowScores(s, [f"P(entailment of the reference) {v:.2f}" if np.isfinite(v) else None for v in s])


def entailment_detectors(options: ModelOptions | None, a: str = "response_a", b: str = "response_b",
                         reference: str | None = "reference", seed: int = 0) -> list:
    """One detector per response column; none without a reference column or a model."""
    if options is None or reference is None or not (options.nli_path or options.has_llm):
        return []
    return [EntailmentDetector(options, a, reference, seed), EntailmentDetector(options, b, reference, seed)]
