"""Loaders: every format, the public conventions, and each bad input with its message."""
from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from artifactlens.errors import InputError
from artifactlens.io import open_source, parse_choice, parse_codes, parse_label_list, read_table, require_columns
from artifactlens.io.writers import RowWriter

ROWS = [{"id": i, "text": f"item {i}", "human": "[1.0, 2.0, nan]"} for i in range(25)]


def _write(path, fmt, rows=ROWS):
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif fmt == "json":
        path.write_text(json.dumps(rows))
    elif fmt == "csv":
        import csv
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    elif fmt == "parquet":
        pq.write_table(pa.Table.from_pylist(rows), path)
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "parquet"])
def test_every_format_streams_in_batches_and_counts_rows(tmp_path, fmt):
    p = _write(tmp_path / f"d.{fmt}", fmt)
    src = open_source(p, batch_size=10)
    batches = list(src.batches())
    assert [b.num_rows for b in batches] == [10, 10, 5]
    assert src.rows_read == 25
    rows = pa.Table.from_batches(batches).to_pylist()
    assert [str(r["id"]) for r in rows] == [str(i) for i in range(25)]
    assert rows[3]["text"] == "item 3"
    assert len(src.sha256) == 64


def test_json_object_wrapping_a_list(tmp_path):
    p = tmp_path / "d.json"
    p.write_text(json.dumps({"meta": 1, "data": ROWS[:3]}))
    assert read_table(p).num_rows == 3


def test_hf_dataset_folder_needs_datasets_or_reads(tmp_path):
    d = tmp_path / "ds"
    d.mkdir()
    with pytest.raises(InputError, match="a folder, not a data file"):  # a plain folder is no dataset
        open_source(d)
    (d / "dataset_info.json").write_text("{}")
    (d / "state.json").write_text("{}")
    src = open_source(d)
    assert src.format == "hf_dataset"
    try:
        import datasets  # noqa: F401
    except ImportError:
        with pytest.raises(InputError, match="pip install datasets"):
            list(src.batches())
    else:  # pragma: no cover - only where datasets is installed
        ds = datasets.Dataset.from_list(ROWS)
        ds.save_to_disk(str(tmp_path / "x"))
        assert read_table(tmp_path / "x").num_rows == 25


def test_label_list_cells():
    assert parse_label_list("[3.0, 4.0, nan]") == [3.0, 4.0, None]
    assert parse_label_list("[3, 4.0]") == [3.0, 4.0]
    assert parse_label_list("['pos', 'neg', \"neu\"]") == ["pos", "neg", "neu"]
    assert parse_label_list('["a, b", "c"]') == ["a, b", "c"]
    assert parse_label_list("[None, 'x']") == [None, "x"]
    assert parse_label_list("[]") == [] and parse_label_list("") == [] and parse_label_list(None) == []
    assert parse_label_list("pos") == ["pos"] and parse_label_list(2) == [2.0]
    assert parse_label_list([1, "a", None]) == [1.0, "a", None]
    for bad in ("[1, 2", "[[1], 2]", "[__import__('os')]"[:-1]):
        with pytest.raises(ValueError):
            parse_label_list(bad)


def test_label_list_is_not_evaluated(tmp_path, monkeypatch):
    # code that eval would run is refused as a label list, never executed
    monkeypatch.chdir(tmp_path)
    for code in ("[__import__('os').mkdir('pwned'), 1]", "[open('pwned', 'w')]"):
        with pytest.raises(ValueError):
            parse_label_list(code)
    assert not (tmp_path / "pwned").exists()
    # a bare name is a label, not a variable lookup
    assert parse_label_list("[os, sys]") == ["os", "sys"]


def test_choice_codings():
    assert [parse_choice(v) for v in ("model_a", "model_b", "tie", "tie (inconsistent)", "A", "b")] == \
        ["a", "b", "tie", "inconsistent", "a", "b"]
    assert [parse_choice(v) for v in (0, 1, 2, "0", 1.0)] == ["a", "b", "tie", "a", "b"]
    assert parse_choice("garbage") is None and parse_choice("") is None and parse_choice(None) is None
    codes = parse_codes("0=tie,1=a,2=b")
    assert [parse_choice(v, codes) for v in (0, "1", 2.0, 3, "model_a")] == ["tie", "a", "b", None, "a"]
    with pytest.raises(ValueError):
        parse_codes("0=left")


# ---- bad input: one clear message each -------------------------------------------------------------------

def test_missing_file():
    with pytest.raises(InputError, match="no such file"):
        open_source("/nonexistent/x.jsonl")


def test_unknown_extension(tmp_path):
    p = tmp_path / "x.xlsx"
    p.write_text("a")
    with pytest.raises(InputError, match=r"cannot tell the format.*expected a file ending in"):
        open_source(p)


