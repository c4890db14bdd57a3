"""Bad input, table-driven: every loader format x every messy-file case x every audit that exists.

Each case runs the real CLI (in-process, ``run_cli``) and must end in ONE of two ways:

- exit 0 with a correct result: ``input.rows_read`` equals the data rows in the file and every row is
  either used or counted in ``input.rows_skipped`` by reason (``rows_used + sum(skipped) == rows_read``);
- exit 2 with one line on stderr, ``artifactlens: error: ...``, naming the file, the line/row and the
  column where the case knows them, and what was expected; never a traceback.

Anything else (another exit code, an exception escaping ``main``) fails the case. A case may also pin
which of the two it must be (``ok`` / ``error``), and what the message or result must hold.

Audits are described in ``SPECS`` (how to write a small valid input of that kind and the CLI arguments);
kinds not registered are skipped with the reason (``kind not in artifactlens.api.registry()``).
The number of cases is ``len(CASES)`` (printed by ``python tests/test_bad_input.py``).
"""
from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from typing import Callable

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from artifactlens.api import registry
from support.bad_input import (BIG, FORMATS, N, SPECS, TEXT_FORMATS, UNICODE, built, data_line, to_bytes, write)

# ---------------------------------------------------------------------------------------------------------
# The cases: each writes a file and says what must come out
# ---------------------------------------------------------------------------------------------------------
@dataclass
class Expect:
    outcome: str = "either"              # ok | error | either
    rows: int | None = N                 # rows_read when ok
    error_has: tuple = ()                # substrings of the one-line error
    check: Callable | None = None        # check(result_json, path, tmp_path, baseline) when ok


def c_valid(spec, fmt, p):
    write(p, [spec.row(i) for i in range(N)], fmt)
    return Expect("ok")


def c_empty(spec, fmt, p):
    p.write_bytes(b"")
    return Expect("error", error_has=(("empty", "no records", "no data"),))


def c_header_only(spec, fmt, p):
    rows = [spec.row(0)]
    if fmt in ("csv", "tsv"):
        p.write_bytes(to_bytes(rows, fmt).split(b"\n")[0] + b"\n")
    elif fmt == "jsonl":
        p.write_bytes(b"\n  \n\n")
    elif fmt == "json":
        p.write_bytes(b"[]")
    else:
        pq.write_table(pa.Table.from_pylist(rows).slice(0, 0), p)
    return Expect("error", error_has=(("row", "records", "empty"),))


def c_missing_column(spec, fmt, p):
    write(p, [{k: v for k, v in spec.row(i).items() if k != spec.main} for i in range(N)], fmt)
    return Expect(spec.missing, error_has=(spec.main, "expected"))


def _same_metrics(result, path, tmp, base):
    assert {k: v["value"] for k, v in result["metrics"].items()} == \
        {k: v["value"] for k, v in base["metrics"].items()}


def c_extra_columns(spec, fmt, p):
    write(p, [{"zz_extra": i, **spec.row(i), "notes": "ignore me", "nested": {"x": [i]}} for i in range(N)], fmt)
    return Expect("ok", check=_same_metrics)


def c_wrong_types(spec, fmt, p):
    rows = [spec.row(i) for i in range(N)]
    for i in (range(2, N) if fmt == "parquet" else (2, 5)):  # Parquet: one type per column
        rows[i][spec.main] = spec.wrong(i)
    if fmt == "parquet":
        rows = rows[2:]
    write(p, rows, fmt)
    return Expect("either", rows=N - 2 if fmt == "parquet" else N,
                  error_has=(f"column '{spec.main}'", "row 0" if fmt == "parquet" else "row 2"))


def c_numbers_for_text(spec, fmt, p):
    rows = [spec.row(i) for i in range(N)]
    for i, r in enumerate(rows):
        r[spec.text] = i * 1.5
    write(p, rows, fmt)
    return Expect("either", error_has=(f"column '{spec.text}'",))


def c_none_everywhere(spec, fmt, p):
    rows = [{k: None for k in spec.row(i)} for i in range(N)]
    if fmt == "parquet":  # all-null columns: Parquet keeps them as the null type
        pq.write_table(pa.Table.from_pylist(rows), p)
    else:
        write(p, rows, fmt)
    return Expect("either")


def c_nan_everywhere(spec, fmt, p):
    rows = [{k: ("nan" if k != "id" else v) for k, v in spec.row(i).items()} for i in range(N)]
    write(p, rows, fmt)
    return Expect("either")


def c_some_none(spec, fmt, p):
    rows = [spec.row(i) for i in range(N)]
    for i in (1, 4, 7):
        rows[i][spec.main] = None
    write(p, rows, fmt)
    return Expect("either")


