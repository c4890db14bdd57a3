"""CLI polish: every command's --help has examples, shell completion works in a real bash, --quiet and
--verbose behave, `report` merges results, the common options reach every audit, progress on stderr."""
from __future__ import annotations

import argparse
import shutil
import subprocess

import pytest

from artifactlens.audits.common import progress
from artifactlens.contract import RunOptions, add_run_arguments
from artifactlens.outputs import OutputOptions, add_output_arguments, write_outputs
from artifactlens.cli import build_parser, completion_script
from support.samples import labels_result, prefs_result

COMMANDS = ["audit", "demo", "report", "datasheet", "check", "history", "diff", "completion", "sample", "llm", "generate",
            "mitigate"]


@pytest.mark.parametrize("cmd", [[]] + [[c] for c in COMMANDS])
def test_help_has_examples(run_cli, cmd):
    code, out, _ = run_cli(*cmd, "--help")
    assert code == 0
    assert "examples:" in out and "artifactlens " in out.split("examples:")[1]


def test_every_audit_gets_the_common_options(run_cli):
    from artifactlens.api import registry as available
    for kind in available():
        code, out, _ = run_cli("audit", kind, "--help")
        if code != 0:
            continue  # an audit still being built is not offered
        for opt in ("--json", "--html", "--flags", "--seed", "--store", "--quiet", "--verbose"):
            assert opt in out, (kind, opt)


def test_run_and_output_options_from_args():
    p = argparse.ArgumentParser()
    add_run_arguments(p)
    add_output_arguments(p)
    a = p.parse_args(["--store", "h.duckdb", "--verbose", "--seed", "3", "--batch-size", "10"])
    r, o = RunOptions.from_args(a), OutputOptions.from_args(a)
    assert (o.store, r.verbose, r.quiet, r.seed, r.batch_size) == ("h.duckdb", True, False, 3, 10)
    assert RunOptions().quiet is True and OutputOptions().store is None


def test_report_merges_and_quiet_verbose(run_cli, tmp_path):
    a, b = tmp_path / "labels.json", tmp_path / "prefs.json"
    labels_result().to_json(a)
    prefs_result().to_json(b)
    out = tmp_path / "r.html"
    code, stdout, _ = run_cli("report", a, b, "-o", out)
    assert code == 0 and stdout.strip() == f"wrote {out} (2 audits)"
    html = out.read_text(encoding="utf-8")
    assert html.count('class="family"') == 2
    code, stdout, _ = run_cli("report", a, "-o", out, "--quiet")
    assert code == 0 and stdout == ""
    code, _, err = run_cli("report", a, tmp_path / "missing.json", "-o", out)
    assert code == 2 and "missing.json: no such file" in err


def test_write_outputs_verbose_says_what_it_wrote(tmp_path, capsys):
    log = RunOptions(verbose=True).log
    write_outputs(labels_result(), json=str(tmp_path / "l.json"), html=str(tmp_path / "l.html"),
                  store=str(tmp_path / "h.duckdb"), log=log)
    err = capsys.readouterr().err
    assert f"wrote {tmp_path / 'l.json'}" in err and f"wrote {tmp_path / 'l.html'}" in err
    assert f"stored run 1 in {tmp_path / 'h.duckdb'}" in err
    write_outputs(labels_result(), json=str(tmp_path / "l.json"), log=RunOptions().log)
    assert capsys.readouterr().err == ""


def test_progress_yields_everything_and_stays_off_when_not_a_tty(capsys):
    assert list(progress(range(5), "x")) == [0, 1, 2, 3, 4]
    assert list(progress(iter("abc"), "x", quiet=True)) == ["a", "b", "c"]
    assert capsys.readouterr().err == ""  # pytest's stderr is not a terminal: no bar drawn


@pytest.mark.skipif(not shutil.which("script"), reason="util-linux `script` is needed to fake a terminal")
def test_progress_bar_drawn_on_a_terminal_after_a_second(tmp_path):
    import sys
    code = ("import time, sys; from artifactlens.audits.common import progress\n"
            "for i in progress(range(30), 'embedding', delay=0.2): time.sleep(0.02)\n"
            "print('done', file=sys.stderr)")
    run = subprocess.run(["script", "-qec", f"{sys.executable} -c \"{code}\"", "/dev/null"],
                         capture_output=True, text=True, timeout=60)
    assert "embedding" in run.stdout and "done" in run.stdout, run.stdout[-500:]
    quick = code.replace("range(30)", "range(3)")  # shorter than the delay: no bar at all
    run = subprocess.run(["script", "-qec", f"{sys.executable} -c \"{quick}\"", "/dev/null"],
                         capture_output=True, text=True, timeout=60)
    assert "embedding" not in run.stdout


@pytest.mark.skipif(not shutil.which("bash"), reason="bash not installed")
def test_bash_completion_completes(tmp_path):
    script = tmp_path / "c.sh"
    script.write_text(completion_script(build_parser(), "bash"))

    def complete(*words):
        w = " ".join(f"'{x}'" for x in words)
        run = subprocess.run(["bash", "-c", f"source {script}; COMP_WORDS=(artifactlens {w}); "
                              f"COMP_CWORD={len(words)}; _artifactlens; echo \"${{COMPREPLY[*]}}\""],
                             capture_output=True, text=True, timeout=30)
        assert run.returncode == 0, run.stderr
        return run.stdout.split()
    assert complete("rep") == ["report"]
    assert set(complete("")) >= {"audit", "report", "check", "history", "diff", "datasheet", "completion"}
    assert complete("report", "--ti") == ["--title"]
    assert complete("check", "--js") == ["--json-dir"]
    assert complete("completion", "fi") == ["fish"]
    from artifactlens.api import registry as available
    if available():
        kinds = complete("audit", "")
        assert kinds and set(kinds) <= set(available())
        assert "--store" in complete("audit", kinds[0], "--st")


def test_zsh_and_fish_scripts(run_cli):
    code, out, _ = run_cli("completion", "zsh")
    assert code == 0 and out.startswith("autoload -U +X bashcompinit") and "complete -o filenames -F" in out
    code, out, _ = run_cli("completion", "fish")
    assert code == 0 and "complete -c artifactlens -f -n '__fish_use_subcommand' -a 'audit demo" in out
    assert "-n '__fish_seen_subcommand_from check' -l json-dir" in out
    if shutil.which("fish"):
        assert subprocess.run(["fish", "-n", "-c", out], timeout=30).returncode == 0


def test_version(run_cli):
    from artifactlens import __version__
    code, out, _ = run_cli("--version")
    assert code == 0 and out.strip() == f"artifactlens {__version__}"
