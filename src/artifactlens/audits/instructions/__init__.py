"""The instruction audit: broken rows of synthetic instruction data (Self-Instruct, Unnatural
Instructions, Alpaca, chat sets), the four error types of "Under the Surface" (Das et al., 2024) with
95 % intervals, a cleaned set, and a harness measuring what the broken rows cost a tuned model.

Modules: :mod:`.layouts` (input layouts), :mod:`.detectors` (one class per flag), :mod:`.recompute`
(mechanical re-execution), :mod:`.dedupe` (exact/near duplicates), :mod:`.tags` (open/closed),
:mod:`.check` (map/combine), :mod:`.audit` (API), :mod:`.report` (rendering), :mod:`.finetune`
(second-order harness), :mod:`.revisions` (raw rows against their revisions, McNemar).
"""
from __future__ import annotations


from .audit import audit_instructions, build_detectors
from .detectors import ERROR_TYPES, REGISTRY

KIND = "instructions"
HELP = "broken rows in instruction data: incomprehensible instructions, inputs/outputs that do not fit, wrong outputs"
EXAMPLES = """examples:
  artifactlens audit instructions alpaca_data.json --json r.json --html r.html --clean cleaned.jsonl
  artifactlens audit instructions data.parquet --flags flags.parquet --embeddings
  artifactlens sample instructions r.json --n 200 -o to_check.csv     # check them, then:
  artifactlens audit instructions data.parquet --checked to_check.csv
  artifactlens audit instructions alpaca_raw.json --revised alpaca_revised.json --pair-on id
  artifactlens audit instructions chats.jsonl --threshold output_irrelevant=0.05 --threshold duplicate=0.9
detectors: """ + ", ".join([*REGISTRY, "duplicate"])


def add_arguments(p) -> None:
    p.add_argument("file", metavar="FILE", help="instruction rows: JSONL, JSON, CSV or Parquet (layout recognised)")
    p.add_argument("--clean", metavar="OUT", help="write every row with its flags and 'keep', and OUT's .kept file")
    p.add_argument("--embeddings", action="store_true", help="also run the MiniLM relevance detector on every row "
                   "(opt-in: about 150 rows/s on a CPU; the default heuristic pass does 1M rows in under 2 minutes)")
    p.add_argument("--no-embeddings", action="store_true", help="the default (kept for old command lines)")
    p.add_argument("--checked", metavar="FILE", help="hand-checked rows (row, wrong, optional error_type): the error "
                   "rate with a prediction-powered interval, and each detector's precision/recall on them")
    p.add_argument("--revised", metavar="FILE", help="the same rows revised (e.g. by experts): flag rates on both "
                   "sides and McNemar's exact test, raw flagged more often than revised (paired by position)")
    p.add_argument("--pair-on", metavar="COL", help="with --revised: pair rows on this id column instead of by position")
    p.add_argument("--no-near-duplicates", action="store_true", help="exact duplicates only (no MinHash-LSH)")
    p.add_argument("--threshold", action="append", default=[], metavar="NAME=X", help="a detector's threshold")
    p.add_argument("--detectors", metavar="NAMES", help="comma-separated detectors to run (default: all)")
    p.add_argument("--instruction", help="instruction column (default: recognised)")
    p.add_argument("--input", dest="input_col", help="input column (default: recognised)")
    p.add_argument("--output", dest="output_col", help="output column (default: recognised)")


def _thresholds(items) -> dict:
    out = {}
    for it in items:
        name, eq, val = it.partition("=")
        try:
            out[name.strip()] = float(val)
        except ValueError:
            raise InputError(f"bad --threshold '{it}'", expected="NAME=NUMBER, e.g. output_irrelevant=0.05") from None
    return out


from ...errors import InputError  # noqa: E402

__all__ = ["KIND", "HELP", "EXAMPLES", "add_arguments", "audit_instructions",
           "build_detectors", "ERROR_TYPES", "REGISTRY"]