def _label_cells(spec, fmt, p, edits: dict) -> None:
    """Write valid rows with ``edits`` {(row, label column index): cell}; skip kinds without label lists."""
    if not spec.labels:
        pytest.skip(f"{spec.kind} has no label-list cells")
    rows = [spec.row(i) for i in range(N)]
    for (i, j), cell in edits.items():
        rows[i][spec.labels[j]] = cell
    write(p, rows, fmt)


def c_unparseable_labels(spec, fmt, p):
    _label_cells(spec, fmt, p, {(3, 0): "['a', 'b'"})
    return Expect("error", error_has=("row 3", f"column '{spec.labels[0]}'", "expected"))


def c_nested_labels(spec, fmt, p):
    _label_cells(spec, fmt, p, {(6, 1): "[['a'], {'b': 1}]"})
    return Expect("error", error_has=("row 6", f"column '{spec.labels[1]}'"))


def c_mixed_label_types(spec, fmt, p):
    _label_cells(spec, fmt, p, {(0, 0): "[1, 'a', 2.5, true, null]", (1, 1): "[3, 3.0, '3', 'x']"})
    return Expect("either", error_has=(f"column '{spec.labels[0]}'",))


def _big_kept(result, path, tmp, base):
    """The 10 MB field is not truncated silently: the flags file holds it whole."""
    if not SPECS[result["kind"]].flags_per_row:
        return
    flags = pq.read_table(tmp / "flags.parquet")
    assert flags.num_rows == N
    assert max(len(v or "") for v in flags.column(SPEC_TEXT[result["kind"]]).to_pylist()) >= BIG


SPEC_TEXT = {k: s.text for k, s in SPECS.items()}


