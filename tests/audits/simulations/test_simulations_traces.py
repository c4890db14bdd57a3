"""The trace normaliser: every format read without flags (hand-written fixtures from the documented schemas,
and the real Who&When / ChatDev data), failure attribution on Who&When, the engine paths."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from artifactlens.audits.simulations import audit_simulations
from artifactlens.audits.simulations.inputs import iter_conversations
from artifactlens.audits.simulations.parsers import Skip, chatdev_records, parse_record
from artifactlens.contract import RunOptions
from artifactlens.result import InputInfo
from conftest import shared_path
from support.paths import FIXTURES

FIX = FIXTURES


def convs(path, **kw):
    info = InputInfo(path=str(path))
    fmts: Counter = Counter()
    out = list(iter_conversations(Path(path), info, formats=fmts, **kw))
    return out, info, fmts


def test_ag2_group_chat_with_tool_calls():
    (c,), info, fmts = convs(FIX / "simulations_ag2_groupchat.json")
    assert fmts == {"ag2": 1} and c.task.startswith("Plot the daily closing price")
    assert [t.speaker for t in c.turns] == ["User_proxy", "Coder", "Executor", "Coder", "Executor", "Coder"]
    assert c.turns[1].tool_call.startswith("run_python(") and c.turns[2].error and c.turns[2].tool_result
    assert c.terminated


def test_metagpt_team_history():
    (c,), _, fmts = convs(FIX / "simulations_metagpt_team.json")
    assert fmts == {"metagpt": 1} and c.task == "Write a command-line 2048 game in Python."
    assert [t.role for t in c.turns] == ["UserRequirement", "WritePRD", "WriteDesign", "WriteCode"]
    assert c.turns[1].speaker == "Alice(Product Manager)"


def test_otel_genai_spans_in_tree_and_time_order():
    (c,), _, fmts = convs(FIX / "simulations_otel_genai.json")
    assert fmts == {"otel": 1} and c.id == "5b8efff798038103d269b633813fc60c"
    assert c.task == "Book a train from Paris to Lyon on Friday morning."
    assert [t.role for t in c.turns] == ["assistant", "tool", "assistant"]  # by start time, not file order
    assert [t.speaker for t in c.turns] == ["planner"] * 3  # the agent of the enclosing invoke_agent span
    assert c.turns[1].error and c.turns[1].tool_call.startswith("search_trains(") and c.outcome == 0.0


def test_otel_spans_one_per_line(tmp_path):
    spans = json.loads((FIX / "simulations_otel_genai.json").read_text())["resourceSpans"][0]["scopeSpans"][0]["spans"]
    p = tmp_path / "spans.jsonl"
    p.write_text("\n".join(json.dumps(s) for s in reversed(spans)) + "\n")
    (c,), info, _ = convs(p)
    assert [t.role for t in c.turns] == ["assistant", "tool", "assistant"] and info.rows_used == 4


def test_chatdev_2024_log_no_longer_raises():
    recs = chatdev_records((FIX / "simulations_chatdev_2024.log").read_text(), "todo")
    assert len(recs) == 1 and recs[0]["terminated"]
    t = recs[0]["turns"][0]
    assert t["speaker"] == "Chief Product Officer" and t["timestamp"] == "2024-15-05 10:00:02"
    assert t["text"].startswith("A web application")  # the preamble is dropped, the HTTP line ends the message


def test_turn_rows_and_bad_messages(tmp_path):
    p = tmp_path / "rows.jsonl"
    rows = [{"conversation_id": "a", "speaker": "X", "text": "hello there"},
            {"conversation_id": "a", "speaker": "Y", "text": "hi"},
            {"conversation_id": "b", "speaker": "X", "text": "one"}]
    p.write_text("\n".join(map(json.dumps, rows)) + "\n" + json.dumps({"messages": "not a list"}) + "\n")
    cs, info, _ = convs(p)
    assert [(c.id, len(c.turns)) for c in cs] == [("a", 2), ("b", 1)]
    assert info.rows_skipped == {"'messages' is not a list of turns": 1}
    assert parse_record({"history": "x", "question": "q"}, 1) == Skip("'history' is not a list of messages")


def test_majority_unparseable_is_critical(tmp_path):
    p = tmp_path / "mostly_bad.jsonl"
    good = {"id": "g", "task": "t", "turns": [{"speaker": "A", "text": "a reply that is long enough"}]}
    p.write_text("\n".join([json.dumps(good)] + [json.dumps({"messages": 3})] * 3) + "\n")
    r = audit_simulations(p, embeddings="static")
    f = [x for x in r.findings if x.metric == "n_skipped"]
    assert f and f[0].severity == "critical" and r.input.rows_skipped == {"'messages' is not a list of turns": 3}


@pytest.fixture(scope="module")
def who_and_when():
    return audit_simulations(shared_path("who_and_when"), embeddings="static")


@pytest.mark.shared
def test_who_and_when_read_with_labels_from_both_subsets():
    cs, info, fmts = convs(shared_path("who_and_when"))
    assert len(cs) == 62 and fmts == {"whowhen": 62} and not info.rows_skipped
    assert sum(c.id.startswith("Hand-Crafted/") for c in cs) == 19
    hc = next(c for c in cs if c.id == "Hand-Crafted/17.json")
    assert hc.labels["mistake_agent"] == "WebSurfer" and hc.labels["mistake_step"] == 8
    assert hc.turns[1].speaker == "Orchestrator" and hc.turns[1].role == "Orchestrator (thought)"


@pytest.mark.shared
def test_who_and_when_attribution_beats_every_trivial_baseline(who_and_when):
    r = who_and_when
    agent = r["failure_attribution_agent_accuracy"]
    bases = {m: r[m] for m in r.metrics if m.startswith("baseline_agent_accuracy_")}
    assert set(bases) == {"baseline_agent_accuracy_most_frequent_agent", "baseline_agent_accuracy_last_speaker"}
    assert all(agent > b for b in bases.values()), (agent, bases)
    assert r.metric("failure_attribution_agent_accuracy").ci[0] < agent < r.metric(
        "failure_attribution_agent_accuracy").ci[1]
    step = r["failure_attribution_step_accuracy"]
    assert step > r["baseline_step_accuracy_last_step"]
    assert r["n_failed"] == 62
    assert set(r.tables) >= {"failure_modes", "attribution"} and len(r.tables["attribution"]["rows"]) == 62
    timeline = [f for f in r.figures if f["type"] == "timeline"]
    assert timeline and any(m.startswith("ATTRIBUTED") for t in timeline[0]["turns"] for m in t["marks"])


def _small(tmp_path):
    p = tmp_path / "ww"
    p.mkdir()
    for sub in ("Algorithm-Generated", "Hand-Crafted"):
        (p / sub).mkdir()
        for f in sorted(shared_path("who_and_when", sub).glob("*.json"))[:6]:
            (p / sub / f.name).write_text(f.read_text())
    return p


def _same(a, b):
    assert a.metrics.keys() == b.metrics.keys()
    for k in a.metrics:
        assert a[k] == b[k] and a.metric(k).ci == b.metric(k).ci, k
    assert a.examples == b.examples and a.tables == b.tables


@pytest.mark.shared
def test_batch_size_does_not_change_results(tmp_path):
    p = _small(tmp_path)
    runs = [audit_simulations(p, embeddings="static", run=RunOptions(batch_size=bs, flags=str(tmp_path / f"{bs}.jsonl")))
            for bs in (1, 37, 8192)]
    for r in runs[1:]:
        _same(runs[0], r)
    rows = [(tmp_path / f"{bs}.jsonl").read_text() for bs in (1, 37, 8192)]
    assert rows[0] == rows[1] == rows[2] and rows[0].count("\n") == runs[0]["n_turns"]


@pytest.mark.shared
def test_resume_completes_with_the_same_result(tmp_path):
    p = _small(tmp_path)
    plain = audit_simulations(p, embeddings="static", run=RunOptions(batch_size=20))
    resumed = audit_simulations(p, embeddings="static", run=RunOptions(batch_size=20, resume=str(tmp_path / "ck")))
    _same(plain, resumed)
    assert resumed.params["engine_used"] == "ResumableEngine" and not any((tmp_path / "ck").iterdir())


@pytest.mark.shared
@pytest.mark.slow
def test_ray_gives_the_same_metrics_and_flags(tmp_path):
    pytest.importorskip("ray")
    p = _small(tmp_path)
    local = audit_simulations(p, embeddings="static", run=RunOptions(batch_size=50, flags=str(tmp_path / "l.jsonl")))
    ray = audit_simulations(p, embeddings="static", run=RunOptions(batch_size=50, engine="ray", workers=2,
                                                                    flags=str(tmp_path / "r.jsonl")))
    _same(local, ray)
    assert (tmp_path / "l.jsonl").read_text() == (tmp_path / "r.jsonl").read_text()
