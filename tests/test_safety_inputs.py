"""Hostile and awkward inputs get a result or one clear line (issue 16, items 11, 15, 16; issue 23, item 7):
deep nesting, huge integers, compressed files, pipes, folders, link loops, unreadable files, unknown
encodings, a blank line before a ragged CSV row, JSON Lines saved as .json. Plus hypothesis fuzzing of
the depth bound and the readers on hostile text."""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from artifactlens.errors import InputError
from artifactlens.io import open_source, parse_label_list, read_table
from artifactlens.io.readers import MAX_JSON_DEPTH, json_depth_error

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ROWS = [{"id": i, "text": f"row {i}", "label": i % 3} for i in range(20)]


def _jsonl(rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def _rows_of(path, **kw) -> list[dict]:
    return read_table(path, **kw).to_pylist()


# -- 11. depth and size -------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [300, 10_000, 100_000])
@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_deep_nesting_is_one_line_not_a_crash(tmp_path, depth, fmt):
    """Run in a child process: before the bound, 100,000 levels crashed the interpreter (pyarrow)."""
    deep = "[" * depth + "]" * depth
    p = tmp_path / f"d.{fmt}"
    if fmt == "jsonl":
        p.write_text(_jsonl(ROWS[:3]) + '{"id": 9, "text": ' + deep + "}\n" + _jsonl(ROWS[3:5]))
    else:
        p.write_text('[{"id": 1, "text": "a"}, {"id": 2, "text": ' + deep + "}]")
    code = ("import sys\nfrom artifactlens.io import read_table\nfrom artifactlens.errors import InputError\n"
            "try:\n    read_table(sys.argv[1])\nexcept InputError as e:\n    print(e)\n    sys.exit(2)\n")
    r = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": SRC})
    assert r.returncode == 2, (r.returncode, r.stderr[-500:])
    assert f"nested more than {MAX_JSON_DEPTH} levels" in r.stdout and len(r.stdout.splitlines()) == 1
    if fmt == "jsonl":
        assert "line 4" in r.stdout


def test_nesting_within_the_bound_and_brackets_in_strings_are_read(tmp_path):
    p = tmp_path / "ok.jsonl"
    nested = json.loads("[" * 50 + "1" + "]" * 50)
    p.write_text(_jsonl([{"id": 1, "text": "[" * 5000, "deep": nested}, {"id": 2, "text": "{" * 900, "deep": None}]))
    rows = _rows_of(p)
    assert [r["id"] for r in rows] == [1, 2] and rows[0]["text"] == "[" * 5000


def test_a_deep_label_list_cell_is_refused_as_a_value_error():
    with pytest.raises(ValueError):
        parse_label_list("[" * 10_000 + "]" * 10_000)


@pytest.mark.parametrize("digits", [20, 25, 400])
def test_huge_integers_keep_their_exact_digits(tmp_path, digits):
    big = "9" * digits
    p = tmp_path / "big.jsonl"
    p.write_text('{"id": 1, "label": ' + big + '}\n{"id": 2, "label": 3}\n')
    labels = [r["label"] for r in _rows_of(p)]
    assert str(labels[0]) == big and labels[1] in (3, "3")  # never 1e+25 or inf
    q = tmp_path / "big.json"
    q.write_text('[{"id": 1, "label": ' + big + '}, {"id": 2, "label": 3}]')
    assert str(_rows_of(q)[0]["label"]) == big


def test_integers_within_64_bits_stay_numbers(tmp_path):
    p = tmp_path / "i.jsonl"
    p.write_text(_jsonl([{"v": 2**63 - 1}, {"v": -(2**63)}, {"v": 7}]))
    assert [r["v"] for r in _rows_of(p)] == [2**63 - 1, -(2**63), 7]


# -- 16. compressed inputs ---------------------------------------------------------------------------------
def test_gzip_and_zstd_inputs_are_read_transparently(tmp_path):
    text = _jsonl(ROWS)
    (tmp_path / "d.jsonl.gz").write_bytes(gzip.compress(text.encode()))
    with pa.output_stream(str(tmp_path / "d.jsonl.zst"), compression="zstd") as f:
        f.write(text.encode())
    csv_text = "id,text\n" + "".join(f"{r['id']},{r['text']}\n" for r in ROWS)
    (tmp_path / "d.csv.gz").write_bytes(gzip.compress(csv_text.encode()))
    for name in ("d.jsonl.gz", "d.jsonl.zst"):
        assert _rows_of(tmp_path / name) == ROWS
    assert [r["text"] for r in _rows_of(tmp_path / "d.csv.gz")] == [r["text"] for r in ROWS]
    src = open_source(tmp_path / "d.jsonl.gz")
    assert [o["id"] for _, o in src.records()] == list(range(20))


def test_other_compression_is_named(tmp_path):
    import bz2
    p = tmp_path / "d.jsonl.bz2"
    p.write_bytes(bz2.compress(_jsonl(ROWS).encode()))
    q = tmp_path / "d.jsonl"  # compressed bytes under a plain name
    q.write_bytes(bz2.compress(_jsonl(ROWS).encode()))
    for path in (p, q):
        with pytest.raises(InputError, match="bz2-compressed"):
            open_source(path)


# -- 15/16. files that are not plain readable files ---------------------------------------------------------
def test_a_fifo_input_is_told_so(tmp_path):
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="named pipe"):
        open_source(fifo)


def test_a_plain_folder_is_not_told_it_needs_datasets(tmp_path):
    (tmp_path / "a.jsonl").write_text(_jsonl(ROWS))
    with pytest.raises(InputError) as e:
        open_source(tmp_path)
    assert "datasets" not in str(e.value).split("(expected")[0] and "a.jsonl" in str(e.value)


