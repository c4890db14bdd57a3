"""Simulation audit: hand-written CAMEL / SPP / generic cases for every rule, skips, the CLI, real SPP data."""
from __future__ import annotations

import json

import pytest

from artifactlens.audits.simulations import audit_simulations
from artifactlens.audits.simulations.parsers import Skip, parse_record, split_spp
from artifactlens.audits.simulations.rules import FLIP_RULES, INTERRUPTION_RULES, repeats, turn_flags
from conftest import shared_path

SPP_0_99 = ("under-the-surface", "simulation", "spp", "spp_gpt4_logic_grid_0-99.jsonl")


def camel(*msgs, **extra):
    rec = {"id": "c1", "role_1": "AI Assistant_Python Programmer", "role_2": "AI User_Stock Trader",
           "specified_task": "Write a Python bot that trades stocks on moving-average crossovers.", **extra}
    for i, (role, text) in enumerate(msgs, 1):
        rec[f"message_{i}"] = {"role_type": role.upper(), "role_name": "Stock Trader" if role == "user"
                               else "Python Programmer", "role": role, "content": text}
    return parse_record(rec, 1)[0]


U_OK = ("user", "Instruction: Compute the 50-day moving average.\nInput: daily closes")
A_OK = ("assistant", "Solution: use prices.rolling(50).mean().\nNext request.")
DONE = ("user", "<CAMEL_TASK_DONE>")

# one hand-written CAMEL case per rule: (messages, index of the offending turn, expected flags of that turn)
CAMEL_CASES = {
    "user_gives_solution": ([U_OK, A_OK, ("user", "Solution: I already wrote the order code myself.\nNext request."),
                             A_OK, DONE], 2, ["user_gives_solution", "user_without_instruction"]),
    "assistant_gives_instruction": ([U_OK, ("assistant", "Instruction: Tell me which broker you use.\nInput: None"),
                                     DONE], 1, ["assistant_gives_instruction", "assistant_without_solution"]),
    "speaks_as_other": ([U_OK, ("assistant", "As the Stock Trader, I would rather buy.\nSolution: buy.\nNext request."),
                         DONE], 1, ["speaks_as_other"]),
    "several_speakers": ([U_OK, ("assistant", "Solution: done.\nAI User: Instruction: now sell.\nNext request."),
                          DONE], 1, ["several_speakers"]),
    "user_without_instruction": ([U_OK, A_OK, ("user", "Thanks, that looks great to me!"), A_OK, DONE], 2,
                                 ["user_without_instruction"]),
    "instruction_without_input": ([("user", "Instruction: Compute the 50-day moving average."), A_OK, DONE], 0,
                                  ["instruction_without_input"]),
    "assistant_without_solution": ([U_OK, ("assistant", "Could you say which stocks you mean?"), DONE], 1,
                                   ["assistant_without_solution"]),
    "solution_without_next_request": ([U_OK, ("assistant", "Solution: use prices.rolling(50).mean()."), DONE], 1,
                                      ["solution_without_next_request"]),
    "empty_turn": ([U_OK, ("assistant", "   "), DONE], 1, ["empty_turn"]),
}


@pytest.mark.parametrize("rule", list(CAMEL_CASES))
def test_each_camel_rule_is_exercised_by_a_hand_written_case(rule):
    msgs, i, expected = CAMEL_CASES[rule]
    flags = turn_flags(camel(*msgs))
    assert flags[i] == expected
    assert all(not f for j, f in enumerate(flags) if j != i)  # nothing else in the conversation is flagged


def test_every_rule_has_a_case():
    covered = set(CAMEL_CASES) | {"cut_off"}  # cut_off applies to persona turns: test_spp_rules
    assert covered == set(FLIP_RULES) | set(INTERRUPTION_RULES)


def test_clean_camel_conversation_and_end_marker_are_not_flagged():
    c = camel(U_OK, A_OK, U_OK, A_OK, DONE, ("assistant", "Great, the task is done!"))
    assert all(not f for f in turn_flags(c))  # the reply after <CAMEL_TASK_DONE> is not an interruption
    assert c.terminated and c.style == "camel" and c.turns[0].speaker == "AI User (Stock Trader)"
    assert not camel(U_OK, A_OK).terminated


SPP = """Participants: AI Assistant (you); Detective; Florist

Start collaboration!

Detective: Let's use the first clue: the flutist lives in house 2.
Florist: As the Detective, I say the tulips must be in house 3 then.
AI Assistant (you): Summary so far:
House 1: pianist
House 2: flutist
Detective: And the lilies, which we have not placed yet, because the clue about the carnations
Florist: Agreed.

Finish collaboration!

Final answer: 3"""


