"""The ``artifactlens`` command line.

    artifactlens audit KIND FILE [options]   # KIND: labels, preferences, instructions, simulations, text
    artifactlens demo [--out DIR]            # every audit on the demo data shipped in the package
    artifactlens report RESULT.json... -o report.html

A user mistake prints one line naming file, line/row, column and what was expected, and exits 2.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__
from .errors import EXIT_INPUT_ERROR, InputError

EPILOG = """examples:
  artifactlens demo --out artifactlens-demo
  artifactlens audit labels labels.csv --text text --human human --llm llm --json labels.json --html labels.html
  artifactlens audit preferences pairs.jsonl --a response_a --b response_b --human human --judge judge
  artifactlens audit instructions alpaca.json --clean cleaned.jsonl
  artifactlens audit simulations transcripts.jsonl --format spp
  artifactlens audit text --human human.jsonl --llm llm.jsonl
  artifactlens report labels.json prefs.json -o report.html
"""


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def build_parser() -> argparse.ArgumentParser:
    from .audits import available
    from .audits.common import add_common_arguments
    p = argparse.ArgumentParser(prog="artifactlens", description="Find the artifacts in LLM-generated data.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"artifactlens {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    audit = sub.add_parser("audit", help="audit one data set", description="Audit one data set of one kind.")
    kinds = audit.add_subparsers(dest="kind", metavar="KIND")
    kinds.required = True
    for kind, mod in available().items():
        kp = kinds.add_parser(kind, help=mod.HELP, description=mod.HELP, epilog=getattr(mod, "EXAMPLES", None),
                              formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(kp)
        add_common_arguments(kp)
        kp.set_defaults(_audit=mod)

    demo = sub.add_parser("demo", help="run every audit on the demo data and write the report")
    demo.add_argument("--out", default="artifactlens-demo", help="output folder (default artifactlens-demo)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--quiet", action="store_true")

    rep = sub.add_parser("report", help="merge result JSON files into one HTML report")
    rep.add_argument("results", nargs="+", metavar="RESULT.json")
    rep.add_argument("-o", "--out", required=True, metavar="OUT.html")
    rep.add_argument("--title", default="artifactlens report")
    return p


def cmd_demo(args) -> int:
    from .demo import run_demo
    out = run_demo(args.out, seed=args.seed, quiet=args.quiet)
    print(f"wrote {out / 'report.html'} and {len(list(out.glob('*.json')))} result files to {out}/")
    return 0


def cmd_report(args) -> int:
    from .report.html import write_report
    from .result import AuditResult
    results = []
    for r in args.results:
        if not Path(r).exists():
            raise InputError("no such file", path=r, expected="a result JSON written by artifactlens")
        try:
            results.append(AuditResult.from_json(r))
        except (ValueError, KeyError) as e:
            raise InputError(f"not an artifactlens result ({e})", path=r, expected="a result JSON") from None
    write_report(results, args.out, title=args.title)
    print(f"wrote {args.out}")
    return 0


def main(argv=None) -> int:
    _offline()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "audit":
            from .audits.common import CommonOptions
            common = CommonOptions.from_args(args)
            result = args._audit.run_cli(args, common)
            _summary(result)
            return 0
        if args.command == "demo":
            return cmd_demo(args)
        if args.command == "report":
            return cmd_report(args)
    except InputError as e:
        print(f"artifactlens: error: {e}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except KeyboardInterrupt:
        print("artifactlens: interrupted", file=sys.stderr)
        return 130
    return 0


def _summary(result) -> None:
    """A short human summary on stdout: headline metrics and findings."""
    print(f"{result.title or result.kind}: {result.input.rows_read:,} rows read, {result.input.rows_used:,} used")
    for reason, n in result.input.rows_skipped.items():
        print(f"  skipped {n:,}: {reason}")
    for name in result.headline:
        m = result.metrics.get(name)
        if m is not None:
            ci = f" [{m.ci[0]:.3f}, {m.ci[1]:.3f}]" if m.ci else ""
            val = f"{m.value:.3f}" if isinstance(m.value, float) else str(m.value)
            print(f"  {name} = {val}{ci}")
    for f in result.findings:
        print(f"  [{f.severity}] {f.message}")


if __name__ == "__main__":
    sys.exit(main())
