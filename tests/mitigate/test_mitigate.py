"""``artifactlens mitigate``: each mitigation moves the audited figure it targets in the stated direction on
real data (../shared/data; skipped when absent), keeps every row in order, and bad input is one InputError.
Also the recommendations per finding, and that the scorecard's lights and the findings never contradict."""
from __future__ import annotations

import argparse
import json
from collections import Counter
from itertools import combinations
from pathlib import Path

import pandas as pd
import pytest

import artifactlens as al
from artifactlens.errors import InputError
from artifactlens.io.conventions import parse_choice
from artifactlens.io.readers import read_table
from artifactlens.mitigate import attach_recommendations
from artifactlens.mitigate.cli import add_subcommands
from artifactlens.mitigate.preferences import lc_fit
from artifactlens.mitigate.run import mitigate
from artifactlens.result import AuditResult, Finding

from conftest import shared_path
from support.llmbar import llmbar_jsonl

FAST = dict(embeddings=False, reward_model=False)
LLMBAR = dict(a="output_1", b="output_2", human="gold", judge="judge", judge_swapped="judge_swapped",
              prompt="input", codes="1=a,2=b", **FAST)
DEMO = Path(al.__file__).parent / "data" / "demo"


@pytest.fixture
def run_mitigate(capsys):
    """The mitigate command as the CLI's main runs it (``_run``; InputError -> exit 2, one line)."""
    import sys
    p = argparse.ArgumentParser(prog="artifactlens")
    add_subcommands(p.add_subparsers(dest="command"))

    def _run(*argv):
        a = p.parse_args([str(x) for x in argv])
        try:
            code = a._run(a)
        except InputError as e:
            print(f"artifactlens: error: {e}", file=sys.stderr)
            code = 2
        got = capsys.readouterr()
        return code, got.out, got.err
    return _run


def _audit(kind, path, tmp_path, name, **opts) -> Path:
    """Audit with a flags file (mitigate reads it instead of a second pass) and write the result."""
    r = al.audit(kind, str(path), run=al.RunOptions(flags=str(tmp_path / f"{name}.flags.jsonl")), **opts)
    out = tmp_path / f"{name}.json"
    r.to_json(out)
    return out


def _table(result: AuditResult) -> dict:
    return {row[0]: row[1:] for row in result.tables["mitigation"]["rows"]}


# -- preferences: LLMBar both orders (ties), CoBBLEr's GPT-4 rankings as pairs (style, length) --------------
@pytest.fixture(scope="module")
def llmbar(tmp_path_factory):
    """LLMBar's Adversarial/Neighbor set judged by GPT-4 in both orders, flattened, and its audit (with flags)."""
    d = tmp_path_factory.mktemp("llmbar")
    p, rows = llmbar_jsonl(d, "Adversarial_Neighbor", shared_path)
    return p, rows, _audit("preferences", p, d, "before", **LLMBAR)


def test_ties_on_llmbar_raise_the_tie_rate_and_end_position_inconsistency(tmp_path, llmbar):
    p, rows, res = llmbar
    out = tmp_path / "ties.jsonl"
    after = mitigate("preferences", p, res, out, "ties", json_out=tmp_path / "after.json", **FAST)
    # independent: a pair whose two orders differ becomes a tie in both
    w = [(r["results"][0]["swap = False"]["winner"], r["results"][0]["swap = True"]["winner"]) for r in rows]
    changed = [x != y for x, y in w]
    m = _table(after)
    assert m["position_inconsistency_rate"][0] == pytest.approx(sum(changed) / len(w)) and sum(changed) == 14
    assert m["position_inconsistency_rate"][1] == 0 and m["position_inconsistency_rate"][3] is True
    assert m["judge_tie_rate"][0] == 0 and m["judge_tie_rate"][1] == pytest.approx(sum(changed) / len(w))
    assert m["judge_tie_rate"][2:] == ["up", True]
    # every row kept, in order; the mitigated values in the columns the audit read
    o = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(o) == len(rows) == 134
    assert [r["output_1"] for r in o] == [r["output_1"] for r in rows]
    assert [r["mitigation"] == "tie" for r in o] == changed
    assert all(parse_choice(r["judge"], {"1": "a", "2": "b"}) == "tie" == parse_choice(r["judge_swapped"]) for r in o
               if r["mitigation"])
    assert all(r["judge"] == x and r["judge_swapped"] == y for r, (x, y), c in zip(o, w, changed) if not c)
    assert "first order" in next(r["mitigation_reason"] for r in o if r["mitigation"])
    # the audit reads the output with the same options
    again = al.audit("preferences", str(out), **LLMBAR)
    assert again["judge_tie_rate"] == after["judge_tie_rate"]
    assert json.loads((tmp_path / "after.json").read_text())["tables"]["mitigation"]["rows"][0][0] == \
        "position_inconsistency_rate"


