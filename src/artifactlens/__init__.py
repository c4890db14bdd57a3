"""artifactlens: find the artifacts in LLM-generated data before a model is trained on it.

Python API (each returns an :class:`AuditResult`, the object the CLI writes as JSON)::

    import artifactlens as al
    r = al.audit_labels("labels.csv", text="text", human="human", llm="llm")
    r["minority_erasure_rate"], r.metric("minority_erasure_rate").ci
    al.write_report([r], "report.html")
"""
__version__ = "0.1.0"

from .errors import InputError  # noqa: E402
from .result import AuditResult, Metric, Finding, InputInfo  # noqa: E402

_API = {
    "audit_labels": "labels", "audit_preferences": "preferences", "audit_instructions": "instructions",
    "audit_simulations": "simulations", "audit_text": "text",
}


def __getattr__(name):
    if name in _API:
        import importlib
        mod = importlib.import_module(f".audits.{_API[name]}", __name__)
        return getattr(mod, name)
    if name == "write_report":
        from .report.html import write_report
        return write_report
    raise AttributeError(name)


__all__ = ["AuditResult", "Metric", "Finding", "InputInfo", "InputError", "write_report", *_API]
