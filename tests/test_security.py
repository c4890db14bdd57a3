"""Security: reports escape every user text; no eval/exec/pickle of user input; no network unless asked.
(Label lists parsed without eval: tests/test_io.py.)

The browser check that no planted script runs is the report's own (tests/test_browser.py); here the HTML
text itself is checked: the planted markup appears only escaped.
"""
from __future__ import annotations

import re
import shutil
import socket
from collections import Counter, OrderedDict, defaultdict
from pathlib import Path
from types import SimpleNamespace

import numpy as np

import pytest

from support.bad_input import SPECS, built, write

SRC = Path(__file__).resolve().parents[1] / "src" / "artifactlens"
PAYLOADS = ["<script>alert('xss1')</script>", "<img src=x onerror=alert('xss2')>",
            "\"><svg onload=alert('xss3')>", "</textarea><script>alert('xss4')</script>",
            "javascript:alert('xss5')", "<iframe srcdoc='<script>alert(6)</script>'>"]
RAW = ["<script>alert('xss", "<img src=x onerror", "<svg onload", "<iframe srcdoc"]


def _planted_rows(kind: str, n: int = 40) -> list[dict]:
    spec = SPECS[kind]
    rows = [spec.row(i) for i in range(n)]
    for i, r in enumerate(rows):
        r[spec.text] = f"{PAYLOADS[i % len(PAYLOADS)]} {r[spec.text]}"
    if kind == "labels":  # label names reach tables, figure axes and legends
        for i, r in enumerate(rows):
            r["human"] = str(["<script>alert('xss0')</script>", "b", "<img src=x onerror=alert(0)>"][: 2 + i % 2])
            r["llm"] = str(["<script>alert('xss0')</script>"] * 3)
    if kind == "preferences":
        for i, r in enumerate(rows):
            r["response_b"] = PAYLOADS[(i + 1) % len(PAYLOADS)] + " " + r["response_b"]
            r["prompt"] = PAYLOADS[(i + 2) % len(PAYLOADS)] + r["prompt"]
    if kind == "instructions":
        for i, r in enumerate(rows):
            r["output"] = PAYLOADS[(i + 3) % len(PAYLOADS)] + " " + r["output"]
    if kind == "simulations":  # payloads in flagged turns (a role flip, a loop): the report shows those
        for i, r in enumerate(rows):
            for t in r["turns"]:
                t["text"] = PAYLOADS[i % len(PAYLOADS)] + " " + t["text"]
            flip = {"speaker": "User", "role": "user", "text": "Solution: " + PAYLOADS[i % len(PAYLOADS)]}
            r["turns"] += [flip, dict(r["turns"][1]), dict(r["turns"][1]), dict(r["turns"][1])]
    return rows


def assert_escaped(html: str) -> None:
    for raw in RAW:
        assert raw not in html, f"unescaped user markup in the report: {raw!r}"


@pytest.mark.parametrize("kind", list(SPECS))
def test_report_escapes_planted_markup(run_cli, tmp_path, kind):
    built(kind)
    src = write(tmp_path / "in.jsonl", _planted_rows(kind), "jsonl")
    html = tmp_path / "r.html"
    code, _, err = run_cli("audit", kind, src, *SPECS[kind].args, "--html", html, "--json", tmp_path / "r.json",
                           "--quiet")
    assert code == 0, err
    text = html.read_text(encoding="utf-8")
    assert_escaped(text)
    assert "&lt;script&gt;" in text or "&lt;img" in text or "&lt;svg" in text or "&lt;b" in text, \
        "no planted text is shown at all: the test would not see a missing escape"