@pytest.mark.parametrize("values, codes, tie", [
    ([0, 1, 0], "", 2),  # the default numeric reading: 2 is a tie
    (["0", "1"], "", "2"),
    ([1, 2, 1], "1=a,2=b", "tie"),  # LLMBar's coding has no tie code: the word, which every coding reads
    ([0, 1, 2], "0=tie,1=a,2=b", 0),  # PandaLM: the column's own tie code
    (["a", "b", "tie"], "", "tie"),
    (["model_a", "model_b"], "", "tie"),
])
def test_a_tie_is_written_in_the_columns_coding(values, codes, tie):
    from artifactlens.io.conventions import parse_codes
    from artifactlens.mitigate.preferences import PositionTies
    enc = PositionTies().encoder(values, parse_codes(codes))
    assert enc("tie") == tie and parse_choice(enc("tie"), parse_codes(codes)) == "tie"


@pytest.fixture(scope="module")
def cobbler(tmp_path_factory):
    """CoBBLEr's GPT-4 and human rankings of 6 models' outputs as pairs (model columns: the style fit has
    content strengths, and win rates per model have meaning)."""
    d = shared_path("under-the-surface", "preference", "cobbler")
    J, H = json.loads((d / "gpt4.json").read_text()), json.loads((d / "human.json").read_text())
    keep = {"alpaca", "chatgpt", "dolly", "gpt4", "llama", "mpt"}
    c = lambda x, y: "a" if x > y else "b" if x < y else "tie"  # noqa: E731
    rows = []
    for key, ex in J.items():
        if key == "evaluator":
            continue
        pj = {x["model"]: x for x in ex["rankings"]}
        ph = {x["model"]: x["point"] for x in H[key]["rankings"]}
        for m1, m2 in combinations(sorted(set(pj) & set(ph) & keep), 2):
            rows.append({"prompt_id": key, "instruction": ex["instruction"], "a": pj[m1]["output"],
                         "b": pj[m2]["output"], "model_a": m1, "model_b": m2,
                         "judge": c(pj[m1]["point"], pj[m2]["point"]), "human": c(ph[m1], ph[m2])})
    d = tmp_path_factory.mktemp("cobbler")
    p = d / "pairs.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    return p, rows, _audit("preferences", p, d, "before", **COBBLER), d / "before.flags.jsonl"


COBBLER = dict(a="a", b="b", human="human", judge="judge", prompt="instruction", group="prompt_id",
               model_a="model_a", model_b="model_b", judge_model="gpt4", **FAST)


