"""The base of model-backed :class:`~artifactlens.engine.Detector` classes.

A :class:`ModelDetector` holds only :class:`~.options.ModelOptions` and a seed (picklable: it travels to
pool workers and Ray actors); its :class:`~.client.ChatClient` is built in ``setup()`` (or on first use)
in the process that scores. The score comes from the model and the flag from the detector's recorded
``threshold``, like every detector; an answer that does not parse scores NaN (never flagged) and is
counted by the ``*_invalid`` detector of each family, whose reason keeps the raw answer.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..engine import Detector, RowScores
from .client import public_url, template_hash
from .options import ModelOptions


INVALID_FAMILY = "model_answer_invalid"  # the family of :class:`InvalidAnswers`: counted, never an error


class ModelDetector(Detector):
    """``ask(prompts) -> list[str]`` through the endpoint the options name (cached, capped, retried)."""

    def __init__(self, options: ModelOptions, seed: int = 0, max_tokens: int = 64):
        self.options, self.seed, self.max_tokens = options, seed, max_tokens
        self._client = None

    def __getstate__(self):  # the client (sockets, the cache file) and the last batch stay behind
        d = dict(self.__dict__)
        d["_client"] = None
        if "_last" in d:
            d["_last"] = None
        return d

    def setup(self) -> None:
        if self._client is None and self.options.has_llm:
            self._client = self.options.client(seed=self.seed, max_tokens=self.max_tokens)

    def ask(self, prompts: list[str]) -> list[str]:
        self.setup()
        return [a.text or "" for a in self._client.chat_many(prompts)]

    def config(self) -> dict:
        """The detector's threshold and the model's record: endpoint (no user info), model, temperature,
        seed, max_tokens, the prompt template's hash; request counts where this process sent them."""
        out = super().config()
        o = self.options
        if o.has_llm:
            out.update({"llm_endpoint": public_url(o.llm_endpoint), "llm_model": o.llm_model, "llm_temperature": 0.0,
                        "llm_seed": int(self.seed), "llm_max_tokens": int(self.max_tokens)})
            if getattr(self, "prompt", None):
                out["llm_prompt_sha256"] = template_hash(self.prompt)
        if self._client is not None:
            out.update(self._client.stats.as_dict())
        return out


class InvalidAnswers(Detector):
    """Flags the rows whose model answer did not parse; the reason is the raw answer (first 300 chars).
    ``source`` is the detector whose answers it checks (it reads that detector's last parse)."""

    threshold = 0.5

    def __init__(self, source, name: str):
        self.source, self.name = source, name
        self.description = f"the model's answer for {source.name} did not parse"
        self.family = INVALID_FAMILY

    def score(self, batch: pa.RecordBatch) -> RowScores:
        raw, ok = self.source.last_parse(batch)
        return RowScores(np.where(ok, 0.0, 1.0), [None if g else f"unparsed answer: {r[:300]!r}"
                                                  for r, g in zip(raw, ok)])
