"""Entailment of the reference by each response, from a model (the paper used RoBERTa-MNLI).

:class:`EntailmentDetector` scores one response column: P(entailment) of the reference (hypothesis) by
the response (premise) from a local NLI model (``--nli-path``: :class:`.locality.NLIScorer`, max over the
response's sentences), or, without one, from the endpoint (``--llm-endpoint``): YES 1.0, NO 0.0, NaN where
the answer is neither. The flag: the response does not entail the reference (score <= 0.5).

The preferences audit runs them, when a model and ``--reference`` are given, as one more check on its
main pass (:class:`EntailmentCheck`: ``<name>``, ``<name>_score``, ``<name>_reason`` columns in the flags;
``<name>_rate`` with a Poisson-bootstrap interval over the scored pairs; with the endpoint, the answers
that did not parse are counted (``entailment_invalid_rate``) and kept raw in the ``*_invalid`` reasons).
"""
from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

from ...engine import BatchContext, Check, MapOutput, RowScores
from ...models.detectors import INVALID_FAMILY, InvalidAnswers, ModelDetector
from ...models.options import ModelOptions
from ...stats import BootstrapSums, hash_keys

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
        self._last = None

    def __getstate__(self):
        return {**super().__getstate__(), "_nli": None}

    def last_parse(self, batch: pa.RecordBatch):
        """``(raw answers, parsed?)`` of the last scored batch (an NLI model's scores always parse)."""
        if self._last is None or self._last[0] is not batch:
            self.score(batch)
        return self._last[1], self._last[2]

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
            raw = [""] * len(s)
        else:
            raw = self.ask([self.prompt.format(response=a[:3000], reference=b[:3000]) for a, b in zip(resp, ref)])
            s = np.array([parse_yes_no(a) for a in raw], dtype=float)
        self._last = (batch, raw, np.isfinite(s))
        return RowScores(s, [f"P(entailment of the reference) {v:.2f}" if np.isfinite(v) else None for v in s])


def entailment_detectors(options: ModelOptions | None, a: str = "response_a", b: str = "response_b",
                         reference: str | None = "reference", seed: int = 0) -> list:
    """One detector per response column; none without a reference column or a model."""
    if options is None or reference is None or not (options.nli_path or options.has_llm):
        return []
    dets = [EntailmentDetector(options, a, reference, seed), EntailmentDetector(options, b, reference, seed)]
    if not options.nli_path:
        dets += [InvalidAnswers(d, f"{d.name}_invalid") for d in dets]
    return dets


class EntailmentCheck(Check):
    """The entailment detectors over the pairs: flag/score/reason columns, and per detector the sums of
    its flags and of the pairs it scored (resampled by row); invalid answers beside them."""

    name = "entailment"
    pure_map = True

    def __init__(self, detectors, seed: int = 0):
        self.detectors, self.seed = list(detectors), seed

    def setup(self) -> None:
        for d in self.detectors:
            d.setup()

    def map(self, batch: pa.RecordBatch, ctx: BatchContext) -> MapOutput:
        n = batch.num_rows
        cols, values = {}, {"n": np.ones(n)}
        for d in self.detectors:
            rs = d.score(batch)
            score = np.asarray(rs.score, dtype=np.float64)
            flag = d.decide(score)
            cols[d.name] = pa.array(flag)
            cols[f"{d.name}_score"] = pa.array(score, type=pa.float64())
            cols[f"{d.name}_reason"] = pa.array([r if f else None for r, f in zip(rs.reason, flag)], type=pa.string())
            values[d.name] = flag.astype(np.float64)
            values[f"{d.name}_scored"] = np.isfinite(score).astype(np.float64)
        acc = BootstrapSums(self.seed)
        acc.add(hash_keys(ctx.row_ids(n)), values)
        return MapOutput(cols, {"acc": acc})

    def merge(self, a, b):
        return {"acc": a["acc"].merge(b["acc"])}


def add_entailment(result, state: dict, detectors) -> None:
    """The entailment metrics (``<name>_rate`` over the pairs the detector scored, ``entailment_invalid_rate``
    over all answers) and each detector's record (threshold, model, prompt hash) in ``params``."""
    acc = state["acc"]
    pt = acc.point()
    invalid = [d for d in detectors if d.family == INVALID_FAMILY]
    for d in detectors:
        if d.family == INVALID_FAMILY:
            continue
        est, lo, hi = acc.ratio(d.name, f"{d.name}_scored")
        result.add_metric(f"{d.name}_rate", est, f"share of pairs whose {d.column} does not entail the reference",
                          ci=(lo, hi), n=int(pt.get(f"{d.name}_scored", 0)), group="entailment")
    if invalid:
        num = sum(pt.get(d.name, 0.0) for d in invalid)
        den = len(invalid) * pt.get("n", 0.0)
        result.add_metric("entailment_invalid_rate", num / den if den else None, "share of the model's entailment "
                          "answers that did not parse (the raw answer in the *_invalid reasons)",
                          n=int(den), group="entailment")
    result.params["entailment"] = {d.name: d.config() for d in detectors}
