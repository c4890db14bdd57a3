"""Pool workers exit with their parent (issue 16, item 6): after the driver is killed with SIGKILL (no
shutdown reaches the pool) no forkserver worker is left running."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")

_CHECK = """
import os, sys, time
from artifactlens.engine import Check, MapOutput

class Slow(Check):
    name = "slow"
    pure_map = True
    def map(self, batch, ctx):
        with open(os.environ["PIDS_FILE"], "a") as f:
            f.write(f"{os.getpid()}\\n")
        time.sleep(30)
        return MapOutput(None, batch.num_rows)
    def merge(self, a, b):
        return a + b
"""
_DRIVER = """
import sys
import numpy as np, pyarrow as pa
from artifactlens.engine import LocalEngine
from slowcheck import Slow
batches = [pa.RecordBatch.from_pydict({"x": np.arange(10)}) for _ in range(8)]
LocalEngine(workers=2).run(batches, [Slow()])
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie (exited, not yet reaped) is gone
        return f.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forkserver pool and /proc: Linux")
def test_workers_exit_when_the_driver_is_killed(tmp_path):
    pids = tmp_path / "pids"
    pids.write_text("")
    (tmp_path / "slowcheck.py").write_text(_CHECK)  # a module: the workers unpickle the check by name
    drv = subprocess.Popen([sys.executable, "-c", _DRIVER], env={**os.environ, "PIDS_FILE": str(pids),
                                                                 "PYTHONPATH": f"{SRC}{os.pathsep}{tmp_path}"})
    deadline = time.monotonic() + 60
    while len(pids.read_text().split()) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = [int(x) for x in pids.read_text().split()]
    assert len(workers) >= 2, "the pool never started"
    drv.send_signal(signal.SIGKILL)
    drv.wait()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [p for p in workers if _alive(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert not left, f"workers {left} outlived their parent"