def test_spp_split_and_rules():
    turns, parts, terminated = split_spp(SPP)
    assert parts == ["AI Assistant (you)", "Detective", "Florist"] and terminated
    assert [t.speaker for t in turns] == ["Detective", "Florist", "AI Assistant (you)", "Detective", "Florist"]
    assert turns[2].text.endswith("House 2: flutist") and turns[2].role == "lead"
    rec = {"idx": 7, "raw_response": [{"choices": [{"message": {"content": SPP}}]}],
           "task_data": {"inputs": "Where do the tulips live?"}, "test_output_infos": [{"correct": True}]}
    c = parse_record(rec, 3)[0]
    assert c.outcome == 1.0 and c.task == "Where do the tulips live?" and c.id == "7"
    assert turn_flags(c) == [[], ["speaks_as_other"], [], ["cut_off"], []]  # a table line is not cut off


def test_generic_turns_several_speakers_and_camel_detection():
    rec = {"id": "g", "task": "Plan a trip", "outcome": 0, "turns": [
        {"speaker": "Planner", "role": "planner", "text": "Day one: temples."},
        {"speaker": "Critic", "role": "critic", "text": "Too many temples.\nPlanner: Fine, I will add a museum."},
        {"speaker": "Planner", "role": "planner", "text": "I am the Critic now, and I approve."}]}
    c = parse_record(rec, 1)[0]
    assert c.style == "persona" and c.outcome == 0.0
    assert turn_flags(c) == [[], ["several_speakers"], ["speaks_as_other"]]
    rec2 = {"messages": [{"role": "user", "content": "Instruction: x\nInput: None"},
                         {"role": "assistant", "content": "Instruction: y\nInput: None"}]}
    c2 = parse_record(rec2, 2)[0]
    assert c2.style == "camel" and turn_flags(c2)[1][0] == "assistant_gives_instruction"


def test_unparseable_records_give_reasons():
    assert parse_record({}, 1) == Skip("empty record")
    assert parse_record([1, 2], 1) == Skip("record is not a JSON object")
    assert parse_record({"foo": 1}, 1).startswith("record matches no")
    no_turns = {"raw_response": [{"choices": [{"message": {"content": "Participants: A; B\n\nStart collaboration!"}}]}]}
    assert parse_record(no_turns, 1) == Skip("response has no turns")


def test_repeats_find_near_identical_earlier_messages():
    texts = ["Solution: use prices.rolling(50).mean() and plot it.", "Instruction: now plot it please.",
             "Solution: use prices.rolling(50).mean() and plot it!", "ok", "ok"]
    best, of = repeats(texts)
    assert best[2] >= 90 and of[2] == 0
    assert best[1] < 90 and of[4] == -1  # short messages never count


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("sim") / "mixed.jsonl"
    ok = {"id": "a", "task": "Compute the meeting time of two trains leaving cities 360 km apart.", "outcome": True,
          "turns": [{"speaker": "Tutor", "text": "The gap when the second train leaves is 280 km between the trains."},
                    {"speaker": "Student", "text": "The trains close the gap at 180 km per hour together."},
                    {"speaker": "Tutor", "text": "My cat sleeps all day on the sofa and snores loudly at night."},
                    {"speaker": "Student", "text": "I love baking sourdough bread on Sunday mornings with my family."}]}
    lines = [json.dumps(ok), "{}", "not json at all", json.dumps([1]),
             json.dumps({"raw_response": [{"choices": [{"message": {"content": "Participants: A; B"}}]}]}),
             json.dumps({**ok, "id": "b", "outcome": False})]
    p.write_text("\n".join(lines) + "\n")
    return p


def test_bad_records_are_counted_never_fatal(small_file, tmp_path):
    r = audit_simulations(small_file, flags=str(tmp_path / "f.jsonl"))
    assert r["n_conversations"] == 2 and r["n_skipped"] == 4
    assert r.input.rows_skipped == {"empty record": 1, "record is not a JSON object": 1,
                                    "response has no turns": 1, "line is not valid JSON": 1}
    assert r.input.rows_read == 6 and r.input.rows_used == 2
    rows = [json.loads(x) for x in open(tmp_path / "f.jsonl")]
    assert len(rows) == 8 and [x["digression"] for x in rows[:4]] == [False, False, True, True]
    assert r["digression_rate"] == 1.0 and r["task_accuracy"] == 0.5 and r["mean_turns"] == 4


