"""The model commands: ``artifactlens llm serve`` and ``artifactlens generate labels|judgments|roleplay``.

:func:`add_subcommands` adds both to the top-level subparsers; each parser carries its handler as the
``_run`` default (``args._run(args) -> exit code``). Errors are :class:`~artifactlens.errors.InputError`
(one line, exit 2 from the CLI's ``main``).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from ..errors import InputError
from ..io.writers import atomic_write_text
from .options import ModelOptions, add_model_arguments

SERVE_EXAMPLES = """examples:
  artifactlens llm serve                      # the shipped SmolLM2-135M-Instruct on 127.0.0.1, a free port
  artifactlens llm serve --port 8080 --model my.gguf
then:  artifactlens generate labels items.csv --labels pos,neg --llm-endpoint URL --llm-model NAME -o out.jsonl
"""
GEN_EXAMPLES = """examples:
  artifactlens generate labels items.csv --text text --labels pos,neg,neutral --samples 5 -o labels.jsonl \\
      --llm-endpoint http://127.0.0.1:8080/v1 --llm-model smollm2-135m-instruct
  artifactlens generate judgments pairs.jsonl --a response_a --b response_b --prompt prompt --both-orders \\
      -o judged.jsonl --llm-endpoint URL --llm-model NAME
  artifactlens generate roleplay tasks.jsonl --framework camel --turns 6 -o camel.jsonl --llm-endpoint URL ...
then:  artifactlens audit labels labels.jsonl --text text --human human --llm llm
  artifactlens generate labels big.parquet --labels a,b -o out.parquet --engine ray --workers 8 --llm-endpoint URL ...
