"""Where MiniLM runs (the ``device=`` argument; ``--device`` on the CLI) and the relevance score the instruction audit uses."""
import numpy as np
import pytest

from artifactlens.errors import InputError
from artifactlens.text import embeddings as E


def test_device_defaults_to_cpu_and_ignores_the_environment(monkeypatch):
    monkeypatch.setenv("ARTIFACTLENS_DEVICE", "cuda")  # the library reads no variable: the CLI passes it down
    assert E.device() == "cpu" and E.device(None) == "cpu"
    assert E.device(" CPU ") == "cpu"


def test_device_auto_and_cuda_follow_torch():
    import torch
    assert E.device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    if torch.cuda.is_available():
        assert E.device("cuda:0") == "cuda:0"
    else:
        with pytest.raises(InputError, match="no CUDA device"):
            E.device("cuda:0")
        with pytest.raises(InputError, match="no CUDA device"):
            E.embed(["a"], device="cuda")


def test_device_rejects_unknown_names():
    for bad in ("tpu", "cuda:x", "gpu"):
        with pytest.raises(ValueError, match="cpu, cuda, cuda:N or auto"):
            E.device(bad)


def test_cli_rejects_an_unknown_device(run_cli, tmp_path):
    code, _, err = run_cli("audit", "instructions", tmp_path / "x.jsonl", "--device", "gpu")
    assert code == 2 and "invalid choice" in err


def test_embeddings_and_static_embeddings_do_not_import_each_other():
    import ast
    import inspect
    from artifactlens.text import static_embeddings
    tree = ast.parse(inspect.getsource(static_embeddings))
    assert not any(isinstance(n, ast.ImportFrom) and n.module == "embeddings" for n in ast.walk(tree))


def test_relevance_cuts_texts_and_ranks_related_output_higher():
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