def test_style_debiased_verdicts_on_cobbler_lower_the_style_flip_share(tmp_path, cobbler):
    p, rows, res, flags = cobbler
    flags = pd.read_json(flags, lines=True)
    out = tmp_path / "style.csv"
    after = mitigate("preferences", p, res, out, "style", **FAST)
    m = _table(after)
    before, now = m["style_flip_share"][:2]
    assert now < before and m["style_flip_share"][2:] == ["down", True]
    o = pd.read_csv(out)
    assert len(o) == len(rows) == 750 and list(o["a"]) == [r["a"] for r in rows]
    flipped = (flags["judge_debiased"] != flags["judge_choice"]) & flags["judge_choice"].isin(["a", "b"])
    assert flipped.sum() > 50 and list(o["mitigation"].eq("debiased")) == list(flipped)
    assert (o.loc[flipped, "judge"] == flags.loc[flipped, "judge_debiased"]).all()
    assert (o.loc[~flipped, "judge"] == flags.loc[~flipped, "judge_choice"]).all()


def test_length_controlled_win_rates_on_cobbler(tmp_path, cobbler):
    p, rows, res, _ = cobbler
    before = AuditResult.from_json(res)
    after = mitigate("preferences", p, res, tmp_path / "len.parquet", "length", **FAST)
    b, a, d, ok = _table(after)["judge_prefers_longer_rate_length_controlled"]
    assert b == pytest.approx(before["judge_prefers_longer_rate"])  # before: the audit's own figure
    assert abs(a - 0.5) < abs(b - 0.5) and d == "toward 0.5" and ok is True
    wr = {r[0]: r for r in after.tables["length_controlled_win_rates"]["rows"]}
    assert set(wr) == {"alpaca", "chatgpt", "dolly", "gpt4", "llama", "mpt"}
    # independent raw win rate (ties count half) of GPT-4's outputs under GPT-4's points
    g = [(r["judge"], r["model_a"] == "gpt4") for r in rows if "gpt4" in (r["model_a"], r["model_b"])]
    raw = sum(1.0 if j == ("a" if own_a else "b") else 0.5 if j == "tie" else 0.0 for j, own_a in g) / len(g)
    assert wr["gpt4"][3] == pytest.approx(raw) and wr["gpt4"][1] == len(g)
    assert len(read_table(tmp_path / "len.parquet")) == len(rows)


def test_lc_fit_without_a_length_effect_changes_little():
    import numpy as np
    rng = np.random.default_rng(0)
    ma, mb = rng.choice(list("xyz"), 600), rng.choice(list("xyz"), 600)
    la, lb = rng.integers(10, 100, 600).astype(float), rng.integers(10, 100, 600).astype(float)
    s = {"x": 1.0, "y": 0.0, "z": -1.0}
    p = 1 / (1 + np.exp(-np.array([s[a] - s[b] for a, b in zip(ma, mb)])))
    ch = np.where(rng.random(600) < p, "a", "b").astype(object)
    fit = lc_fit(ma, mb, ch, la, lb)
    rows = {r[0]: r for r in fit["rows"]}
    assert rows["x"][4] > rows["y"][4] > rows["z"][4]
    assert all(abs(r[5]) < 0.05 for r in fit["rows"])  # no length effect: LC is close to raw
    assert fit["longer"][1] == pytest.approx(0.5, abs=0.05)


# -- labels: the Alt-Test WAX release (8 people, 6 LLMs) as a wide file --------------------------------------
@pytest.fixture(scope="module")
def wax(tmp_path_factory):
    d = shared_path("alt_test", "wax")
    H = json.loads((d / "human_annotations.json").read_text())
    L = json.loads((d / "llm_annotations.json").read_text())
    items = sorted(set().union(*[set(v) for v in H.values()]))
    rows = [{"id": i, "human": json.dumps([h[i] for h in H.values() if i in h]),
             "llm": json.dumps([x[i] for x in L.values() if i in x])} for i in items]
    p = tmp_path_factory.mktemp("wax") / "wax.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    return p, rows


