"""Optional LLM judge of digression through an OpenAI-compatible ``/chat/completions`` endpoint.

Off by default: nothing leaves the machine unless the user passes ``--judge-url``. Uses only the
standard library (:mod:`urllib.request`), one request per unique (task, turn) pair, temperature 0.
The API key, where one is needed, is read from an environment variable the user names.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request

from ...errors import InputError

PROMPT = ("You audit a multi-agent conversation. Task: {task}\n\nMessage: {text}\n\n"
          "Does this message work on the task, or does it digress from it? Answer with one word: ON or OFF.")


class LLMJudge:
    """``judge(task, text) -> True`` (off task), ``False`` (on task) or ``None`` (unreadable answer)."""

    def __init__(self, url: str, model: str = "default", api_key: str | None = None, timeout: float = 60.0):
        if not url.startswith(("http://", "https://")):
            raise InputError(f"judge URL '{url}' is not an HTTP address", column="--judge-url",
                             expected="e.g. http://127.0.0.1:8000/v1")
        self.url = url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.cache: dict[tuple[str, str], bool | None] = {}
        self.calls = 0

    def judge(self, task: str, text: str) -> bool | None:
        key = (task, text)
        if key not in self.cache:
            self.cache[key] = self._ask(task, text)
        return self.cache[key]

    def _ask(self, task: str, text: str) -> bool | None:
        body = {"model": self.model, "temperature": 0, "max_tokens": 3,
                "messages": [{"role": "user", "content": PROMPT.format(task=task[:2000], text=text[:2000])}]}
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=headers, method="POST")
        self.calls += 1
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                out = json.loads(r.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise InputError(f"the judge at {self.url} did not answer ({e})", column="--judge-url",
                             expected="an OpenAI-compatible /chat/completions endpoint") from None
        try:
            word = out["choices"][0]["message"]["content"].strip().upper()
        except (KeyError, IndexError, TypeError, AttributeError):
            return None
        return True if word.startswith("OFF") else False if word.startswith("ON") else None
