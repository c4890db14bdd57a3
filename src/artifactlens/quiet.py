"""What the libraries under an audit print, scoped to a call: ``--quiet`` means nothing on stderr.

- :func:`quiet_model_loading`: around loading a local transformers / sentence-transformers model (MiniLM,
  an NLI or a causal model). Always used there: transformers' "Loading weights" bar over a hundred local
  tensors tells a user nothing. It turns off transformers' and huggingface_hub's progress bars through
  their own switches (``transformers.utils.logging.disable_progress_bar``,
  ``huggingface_hub.utils.disable_progress_bars``) and sets their loggers to errors.
- :func:`quiet_run`: with ``quiet=True``, around a whole audit: warnings are ignored
  (``warnings.catch_warnings``: scikit-learn's ConvergenceWarning, pandas' FutureWarning, Ray's
  deprecations), the loggers of the libraries we call are set to ERROR, and models load quietly.

Both put everything back as it was when the block ends (the warning filters, each logger's level,
the progress-bar switches), so nothing outlives the call: a notebook's next cell prints as before.
"""
from __future__ import annotations

import contextlib
import logging
import sys
import warnings

#: the loggers of the libraries an audit calls (their children inherit the level unless they set one)
LIBRARY_LOGGERS = ("sklearn", "transformers", "sentence_transformers", "huggingface_hub", "datasets", "torch",
                   "ray", "ray.data", "crowdkit", "statsmodels", "numba", "urllib3", "filelock", "py.warnings")


@contextlib.contextmanager
def logger_levels(names, level: int):
    """Set the loggers ``names`` to ``level`` inside the block; each gets its own level back after."""
    loggers = [logging.getLogger(n) for n in names]
    before = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(level)
    try:
        yield
    finally:
        for lg, lvl in zip(loggers, before):
            lg.setLevel(lvl)


@contextlib.contextmanager
def _hf_progress_off():
    """transformers' and huggingface_hub's progress bars off inside the block, each switch restored after
    (only the switches of libraries that are installed)."""
    with contextlib.ExitStack() as stack:
        try:
            from transformers.utils import logging as tlog
        except ImportError:
            tlog = None
        if tlog is not None:
            tlog.get_logger()  # transformers sets its logger up on first use: before our level, not over it
            if tlog.is_progress_bar_enabled():
                tlog.disable_progress_bar()
                stack.callback(tlog.enable_progress_bar)
        hub = sys.modules.get("huggingface_hub.utils")
        if hub is None:
            with contextlib.suppress(ImportError):
                import huggingface_hub.utils as hub
        if hub is not None and hasattr(hub, "are_progress_bars_disabled"):
            if not hub.are_progress_bars_disabled():
                hub.disable_progress_bars()
                stack.callback(hub.enable_progress_bars)
        yield


@contextlib.contextmanager
def quiet_model_loading():
    """Load a model inside this block: no progress bar, no info or warning lines from transformers,
    sentence-transformers or huggingface_hub (errors still raise). Restored after."""
    with _hf_progress_off(), logger_levels(("transformers", "sentence_transformers", "huggingface_hub"),
                                            logging.ERROR):
        yield


@contextlib.contextmanager
def quiet_run(quiet: bool):
    """With ``quiet``: no warning, no library log line below an error and no model-loading bar inside the
    block; without, nothing changes. Everything is restored when the block ends."""
    if not quiet:
        yield
        return
    with warnings.catch_warnings(), logger_levels(LIBRARY_LOGGERS, logging.ERROR), quiet_model_loading():
        warnings.simplefilter("ignore")
        yield