def test_soft_labels_on_alt_test_wax(tmp_path, wax, run_mitigate):
    p, rows = wax
    res = _audit("labels", p, tmp_path, "before", human="human", llm="llm", id="id", second_order=False)
    flags = pd.read_json(tmp_path / "before.flags.jsonl", lines=True)
    out = tmp_path / "soft.csv"
    code, stdout, err = run_mitigate("mitigate", "labels", p, "--result", res, "-o", out, "--reweight",
                                 "--json", tmp_path / "after.json", "--html", tmp_path / "after.html")
    assert code == 0, err
    m = {r[0]: r[1:] for r in json.loads((tmp_path / "after.json").read_text())["tables"]["mitigation"]["rows"]}
    assert m["minority_erasure_rate"][0] == pytest.approx(0.4444, abs=1e-4) and m["minority_erasure_rate"][1] == 0
    assert m["majority_match_rate"][1] > m["majority_match_rate"][0] == pytest.approx(0.4106, abs=1e-4)
    assert m["llm_overconfident_rate"][1] < m["llm_overconfident_rate"][0]
    assert all(r[3] is True for k, r in m.items() if r[2])
    assert "minority_erasure_rate" in stdout and "as targeted" in stdout
    o = pd.read_csv(out)
    assert list(o["id"]) == [r["id"] for r in rows] and len(o) == 246
    review = o["mitigation"].eq("review")
    assert list(review) == list(flags["llm_erases_minority"].fillna(False).astype(bool)) and review.sum() > 20
    first = json.loads(o["soft_label"][0])
    h0 = Counter(json.loads(rows[0]["human"]))
    assert first == pytest.approx({k: v / sum(h0.values()) for k, v in h0.items()})
    # the command a finding recommends runs as it is written
    import shlex
    before = attach_recommendations(AuditResult.from_json(res), str(res))
    rec = next(f.recommendation for f in before.findings if f.metric == "minority_erasure_rate")
    argv = shlex.split(rec.split("`")[1])
    assert argv[:3] == ["artifactlens", "mitigate", "labels"] and argv[-1] == str(p.with_name("wax.mitigated.csv"))
    code, _, err = run_mitigate(*argv[1:], "--quiet")
    assert code == 0 and pd.read_csv(argv[-1])["mitigation"].eq("review").sum() == review.sum(), err
    rw = json.loads(o["soft_label_reweighted"][0])
    assert sum(rw.values()) == pytest.approx(1.0) and set(rw) == set(first)
    assert "minority_erasure_rate" in (tmp_path / "after.html").read_text()  # the mitigation table in the report


# -- instructions: Self-Instruct's vanilla GPT-3 predictions ------------------------------------------------
def test_cleaned_set_and_fix_list_on_self_instruct(tmp_path):
    p = shared_path("self_instruct", "davinci_predictions.jsonl")
    res = _audit("instructions", p, tmp_path, "before")
    out = tmp_path / "fixed.jsonl"
    after = mitigate("instructions", p, res, out)
    m = _table(after)
    assert m["error_rate"][0] == pytest.approx(AuditResult.from_json(res)["error_rate"]) and m["error_rate"][0] > 0.5
    assert m["error_rate"][1] < m["error_rate"][0] and m["error_rate"][3] is True
    src = [json.loads(x) for x in p.read_text().splitlines()]
    o = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(o) == len(src) == 252 and [r["response"] for r in o] == [r["response"] for r in src]
    drop = [r for r in o if r["mitigation"] == "drop"]
    assert len(drop) == round(m["error_rate"][0] * 252)
    assert after.input.rows_read == 252 - len(drop) == after.params["mitigation"]["audited_rows"]
    assert all("found: " in r["mitigation_reason"] and "fix: " in r["mitigation_reason"] for r in drop)
    assert {r["mitigation"] for r in o} == {"keep", "drop"}