def test_link_loops_and_dangling_links(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(InputError, match="loop of symbolic links"):
        open_source(a)
    d = tmp_path / "dangling.jsonl"
    d.symlink_to(tmp_path / "gone.jsonl")
    with pytest.raises(InputError, match="link to nothing"):
        open_source(d)
    with pytest.raises(InputError, match="no such file"):
        open_source(tmp_path / "never.jsonl")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_input_is_one_line(tmp_path):
    p = tmp_path / "secret.jsonl"
    p.write_text(_jsonl(ROWS))
    p.chmod(0)
    with pytest.raises(InputError, match="cannot read: permission denied"):
        open_source(p)


def test_an_unknown_encoding_names_the_option(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text(_jsonl(ROWS))
    with pytest.raises(InputError, match="--encoding.*unknown encoding 'utf-9'"):
        open_source(p, encoding="utf-9")


def test_cli_unknown_encoding_and_folder_json(run_cli, tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text(_jsonl({"text": f"t {i}", "human": "[1, 0, 1]", "llm": "[1, 1, 1]"} for i in range(20)))
    code, _, err = run_cli("audit", "labels", p, "--human", "human", "--llm", "llm", "--text", "text",
                           "--encoding", "utf-9", "--quiet")
    assert code == 2 and "unknown encoding" in err and "Traceback" not in err


def test_a_blank_line_before_a_ragged_csv_row_reports_the_row(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("id,text\n1,a\n\n2,b\n3,c,extra\n4,d\n")
    with pytest.raises(InputError) as e:
        list(open_source(p).batches())
    assert e.value.line == 5 and "3 fields" in str(e.value)
    q = tmp_path / "q.csv"  # a quoted field over two lines before the ragged row
    q.write_text('id,text\n1,"two\nlines"\n\n2,b,extra\n')
    with pytest.raises(InputError) as e:
        list(open_source(q).batches())
    assert e.value.line == 5


# -- issue 23, item 7: JSON Lines saved as .json ---------------------------------------------------------------
def test_json_lines_saved_as_json_are_read(tmp_path):
    p = tmp_path / "halueval.json"
    rows = [{"knowledge": f"k{i}", "question": f"q{i}?", "answer": f"a{i}"} for i in range(12)]
    p.write_text(_jsonl(rows))
    src = open_source(p)
    assert src.format == "jsonl" and read_table(p).to_pylist() == rows
    for text, fmt in (('[{"a": 1},\n{"a": 2}]', "json"), ('{"a": 1}', "json"), ('{\n "data": [{"a": 1}]\n}', "json"),
                      ('{"data": [{"a": 1}]}\n', "json")):
        (tmp_path / "x.json").write_text(text)
        assert open_source(tmp_path / "x.json").format == fmt, text


# -- fuzzing ---------------------------------------------------------------------------------------------------
json_value = st.recursive(st.one_of(st.none(), st.integers(), st.text(alphabet='[]{}"\\ a,:\n\t', max_size=8)),
                          lambda kids: st.one_of(st.lists(kids, max_size=3),
                                                 st.dictionaries(st.text(alphabet='[{"\\a', max_size=3), kids,
                                                                 max_size=3)), max_leaves=40)


def _depth(v) -> int:
    if isinstance(v, list):
        return 1 + max((_depth(x) for x in v), default=0)
    if isinstance(v, dict):
        return 1 + max((_depth(x) for x in v.values()), default=0)
    return 0


@FUZZ
@given(values=st.lists(json_value, min_size=1, max_size=5), limit=st.integers(0, 6))
def test_depth_bound_is_exact_on_json_lines(values, limit):
    """Brackets, quotes, backslashes and newlines inside strings never count; every line is measured."""
    data = "".join(json.dumps(v) + "\n" for v in values).encode()
    got = json_depth_error(data, 1, limit)
    first = next(((i + 1, _depth(v)) for i, v in enumerate(values) if _depth(v) > limit), None)
    assert got == first


hostile = st.one_of(st.text(max_size=200), st.builds(lambda d: "[" * d + "]" * d, st.integers(0, 2000)),
                    st.builds(lambda n: "9" * n, st.integers(1, 600)))


@FUZZ
@given(cells=st.lists(hostile, min_size=1, max_size=6), raw=st.booleans(), name=st.sampled_from(["d.jsonl", "d.json"]))
def test_readers_on_hostile_values_read_or_raise_input_error(tmp_path_factory, cells, raw, name):
    p = tmp_path_factory.mktemp("h") / name
    if raw:  # the values as raw JSON (may be invalid or too deep)
        body = "\n".join('{"v": ' + c + "}" for c in cells) if name.endswith("l") else \
            "[" + ",".join('{"v": ' + c + "}" for c in cells) + "]"
    else:
        body = _jsonl({"v": c} for c in cells) if name.endswith("l") else json.dumps([{"v": c} for c in cells])
    p.write_text(body + "\n", encoding="utf-8", errors="surrogatepass")
    try:
        n = sum(b.num_rows for b in open_source(p).batches())
    except InputError as e:
        assert "\n" not in str(e)
        return
    assert n == len(cells)


@FUZZ
@given(data=st.binary(max_size=200), ext=st.sampled_from([".jsonl.gz", ".csv.gz", ".json", ".jsonl.zst"]))
def test_compressed_and_raw_bytes_read_or_raise_input_error(tmp_path_factory, data, ext):
    p = tmp_path_factory.mktemp("z") / f"d{ext}"
    p.write_bytes(gzip.compress(data) if ext.endswith(".gz") else data)
    try:
        list(open_source(p).batches())
    except InputError:
        pass
