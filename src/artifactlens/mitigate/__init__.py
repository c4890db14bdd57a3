"""From finding to fix: ``artifactlens mitigate KIND FILE --result RESULT.json -o OUT``.

One module per audit kind, one class per mitigation (:class:`~.base.Mitigation`: ``name``, ``reason``,
``targets``, ``apply``), registered by kind (:mod:`.registry`); :func:`artifactlens.mitigate.run.mitigate`
applies one, writes the mitigated rows and re-runs the audit on them, so the after-result shows the
figures before and after (its ``mitigation`` table). :mod:`.recommend` holds the one-line recommendation
per finding. This package's ``__init__`` imports only :mod:`.recommend` (no audit, no output module), so
the writing layer may call :func:`attach_recommendations` without importing the audits.
"""
from __future__ import annotations

from .recommend import RECOMMENDATIONS, attach_recommendations, recommendation

__all__ = ["attach_recommendations", "recommendation", "RECOMMENDATIONS"]
