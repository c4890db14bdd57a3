"""The model-backed checks in the audits against the real shipped server (SmolLM2-135M-Instruct through
llama-cpp-python on 127.0.0.1, real HTTP): end to end with a rerun that sends nothing, a killed audit
resumed to the output of an uninterrupted one, and ``--engine ray`` (generation and checks) giving the
rows of the local run. Few rows and short answers: the model is slow on 2 cores."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest

from artifactlens.models.cli import main as models_main
from support.llm import needs_llama, requests_in

pytestmark = [pytest.mark.slow, needs_llama]


def real_rows(shared_data, tmp_path, n: int):
    """The first ``n`` short Self-Instruct seed tasks (one instance, under 330 characters: the tiny model
    reads a long prompt slowly), in their own layout (``instances``), as the instruction audit reads them."""
    src = shared_data("self_instruct", "seed_tasks.jsonl")
    lines = [x for x in src.read_text().splitlines(keepends=True)
             if len(x) < 330 and len(json.loads(x)["instances"]) == 1][:n]
    assert len(lines) == n
    p = tmp_path / "rows.jsonl"
    p.write_text("".join(lines))
    return p


def llm(server, cache):
    return ["--llm-endpoint", server.url, "--llm-model", server.model, "--llm-cache", str(cache)]


def test_rubric_judge_end_to_end_and_a_rerun_sends_nothing(run_cli, server, tmp_path, shared_data):
    rows = real_rows(shared_data, tmp_path, 3)
    argv = ["audit", "instructions", rows, "--quiet", "--no-near-duplicates", *llm(server, tmp_path / "c")]
    code, _, err = run_cli(*argv, "--json", tmp_path / "a.json", "--flags", tmp_path / "a.parquet")
    assert code == 0, err
    d = json.loads((tmp_path / "a.json").read_text())
    rec = d["params"]["detectors"]["llm_incorrect_output"]
    assert rec["llm_model"] == server.model and rec["llm_requests_sent"] == 3 and requests_in(tmp_path / "c") == 3
    flags = pq.read_table(tmp_path / "a.parquet").to_pylist()
    fams = ["llm_incomprehensible_instruction", "llm_inconsistent_input", "llm_inconsistent_output",
            "llm_incorrect_output"]
    for f in flags:  # each row: one error type, OK, or an invalid answer kept raw
        assert sum(f[k] for k in fams) <= 1
        assert not f["llm_rubric_invalid"] or "unparsed answer:" in f["reasons"]
    code, _, err = run_cli(*argv, "--json", tmp_path / "b.json")
    assert code == 0, err
    d2 = json.loads((tmp_path / "b.json").read_text())
    assert d2["params"]["detectors"]["llm_incorrect_output"]["llm_requests_sent"] == 0
    assert {k: m["value"] for k, m in d2["metrics"].items()} == {k: m["value"] for k, m in d["metrics"].items()}


def test_killed_audit_resumes_to_the_same_output(run_cli, server, tmp_path, shared_data):
    rows = real_rows(shared_data, tmp_path, 4)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    def cmd(cache, resume, out):
        return [sys.executable, "-m", "artifactlens", "audit", "instructions", str(rows), "--quiet",
                "--no-near-duplicates", "--batch-size", "1", "--llm-concurrency", "1", "--resume", str(resume),
                "--flags", str(out), *llm(server, cache)]

    proc = subprocess.Popen(cmd(tmp_path / "k", tmp_path / "ckpt", tmp_path / "killed.parquet"), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and requests_in(tmp_path / "k") < 2:
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    done = requests_in(tmp_path / "k")
    assert 2 <= done < 4 and not (tmp_path / "killed.parquet").exists()
    assert subprocess.run(cmd(tmp_path / "k", tmp_path / "ckpt", tmp_path / "killed.parquet"), env=env).returncode == 0
    assert requests_in(tmp_path / "k") == 4  # only the rows not answered before the kill were asked
    # an uninterrupted run (no checkpoints; the answers from the cache, so no model time): the same output
    code, _, err = run_cli("audit", "instructions", rows, "--quiet", "--no-near-duplicates", "--batch-size", "1",
                           "--flags", tmp_path / "whole.parquet", *llm(server, tmp_path / "k"))
    assert code == 0, err
    assert requests_in(tmp_path / "k") == 4
    assert pq.read_table(tmp_path / "killed.parquet").to_pandas().equals(
        pq.read_table(tmp_path / "whole.parquet").to_pandas())


def test_engine_ray_gives_the_rows_of_the_local_run(run_cli, server, tmp_path, shared_data):
    """Ray first (its workers ask the server), then the local run on the same answers (llama.cpp at
    temperature 0 is not bit-for-bit repeatable across server states, so a second fresh cache could differ):
    the same bytes, the same flags, and the local run asks nothing."""
    pytest.importorskip("ray")
    items = tmp_path / "items.jsonl"
    items.write_text("".join(json.dumps({"text": t}) + "\n" for t in
                             ["The match was great fun.", "What an awful, boring film."]))
    gen = ["generate", "labels", str(items), "--labels", "positive,negative", "--quiet", *llm(server, tmp_path / "c")]
    assert models_main([*gen, "-o", str(tmp_path / "ray.jsonl"), "--engine", "ray", "--workers", "1",
                        "--params", str(tmp_path / "p.json")]) == 0
    assert json.loads((tmp_path / "p.json").read_text())["llm_requests_sent"] == 2  # from the Ray worker
    assert models_main([*gen, "-o", str(tmp_path / "local.jsonl"), "--params", str(tmp_path / "q.json")]) == 0
    assert json.loads((tmp_path / "q.json").read_text())["llm_requests_sent"] == 0
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()

    rows = real_rows(shared_data, tmp_path, 2)
    audit = ["audit", "instructions", rows, "--quiet", "--no-near-duplicates", *llm(server, tmp_path / "a")]
    code, _, err = run_cli(*audit, "--flags", tmp_path / "r.parquet", "--engine", "ray", "--workers", "1")
    assert code == 0, err
    assert requests_in(tmp_path / "a") == 2  # the Ray actor's own client asked the server
    code, _, err = run_cli(*audit, "--flags", tmp_path / "l.parquet", "--json", tmp_path / "l.json")
    assert code == 0, err
    assert json.loads((tmp_path / "l.json").read_text())["params"]["detectors"]["llm_incorrect_output"][
        "llm_requests_sent"] == 0
    assert pq.read_table(tmp_path / "r.parquet").to_pandas().equals(pq.read_table(tmp_path / "l.parquet").to_pandas())
