"""Model-backed instruction detectors (run only when a model is given; the heuristics stay the default).

- :class:`RubricJudge` asks the endpoint (``--llm-endpoint``) to classify a row into the paper's error
  types (Das et al., 2024: incomprehensible instruction, input that does not fit, output that does not
  follow, wrong output) with a one-line reason; one request per row, shared by the four
  :class:`RubricDetector` flags (one per ``family``) and :class:`~artifactlens.models.detectors.InvalidAnswers`.
- :class:`IFDDetector`: instruction-following difficulty (Li et al., 2024, "Cherry LLM"): the mean token
  loss of the output given the instruction (and input) divided by its loss alone, from a local causal LM
  (``--lm-path``, :mod:`transformers`, offline). IFD >= 1 means the instruction does not make the output
  any more likely: the output does not follow from it.

The instruction audit adds :func:`model_detectors` to its detectors when its options name a model
(``--llm-endpoint``/``--llm-model``, ``--lm-path``): their columns, rates, reasons and thresholds are
recorded like the heuristics'; an invalid answer is the informational ``llm_rubric_invalid`` flag (its
raw text in the reasons), never an error type.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pyarrow as pa

from ...engine import Detector, RowScores
from ...errors import InputError, MissingDependency
from ...models.detectors import InvalidAnswers, ModelDetector
from ...models.options import ModelOptions
from ...text.minilm import resolve_device
from .detectors import ERROR_TYPES

#: fields {instruction}, {input}, {output}
RUBRIC_PROMPT = (
    "You check one row of instruction-tuning data.\n\nInstruction: {instruction}\nInput: {input}\n"
    "Output: {output}\n\nReply in one line, 'LABEL: reason', where LABEL is one of:\n"
    "OK (the row is fine)\nINCOMPREHENSIBLE_INSTRUCTION (the instruction cannot be understood)\n"
    "INPUT_MISMATCH (the input does not fit the instruction)\n"
    "OUTPUT_MISMATCH (the output does not follow the instruction)\nWRONG_OUTPUT (the output is incorrect)")
LABELS = {"ok": None, "incomprehensible_instruction": "incomprehensible_instruction",
          "input_mismatch": "inconsistent_input", "output_mismatch": "inconsistent_output",
          "wrong_output": "incorrect_output"}
_LABEL = re.compile(r"\b(" + "|".join(LABELS) + r")\b\s*[:\-–]?\s*(.*)", re.I | re.S)


def _col(batch: pa.RecordBatch, name: str) -> list[str]:
    if name not in batch.schema.names:
        return [""] * batch.num_rows
    return ["" if v is None else str(v) for v in batch.column(name).to_pylist()]


def parse_rubric(answer: str) -> tuple[str | None, str] | None:
    """``(error type or None for OK, reason)``; None where no label is named."""
    m = _LABEL.search((answer or "").replace("*", ""))
    if not m:
        return None
    reason = " ".join(m.group(2).split())[:200]
    return LABELS[m.group(1).lower()], reason


class RubricJudge(ModelDetector):
    """One request per row; ``classify(batch) -> (raw answers, parsed)`` is memoised per batch."""

    name = "llm_rubric"

    def __init__(self, options: ModelOptions, seed: int = 0, prompt: str = RUBRIC_PROMPT):
        super().__init__(options, seed, max_tokens=64)
        self.prompt = prompt
        self._last = None

    def classify(self, batch: pa.RecordBatch):
        if self._last is None or self._last[0] is not batch:
            ins, inp, out = (_col(batch, c) for c in ("instruction", "input", "output"))
            raw = self.ask([self.prompt.format(instruction=a[:3000], input=b[:3000], output=c[:3000])
                            for a, b, c in zip(ins, inp, out)])
            self._last = (batch, raw, [parse_rubric(r) for r in raw])
        return self._last[1], self._last[2]

    def last_parse(self, batch):
        raw, parsed = self.classify(batch)
        return raw, [p is not None for p in parsed]

    def score(self, batch):  # the judge itself flags nothing: its four families do
        raw, parsed = self.classify(batch)
        return RowScores(np.full(len(raw), np.nan), [None] * len(raw))


class RubricDetector(Detector):
    """1.0 where the judge names ``family`` for the row, 0.0 where it names another label, NaN unparsed."""

    threshold = 0.5

    def __init__(self, judge: RubricJudge, family: str):
        self.judge, self.family = judge, family
        self.name = f"llm_{family}"
        self.description = f"the model judge classifies the row as {family.replace('_', ' ')}"

    def setup(self) -> None:
        self.judge.setup()

    def score(self, batch):
        _, parsed = self.judge.classify(batch)
        s = np.array([np.nan if p is None else float(p[0] == self.family) for p in parsed])
        return RowScores(s, [None if p is None else f"model judge: {p[1] or self.family}" for p in parsed])

    def config(self) -> dict:
        return {**super().config(), **{k: v for k, v in self.judge.config().items() if k.startswith("llm_")}}


class IFDDetector(Detector):
    """Instruction-following difficulty from a local causal LM: loss(output | instruction) / loss(output)."""

    name = "lm_ifd"
    family = "inconsistent_output"
    description = "the instruction does not make the output more likely (IFD = loss with / loss without >= 1)"
    threshold = 1.0

    def __init__(self, path: str, max_length: int = 512, device: str = "cpu"):
        self.path, self.max_length, self.device = path, max_length, device
        self._model = None

    def __getstate__(self):
        return {**self.__dict__, "_model": None, "_tok": None}

    def setup(self) -> None:
        if self._model is not None:
            return
        try:
            import torch  # noqa: F401
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise MissingDependency("transformers", purpose="--lm-path") from None
        self.device = resolve_device(self.device)  # --device: cpu, cuda, cuda:N or auto
        try:
            self._tok = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
            self._model = AutoModelForCausalLM.from_pretrained(self.path, local_files_only=True).eval().to(self.device)
        except (OSError, ValueError) as e:
            raise InputError(f"cannot load a causal LM ({str(e).splitlines()[0][:200]})", path=self.path,
                             column="--lm-path", expected="a local folder with a causal LM and its tokenizer") from None

    def _loss(self, context: str, target: str) -> float:
        import torch
        tok = self._tok
        ctx = tok(context, add_special_tokens=False)["input_ids"] if context else []
        tgt = tok(target, add_special_tokens=False)["input_ids"]
        if not tgt:
            return math.nan
        bos = [tok.bos_token_id] if tok.bos_token_id is not None else []
        ids = (bos + ctx + tgt)[-self.max_length:]
        n_tgt = min(len(tgt), len(ids) - 1)
        if n_tgt < 1:
            return math.nan
        x = torch.tensor([ids], device=self.device)
        labels = x.clone()
        labels[0, :len(ids) - n_tgt] = -100
        with torch.no_grad():
            return float(self._model(input_ids=x, labels=labels).loss)

    def score(self, batch):
        self.setup()
        ins, inp, out = (_col(batch, c) for c in ("instruction", "input", "output"))
        s = []
        for a, b, c in zip(ins, inp, out):
            prompt = a + ("\n" + b if b else "") + "\n"
            alone, cond = self._loss("", c), self._loss(prompt, c)
            s.append(cond / alone if alone and np.isfinite(alone) and alone > 0 else math.nan)
        s = np.array(s, dtype=float)
        return RowScores(s, [f"IFD {v:.2f}: loss with the instruction {v:.2f}x the loss without"
                             if np.isfinite(v) else None for v in s])


def model_detectors(options: ModelOptions | None, seed: int = 0, device: str | None = "cpu",
                    thresholds: dict | None = None) -> list[Detector]:
    """The model-backed detectors the options ask for: none without a model. ``thresholds`` {name: value}
    (``--threshold llm_incorrect_output=0.5``) applies to them by name like to any detector."""
    if options is None:
        return []
    out = _model_detectors(options, seed, device)
    for d in out:
        if d.name in (thresholds or {}):
            d.threshold = float(thresholds[d.name])
    return out


def _model_detectors(options: ModelOptions, seed: int, device: str | None) -> list[Detector]:
    out: list[Detector] = []
    if options.has_llm:
        judge = RubricJudge(options, seed)
        out += [RubricDetector(judge, f) for f in ERROR_TYPES]
        out.append(InvalidAnswers(judge, "llm_rubric_invalid"))
    if options.lm_path:
        out.append(IFDDetector(options.lm_path, device=device))
    return out
