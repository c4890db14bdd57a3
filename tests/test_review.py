"""`artifactlens review`: the queue of rows worth checking, filled in by hand (here: by the test) and read back
by the instruction audit's --checked and the labels audit's --gold-sample, which then report an error rate
with an interval that moves with the verdicts."""
from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest

import artifactlens as al
from artifactlens.demo import demo_path
from artifactlens.errors import InputError
from artifactlens.review import build_queue, load_flags, side_path, write_queue
from conftest import shared_path


@pytest.fixture(scope="module")
def instr(tmp_path_factory):
    d = tmp_path_factory.mktemp("review")
    r = al.audit("instructions", demo_path("instructions.jsonl"), run=al.RunOptions(seed=0, flags=str(d / "f.parquet")))
    r.to_json(d / "r.json")
    flags = pd.read_parquet(d / "f.parquet")
    truth = float((flags["planted"].fillna("") != "").mean())  # the demo's planted artifacts: 62 of 266 rows
    return d, r, truth


def _fill(queue, out, verdict):
    q = pd.read_csv(queue, keep_default_na=False)
    q["wrong"] = [verdict(row) for _, row in q.iterrows()]
    q.to_csv(out, index=False)
    return q


def _checked(path):
    return al.audit("instructions", demo_path("instructions.jsonl"), checked=str(path)).metric("error_rate_checked")


def test_instruction_queue_round_trips_through_checked(instr, tmp_path):
    d, r, truth = instr
    assert truth == pytest.approx(62 / 266) and r["error_rate"] == pytest.approx(46 / 266)  # flags miss 16
    meta = write_queue(d / "r.json", tmp_path / "queue.csv", n=100, seed=0)
    q = pd.read_csv(tmp_path / "queue.csv", keep_default_na=False)
    assert len(q) == 100 and sorted(q["rank"]) == list(range(1, 101)) and q["row"].is_unique
    assert {"wrong", "error_type", "weight", "value", "stratum", "instruction", "output"} <= set(q.columns)
    assert (q["wrong"] == "").all() and (q["error_type"] == "").all()  # blank verdicts to fill in
    # a blank queue read back checks nothing: blank is "not checked", never "right"
    with pytest.raises(InputError, match="the checked sample is empty"):
        _checked(tmp_path / "queue.csv")
    # filled with the demo's planted truth: the estimate moves from the flag rate to the truth, inside the interval
    _fill(tmp_path / "queue.csv", tmp_path / "full.csv", lambda row: "yes" if row["planted"] else "no")
    m = _checked(tmp_path / "full.csv")
    assert m.n == 266 and "100 rows checked" in m.description
    assert r["error_rate"] + 0.02 < m.value < truth + 0.02 and m.ci[0] <= truth <= m.ci[1]  # the misses counted
    # every flag a false alarm: the estimate falls far below the flag rate
    _fill(tmp_path / "queue.csv", tmp_path / "none.csv", lambda row: "no")
    no = _checked(tmp_path / "none.csv")
    assert no.value < 0.05 < r["error_rate"]
    # half the queue checked (down to rank 50): fewer rows, a wider interval
    half = pd.read_csv(tmp_path / "full.csv", keep_default_na=False)
    half.loc[half["rank"] > 50, "wrong"] = ""
    half.to_csv(tmp_path / "half.csv", index=False)
    h = _checked(tmp_path / "half.csv")
    assert "50 rows checked" in h.description and (h.ci[1] - h.ci[0]) > (m.ci[1] - m.ci[0])
    # the side file: the rule, the strata the weights come from, the read-back command and the hashes
    side = json.loads(side_path(tmp_path / "queue.csv").read_text())
    assert side == meta and "stratified random draw" in side["rule"] and "--checked" in side["read_back"]
    assert sum(s["queued"] for s in side["strata"].values()) == 100
    assert sum(s["rows"] for s in side["strata"].values()) == 266 and len(side["result"]["sha256"]) == 64


