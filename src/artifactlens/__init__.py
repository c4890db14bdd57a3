"""artifactlens: find the artifacts in LLM-generated data before a model is trained on it.

Python API: one rule for every audit, returning the :class:`AuditResult` the CLI writes as JSON::

    import artifactlens as al
    r = al.audit("labels", "labels.csv", run=al.RunOptions(seed=1), text="text", human="human", llm="llm")
    r["minority_erasure_rate"], r.metric("minority_erasure_rate").ci
    al.write_outputs(r, json="labels.json", html="labels.html")   # the audit itself writes nothing

``audit_<kind>(data, run=None, **options)`` are thin aliases of ``audit(kind, ...)``; they also take the
run options (``seed=``, ``flags=``, ``batch_size=`` ...) as keywords. ``data`` is a path, a pandas
DataFrame, a pyarrow Table or a ``datasets.Dataset``.
"""
from ._version import __version__
from .api import audit, registry
from .contract import RunOptions
from .errors import InputError
from .result import AuditResult, Finding, InputInfo, Metric


def _alias(kind: str):
    from .contract.options import RUN_OPTION_NAMES

    def audit_kind(data=None, run: RunOptions | None = None, **kw):
        run_kw = {k: kw.pop(k) for k in list(kw) if k in RUN_OPTION_NAMES}
        if run is not None and run_kw:
            raise InputError("pass run options either in run=RunOptions(...) or as keywords, not both")
        return audit(kind, data, run=run if run is not None else RunOptions(**run_kw), **kw)

    audit_kind.__name__ = audit_kind.__qualname__ = f"audit_{kind}"
    audit_kind.__doc__ = f"``artifactlens.audit({kind!r}, data, run, **options)``; see ``artifactlens audit {kind} -h``."
    return audit_kind


def __getattr__(name):
    if name.startswith("audit_") and name[6:] in registry():
        return _alias(name[6:])
    if name == "write_report":
        from .report.html import write_report
        return write_report
    if name in ("write_outputs", "write_results"):
        from . import outputs
        return getattr(outputs, name)
    raise AttributeError(name)


__all__ = ["__version__", "audit", "RunOptions", "registry", "AuditResult", "Metric", "Finding", "InputInfo",
           "InputError", "write_report", "write_outputs", "write_results",
           *[f"audit_{k}" for k in ("labels", "preferences", "instructions", "simulations", "text")]]
