"""The instruction audit end to end: layouts, CLI and API, cleaning, metrics, demo, real data."""
from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from artifactlens.audits.instructions import audit_instructions
from artifactlens.audits.instructions.layouts import detect_layout, normalise
from artifactlens.audits.common import demo_path
from artifactlens.errors import InputError
from conftest import shared_path

ROWS = [
    {"instruction": "What is 17 * 23?", "input": "", "output": "391", "source": "a"},
    {"instruction": "What is 17 * 24?", "input": "", "output": "17 * 24 = 400", "source": "a"},  # wrong
    {"instruction": "Summarize the following text.", "input": "", "output": "It is about rivers.", "source": "b"},  # no input
    {"instruction": "Name three fruits.", "input": "", "output": "Apple, pear and fig.", "source": "b"},
    {"instruction": "Name three fruits.", "input": "", "output": "Apple, pear and fig.", "source": "b"},  # duplicate
    {"instruction": "Write a poem about rain.", "input": "", "output": "As an AI language model, I cannot.", "source": "a"},
]


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_cli_outputs_flags_clean_and_thresholds(tmp_path, run_cli):
    f = _write_jsonl(tmp_path / "d.jsonl", ROWS)
    code, out, err = run_cli("audit", "instructions", f, "--no-embeddings", "--json", tmp_path / "r.json",
                             "--flags", tmp_path / "flags.parquet", "--clean", tmp_path / "clean.jsonl",
                             "--threshold", "instruction_empty=1", "--quiet")
    assert code == 0, err
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["metrics"]["error_rate"]["value"] == pytest.approx(3 / 6)
    assert r["metrics"]["duplicate_rate"]["value"] == pytest.approx(1 / 6)
    assert r["metrics"]["incorrect_output_rate"]["value"] == pytest.approx(1 / 6)
    lo, hi = r["metrics"]["error_rate"]["ci"]
    assert lo < 0.5 < hi
    assert r["params"]["detectors"]["instruction_empty"]["threshold"] == 1.0
    assert "output_irrelevant" not in r["params"]["detectors"]
    flags = pq.read_table(tmp_path / "flags.parquet").to_pylist()
    assert [x["flags"] for x in flags] == ["", "arithmetic_wrong", "input_missing", "", "duplicate", "output_refusal"]
    assert [x["keep"] for x in flags] == [True, False, False, True, False, False]
    assert "408" in flags[1]["reasons"]
    clean = [json.loads(l) for l in (tmp_path / "clean.jsonl").read_text().splitlines()]
    kept = [json.loads(l) for l in (tmp_path / "clean.kept.jsonl").read_text().splitlines()]
    assert len(clean) == 6 and "keep" in clean[0] and len(kept) == 2
    assert set(kept[0]) == {"instruction", "input", "output", "source"}
    assert r["params"]["clean"]["dropped"] == 4
    per_source = {row[0]: row for row in r["tables"]["per_source"]["rows"]}
    assert per_source["a"][1] == 3 and per_source["a"][2] == pytest.approx(2 / 3)


def test_bad_input_one_line_exit_2(tmp_path, run_cli):
    f = _write_jsonl(tmp_path / "d.jsonl", [{"text": "hello", "label": 1}])
    code, out, err = run_cli("audit", "instructions", f, "--no-embeddings")
    assert code == 2 and "cannot tell the instruction layout" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli("audit", "instructions", _write_jsonl(tmp_path / "e.jsonl", ROWS), "--threshold", "nope=1")
    assert code == 2 and "unknown detector" in err


def test_layouts_recognised_without_flags():
    chat = pa.RecordBatch.from_pylist([{"messages": [{"role": "system", "content": "Be brief."},
                                                     {"role": "user", "content": "Name a fruit."},
                                                     {"role": "assistant", "content": "Apple."}]},
                                       {"messages": [{"role": "user", "content": "Hi"}]}])
    nb = normalise(chat, detect_layout(chat.schema.names))
    assert nb.column("instruction").to_pylist() == ["Name a fruit.", "Hi"]
    assert nb.column("output").to_pylist() == ["Apple.", ""]
    seed = pa.RecordBatch.from_pylist([{"id": "t1", "instruction": "Add.", "instances": [
        {"input": "1 2", "output": "3"}, {"input": "2 2", "output": "4"}]}, {"id": "t2", "instruction": "Hi", "instances": [
            {"input": "", "output": "Hello"}]}])
    nb = normalise(seed, detect_layout(seed.schema.names), row_offset=10)
    assert nb.column("output").to_pylist() == ["3", "4", "Hello"]
    assert nb.column("group").to_pylist() == [10, 10, 11]
    assert detect_layout(["prompt", "completion"])["layout"] == "prompt_completion"
    assert detect_layout(["instruction", "input", "response", "target"])["output"] == "response"
    assert detect_layout(["instruction", "input", "reference response"])["layout"] == "reference"
    noin = pa.RecordBatch.from_pylist([{"instruction": "x", "input": "<noinput>", "output": "y"}])
    assert normalise(noin, detect_layout(noin.schema.names)).column("input").to_pylist() == [""]
    with pytest.raises(InputError):
        detect_layout(["a", "b"])


