"""``artifactlens mitigate KIND FILE --result RESULT.json -o OUT [--method M] [--json AFTER.json] [--html R.html]``.

:func:`add_subcommands` adds the command to the top-level subparsers; its parser carries its handler as
the ``_run`` default (``args._run(args) -> exit code``). Errors are
:class:`~artifactlens.errors.InputError` (one line, exit 2 from the CLI's ``main``).
"""
from __future__ import annotations

import argparse
import sys

from ..errors import InputError, safe_text
from ..io.writers import guard_outputs
from .base import REGISTRY
from .registry import kinds
from .run import mitigate

EXAMPLES = """examples:
  artifactlens audit preferences pairs.jsonl --a output_1 --b output_2 --human gold --judge judge \\
      --judge-swapped judge_swapped --codes 1=a,2=b --json before.json
  artifactlens mitigate preferences pairs.jsonl --result before.json -o pairs.ties.jsonl --html after.html
  artifactlens mitigate preferences pairs.jsonl --result before.json --method style -o pairs.debiased.jsonl
  artifactlens mitigate labels labels.csv --result labels.json -o labels.soft.csv --reweight --json after.json
  artifactlens mitigate instructions data.jsonl --result inst.json -o data.fixlist.jsonl
  artifactlens mitigate simulations spp.jsonl --result sim.json -o spp.cut.jsonl
  artifactlens mitigate text texts.jsonl --result text.json      # no mechanical fix: says what to look at

methods (the first that applies is the default):
""" + "\n".join(f"  {k:<13} {n:<7} {c.reason}" for k, ms in REGISTRY.items() for n, c in ms.items())


def add_subcommands(sub) -> None:
    p = sub.add_parser("mitigate", help="apply a mitigation to audited data and re-run the audit (before/after)",
                       description="Apply a mitigation to the data an audit read, write the mitigated data (every "
                       "row, in order, with mitigation and mitigation_reason columns) and re-run the audit on it.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", metavar="KIND", choices=kinds(), help=f"one of {', '.join(kinds())}")
    p.add_argument("file", metavar="FILE", help="the data file the audit read")
    p.add_argument("--result", required=True, metavar="RESULT.json", help="the audit's result (--json)")
    p.add_argument("-o", "--out", metavar="OUT", help="the mitigated data (.jsonl, .csv or .parquet; "
                   "simulations: .jsonl)")
    p.add_argument("--method", metavar="NAME", help="which mitigation (default: the first that applies)")
    p.add_argument("--reweight", action="store_true", help="labels: also write minority-re-weighted soft labels "
                   "(a training weight, not a measured figure)")
    p.add_argument("--json", metavar="AFTER.json", help="write the after-result (with its mitigation table)")
    p.add_argument("--html", metavar="R.html", help="write the report of the after-result")
    p.add_argument("--seed", type=int, help="seed of the re-audit (default: the result's)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(_run=cmd_mitigate)


def cmd_mitigate(args) -> int:
    say = (lambda m: None) if args.quiet else (lambda m: print(safe_text(m), file=sys.stderr))
    outs = {"-o": args.out, "--json": args.json, "--html": args.html}
    guard_outputs([args.file, args.result], {k: v for k, v in outs.items() if v})
    after = mitigate(args.kind, args.file, args.result, args.out, args.method, json_out=args.json, html=args.html,
                     seed=args.seed, settings={"reweight": True} if args.reweight else {}, log=say)
    if isinstance(after, str):  # no mechanical fix: the advice
        if not args.quiet:
            print(safe_text(after))
        return 0
    if args.out is None:
        raise InputError("no output file", column="-o", expected="-o OUT")
    if not args.quiet:
        t = after.tables["mitigation"]
        print(safe_text(t["title"], newlines=False))
        for name, b, a, d, ok in t["rows"]:
            fmt = lambda v: "-" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))  # noqa: E731
            mark = (" (unchanged)" if d else "") if ok is None else (" (as targeted)" if ok else " (NOT as targeted)")
            print(f"  {name:<36} {fmt(b):>10} -> {fmt(a):<10} {d or ''}{mark}")
    return 0