def test_merged_report_escapes_titles_and_findings(tmp_path):
    from artifactlens.report.html import write_report
    from artifactlens.result import AuditResult
    r = AuditResult(kind="labels", title=PAYLOADS[0])
    r.add_metric("rate<script>", 0.5, PAYLOADS[1], ci=(0.4, 0.6), n=10)
    r.add_finding("warning", PAYLOADS[2], "rate<script>", [1])
    r.add_table("t" + PAYLOADS[0], ["col" + PAYLOADS[1]], [[PAYLOADS[3]]], PAYLOADS[4])
    r.add_figure("bar", PAYLOADS[5], categories=[PAYLOADS[0]], series={PAYLOADS[1]: [1.0]})
    r.examples.append({"row": 1, "title": PAYLOADS[0], "fields": {PAYLOADS[1]: PAYLOADS[2]}, "reasons": [PAYLOADS[3]]})
    out = write_report([r], tmp_path / "m.html", title=PAYLOADS[0])
    assert_escaped(Path(out).read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------------------
# no eval / exec / unpickling of user input
# ---------------------------------------------------------------------------------------------------------
DANGEROUS = re.compile(r"(?<![\w.])(eval|exec)\s*\(|pickle\.loads?\s*\(|marshal\.loads?\s*\(|yaml\.load\s*\(|"
                       r"torch\.load\s*\(|allow_pickle\s*=\s*True|joblib\.load\s*\(|shell\s*=\s*True|os\.system\s*\(")
# Each allowed place, and why it never sees user input.
ALLOWED = {
    ("engine/local.py", "pickle.loads("): "the process pool's workers load the checks the driver pickled",
    ("engine/ray_engine.py", "pickle.loads("): "Ray actors load the checks / outputs the engine pickled",
}


def test_no_eval_exec_or_unpickling_of_user_input():
    found = []
    for p in sorted(SRC.rglob("*.py")):
        rel = p.relative_to(SRC).as_posix()
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            for m in DANGEROUS.finditer(code):
                token = m.group(0).replace(" ", "")
                if not any(rel == f and token.startswith(t.rstrip("(")) for f, t in ALLOWED):
                    found.append(f"{rel}:{n}: {line.strip()}")
    assert not found, "eval/exec/unpickling outside the reviewed places:\n" + "\n".join(found)


def test_checkpoints_are_plain_data_never_pickles():
    """``--resume`` states are a JSON tree plus .npy arrays (artifactlens.plain): no pickle module in the
    checkpoint code, and every ``np.load`` in the package refuses pickled object arrays."""
    for rel in ("engine/checkpoint.py", "plain.py"):
        text = (SRC / rel).read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import|from)\s+(c?pickle|dill|cloudpickle|shelve|marshal)\b", text, re.M), rel
    loads = [(p.relative_to(SRC).as_posix(), line.strip()) for p in sorted(SRC.rglob("*.py"))
             for line in p.read_text(encoding="utf-8").splitlines() if re.search(r"\bnp\.load\s*\(", line)]
    assert loads and all("allow_pickle=False" in line for _, line in loads), loads


# ---------------------------------------------------------------------------------------------------------
# a tampered or foreign --resume checkpoint runs no code and is never trusted
# ---------------------------------------------------------------------------------------------------------
class _Planted:
    """Unpickling this creates a folder at ``path``: it calls an ``artifactlens`` class (the checkpoint
    store, whose constructor makes its folder), which the former restricted unpickler allowed."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        from artifactlens.engine.checkpoint import CheckpointStore
        return (CheckpointStore, (self.path, "made-by-unpickling"))


class _SumCheck:
    """A check whose state is a dict of a sum, a Counter and an array, with a count kept on the check
    itself (in ``sequential``), like the deduplicator's seen keys."""

    name = "sum"
    pure_map = True
    expands_rows = False

    def __init__(self):
        self.seen = 0
        self.mapped = SimpleNamespace(n=0)  # not plain data: not saved, so it counts this run's maps only

    def setup(self):
        pass

    def map(self, batch, ctx):
        from artifactlens.engine import MapOutput
        self.mapped.n += 1
        x = batch.column("x").to_numpy()
        return MapOutput(None, {"sum": int(x.sum()), "parity": Counter(int(v) % 3 for v in x), "hist": np.bincount(x % 4, minlength=4)})

    def sequential(self, batch, out, ctx):
        self.seen += batch.num_rows
        return out

    def merge(self, a, b):
        return {"sum": a["sum"] + b["sum"], "parity": a["parity"] + b["parity"], "hist": a["hist"] + b["hist"]}

    def finalize(self, s):
        return {"sum": s["sum"], "parity": dict(s["parity"]), "hist": s["hist"].tolist(), "seen": self.seen}


def _batches(n=10, size=7):
    import pyarrow as pa
    return [pa.RecordBatch.from_pydict({"x": np.arange(i * size, (i + 1) * size)}) for i in range(n)]


def _interrupted(root, key, after=6):
    """A real checkpoint: the run stops (KeyboardInterrupt) after ``after`` batches."""
    from artifactlens.engine.checkpoint import ResumableEngine

    class Stop(_SumCheck):
        def map(self, batch, ctx):
            if ctx.batch_index == after:
                raise KeyboardInterrupt
            return super().map(batch, ctx)

    with pytest.raises(KeyboardInterrupt):
        ResumableEngine(root, key, state_every_s=0).run(_batches(), [Stop()])


