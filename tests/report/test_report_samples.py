"""The hand-built sample results (tests/support/samples.py) survive a JSON round trip."""
from __future__ import annotations

from artifactlens.result import AuditResult
from support.samples import labels_result, long_text_result, many_classes_result, prefs_result


def test_samples_round_trip():
    for r in (labels_result(), prefs_result(), many_classes_result(), long_text_result()):
        back = AuditResult.from_json(r.to_json())
        assert back.to_dict()["metrics"] == r.to_dict()["metrics"]
        assert back.headline == r.headline
