"""One client for any OpenAI-compatible ``/chat/completions`` endpoint (vLLM, llama.cpp, Ollama, a hosted API).

Wraps :mod:`httpx` (already installed with spaCy) rather than the ``openai`` package: we need the raw
body of every answer (an answer that does not parse is kept, never an error), our own retry rule
(429/5xx/timeouts, ``Retry-After``), a pre-flight ``GET /models`` that names a wrong model in one line,
and no hidden retries or environment lookups (``openai`` reads ``OPENAI_API_KEY``/``OPENAI_BASE_URL`` by
itself; we take the key only from the variable the user names). ``bench/bench_llm_client.py`` compares
the two at the same concurrency.

Rules: no default endpoint (nothing is sent to a host the user did not name); temperature 0 and a seed;
bounded concurrency (a thread pool over one connection pool); a request cap (:class:`RequestCapReached`
says how far it got; the answers so far are cached); every answer cached on disk
(:mod:`.cache`) before the next is awaited, so a rerun or a resumed run sends none twice. The API key
lives only in the request header: never in results, caches, logs or messages.
"""
from __future__ import annotations

import hashlib
import os
import random
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence
from urllib.parse import urlsplit, urlunsplit

from ..errors import InputError, MissingDependency
from .cache import AnswerCache, default_cache_dir, request_key

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
OPT = "--llm-endpoint"


class RequestCapReached(InputError):
    """The ``--llm-max-requests`` cap was reached: the run stopped cleanly; rerun to go on from the cache."""


