"""Nothing lost: flags/clean outputs hold exactly the input rows (counted and hashed, in order); outputs are
atomic (an interruption leaves the old file); an interrupted run resumes from per-batch checkpoints."""
from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from artifactlens.api import registry
from artifactlens.engine import BatchContext, Check, LocalEngine, MapOutput
from artifactlens.engine.checkpoint import STATE_FILE, CheckpointStore, ResumableEngine, checkpoint_key
from artifactlens.io.writers import RowWriter, atomic_write_text
from support.bad_input import SPECS, write


def row_hashes(rows: list[dict], cols) -> list[str]:
    return [hashlib.sha256(json.dumps([r.get(c) for c in cols], ensure_ascii=False, default=str).encode()).hexdigest()
            for r in rows]


def read_rows(path) -> list[dict]:
    p = str(path)
    if p.endswith(".parquet"):
        return pq.read_table(p).to_pylist()
    if p.endswith(".jsonl"):
        return [json.loads(l) for l in open(p, encoding="utf-8") if l.strip()]
    import csv
    with open(p, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# ---------------------------------------------------------------------------------------------------------
# flags and clean outputs hold every input row, in order
# ---------------------------------------------------------------------------------------------------------
def _label_rows(n):
    rows = [SPECS["labels"].row(i) for i in range(n)]
    rows[3]["human"] = None           # skipped: no human labels
    rows[7]["llm"] = "nan"            # skipped: no LLM labels
    rows[9]["text"] = "emoji 🙂 and\nnewline, \"quotes\""
    return rows


@pytest.mark.parametrize("ext", [".parquet", ".jsonl", ".csv"])
def test_labels_flags_hold_every_input_row_in_order(tmp_path, run_cli, ext):
    rows = _label_rows(500)
    src = write(tmp_path / "in.jsonl", rows, "jsonl")
    flags = tmp_path / f"flags{ext}"
    code, _, err = run_cli("audit", "labels", src, *SPECS["labels"].args, "--flags", flags, "--batch-size", "64",
                           "--json", tmp_path / "r.json", "--quiet")
    assert code == 0, err
    out = read_rows(flags)
    assert len(out) == len(rows)
    cols = ["id", "text"]
    assert row_hashes(out, cols) == row_hashes(rows, cols)
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["input"]["rows_read"] == 500
    assert r["input"]["rows_skipped"] == {"no human labels": 1, "no LLM labels": 1}
    assert r["flags"]["rows"] == 500


def test_instructions_clean_output_holds_every_row_and_kept_file_the_kept_ones(tmp_path, run_cli):
    spec = SPECS["instructions"]
    rows = [spec.row(i) for i in range(40)]
    rows[5]["output"] = ""                     # a broken row: flagged, not dropped
    rows[11] = dict(rows[10])                  # a duplicate
    src = write(tmp_path / "in.jsonl", rows, "jsonl")
    clean = tmp_path / "clean.jsonl"
    code, _, err = run_cli("audit", "instructions", src, *spec.args, "--clean", clean, "--quiet")
    assert code == 0, err
    out = read_rows(clean)
    cols = ["instruction", "input", "output"]
    assert row_hashes(out, cols) == row_hashes(rows, cols)
    kept = [r for r in out if r["keep"]]
    assert not out[5]["keep"]
    kept_files = [p for p in tmp_path.iterdir() if ".kept" in p.name]
    assert len(kept_files) == 1
    assert row_hashes(read_rows(kept_files[0]), cols) == row_hashes(kept, cols)


# ---------------------------------------------------------------------------------------------------------
# atomic outputs
# ---------------------------------------------------------------------------------------------------------
MAP_CALLS = {"n": 0, "fail_at": None}  # outside the check: a resumed check gets its saved attributes back


class CountCheck(Check):
    """Sums a column; counts map calls; raises on batch ``fail_at`` (an interruption)."""

    name = "count"

    def __init__(self, fail_at=None):
        self.seen = 0
        MAP_CALLS.update(n=0, fail_at=fail_at)

    @property
    def calls(self):
        return MAP_CALLS["n"]

    def map(self, batch, ctx: BatchContext) -> MapOutput:
        if ctx.batch_index == MAP_CALLS["fail_at"]:
            raise KeyboardInterrupt(f"interrupted at batch {ctx.batch_index}")
        MAP_CALLS["n"] += 1
        x = np.asarray(batch.column("x").to_numpy(zero_copy_only=False), dtype=np.float64)
        return MapOutput({"double": pa.array(x * 2)}, {"n": len(x), "sum": float(x.sum()), "first": [ctx.row_offset]})

    def sequential(self, batch, mo, ctx):  # driver-side state kept on the check itself
        self.seen += batch.num_rows
        return mo

    def merge(self, a, b):
        return {"n": a["n"] + b["n"], "sum": a["sum"] + b["sum"], "first": a["first"] + b["first"]}

    def finalize(self, s):
        return {**s, "seen": self.seen}


def batches(n_batches=10, size=7):
    return [pa.RecordBatch.from_pydict({"x": list(range(i * size, (i + 1) * size))}) for i in range(n_batches)]


@pytest.mark.parametrize("ext", [".parquet", ".jsonl", ".csv"])
def test_interrupted_run_leaves_the_old_flags_file(tmp_path, ext):
    flags = tmp_path / f"flags{ext}"
    flags.write_bytes(b"old contents")
    with pytest.raises(KeyboardInterrupt):
        LocalEngine(workers=1).run(batches(), [CountCheck(fail_at=3)], flags_path=flags)
    assert flags.read_bytes() == b"old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == [flags.name]  # no temporary file left


def test_interrupted_text_write_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "r.json"
    target.write_text("old")

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(target, "new")
    with pytest.raises(KeyboardInterrupt):
        with RowWriter(tmp_path / "f.parquet") as w:
            w.write(batches(1)[0])
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


# ---------------------------------------------------------------------------------------------------------
# --resume: per-batch checkpoints
# ---------------------------------------------------------------------------------------------------------
def test_resume_maps_only_the_unfinished_batches_and_gives_the_same_bytes(tmp_path):
    clean_flags = tmp_path / "clean.parquet"
    expected = LocalEngine(workers=1).run(batches(), [CountCheck()], flags_path=clean_flags)

    key = checkpoint_key("sha-of-input", {"seed": 0}, [CountCheck()], 7)
    flags = tmp_path / "flags.parquet"
    first = CountCheck(fail_at=6)
    with pytest.raises(KeyboardInterrupt):
        ResumableEngine(tmp_path / "ckpt", key, state_every_s=0).run(batches(), [first], flags_path=flags)
    assert first.calls == 6 and not flags.exists()

    again = CountCheck()
    eng = ResumableEngine(tmp_path / "ckpt", key, state_every_s=0)
    got = eng.run(batches(), [again], flags_path=flags)
    assert eng.resumed_batches == 6 and again.calls == 4      # batches 0-5 were not mapped again
    assert got == expected                                   # incl. the driver-side state ("seen")
    assert pq.read_table(flags).equals(pq.read_table(clean_flags))
    assert not (tmp_path / "ckpt" / key).exists()            # removed once the run finished


def test_resume_without_flags_and_with_sparse_snapshots(tmp_path):
    expected = LocalEngine(workers=1).run(batches(), [CountCheck()])
    key = checkpoint_key("x", {}, [CountCheck()])
    with pytest.raises(KeyboardInterrupt):  # no snapshot yet (every 1 h): resume starts over
        ResumableEngine(tmp_path, key, state_every_s=3600).run(batches(), [CountCheck(fail_at=4)])
    assert not (tmp_path / key / STATE_FILE).exists()
    c = CountCheck()
    assert ResumableEngine(tmp_path, key).run(batches(), [c]) == expected
    assert c.calls == 10


def test_checkpoint_key_depends_on_input_and_params():
    c = [CountCheck()]
    k = checkpoint_key("a", {"seed": 0}, c, 8192)
    assert k == checkpoint_key("a", {"seed": 0}, c, 8192)
    assert len({k, checkpoint_key("b", {"seed": 0}, c, 8192), checkpoint_key("a", {"seed": 1}, c, 8192),
                checkpoint_key("a", {"seed": 0}, c, 4096)}) == 4


def test_real_audit_check_state_survives_a_checkpoint(tmp_path):
    """The labels check's state (Counters, bootstrap sums, arrays, tuple keys) round-trips the plain-data
    checkpoint (:mod:`artifactlens.plain`)."""
    from artifactlens.audits.labels.check import LabelCheck
    rows = _label_rows(60)
    data = [pa.RecordBatch.from_pylist(rows[i:i + 16]) for i in range(0, 60, 16)]
    mk = lambda: LabelCheck(human="human", llm_column="llm", text="text", id="id")  # noqa: E731
    expected = LocalEngine(workers=1).run(data, [mk()])
    store = CheckpointStore(tmp_path, "labels")
    from artifactlens.engine.local import Accumulator, map_batch
    with Accumulator([mk()], None) as acc:
        chk = acc.checks[0]
        for i, b in enumerate(data[:2]):
            acc.add(b, map_batch([chk], b, BatchContext(i, acc.rows)))
        store.save_state(acc, [chk])
    for i in range(2):
        store.save_part(i, data[i])
    saved = store.load_state()
    assert saved is not None and saved["batches"] == 2
    got = ResumableEngine(tmp_path, "labels").run(data, [mk()])
    assert canon(got) == canon(expected)


def canon(x):
    """A comparable form of check outputs (dicts with any keys, arrays, sets, objects)."""
    if isinstance(x, dict):
        return sorted((repr(k), canon(v)) for k, v in x.items())
    if isinstance(x, (list, tuple)):
        return [canon(v) for v in x]
    if isinstance(x, (set, frozenset)):
        return sorted(repr(v) for v in x)
    if isinstance(x, np.ndarray):
        return canon(x.tolist())
    if hasattr(x, "__dict__"):
        return (type(x).__name__, canon(vars(x)))
    return repr(x)


def test_cli_resume_goes_on_after_an_interruption(tmp_path, run_cli, monkeypatch):
    """`--resume DIR`: interrupted at batch 5 of 10, the same command maps only batches 5-9 and writes the
    result and flags of an uninterrupted run."""
    from artifactlens.audits.labels.check import LabelCheck
    src = write(tmp_path / "in.jsonl", _label_rows(300), "jsonl")
    common = ["audit", "labels", src, *SPECS["labels"].args, "--batch-size", "30", "--quiet", "--seed", "3"]
    assert run_cli(*common, "--json", tmp_path / "clean.json", "--flags", tmp_path / "clean.parquet")[0] == 0

    real_map, seen = LabelCheck.map, []

    def interrupting_map(self, batch, ctx):
        seen.append(ctx.batch_index)
        if stop["at"] is not None and ctx.batch_index == stop["at"]:
            raise KeyboardInterrupt
        return real_map(self, batch, ctx)

    stop = {"at": 5}
    monkeypatch.setattr(LabelCheck, "map", interrupting_map)
    monkeypatch.setattr("artifactlens.engine.checkpoint.STATE_EVERY_S", 0.0)
    run = [*common, "--json", tmp_path / "r.json", "--flags", tmp_path / "f.parquet", "--resume", tmp_path / "ck"]
    code, _, err = run_cli(*run)
    assert code == 130 and "interrupted" in err
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "f.parquet").exists()

    stop["at"], seen[:] = None, []
    code, _, err = run_cli(*run)
    assert code == 0, err
    assert seen == [5, 6, 7, 8, 9]
    clean = json.loads((tmp_path / "clean.json").read_text())
    got = json.loads((tmp_path / "r.json").read_text())
    for r in (clean, got):
        r.pop("created")
        r["flags"].pop("path", None)
    assert any(f.get("recommendation") for f in got["findings"]) and got == clean
    assert pq.read_table(tmp_path / "f.parquet").equals(pq.read_table(tmp_path / "clean.parquet"))
    assert list((tmp_path / "ck").iterdir()) == []  # finished: nothing left to resume


