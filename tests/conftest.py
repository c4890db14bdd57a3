"""Shared fixtures. Real data lives in ../shared/data (beside the project); tests using it skip when absent."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

pytest_plugins = ["support.llm"]  # the model fixtures: server, fake, tiny_lm, tiny_nli

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def shared_path(*parts: str) -> Path:
    """Path under ../shared/data, or skip the test with the reason."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"real data not available: {p} (../shared/data is absent)")
    return p


@pytest.fixture
def shared_data():
    return shared_path


@pytest.fixture
def run_cli(capsys):
    """Run the CLI in-process: returns (exit_code, stdout, stderr)."""
    from artifactlens.cli import main

    def _run(*argv):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as e:  # argparse usage errors
            code = e.code
        out = capsys.readouterr()
        return code, out.out, out.err
    return _run


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory):
    """`artifactlens demo` once per session (every registered audit)."""
    from artifactlens.demo import run_demo
    return run_demo(tmp_path_factory.mktemp("demo"), seed=0, quiet=True)


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray instance (2 CPUs) for a test module, shut down at its end; skips without Ray."""
    ray = pytest.importorskip("ray", reason="Ray is the optional extra artifactlens[ray]")
    # Ray workers import the checks by module (support.toy): let them find tests/ and the package
    here = str(Path(__file__).resolve().parent)
    os.environ["PYTHONPATH"] = os.pathsep.join([here, *sys.path[:3], os.environ.get("PYTHONPATH", "")])
    if ray.is_initialized():  # another test module's audit left a Ray running: start ours with this path
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield ray
    ray.shutdown()
