"""Models in the loop against the real shipped server: llama-cpp-python serving SmolLM2-135M-Instruct on
127.0.0.1 (real HTTP, no mock). Generate -> audit for labels, judgments and role-play; the second run sends
no request; a killed run resumed gives the output of an uninterrupted one; the model-backed detectors."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pytest

from artifactlens.errors import InputError
from artifactlens.models import ChatClient, ModelOptions
from artifactlens.models.cli import main as models_main
from support.llm import needs_llama, requests_in
from support.paths import ROOT

pytestmark = [pytest.mark.slow, needs_llama]
DEMO = ROOT / "src" / "artifactlens" / "data" / "demo"


def gen(server, cache, *argv) -> int:
    return models_main(["generate", *argv, "--llm-endpoint", server.url, "--llm-model", server.model,
                        "--llm-cache", str(cache), "--quiet"])


def test_serves_on_loopback_and_names_a_wrong_model(server, tmp_path):
    assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/v1")
    with ChatClient(server.url, server.model, cache=tmp_path) as c:
        a = c.chat("Say hello.")
    assert a.text and a.completion_tokens > 0
    with ChatClient(server.url, "gpt-4o", cache=False) as c, pytest.raises(InputError) as e:
        c.chat("x")
    assert "does not serve a model named 'gpt-4o'" in str(e.value) and server.model in str(e.value)


def test_generate_labels_then_audit_and_a_rerun_sends_nothing(server, tmp_path, capsys):
    import artifactlens as al
    import pandas as pd
    items = tmp_path / "items.csv"
    pd.read_csv(DEMO / "labels.csv").head(8).drop(columns=["llm"]).to_csv(items, index=False)
    out = tmp_path / "labels.jsonl"
    args = ["labels", str(items), "--text", "text", "--labels", "offensive,maybe,not offensive", "--samples", "2",
            "-o", str(out), "--params", str(tmp_path / "p.json")]
    assert gen(server, tmp_path / "c", *args) == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == 8 and all(len(r["llm"]) == 2 and len(r["llm_raw"]) == 2 for r in rows)
    assert {"id", "domain", "text", "human"} <= set(rows[0])  # every input column kept
    assert set(v for r in rows for v in r["llm"]) <= {"offensive", "maybe", "not offensive", None}
    params = json.loads((tmp_path / "p.json").read_text())
    assert params["llm_requests_sent"] == 16 and params["llm_model"] == server.model
    assert len(params["llm_prompt_sha256"]["labels"]) == 16
    r = al.audit_labels(str(out), text="text", human="human", llm="llm")
    assert r.input.rows_read == 8
    first = out.read_bytes()
    assert gen(server, tmp_path / "c", *args) == 0
    assert json.loads((tmp_path / "p.json").read_text())["llm_requests_sent"] == 0
    assert out.read_bytes() == first


def test_generate_judgments_both_orders_then_audit(server, tmp_path, shared_data):
    from artifactlens.audits.preferences.audit import audit_preferences
    rows = json.loads(shared_data("llmbar", "Natural.dataset.json").read_text())[:4]
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(json.dumps({"prompt": r["input"][:400], "response_a": r["output_1"][:400],
                                           "response_b": r["output_2"][:400],
                                           "human": "a" if r["label"] == 1 else "b"}) for r in rows))
    out = tmp_path / "judged.jsonl"
    assert gen(server, tmp_path / "c", "judgments", str(pairs), "--prompt", "prompt", "--both-orders",
               "-o", str(out)) == 0
    got = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(got) == 4 and all({"judge", "judge_swapped", "judge_raw", "human"} <= set(g) for g in got)
    assert {g["judge"] for g in got} <= {"a", "b", "tie", None}
    assert requests_in(tmp_path / "c") == 8
    r = audit_preferences(str(out), human="human", judge="judge", judge_swapped="judge_swapped", prompt="prompt")
    assert r.input.rows_read == 4


@pytest.mark.parametrize("framework", ["camel", "spp"])
def test_generate_roleplay_is_read_by_the_simulations_audit(server, tmp_path, framework):
    from artifactlens.audits.simulations.audit import audit_simulations
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"task": "Plan a three-day trip to Lisbon on a small budget."}\n'
                     '{"task": "Write a Python function that reverses a string."}\n')
    out = tmp_path / "rp.jsonl"
    assert gen(server, tmp_path / "c", "roleplay", str(tasks), "--framework", framework, "--turns", "3",
               "-o", str(out)) == 0
    r = audit_simulations(str(out), format=framework)
    assert r.input.rows_read == 2 and sum(r.input.rows_skipped.values()) == 0
    assert r.input.rows_used == 2


def test_killed_run_resumes_to_the_same_output(server, tmp_path):
    items = tmp_path / "items.jsonl"
    items.write_text("\n".join(json.dumps({"text": f"Message number {i}: the match was {w}."})
                               for i, w in enumerate(["great", "awful", "fine", "boring", "long", "fun"] * 2)))
    argv = ["labels", str(items), "--labels", "positive,negative", "--llm-concurrency", "1"]
    cmd = [sys.executable, "-m", "artifactlens.models.cli", "generate", *argv, "-o", str(tmp_path / "killed.jsonl"),
           "--llm-endpoint", server.url, "--llm-model", server.model, "--llm-cache", str(tmp_path / "k"), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if (tmp_path / "k" / "llm-cache.sqlite").exists() and requests_in(tmp_path / "k") >= 3:
            break
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    done = requests_in(tmp_path / "k")
    assert 3 <= done < 12 and not (tmp_path / "killed.jsonl").exists()
    assert gen(server, tmp_path / "k", *argv, "-o", str(tmp_path / "killed.jsonl"),
               "--params", str(tmp_path / "p.json")) == 0
    assert json.loads((tmp_path / "p.json").read_text())["llm_requests_sent"] == 12 - done
    # an uninterrupted run given the same answers (llama.cpp at temperature 0 is not bit-for-bit repeatable
    # across server states: its prompt-prefix reuse changes the float sums, so a fresh cache may differ)
    assert gen(server, tmp_path / "k", *argv, "-o", str(tmp_path / "whole.jsonl"),
               "--params", str(tmp_path / "p2.json")) == 0
    assert json.loads((tmp_path / "p2.json").read_text())["llm_requests_sent"] == 0
    assert (tmp_path / "killed.jsonl").read_bytes() == (tmp_path / "whole.jsonl").read_bytes()


def test_model_backed_detectors_end_to_end(server, tmp_path):
    from artifactlens.audits.instructions.model_checks import model_detectors
    from artifactlens.audits.preferences.model_entailment import entailment_detectors
    from artifactlens.audits.simulations.model_digression import DigressionJudge
    from artifactlens.engine import DetectorCheck
    from artifactlens.engine.base import BatchContext
    opts = ModelOptions(llm_endpoint=server.url, llm_model=server.model, llm_cache=str(tmp_path / "c"))
    batch = pa.RecordBatch.from_pydict({
        "instruction": ["Translate to French.", "asdf qwer zxcv ???", "List three primary colours."],
        "input": ["Good morning", "", ""], "output": ["Bonjour", "Yes.", "Red, blue, yellow."]})
    dets = model_detectors(opts, seed=0)
    from artifactlens.audits.instructions.detectors import ERROR_TYPES
    assert [d.name for d in dets] == [f"llm_{t}" for t in ERROR_TYPES] + ["llm_rubric_invalid"]
    check = DetectorCheck(dets)
    check.setup()
    out = check.map(batch, BatchContext(0, 0))
    scores = np.array([out.columns[f"{d.name}_score"].to_numpy(zero_copy_only=False) for d in dets[:4]])
    invalid = out.columns["llm_rubric_invalid"].to_numpy(zero_copy_only=False)
    # every row is either classified (exactly one family or OK, scores 0/1) or counted invalid
    assert all((np.isnan(scores[:, i]).all() and invalid[i]) or (not invalid[i] and np.nansum(scores[:, i]) <= 1)
               for i in range(3))
    assert dets[0].config()["llm_model"] == server.model and dets[0].config()["threshold"] == 0.5
    pairs = pa.RecordBatch.from_pydict({"response_a": ["Paris is the capital of France."],
                                        "response_b": ["I like turtles."],
                                        "reference": ["The capital of France is Paris."]})
    for d in entailment_detectors(opts):
        s = d.score(pairs).score
        assert s.shape == (1,) and (np.isnan(s[0]) or s[0] in (0.0, 1.0))
    judge = DigressionJudge(opts)
    turns = ["Day one: visit the Alfama district.", "My favourite football team won yesterday."]
    judge.prefetch(["Plan a trip to Lisbon."] * 2, turns)
    assert all(judge.judge("Plan a trip to Lisbon.", t) in (True, False, None) for t in turns)
    assert judge._client.stats.sent == 2  # one request per distinct turn, none repeated
