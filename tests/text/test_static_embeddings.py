"""The static table distilled in-project from the packaged MiniLM (artifactlens.text.static_embeddings):
what it builds, how far it agrees with MiniLM, the `kind=` switch of embed(), and the digression threshold
re-chosen for it on the labelled turns (tests/fixtures/simulations_digression_labels.jsonl).

The table is built once per machine into the artifactlens cache (~1 CPU-minute) on first use."""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import spearmanr

from artifactlens.audits.simulations import audit_simulations
from artifactlens.audits.simulations import digression as dg
from artifactlens.text import static_embeddings as se
from artifactlens.text.embeddings import embed
from support.paths import FIXTURES

FIXTURE = FIXTURES / "simulations_digression_labels.jsonl"
ROWS = [json.loads(x) for x in FIXTURE.read_text().splitlines()]


@pytest.fixture(scope="module")
def model(monkeypatch_module):
    return se.static_model()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    mp.delenv(se.ENV, raising=False)  # the built-in table, not a user's folder
    yield mp
    mp.undo()


@pytest.fixture(scope="module")
def scored(model):
    s = dg.task_similarity([r["text"] for r in ROWS], [r["task"] for r in ROWS], embeddings="static")
    y = np.array([r["label"] == "off" for r in ROWS])
    return s, y, np.array([r["task_id"] for r in ROWS])


def test_the_built_table_is_minilms_vocabulary_in_256_dims(model):
    cfg = json.loads((model.folder / "config.json").read_text())
    assert cfg["built_by"].endswith("static_embeddings.distill") and cfg["apply_pca"] == 256
    assert model.table.shape == (30522, 256) and np.isfinite(model.table).all()
    # SIF by Zipf rank: frequent words (WordPiece ids from 1996: "the", "of", ...) are damped, rare ones are not
    norms = np.linalg.norm(model.table, axis=1)
    assert np.median(norms[1996:2500]) < 0.65 * np.median(norms[20000:21000])
    v = embed(["Write a poem about the sea.", "Compose verses about the ocean.", "Sort the invoices by date.", None],
              kind="static")
    assert v.shape == (4, 256) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v[:3], axis=1), 1, atol=1e-5) and not v[3].any()
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2


def test_static_cosines_rank_like_minilms(model):
    """Spearman of the 148 turn-task cosines: static vs MiniLM on the same (real, hand-written) pairs."""
    turns, tasks = [r["text"] for r in ROWS], [r["task"] for r in ROWS]
    cos = {k: np.einsum("ij,ij->i", embed(turns, kind=k), embed(tasks, kind=k)) for k in ("minilm", "static")}
    rho = spearmanr(cos["minilm"], cos["static"]).statistic
    print(f"\nSpearman rho static vs MiniLM turn-task cosines: {rho:.3f}")
    assert rho >= 0.7


def test_kind_switch_and_env_var(model, monkeypatch, tmp_path):
    assert embed(["a cat"], kind="minilm").shape == (1, 384)
    assert embed(["a cat"]).shape == (1, 384)  # default unchanged: MiniLM
    monkeypatch.setenv(se.ENV, str(model.folder))  # the env var still switches every default call
    assert embed(["a cat"]).shape == (1, 256)
    assert embed(["a cat"], kind="minilm").shape == (1, 384)
    with pytest.raises(ValueError):
        embed(["a cat"], kind="glove")


def test_static_threshold_is_the_data_chosen_one(scored):
    s, y, _ = scored
    assert np.isfinite(s).all()
    c = dg.calibrate(s, y)
    print(f"\nstatic: AUC {c['auc']:.3f}; Youden threshold {c['threshold']:.3f}: precision {c['precision']:.3f} "
          f"recall {c['recall']:.3f}; median on-task {np.median(s[~y]):.3f}, off-task {np.median(s[y]):.3f}")
    assert 0.84 <= c["auc"] < 0.94  # separates, but less sharply than MiniLM (AUC >= 0.94)
    assert abs(c["threshold"] - dg.STATIC_DIGRESSION_THRESHOLD) < 0.02
    pr = dg.precision_recall(s, y, dg.STATIC_DIGRESSION_THRESHOLD)
    assert pr["precision"] >= 0.68 and pr["recall"] >= 0.85
    assert dg.default_threshold("static") == dg.STATIC_DIGRESSION_THRESHOLD != dg.default_threshold("minilm")


def test_static_threshold_on_held_out_tasks(scored):
    """Two folds split by task: the static threshold moves more than MiniLM's (0.53 / 0.63), recall holds."""
    s, y, tasks = scored
    for thr, pr in dg.held_out_by_group(s, y, tasks):
        print(f"\nheld-out fold: threshold {thr:.3f}, precision {pr['precision']:.3f}, recall {pr['recall']:.3f}")
        assert abs(thr - dg.STATIC_DIGRESSION_THRESHOLD) < 0.07
        assert pr["precision"] >= 0.5 and pr["recall"] >= 0.7


def test_audit_with_static_embeddings_records_its_threshold(model, run_cli, tmp_path):
    from artifactlens.audits.common import demo_path
    r = audit_simulations(demo_path("simulations.jsonl"), embeddings="static")
    assert r.params["embeddings"] == "static" and r.params["digression_threshold"] == dg.STATIC_DIGRESSION_THRESHOLD
    assert "Youden" in r.params["digression_threshold_source"]
    assert r["digression_rate"] > 0  # the demo's planted digressions are found by the static model too
    out = tmp_path / "r.json"
    code, _, err = run_cli("audit", "simulations", str(demo_path("simulations.jsonl")), "--embeddings", "static",
                           "--json", str(out), "--quiet")
    assert code == 0, err
    p = json.loads(out.read_text())["params"]
    assert p["embeddings"] == "static" and p["digression_threshold"] == dg.STATIC_DIGRESSION_THRESHOLD
    code, _, err = run_cli("audit", "simulations", str(demo_path("simulations.jsonl")), "--embeddings", "static",
                           "--digression-threshold", "0.4", "--json", str(out), "--quiet")
    p = json.loads(out.read_text())["params"]
    assert code == 0 and p["digression_threshold"] == 0.4 and "user" in p["digression_threshold_source"]
