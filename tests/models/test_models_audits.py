"""The model-backed checks wired into the audits (``--llm-endpoint``/``--llm-model``, ``--lm-path``,
``--nli-path``), against a tiny OpenAI-compatible server on 127.0.0.1 (a real socket) whose answers the
test chooses by content, and tiny local models built here: the flags, scores, reasons and thresholds
recorded like any detector, the model's record in the params, invalid answers counted with their raw text,
a rerun that sends nothing, the heuristics untouched, and one clear line (exit 2) for each bad case."""
from __future__ import annotations

import json
import math
import socket

import pyarrow.parquet as pq
import pytest

from artifactlens.audits.instructions.model_checks import RUBRIC_PROMPT
from artifactlens.audits.preferences.model_entailment import ENTAIL_PROMPT
from artifactlens.audits.simulations.judge import PROMPT as DIGRESSION_PROMPT
from artifactlens.models import template_hash

ROWS = [  # instruction rows: the fake judge answers by content
    {"instruction": "asdf qwer zxcv ??? blorp", "input": "", "output": "Yes."},
    {"instruction": "What is 2+2?", "input": "", "output": "5"},
    {"instruction": "Name three primary colours.", "input": "", "output": "Red, blue and yellow."},
    {"instruction": "Give a synonym of happy.", "input": "", "output": "Glad."},
]


def rubric(prompt: str) -> str:
    row = prompt.split("Instruction: ")[1]
    if row.startswith("asdf"):
        return "INCOMPREHENSIBLE_INSTRUCTION: the instruction is gibberish"
    if row.startswith("What is 2+2"):
        return "**WRONG_OUTPUT** - 2+2 is 4"
    if row.startswith("Give a synonym"):
        return "I am not sure what to say here."  # names no label: an invalid answer
    return "OK"


def model_args(fake, tmp_path, *extra):
    return ["--llm-endpoint", fake.url, "--llm-model", "tiny", "--llm-cache", tmp_path / "cache", *extra]


@pytest.fixture
def rows_file(tmp_path):
    p = tmp_path / "rows.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return p


def test_instructions_rubric_judge_beside_the_heuristics(run_cli, fake, tmp_path, rows_file):
    fake.default = ("fn", rubric)
    code, _, err = run_cli("audit", "instructions", rows_file, "--json", tmp_path / "m.json", "--flags",
                           tmp_path / "m.parquet", *model_args(fake, tmp_path), "--quiet")
    assert code == 0, err
    assert len(fake.requests) == 4 and {b["temperature"] for b in fake.requests} == {0.0}
    flags = pq.read_table(tmp_path / "m.parquet").to_pylist()
    assert [f["llm_incomprehensible_instruction"] for f in flags] == [True, False, False, False]
    assert [f["llm_incorrect_output"] for f in flags] == [False, True, False, False]
    assert [f["llm_rubric_invalid"] for f in flags] == [False, False, False, True]
    assert "llm_incomprehensible_instruction: model judge: the instruction is gibberish" in flags[0]["reasons"]
    assert "unparsed answer: 'I am not sure what to say here.'" in flags[3]["reasons"]
    assert math.isnan(flags[3]["llm_incorrect_output_score"])  # an invalid answer scores nothing
    assert flags[0]["incomprehensible_instruction"] and flags[1]["incorrect_output"]  # the families count them
    d = json.loads((tmp_path / "m.json").read_text())
    assert d["metrics"]["llm_rubric_invalid_rate"]["value"] == 0.25
    assert d["metrics"]["llm_incorrect_output_rate"]["value"] == 0.25
    rec = d["params"]["detectors"]["llm_incorrect_output"]
    assert rec["threshold"] == 0.5 and rec["llm_model"] == "tiny" and rec["llm_temperature"] == 0.0
    assert rec["llm_prompt_sha256"] == template_hash(RUBRIC_PROMPT) and rec["llm_endpoint"] == fake.url
    assert rec["llm_requests_sent"] == 4

    # a second run: every answer from the cache, the same figures
    code, _, err = run_cli("audit", "instructions", rows_file, "--json", tmp_path / "m2.json",
                           *model_args(fake, tmp_path), "--quiet")
    assert code == 0, err
    assert len(fake.requests) == 4
    d2 = json.loads((tmp_path / "m2.json").read_text())
    assert d2["params"]["detectors"]["llm_incorrect_output"]["llm_requests_sent"] == 0
    assert d2["params"]["detectors"]["llm_incorrect_output"]["llm_cache_hits"] == 4
    assert {k: v["value"] for k, v in d2["metrics"].items()} == {k: v["value"] for k, v in d["metrics"].items()}

    # without a model: no model column, and every heuristic column as it was
    code, _, err = run_cli("audit", "instructions", rows_file, "--flags", tmp_path / "h.parquet", "--quiet")
    assert code == 0, err
    plain = pq.read_table(tmp_path / "h.parquet")
    assert not [c for c in plain.column_names if c.startswith("llm_")]
    heuristic = [c for c in plain.column_names if c not in ("flags", "reasons", "keep", "error",
                 "incomprehensible_instruction", "inconsistent_input", "inconsistent_output", "incorrect_output")]
    assert pq.read_table(tmp_path / "m.parquet").select(heuristic).to_pandas().equals(
        plain.select(heuristic).to_pandas())  # (pandas: NaN equals NaN)
    assert flags[3]["error"] == plain.column("error")[3].as_py()  # an invalid answer is not an error


