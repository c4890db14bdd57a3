"""`artifactlens check CONFIG.toml`: exit 0 when every threshold holds, 1 naming each breach, 2 on a bad
config naming the line. A tiny audit module (registered for the test) computes a real rate from a CSV, so
the gate runs end to end without depending on the real audits; a last test uses a real one once landed."""
from __future__ import annotations

import csv
from dataclasses import dataclass

import pytest

from artifactlens.api import registry
from artifactlens.contract import HIGHER_IS_WORSE, Audit, MetricSpec, MetricTable
from artifactlens.gate import load_config, parse_threshold
from artifactlens.result import AuditResult, InputInfo
from support.samples import labels_result

KIND = "gatefake"


def audit_gatefake(path, flag: str = "flag", seed: int = 0) -> AuditResult:
    """Share of rows whose ``flag`` column is '1', with a normal-approximation interval."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    n = len(rows)
    k = sum(r[flag] == "1" for r in rows)
    p = k / n
    half = 1.96 * (p * (1 - p) / n) ** 0.5
    r = AuditResult(kind=KIND, title="fake", input=InputInfo(path=str(path), rows_read=n, rows_used=n),
                    params={"seed": seed})
    r.add_metric("flag_rate", p, "share of flagged rows", ci=(p - half, p + half), n=n)
    r.add_metric("rows", n, "rows read")
    r.headline = ["flag_rate"]
    return r


@dataclass
class GateFakeOptions:
    flag: str = "flag"


class GateFakeAudit(Audit):
    """A whole audit in a few lines: the contract's recipe, registered only for these tests."""

    kind, help, examples, Options = KIND, "fake", "examples:\n  artifactlens audit gatefake FILE\n", GateFakeOptions
    metrics = MetricTable((MetricSpec("flag_rate", worse=HIGHER_IS_WORSE, warn=0.2, bad=0.5, headline=True),))

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("file")
        parser.add_argument("--flag", default="flag")

    def compute(self, data, options, ctx):
        return audit_gatefake(data, options.flag, seed=ctx.seed)


@pytest.fixture
def fake_audit(monkeypatch, tmp_path):
    from artifactlens.contract import base as contract_base
    registry()  # discover the real audits first
    monkeypatch.setitem(contract_base._REGISTRY, KIND, GateFakeAudit)
    data = tmp_path / "data.csv"
    data.write_text("id,flag\n" + "".join(f"{i},{1 if i % 4 == 0 else 0}\n" for i in range(200)))  # 25% flagged
    GateFakeAudit.demo = (str(data), {})
    return data


