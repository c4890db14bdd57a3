"""The model options every model-backed command shares, and the one place a client is built from them.

``--llm-endpoint URL --llm-model NAME [--llm-api-key-env VAR] [--llm-concurrency N] [--llm-max-requests N]
[--llm-cache DIR] [--llm-timeout S]`` for an OpenAI-compatible server, ``--lm-path DIR`` (a local causal
LM: instruction-following difficulty) and ``--nli-path DIR`` (a local NLI model: entailment). The
simulations audit's old ``--judge-url``/``--judge-model``/``--judge-key-env`` are aliases for one release.
Nothing is read from the environment but the key, from the variable the user names.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, fields

from ..errors import InputError


@dataclass
class ModelFields:
    """The model options as fields (named as on the CLI), the base of :class:`ModelOptions` and of the
    ``Options`` of every audit with model-backed checks (``class XOptions(ModelFields)``).
    ``model_options()`` validates them into a :class:`ModelOptions` (None: no model given)."""

    llm_endpoint: str | None = None
    llm_model: str | None = None
    llm_api_key_env: str | None = None
    llm_concurrency: int = 4
    llm_max_requests: int | None = None
    llm_cache: str | None = None
    lm_path: str | None = None
    nli_path: str | None = None
    llm_timeout: float = 120.0

    def model_options(self) -> "ModelOptions | None":
        o = ModelOptions(**{f.name: getattr(self, f.name) for f in fields(ModelFields)})
        return o if (o.has_llm or o.lm_path or o.nli_path) else None


def model_fields_from_args(a: argparse.Namespace) -> dict:
    """The :class:`ModelFields` keywords from parsed flags (for an audit's ``options_from_args``)."""
    return {f.name: getattr(a, f.name) for f in fields(ModelFields) if hasattr(a, f.name)}


@dataclass
class ModelOptions(ModelFields):
    """Validated model options. ``llm_endpoint`` None: no model (the heuristic checks only).
    ``llm_cache`` None: the user's cache folder; "off": no cache."""

    def __post_init__(self):
        if self.llm_endpoint is not None and not self.llm_model:
            raise InputError("--llm-endpoint needs --llm-model", column="--llm-model",
                             expected="the model name the endpoint serves (see its /v1/models)")
        if self.llm_model and self.llm_endpoint is None:
            raise InputError("--llm-model needs --llm-endpoint", column="--llm-endpoint",
                             expected="e.g. http://127.0.0.1:8000/v1 (see `artifactlens llm serve`)")
        if isinstance(self.llm_concurrency, bool) or not isinstance(self.llm_concurrency, int) \
                or not 1 <= self.llm_concurrency <= 1024:
            raise InputError(f"--llm-concurrency {self.llm_concurrency!r} is out of range",
                             expected="an integer from 1 to 1024")
        if self.llm_max_requests is not None and (not isinstance(self.llm_max_requests, int)
                                                  or self.llm_max_requests < 0):
            raise InputError(f"--llm-max-requests {self.llm_max_requests!r} is out of range",
                             expected="a non-negative integer")
        if not (isinstance(self.llm_timeout, (int, float)) and self.llm_timeout > 0):
            raise InputError(f"--llm-timeout {self.llm_timeout!r} is out of range", expected="seconds > 0")

    @classmethod
    def from_args(cls, a: argparse.Namespace) -> "ModelOptions":
        return cls(**model_fields_from_args(a))

    @property
    def has_llm(self) -> bool:
        return self.llm_endpoint is not None

    def client(self, seed: int = 0, engine: str = "local", **kw):
        """The :class:`~.client.ChatClient` for these options (None without ``--llm-endpoint``);
        ``engine="ray"``: its requests sent from Ray workers (:class:`~.ray_client.RayChatClient`;
        ``workers``/``ray_address`` keywords)."""
        if not self.has_llm:
            return None
        from .client import ChatClient
        from .ray_client import RayChatClient
        if engine not in ("local", "ray"):
            raise InputError(f"unknown engine {engine!r}", column="--engine", expected="local or ray")
        cache = False if self.llm_cache == "off" else self.llm_cache
        return (RayChatClient if engine == "ray" else ChatClient)(self.llm_endpoint, self.llm_model, api_key_env=self.llm_api_key_env,
                          concurrency=self.llm_concurrency, max_requests=self.llm_max_requests, cache=cache,
                          timeout=self.llm_timeout, seed=seed, **kw)


def add_model_arguments(parser: argparse.ArgumentParser, judge_aliases: bool = False) -> None:
    """Add the model flags (dest = :class:`ModelOptions` fields). ``judge_aliases``: also accept the
    simulations audit's old ``--judge-url/--judge-model/--judge-key-env`` (same dest)."""
    g = parser.add_argument_group("models (off by default: nothing is sent anywhere unless --llm-endpoint is given)")
    alias = (lambda old: [old]) if judge_aliases else (lambda old: [])
    g.add_argument("--llm-endpoint", *alias("--judge-url"), dest="llm_endpoint", metavar="URL",
                   help="an OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 (`artifactlens llm serve`)")
    g.add_argument("--llm-model", *alias("--judge-model"), dest="llm_model", metavar="NAME",
                   help="the model name the endpoint serves")
    g.add_argument("--llm-api-key-env", *alias("--judge-key-env"), dest="llm_api_key_env", metavar="VAR",
                   help="the environment variable that holds the API key (the key is never written anywhere)")
    g.add_argument("--llm-concurrency", type=int, default=4, metavar="N", help="requests in flight (default 4)")
    g.add_argument("--llm-max-requests", type=int, metavar="N",
                   help="send at most N requests, then stop cleanly (cached answers are free)")
    g.add_argument("--llm-cache", metavar="DIR", help="answer cache folder (default ~/.cache/artifactlens/llm; "
                   "'off' for none)")
    g.add_argument("--llm-timeout", type=float, default=120.0, metavar="S", help="seconds per request (default 120)")
    g.add_argument("--lm-path", metavar="DIR", help="a local causal LM (Hugging Face folder) for log-prob scores")
    g.add_argument("--nli-path", metavar="DIR", help="a local NLI model (Hugging Face folder) for entailment")
