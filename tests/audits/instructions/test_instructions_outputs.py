"""Every instruction output (--flags, --clean, .kept) keeps every input column under its own name, in
order (issue 16 item 5); CSV outputs work (item 13); --clean on a chat layout writes the original record
back (issue 23 item 7)."""
from __future__ import annotations

import csv
import json

import pyarrow.parquet as pq
import pytest

ROWS = [{"id": "001", "instruction": "Name three fruits.", "input": "<noinput>", "response": "Apple, pear and fig.",
         "target": "x", "flags": "user column"},
        {"id": "002", "instruction": "What is 17 * 24?", "input": "", "response": "17 * 24 = 400", "target": "408",
         "flags": ""}]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("ext", [".csv", ".jsonl", ".parquet"])
def test_flags_clean_and_kept_keep_every_input_column(tmp_path, run_cli, ext):
    f = _jsonl(tmp_path / "d.jsonl", ROWS)
    code, _, err = run_cli("audit", "instructions", f, "--no-embeddings", "--flags", tmp_path / f"f{ext}",
                           "--clean", tmp_path / f"c{ext}", "--quiet")
    assert code == 0, err

    def read(p):
        if ext == ".csv":
            with open(p, newline="", encoding="utf-8") as fh:
                return list(csv.DictReader(fh))
        if ext == ".jsonl":
            return [json.loads(line) for line in p.read_text().splitlines()]
        return pq.read_table(p).to_pylist()
    for name in ("f", "c"):
        rows = read(tmp_path / f"{name}{ext}")
        assert list(rows[0])[:6] == list(ROWS[0]), list(rows[0])[:8]  # own names, in order
        assert [r["id"] for r in rows] == ["001", "002"] and rows[0]["input"] == "<noinput>"
        assert rows[0]["flags"] == "user column" and "al_flags" in rows[1] and "arithmetic_wrong" in rows[1]["al_flags"]
        assert "output" not in rows[0] and "response" in rows[0]
    kept = read(tmp_path / f"c.kept{ext}")
    assert [list(r) for r in kept] == [list(ROWS[0])] and kept[0]["id"] == "001"
    assert not list(tmp_path.glob(".*"))  # no temporary left


def test_clean_on_chat_layout_writes_the_original_record(tmp_path, run_cli):
    rec = {"conv_id": "c-9", "messages": [{"role": "system", "content": "Be brief."},
                                          {"role": "user", "content": "Name a fruit."},
                                          {"role": "assistant", "content": "Apple."}], "lang": "en"}
    f = _jsonl(tmp_path / "chat.jsonl", [rec])
    code, _, err = run_cli("audit", "instructions", f, "--no-embeddings", "--clean", tmp_path / "c.jsonl", "--quiet")
    assert code == 0, err
    assert [json.loads(x) for x in (tmp_path / "c.kept.jsonl").read_text().splitlines()] == [rec]


def test_instances_layout_keeps_task_columns_per_instance(tmp_path, run_cli):
    task = {"id": "t1", "name": "add", "instruction": "Add the numbers.",
            "instances": [{"input": "1 2", "output": "3"}, {"input": "2 2", "output": "4"}], "is_classification": False}
    f = _jsonl(tmp_path / "seed.jsonl", [task])
    code, _, err = run_cli("audit", "instructions", f, "--no-embeddings", "--flags", tmp_path / "f.jsonl", "--quiet")
    assert code == 0, err
    rows = [json.loads(x) for x in (tmp_path / "f.jsonl").read_text().splitlines()]
    assert [list(r)[:6] for r in rows] == [["id", "name", "instruction", "is_classification", "instance_input",
                                            "instance_output"]] * 2
    assert [r["instance_output"] for r in rows] == ["3", "4"]


def test_progress_lines_on_a_non_terminal(tmp_path):
    import io
    from artifactlens.audits.instructions.audit import progress_lines

    class Log(io.StringIO):
        def isatty(self):
            return False
    import pyarrow as pa
    b = pa.RecordBatch.from_pydict({"x": [1, 2, 3]})
    log = Log()
    assert sum(x.num_rows for x in progress_lines([b, b], quiet=False, stream=log, every_s=0.0)) == 6
    lines = log.getvalue().splitlines()
    assert lines[0].endswith("(MiniLM relevance only with --embeddings)") and "3 rows read" in lines[1]
    assert "6 rows read in" in lines[-1]
    quiet = Log()
    list(progress_lines([b], quiet=True, stream=quiet))
    assert quiet.getvalue() == ""