# -- simulations: SPP logic-grid transcripts -----------------------------------------------------------------
def test_cut_at_first_loop_on_spp(tmp_path):
    p = shared_path("under-the-surface", "simulation", "spp", "spp_gpt4_logic_grid_0-99.jsonl")
    res = _audit("simulations", p, tmp_path, "before", embeddings="static")
    flags = pd.read_json(tmp_path / "before.flags.jsonl", lines=True)
    out = tmp_path / "cut.jsonl"
    after = mitigate("simulations", p, res, out)
    m = _table(after)
    assert m["loop_rate"][0] == pytest.approx(0.03) and m["loop_rate"][1] == 0 and m["loop_rate"][3] is True
    o = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(o) == 100 and [r["id"] for r in o] == [str(i) for i in range(100)]
    cut = {r["id"]: r for r in o if r["mitigation"]}
    # independent: the first turn that repeats (any loop flag) in each conversation
    first = {}
    for cid, g in flags.groupby("conversation_id", sort=False):
        hit = g[g[["repeat", "step_repetition", "semantic_repetition", "livelock", "tool_error_loop"]].any(axis=1)]
        if len(hit):
            first[str(cid)] = int(hit["turn"].iloc[0])
    assert set(cut) == set(first) and len(first) >= 3
    assert all(len(cut[c]["turns"]) == k for c, k in first.items())
    assert after["n_conversations"] == 100
    for k in ("task_accuracy", "role_flip_rate", "interruption_rate"):  # the turns records read as the source did
        assert after[k] == AuditResult.from_json(res)[k]


def test_flipped_turns_are_marked_not_removed(tmp_path):
    p = DEMO / "simulations.jsonl"
    res = _audit("simulations", p, tmp_path, "before", embeddings="static")
    flags = pd.read_json(tmp_path / "before.flags.jsonl", lines=True)
    mitigate("simulations", p, res, tmp_path / "cut.jsonl")
    o = [json.loads(x) for x in (tmp_path / "cut.jsonl").read_text().splitlines()]
    marked = flipped = 0
    for r, (cid, g) in zip(o, flags.groupby("conversation_id", sort=False)):
        assert r["id"] == cid
        want = g["role_flip"].tolist()[: len(r["turns"])]
        got = ["mitigation" in t for t in r["turns"]]
        assert got == want and all(t["mitigation"].startswith("role flip: ") for t in r["turns"] if "mitigation" in t)
        marked, flipped = marked + sum(got), flipped + sum(g["role_flip"])
    assert marked >= 5 and marked <= flipped


def test_cut_after_the_stop_marker(tmp_path):
    task = "Plan a three-day trip to Lisbon with a budget of 500 euros."
    recs = [{"id": "t1", "task": task, "turns": [
        {"speaker": "Planner", "role": "planner", "text": "Day one: the old town, trams and a fado evening."},
        {"speaker": "Critic", "role": "critic", "text": "Add Belem on day two and keep meals under 40 euros a day."},
        {"speaker": "Planner", "role": "planner", "text": "Final plan agreed. TERMINATE"},
        {"speaker": "Critic", "role": "critic", "text": "One more idea: Sintra by train on the last morning."},
        {"speaker": "Planner", "role": "planner", "text": "Sure, and a boat tour at sunset as well."}]},
        {"id": "t2", "task": task, "turns": [
            {"speaker": "Planner", "role": "planner", "text": "Book a hostel in Alfama for three nights."},
            {"speaker": "Critic", "role": "critic", "text": "Good, then plan the museums. TERMINATE"}]}]
    p = tmp_path / "runs.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in recs))
    res = _audit("simulations", p, tmp_path, "before", embeddings="static")
    flags = pd.read_json(tmp_path / "before.flags.jsonl", lines=True)
    assert flags["unaware_of_termination"].tolist() == [False, False, False, False, True, False, False]
    after = mitigate("simulations", p, res, tmp_path / "cut.jsonl")
    o = [json.loads(x) for x in (tmp_path / "cut.jsonl").read_text().splitlines()]
    assert [len(r["turns"]) for r in o] == [3, 2] and o[0]["turns"][-1]["text"].endswith("TERMINATE")
    assert o[0]["mitigation"] == "cut at turn 3 of 5" and "stop marker" in o[0]["mitigation_reason"]
    assert o[1]["mitigation"] is None and o[0]["terminated"] is True
    assert after["n_conversations"] == 2