#: options that skip the model-heavy passes of a demo run (kinds not named run their demo as it is)
_LIGHT = {"labels": {"second_order": False}, "preferences": {"embeddings": False, "reward_model": False},
          "text": {"embeddings": False, "tagger_words": 2000}, "instructions": {"embeddings": False}}


@pytest.mark.parametrize("kind", sorted(registry()))
def test_every_audit_resumes_from_a_plain_data_checkpoint_to_the_same_figures(kind, tmp_path, monkeypatch):
    """Each audit's real check states (bootstrap sums, Counters, tuple-keyed dicts, the deduplicator's seen
    keys, SimState) go through the plain-data checkpoint: interrupted after its second snapshot, the run
    resumes from it (maps only the rest) and gives the uninterrupted run's every metric and interval."""
    import artifactlens as al
    from artifactlens.contract import RunOptions
    from artifactlens.demo import demo_path
    from artifactlens.engine import checkpoint as ck
    cls = registry()[kind]
    name, opts = cls.demo
    opts = {k: v.format(out=tmp_path) if isinstance(v, str) else v for k, v in opts.items()}
    opts.update({k: v for k, v in _LIGHT.get(kind, {}).items() if k in cls.Options.__dataclass_fields__})
    figures = lambda r: {k: (m.value, m.ci) for k, m in r.metrics.items()}  # noqa: E731
    clean = figures(al.audit(kind, demo_path(name), run=RunOptions(batch_size=64), **opts))

    monkeypatch.setattr(ck, "STATE_EVERY_S", 0.0)
    real_save, snapshots = ck.CheckpointStore.save_state, []

    def save_then_stop(self, acc, checks):
        real_save(self, acc, checks)
        snapshots.append(acc.batches)
        if len(snapshots) == 2:
            raise KeyboardInterrupt
    monkeypatch.setattr(ck.CheckpointStore, "save_state", save_then_stop)
    run = RunOptions(batch_size=64, resume=str(tmp_path / "ck"))
    with pytest.raises(KeyboardInterrupt):
        al.audit(kind, demo_path(name), run=run, **opts)
    monkeypatch.setattr(ck.CheckpointStore, "save_state", real_save)
    resumed, real_run = [], ck.ResumableEngine.run

    def recording_run(self, *a, **k):
        out = real_run(self, *a, **k)
        resumed.append(self.resumed_batches)
        return out
    monkeypatch.setattr(ck.ResumableEngine, "run", recording_run)
    got = figures(al.audit(kind, demo_path(name), run=run, **opts))
    assert resumed[0] == 2, f"{kind}: did not resume from its checkpoint ({resumed})"
    assert json.dumps(got, sort_keys=True, default=str) == json.dumps(clean, sort_keys=True, default=str)