def _resume(root, key, capsys):
    from artifactlens.engine.checkpoint import ResumableEngine
    c = _SumCheck()
    eng = ResumableEngine(root, key, state_every_s=0)
    got = eng.run(_batches(), [c])
    return got, c.mapped.n, eng.resumed_batches, capsys.readouterr().err


EXPECTED = {"sum": sum(range(70)), "parity": {0: 24, 1: 23, 2: 23}, "hist": [18, 18, 17, 17], "seen": 70}


def test_checkpoint_resumes_from_plain_data(tmp_path, capsys):
    from artifactlens.engine.checkpoint import STATE_FILE
    _interrupted(tmp_path, "k")
    assert (tmp_path / "k" / STATE_FILE).exists()
    got, calls, resumed, err = _resume(tmp_path, "k", capsys)
    assert (got["sum"], calls, resumed, err) == (EXPECTED, 4, 6, "")
    assert got["sum"]["seen"] == 70  # the count kept on the check came back too


def _pickled_npz(obj) -> bytes:
    import io
    buf = io.BytesIO()
    np.savez(buf, tree=np.array([obj], dtype=object))  # numpy pickles object arrays into the .npy
    return buf.getvalue()


@pytest.mark.parametrize("shape", ["raw pickle", "pickle inside the npz", "legacy state.pkl"])
def test_a_pickled_checkpoint_creates_no_file_and_is_recomputed(tmp_path, capsys, shape):
    import hashlib
    import json
    import pickle
    from artifactlens import plain
    from artifactlens.engine.checkpoint import STATE_FILE, CheckpointStore
    planted = tmp_path / "PLANTED"
    store = CheckpointStore(tmp_path, "k")
    for i, b in enumerate(_batches()[:6]):
        store.save_part(i, b.slice(0, 0))
    blob = pickle.dumps({"states": _Planted(planted), "checks": [], "batches": 6, "rows": 42})
    assert not planted.exists()
    if shape == "raw pickle":
        (store.dir / STATE_FILE).write_bytes(blob)
    elif shape == "pickle inside the npz":
        (store.dir / STATE_FILE).write_bytes(_pickled_npz(_Planted(planted)))
        with pytest.raises(plain.NotPlain):
            plain.loads((store.dir / STATE_FILE).read_bytes())
    else:  # what the pickle-based version wrote
        (store.dir / "state.pkl").write_bytes(blob)
        (store.dir / "state.json").write_text(json.dumps({"batches": 6, "rows": 42,
                                                          "sha256": hashlib.sha256(blob).hexdigest()}))
    got, calls, resumed, err = _resume(tmp_path, "k", capsys)
    assert not planted.exists(), "reading the checkpoint ran code"
    assert (got["sum"], calls, resumed) == (EXPECTED, 10, 0)
    if shape != "legacy state.pkl":  # an old-format file is not read at all
        assert err.count("\n") == 1 and "ignoring the checkpoint" in err and "starting over" in err, err


def _tree(inner):
    """A plain-data archive whose tree is ``inner`` (hand-made, as an attacker would)."""
    from artifactlens import plain
    return plain.dumps_tree(inner, [])


@pytest.mark.parametrize("tree,why", [
    ({"$": "obj", "type": "builtins.open", "v": {}}, "not a registered state type"),
    ({"$": "obj", "type": "os.system", "v": {}}, "not a registered state type"),
    ({"$": "obj", "type": "artifactlens.engine.checkpoint.CheckpointStore", "v": {}}, "not a registered state type"),
    ({"$": "obj", "type": "stats.BootstrapSums", "v": {"dir": "/tmp"}}, "has no field 'dir'"),
    ({"$": "obj", "type": "stats.BootstrapSums", "v": {"__class__": 1}}, "malformed fields"),
    ({"$": "obj", "type": "simulations.SimState", "v": {"path": "x"}}, "has no field 'path'"),
    ({"$": "reduce", "v": ["os.system", ["touch x"]]}, "unknown tag"),
    ({"$": "defaultdict", "f": "os.system", "v": []}, "factory that is not allowed"),
    ({"$": "nd", "i": 3}, "out of range"),
    ({"module": "os", "name": "system"}, "without a type tag"),
    ({"$": "float", "v": "1e400"}, "not a special float"),
])
def test_a_hand_made_tree_builds_no_class_it_does_not_name(tree, why):
    pytest.importorskip("artifactlens.audits.simulations.check")  # registers SimState
    from artifactlens import plain
    with pytest.raises(plain.NotPlain, match=why):
        plain.loads(_tree(tree))


