"""The ``artifactlens`` command line.

    artifactlens audit KIND FILE [options]   # KIND: labels, preferences, instructions, simulations, text
    artifactlens demo [--out DIR]            # every audit on the demo data shipped in the package
    artifactlens report RESULT.json... -o report.html
    artifactlens datasheet RESULT.json... -o DATASHEET.md --model NAME --prompt TEXT --date DATE [--croissant C.json]
    artifactlens review RESULT.json -o queue.csv [--n 200] [--html queue.html]   # rows to check by hand
    artifactlens mitigate KIND FILE --result RESULT.json -o OUT [--json A.json]  # apply a fix, audit again
    artifactlens check CONFIG.toml           # the CI gate: exit 0 pass, 1 breach, 2 bad config
    artifactlens history [--store DB]        # runs stored with --store
    artifactlens diff RUN RUN [--store DB]   # which metrics moved beyond their intervals
    artifactlens completion bash|zsh|fish    # a shell completion script

A user mistake prints one line naming file, line/row, column and what was expected, and exits 2.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ._version import __version__
from .errors import EXIT_INPUT_ERROR, InputError, os_error, safe_text

EPILOG = """examples:
  artifactlens demo --out artifactlens-demo
  artifactlens audit labels labels.csv --text text --human human --llm llm --json labels.json --html labels.html
  artifactlens audit preferences pairs.jsonl --a response_a --b response_b --human human --judge judge
  artifactlens audit instructions alpaca.json --clean cleaned.jsonl
  artifactlens audit simulations transcripts.jsonl --format spp
  artifactlens audit text --human human.jsonl --llm llm.jsonl
  artifactlens report labels.json prefs.json -o report.html
  artifactlens datasheet labels.json -o DATASHEET.md --model gpt-4o --date 2024-05-01
  artifactlens check artifactlens-gate.toml
  artifactlens history --store audits.duckdb && artifactlens diff -2 -1 --store audits.duckdb
  eval "$(artifactlens completion bash)"
