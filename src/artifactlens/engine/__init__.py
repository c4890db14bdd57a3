"""Engines run checks; checks never know which engine runs them."""
from .base import BatchContext, Check, Detector, DetectorCheck, MapOutput, RowScores
from .local import LocalEngine


def get_engine(name: str = "local", **kw):
    """``local`` (in-process, or a process pool on large inputs: ``workers=``) or ``ray`` (Ray Data, optional
    extra ``artifactlens[ray]``: ``workers=``, ``address=``). Both give the same results (docs/large-datasets.md).
    An engine object (what :meth:`artifactlens.contract.RunContext.engine` builds) is returned as it is."""
    if not isinstance(name, str):
        return name
    if name == "local":
        from .checkpoint import resumable_engine  # --resume: checkpointed, in-process
        return resumable_engine(**kw) or LocalEngine(**kw)
    if name == "ray":
        try:
            from .ray_engine import RayEngine
        except ImportError as e:
            from ..errors import MissingDependency
            raise MissingDependency("ray", extra="ray", purpose="--engine ray") from e
        return RayEngine(**kw)
    from ..errors import InputError
    raise InputError(f"unknown engine '{name}'", expected="local or ray")


__all__ = ["BatchContext", "Check", "Detector", "DetectorCheck", "MapOutput", "RowScores", "LocalEngine",
           "get_engine"]