def test_llm_judge_against_a_local_server(small_file):
    """The optional judge talks to a tiny OpenAI-compatible server on 127.0.0.1 started here."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from artifactlens.audits.simulations.judge import LLMJudge
    seen = []

    class H(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            prompt = body["messages"][0]["content"]
            seen.append((self.path, body["model"], self.headers.get("Authorization")))
            word = "OFF" if ("cat" in prompt.split("Message:")[1] or "sourdough" in prompt) else "ON"
            out = json.dumps({"choices": [{"message": {"role": "assistant", "content": word}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *a):
            pass

    srv = HTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        judge = LLMJudge(f"http://127.0.0.1:{srv.server_port}/v1", "tiny", api_key="k")
        r = audit_simulations(small_file, judge=judge)
    finally:
        srv.shutdown()
    assert len(seen) == 4 and seen[0] == ("/v1/chat/completions", "tiny", "Bearer k")  # unique turns, cached
    assert r["judge_digression_rate"] == 1.0 and r["judge_agreement"] == 1.0
    assert r.params["llm_judge"].startswith("http://127.0.0.1:")


def test_cli_on_the_demo(run_cli, tmp_path):
    from artifactlens.audits.common import demo_path
    out = tmp_path / "sim.json"
    code, stdout, _ = run_cli("audit", "simulations", demo_path("simulations.jsonl"), "--json", out,
                              "--html", tmp_path / "sim.html", "--flags", tmp_path / "turns.parquet")
    assert code == 0 and "role_flip_rate" in stdout
    d = json.loads(out.read_text())
    planted = {json.loads(x)["id"]: json.loads(x)["planted"] for x in demo_path("simulations.jsonl").read_text()
               .splitlines() if x.strip() != "{}"}
    import pyarrow.parquet as pq
    t = pq.read_table(tmp_path / "turns.parquet").to_pylist()
    flipped = {x["conversation_id"] for x in t if x["role_flip"]}
    assert flipped == {k for k, v in planted.items() if v in ("user_solution", "assistant_instruction", "speaks_as",
                                                               "several_speakers")}
    digressed = {k for k, v in planted.items() if v == "digression"}
    assert digressed <= {x["conversation_id"] for x in t if x["digression"]}
    assert d["input"]["rows_skipped"] == {"empty record": 1}
    assert d["metrics"]["accuracy_gap_digression"]["ci"][0] > 0  # planted: digressing runs solve fewer tasks
    assert {f["type"] for f in d["figures"]} >= {"histogram", "bar", "timeline"}
    assert "timeline" in (tmp_path / "sim.html").read_text() or "turn mark" in (tmp_path / "sim.html").read_text()


def test_cli_bad_input_is_one_line(run_cli, tmp_path):
    code, _, err = run_cli("audit", "simulations", tmp_path / "missing.jsonl")
    assert code == 2 and err.count("\n") == 1 and "no such file" in err
    p = tmp_path / "x.jsonl"
    p.write_text("{}\n{}\n")
    code, _, err = run_cli("audit", "simulations", p)
    assert code == 2 and "2 empty record" in err


@pytest.fixture(scope="module")
def spp_result(tmp_path_factory):
    flags = tmp_path_factory.mktemp("spp") / "turns.jsonl"
    return audit_simulations(shared_path(*SPP_0_99), flags=str(flags)), flags


@pytest.mark.shared
def test_real_spp_logic_grid_accuracy_and_flags_for_every_transcript(spp_result):
    r, flags = spp_result
    assert r["n_conversations"] == 100 and r["n_skipped"] == 0
    assert r["task_accuracy"] == pytest.approx(0.67)
    lo, hi = r.metric("task_accuracy").ci
    assert lo < 0.67 < hi
    rows = [json.loads(x) for x in open(flags)]
    assert {x["conversation_id"] for x in rows} == {str(i) for i in range(100)}  # every transcript has flags
    assert len(rows) == r["n_turns"] == 697
    assert all(x["task_similarity"] is not None or x["flags"] == "" for x in rows)
    # measured on this file: no CAMEL-style flips in persona turns; few repeats; every run terminates
    assert r["role_flip_rate"] == 0 and r["unterminated_rate"] == 0
    assert r["loop_rate"] == pytest.approx(0.03)
    assert r["mean_turns"] == pytest.approx(6.97)


@pytest.mark.shared
def test_real_spp_other_logs():
    r = audit_simulations(shared_path("spp", "trivia_n5_llama2-13b_spp.jsonl"))
    assert r.input.rows_skipped == {"response has no turns": 86, "response has no 'Participants:' line": 11}
    assert r["n_conversations"] == 3


@pytest.mark.shared
def test_real_chatdev_logs_both_formats():
    from artifactlens.audits.simulations.parsers import chatdev_records
    d = shared_path("chatdev")
    new = chatdev_records((d / "BMI_Calculator_DefaultOrganization_20230918110521.log").read_text(), "bmi")
    assert len(new) == 12 and new[0]["id"] == "bmi#0 DemandAnalysis"
    assert [t["speaker"] for t in new[0]["turns"]] == ["Chief Executive Officer", "Chief Product Officer"]
    assert not new[0]["turns"][1]["text"].startswith("[ChatDev is")  # the system preamble is dropped
    old = chatdev_records((d / "Gomoku_THUNLP_20230625201030.log").read_text(), "gomoku")
    assert len(old) == 18 and [len(r["turns"]) for r in old[:6]] == [1, 1, 1, 1, 3, 1]
    assert [t["speaker"] for t in old[4]["turns"]] == ["AI Assistant (Chief Human Resource Officer)",
                                                      "AI User (Chief Executive Officer)",
                                                      "AI Assistant (Chief Human Resource Officer)"]
    r = audit_simulations(d)
    assert r["n_conversations"] == 30 and r["role_flip_rate"] == 0  # "as the Chief Executive Officer" said by the CEO
