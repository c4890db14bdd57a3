"""Static (model2vec) sentence embeddings: a fast stand-in for MiniLM on large corpora.

A model2vec model is a token -> vector table distilled from a sentence transformer (Tulkens & van
Dongen, 2024, "Model2Vec"); a sentence is the mean of its tokens' vectors, so embedding is a table
look-up: tens of times faster than MiniLM on a CPU, at some loss of quality (bench/bench_embeddings.py
measures both).

:func:`distill` builds such a table from the packaged MiniLM with the model2vec recipe and only what
sentence-transformers already installs (torch, tokenizers, safetensors, scikit-learn): every token of
MiniLM's WordPiece vocabulary is run through the transformer alone (``[CLS] token [SEP]``), mean-pooled,
reduced by PCA to ``dims`` and weighted SIF-style by a Zipf estimate of its frequency from its vocabulary
rank. :func:`static_model` builds it once, lazily, into a cache folder artifactlens controls
(``$ARTIFACTLENS_CACHE`` or ``~/.cache/artifactlens``, ``static-minilm-<dims>/``; ~10 MiB, seconds on two
cores) -- nothing is downloaded, nothing ships in the repository. ``embed(texts, kind="static")`` uses it;
``ARTIFACTLENS_STATIC_EMBEDDINGS`` may instead name any model2vec folder (e.g. one distilled with
model2vec itself, docs/large-datasets.md), and then every ``embed()`` call uses that folder.

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

from .minilm import _load_minilm

ENV = "ARTIFACTLENS_STATIC_EMBEDDINGS"
CACHE_ENV = "ARTIFACTLENS_CACHE"
DIMS = 256          # PCA dimensions of the built-in table (model2vec's default)
SIF_COEFFICIENT = 1e-4  # model2vec's: weight = a / (a + p(token)), p from Zipf over the vocabulary rank


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


def cache_dir() -> Path:
    """Where artifactlens keeps what it builds: ``$ARTIFACTLENS_CACHE`` or ``~/.cache/artifactlens``."""
    return Path(os.environ.get(CACHE_ENV) or os.path.expanduser("~/.cache/artifactlens"))


def distill(out_dir, dims: int = DIMS, batch_size: int = 1024) -> Path:
    """Distil the packaged MiniLM into a model2vec folder at ``out_dir`` (model2vec's recipe, no model2vec).

    For each of the tokenizer's ``V`` vocabulary entries (30,522 WordPieces; ``[PAD]``/``[unusedN]`` included,
    as model2vec keeps them), the transformer reads ``[CLS] token [SEP]`` and its output is mean-pooled
    like MiniLM's sentence pooling -> ``(V, 384)``; PCA to ``(V, dims)``; each row times
    ``a / (a + p_r)`` with ``p_r`` the Zipf probability of vocabulary rank ``r`` (SIF, ``a = 1e-4``).
    Written in float16 (as model2vec does) with the tokenizer and a config; returns ``out_dir``.
    """
    import torch
    from safetensors.numpy import save_file
    from sklearn.decomposition import PCA
    st = _load_minilm("cpu")  # float32 on the CPU: the same table whatever --device says
    tr = st[0]  # sentence_transformers.models.Transformer: .auto_model (BertModel), .tokenizer (fast)
    tok, model = tr.tokenizer, tr.auto_model.eval()
    n_vocab = len(tok.get_vocab())
    ids = torch.arange(n_vocab, dtype=torch.long)
    cls_sep = torch.tensor([tok.cls_token_id, tok.sep_token_id])
    parts = []
    with torch.inference_mode():
        for lo in range(0, n_vocab, batch_size):
            b = ids[lo:lo + batch_size]
            x = torch.stack([cls_sep[0].expand_as(b), b, cls_sep[1].expand_as(b)], dim=1)
            hidden = model(input_ids=x, attention_mask=torch.ones_like(x)).last_hidden_state
            parts.append(hidden.mean(dim=1).float().numpy())
    emb = np.concatenate(parts)
    if dims and dims < emb.shape[1]:
        emb = PCA(n_components=dims, svd_solver="covariance_eigh").fit_transform(emb)
    inv_rank = 1.0 / np.arange(2, n_vocab + 2)
    emb = emb * (SIF_COEFFICIENT / (SIF_COEFFICIENT + inv_rank / inv_rank.sum()))[:, None]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_file({"embeddings": np.ascontiguousarray(emb, dtype=np.float16)}, str(out / "model.safetensors"))
    tok.backend_tokenizer.save(str(out / "tokenizer.json"))
    cfg = {"model_type": "model2vec", "architectures": ["StaticModel"], "base_model": "all-MiniLM-L6-v2 (packaged)",
           "apply_pca": dims, "sif_coefficient": SIF_COEFFICIENT, "hidden_dim": int(emb.shape[1]),
           "normalize": True, "pooling": "mean", "max_length": 512, "embedding_dtype": "float16",
           "built_by": "artifactlens.text.static_embeddings.distill"}
    (out / "config.json").write_text(json.dumps(cfg, indent=2))
    return out


def static_model(dims: int = DIMS) -> StaticEmbedder:
    """The built-in static MiniLM table, distilled once into :func:`cache_dir` on first use."""
    folder = cache_dir() / f"static-minilm-{dims}"
    if not (folder / "model.safetensors").is_file():
        import shutil
        import tempfile
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
        try:
            distill(tmp, dims)
            try:
                os.rename(tmp, folder)  # atomic; another process may have won the race: keep its folder
            except OSError:
                if not (folder / "model.safetensors").is_file():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return load_static(str(folder))
