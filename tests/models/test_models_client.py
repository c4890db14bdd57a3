"""The model client against a tiny real HTTP server on 127.0.0.1 (a real socket, no mock objects): retries,
429 storms, timeouts, bodies that are not JSON, empty answers, the request cap, the disk cache, the key."""
from __future__ import annotations

import json
import os
import socket

import pytest

from artifactlens.errors import InputError
from artifactlens.models import ChatClient, ModelOptions, RequestCapReached, add_model_arguments
from artifactlens.models.cache import AnswerCache, request_key


def client(fake, tmp_path, **kw):
    kw.setdefault("backoff", 0.01)
    kw.setdefault("retries", 3)
    return ChatClient(fake.url, "tiny", cache=tmp_path / "cache", **kw)


def test_answers_in_order_with_seed_and_temperature_zero(fake, tmp_path):
    with client(fake, tmp_path, concurrency=3, seed=7) as c:
        answers = c.chat_many([f"q{i}" for i in range(20)])
    assert [a.text for a in answers] == [f"echo q{i}" for i in range(20)]
    assert len(fake.requests) == 20
    assert {(r["temperature"], r["seed"], r["model"]) for r in fake.requests} == {(0.0, 7, "tiny")}


def test_rerun_sends_nothing_and_duplicates_are_sent_once(fake, tmp_path):
    prompts = ["a", "b", "a", "c", "b"]
    with client(fake, tmp_path) as c:
        first = [a.text for a in c.chat_many(prompts)]
    assert len(fake.requests) == 3  # one per distinct prompt
    with client(fake, tmp_path) as c:
        again = c.chat_many(prompts)
        assert c.stats.sent == 0 and c.stats.cache_hits == 5
    assert [a.text for a in again] == first and all(a.cached for a in again)
    assert len(fake.requests) == 3
    with client(fake, tmp_path, seed=1) as c:  # another parameter is another key
        c.chat_many(["a"])
    assert len(fake.requests) == 4


def test_retries_5xx_and_429_then_succeeds(fake, tmp_path):
    fake.script = [("status", 503), ("status", 429), ("ok", "fine")]
    with client(fake, tmp_path) as c:
        a = c.chat("x")
        assert a.text == "fine" and c.stats.retries == 2


def test_429_storm_is_one_clear_error(fake, tmp_path):
    fake.default = ("status", 429)
    with client(fake, tmp_path, retries=2) as c, pytest.raises(InputError) as e:
        c.chat("x")
    assert "kept answering HTTP 429 (3 tries)" in str(e.value) and "lower --llm-concurrency" in str(e.value)
    assert len(fake.requests) == 3


def test_timeout_is_retried_then_one_clear_error(fake, tmp_path):
    fake.script = [("sleep", 0.6)]
    with client(fake, tmp_path, timeout=0.3) as c:
        assert c.chat("slow once").text == "echo slow once"  # the retry answered in time
    fake.default = ("sleep", 0.6)
    with client(fake, tmp_path, timeout=0.2, retries=1) as c, pytest.raises(InputError) as e:
        c.chat("always slow")
    assert "did not answer within 0.2 s (2 tries)" in str(e.value)


def test_non_json_body_is_one_clear_error(fake, tmp_path):
    fake.default = ("raw", b"<html>proxy login</html>")
    with client(fake, tmp_path) as c, pytest.raises(InputError) as e:
        c.chat("x")
    assert "not JSON" in str(e.value) and "<html>proxy" in str(e.value)


def test_empty_answer_is_kept_as_empty_text_not_an_error(fake, tmp_path):
    fake.script = [("empty",)]
    with client(fake, tmp_path) as c:
        assert c.chat("x").text == ""


def test_refused_endpoint_and_wrong_model_name(tmp_path, fake):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with ChatClient(f"http://127.0.0.1:{port}/v1", "tiny", cache=False) as c, pytest.raises(InputError) as e:
        c.chat("x")
    assert "cannot be reached" in str(e.value) and "--llm-endpoint" in str(e.value)
    with ChatClient(fake.url, "tinny", cache=False) as c, pytest.raises(InputError) as e:
        c.chat("x")
    assert "does not serve a model named 'tinny'" in str(e.value) and "tiny" in str(e.value)
    assert fake.requests == []


def test_key_from_the_named_variable_only_and_never_cached(fake, tmp_path, monkeypatch):
    monkeypatch.delenv("AL_TEST_KEY", raising=False)
    with pytest.raises(InputError, match="AL_TEST_KEY is not set"):
        client(fake, tmp_path, api_key_env="AL_TEST_KEY")
    monkeypatch.setenv("AL_TEST_KEY", "sk-secret-123")
    with client(fake, tmp_path, api_key_env="AL_TEST_KEY") as c:
        c.chat("x")
        params = json.dumps(c.result_params({"t": "x"}))
    assert fake.headers[-1]["Authorization"] == "Bearer sk-secret-123"
    blob = b"".join(p.read_bytes() for p in (tmp_path / "cache").iterdir())
    assert b"sk-secret" not in blob and "sk-secret" not in params


def test_request_cap_stops_cleanly_and_a_rerun_goes_on(fake, tmp_path):
    prompts = [f"p{i}" for i in range(10)]
    with client(fake, tmp_path, max_requests=4, concurrency=2) as c, pytest.raises(RequestCapReached) as e:
        c.chat_many(prompts)
    assert "4 of 10 answers done (4 requests sent)" in str(e.value)
    with client(fake, tmp_path) as c:
        out = c.chat_many(prompts)
        assert c.stats.sent == 6 and c.stats.cache_hits == 4
    assert [a.text for a in out] == [f"echo p{i}" for i in range(10)]


def test_no_endpoint_no_client_and_option_errors():
    import argparse
    p = argparse.ArgumentParser()
    add_model_arguments(p, judge_aliases=True)
    a = p.parse_args(["--judge-url", "http://h/v1", "--judge-model", "m", "--judge-key-env", "K"])
    assert (a.llm_endpoint, a.llm_model, a.llm_api_key_env) == ("http://h/v1", "m", "K")
    assert ModelOptions().client() is None
    with pytest.raises(InputError, match="needs --llm-model"):
        ModelOptions(llm_endpoint="http://h/v1")
    with pytest.raises(InputError, match="not an HTTP address"):
        ChatClient("ftp://h", "m", cache=False)
    with pytest.raises(InputError, match="out of range"):
        ModelOptions(llm_concurrency=0)


def test_cache_file_holds_no_endpoint(tmp_path):
    c = AnswerCache(tmp_path)
    key = request_key({"model": "m", "messages": [{"role": "user", "content": "x"}], "seed": 0})
    c.put(key, "m", {"text": "y"})
    assert c.get_many([key, "missing"]) == {key: {"text": "y"}}
    assert len(c) == 1
    c.close()
    assert os.path.getsize(tmp_path / "llm-cache.sqlite") > 0