def test_deep_nesting_in_a_checkpoint_is_refused_not_a_crash(_raw_json_trees):
    from artifactlens import plain
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(plain.NotPlain):
        plain.loads(_tree(json_raw(deep)))
    nested = {"$": "tuple", "v": []}
    for _ in range(plain.MAX_DEPTH + 5):
        nested = {"$": "tuple", "v": [nested]}
    with pytest.raises(plain.NotPlain, match="deeper"):
        plain.loads(_tree(nested))


class json_raw(str):
    """A tree that json.dumps cannot make (100,000 levels): written by hand as the tree member's text."""


@pytest.fixture
def _raw_json_trees(monkeypatch):
    from artifactlens import plain
    real = plain.dumps_tree

    def dumps_tree(tree, arrays):
        if not isinstance(tree, json_raw):
            return real(tree, arrays)
        import io
        buf = io.BytesIO()
        np.savez(buf, tree=np.frombuffer(('{"format":%d,"tree":%s}' % (plain.FORMAT, tree)).encode(), dtype=np.uint8))
        return buf.getvalue()
    monkeypatch.setattr(plain, "dumps_tree", dumps_tree)


def _rewrite(path, change):
    """Decode a real checkpoint, let ``change`` alter the decoded state, write it back (valid format)."""
    from artifactlens import plain
    saved = plain.loads(path.read_bytes())
    change(saved)
    path.write_bytes(plain.dumps(saved))


@pytest.mark.parametrize("alter,why", [
    ("foreign", "belongs to another run"),
    ("rows", "covers 43 rows in 6 batches, the input has 42 rows"),
    ("batches", "covers 42 rows in 12 batches"),
    ("attribute type", "has no attribute 'seen' of type str"),
    ("new attribute", "has no attribute 'path'"),
    ("checks", "holds 2 checks, this run has 1"),
    ("missing part", "flags part of batch 3 is missing"),
    ("truncated", "not a plain-data archive"),
])
def test_a_foreign_or_altered_checkpoint_is_refused_in_one_line_and_recomputed(tmp_path, capsys, alter, why):
    from artifactlens.engine.checkpoint import STATE_FILE
    key = "k2" if alter == "foreign" else "k"
    _interrupted(tmp_path, "k")
    state = tmp_path / "k" / STATE_FILE
    if alter == "foreign":  # another run's checkpoint copied under this run's key
        shutil.copytree(tmp_path / "k", tmp_path / "k2")
    elif alter == "rows":
        _rewrite(state, lambda s: s.update(rows=s["rows"] + 1))
    elif alter == "batches":
        _rewrite(state, lambda s: s.update(batches=12))
        for i in range(6, 12):
            shutil.copy(tmp_path / "k" / "part-0000000.parquet", tmp_path / "k" / f"part-{i:07d}.parquet")
    elif alter == "attribute type":
        _rewrite(state, lambda s: s["checks"][0].update(seen="70"))
    elif alter == "new attribute":
        _rewrite(state, lambda s: s["checks"][0].update(path="/etc/passwd"))
    elif alter == "checks":
        _rewrite(state, lambda s: s["checks"].append({}))
    elif alter == "missing part":
        (tmp_path / "k" / "part-0000003.parquet").unlink()
    else:
        state.write_bytes(state.read_bytes()[:200])
    capsys.readouterr()
    got, calls, resumed, err = _resume(tmp_path, key, capsys)
    assert (got["sum"], calls, resumed) == (EXPECTED, 10, 0)
    assert err.count("\n") == 1 and why in err and "starting over" in err, err


@pytest.mark.parametrize("value", [
    {("source", "a"): 1.5, ("qa_type", None): -0.0, 3: "x", None: [1, 2], 2**80: True, "": float("nan")},
    Counter({("h", 1): 3, (None, "b"): 2}),
    OrderedDict([("b", 1), ("a", 2)]),
    defaultdict(list, {"a": [1]}),
    [(1, (2, "three")), {4, 5}, frozenset({"z"}), b"\x00\xff", 1 + 2j, float("inf"), float("-inf")],
    {"f64": np.float64(0.1), "i64": np.int64(-2**63), "u64": np.uint64(2**64 - 1), "b": np.bool_(True),
     "s": np.str_("é"), "f32": np.float32(1 / 3), "dt": np.datetime64("2024-01-02T03:04")},
    {"a": np.arange(12, dtype=np.uint16).reshape(3, 4), "e": np.zeros((0, 5)), "u": np.array(["a", "é"]),
     "o": np.array([None, "x", 3, (1, 2)], dtype=object), "bool": np.array([True, False])},
    Path("/some/where"),
])
def test_plain_data_round_trips_exactly(value):
    from artifactlens import plain
    back = plain.loads(plain.dumps(value))
    assert type(back) is type(value) and _same(back, value)


