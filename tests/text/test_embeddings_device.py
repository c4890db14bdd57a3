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


# ---------------------------------------------------------------------------------------------------------
# --device reaches every MiniLM call of every audit (issue 15: labels, preferences and simulations
# called embed() without it)
# ---------------------------------------------------------------------------------------------------------
#: the options under which each audit embeds with MiniLM (its demo file is the input)
EMBEDDING_OPTIONS = {"labels": {"second_order": True, "features": "minilm"},
                     "preferences": {"embeddings": True, "reward_model": True},
                     "simulations": {"embeddings": "minilm"},
                     "instructions": {"embeddings": True},
                     "text": {"embeddings": True, "max_embed": 200, "tagger_words": 2000}}


class _FakeMiniLM:
    """Stands in for the packaged MiniLM: deterministic unit vectors from each text's hash (fast; the
    test is about where the model runs, not about the figures)."""

    def encode(self, texts, batch_size=None, normalize_embeddings=True, show_progress_bar=False,
               convert_to_numpy=True):
        out = np.stack([np.random.default_rng(abs(hash(t)) % 2**32).standard_normal(E.DIM) for t in texts])
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


RESOLVED = "cuda:7"


@pytest.fixture
def device_calls(monkeypatch):
    """Every device an embed() call asked for (whichever module imported embed, it resolves its device
    through the embeddings module), with MiniLM replaced by :class:`_FakeMiniLM` and the cache off.
    "auto" resolves to the marker RESOLVED (no such GPU is used: the model is fake), so a device passed on
    after resolving is told apart from a dropped one (None) or one written in (cpu)."""
    asked = []

    def resolve(want=None):
        asked.append(want)
        return RESOLVED
    monkeypatch.setattr(E, "resolve_device", resolve)
    monkeypatch.setattr(E, "load_minilm", lambda dev=None: _FakeMiniLM())
    monkeypatch.setattr(E, "_CACHE", {})
    monkeypatch.setattr(E, "_CACHE_MAX", 0)
    monkeypatch.setattr(E, "static_folder", lambda: None)  # MiniLM, not a static table named by a variable
    return asked


def test_the_fake_model_sees_every_call(device_calls):
    E.embed(["a", "b"], device="auto")
    E.relevance(["a"], ["b"], device="auto")
    assert device_calls and set(device_calls) == {"auto", RESOLVED}
    E.embed(["c"])
    assert device_calls[-1] is None


@pytest.mark.parametrize("kind", sorted(EMBEDDING_OPTIONS))
def test_every_audit_passes_its_device_to_minilm(kind, device_calls, tmp_path):
    import artifactlens as al
    from artifactlens.api import registry
    from artifactlens.contract import RunOptions
    from artifactlens.demo import demo_path
    cls = registry()[kind]
    name, opts = cls.demo
    opts = {k: v.format(out=tmp_path) if isinstance(v, str) else v for k, v in opts.items()}
    opts.update(EMBEDDING_OPTIONS[kind])
    al.audit(kind, demo_path(name), run=RunOptions(device="auto"), **opts)
    assert device_calls, f"{kind}: no MiniLM call under its embedding options (the test would prove nothing)"
    dropped = [d for d in device_calls if d not in ("auto", RESOLVED)]
    assert not dropped, f"{kind}: {len(dropped)} of {len(device_calls)} MiniLM calls ran without --device"


def test_every_audit_is_covered():
    from artifactlens.api import registry
    assert set(EMBEDDING_OPTIONS) == set(registry()), "a new audit: say here how it embeds"
