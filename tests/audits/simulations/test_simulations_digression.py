"""The digression threshold is chosen from labelled data: on-task and off-task turns written for 16 tasks
(tests/fixtures/simulations_digression_labels.jsonl). These tests re-derive the separation and the threshold."""
from __future__ import annotations

import json

import numpy as np
import pytest

from artifactlens.audits.simulations import digression as dg
from support.paths import FIXTURES

FIXTURE = FIXTURES / "simulations_digression_labels.jsonl"


@pytest.fixture(scope="module")
def scored():
    rows = [json.loads(x) for x in FIXTURE.read_text().splitlines()]
    s = dg.task_similarity([r["text"] for r in rows], [r["task"] for r in rows])
    y = np.array([r["label"] == "off" for r in rows])
    tasks = np.array([r["task_id"] for r in rows])
    assert np.isfinite(s).all()  # every labelled turn is long enough to score
    return s, y, tasks


def test_labelled_set_is_balanced_over_many_tasks(scored):
    s, y, tasks = scored
    assert len(set(tasks)) == 16 and y.sum() >= 60 and (~y).sum() >= 60
    assert all(y[tasks == t].any() and (~y[tasks == t]).any() for t in set(tasks))


def test_on_and_off_task_turns_separate(scored):
    s, y, _ = scored
    c = dg.calibrate(s, y)
    print(f"\nAUC {c['auc']:.3f}; Youden threshold {c['threshold']:.3f}: precision {c['precision']:.3f} "
          f"recall {c['recall']:.3f}; median on-task {np.median(s[~y]):.3f}, off-task {np.median(s[y]):.3f}")
    assert c["auc"] >= 0.94
    assert np.median(s[~y]) - np.median(s[y]) > 0.25


def test_default_threshold_is_the_data_chosen_one(scored):
    s, y, _ = scored
    c = dg.calibrate(s, y)
    assert abs(c["threshold"] - dg.DIGRESSION_THRESHOLD) < 0.02
    pr = dg.precision_recall(s, y, dg.DIGRESSION_THRESHOLD)
    assert pr["precision"] >= 0.85 and pr["recall"] >= 0.85


def test_threshold_holds_on_held_out_tasks(scored):
    """Two folds split by task: the threshold chosen on one half keeps precision and recall on the other."""
    s, y, tasks = scored
    ids = sorted(set(tasks))
    fold = np.isin(tasks, ids[::2])
    for train, test in ((fold, ~fold), (~fold, fold)):
        thr = dg.calibrate(s[train], y[train])["threshold"]
        pr = dg.precision_recall(s[test], y[test], thr)
        assert abs(thr - dg.DIGRESSION_THRESHOLD) < 0.05
        assert pr["precision"] >= 0.8 and pr["recall"] >= 0.8


def test_boilerplate_is_dropped_and_short_turns_are_not_scored():
    assert dg.clean_for_embedding("Instruction: Plot the prices.\nInput: None") == "Plot the prices."
    assert dg.clean_for_embedding("Solution: use pandas.\nNext request.") == "use pandas."
    s = dg.task_similarity(["Agreed.", "We plot the daily closing prices with matplotlib now."],
                           ["Plot daily closing prices of a stock with matplotlib."] * 2)
    assert np.isnan(s[0]) and s[1] > 0.5


def test_runs_and_drift():
    assert dg.longest_run(np.array([0, 1, 1, 0, 1, 1, 1, 0], bool)) == 3
    assert dg.drift(np.array([0.6, 0.5, 0.4, 0.3, 0.2])) == pytest.approx(-0.4)
    assert np.isnan(dg.drift(np.array([0.6, np.nan])))
