"""The house: imports run one way. No import circle among artifactlens modules (counting imports inside
functions, which must not be used to dodge one), no audit imports the report, the history, the outputs,
the gate or the CLI, and the contract never imports an audit."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "artifactlens"


def _modules() -> dict[str, Path]:
    out = {}
    for p in SRC.rglob("*.py"):
        parts = p.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


def _runtime_nodes(tree):
    """Every node but those under ``if TYPE_CHECKING:`` (annotations only, never run)."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for b in node.body for n in ast.walk(b))
    return [n for n in ast.walk(tree) if id(n) not in skip]


def import_graph() -> dict[str, set[str]]:
    mods = _modules()
    graph = {m: set() for m in mods}
    for m, p in mods.items():
        pkg = m if p.name == "__init__.py" else m.rsplit(".", 1)[0]
        for node in _runtime_nodes(ast.parse(p.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.ImportFrom):
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else [])) if node.level else node.module
                targets = [f"{target}.{a.name}" if f"{target}.{a.name}" in mods else target for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            graph[m].update(t for t in targets if t in mods and t != m)
    return graph


def cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle():
    assert cycles(import_graph()) == []


ABOVE_THE_AUDITS = ("artifactlens.report", "artifactlens.history", "artifactlens.outputs", "artifactlens.gate",
                    "artifactlens.cli", "artifactlens.demo", "artifactlens.api", "artifactlens.datasheet")


@pytest.mark.parametrize("layer,forbidden", [
    ("artifactlens.audits", ABOVE_THE_AUDITS),
    ("artifactlens.contract", ("artifactlens.audits", *ABOVE_THE_AUDITS)),
    ("artifactlens.engine", ("artifactlens.audits", "artifactlens.contract", *ABOVE_THE_AUDITS)),
    ("artifactlens.result", ("artifactlens.audits", "artifactlens.contract", "artifactlens.gate", "artifactlens.api")),
])
def test_imports_run_one_way(layer, forbidden):
    bad = [(m, t) for m, ts in import_graph().items() if m == layer or m.startswith(layer + ".")
           for t in ts if any(t == f or t.startswith(f + ".") for f in forbidden)]
    assert not bad, bad


TESTS = Path(__file__).resolve().parent
NOT_MIRRORED = {"support", "fixtures"}  # shared test helpers and data files


def test_test_folders_mirror_src():
    """tests/<path>/ holds the tests of src/artifactlens/<path>/ (cross-cutting suites stay at the top)."""
    folders = [p for p in TESTS.rglob("*") if p.is_dir() and "__pycache__" not in p.parts
               and not NOT_MIRRORED & set(p.relative_to(TESTS).parts)]
    assert folders, "no test folders found"
    for d in folders:
        assert (SRC / d.relative_to(TESTS)).is_dir(), f"tests/{d.relative_to(TESTS)} mirrors no src folder"


def test_test_modules_never_import_each_other():
    """What two test modules share lives in tests/support/ (or is a conftest fixture)."""
    for p in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            bad = [n for n in names if n.split(".")[-1].startswith("test_") or n.startswith("tests")]
            assert not bad, f"{p.relative_to(TESTS)} imports the test module {bad[0]}"