# -- bad input: one line each ---------------------------------------------------------------------------------
def test_bad_input_is_one_input_error(tmp_path, llmbar, run_mitigate):
    p, _, res = llmbar
    other = tmp_path / "other.jsonl"
    other.write_text("\n".join(p.read_text().splitlines()[:50]) + "\n")
    cases = [
        (("mitigate", "labels", p, "--result", res, "-o", tmp_path / "x.csv"), "is a preferences audit, not labels"),
        (("mitigate", "preferences", other, "--result", res, "-o", tmp_path / "x.jsonl"), "made from another file"),
        (("mitigate", "preferences", p, "--result", tmp_path / "none.json", "-o", tmp_path / "x.jsonl"),
         "no such result file"),
        (("mitigate", "preferences", p, "--result", p, "-o", tmp_path / "x.jsonl"), "not an artifactlens result"),
        (("mitigate", "preferences", p, "--result", res, "--method", "nope", "-o", tmp_path / "x.jsonl"),
         "no method 'nope'"),
        (("mitigate", "preferences", p, "--result", res, "--method", "length", "-o", tmp_path / "x.jsonl"),
         "needs the models of each pair"),
        (("mitigate", "preferences", p, "--result", res, "-o", tmp_path / "x.txt"), "cannot write"),
        (("mitigate", "preferences", p, "--result", res, "-o", p), "input"),
    ]
    for argv, msg in cases:
        code, out, err = run_mitigate(*argv)
        assert code == 2 and msg in err and len(err.strip().splitlines()) == 1, (argv, err)
    no_swap = tmp_path / "noswap.jsonl"
    no_swap.write_text("".join(json.dumps({k: v for k, v in json.loads(x).items() if k != "judge_swapped"}) + "\n"
                               for x in p.read_text().splitlines()))
    r2 = al.audit("preferences", str(no_swap), **{k: v for k, v in LLMBAR.items() if k != "judge_swapped"})
    with pytest.raises(InputError, match="needs both orders"):
        mitigate("preferences", no_swap, r2, tmp_path / "y.jsonl", "ties")
    sim = al.audit("simulations", str(DEMO / "simulations.jsonl"), embeddings="static")
    with pytest.raises(InputError, match="ending in .jsonl"):
        mitigate("simulations", DEMO / "simulations.jsonl", sim, tmp_path / "s.csv")


# -- recommendations and the lights ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_results(tmp_path_factory):
    from artifactlens.api import registry
    out = tmp_path_factory.mktemp("demo")
    fast = {"preferences": FAST, "instructions": {"embeddings": False},
            "text": {"embeddings": False, "tagger_words": 5000},
            "simulations": {"embeddings": "static"}}
    res = []
    for kind, cls in registry().items():
        a = cls()
        name, opts = a.demo
        opts = {k: v.format(out=out) if isinstance(v, str) else v for k, v in opts.items()}
        res.append(a.run(str(DEMO / name), **{**opts, **fast.get(kind, {})}))
    return res


def test_every_warning_and_critical_finding_gets_a_recommendation(demo_results, tmp_path):
    for r in demo_results:
        attach_recommendations(r)
        for f in r.findings:
            if f.severity == "info":
                assert f.recommendation is None
            else:
                assert f.recommendation, (r.kind, f.metric)
    from artifactlens.mitigate.recommend import RECOMMENDATIONS, recommendation
    assert recommendation("labels", "class_drift[maybe]")[0].startswith("rebalance")
    assert recommendation("simulations", "accuracy_gap_digression") == RECOMMENDATIONS[("simulations", "accuracy_gap")]
    assert recommendation("preferences", "no_such_metric") == RECOMMENDATIONS[("preferences", "*")]
    pref = next(r for r in demo_results if r.kind == "preferences")
    pi = next(f for f in pref.findings if f.metric == "position_inconsistency_rate")
    assert "artifactlens mitigate preferences" in pi.recommendation and "--method ties" in pi.recommendation
    text = next(r for r in demo_results if r.kind == "text")
    assert all("mitigate" not in f.recommendation for f in text.findings if f.recommendation)
    # round trip; a result written before the field existed still reads
    back = AuditResult.from_json(pref.to_json())
    assert [f.recommendation for f in back.findings] == [f.recommendation for f in pref.findings]
    old = pref.to_dict()
    for f in old["findings"]:
        f.pop("recommendation", None)
    assert AuditResult.from_dict(old).findings[0].recommendation is None
    assert "recommendation" not in Finding("info", "x").to_dict()
    from artifactlens.report.html import write_report
    write_report([pref], tmp_path / "r.html", title="t")
    assert "what to do: " in (tmp_path / "r.html").read_text()


