"""The model client against the shipped server, and its cache-hit path.

1. requests/s and completion tokens/s through :class:`artifactlens.models.ChatClient` (cache off) vs a bare
   loop of the ``openai`` package (a thread pool of ``client.chat.completions.create``) at the same
   concurrency, same parameters, against the same llama-cpp-python server on SmolLM2-135M, in one run.
   Rounds alternate (ours, openai, ours, openai ...), each round on its own prompts so llama.cpp's prompt
   cache favours neither side.
2. the cache-hit path: 100k cached prompts answered from the SQLite cache (no server is contacted).

    python bench/bench_llm_client.py [--requests 24] [--concurrency 2] [--rounds 2] [--cached 100000]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor


def prompts(tag: str, n: int) -> list[str]:
    return [f"In one short sentence, describe object {tag}-{i}." for i in range(n)]


def ours(url, model, ps, conc, max_tokens):
    from artifactlens.models import ChatClient
    with ChatClient(url, model, concurrency=conc, cache=False, max_tokens=max_tokens) as c:
        t = time.perf_counter()
        out = c.chat_many(ps)
        dt = time.perf_counter() - t
    return dt, sum(a.completion_tokens for a in out)


def bare_openai(url, model, ps, conc, max_tokens):
    import openai
    c = openai.OpenAI(base_url=url, api_key="none", max_retries=0)

    def one(p):
        r = c.chat.completions.create(model=model, messages=[{"role": "user", "content": p}], temperature=0.0,
                                      seed=0, max_tokens=max_tokens)
        return r.usage.completion_tokens
    t = time.perf_counter()
    with ThreadPoolExecutor(conc) as pool:
        toks = sum(pool.map(one, ps))
    return time.perf_counter() - t, toks


def cache_hits(n: int) -> tuple[float, float]:
    from artifactlens.models import ChatClient
    from artifactlens.models.cache import AnswerCache, request_key
    with tempfile.TemporaryDirectory() as d:
        probe = ChatClient("http://127.0.0.1:9/v1", "m", cache=d)  # port 9: nothing is ever sent
        ps = prompts("cached", n)
        t = time.perf_counter()
        AnswerCache(d).put_many([(request_key(probe.body(p)), "m", {"text": "x"}) for p in ps])
        fill = time.perf_counter() - t
        t = time.perf_counter()
        out = probe.chat_many(ps)
        dt = time.perf_counter() - t
        assert len(out) == n and probe.stats.sent == 0 and probe.stats.cache_hits == n
        probe.close()
    return fill, dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=24)
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=24)
    ap.add_argument("--cached", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    from artifactlens.models.serve import serve
    t = time.perf_counter()
    with serve(threads=a.threads) as srv:
        print(f"server ready in {time.perf_counter() - t:.1f} s at {srv.url}")
        ours(srv.url, srv.model, prompts("warm", 2), 1, a.max_tokens)
        tot = {"ours": [0.0, 0], "openai": [0.0, 0]}
        for r in range(a.rounds):
            for name, fn in (("ours", ours), ("openai", bare_openai)):
                dt, tok = fn(srv.url, srv.model, prompts(f"{name}{r}", a.requests), a.concurrency, a.max_tokens)
                tot[name][0] += dt
                tot[name][1] += tok
                print(f"  round {r} {name:7s} {a.requests / dt:6.2f} req/s {tok / dt:7.1f} tok/s")
    n = a.requests * a.rounds
    for name, (dt, tok) in tot.items():
        print(f"{name:7s}: {n / dt:6.2f} requests/s, {tok / dt:7.1f} completion tokens/s ({tok} tokens, {dt:.1f} s)")
    (d1, t1), (d2, t2) = tot["ours"], tot["openai"]
    print(f"time per completion token, ours / openai: {(d1 / max(t1, 1)) / (d2 / max(t2, 1)):.3f}; "
          f"requests/s ratio ours / openai: {(n / d1) / (n / d2):.3f}")
    fill, dt = cache_hits(a.cached)
    print(f"cache: {a.cached:,} prompts filled in {fill:.2f} s; all answered from the cache in {dt:.2f} s "
          f"({a.cached / dt:,.0f} /s)")


if __name__ == "__main__":
    main()