"""

STORE_ENV = "ARTIFACTLENS_STORE"


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _sub(sub, name: str, help: str, examples: str, description: str | None = None):
    return sub.add_parser(name, help=help, description=description or help, epilog="examples:\n" + examples,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def _talk(p) -> None:
    p.add_argument("--quiet", action="store_true", help="print nothing but errors (and no progress bars)")
    p.add_argument("--verbose", action="store_true", help="say what is read, computed and written (on stderr)")


def _store_arg(p, help="the audit history (DuckDB file)") -> None:
    p.add_argument("--store", metavar="DB", default=os.environ.get(STORE_ENV, "audits.duckdb"),
                   help=f"{help}; default ${STORE_ENV} or audits.duckdb")


def build_parser() -> argparse.ArgumentParser:
    from .api import registry
    from .contract import add_run_arguments
    from .outputs import add_output_arguments
    p = argparse.ArgumentParser(prog="artifactlens", description="Find the artifacts in LLM-generated data.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"artifactlens {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    audit = _sub(sub, "audit", "audit one data set", "  artifactlens audit labels labels.csv --text text --human "
                 "human --llm llm --json labels.json\n  artifactlens audit KIND --help   # every option of KIND\n",
                 description="Audit one data set of one kind.")
    kinds = audit.add_subparsers(dest="kind", metavar="KIND")
    kinds.required = True
    for kind, cls in registry().items():
        kp = kinds.add_parser(kind, help=cls.help, description=cls.help, epilog=cls.examples,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
        cls.add_arguments(kp)
        add_run_arguments(kp)
        add_output_arguments(kp)
        kp.set_defaults(_audit=cls)

    demo = _sub(sub, "demo", "run every audit on the demo data and write the report",
                "  artifactlens demo --out artifactlens-demo\n  artifactlens demo --store audits.duckdb\n")
    demo.add_argument("--out", default="artifactlens-demo", help="output folder (default artifactlens-demo)")
    demo.add_argument("--seed", type=int, default=0, help="seed for intervals and splits (default 0)")
    demo.add_argument("--store", metavar="DB", help="also append every result to this audit history")
    _talk(demo)

    rep = _sub(sub, "report", "merge result JSON files into one HTML report",
               "  artifactlens report labels.json prefs.json -o report.html\n"
               "  artifactlens report out/*.json -o report.html --gate artifactlens-gate.toml\n")
    rep.add_argument("results", nargs="+", metavar="RESULT.json")
    rep.add_argument("-o", "--out", required=True, metavar="OUT.html")
    rep.add_argument("--title", default="artifactlens report", help="page title")
    rep.add_argument("--gate", metavar="CONFIG.toml", help="traffic lights from this gate config's thresholds")
    _talk(rep)

    smp = _sub(sub, "sample", "draw a stratified sample of an audit's rows to check by hand",
               "  artifactlens sample instructions r.json --n 200 -o to_check.csv\n")
    smp.add_argument("kind", choices=["instructions"])
    smp.add_argument("result", metavar="RESULT", help="a result JSON of a run with --flags/--clean, or the flags file")
    smp.add_argument("--n", type=int, default=200, help="rows to draw (default 200)")
    smp.add_argument("-o", "--out", required=True, metavar="OUT.csv")
    smp.add_argument("--seed", type=int, default=0, help="seed of the draw (default 0)")

    ds = _sub(sub, "datasheet", "write a data card (Markdown) for the synthetic data set",
              "  artifactlens datasheet labels.json prefs.json -o DATASHEET.md \\\n"
              "      --name 'support-intents-synth' --model 'gpt-4o-2024-05-13' --date 2024-06-01 \\\n"
              "      --prompt \"$(cat prompt.txt)\"\n")
    ds.add_argument("results", nargs="+", metavar="RESULT.json")
    ds.add_argument("-o", "--out", required=True, metavar="OUT.md")
    ds.add_argument("--name", help="the data set's name (default: the audited file)")
    ds.add_argument("--model", help="the model that generated the data, as you state it")
    ds.add_argument("--prompt", help="the generation prompt, as you state it (text, or @FILE to read it)")
    ds.add_argument("--date", help="when the data was generated, as you state it")
    ds.add_argument("--license", help="the data set's license (YAML front matter)")
    ds.add_argument("--croissant", metavar="OUT.json", help="also a Croissant 1.1 record (JSON-LD) with the "
                    "Responsible-AI fields filled from the results")
    _talk(ds)

    chk = _sub(sub, "check", "CI gate: run the audits a TOML config names and hold metrics to thresholds",
               "  artifactlens check artifactlens-gate.toml          # exit 0 pass, 1 breach, 2 bad config\n"
               "  artifactlens check gate.toml --html gate.html --store audits.duckdb\n"
               "see docs/ci-gate.md for the config, a GitHub Actions job and a pre-commit hook\n",
               description="Run the audits a config names; exit 0 when every threshold holds, 1 naming each "
                           "breach, 2 on a bad config.")
    chk.add_argument("config", metavar="CONFIG.toml")
    chk.add_argument("--html", metavar="OUT.html", help="also write the report (overrides the config's html)")
    chk.add_argument("--json-dir", metavar="DIR", help="also write every result JSON here")
    chk.add_argument("--store", metavar="DB", help="also append every result to this audit history")
    _talk(chk)

    hist = _sub(sub, "history", "list the audit runs stored with --store",
                "  artifactlens history\n  artifactlens history --store audits.duckdb --kind labels\n")
    _store_arg(hist)
    hist.add_argument("--kind", help="only runs of this audit kind")
    hist.add_argument("--dataset", metavar="SHA256", help="only runs on data with this sha256 (a prefix will do)")
    hist.add_argument("--json", action="store_true", help="print the runs as JSON")
    hist.add_argument("--add", nargs="+", metavar="RESULT.json", help="store these result files first")
    _talk(hist)

    diff = _sub(sub, "diff", "which metrics moved beyond their 95%% intervals between two runs",
                "  artifactlens diff 3 7                # run ids from `artifactlens history`\n"
                "  artifactlens diff -2 -1              # the last two runs\n"
                "  artifactlens diff old.json new.json  # two result files\n")
    diff.add_argument("a", metavar="RUN", help="a run id, a result JSON, or negative: counted back through the runs "
                      "of the newest run's kind on the same data set (-1 the latest)")
    diff.add_argument("b", metavar="RUN")
    _store_arg(diff)
    diff.add_argument("--kind", help="count negative RUNs back through the runs of this kind (default: the "
                      "newest run's kind and data set)")
    diff.add_argument("--all", action="store_true", help="also list metrics that did not move")
    diff.add_argument("--fail-on-move", action="store_true", help="exit 1 when a metric moved (for CI)")
    _talk(diff)

    from .models.cli import add_subcommands as add_model_subcommands
    add_model_subcommands(sub)  # artifactlens llm serve, artifactlens generate labels|judgments|roleplay
    from .review import add_subcommands as add_review_subcommands
    add_review_subcommands(sub)  # artifactlens review RESULT.json -o queue.csv
    from .mitigate.cli import add_subcommands as add_mitigate_subcommands
    add_mitigate_subcommands(sub)  # artifactlens mitigate KIND FILE --result RESULT.json -o OUT

    comp = _sub(sub, "completion", "print a shell completion script",
                '  eval "$(artifactlens completion bash)"            # in ~/.bashrc\n'
                '  artifactlens completion zsh > "${fpath[1]}/_artifactlens"\n'
                "  artifactlens completion fish > ~/.config/fish/completions/artifactlens.fish\n")
    comp.add_argument("shell", choices=["bash", "zsh", "fish"])
    return p


# -- commands ------------------------------------------------------------------------------------------
def _log(args, msg: str) -> None:
    if getattr(args, "verbose", False):
        print(f"artifactlens: {msg}", file=sys.stderr, flush=True)


def _say(args, msg: str) -> None:
    if not getattr(args, "quiet", False):
        print(msg)


def load_results(paths) -> list:
    from .result import AuditResult
    results = []
    for r in paths:
        if not Path(r).is_file():
            raise InputError("no such file", path=r, expected="a result JSON written by artifactlens")
        try:
            results.append(AuditResult.from_json(r))
        except (ValueError, KeyError, TypeError) as e:
            raise InputError(f"not an artifactlens result ({e})", path=r, expected="a result JSON") from None
    return results


def cmd_audit(args) -> int:
    from .contract import RunOptions
    from .outputs import OutputOptions, write_outputs
    from .io.writers import check_writable, guard_outputs
    cls = args._audit
    run = RunOptions.from_args(args)
    outs = {f"--{k}": getattr(args, k, None) for k in ("json", "html", "flags", "clean", "store")}
    if outs["--clean"]:
        p = Path(outs["--clean"])
        outs["--clean (.kept)"] = str(p.with_name(f"{p.stem}.kept{p.suffix}"))
    skip = {"json", "html", "flags", "clean", "store", "resume", "_audit", "command", "kind"}
    ins = [v for k, v in vars(args).items() if k not in skip and isinstance(v, (str, os.PathLike)) and str(v)
           and os.path.exists(v)]
    guard_outputs(ins, outs)
    for opt, path in outs.items():
        if path:
            check_writable(path, opt.split()[0])
    options = cls.options_from_args(args)
    result = cls().run(cls.data_from_args(args), options, run=run)
    write_outputs(result, OutputOptions.from_args(args), log=run.log)
    if not args.quiet:
        _summary(result)
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo
    out = run_demo(args.out, seed=args.seed, quiet=args.quiet)
    files = sorted(out.glob("*.json"))
    if args.store:
        from .history import HistoryStore
        with HistoryStore(args.store) as h:
            ids = [h.append(r) for r in load_results(files)]
        _log(args, f"stored runs {ids} in {args.store}")
    _say(args, f"wrote {out / 'report.html'} and {len(files)} result files to {out}/")
    return 0


def cmd_report(args) -> int:
    from .report.html import write_report
    results = load_results(args.results)
    gate = None
    if args.gate:
        from .gate import load_config
        gate = load_config(args.gate)
    write_report(results, args.out, title=args.title, gate=gate)
    _say(args, f"wrote {args.out} ({len(results)} audits)")
    return 0


def cmd_sample(args) -> int:
    from .audits.instructions.checked import sample_from_result
    n = sample_from_result(args.result, args.n, args.out, seed=args.seed)
    print(f"{n} rows to check written to {args.out}: fill in 'wrong' (and 'error_type'), then --checked {args.out}")
    return 0


def cmd_datasheet(args) -> int:
    from .datasheet import write_datasheet
    prompt = args.prompt
    if prompt and prompt.startswith("@"):
        pp = Path(prompt[1:])
        if not pp.is_file():
            raise InputError("no such prompt file", path=pp, expected="--prompt TEXT or --prompt @FILE")
        prompt = pp.read_text(encoding="utf-8")
    results = load_results(args.results)
    stated = dict(name=args.name, model=args.model, prompt=prompt, date=args.date, license=args.license)
    write_datasheet(results, args.out, **stated)
    if args.croissant:
        from .croissant import write_croissant
        write_croissant(results, args.croissant, **stated)
    _say(args, f"wrote {args.out}" + (f" and {args.croissant}" if args.croissant else ""))
    return 0


def cmd_check(args) -> int:
    from .gate import load_config, run_gate
    cfg = load_config(args.config)
    for k in ("html", "json_dir", "store"):
        if getattr(args, k):
            setattr(cfg, k, getattr(args, k))
    _log(args, f"{args.config}: {len(cfg.audits)} audits, {sum(len(a.thresholds) for a in cfg.audits)} thresholds")
    results, outcomes = run_gate(cfg, quiet=args.quiet, verbose=args.verbose,
                                 log=lambda m: _log(args, m))
    breaches = [o for o in outcomes if not o.passed]
    for o in outcomes:
        if not o.passed or not args.quiet:
            print(o.line(), file=sys.stdout)
    if breaches:
        print(f"artifactlens check: {len(breaches)} of {len(outcomes)} thresholds breached: "
              + ", ".join(f"{o.kind}.{o.threshold.metric}" for o in breaches), file=sys.stderr)
        return 1
    _say(args, f"artifactlens check: all {len(outcomes)} thresholds hold ({len(results)} audits)")
    return 0


def cmd_history(args) -> int:
    import json
    from .history import HistoryStore, format_runs
    if args.add:
        results = load_results(args.add)
        with HistoryStore(args.store) as h:
            ids = [h.append(r) for r in results]
        _log(args, f"stored runs {ids} in {args.store}")
    with HistoryStore(args.store, read_only=True) as h:
        runs = h.runs(kind=args.kind, sha256=args.dataset)
        print(json.dumps(runs, indent=1) if args.json else format_runs(runs, h))
    return 0


def _series_ids(h, kind) -> list[int]:
    """The run ids a negative RUN counts back through: the runs of the newest run's kind (or ``--kind``) on
    the same data set (its input path), oldest first."""
    runs = h.runs(kind=kind)
    if not runs:
        raise InputError("no run in the history" + (f" of kind {kind!r}" if kind else ""), path=str(h.path),
                         expected="runs stored with --store (see `artifactlens history`)")
    last = runs[-1]
    return [r["run_id"] for r in runs if r["kind"] == last["kind"] and r["dataset"] == last["dataset"]]


def _run_id(h, spec, series) -> int:
    try:
        i = int(spec)
    except ValueError:
        return h.resolve(spec)
    if i >= 0:
        return h.resolve(i)
    if len(series) < -i:
        raise InputError(f"run {spec}: only {len(series)} runs of this kind on this data set", path=str(h.path),
                         expected="an explicit run id from `artifactlens history`, or --kind KIND")
    return series[i]


def cmd_diff(args) -> int:
    from .history import HistoryStore, diff_metrics, format_diff, result_metrics

    def side(spec, h, series):
        if spec.endswith(".json"):
            r = load_results([spec])[0]
            return r, result_metrics(r), f"{spec} ({r.kind})"
        rid = _run_id(h, spec, series)
        r = h.result(rid)
        return r, h.metrics(rid), f"run {rid} ({r.kind}, {(r.input.sha256 or '')[:12]})"

    needs_store = not (args.a.endswith(".json") and args.b.endswith(".json"))
    h = HistoryStore(args.store, read_only=True) if needs_store else None
    try:
        relative = [x for x in (args.a, args.b) if x.lstrip("-").isdigit() and x.startswith("-")]
        series = _series_ids(h, args.kind) if h is not None and relative else []
        (ra, ma, la), (rb, mb, lb) = side(args.a, h, series), side(args.b, h, series)
    finally:
        if h is not None:
            h.close()
    if ra.kind != rb.kind:
        raise InputError(f"cannot compare a {ra.kind} run with a {rb.kind} run", path=args.store if needs_store
                         else None, expected="two runs of the same audit kind (artifactlens history --kind KIND)")
    diffs = diff_metrics(ma, mb)
    print(format_diff(diffs, la, lb, show_all=args.all))
    return 1 if args.fail_on_move and any(d.status == "moved" for d in diffs) else 0


def cmd_completion(args) -> int:
    print(completion_script(build_parser(), args.shell))
    return 0


# -- shell completion, generated from the parser itself (so every audit's options are in it) -----------
def _tree(parser, path=()) -> dict:
    """``{path tuple: (subcommands, options, positional choices)}`` for every (sub)parser."""
    subs, opts, choices, out = [], [], [], {}
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sp in a.choices.items():
                subs.append(name)
                out.update(_tree(sp, path + (name,)))
        elif a.option_strings:
            opts.extend(o for o in a.option_strings if o.startswith("--"))
        elif a.choices:
            choices.extend(str(c) for c in a.choices)
    out[path] = (subs, opts, choices)
    return out


def completion_script(parser, shell: str) -> str:
    tree = _tree(parser)
    prog = parser.prog
    fn = "_" + prog.replace("-", "_")
    if shell == "fish":
        lines = [f"# fish completion for {prog}: save as ~/.config/fish/completions/{prog}.fish"]
        for path, (subs, opts, choices) in sorted(tree.items()):
            cond = ("__fish_use_subcommand" if not path else
                    " ; and ".join(f"__fish_seen_subcommand_from {w}" for w in path))
            if subs or choices:
                lines.append(f"complete -c {prog} -f -n '{cond}' -a '{' '.join(subs + choices)}'")
            for o in opts:
                lines.append(f"complete -c {prog} -n '{cond}' -l {o[2:]}")
        return "\n".join(lines)
    known = sorted({f"{' '.join(path[:-1])}|{path[-1]}" for path in tree if path})
    cases = []
    for path, (subs, opts, choices) in sorted(tree.items()):
        cases.append(f'    "{" ".join(path)}") subs="{" ".join(subs + choices)}"; opts="{" ".join(opts)}";;')
    body = f"""# {shell} completion for {prog}: eval "$({prog} completion {shell})"
{fn}() {{
  local cur="${{COMP_WORDS[COMP_CWORD]}}" path="" w i subs="" opts=""
  for ((i=1; i<COMP_CWORD; i++)); do
    w="${{COMP_WORDS[i]}}"
    case "$path|$w" in
      {"|".join(f'"{k}"' for k in known)}) path="${{path:+$path }}$w";;
    esac
  done
  case "$path" in
{chr(10).join(cases)}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [[ -n "$subs" ]]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}}
complete -o filenames -F {fn} {prog}"""
    if shell == "zsh":
        body = "autoload -U +X bashcompinit && bashcompinit\n" + body
    return body


COMMANDS = {"demo": cmd_demo, "sample": cmd_sample, "report": cmd_report, "datasheet": cmd_datasheet, "check": cmd_check,
            "history": cmd_history, "diff": cmd_diff, "completion": cmd_completion}


def main(argv=None) -> int:
    _offline()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "audit":
            return cmd_audit(args)
        if hasattr(args, "_run"):
            return args._run(args)
        return COMMANDS[args.command](args)
    except InputError as e:
        print(f"artifactlens: error: {e}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except OSError as e:
        print(f"artifactlens: error: {os_error(e, action='use')}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except KeyboardInterrupt:
        print("artifactlens: interrupted", file=sys.stderr)
        return 130


def _summary(result) -> None:
    """A short human summary on stdout: headline metrics and findings (text from the data made safe for a
    terminal: no escape sequences, one line each)."""
    t = lambda x: safe_text(x, newlines=False)  # noqa: E731
    print(f"{t(result.title or result.kind)}: {result.input.rows_read:,} rows read, {result.input.rows_used:,} used")
    for reason, n in result.input.rows_skipped.items():
        print(f"  skipped {n:,}: {t(reason)}")
    for name in result.headline:
        m = result.metrics.get(name)
        if m is not None:
            ci = f" [{m.ci[0]:.3f}, {m.ci[1]:.3f}]" if m.ci else ""
            val = f"{m.value:.3f}" if isinstance(m.value, float) else str(m.value)
            print(f"  {t(name)} = {val}{ci}")
    for f in result.findings:
        print(f"  [{f.severity}] {t(f.message)}")


if __name__ == "__main__":
    sys.exit(main())