def test_weights_undo_the_floor_of_three(instr, tmp_path):
    """A small queue over-represents rare flags (3 a stratum); without its weights the PPI estimate of the
    same verdicts is far off, with them it is near the truth."""
    d, r, truth = instr
    write_queue(d / "r.json", tmp_path / "q.csv", n=40, seed=0)
    q = _fill(tmp_path / "q.csv", tmp_path / "w.csv", lambda row: "yes" if row["planted"] else "no")
    assert q["weight"].mean() == pytest.approx(1.0, abs=1e-3) and q["weight"].max() > 5 * q["weight"].min()
    q.drop(columns=["weight"]).to_csv(tmp_path / "u.csv", index=False)
    weighted, unweighted = _checked(tmp_path / "w.csv"), _checked(tmp_path / "u.csv")
    assert abs(weighted.value - truth) < 0.05 < abs(unweighted.value - truth)
    # `artifactlens sample instructions` draws the same way and now writes the same weights
    from artifactlens.audits.instructions.checked import sample_to_check
    s = sample_to_check(d / "f.parquet", 40, seed=0).to_pandas()
    assert s["row"].tolist() == sorted(q["row"]) and np.allclose(s.set_index("row")["weight"],
                                                                  q.set_index("row")["weight"].loc[s["row"]])


def test_ranking_covers_every_stratum_first(instr, tmp_path):
    d, r, _ = instr
    t, _ = load_flags(r)
    q, meta = build_queue(r, t, n=60, seed=3)
    q = q.to_pandas().sort_values("rank")
    strata = set(q["stratum"])
    first = q.head(len(strata) + len(meta["flags"]))
    assert strata <= set(first["stratum"]) and {"none", "duplicate", "arithmetic_wrong"} <= strata
    raised = {f for s in q["flags"] for f in (s or "").split(",") if f}
    assert raised <= {f for s in first["flags"] for f in (s or "").split(",") if f}  # every flag in round 1
    rest = q.iloc[len(set(first.index)):]  # after the coverage round: by value, highest first
    later = q[~q.index.isin(first.index)]["value"].to_numpy()
    assert len(rest) and (np.diff(later) <= 1e-12).all()
    assert q["value"].between(0, 1).all() and np.allclose(q["value"], (q["flag_score"] + q["uncertainty"]) / 2, atol=1e-4)
    again, _ = build_queue(r, t, n=60, seed=3)
    assert again.column("row").to_pylist() == build_queue(r, t, n=60, seed=3)[0].column("row").to_pylist()


def test_labels_queue_round_trips_through_gold_sample(tmp_path):
    d = shared_path("alt_test", "mtbench")
    kw = {"human_annotations": str(d / "human_annotations.json"), "llm_annotations": str(d / "llm_annotations.json"),
          "annotator_quality": False}
    r = al.audit("labels", None, run=al.RunOptions(seed=0, flags=str(tmp_path / "f.jsonl")), **kw)
    r.to_json(tmp_path / "r.json")
    assert not any(k.startswith("llm_error_rate_ppi") for s in r.sections for k in s.metrics)
    meta = write_queue(tmp_path / "r.json", tmp_path / "queue.csv", n=40, html=tmp_path / "queue.html")
    q = pd.read_csv(tmp_path / "queue.csv", keep_default_na=False)
    assert len(q) == 40 and meta["id_column"] == "id" and "--gold-sample" in meta["read_back"]
    assert (q["label"] == "").all() and q["id"].is_unique and set(q["stratum"]) <= {
        "llm_erases_minority", "llm_overconfident", "majority_mismatch", "none"}
    llms = [c for c in q.columns if c.startswith("llm:")]
    split = q[llms].apply(lambda row: len({json.loads(x)[0] for x in row}) > 1, axis=1)
    assert len(llms) == 6 and q.loc[split, "uncertainty"].mean() > q.loc[~split, "uncertainty"].mean()
    assert "<table>" in (tmp_path / "queue.html").read_text() and "Review queue: labels" in (tmp_path / "queue.html").read_text()

    def gold(fill):
        q2 = q.copy()
        q2["label"] = [fill(row) for _, row in q2.iterrows()]
        q2.to_csv(tmp_path / "gold.csv", index=False)
        out = al.audit("labels", None, run=al.RunOptions(seed=0), gold_sample=str(tmp_path / "gold.csv"), **kw)
        return {s.params["model_name"]: s for s in out.sections}

    plural = lambda row: Counter(json.loads(row["human"])).most_common(1)[0][0]  # noqa: E731
    by_human = gold(plural)
    by_gpt4o = gold(lambda row: json.loads(row["llm:gpt-4o"])[0])  # gold = gpt-4o's own label
    a, b = by_human["gpt-4o"].metric("llm_error_rate_ppi"), by_gpt4o["gpt-4o"].metric("llm_error_rate_ppi")
    assert a.n == b.n == 40 and by_human["gpt-4o"].params["gold_sample"]["items"] == 40
    assert b.value < 0.05 < a.value and b.ci[1] < a.ci[1]
    # half the queue labelled: 20 gold items, the blank rest counted, not read
    half = gold(lambda row: plural(row) if row["rank"] <= 20 else "")
    assert half["gpt-4o"].metric("llm_error_rate_ppi").n == 20
    assert half["gpt-4o"].input.rows_skipped.get("gold row with a missing label") == 20