def test_a_threshold_option_reaches_a_model_detector(run_cli, fake, tmp_path, rows_file):
    fake.default = ("fn", rubric)
    code, _, err = run_cli("audit", "instructions", rows_file, "--json", tmp_path / "m.json", "--quiet",
                           "--threshold", "llm_incorrect_output=1.5", *model_args(fake, tmp_path))
    assert code == 0, err
    d = json.loads((tmp_path / "m.json").read_text())
    assert d["params"]["detectors"]["llm_incorrect_output"]["threshold"] == 1.5
    assert d["metrics"]["llm_incorrect_output_rate"]["value"] == 0.0


SIM = {"id": "a", "task": "Plan a three-day trip to Lisbon on a small budget.", "outcome": True,
       "turns": [{"speaker": "Planner", "text": "Day one: walk through the Alfama district and ride tram 28."},
                 {"speaker": "Traveller", "text": "My favourite football team won the cup yesterday evening."},
                 {"speaker": "Planner", "text": "Day two: take the train to Sintra and visit the palaces there."},
                 {"speaker": "Traveller", "text": "Day three: the Belem tower, then pastries at the old bakery."}]}


def on_off(prompt: str) -> str:
    msg = prompt.split("Message: ")[1]
    return "OFF" if "football" in msg else "Hmm, hard to say" if "Belem" in msg else "ON"