def test_empty_file(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("")
    with pytest.raises(InputError, match="the file is empty"):
        list(open_source(p).batches())


def test_header_only(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a,b\n")
    with pytest.raises(InputError, match="no data rows"):
        list(open_source(p).batches())


def test_jsonl_cut_in_half_names_the_line(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"a": 1}\n{"a": 2}\n{"a": \n')
    with pytest.raises(InputError) as e:
        list(open_source(p).batches())
    assert "line 3" in str(e.value) and "not valid JSON" in str(e.value) and str(p) in str(e.value)


def test_jsonl_bad_line_can_be_skipped_and_counted(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"a": 1}\n{"a": \n{"a": 3}\n')
    src = open_source(p, on_bad_line="skip")
    assert sum(b.num_rows for b in src.batches()) == 2
    assert src.skipped == {"line is not valid JSON": 1}


def test_jsonl_line_that_is_not_an_object(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"a": 1}\n[1, 2]\n')
    with pytest.raises(InputError, match=r"line 2: line holds a list, not an object"):
        list(open_source(p).batches())


def test_invalid_utf8_names_the_line(tmp_path):
    p = tmp_path / "x.csv"
    p.write_bytes(b"a,b\n1,ok\n2,caf\xe9\n")
    with pytest.raises(InputError) as e:
        list(open_source(p).batches())
    assert "line 3" in str(e.value) and "utf-8" in str(e.value) and "--encoding" in str(e.value)
    # with the right encoding it reads
    rows = read_table(p, encoding="cp1252").to_pylist()
    assert rows[1]["b"] == "café"


def test_csv_row_with_wrong_field_count(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(InputError, match=r"line 3: a row with 3 fields \(expected 2 fields"):
        list(open_source(p).batches())


def test_csv_bom_and_crlf(tmp_path):
    p = tmp_path / "x.csv"
    p.write_bytes("\ufeffa,b\r\n1,x\r\n2,y\r\n".encode("utf-8"))
    t = read_table(p)
    assert t.column_names == ["a", "b"] and t.column("b").to_pylist() == ["x", "y"]


def test_missing_column_lists_found_and_closest():
    with pytest.raises(InputError) as e:
        require_columns(["text", "human_labels", "llm"], {"--human": "human_label"}, path="d.csv")
    msg = str(e.value)
    assert "column 'human_label'" in msg and "columns found: text, human_labels, llm" in msg
    assert "did you mean 'human_labels'" in msg


def test_jsonl_types_kept_consistent_across_batches(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"x": 1, "t": "a"}\n{"x": 2}\n{"x": null, "t": "c", "new": 5}\n')
    batches = list(open_source(p, batch_size=1).batches())
    assert all(b.schema.field("x").type == pa.int64() for b in batches)
    assert batches[1].column("t").to_pylist() == [None]
    assert batches[2].column("new").to_pylist() == [5]


def test_mixed_types_in_one_batch_become_text(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"x": 1}\n{"x": "two"}\n{"x": [3]}\n')
    assert read_table(p).column("x").to_pylist() == ["1", "two", "[3]"]


@pytest.mark.parametrize("ext", [".parquet", ".jsonl", ".csv"])
def test_row_writer_keeps_every_row_and_is_atomic(tmp_path, ext):
    out = tmp_path / f"flags{ext}"
    b = pa.RecordBatch.from_pylist([{"a": 1, "l": [1, 2]}, {"a": 2, "l": None}])
    with RowWriter(out) as w:
        w.write(b)
        w.write(b)
    assert w.rows == 4
    assert read_table(out).num_rows == 4
    # an exception inside leaves the previous file untouched and no temp files
    before = out.read_bytes()
    with pytest.raises(RuntimeError):
        with RowWriter(out) as w:
            w.write(b)
            raise RuntimeError("interrupted")
    assert out.read_bytes() == before
    assert [x.name for x in tmp_path.iterdir()] == [out.name]


def test_row_writer_rejects_unknown_extension(tmp_path):
    with pytest.raises(InputError, match="expected an output name ending in"):
        RowWriter(tmp_path / "x.xlsx")


def test_outputs_get_ordinary_file_permissions(tmp_path):
    import os
    from artifactlens.io import atomic_write_text
    mask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "r.json", "{}")
        with RowWriter(tmp_path / "f.jsonl") as w:
            w.write(pa.RecordBatch.from_pylist([{"a": 1}]))
    finally:
        os.umask(mask)
    assert oct((tmp_path / "r.json").stat().st_mode & 0o777) == oct(0o644)
    assert oct((tmp_path / "f.jsonl").stat().st_mode & 0o777) == oct(0o644)
