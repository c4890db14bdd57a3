"""Outputs never destroy data (issue 16, items 1, 2, 3, 6, 10, 15): an output naming an input is refused;
a write commits only on success; devices and pipes are written, never replaced; stale temporary files of
ours are removed, nobody else's; a full disk is one line; CSV formula cells are neutralised; terminal
escapes from the data are printed harmlessly."""
from __future__ import annotations

import errno
import json
import os
import threading
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from artifactlens.errors import InputError, safe_text
from artifactlens.io import writers
from artifactlens.io.writers import (RowWriter, atomic_write_bytes, atomic_write_text, check_writable,
                                     clean_stale_temps, guard_outputs)

KINDS = [".parquet", ".jsonl", ".csv"]


def _batch(n=10, start=0):
    return pa.RecordBatch.from_pydict({"id": list(range(start, start + n)), "text": [f"t{i}" for i in range(n)]})


def _temps(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def _rows(path):
    p = str(path)
    if p.endswith(".parquet"):
        return pq.read_table(p).num_rows
    if p.endswith(".csv"):
        return len(open(p, encoding="utf-8").read().splitlines()) - 1
    return len([x for x in open(p, encoding="utf-8") if x.strip()])


def _wired(name: str) -> bool:
    """Whether the CLI edge (cli.py or outputs.py, the lead's) calls ``name`` yet."""
    import artifactlens
    root = os.path.dirname(artifactlens.__file__)
    return any(os.path.exists(os.path.join(root, f)) and name in open(os.path.join(root, f)).read()
               for f in ("cli.py", "outputs.py"))


# -- 1. an output that is an input ---------------------------------------------------------------------
def test_guard_refuses_an_output_that_is_the_input_under_any_spelling(tmp_path):
    (tmp_path / "sub").mkdir()
    data = tmp_path / "same.jsonl"
    data.write_text('{"a": 1}\n')
    link = tmp_path / "link.jsonl"
    link.symlink_to(data)
    hard = tmp_path / "hard.jsonl"
    os.link(data, hard)
    for spelling in (data, tmp_path / "sub" / ".." / "same.jsonl", link, hard):
        with pytest.raises(InputError) as e:
            guard_outputs([data], {"--json": None, "--flags": spelling})
        assert "--flags" in str(e.value) and "input" in str(e.value)
    with pytest.raises(InputError, match="--clean"):  # the input given through a link, the output plainly
        guard_outputs([link], [("--clean", data)])
    guard_outputs([data], {"--flags": tmp_path / "new.jsonl", "--json": "/dev/null", "--html": "/dev/null"})
    assert data.read_text() == '{"a": 1}\n'


def test_guard_refuses_two_outputs_on_one_file(tmp_path):
    with pytest.raises(InputError, match="--html and --json"):
        guard_outputs([], {"--json": tmp_path / "r.out", "--html": tmp_path / "x" / ".." / "r.out"})


def test_cli_refuses_flags_over_the_input(run_cli, tmp_path):
    """The CLI calls guard_outputs at its edge: the input survives unchanged, exit 2 names the option."""
    data = tmp_path / "in.jsonl"
    text = "".join(json.dumps({"text": f"row {i}", "human": "[1, 1, 0]", "llm": "[1, 1, 1]"}) + "\n"
                   for i in range(30))
    data.write_text(text)
    code, _, err = run_cli("audit", "labels", data, "--human", "human", "--llm", "llm", "--text", "text",
                           "--flags", tmp_path / "." / "in.jsonl", "--quiet")
    assert code == 2 and "--flags" in err
    assert data.read_text() == text


# -- 2. atomic: commit only on success -------------------------------------------------------------------
@pytest.mark.parametrize("ext", KINDS)
@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_row_writer_keeps_the_old_file_on_any_failure(tmp_path, ext, exc):
    out = tmp_path / f"out{ext}"
    with RowWriter(out) as w:
        w.write(_batch(20))
    before = out.read_bytes()
    with pytest.raises(type(exc)):
        with RowWriter(out) as w:
            w.write(_batch(5))
            w.write(_batch(5, 5))
            raise exc
    assert out.read_bytes() == before and _rows(out) == 20
    assert _temps(tmp_path) == []


@pytest.mark.parametrize("ext", KINDS)
def test_row_writer_commits_on_success_and_leaves_no_temp(tmp_path, ext):
    out = tmp_path / f"out{ext}"
    with RowWriter(out) as w:
        for i in range(3):
            w.write(_batch(7, 7 * i))
    assert _rows(out) == 21 and _temps(tmp_path) == []
    assert oct(out.stat().st_mode & 0o777) != oct(0o600)  # the user's umask, not mkstemp's private mode


def test_atomic_write_failing_midway_keeps_the_old_file(tmp_path, monkeypatch):
    out = tmp_path / "r.json"
    atomic_write_text(out, "old")

    class Boom(Exception):
        pass

    def bad_commit(tmp, p):
        raise Boom()
    monkeypatch.setattr(writers, "_commit", bad_commit)
    with pytest.raises(Boom):
        atomic_write_text(out, "new")
    assert out.read_text() == "old" and _temps(tmp_path) == []


def test_full_disk_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    out = tmp_path / "flags.jsonl"
    atomic_write_text(out, "old\n")

    def full(tmp, p):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(writers, "_commit", full)
    with pytest.raises(InputError) as e:
        atomic_write_text(out, "new", option="--json")
    assert "no space left" in str(e.value) and "--json" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(InputError, match="no space left"):
        with RowWriter(out, option="--flags") as w:
            w.write(_batch())
    assert out.read_text() == "old\n" and _temps(tmp_path) == []


@pytest.mark.parametrize("ext", KINDS)
def test_full_device_while_streaming_is_one_line(ext):
    """/dev/full answers every write with ENOSPC: a real full disk (a device: written directly)."""
    with pytest.raises(InputError, match="--flags cannot write: no space left"):
        with RowWriter("/dev/full", option="--flags", kind=ext) as w:
            for i in range(50):
                w.write(_batch(200, 200 * i))
    with pytest.raises(InputError, match="no space left"):
        atomic_write_text("/dev/full", "x" * 10, option="--json")


# -- 3. devices, pipes and standard output ------------------------------------------------------------------
def test_devices_are_written_not_replaced(tmp_path):
    null_before = os.stat("/dev/null")
    atomic_write_text("/dev/null", "{}")
    atomic_write_bytes("/dev/null", b"x")
    st = os.stat("/dev/null")
    assert (st.st_ino, st.st_mode, st.st_rdev) == (null_before.st_ino, null_before.st_mode, null_before.st_rdev)
    assert not list(tmp_path.iterdir()) and not [p for p in os.listdir("/dev") if p.endswith(".tmp")]


def test_a_fifo_output_is_written_through(tmp_path):
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    got = []
    t = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    t.start()
    with RowWriter(fifo) as w:
        w.write(_batch(3))
    t.join(10)
    assert [json.loads(x)["id"] for x in got[0].decode().splitlines()] == [0, 1, 2]
    assert os.path.exists(fifo) and not os.path.isfile(fifo) and _temps(tmp_path) == []


def test_dash_means_standard_output(capfdbinary, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    atomic_write_text("-", '{"ok": 1}\n')
    with RowWriter("-") as w:
        w.write(_batch(2))
    out = capfdbinary.readouterr().out.decode()
    assert out.splitlines()[0] == '{"ok": 1}' and [json.loads(x)["id"] for x in out.splitlines()[1:]] == [0, 1]
    assert not (tmp_path / "-").exists()


def test_a_folder_as_output_is_one_line(tmp_path):
    with pytest.raises(InputError, match="--json names a folder"):
        atomic_write_text(tmp_path, "{}", option="--json")
    with pytest.raises(InputError, match="folder"):
        check_writable(tmp_path, "--json")


def test_a_symlinked_output_writes_through_the_link(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic_write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


# -- 6. stale temporary files -----------------------------------------------------------------------------
def _dead_pid() -> int:
    import subprocess
    import sys
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_temps_of_ours_are_removed_and_nothing_else(tmp_path):
    out = tmp_path / "flags.parquet"
    old = time.time() - 3600
    dead = tmp_path / f".flags.parquet.al-{_dead_pid()}-abcd1234.tmp"
    young = tmp_path / f".flags.parquet.al-{_dead_pid()}-young123.tmp"
    alive = tmp_path / f".flags.parquet.al-{os.getppid()}-alive123.tmp"  # a writer that still runs
    foreign = [tmp_path / ".flags.parquet.abcd1234.tmp", tmp_path / ".flags.parquet.backup.tmp",
               tmp_path / ".other.parquet.al-1-abcd1234.tmp"]
    for p in (dead, young, alive, *foreign):
        p.write_bytes(b"x" * 100)
        if p is not young:
            os.utime(p, (old, old))
    check_writable(out, "--flags")
    assert not dead.exists()
    assert young.exists() and alive.exists() and all(p.exists() for p in foreign)
    os.utime(young, (old, old))
    with RowWriter(out) as w:  # writing the target also cleans
        w.write(_batch())
    assert not young.exists() and alive.exists() and all(p.exists() for p in foreign)
    assert clean_stale_temps(out) == 0


def test_check_writable(tmp_path):
    check_writable(tmp_path / "new" / "deeper" / "r.json", "--json")  # missing folders are created later
    check_writable("-", "--json")
    check_writable("/dev/null", "--json")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        check_writable(tmp_path / "afile" / "r.json", "--json")
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        try:
            with pytest.raises(InputError, match="--html cannot write: permission denied"):
                check_writable(ro / "r.html", "--html")
        finally:
            ro.chmod(0o700)


# -- 10. CSV formulas and terminal escapes ------------------------------------------------------------------
def test_csv_formula_cells_are_neutralised(tmp_path):
    import csv
    cells = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tlead", "\rlead", "plain", "a=b", None, "'quoted"]
    b = pa.RecordBatch.from_pydict({"text": cells, "n": list(range(-5, 5))})
    with RowWriter(tmp_path / "f.csv") as w:
        w.write(b)
    with open(tmp_path / "f.csv", newline="", encoding="utf-8") as f:
        got = list(csv.DictReader(f))
    assert [r["text"] for r in got[:6]] == ["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "'\tlead", "'\rlead"]
    assert [r["text"] for r in got[6:]] == ["plain", "a=b", "", "'quoted"]
    assert [r["n"] for r in got] == [str(i) for i in range(-5, 5)]  # numbers are not text: unchanged
    with RowWriter(tmp_path / "f.parquet") as w:  # other formats keep values verbatim
        w.write(b)
    assert pq.read_table(tmp_path / "f.parquet").column("text").to_pylist() == cells


def test_safe_text_neutralises_terminal_escapes():
    evil = "ok\x1b[2J\x1b]0;pwned\x07\x9b31m\rover\u202eevil"
    s = safe_text(evil)
    assert not any(c in s for c in "\x1b\x07\x9b\r\u202e")
    assert s.startswith("ok\\x1b[2J") and "pwned" in s
    assert safe_text("two\nlines\ttab") == "two\nlines\ttab"
    assert safe_text("two\nlines", newlines=False) == "two\\nlines"
    msg = str(InputError("bad value \x1b[31mred\nsecond line", path="f\x1b.csv", column="c\x07"))
    assert "\x1b" not in msg and "\x07" not in msg and "\n" not in msg
