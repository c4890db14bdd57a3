"""Shared fixtures. Real data lives in ../shared/data (beside the project); tests using it skip when absent."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

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
