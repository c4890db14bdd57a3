"""Where MiniLM runs (``--device`` / ``ARTIFACTLENS_DEVICE``) and the relevance score the instruction audit uses."""
import numpy as np
import pytest

from artifactlens.errors import InputError
from artifactlens.text import embeddings as E


def test_device_defaults_to_cpu(monkeypatch):
    monkeypatch.delenv(E.DEVICE_ENV, raising=False)
    assert E.device() == "cpu"
    monkeypatch.setenv(E.DEVICE_ENV, " CPU ")
    assert E.device() == "cpu"


def test_device_auto_and_cuda_follow_torch(monkeypatch):
    import torch
    monkeypatch.setenv(E.DEVICE_ENV, "auto")
    assert E.device() == ("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setenv(E.DEVICE_ENV, "cuda:0")
    if torch.cuda.is_available():
        assert E.device() == "cuda:0"
    else:
        with pytest.raises(InputError, match="no CUDA device"):
            E.device()


def test_device_rejects_unknown_names(monkeypatch):
    monkeypatch.setenv(E.DEVICE_ENV, "tpu")
    with pytest.raises(ValueError, match="cpu, cuda, cuda:N or auto"):
        E.device()


def test_cli_device_option_sets_the_environment(monkeypatch, run_cli, tmp_path):
    from artifactlens.audits.common import CommonOptions
    monkeypatch.setenv(E.DEVICE_ENV, "cpu")  # restored (removed) after the test
    CommonOptions(device="auto")
    assert E.device() in ("cpu", "cuda") and E.DEVICE_ENV in __import__("os").environ
    code, _, err = run_cli("audit", "instructions", tmp_path / "x.jsonl", "--device", "gpu")
    assert code == 2 and "invalid choice" in err


def test_relevance_cuts_texts_and_ranks_related_output_higher(monkeypatch):
    monkeypatch.delenv(E.DEVICE_ENV, raising=False)
    task = "Give three tips for staying healthy."
    related = "Eat vegetables and fruit every day, sleep eight hours, and exercise for thirty minutes daily."
    unrelated = "The capital of France is Paris, a city on the Seine known for the Eiffel Tower."
    cos = E.relevance([task, task], [related, unrelated])
    assert cos.shape == (2,) and cos.dtype == np.float32
    assert cos[0] > 0.3 > 0.1 > cos[1]
    # only the first max_chars characters count
    tail = " Unrelated trailing text about cars and engines."
    assert E.relevance([task], [related[:40] + tail], max_chars=40)[0] == pytest.approx(
        E.relevance([task], [related[:40]])[0], abs=1e-6)
