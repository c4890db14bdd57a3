"""The package as a user gets it: ``python -m build`` makes an sdist and a wheel (the wheel built from the
sdist, as ``build`` does by default), the wheel holds every module and the package data, and installed
into a clean virtual environment (no ``-e``, no checkout on the path) it runs ``artifactlens demo``.

Offline and fast: the build runs without isolation (the setuptools of this environment), the clean
environment is made ``--without-pip`` and the wheel goes in with this environment's pip
(``pip --python``, ``--no-deps --no-index``); the dependencies come from this environment through one
``.pth`` line. What is imported there is the wheel's ``artifactlens`` (checked: not the checkout's)."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "artifactlens"


def _tracked() -> list[str]:
    """The project's files as a fresh clone has them (git's list; the tree minus build outputs without git)."""
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True, timeout=60)
        return [p for p in out.stdout.decode().split("\0") if p and (ROOT / p).is_file()]
    except (OSError, subprocess.SubprocessError):
        skip = {".venv", ".git", "build", "dist", "__pycache__", ".pytest_cache", ".hypothesis"}
        return [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*")
                if p.is_file() and not skip & set(p.relative_to(ROOT).parts) and ".egg-info" not in str(p)]


def _package_files() -> set[str]:
    """What the wheel must hold under ``artifactlens/``: every tracked file of the package but dotfiles."""
    return {p[len("src/"):] for p in _tracked()
            if p.startswith("src/artifactlens/") and not Path(p).name.startswith(".")}


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    """``{"sdist": ..., "wheel": ...}`` built from a copy of the tracked files (nothing written here)."""
    if importlib.util.find_spec("build") is None:
        pytest.fail("the packaging test needs the 'build' package (pip install build; it is in the test extra)")
    src = tmp_path_factory.mktemp("checkout")
    for rel in _tracked():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: this environment's setuptools, offline; -x: setuptools >= 70.1 builds wheels without
    # the 'wheel' package that [build-system] still names
    p = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--skip-dependency-check", "--outdir",
                        str(out), str(src)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    sdists, wheels = list(out.glob("*.tar.gz")), list(out.glob("*.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, sorted(x.name for x in out.iterdir())
    return {"sdist": sdists[0], "wheel": wheels[0]}


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_the_wheel_holds_every_module_and_the_package_data(dist):
    names = set(zipfile.ZipFile(dist["wheel"]).namelist())
    inside = {n for n in names if n.startswith("artifactlens/")}
    want = _package_files()
    assert want - inside == set(), f"missing from the wheel: {sorted(want - inside)[:10]}"
    demo = {n for n in inside if n.startswith("artifactlens/data/demo/")}
    assert {f"artifactlens/data/demo/{k}" for k in ("labels.csv", "preferences.jsonl", "instructions.jsonl",
                                                     "simulations.jsonl", "text.jsonl")} <= demo
    assert not any("__pycache__" in n or n.endswith(".pyc") or ".egg-info" in n for n in names)
    assert not any(n.startswith(("tests/", "bench/", "src/")) for n in names)


def test_the_wheel_metadata_is_the_pyproject(dist):
    from artifactlens import __version__
    project = _project()
    z = zipfile.ZipFile(dist["wheel"])
    info = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
    meta = z.read(info).decode()
    assert project["version"] == __version__
    assert f"Name: {project['name']}\n" in meta and f"Version: {__version__}\n" in meta
    from packaging.requirements import Requirement
    req = lambda text: (Requirement(text).name.lower(), Requirement(text).specifier)  # noqa: E731
    required = {req(line.split(":", 1)[1]) for line in meta.splitlines()
                if line.startswith("Requires-Dist:") and "extra ==" not in line}
    assert {req(d) for d in project["dependencies"]} == required
    entry = z.read(info.replace("METADATA", "entry_points.txt")).decode()
    assert "artifactlens = artifactlens.cli:main" in entry
    assert dist["wheel"].name == f"artifactlens-{__version__}-py3-none-any.whl"


def test_the_sdist_holds_the_sources_docs_and_data(dist):
    with tarfile.open(dist["sdist"]) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    for rel in ("pyproject.toml", "README.md", "LICENSE"):
        assert rel in names
    want = {f"src/{p}" for p in _package_files()}
    assert want - names == set(), f"missing from the sdist: {sorted(want - names)[:10]}"


_WHICH = """
import sys, artifactlens, artifactlens.cli
mods = [m.__file__ for m in list(sys.modules.values())
        if getattr(m, "__name__", "").startswith("artifactlens") and getattr(m, "__file__", None)]
print(artifactlens.__file__)
print(len(mods), sum(m.startswith(sys.argv[1]) for m in mods))
"""


@pytest.mark.slow
def test_the_wheel_installs_in_a_clean_venv_and_runs_the_demo(dist, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    p = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", "--no-index",
                        str(dist["wheel"])], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    # the dependencies: this environment's packages, after the clean one's (which hold only the wheel)
    (site / "_artifactlens_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    which = subprocess.run([str(py), "-c", _WHICH, str(site)], capture_output=True, text=True, env=env,
                           cwd=tmp_path, timeout=120)
    assert which.returncode == 0, which.stderr
    where, counts = which.stdout.split("\n")[:2]
    assert Path(where).is_relative_to(site) and not Path(where).is_relative_to(ROOT / "src"), where
    n, from_wheel = map(int, counts.split())
    assert n > 5 and from_wheel == n, f"{n - from_wheel} artifactlens modules came from outside the wheel"

    run = subprocess.run([str(venv / "bin" / "artifactlens"), "demo", "--out", str(tmp_path / "demo"), "--quiet"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    out = tmp_path / "demo"
    for kind in ("labels", "preferences", "instructions", "simulations", "text"):
        assert (out / f"{kind}.json").stat().st_size > 1000, kind
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<html" in html.lower() and "Task labels" in html
    corpus = site / "artifactlens" / "data" / "textstat" / "nltk_data" / "corpora" / "cmudict" / "cmudict"
    assert corpus.exists() or (Path.home() / ".cache" / "artifactlens" / "nltk_data").exists(), \
        "the text audit's syllable corpus was built nowhere the installed package looks"