def test_text_has_no_mechanical_fix(tmp_path, demo_results, run_mitigate):
    text = next(r for r in demo_results if r.kind == "text")
    res = tmp_path / "text.json"
    text.to_json(res)
    out = tmp_path / "never.jsonl"
    code, stdout, err = run_mitigate("mitigate", "text", DEMO / "text.jsonl", "--result", res, "-o", out)
    assert code == 0, err
    assert "no mechanical fix" in stdout and "phrases the LLM over-uses" in stdout and not out.exists()
    assert f"'{text.tables['phrases_llm_multiword']['rows'][0][0]}'" in stdout  # the top over-used phrase
    assert "subgroups where it differs most" in stdout


def _contradictions(r: AuditResult) -> list[str]:
    """A finding that calls a metric bad (warning or critical) while its light is green, and a metric lit
    red that only info findings name (the red light says 'bad', the findings say nothing is wrong)."""
    from artifactlens.contract import MetricSpec
    out = []
    for s in [r, *r.sections]:
        th = s.params.get("thresholds") or {}
        light = {}
        for name, m in s.metrics.items():
            t = th.get(name) or th.get(name.split("[", 1)[0])
            if t:
                light[name] = MetricSpec.from_light(name, t).light(m.value)
        named: dict[str, set] = {}
        for f in s.findings:
            if f.metric:
                named.setdefault(f.metric, set()).add(f.severity)
            if f.metric in light and f.severity != "info" and light[f.metric] == "ok":
                out.append(f"{s.kind}: {f.severity} finding on {f.metric} whose light is ok")
        for name, lt in light.items():
            if lt == "bad" and name in named and named[name] == {"info"}:
                out.append(f"{s.kind}: {name} is lit bad but only info findings name it")
    return out


def test_lights_and_findings_never_contradict_on_the_demo(demo_results):
    bad = [c for r in demo_results for c in _contradictions(r)]
    assert not bad, bad


def test_lights_and_findings_never_contradict_on_real_data(tmp_path, llmbar, wax):
    results = [AuditResult.from_json(llmbar[2]),
               al.audit("labels", str(wax[0]), human="human", llm="llm", id="id", second_order=False),
               al.audit("instructions", str(shared_path("self_instruct", "davinci_predictions.jsonl"))),
               al.audit("simulations", str(shared_path("under-the-surface", "simulation", "spp",
                                                       "spp_gpt4_logic_grid_0-99.jsonl")), embeddings="static")]
    bad = [c for r in results for c in _contradictions(r)]
    assert not bad, bad
    # and the checker does catch one: a critical finding on a metric lit green
    r = results[0]
    green = [k for k in r.metrics if k in r.params["thresholds"] and _light_ok(r, k)]
    assert green
    r.add_finding("critical", "made up", green[0])
    assert _contradictions(r) == [f"preferences: critical finding on {green[0]} whose light is ok"]


def _light_ok(r, k):
    from artifactlens.contract import MetricSpec
    return MetricSpec.from_light(k, r.params["thresholds"][k]).light(r.metrics[k].value) == "ok"