def test_html_page_escapes_the_data_and_wide_labels_say_what_reads_them(instr, tmp_path):
    from artifactlens.review import render_html
    d, r, _ = instr
    q, meta = build_queue(r, load_flags(r)[0], n=12)
    q = q.set_column(q.schema.get_field_index("instruction"), "instruction",
                     __import__("pyarrow").array(["<script>alert(1)</script>"] * q.num_rows))
    page = render_html(q, {**meta, "result": {"sha256": "0" * 64}, "read_back": "artifactlens audit ..."})
    assert "<script>" not in page and "&lt;script&gt;" in page and page.count("<tr>") == 13
    lab = al.audit("labels", demo_path("labels.csv"), run=al.RunOptions(flags=str(tmp_path / "lf.jsonl")), text="text",
                   human="human", llm="llm", id="id", second_order=False)
    lab.to_json(tmp_path / "l.json")
    m = write_queue(tmp_path / "l.json", tmp_path / "lq.csv", n=30)
    assert m["rows"] == 30 and "needs named annotators" in m["read_back"]


def test_bad_input_is_one_input_error(instr, tmp_path):
    d, r, _ = instr
    with pytest.raises(InputError, match="no such file"):
        write_queue(tmp_path / "missing.json", tmp_path / "q.csv")
    bare = al.audit("instructions", demo_path("instructions.jsonl"))
    bare.to_json(tmp_path / "bare.json")
    with pytest.raises(InputError, match="names no flags file"):
        write_queue(tmp_path / "bare.json", tmp_path / "q.csv")
    assert write_queue(tmp_path / "bare.json", tmp_path / "q.csv", n=10, flags=d / "f.parquet")["rows"] == 10
    with pytest.raises(InputError):  # the queue would overwrite the flags file it reads
        write_queue(d / "r.json", d / "f.parquet")
    t, _ = load_flags(r)
    with pytest.raises(InputError, match="positive number"):
        build_queue(r, t, n=0)
    r.kind = "text"
    with pytest.raises(InputError, match="no review queue for a text result"):
        build_queue(r, t)


def test_review_cli(run_cli, instr, tmp_path):
    d, _, _ = instr
    from artifactlens.cli import build_parser
    if "review" not in build_parser()._subparsers._group_actions[0].choices:
        pytest.skip("the review command is not hooked into cli.py yet (/tmp/patch-review.diff)")
    code, out, err = run_cli("review", d / "r.json", "-o", tmp_path / "q.csv", "--n", "25", "--html", tmp_path / "q.html")
    assert code == 0, err
    assert "25 rows to check" in out and "--checked" in out
    assert len(pd.read_csv(tmp_path / "q.csv")) == 25 and (tmp_path / "q.html").is_file()
    code, _, err = run_cli("review", tmp_path / "nope.json", "-o", tmp_path / "x.csv")
    assert code == 2 and "no such file" in err