def test_csv_and_parquet_give_the_same_figures(tmp_path):
    t = pa.Table.from_pylist(ROWS)
    pq.write_table(t, tmp_path / "d.parquet")
    import pyarrow.csv as pacsv
    pacsv.write_csv(t, tmp_path / "d.csv")
    a = audit_instructions(tmp_path / "d.parquet", embeddings=False)
    b = audit_instructions(tmp_path / "d.csv", embeddings=False, batch_size=2)  # several batches: states merge
    assert a["error_rate"] == b["error_rate"] == pytest.approx(0.5)
    assert a.metric("error_rate").ci == b.metric("error_rate").ci
    assert a["duplicate_rate"] == b["duplicate_rate"]


@pytest.fixture(scope="module")
def demo_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    from artifactlens.outputs import write_outputs
    r = audit_instructions(demo_path("instructions.jsonl"), flags=str(out / "flags.parquet"), embeddings=True)
    return write_outputs(r, html=str(out / "r.html")), out


def test_demo_every_planted_row_found_and_clean_rows_kept(demo_result):
    r, out = demo_result
    rows = [json.loads(l) for l in demo_path("instructions.jsonl").read_text().splitlines()]
    flags = pq.read_table(out / "flags.parquet").to_pylist()
    planted = {}
    for src, fl in zip(rows, flags):
        if src["planted"] and src["planted"] != "duplicate":
            planted.setdefault(src["planted"], []).append(fl[src["planted"]])
    assert len(planted) == 18 and all(all(v) for v in planted.values()), planted  # every type, every row
    clean = [fl for src, fl in zip(rows, flags) if not src["planted"]]
    wrongly = [fl for fl in clean if fl["error"]]
    assert len(wrongly) <= 2, [(x["instruction"], x["reasons"]) for x in wrongly]
    assert r.metric("duplicate_rate").value >= 7 / len(rows)
    for t in ("incomprehensible_instruction", "inconsistent_input", "inconsistent_output", "incorrect_output"):
        assert r[f"{t}_rate"] > 0 and r.metric(f"{t}_rate").ci is not None
    assert r.tables["per_source"]["rows"] and r.tables["top_verbs"]["rows"][0][0] == "what"
    assert any(f["type"] == "bar" for f in r.figures) and r.examples
    assert (out / "r.html").stat().st_size > 10_000


def test_real_self_instruct_precision_recall():
    """Vanilla GPT-3 (davinci) responses in the Self-Instruct human evaluation are largely invalid (the
    paper rates most of them D); the human targets for the same 252 instructions are the reference.
    Flagged share and precision of error_rate as a detector of the GPT-3 rows."""
    rows = []
    with open(shared_path("self_instruct", "davinci_predictions.jsonl"), encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            rows.append({"instruction": r["instruction"], "input": r["input"], "output": r["response"], "source": "gpt3"})
            rows.append({"instruction": r["instruction"], "input": r["input"], "output": r["target"], "source": "human"})
    import tempfile, os
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "si.jsonl")
        with open(p, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
        from artifactlens.audits.instructions.detectors import REGISTRY
        paper = [n for n, c in REGISTRY.items() if c.family != "not_following"]
        old, new = audit_instructions(p, detectors=paper), audit_instructions(p)
    for res, (lo, hi) in ((old, (0.70, 0.80)), (new, (0.95, 1.0))):
        recall = res["error_rate[source=gpt3]"]
        false_alarm = res["error_rate[source=human]"]
        precision = recall / (recall + false_alarm)
        assert lo <= recall <= hi, recall  # measured 0.738 (old), 0.980 (new: items_repeated finds the loops)
        assert false_alarm <= 0.02, false_alarm  # measured 0.008 (2 of 252, old), 0.012 (3 of 252, new)
        assert precision >= 0.97, precision
    assert old["error_rate[source=gpt3]"] * 252 == pytest.approx(186)  # bench/RESULTS.md: unchanged
    assert new["error_rate[source=gpt3]"] > old["error_rate[source=gpt3]"]
    assert new["not_following_rate"] > 0 and old["not_following_rate"] == 0


def test_output_irrelevant_uses_minilm(tmp_path):
    rows = [{"instruction": "Describe the life cycle of a butterfly.", "input": "",
             "output": "The stock market closed higher today as investors welcomed the latest interest rate decision."},
            {"instruction": "Describe the life cycle of a butterfly.", "input": "",
             "output": "A butterfly starts as an egg, hatches into a caterpillar, forms a chrysalis and emerges as an adult."},
            {"instruction": "Translate the following sentence into English.", "input": "Le chat dort sur le canapé.",
             "output": "The cat is sleeping on the sofa in the living room right now."},
            {"instruction": "Classify the sentiment.", "input": "I love it", "output": "Positive"}]
    r = audit_instructions(_write_jsonl(tmp_path / "d.jsonl", rows), flags=str(tmp_path / "f.parquet"), embeddings=True)
    fl = pq.read_table(tmp_path / "f.parquet").to_pylist()
    assert [x["output_irrelevant"] for x in fl] == [True, False, False, False]
    assert fl[1]["output_irrelevant_score"] > 0.3 and fl[3]["output_irrelevant_score"] != fl[3]["output_irrelevant_score"]
    assert r.params["detectors"]["output_irrelevant"]["threshold"] == 0.1