def test_csv_field_longer_than_the_read_block_after_many_rows(tmp_path):
    """A 10 MB field after 5 MB of short rows: the CSV reader grows its block and re-reads; every row comes
    once, in order, the long field whole (was: 'straddling object', then a csv.Error traceback)."""
    import csv

    from artifactlens.io import open_source
    p = tmp_path / "long.csv"
    n, big_at = 60_000, 50_000
    with open(p, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["i", "text"])
        for i in range(n):
            w.writerow([i, "x" * 10_000_000 if i == big_at else f"short row number {i} " * 4])
    src = open_source(p, batch_size=4096)
    ids, big = [], 0
    for b in src.batches():
        ids.extend(int(x) for x in b.column("i").to_pylist())
        big = max(big, max(len(t) for t in b.column("text").to_pylist()))
    assert ids == list(range(n)) and src.rows_read == n and big == 10_000_000


def test_cli_resume_keeps_the_instruction_duplicate_index(tmp_path, run_cli, monkeypatch):
    """Duplicates of rows from batches finished before the interruption are still found after --resume:
    the duplicate index (a check attribute) is restored with the snapshot."""
    from artifactlens.audits.instructions.check import InstructionCheck
    rng = np.random.default_rng(0)
    vocab = [f"w{j}" for j in range(3000)]
    rows = [{"instruction": "Describe " + " ".join(rng.choice(vocab, 8)) + ".", "input": "",
             "output": " ".join(rng.choice(vocab, 14)).capitalize() + "."} for _ in range(240)]
    rows += [dict(rows[i]) for i in range(0, 60, 3)]  # 20 exact duplicates of rows in batches 0-1, at the end
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    common = ["audit", "instructions", src, "--no-embeddings", "--batch-size", "26", "--quiet"]
    assert run_cli(*common, "--json", tmp_path / "clean.json", "--flags", tmp_path / "clean.jsonl")[0] == 0

    real_map = InstructionCheck.map
    stop = {"at": 5}

    def interrupting_map(self, batch, ctx):
        if stop["at"] is not None and ctx.batch_index == stop["at"]:
            raise KeyboardInterrupt
        return real_map(self, batch, ctx)

    monkeypatch.setattr(InstructionCheck, "map", interrupting_map)
    monkeypatch.setattr("artifactlens.engine.checkpoint.STATE_EVERY_S", 0.0)
    run = [*common, "--json", tmp_path / "r.json", "--flags", tmp_path / "f.jsonl", "--resume", tmp_path / "ck"]
    assert run_cli(*run)[0] == 130
    stop["at"] = None
    code, _, err = run_cli(*run)
    assert code == 0, err
    clean = json.loads((tmp_path / "clean.json").read_text())
    got = json.loads((tmp_path / "r.json").read_text())
    assert clean["metrics"]["duplicate_rate"]["value"] == pytest.approx(20 / 260)
    assert got["metrics"]["duplicate_rate"] == clean["metrics"]["duplicate_rate"]
    assert (tmp_path / "f.jsonl").read_text() == (tmp_path / "clean.jsonl").read_text()
