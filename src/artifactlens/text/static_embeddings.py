"""Static (model2vec) sentence embeddings: a fast stand-in for MiniLM on large corpora.

A model2vec model is a token -> vector table distilled from a sentence transformer (Tulkens & van
Dongen, 2024, "Model2Vec"); a sentence is the mean of its tokens' vectors, so embedding is a table
look-up: tens of times faster than MiniLM on a CPU, at some loss of quality (bench/bench_embeddings.py
measures both). No model ships with artifactlens (the distilled MiniLM table is ~23 MB in float16,
over the repository's file limit): distil one once, offline, from the packaged MiniLM (docs/large-datasets.md),
then point ``ARTIFACTLENS_STATIC_EMBEDDINGS`` at its folder and every ``embed()`` call uses it.

This loader reads the model2vec folder layout (``tokenizer.json``, ``model.safetensors`` with key
``embeddings`` and optional ``weights``/``mapping``, ``config.json``) with ``tokenizers`` and
``safetensors`` (already installed with sentence-transformers), so the ``model2vec`` package is not
needed at run time. It reproduces ``StaticModel.encode``: no special tokens, unknown tokens dropped,
truncation at ``max_length`` tokens, mean pooling; vectors are then unit-normalised like ``embed()``'s.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

ENV = "ARTIFACTLENS_STATIC_EMBEDDINGS"


class StaticEmbedder:
    """``encode(texts) -> (n, dim)`` float32 unit vectors from a model2vec folder."""

    def __init__(self, folder):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer
        from ..errors import InputError
        self.folder = Path(folder)
        if not (self.folder / "model.safetensors").is_file() or not (self.folder / "tokenizer.json").is_file():
            raise InputError("not a model2vec folder", path=self.folder,
                             expected="tokenizer.json and model.safetensors (see docs/large-datasets.md)")
        tensors = load_file(str(self.folder / "model.safetensors"))
        self.table = tensors["embeddings"].astype(np.float32)
        self.weights = tensors.get("weights")
        self.mapping = tensors.get("mapping")
        cfg_path = self.folder / "config.json"
        cfg = json.loads(cfg_path.read_text()) if cfg_path.is_file() else {}
        self.max_length = cfg.get("max_length", 512)
        self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        model = self.tokenizer.model
        unk = getattr(model, "unk_token", None)
        self.unk_id = self.tokenizer.token_to_id(unk) if unk else None
        self.dim = self.table.shape[1]

    def encode(self, texts) -> np.ndarray:
        texts = ["" if t is None else str(t) for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        encodings = self.tokenizer.encode_batch_fast(texts, add_special_tokens=False)
        for i, enc in enumerate(encodings):
            ids = [t for t in enc.ids if t != self.unk_id]
            if self.max_length:
                ids = ids[: self.max_length]
            if not ids:
                continue
            ids = np.asarray(ids, dtype=np.int64)
            rows = self.table[self.mapping[ids] if self.mapping is not None else ids]
            if self.weights is not None:
                rows = rows * self.weights[ids][:, None]
            out[i] = rows.mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)


@lru_cache(maxsize=2)
def load_static(folder: str) -> StaticEmbedder:
    return StaticEmbedder(folder)


def static_folder() -> str | None:
    """The folder named by ``ARTIFACTLENS_STATIC_EMBEDDINGS``, or None (MiniLM)."""
    return os.environ.get(ENV) or None