def test_simulations_digression_judge_per_turn(run_cli, fake, tmp_path):
    fake.default = ("fn", on_off)
    f = tmp_path / "sim.jsonl"
    f.write_text(json.dumps(SIM) + "\n")
    opts = ["--judge-url", fake.url, "--judge-model", "tiny", "--llm-cache", tmp_path / "cache"]  # the old names
    code, _, err = run_cli("audit", "simulations", f, "--json", tmp_path / "s.json", "--flags",
                           tmp_path / "t.jsonl", "--quiet", *opts)
    assert code == 0, err
    assert len(fake.requests) == 4
    turns = [json.loads(x) for x in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert [t["judge_off_task"] for t in turns] == [False, True, False, None]
    assert ["llm_digression" in t["flags"].split(",") for t in turns] == [False, True, False, False]
    assert "llm_digression_invalid" in turns[3]["flags"] and "'Hmm, hard to say'" in turns[3]["reasons"]
    d = json.loads((tmp_path / "s.json").read_text())
    assert d["metrics"]["judge_invalid_rate"]["value"] == 0.25
    rec = d["params"]["llm_digression"]
    assert rec["llm_model"] == "tiny" and rec["threshold"] == 0.5
    assert rec["llm_prompt_sha256"] == template_hash(DIGRESSION_PROMPT)
    assert d["params"]["llm_judge"] == fake.url


def test_the_old_judge_flags_are_aliases_of_the_model_options():
    import argparse
    from artifactlens.audits.simulations.spec import SimulationsAudit
    p = argparse.ArgumentParser()
    SimulationsAudit.add_arguments(p)
    old = SimulationsAudit.options_from_args(p.parse_args(["f", "--judge-url", "http://h/v1", "--judge-model", "m",
                                                           "--judge-key-env", "K"]))
    new = SimulationsAudit.options_from_args(p.parse_args(["f", "--llm-endpoint", "http://h/v1", "--llm-model", "m",
                                                           "--llm-api-key-env", "K"]))
    assert old == new and (old.llm_endpoint, old.llm_model, old.llm_api_key_env) == ("http://h/v1", "m", "K")


PAIRS = [{"prompt": "Capital of France?", "reference": "The capital of France is Paris.",
          "response_a": "Paris is the capital of France.", "response_b": "I like turtles.", "human": "a"},
         {"prompt": "Boiling point of water?", "reference": "Water boils at 100 degrees Celsius at sea level.",
          "response_a": "It boils at 100 C at sea level.", "response_b": "Around 50 degrees.", "human": "a"}]


def yes_no(prompt: str) -> str:
    premise = prompt.split("Premise: ")[1].split("\n")[0]
    return {"I like turtles.": "maybe", "Around 50 degrees.": "NO"}.get(premise, "YES")


def test_preferences_entailment_from_the_endpoint(run_cli, fake, tmp_path):
    fake.default = ("fn", yes_no)
    f = tmp_path / "pairs.jsonl"
    f.write_text("".join(json.dumps(p) + "\n" for p in PAIRS))
    code, _, err = run_cli("audit", "preferences", f, "--human", "human", "--reference", "reference", "--prompt",
                           "prompt", "--no-reward-model", "--no-embeddings", "--json", tmp_path / "p.json",
                           "--flags", tmp_path / "p.parquet", "--quiet", *model_args(fake, tmp_path))
    assert code == 0, err
    assert len(fake.requests) == 4
    d = json.loads((tmp_path / "p.json").read_text())
    m = d["metrics"]
    assert m["entailment_response_a_rate"]["value"] == 0.0  # both A responses entail the reference
    assert m["entailment_response_b_rate"]["value"] == 1.0 and m["entailment_response_b_rate"]["n"] == 1
    assert m["entailment_invalid_rate"]["value"] == 0.25
    rec = d["params"]["entailment"]["entailment_response_b"]
    assert rec["threshold"] == 0.5 and rec["higher_is_worse"] is False
    assert rec["llm_prompt_sha256"] == template_hash(ENTAIL_PROMPT)
    rows = pq.read_table(tmp_path / "p.parquet").to_pylist()
    assert [r["entailment_response_b"] for r in rows] == [False, True]
    assert "unparsed answer: 'maybe'" in rows[0]["entailment_response_b_invalid_reason"]


def test_without_a_model_nothing_is_asked(run_cli, fake, tmp_path):
    f = tmp_path / "pairs.jsonl"
    f.write_text("".join(json.dumps(p) + "\n" for p in PAIRS))
    code, _, err = run_cli("audit", "preferences", f, "--human", "human", "--reference", "reference",
                           "--no-reward-model", "--no-embeddings", "--json", tmp_path / "p.json", "--quiet")
    assert code == 0, err
    d = json.loads((tmp_path / "p.json").read_text())
    assert not [k for k in d["metrics"] if k.startswith("entailment")] and "entailment" not in d["params"]
    assert fake.requests == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("case,extra,needle", [
    ("refused", ["--llm-endpoint", "http://127.0.0.1:{port}/v1", "--llm-model", "tiny"], "cannot be reached"),
    ("wrong model", ["--llm-endpoint", "{url}", "--llm-model", "gpt-4o"], "does not serve a model named 'gpt-4o'"),
    ("unset key", ["--llm-endpoint", "{url}", "--llm-model", "tiny", "--llm-api-key-env", "AL_TEST_NO_SUCH_KEY"],
     "AL_TEST_NO_SUCH_KEY is not set"),
    ("no model name", ["--llm-endpoint", "{url}"], "--llm-endpoint needs --llm-model"),
    ("not JSON", ["--llm-endpoint", "{url}", "--llm-model", "tiny"], "with a body that is not JSON"),
])
def test_bad_model_setups_are_one_clear_line(run_cli, fake, tmp_path, rows_file, case, extra, needle,
                                             monkeypatch):
    monkeypatch.delenv("AL_TEST_NO_SUCH_KEY", raising=False)
    if case == "not JSON":
        fake.default = ("raw", b"<html>502 Bad Gateway</html>")
    argv = [a.format(port=_free_port(), url=fake.url) for a in extra]
    code, _, err = run_cli("audit", "instructions", rows_file, "--quiet", "--llm-cache", tmp_path / "c", *argv)
    assert code == 2 and err.count("\n") == 1 and needle in err, err


def test_empty_answers_are_counted_invalid_not_errors(run_cli, fake, tmp_path, rows_file):
    fake.default = ("empty",)
    code, _, err = run_cli("audit", "instructions", rows_file, "--json", tmp_path / "m.json", "--quiet",
                           *model_args(fake, tmp_path))
    assert code == 0, err
    assert json.loads((tmp_path / "m.json").read_text())["metrics"]["llm_rubric_invalid_rate"]["value"] == 1.0


def test_request_cap_stops_the_audit_cleanly_and_a_rerun_goes_on(run_cli, fake, tmp_path, rows_file):
    fake.default = ("fn", rubric)
    code, _, err = run_cli("audit", "instructions", rows_file, "--quiet", "--llm-max-requests", "2",
                           *model_args(fake, tmp_path))
    assert code == 2 and "stopped at --llm-max-requests 2" in err and err.count("\n") == 1
    code, _, err = run_cli("audit", "instructions", rows_file, "--quiet", "--json", tmp_path / "m.json",
                           *model_args(fake, tmp_path))
    assert code == 0, err
    assert len(fake.requests) == 4  # the two answered before the cap were not asked again


def test_lm_path_adds_the_instruction_following_difficulty(run_cli, tmp_path, tiny_lm):
    f = tmp_path / "cat.jsonl"
    f.write_text("".join(json.dumps({"instruction": i, "input": "", "output": o}) + "\n"
                         for i, o in [("colour", "red"), ("animal", "dog"), ("colour", "dog"), ("fruit", "red")]))
    code, _, err = run_cli("audit", "instructions", f, "--json", tmp_path / "r.json", "--flags",
                           tmp_path / "f.parquet", "--lm-path", tiny_lm, "--quiet", "--no-near-duplicates")
    assert code == 0, err
    flags = pq.read_table(tmp_path / "f.parquet").to_pylist()
    assert [f["lm_ifd"] for f in flags] == [False, False, True, True]
    assert all(f["inconsistent_output"] for f in flags[2:])
    d = json.loads((tmp_path / "r.json").read_text())
    assert d["params"]["detectors"]["lm_ifd"]["threshold"] == 1.0 and d["metrics"]["lm_ifd_rate"]["value"] == 0.5


def test_nli_path_scores_entailment_locally(run_cli, tmp_path, tiny_nli):
    from artifactlens.audits.preferences.locality import NLIScorer
    f = tmp_path / "pairs.jsonl"
    f.write_text("".join(json.dumps(p) + "\n" for p in PAIRS[:1]) * 3)
    code, _, err = run_cli("audit", "preferences", f, "--human", "human", "--reference", "reference",
                           "--no-reward-model", "--no-embeddings", "--json", tmp_path / "p.json", "--flags",
                           tmp_path / "p.parquet", "--nli-path", tiny_nli, "--quiet")
    assert code == 0, err
    rows = pq.read_table(tmp_path / "p.parquet").to_pylist()
    want = NLIScorer(tiny_nli).score([PAIRS[0]["response_b"]], [PAIRS[0]["reference"]])[0]
    assert 0.0 < want < 1.0 and all(abs(r["entailment_response_b_score"] - want) < 1e-6 for r in rows)
    d = json.loads((tmp_path / "p.json").read_text())
    assert "entailment_invalid_rate" not in d["metrics"]  # an NLI model's scores always parse
    assert d["metrics"]["entailment_response_b_rate"]["value"] == float(want <= 0.5)