A rerun, or a run after a kill, sends no request already answered (the --llm-cache folder).
--engine ray sends the requests from Ray workers (the same client; the driver keeps the cache and the cap).
"""


def _parser(sub, name, help, examples):
    return sub.add_parser(name, help=help, description=help, epilog=examples,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def add_subcommands(sub) -> None:
    llm = _parser(sub, "llm", "serve the shipped local model (OpenAI-compatible)", SERVE_EXAMPLES)
    lsub = llm.add_subparsers(dest="llm_command", metavar="ACTION")
    lsub.required = True
    s = _parser(lsub, "serve", "serve SmolLM2-135M-Instruct (or --model GGUF) on 127.0.0.1 until Ctrl-C",
                SERVE_EXAMPLES)
    s.add_argument("--port", type=int, help="port (default: a free one)")
    s.add_argument("--model", metavar="GGUF", help="a GGUF model file (default: the shipped SmolLM2-135M)")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 exposes it)")
    s.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")
    s.set_defaults(_run=cmd_serve)

    gen = _parser(sub, "generate", "generate labels, judgments or role-play with a model, ready to audit",
                  GEN_EXAMPLES)
    gsub = gen.add_subparsers(dest="generate_kind", metavar="KIND")
    gsub.required = True
    lab = _parser(gsub, "labels", "LLM labels per item (adds a list column `llm`)", GEN_EXAMPLES)
    lab.add_argument("items", metavar="ITEMS")
    lab.add_argument("--text", default="text", metavar="COL", help="the text to label (default text)")
    lab.add_argument("--labels", required=True, metavar="A,B,C", help="the label set, comma-separated")
    lab.add_argument("--prompt", metavar="TEXT|@FILE", help="replace the default prompt (fields {text}, {labels})")
    lab.add_argument("--samples", type=int, default=1, help="labels per item (default 1)")
    lab.add_argument("--temperature", type=float, help="with --samples > 1 (default 0.7; seed + k per sample)")
    jud = _parser(gsub, "judgments", "pairwise judgments (adds `judge`, `judge_swapped`)", GEN_EXAMPLES)
    jud.add_argument("pairs", metavar="PAIRS")
    jud.add_argument("--a", default="response_a", metavar="COL", help="response A (default response_a)")
    jud.add_argument("--b", default="response_b", metavar="COL", help="response B (default response_b)")
    jud.add_argument("--prompt", metavar="COL", help="the question both responses answer")
    jud.add_argument("--template", metavar="TEXT|@FILE", help="replace the default prompt (fields {prompt}, {a}, {b})")
    jud.add_argument("--both-orders", action="store_true", help="also ask with B shown first (judge_swapped)")
    rp = _parser(gsub, "roleplay", "role-play transcripts (CAMEL or SPP records)", GEN_EXAMPLES)
    rp.add_argument("tasks", metavar="TASKS")
    rp.add_argument("--task", default="task", metavar="COL", help="the task statement (default task)")
    rp.add_argument("--framework", choices=("camel", "spp"), default="camel")
    rp.add_argument("--turns", type=int, default=6, help="messages per conversation (default 6)")
    rp.add_argument("--user-role", default="Instructor", help="CAMEL: the instructing role")
    rp.add_argument("--assistant-role", default="Assistant", help="CAMEL: the answering role")
    for p in (lab, jud, rp):
        p.add_argument("-o", "--out", required=True, metavar="OUT", help="output (.jsonl, .parquet or .csv)")
        p.add_argument("--params", metavar="OUT.json", help="also write the model, prompt hashes and counts here")
        p.add_argument("--seed", type=int, default=0, help="the request seed (default 0)")
        p.add_argument("--quiet", action="store_true", help="no progress bar")
        p.add_argument("--engine", choices=("local", "ray"), default="local",
                       help="ray: the requests are sent from Ray workers (ray.data map_batches; default local)")
        p.add_argument("--workers", type=int, metavar="N", help="--engine ray: Ray actors sending requests")
        p.add_argument("--ray-address", metavar="ADDR", help="--engine ray: join this Ray cluster")
        add_model_arguments(p)
        p.set_defaults(_run=cmd_generate)


def cmd_serve(args) -> int:
    from .serve import serve
    srv = serve(port=args.port, model=args.model, host=args.host, threads=args.threads)
    print(f"serving {srv.model} at {srv.url}  (Ctrl-C stops it)", flush=True)
    print(f"  --llm-endpoint {srv.url} --llm-model {srv.model}", flush=True)
    try:
        while srv.alive():
            time.sleep(0.5)
        raise InputError(f"the model server stopped (exit {srv.proc.returncode}; log {srv.log})")
    finally:
        srv.stop()


def cmd_generate(args) -> int:
    from . import generate as g
    opts = ModelOptions.from_args(args)
    if not opts.has_llm:
        raise InputError("generate needs a model", column="--llm-endpoint",
                         expected="--llm-endpoint URL --llm-model NAME (the shipped one: `artifactlens llm serve`)")
    ray = {"workers": args.workers, "ray_address": args.ray_address} if args.engine == "ray" else {}
    with opts.client(seed=args.seed, engine=args.engine, **ray) as client:
        k = args.generate_kind
        if k == "labels":
            info = g.generate_labels(client, args.items, args.out, text=args.text, labels=args.labels.split(","),
                                     prompt=args.prompt, samples=args.samples, temperature=args.temperature,
                                     quiet=args.quiet)
        elif k == "judgments":
            info = g.generate_judgments(client, args.pairs, args.out, a=args.a, b=args.b, prompt=args.prompt,
                                        template=args.template, both_orders=args.both_orders, quiet=args.quiet)
        else:
            info = g.generate_roleplay(client, args.tasks, args.out, framework=args.framework, turns=args.turns,
                                       task=args.task, user_role=args.user_role,
                                       assistant_role=args.assistant_role, quiet=args.quiet)
    if args.params:
        atomic_write_text(args.params, json.dumps(info, indent=2, sort_keys=True))
    print(f"wrote {info['rows']:,} rows to {args.out}: {info['llm_requests_sent']:,} requests sent, "
          f"{info['llm_cache_hits']:,} answers from the cache, {info['llm_invalid_answers']:,} invalid",
          file=sys.stderr if args.quiet else sys.stdout)
    return 0


def main(argv=None) -> int:
    """``python -m artifactlens.models.cli llm serve | generate ...`` (the same commands as ``artifactlens``)."""
    p = argparse.ArgumentParser(prog="artifactlens")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    add_subcommands(sub)
    args = p.parse_args(argv)
    try:
        return args._run(args)
    except InputError as e:
        print(f"artifactlens: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("artifactlens: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
