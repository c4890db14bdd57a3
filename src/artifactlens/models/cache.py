"""The on-disk answer cache: one SQLite file (the standard library's :mod:`sqlite3`, WAL mode).

A request's key is the SHA-256 of its canonical JSON: the model name, the messages and every sampling
parameter (temperature, seed, max_tokens, stop...). The endpoint URL and the API key are not part of the
key and are never stored: the same model restarted on another port answers from the cache, and nothing in
the file can authenticate anyone. Why SQLite: one file, safe against a kill between two answers (each
answer is committed as it arrives), readable by several processes (Ray workers), and a lookup of 100k
keys takes well under a second (``bench/bench_llm_client.py``).
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path

from ..errors import InputError

CACHE_FILE = "llm-cache.sqlite"
_CHUNK = 900  # SQLite's default limit on bound parameters is 999


def default_cache_dir() -> Path:
    """The user's cache folder: ``$XDG_CACHE_HOME/artifactlens/llm`` (``~/.cache`` when unset;
    ``%LOCALAPPDATA%`` on Windows)."""
    base = os.environ.get("XDG_CACHE_HOME") or (os.environ.get("LOCALAPPDATA") if os.name == "nt" else None)
    return Path(base or Path.home() / ".cache") / "artifactlens" / "llm"


def request_key(body: dict) -> str:
    """SHA-256 of the canonical JSON of a request body (model, messages, parameters)."""
    blob = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class AnswerCache:
    """``get_many(keys) -> {key: answer dict}``, ``put(key, model, answer)``. ``path=None``: no cache."""

    def __init__(self, folder: str | Path | None):
        self.path = None if folder is None else Path(folder) / CACHE_FILE
        self._db = None
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, model TEXT, "
                             "answer TEXT, created REAL)")
        except (OSError, sqlite3.Error) as e:
            raise InputError(f"cannot open the model answer cache ({e})", path=self.path, column="--llm-cache",
                             expected="a writable folder") from None

    def get_many(self, keys: list[str]) -> dict[str, dict]:
        if self._db is None or not keys:
            return {}
        out: dict[str, dict] = {}
        uniq = list(dict.fromkeys(keys))
        for i in range(0, len(uniq), _CHUNK):
            chunk = uniq[i:i + _CHUNK]
            q = f"SELECT key, answer FROM answers WHERE key IN ({','.join('?' * len(chunk))})"
            for k, a in self._db.execute(q, chunk):
                out[k] = json.loads(a)
        return out

    def put(self, key: str, model: str, answer: dict) -> None:
        if self._db is not None:
            self._db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?)",
                             (key, model, json.dumps(answer, ensure_ascii=False), time.time()))

    def put_many(self, rows: list[tuple[str, str, dict]]) -> None:
        if self._db is not None and rows:
            now = time.time()
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?)",
                                     [(k, m, json.dumps(a, ensure_ascii=False), now) for k, m, a in rows])

    def __len__(self) -> int:
        return 0 if self._db is None else self._db.execute("SELECT count(*) FROM answers").fetchone()[0]

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
