"""``--engine ray`` for generation: the same :class:`~.client.ChatClient`, its requests sent from Ray workers.

The driver keeps everything that makes a run safe and reproducible: the cache lookup, the request cap,
the answers' order, the cache writes (each answer as it streams back), the counts. Only the requests that
the cache does not answer go to Ray Data (``ray.data.from_items(...).map_batches(<actor class>,
compute=ActorPoolStrategy(size=N))``): each actor builds one plain ``ChatClient`` (no cache, no model check: the driver did
it) against the user's endpoint and answers its batch with bounded concurrency. The API key is never
shipped: each worker reads it from the variable ``--llm-api-key-env`` names (on a cluster, set it on the
workers, e.g. Ray's ``runtime_env={"env_vars": ...}``).

Where vLLM is installed on the cluster, ``ray.data.llm`` (``vLLMEngineProcessorConfig`` +
``build_llm_processor``) runs the model inside the Ray workers instead of behind an endpoint; that path
is documented in the README ("Using your own model") and not used here (vLLM is not installed with
artifactlens). The model-backed *checks* on ``--engine ray`` need nothing of this module: the audits'
Ray engine ships their detectors to its actors, and each builds its own client there.
"""
from __future__ import annotations

import json

from ..engine.ray_engine import actor_pool, ensure_ray
from ..errors import InputError, MissingDependency
from .client import Answer, ChatClient

RAY_BATCH = 16  # requests per Ray Data batch (one actor answers them with its own concurrency)


class _Asker:
    """A Ray Data actor: one ChatClient against the endpoint; ``__call__(batch) -> {key, answer}``."""

    def __init__(self, endpoint: str, model: str, api_key_env: str | None, concurrency: int, timeout: float,
                 retries: int, backoff: float):
        self.client = ChatClient(endpoint, model, api_key_env=api_key_env, concurrency=concurrency, cache=False,
                                 timeout=timeout, retries=retries, backoff=backoff, check_model=False)

    def __call__(self, batch):
        bodies = [json.loads(b) for b in batch["body"]]
        answers = self.client.chat_many(bodies)
        return {"key": list(batch["key"]), "answer": [json.dumps(a.to_cache()) for a in answers]}


class RayChatClient(ChatClient):
    """A :class:`ChatClient` whose uncached requests run on Ray Data (``workers`` actors; ``ray_address``
    joins a running cluster, else a local Ray starts)."""

    def __init__(self, endpoint: str, model: str, *, workers: int | None = None, ray_address: str | None = None,
                 **kw):
        super().__init__(endpoint, model, **kw)
        self.workers, self.ray_address = workers, ray_address
        self._api_key_env = kw.get("api_key_env")

    def _run(self, bodies, keys, todo, out, progress) -> bool:
        if not todo:
            return False
        try:
            import ray  # noqa: F401
        except ImportError:
            raise MissingDependency("ray", extra="ray", purpose="--engine ray") from None
        items, capped = [], False
        for key, idx in todo.items():
            if not self._take_budget():
                capped = True
                break
            items.append({"key": key, "body": json.dumps(bodies[idx[0]], sort_keys=True)})
        if not items:
            return capped
        ensure_ray(self.ray_address, self.workers)
        import ray.data
        n_actors = max(1, min(self.workers or 2, -(-len(items) // RAY_BATCH)))
        ds = ray.data.from_items(items).map_batches(
            _Asker, batch_size=RAY_BATCH, batch_format="pandas", max_restarts=0, **actor_pool(ray, n_actors),
            fn_constructor_kwargs=dict(endpoint=self.base, model=self.model, api_key_env=self._api_key_env,
                                       concurrency=self.concurrency, timeout=self.timeout, retries=self.retries,
                                       backoff=self.backoff))
        try:
            for row in ds.iter_rows():
                self._store(row["key"], Answer(**json.loads(row["answer"])), todo, out, progress)
        except InputError:
            raise
        except Exception as e:  # a worker's InputError arrives wrapped in Ray's task error
            cause = _input_error(e)
            if cause is None:
                raise
            raise cause from None
        return capped


def _input_error(e: BaseException) -> InputError | None:
    seen = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, InputError):
            return InputError(str(e))
        cause = getattr(e, "cause", None)
        e = cause if isinstance(cause, BaseException) else e.__cause__
    return None
