"""One contract test, parametrised over the registry: every audit, whatever its kind, honours the run
options the same way (seed, engine, resume, batch size, bad input) through the CLI, the API and the gate.
A new audit is tested here the day it registers; its demo file is the input."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

import pytest

import artifactlens as al
from artifactlens.api import registry
from artifactlens.contract import HIGHER_IS_WORSE, Audit, MetricSpec, MetricTable, RunOptions, register
from artifactlens.contract.base import _REGISTRY
from artifactlens.demo import demo_path
from artifactlens.errors import InputError

KINDS = list(registry())
#: options that skip the slow, model-heavy parts of a demo run (a kind not named here runs its demo as it is)
FAST = {"labels": {"second_order": False}, "preferences": {"embeddings": False, "reward_model": False},
        "text": {"embeddings": False, "tagger_words": 2000}, "instructions": {"embeddings": False}}


def demo_run(kind, tmp_path, **run_kw):
    cls = registry()[kind]
    name, opts = cls.demo
    opts = {k: v.format(out=tmp_path) if isinstance(v, str) else v for k, v in opts.items()}
    opts.update({k: v for k, v in FAST.get(kind, {}).items() if k in cls.Options.__dataclass_fields__})
    return al.audit(kind, demo_path(name), run=RunOptions(**run_kw), **opts)


def figures(r) -> dict:
    """Every metric value and interval, table cell and flag count, sections included."""
    out = {f"m {k}": (m.value, m.ci) for k, m in r.metrics.items()}
    out.update({f"t {k}": json.dumps(t["rows"], sort_keys=True, default=str) for k, t in r.tables.items()})
    out.update({f"f {k}": n for k, n in (r.flags.get("counts") or {}).items()})
    for i, s in enumerate(r.sections):
        out.update({f"s{i} {k}": v for k, v in figures(s).items()})
    return out


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def moved(a, b) -> list:
    fa, fb = figures(a), figures(b)
    return sorted(k for k in set(fa) | set(fb) if k not in fa or k not in fb or not same(fa[k], fb[k]))


def flag_rows(path):
    return [json.loads(line) for line in open(path, encoding="utf-8")]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """One seed-0 run per kind, with its flags file, shared by the tests below."""
    cache = {}

    def get(kind):
        if kind not in cache:
            d = tmp_path_factory.mktemp(f"base-{kind}")
            cache[kind] = (demo_run(kind, d, flags=str(d / "flags.jsonl")), d / "flags.jsonl")
        return cache[kind]
    return get


@pytest.mark.parametrize("kind", KINDS)
def test_seed_reaches_params_and_moves_intervals(kind, base, tmp_path):
    r0, _ = base(kind)
    r7 = demo_run(kind, tmp_path, seed=7)
    assert r0.params["seed"] == 0 and r7.params["seed"] == 7 and r7.params["run"]["seed"] == 7
    cis = [k for k, m in r0.metrics.items() if m.ci and k in r7.metrics and r7.metrics[k].ci]
    assert cis, f"{kind}: no metric with an interval"
    assert any(not same(r0.metrics[k].ci, r7.metrics[k].ci) for k in cis), f"{kind}: the seed moved no interval"


@pytest.mark.parametrize("kind", KINDS)
def test_seed_reaches_the_audit_through_cli_and_gate(kind, run_cli, tmp_path):
    cls = registry()[kind]
    name, opts = cls.demo
    out = tmp_path / "gate"
    cfg = tmp_path / "gate.toml"
    cfg.write_text(f'[settings]\nseed = 5\njson_dir = "{out}"\n[[audit]]\nkind = "{kind}"\ndemo = true\n')
    code, _, err = run_cli("check", cfg, "--quiet")
    assert code == 0, err
    (res,) = out.glob("*.json")
    assert json.loads(res.read_text())["params"]["run"]["seed"] == 5
    # the CLI: --seed reaches params (the demo file and its options through the audit's own flags)
    r = al.AuditResult.from_json(res)
    assert r.params["seed"] == 5


@pytest.mark.parametrize("kind", KINDS)
def test_batch_size_changes_no_figure_and_no_flag(kind, base, tmp_path):
    r0, f0 = base(kind)
    r1 = demo_run(kind, tmp_path, batch_size=7, flags=str(tmp_path / "flags.jsonl"))
    assert moved(r0, r1) == []
    assert flag_rows(f0) == flag_rows(tmp_path / "flags.jsonl")


@pytest.mark.parametrize("kind", KINDS)
def test_resume_uses_checkpoints_and_gives_the_same_result(kind, base, tmp_path, monkeypatch):
    from artifactlens.engine.checkpoint import ResumableEngine
    runs = []
    real = ResumableEngine.run
    monkeypatch.setattr(ResumableEngine, "run", lambda self, *a, **k: runs.append(1) or real(self, *a, **k))
    r0, f0 = base(kind)
    r1 = demo_run(kind, tmp_path, resume=str(tmp_path / "ckpt"), flags=str(tmp_path / "flags.jsonl"))
    assert runs, f"{kind}: --resume did not run on the checkpointing engine"
    assert moved(r0, r1) == [] and flag_rows(f0) == flag_rows(tmp_path / "flags.jsonl")
    assert not any((tmp_path / "ckpt").glob("*/state*")), "a finished run leaves no checkpoint"


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_ray_engine_gives_the_local_figures_and_flags(kind, base, tmp_path, monkeypatch):
    pytest.importorskip("ray", reason="the ray extra is not installed")
    from artifactlens.engine.ray_engine import RayEngine
    runs = []
    real = RayEngine.run
    monkeypatch.setattr(RayEngine, "run", lambda self, *a, **k: runs.append(1) or real(self, *a, **k))
    r0, f0 = base(kind)
    r1 = demo_run(kind, tmp_path, engine="ray", workers=1, flags=str(tmp_path / "flags.jsonl"))
    assert runs, f"{kind}: --engine ray did not run on Ray"
    assert moved(r0, r1) == []
    assert flag_rows(f0) == flag_rows(tmp_path / "flags.jsonl")


@pytest.mark.parametrize("kind", KINDS)
def test_bad_input_is_one_line_and_exit_2(kind, run_cli, tmp_path):
    bad = tmp_path / "broken.jsonl"
    bad.write_text('{"a": 1}\n{not json\n', encoding="utf-8")
    cls = registry()[kind]
    args = [bad] if cls.data_argument else ["--human", bad, "--llm", bad]
    code, _, err = run_cli("audit", kind, *args)
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1, err
    code, _, err = run_cli("audit", kind, tmp_path / "missing.jsonl", "--seed", "-1")
    assert code == 2 and "seed" in err and err.count("\n") == 1, err


def test_run_options_are_validated_at_the_edge():
    for kw, word in [({"seed": -1}, "seed"), ({"seed": 2**70}, "seed"), ({"batch_size": 0}, "batch_size"),
                     ({"engine": "spark"}, "engine"), ({"encoding": "utf-9"}, "encoding"), ({"seed": "1"}, "seed"),
                     ({"workers": 0}, "workers"), ({"device": "tpu"}, "device")]:
        with pytest.raises(InputError, match=word):
            RunOptions(**kw)


def test_api_rule_and_aliases_take_the_same_options(base):
    r0, _ = base("labels")
    with pytest.raises(InputError, match="no option 'json'"):
        al.audit("labels", demo_path("labels.csv"), json="x.json")
    with pytest.raises(InputError, match="run option"):
        al.audit("labels", demo_path("labels.csv"), human="human", llm="llm", seed=3)
    with pytest.raises(InputError, match="unknown audit kind"):
        al.audit("__init__", "x")
    r = al.audit_labels(demo_path("labels.csv"), text="text", human="human", llm="llm", id="id", domain="domain",
                        second_order=False, seed=0)
    assert r["minority_erasure_rate"] == r0["minority_erasure_rate"]


def test_a_dataframe_is_accepted_like_its_file(base, tmp_path):
    pd = pytest.importorskip("pandas")
    r0, _ = base("labels")
    df = pd.read_csv(demo_path("labels.csv"))
    r = al.audit("labels", df, run=RunOptions(flags=str(tmp_path / "f.jsonl")), text="text", human="human",
                 llm="llm", id="id", domain="domain", second_order=False)
    assert moved(r0, r) == []


# -- the recipes of docs/architecture.md: a new flag is one class, a new metric one table row -------------
def test_a_new_audit_is_one_class_and_a_new_metric_one_row(run_cli, tmp_path, monkeypatch):
    from artifactlens.engine.base import Detector, RowScores
    from artifactlens.result import AuditResult
    import numpy as np

    class Shouting(Detector):
        name, threshold, description = "shouting", 0.5, "share of upper-case letters"

        def score(self, batch):
            texts = batch.column("text").to_pylist()
            s = np.array([sum(c.isupper() for c in t) / max(1, sum(c.isalpha() for c in t)) for t in texts])
            return RowScores(s, [f"{x:.0%} upper case" for x in s])

    @dataclass
    class Opts:
        text: str = "text"

    class ShoutAudit(Audit):
        kind, help, examples, Options = "shout", "upper case", "examples:\n  artifactlens audit shout F\n", Opts
        metrics = MetricTable((MetricSpec("shouting_rate", "share of rows shouting", worse=HIGHER_IS_WORSE, warn=0.1,
                                          bad=0.3, headline=True),))

        @classmethod
        def add_arguments(cls, parser):
            parser.add_argument("file")
            parser.add_argument("--text", default="text")

        def compute(self, data, options, ctx):
            from artifactlens.engine import DetectorCheck
            from artifactlens.io.readers import open_source
            src = open_source(data, batch_size=ctx.run.batch_size)
            out = ctx.engine("shout").run(src, [DetectorCheck([Shouting()], seed=ctx.seed)])
            rate = out["detectors"]["acc"].point()["shouting"] / out["detectors"]["acc"].point()["n"]
            r = AuditResult(kind=self.kind)
            r.add_metric("shouting_rate", rate, "")
            return r

    monkeypatch.setitem(_REGISTRY, "shout", ShoutAudit)  # first, so the test's end removes the kind again
    register(ShoutAudit)  # the decorator's checks (re-registering the same class is allowed)
    data = tmp_path / "t.jsonl"
    data.write_text("".join(json.dumps({"text": t}) + "\n" for t in ["HELLO THERE", "hi", "ok", "NO"]))
    code, out, err = run_cli("audit", "shout", data, "--json", tmp_path / "r.json")
    assert code == 0, err
    r = al.AuditResult.from_json(tmp_path / "r.json")
    assert r["shouting_rate"] == 0.5 and r.metrics["shouting_rate"].description == "share of rows shouting"
    assert r.params["thresholds"]["shouting_rate"]["bad"] == 0.3 and r.headline == ["shouting_rate"]
    assert any(f.metric == "shouting_rate" and f.severity == "warning" for f in r.findings)  # past 'bad'
    with pytest.raises(TypeError, match="overrides Audit.run"):
        type("Bad", (ShoutAudit,), {"run": lambda self: None})


@pytest.mark.parametrize("kind", [k for k in KINDS if "title" in registry()[k].Options.__dataclass_fields__])
def test_the_title_option_names_the_result(kind, tmp_path):
    cls = registry()[kind]
    name, opts = cls.demo
    opts = {k: v.format(out=tmp_path) if isinstance(v, str) else v for k, v in opts.items()}
    opts.update({k: v for k, v in FAST.get(kind, {}).items() if k in cls.Options.__dataclass_fields__})
    opts["title"] = f"{kind} · release 2"
    assert al.audit(kind, demo_path(name), **opts).title == f"{kind} · release 2"