def template_hash(text: str) -> str:
    """The first 16 hex digits of the SHA-256 of a prompt template (recorded in result params)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def public_url(url: str) -> str:
    """The endpoint without user info, query or fragment (what may be written to results)."""
    p = urlsplit(url)
    host = p.hostname or ""
    if p.port:
        host += f":{p.port}"
    return urlunsplit((p.scheme, host, p.path, "", ""))


@dataclass
class Answer:
    """One model answer: ``text`` (the message content, "" when empty), ``finish_reason``, token usage;
    ``cached`` when it came from the cache; ``sent`` False where the request cap stopped it."""

    text: str | None
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    sent: bool = True

    def to_cache(self) -> dict:
        return {"text": self.text, "finish_reason": self.finish_reason,
                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}

    @classmethod
    def from_cache(cls, d: dict) -> "Answer":
        return cls(d.get("text"), d.get("finish_reason"), int(d.get("prompt_tokens") or 0),
                   int(d.get("completion_tokens") or 0), cached=True)


@dataclass
class ClientStats:
    sent: int = 0
    cache_hits: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    invalid: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def as_dict(self) -> dict:
        return {"llm_requests_sent": self.sent, "llm_cache_hits": self.cache_hits, "llm_retries": self.retries,
                "llm_completion_tokens": self.completion_tokens, "llm_invalid_answers": self.invalid}


class ChatClient:
    """``chat_many(list of message lists) -> list[Answer]`` in input order; ``chat(messages) -> Answer``.

    ``endpoint``: the base URL (``http://127.0.0.1:8000/v1``; ``/chat/completions`` is appended).
    ``api_key_env``: the *name* of the variable holding the key (None: no key). ``cache``: a folder,
    None for the user's cache folder, False for no cache. ``max_requests``: at most this many requests
    sent by this client (cache hits are free)."""

    def __init__(self, endpoint: str, model: str, *, api_key_env: str | None = None, concurrency: int = 4,
                 max_requests: int | None = None, cache=None, timeout: float = 120.0, retries: int = 5,
                 backoff: float = 0.5, temperature: float = 0.0, seed: int = 0, max_tokens: int = 256,
                 check_model: bool = True):
        try:
            import httpx
        except ImportError:
            raise MissingDependency("httpx", extra="llm", purpose="a model endpoint") from None
        if not endpoint or not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
            raise InputError(f"model endpoint {endpoint!r} is not an HTTP address", column=OPT,
                             expected="e.g. http://127.0.0.1:8000/v1 (see `artifactlens llm serve`)")
        if not model:
            raise InputError("no model name given", column="--llm-model", expected="the name the endpoint serves")
        if not isinstance(concurrency, int) or concurrency < 1:
            raise InputError(f"--llm-concurrency must be a positive integer, got {concurrency!r}")
        if max_requests is not None and (not isinstance(max_requests, int) or max_requests < 0):
            raise InputError(f"--llm-max-requests must be a non-negative integer, got {max_requests!r}")
        headers = {"Content-Type": "application/json"}
        if api_key_env:
            key = os.environ.get(api_key_env)
            if not key:
                raise InputError(f"the environment variable {api_key_env} is not set", column="--llm-api-key-env",
                                 expected="the name of a variable that holds the API key")
            headers["Authorization"] = f"Bearer {key}"
        self.base = endpoint.rstrip("/")
        self.endpoint = public_url(self.base)
        self.model = model
        self.concurrency = concurrency
        self.max_requests = max_requests
        self.timeout, self.retries, self.backoff = float(timeout), int(retries), float(backoff)
        self.params = {"temperature": float(temperature), "seed": int(seed), "max_tokens": int(max_tokens)}
        self.cache = AnswerCache(None if cache is False else (default_cache_dir() if cache is None else cache))
        self.stats = ClientStats()
        self._httpx = httpx
        self._http = httpx.Client(headers=headers, timeout=httpx.Timeout(self.timeout, connect=10.0),
                                  limits=httpx.Limits(max_connections=concurrency,
                                                      max_keepalive_connections=concurrency))
        self._checked = not check_model
        self._budget = threading.Lock()
        self._memo: dict[str, dict] = {}  # this process's answers: free repeats even with the cache off

    # -- the request body and its cache key ---------------------------------------------------------------
    def body(self, messages: Sequence[dict] | str, **params) -> dict:
        if isinstance(messages, str):
            messages = [{"role": "user", "content": messages}]
        return {"model": self.model, "messages": list(messages), **self.params, **params}

    def result_params(self, templates: dict[str, str] | None = None) -> dict:
        """What a result records: endpoint (no user info), model, parameters, template hashes, counts."""
        out = {"llm_endpoint": self.endpoint, "llm_model": self.model,
               **{f"llm_{k}": v for k, v in self.params.items()}, **self.stats.as_dict()}
        if templates:
            out["llm_prompt_sha256"] = {k: template_hash(v) for k, v in templates.items()}
        return out

    # -- errors ------------------------------------------------------------------------------------------
    def _fail(self, what: str, expected: str | None = None) -> InputError:
        return InputError(f"the model endpoint {self.endpoint} {what}", column=OPT, expected=expected)

    def check_model(self) -> None:
        """``GET /models``: a clear error when the endpoint is unreachable or does not serve ``model``.
        Endpoints without a model list (404/405) are not checked."""
        self._checked = True
        try:
            r = self._http.get(self.base + "/models")
        except self._httpx.TimeoutException:
            raise self._fail(f"did not answer within {self.timeout:g} s", "a running server") from None
        except self._httpx.HTTPError as e:
            raise self._fail(f"cannot be reached ({_short(e)})",
                             "a running OpenAI-compatible server, e.g. `artifactlens llm serve`") from None
        if r.status_code in (401, 403):
            raise self._fail(f"refused the API key (HTTP {r.status_code})", "a valid key in --llm-api-key-env")
        if r.status_code != 200:
            return
        try:
            names = [m.get("id") for m in r.json().get("data", [])]
        except (ValueError, AttributeError):
            return
        if names and self.model not in names:
            shown = ", ".join(map(str, names[:10])) + (" ..." if len(names) > 10 else "")
            raise InputError(f"the model endpoint {self.endpoint} does not serve a model named {self.model!r}",
                             column="--llm-model", expected=f"one of: {shown}")

    # -- one request, with retries -------------------------------------------------------------------------
    def _post(self, body: dict) -> Answer:
        delay, last = self.backoff, ""
        for attempt in range(self.retries + 1):
            if attempt:
                with self.stats.lock:
                    self.stats.retries += 1
                time.sleep(delay * (1 + random.random() * 0.25))
                delay = min(delay * 2, 30.0)
            try:
                r = self._http.post(self.base + "/chat/completions", json=body)
            except self._httpx.TimeoutException:
                last = f"did not answer within {self.timeout:g} s"
                continue
            except self._httpx.ConnectError as e:
                raise self._fail(f"cannot be reached ({_short(e)})",
                                 "a running OpenAI-compatible server, e.g. `artifactlens llm serve`") from None
            except self._httpx.HTTPError as e:
                last = f"broke the connection ({_short(e)})"
                continue
            if r.status_code in RETRY_STATUS:
                last = f"kept answering HTTP {r.status_code}"
                ra = r.headers.get("retry-after")
                if ra and ra.replace(".", "", 1).isdigit():
                    delay = max(delay, min(float(ra), 30.0))
                continue
            return self._parse(r)
        hint = "lower --llm-concurrency or try later" if "429" in last else "a server that answers"
        raise self._fail(f"{last} ({self.retries + 1} tries)", hint)

    def _parse(self, r) -> Answer:
        if r.status_code in (401, 403):
            raise self._fail(f"refused the API key (HTTP {r.status_code})", "a valid key in --llm-api-key-env")
        if r.status_code == 404:
            raise self._fail("has no /chat/completions (HTTP 404)", "a base URL that ends in /v1")
        try:
            data = r.json()
        except ValueError:
            raise self._fail(f"answered HTTP {r.status_code} with a body that is not JSON "
                             f"({r.text[:60]!r})", "an OpenAI-compatible /v1 endpoint") from None
        if r.status_code >= 400:
            msg = data.get("error", data) if isinstance(data, dict) else data
            msg = msg.get("message", msg) if isinstance(msg, dict) else msg
            raise self._fail(f"rejected the request (HTTP {r.status_code}: {str(msg)[:160]})")
        try:
            choice = data["choices"][0]
            text = choice["message"].get("content")
        except (KeyError, IndexError, TypeError, AttributeError):
            raise self._fail(f"answered JSON without choices[0].message ({str(data)[:80]!r})",
                             "an OpenAI-compatible /chat/completions answer") from None
        usage = data.get("usage") or {}
        return Answer("" if text is None else str(text), choice.get("finish_reason"),
                      int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))

    def _take_budget(self) -> bool:
        with self._budget:
            if self.max_requests is not None and self.stats.sent >= self.max_requests:
                return False
            self.stats.sent += 1
            return True

    # -- many requests -------------------------------------------------------------------------------------
    def chat_many(self, requests: Iterable[Sequence[dict] | str | dict], progress: Callable[[int], None] | None
                  = None, **params) -> list[Answer]:
        """Answers in input order. Each request is a message list, a prompt string, or a full body dict.
        Raises :class:`RequestCapReached` after storing every answer it got when the cap stops it."""
        bodies = [r if isinstance(r, dict) and "messages" in r else self.body(r, **params) for r in requests]
        keys = [request_key(b) for b in bodies]
        hits = {k: self._memo[k] for k in keys if k in self._memo}
        if len(hits) < len(keys):
            hits.update(self.cache.get_many([k for k in keys if k not in hits]))
        out: list[Answer | None] = [None] * len(bodies)
        todo: dict[str, list[int]] = {}
        for i, k in enumerate(keys):
            if k in hits:
                out[i] = Answer.from_cache(hits[k])
                self._memo[k] = hits[k]
            else:
                todo.setdefault(k, []).append(i)
        self.stats.cache_hits += len(bodies) - sum(map(len, todo.values()))
        if progress and len(bodies) > sum(map(len, todo.values())):
            progress(len(bodies) - sum(map(len, todo.values())))
        if todo and not self._checked:
            self.check_model()
        capped = self._run(bodies, keys, todo, out, progress)
        if capped:
            done = sum(a is not None for a in out)
            raise RequestCapReached(
                f"stopped at --llm-max-requests {self.max_requests}: {done:,} of {len(bodies):,} answers done "
                f"({self.stats.sent:,} requests sent); the answers are cached, rerun to go on")
        return out  # type: ignore[return-value]

    def _run(self, bodies, keys, todo, out, progress) -> bool:
        if not todo:
            return False
        capped = False
        pending = iter(todo.items())
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="llm") as pool:
            running: dict = {}

            def submit() -> bool:
                nonlocal capped
                if capped:
                    return False
                nxt = next(pending, None)
                if nxt is None:
                    return False
                if not self._take_budget():
                    capped = True
                    return False
                running[pool.submit(self._post, bodies[nxt[1][0]])] = nxt
                return True

            for _ in range(self.concurrency * 2):
                if not submit():
                    break
            try:
                while running:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for f in done:
                        key, _ = running.pop(f)
                        self._store(key, f.result(), todo, out, progress)  # an InputError propagates
                        submit()
            except BaseException:
                for f in running:
                    f.cancel()
                raise
        return capped

    def _store(self, key: str, a: Answer, todo: dict, out: list, progress) -> None:
        """One answer: cached on disk (before the next is awaited), counted, put at each of its rows."""
        self.cache.put(key, self.model, a.to_cache())
        self._memo[key] = a.to_cache()
        with self.stats.lock:
            self.stats.prompt_tokens += a.prompt_tokens
            self.stats.completion_tokens += a.completion_tokens
        for i in todo[key]:
            out[i] = a
        if progress:
            progress(len(todo[key]))

    def chat(self, messages, **params) -> Answer:
        return self.chat_many([messages], **params)[0]

    def close(self) -> None:
        self._http.close()
        self.cache.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _short(e: Exception) -> str:
    s = str(e).strip() or type(e).__name__
    return s.splitlines()[0][:120]
