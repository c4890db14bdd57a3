"""Shared model fixtures (a pytest plugin the root conftest loads: ``server``, ``fake``, ``tiny_lm``, ``tiny_nli``).

- ``server``: the shipped SmolLM2-135M-Instruct served by llama-cpp-python on a free port of 127.0.0.1
  (real HTTP, no mock), stopped after the module; the module is skipped where llama-cpp-python is absent.
- ``fake``: a tiny OpenAI-compatible HTTP server on 127.0.0.1 (a real socket) whose answers a test scripts:
  retries, 429 storms, timeouts, bodies that are not JSON, empty answers, answers by content.
- ``tiny_lm``: a 1-layer GPT-2 trained here for a few steps (offline, ~1 s) for the ``--lm-path`` scores.
- ``tiny_nli``: an untrained 1-layer BERT sequence classifier whose labels name entailment (``--nli-path``).
"""
from __future__ import annotations

import importlib.util
import json
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

needs_llama = pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                                 reason="llama-cpp-python is not installed: pip install 'artifactlens[llm]' "
                                        "(make test installs it)")


@pytest.fixture(scope="module")
def server():
    from artifactlens.models.serve import serve
    srv = serve()
    yield srv
    srv.stop()
    assert not srv.alive()


class Fake:
    """What the server does: ``script`` is a list of per-request behaviours consumed in order, then
    ``default``. A behaviour: ("ok", text) | ("status", code) | ("sleep", s) | ("raw", body) | ("empty",)."""

    def __init__(self):
        self.script: list = []
        self.default = ("echo",)
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.models = ["tiny"]
        self.lock = threading.Lock()


def _handler(fake: Fake):
    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def _send(self, code, body: bytes, ctype="application/json", extra=()):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path.endswith("/models"):
                self._send(200, json.dumps({"data": [{"id": m} for m in fake.models]}).encode())
            else:
                self._send(404, b"{}")

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with fake.lock:
                fake.requests.append(body)
                fake.headers.append(dict(self.headers))
                step = fake.script.pop(0) if fake.script else fake.default
            kind = step[0]
            if kind == "sleep":
                time.sleep(step[1])
                kind = "echo"
            if kind == "fn":
                step, kind = ("ok", step[1](body["messages"][-1]["content"])), "ok"
            if kind == "status":
                return self._send(step[1], b'{"error": {"message": "busy"}}', extra=[("Retry-After", "0")])
            if kind == "raw":
                return self._send(200, step[1], "text/html")
            text = {"ok": lambda: step[1], "empty": lambda: None,
                    "echo": lambda: "echo " + body["messages"][-1]["content"]}[kind]()
            out = {"choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                   "usage": {"prompt_tokens": 3, "completion_tokens": 2}}
            self._send(200, json.dumps(out).encode())
    return H


@pytest.fixture
def fake():
    f = Fake()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _handler(f))
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    f.url = f"http://127.0.0.1:{srv.server_address[1]}/v1"
    yield f
    srv.shutdown()
    srv.server_close()


def requests_in(cache: Path) -> int:
    """Answers cached so far; 0 while the writer has created the file but not yet its table."""
    if not (Path(cache) / "llm-cache.sqlite").exists():
        return 0
    with sqlite3.connect(Path(cache) / "llm-cache.sqlite") as db:
        try:
            return db.execute("SELECT count(*) FROM answers").fetchone()[0]
        except sqlite3.OperationalError as e:
            if "no such table" not in str(e):
                raise
            return 0


def _word_tokenizer(words):
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return transformers.PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="[BOS]", unk_token="[UNK]",
                                                pad_token="[PAD]", cls_token="[BOS]", sep_token="[PAD]")


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    """A 1-layer GPT-2 trained for a few steps on 'category item' pairs: it learns that 'colour' predicts
    'red', 'animal' 'dog', 'fruit' 'apple', while the items alone are equally likely."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    words = ["[UNK]", "[BOS]", "colour", "animal", "fruit", "red", "dog", "apple", "[PAD]"]
    fast = _word_tokenizer(words)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    cfg = transformers.GPT2Config(vocab_size=len(words), n_positions=16, n_embd=32, n_layer=1, n_head=2,
                                  bos_token_id=1, eos_token_id=1)
    model = transformers.GPT2LMHeadModel(cfg)
    data = torch.tensor([[1, 2, 5], [1, 3, 6], [1, 4, 7], [1, 5, 0], [1, 6, 0], [1, 7, 0]])
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(80):
        opt.zero_grad()
        model(input_ids=data[:3], labels=data[:3]).loss.backward()
        model(input_ids=data[3:, :2], labels=data[3:, :2]).loss.backward()
        opt.step()
    path = tmp_path_factory.mktemp("tiny-lm")
    model.save_pretrained(path)
    fast.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def tiny_nli(tmp_path_factory):
    """An untrained 1-layer BERT with labels entailment/neutral/contradiction (deterministic: seed 0)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    words = ["[UNK]", "[BOS]", "[PAD]", "paris", "is", "the", "capital", "of", "france", "i", "like", "turtles", "."]
    fast = _word_tokenizer(words)
    torch.manual_seed(0)
    cfg = transformers.BertConfig(vocab_size=len(words), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=32, max_position_embeddings=64, pad_token_id=2,
                                  id2label={0: "entailment", 1: "neutral", 2: "contradiction"},
                                  label2id={"entailment": 0, "neutral": 1, "contradiction": 2})
    model = transformers.BertForSequenceClassification(cfg)
    path = tmp_path_factory.mktemp("tiny-nli")
    model.save_pretrained(path)
    fast.save_pretrained(path)
    return str(path)
