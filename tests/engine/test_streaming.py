"""The JSONL fast path (pyarrow.json over blocks of lines) against the line-by-line path it replaces:
same rows, same types, same errors with the same line numbers, one schema across batches."""
from __future__ import annotations

import json

import pyarrow as pa
import pytest

from artifactlens.errors import InputError
from artifactlens.io import open_source, readers
from conftest import shared_path


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of ~200 bytes so a small file spans many blocks (and many fallbacks)."""
    monkeypatch.setattr(readers, "JSONL_BLOCK_BYTES", 200)


def _both(path, bs=3, **kw):
    fast = open_source(path, batch_size=bs, **kw)
    fast_batches = list(fast.batches())
    slow = open_source(path, batch_size=bs, **kw)
    slow_table = pa.Table.from_batches(list(slow._batches_from_records(bs)))
    return fast, fast_batches, slow_table


def _rows():
    return [{"id": i, "instruction": f"Write a poem about {['cats', 'rain'][i % 2]} ☃", "input": "" if i % 3 else "ctx",
             "output": "Roses are red.\u2028 Next" if i % 5 == 0 else f"It is {i * 0.5}",
             "date": "2024-01-0%d" % (1 + i % 9), "meta": {"model": "gpt", "turns": [i, i + 1]}}
            for i in range(40)]


def test_fast_path_equals_line_path_on_many_blocks(tmp_path, small_blocks):
    p = tmp_path / "d.jsonl"
    text = "".join(json.dumps(r, ensure_ascii=False) + ("\r\n" if i % 7 == 0 else "\n") + ("\n" if i == 11 else "")
                   for i, r in enumerate(_rows()))
    p.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    src, batches, slow = _both(p)
    assert [b.num_rows for b in batches] == [3] * 13 + [1]  # exact batch sizes across block boundaries
    assert len({b.schema for b in batches}) == 1
    fast = pa.Table.from_batches(batches)
    assert fast.schema.field("date").type == pa.string()  # not pyarrow's inferred timestamp
    assert fast.select(slow.column_names).to_pylist() == slow.to_pylist() == _rows()
    assert src.rows_read == 40


def test_mixed_types_fall_back_and_become_text_as_before(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text('{"x": 1, "y": NaN}\n{"x": "two"}\n{"x": [3]}\n')
    src, batches, slow = _both(p, bs=10)
    fast = pa.Table.from_batches(batches)
    assert fast.column("x").to_pylist() == slow.column("x").to_pylist() == ["1", "two", "[3]"]
    assert str(fast.column("y").to_pylist()) == str(slow.column("y").to_pylist()) == "[nan, None, None]"


def test_new_and_late_typed_columns_only_grow_the_schema(tmp_path, small_blocks):
    p = tmp_path / "d.jsonl"
    rows = [{"a": i, "n": None} for i in range(20)] + [{"a": 20, "n": 1.5, "late": "x"}]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    batches = list(open_source(p, batch_size=4).batches())
    # a streaming reader cannot retype batches it has already handed out: a null column takes its type
    # and a new column appears when first seen; a typed column never changes type
    assert {str(b.schema.field("a").type) for b in batches} == {"int64"}
    assert [b.schema.names for b in batches][-1] == ["a", "n", "late"]
    t = pa.concat_tables([pa.Table.from_batches([b]) for b in batches], promote_options="permissive")
    assert t.schema.field("n").type == pa.float64() and t.column("late").to_pylist()[-1] == "x"
    assert t.column("a").to_pylist() == list(range(21))


@pytest.mark.parametrize("bad,line,msg", [
    ('{"a": \n', 15, "not valid JSON"),
    ('[1, 2]\n', 15, "line holds a list, not an object"),
])
def test_bad_line_in_a_late_block_is_named(tmp_path, small_blocks, bad, line, msg):
    p = tmp_path / "d.jsonl"
    good = ['{"a": %d}\n' % i for i in range(30)]
    p.write_text("".join(good[:line - 1]) + bad + "".join(good[line - 1:]))
    with pytest.raises(InputError) as e:
        list(open_source(p).batches())
    assert f"line {line}:" in str(e.value) and msg in str(e.value)
    src = open_source(p, on_bad_line="skip")
    assert sum(b.num_rows for b in src.batches()) == 30 and sum(src.skipped.values()) == 1


def test_bad_utf8_in_a_late_block_is_named(tmp_path, small_blocks):
    p = tmp_path / "d.jsonl"
    p.write_bytes(b"".join(b'{"a": "ok %d"}\n' % i for i in range(25)) + b'{"a": "caf\xe9"}\n')
    with pytest.raises(InputError, match=r"line 26: bytes that are not utf-8 \(byte 0xe9\)"):
        list(open_source(p).batches())
    t = pa.Table.from_batches(list(open_source(p, encoding="cp1252").batches()))
    assert t.column("a").to_pylist()[-1] == "café"


def test_type_conflict_after_the_first_batch_names_the_row(tmp_path, small_blocks):
    p = tmp_path / "d.jsonl"
    p.write_text("".join('{"x": %d}\n' % i for i in range(20)) + '{"x": {"k": 1}}\n')
    with pytest.raises(InputError, match=r"column 'x': values of type struct"):
        list(open_source(p, batch_size=5).batches())


def test_real_self_instruct_fast_equals_line_path():
    p = shared_path("self_instruct", "user_oriented_instructions.jsonl")
    src, batches, slow = _both(p, bs=64)
    fast = pa.Table.from_batches(batches)
    assert fast.num_rows == slow.num_rows == 252
    assert fast.select(slow.column_names).to_pylist() == slow.to_pylist()