def write(tmp_path, text, name="gate.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_all_thresholds_hold_exit_0(run_cli, fake_audit, tmp_path):
    cfg = write(tmp_path, f"""
[[audit]]
kind = "{KIND}"
path = "{fake_audit}"
[audit.thresholds]
flag_rate = "<= 0.3"
rows = {{ min = 100 }}
""")
    code, out, err = run_cli("check", cfg)
    assert code == 0, err
    assert "pass   gatefake: flag_rate = 0.25" in out and "required <= 0.3" in out
    assert "all 2 thresholds hold" in out


def test_breach_exit_1_names_each_breach(run_cli, fake_audit, tmp_path):
    cfg = write(tmp_path, f"""
[settings]
html = "{tmp_path / 'gate.html'}"
json_dir = "{tmp_path / 'results'}"

[[audit]]
kind = "{KIND}"
path = "{fake_audit}"
thresholds = {{ flag_rate = "< 0.2", rows = "> 500" }}
""")
    code, out, err = run_cli("check", cfg)
    assert code == 1
    assert "BREACH gatefake: flag_rate = 0.25" in out and "required < 0.2" in out
    assert "BREACH gatefake: rows = 200" in out
    assert "2 of 2 thresholds breached: gatefake.flag_rate, gatefake.rows" in err
    # the report's traffic lights follow the gate; the result JSON was written
    html = (tmp_path / "gate.html").read_text(encoding="utf-8")
    assert 'class="card bad" data-metric="flag_rate"' in html and "gate: &lt; 0.2" in html
    assert AuditResult.from_json(tmp_path / "results" / f"01-{KIND}.json")["flag_rate"] == pytest.approx(0.25)


def test_quiet_prints_breaches_only(run_cli, fake_audit, tmp_path):
    cfg = write(tmp_path, f'[[audit]]\nkind = "{KIND}"\npath = "{fake_audit}"\n'
                          f'thresholds = {{ flag_rate = "<= 0.3", rows = ">= 1000" }}\n')
    code, out, _ = run_cli("check", cfg, "--quiet")
    assert code == 1 and out.strip().splitlines() == [l for l in out.strip().splitlines() if "BREACH" in l]
    assert "flag_rate" not in out


def test_checks_existing_result_json_and_demo(run_cli, fake_audit, tmp_path):
    res = tmp_path / "labels.json"
    labels_result().to_json(res)
    cfg = write(tmp_path, f"""
[[audit]]
kind = "labels"
result = "{res}"
thresholds = {{ minority_erasure_rate = "<= 0.5", error_rate = "<= 0.05" }}

[[audit]]
kind = "{KIND}"
demo = true
thresholds = {{ flag_rate = "<= 0.5" }}
""")
    code, out, err = run_cli("check", cfg)
    assert code == 1
    assert "pass   labels: minority_erasure_rate = 0.42 [95% CI 0.35, 0.49]; required <= 0.5" in out
    assert "BREACH labels: error_rate = 0.08" in out
    assert "pass   gatefake: flag_rate = 0.25" in out


@pytest.mark.parametrize("text, line, words", [
    ('[[audit]]\nkind = "labels"\nthresholds = { x = "<= 0.5" \n', 3, "not valid TOML"),
    (f'[[audit]]\nkind = "{KIND}"\npath = "p"\n[audit.thresholds]\nflag_rate = "about 0.5"\n', 5,
     "threshold for 'flag_rate'"),
    ('[settings]\nstore = "a.duckdb"\ncolour = "red"\n[[audit]]\nkind = "labels"\n', 3, "unknown setting 'colour'"),
    ('[settings]\nseed = "one"\n[[audit]]\nkind = "labels"\n', 2, "seed must be an integer"),
    ('[[audit]]\nkind = "labels"\n\n[[audit]]\npath = "x.csv"\n', 4, "audit #2 needs kind"),
    ('[settings]\nseed = 1\n', None, "names no audit"),
    ('[[audit]]\nkind = "labels"\nresult = "r.json"\ntext = "text"\n', 4, "drop 'text'"),
])
def test_bad_config_exit_2_names_the_line(run_cli, fake_audit, tmp_path, text, line, words):
    code, out, err = run_cli("check", write(tmp_path, text))
    assert code == 2
    assert words in err
    assert err.count("\n") == 1 and "Traceback" not in err
    if line is not None:
        assert f"gate.toml: line {line}:" in err


def test_config_errors_found_only_when_running(run_cli, fake_audit, tmp_path):
    cfg = write(tmp_path, f'[[audit]]\nkind = "nosuchkind"\n\n[[audit]]\nkind = "{KIND}"\n')
    code, _, err = run_cli("check", cfg)
    assert code == 2 and "line 2" in err and "unknown audit kind 'nosuchkind'" in err
    cfg = write(tmp_path, f'[[audit]]\nkind = "{KIND}"\npath = "{fake_audit}"\nflagg = "flag"\n')
    code, _, err = run_cli("check", cfg)
    assert code == 2 and "line 4" in err and "'flagg'" in err and "options among: flag" in err
    cfg = write(tmp_path, f'[[audit]]\nkind = "{KIND}"\npath = "{fake_audit}"\n'
                          f'[audit.thresholds]\nflag_rate = "<= 1"\nfalg_rate = "<= 1"\n')
    code, _, err = run_cli("check", cfg)
    assert code == 2 and "line 6" in err and "no metric 'falg_rate'" in err and "flag_rate, rows" in err
    code, _, err = run_cli("check", tmp_path / "missing.toml")
    assert code == 2 and "no such config file" in err


def test_parse_threshold_forms():
    assert str(parse_threshold("m", "<= 0.5")) == "m <= 0.5"
    assert str(parse_threshold("m", ">=1e-3")) == "m >= 0.001"
    assert str(parse_threshold("m", {"min": 2})) == "m >= 2"
    t = parse_threshold("m", "< .1")
    assert t.holds(0.05) and not t.holds(0.1) and not t.holds(None)
    for bad in ("0.5", "<= x", {"max": "1"}, {"lo": 1}, 0.5):
        with pytest.raises(ValueError):
            parse_threshold("m", bad)


def test_load_config_reads_settings(tmp_path):
    cfg = load_config(write(tmp_path, '[settings]\nstore = "s.duckdb"\nseed = 7\n[[audit]]\nkind = "labels"\n'
                                      'path = "l.csv"\ntext = "t"\n[audit.thresholds]\nerror_rate = "<= 0.1"\n'))
    assert cfg.store == "s.duckdb" and cfg.seed == 7
    (a,) = cfg.audits
    assert a.options == {"path": "l.csv", "text": "t"} and [str(t) for t in a.thresholds] == ["error_rate <= 0.1"]


def test_real_audit_through_the_gate(run_cli, tmp_path):
    """A registered audit: its demo run by the gate, then its real figures held to thresholds."""
    from artifactlens.api import registry as available
    kinds = available()
    assert kinds, "no audit is registered"
    kind = next(iter(kinds))
    out = tmp_path / "results"
    run = write(tmp_path, f'[settings]\njson_dir = "{out}"\n[[audit]]\nkind = "{kind}"\ndemo = true\n')
    code, _, err = run_cli("check", run)
    assert code == 0, err
    res = out / f"01-{kind}.json"
    ref = AuditResult.from_json(res)
    name = next(n for n in ref.headline if isinstance(ref.metrics[n].value, (int, float)))
    v = ref.metrics[name].value
    ok = write(tmp_path, f'[[audit]]\nkind = "{kind}"\nresult = "{res}"\nthresholds = {{ {name} = "<= {v}" }}\n')
    assert run_cli("check", ok)[0] == 0
    bad = write(tmp_path, f'[[audit]]\nkind = "{kind}"\nresult = "{res}"\nthresholds = {{ {name} = "< {v}" }}\n')
    code, out_, _ = run_cli("check", bad)
    assert code == 1 and f"BREACH {kind}: {name} = {v:.4g}" in out_


def test_documented_examples(run_cli, tmp_path, monkeypatch):
    """examples/artifactlens-gate.toml on the demo labels through the real labels API; the CI files parse."""
    import shutil
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    try:
        import yaml
    except ImportError:
        yaml = None
    if yaml is not None:
        job = yaml.safe_load((root / "examples" / "github-actions-artifactlens.yml").read_text())
        steps = job["jobs"]["artifactlens"]["steps"]
        assert any("artifactlens check artifactlens-gate.toml" in s.get("run", "") for s in steps)
        hook = yaml.safe_load((root / "examples" / "pre-commit-config.yaml").read_text())["repos"][0]["hooks"][0]
        assert hook["entry"].startswith("artifactlens check ") and hook["pass_filenames"] is False
    cfg = load_config(root / "examples" / "artifactlens-gate.toml")
    assert [a.kind for a in cfg.audits] == ["labels"] and len(cfg.audits[0].thresholds) == 3

    from artifactlens.api import registry
    from artifactlens.audits.common import demo_path
    assert "labels" in registry()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    shutil.copy(demo_path("labels.csv"), tmp_path / "data" / "labels.csv")
    shutil.copy(root / "examples" / "artifactlens-gate.toml", tmp_path)
    code, out, err = run_cli("check", "artifactlens-gate.toml")
    # the demo data plants an erasure rate just over one half: the documented breach
    assert code == 1, err
    assert "BREACH labels: minority_erasure_rate" in out and "pass   labels: majority_match_rate" in out
    assert (tmp_path / "gate-report.html").exists() and (tmp_path / "gate-results" / "01-labels.json").exists()
    code, out, _ = run_cli("history")  # default store: audits.duckdb in the working directory
    assert code == 0 and "data/labels.csv" in out