def c_big_field(spec, fmt, p):
    rows = [spec.row(i) for i in range(N)]
    rows[4][spec.text] = ("big field \u00e9 " * (BIG // 11 + 1))[:BIG + 5]
    write(p, rows, fmt)
    return Expect("either", check=_big_kept, error_has=(("line", "row"),))


def c_invalid_utf8(spec, fmt, p):
    if fmt not in TEXT_FORMATS:
        pytest.skip("binary format")
    rows = [spec.row(i) for i in range(N)]
    rows[5][spec.text] = "MARKER"
    p.write_bytes(to_bytes(rows, fmt).replace(b"MARKER", b"bad \xff\xfe bytes"))
    line = data_line(fmt, 5) if fmt != "json" else None
    return Expect("error", error_has=("utf-8",) + ((f"line {line}",) if line else ("line",)))


def c_latin1_declared(spec, fmt, p):
    """A cp1252 file read with --encoding cp1252 works (the hint the utf-8 error gives)."""
    if fmt not in TEXT_FORMATS:
        pytest.skip("binary format")
    rows = [spec.row(i) for i in range(N)]
    rows[5][spec.text] = "café crème déjà vu"
    p.write_bytes(to_bytes(rows, fmt).decode("utf-8").encode("cp1252"))
    return Expect("ok", check=lambda r, *_: r["input"]["rows_read"] == N)


def c_bom(spec, fmt, p):
    if fmt not in TEXT_FORMATS:
        pytest.skip("binary format")
    p.write_bytes(b"\xef\xbb\xbf" + to_bytes([spec.row(i) for i in range(N)], fmt))
    return Expect("ok", check=_same_metrics)


def c_crlf(spec, fmt, p):
    if fmt not in TEXT_FORMATS:
        pytest.skip("binary format")
    p.write_bytes(to_bytes([spec.row(i) for i in range(N)], fmt, newline="\r\n"))
    return Expect("ok", check=_same_metrics)


def c_lone_cr(spec, fmt, p):
    if fmt not in ("csv", "jsonl"):
        pytest.skip("CR-only line ends: csv and jsonl")
    p.write_bytes(to_bytes([spec.row(i) for i in range(N)], fmt, newline="\r"))
    return Expect("ok", check=_same_metrics)


def c_cut_in_half(spec, fmt, p):
    if fmt not in ("jsonl", "json"):
        pytest.skip("JSON only")
    data = to_bytes([spec.row(i) for i in range(N)], fmt)
    if fmt == "jsonl":
        lines = data.split(b"\n")
        lines[7] = lines[7][: len(lines[7]) // 2]
        p.write_bytes(b"\n".join(lines))
        return _bad_record(spec, ("line 8", "not valid JSON"))
    p.write_bytes(data[: len(data) // 2])
    return Expect("error", error_has=("line", "not valid JSON"))


def c_truncated_tail(spec, fmt, p):
    """The file ends in the middle of its last row (an interrupted copy)."""
    data = to_bytes([spec.row(i) for i in range(N)], fmt if fmt != "parquet" else "jsonl")
    if fmt == "parquet":
        full = io.BytesIO()
        pq.write_table(pa.Table.from_pylist([spec.row(i) for i in range(N)]), full)
        p.write_bytes(full.getvalue()[:-40])
        return Expect("error", error_has=("Parquet",))
    p.write_bytes(data[:-9])
    return Expect("either", rows=N, error_has=(("line", "row"),))


def _one_skipped(result, path, tmp, base):
    assert sum(result["input"]["rows_skipped"].values()) >= 1, result["input"]


def _bad_record(spec, error_has):
    """One bad line: an error naming it, or (kinds that skip bad records) a result counting it."""
    if spec.skips_bad_records:
        return Expect("ok", rows=None, check=_one_skipped)
    return Expect("error", error_has=error_has)


def c_ragged_row(spec, fmt, p):
    if fmt not in ("csv", "tsv"):
        pytest.skip("delimited text only")
    data = to_bytes([spec.row(i) for i in range(N)], fmt).split(b"\n")
    data[4] += b",surplus" if fmt == "csv" else b"\tsurplus"
    p.write_bytes(b"\n".join(data))
    return Expect("error", error_has=("line 5", "fields"))


def c_not_objects(spec, fmt, p):
    if fmt not in ("jsonl", "json"):
        pytest.skip("JSON only")
    rows = [spec.row(i) for i in range(N)]
    if fmt == "jsonl":
        lines = to_bytes(rows, fmt).split(b"\n")
        lines[2] = b'["a", "list", "line"]'
        p.write_bytes(b"\n".join(lines))
        return _bad_record(spec, ("line 3", "object"))
    p.write_bytes(b'"just a string"')
    return Expect("error", error_has=("expected",))


def c_schema_per_part(spec, fmt, p):
    """Parquet row groups whose contents differ: all nulls in one, values in the next; JSON Lines whose
    types change after the first block (a number column turns into text)."""
    rows = [spec.row(i) for i in range(N)]
    if fmt == "parquet":
        table = pa.Table.from_pylist(rows)
        with pq.ParquetWriter(p, table.schema) as w:
            first = table.slice(0, 4)
            nulled = first.set_column(first.schema.get_field_index(spec.text), spec.text,
                                      pa.nulls(4, table.schema.field(spec.text).type))
            w.write_table(nulled)
            w.write_table(table.slice(4, 4))
            w.write_table(table.slice(8))
        return Expect("ok")
    if fmt not in ("jsonl", "json"):
        pytest.skip("typed formats only")
    for i, r in enumerate(rows):
        r["extra_num"] = i if i < 6 else f"text {i}"
    write(p, rows, fmt)
    return Expect("ok")


def c_duplicate_rows(spec, fmt, p):
    rows = [spec.row(i) for i in range(N)]
    write(p, rows + rows, fmt)
    return Expect("ok", rows=2 * N)


def _unicode_kept(result, path, tmp, base):
    if not SPECS[result["kind"]].flags_per_row:
        return
    flags = pq.read_table(tmp / "flags.parquet")
    col = SPEC_TEXT[result["kind"]]
    assert flags.column(col).to_pylist() == UNICODE


def c_unicode(spec, fmt, p):
    rows = [spec.row(i) for i in range(N)]
    for i, r in enumerate(rows):
        r[spec.text] = UNICODE[i]
    write(p, rows, fmt)
    return Expect("ok", check=_unicode_kept)


def c_unicode_column_names(spec, fmt, p):
    rows = [{"ключ 🔑": i, **spec.row(i), "名前": "x"} for i in range(N)]
    write(p, rows, fmt)
    return Expect("ok", check=_same_metrics)


def c_nul_and_controls(spec, fmt, p):
    rows = [spec.row(i) for i in range(N)]
    rows[3][spec.text] = "nul\x00byte \x07bell \x1b[31mred\x1b[0m"
    write(p, rows, fmt)
    return Expect("either", error_has=(("line", "row"),))


def c_one_row(spec, fmt, p):
    write(p, [spec.row(0)], fmt)
    return Expect("either", rows=1)


CASES = {name[2:]: fn for name, fn in globals().items() if name.startswith("c_") and callable(fn)}


# ---------------------------------------------------------------------------------------------------------
# The oracle
# ---------------------------------------------------------------------------------------------------------
def run_case(run_cli, spec, fmt, case, tmp_path, baseline=None):
    p = tmp_path / f"input.{fmt}"
    expect = CASES[case](spec, fmt, p)
    out_json = tmp_path / "result.json"
    argv = ["audit", spec.kind, p, *spec.args, "--json", out_json, "--flags", tmp_path / "flags.parquet", "--quiet"]
    if case == "latin1_declared":
        argv += ["--encoding", "cp1252"]
    code, out, err = run_cli(*argv)
    assert "Traceback" not in err, err
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1, f"{case}/{fmt}: more than one line on stderr: {err!r}"
        msg = lines[0]
        assert msg.startswith("artifactlens: error: "), msg
        assert expect.outcome != "ok", f"{case}/{fmt}: expected a result, got: {msg}"
        assert p.name in msg, f"the error does not name the file: {msg}"
        for s in expect.error_has:  # a tuple entry: any one of its strings
            assert any(x in msg for x in ((s,) if isinstance(s, str) else s)), f"{case}/{fmt}: {s!r} not in {msg!r}"
        assert "expected" in msg, f"the error does not say what was expected: {msg}"
        assert not out_json.exists(), "an error left a result behind"
        return None
    assert code == 0, f"{case}/{fmt}: exit {code}; stderr: {err}"
    assert expect.outcome != "error", f"{case}/{fmt}: expected an error, got a result"
    result = json.loads(out_json.read_text(encoding="utf-8"))
    info = result["input"]
    if expect.rows is not None:
        assert info["rows_read"] == expect.rows, (case, fmt, info)
    skips = info["rows_skipped"].values()
    if spec.disjoint_skips:
        assert info["rows_used"] + sum(skips) == info["rows_read"], f"{case}/{fmt}: rows unaccounted for: {info}"
    else:  # a row may be left out of some figures only: each reason counts at most every row
        assert all(0 <= n <= info["rows_read"] for n in skips), info
        assert info["rows_used"] + max(skips, default=0) >= info["rows_read"], f"{case}/{fmt}: rows lost: {info}"
    if expect.check is not None:
        expect.check(result, p, tmp_path, baseline)
    return result


@pytest.fixture(scope="module")
def baselines(tmp_path_factory):
    """The valid input's result, per kind and format (for cases that must not change the figures)."""
    cache = {}

    def get(run_cli, spec, fmt):
        if (spec.kind, fmt) not in cache:
            cache[(spec.kind, fmt)] = run_case(run_cli, spec, fmt, "valid",
                                               tmp_path_factory.mktemp(f"base_{spec.kind}_{fmt}"))
        return cache[(spec.kind, fmt)]
    return get


# Cases decided by the reader alone (cheap): run for every format of every kind.
READER_CASES = {"empty", "header_only", "invalid_utf8", "cut_in_half", "truncated_tail", "ragged_row", "not_objects",
                "missing_column"}

# The content cases a slow audit (seconds a run) gets, on jsonl.
SLOW_KIND_CASES = {"valid", "extra_columns", "wrong_types", "numbers_for_text", "none_everywhere", "big_field",
                   "unicode", "duplicate_rows", "bom", "nul_and_controls", "schema_per_part"}

# Bugs this suite found in files owned by others, not fixed yet: strict xfail, so the fix turns them red
# until the marker goes.
KNOWN_BUGS: dict = {}  # (case, fmt) -> reason; none open (the 10 MB CSV field was fixed in readers.py)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("kind", list(SPECS))
def test_bad_input(run_cli, baselines, tmp_path, request, kind, case, fmt):
    built(kind)
    if fmt not in SPECS[kind].formats:
        pytest.skip(f"the {kind} audit reads {', '.join(SPECS[kind].formats)}")
    if SPECS[kind].slow and case not in READER_CASES and (fmt != "jsonl" or case not in SLOW_KIND_CASES):
        pytest.skip(f"the {kind} audit takes seconds a run: core content cases on jsonl only (CI budget)")
    if case == "big_field" and fmt not in (("jsonl", "csv") if kind in ("labels", "instructions") else ("jsonl",)):
        pytest.skip("10 MB field: jsonl (and csv for the fast audits) only (CI budget; the readers share paths)")
    if (case, fmt) in KNOWN_BUGS:
        request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[(case, fmt)]))
    spec = SPECS[kind]
    base = baselines(run_cli, spec, fmt) if case != "valid" else None
    run_case(run_cli, spec, fmt, case, tmp_path, base)


def test_every_audit_kind_has_a_spec():
    """A new audit gets a row in SPECS (or this fails): nothing escapes the bad-input suite."""
    missing = [k for k in registry() if k not in SPECS]
    assert not missing, f"no bad-input spec for {missing}"


if __name__ == "__main__":
    print(f"{len(CASES)} cases x {len(FORMATS)} formats x {len(SPECS)} audits "
          f"= {len(CASES) * len(FORMATS) * len(SPECS)} combinations", file=sys.stderr)