def test_arrow_values_and_registered_states_round_trip():
    import pyarrow as pa
    from artifactlens import plain
    from artifactlens.audits.instructions.dedupe import Deduplicator
    from artifactlens.stats import BootstrapSums, hash_keys
    acc = BootstrapSums(seed=3, buckets=64)
    acc.add(hash_keys(np.arange(50)), {"x": np.arange(50) % 2, "n": np.ones(50)})
    rows = BootstrapSums(seed=1)
    rows.add(hash_keys(np.arange(20)), {"x": np.arange(20) % 3 == 0, "n": np.ones(20)})
    d = Deduplicator()
    batch = pa.RecordBatch.from_pydict({"instruction": ["Say hi", "Say hi", "Count to three"], "input": ["", "", ""]})
    d.find(d.prepare(batch), np.arange(3))
    value = {"bucketed": acc, "rows": rows, "dedupe": d, "arr": pa.array([1, None, 3]),
             "batch": batch, "table": pa.table({"s": ["a", None]}), "chunked": pa.chunked_array([[1], [2, 3]])}
    back = plain.loads(plain.dumps(value))
    for k in ("bucketed", "rows"):
        assert back[k].interval(lambda s: s["x"] / s["n"]) == value[k].interval(lambda s: s["x"] / s["n"])
    assert back["batch"].equals(batch) and back["table"].equals(value["table"]) and back["arr"].equals(value["arr"])
    assert back["chunked"].equals(value["chunked"])
    later = pa.RecordBatch.from_pydict({"instruction": ["say HI!", "Count to four"], "input": ["", ""]})
    assert np.array_equal(back["dedupe"].find(back["dedupe"].prepare(later), np.arange(3, 5))[0],
                          d.find(d.prepare(later), np.arange(3, 5))[0])  # the seen keys came back


def test_a_state_that_is_not_plain_data_stops_the_snapshots_not_the_run(tmp_path, capsys):
    from artifactlens.engine.checkpoint import STATE_FILE, ResumableEngine

    class Opaque(_SumCheck):
        def map(self, batch, ctx):
            out = super().map(batch, ctx)
            out.state["opaque"] = SimpleNamespace(n=1)  # not a registered state type
            return out

        def merge(self, a, b):
            return {**super().merge(a, b), "opaque": a["opaque"]}
    got = ResumableEngine(tmp_path, "k", state_every_s=0).run(_batches(), [Opaque()])
    assert got["sum"]["sum"] == EXPECTED["sum"] and not (tmp_path / "k" / STATE_FILE).exists()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot save this pass's state" in err, err


def test_an_unregistered_object_is_not_written():
    from artifactlens import plain
    with pytest.raises(plain.NotPlain, match="not a registered state type"):
        plain.dumps({"x": _SumCheck()})
    with pytest.raises(plain.NotPlain, match="factory"):
        plain.dumps(defaultdict(lambda: 0))


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and all(_same(x, y) for x, y in zip(a.reshape(-1).tolist(), b.reshape(-1).tolist()))
    if isinstance(a, dict):
        return type(a) is type(b) and list(a) == list(b) and all(_same(a[k], b[k]) and type(a[k]) is type(b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) and type(x) is type(y) for x, y in zip(a, b))
    if isinstance(a, float) and np.isnan(a):
        return isinstance(b, float) and np.isnan(b)
    if isinstance(a, float):
        return a == b and str(a) == str(b)  # -0.0 stays -0.0
    return a == b and type(a) is type(b)


# ---------------------------------------------------------------------------------------------------------
# no network unless asked
# ---------------------------------------------------------------------------------------------------------
@pytest.fixture
def no_network(monkeypatch):
    attempts = []

    def refuse(*a, **k):
        attempts.append(a)
        raise OSError("network access attempted during an audit")

    real_connect = socket.socket.connect

    def connect(self, addr):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            refuse(addr)
        return real_connect(self, addr)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", lambda self, addr: refuse(addr))
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


@pytest.mark.parametrize("kind", list(SPECS))
def test_audits_use_no_network(run_cli, tmp_path, no_network, kind):
    built(kind)
    src = write(tmp_path / "in.jsonl", [SPECS[kind].row(i) for i in range(30)], "jsonl")
    code, _, err = run_cli("audit", kind, src, *SPECS[kind].args, "--json", tmp_path / "r.json",
                           "--html", tmp_path / "r.html", "--quiet")
    assert code == 0, err
    assert no_network == []
