"""The instruction audit: broken rows of synthetic instruction data (Self-Instruct, Unnatural
Instructions, Alpaca, chat sets), the four error types of "Under the Surface" (Das et al., 2024) with
95 % intervals, a cleaned set, and a harness measuring what the broken rows cost a tuned model.

Modules: :mod:`.layouts` (input layouts), :mod:`.detectors` (one class per flag), :mod:`.recompute`
(mechanical re-execution), :mod:`.dedupe` (exact/near duplicates), :mod:`.tags` (open/closed),
:mod:`.check` (map/combine), :mod:`.audit` (API), :mod:`.report` (rendering), :mod:`.finetune`
(second-order harness).
"""
from __future__ import annotations

from pathlib import Path

from .audit import audit_instructions, build_detectors
from .detectors import ERROR_TYPES, REGISTRY

KIND = "instructions"
HELP = "broken rows in instruction data: incomprehensible instructions, inputs/outputs that do not fit, wrong outputs"
EXAMPLES = """examples:
  artifactlens audit instructions alpaca_data.json --json r.json --html r.html --clean cleaned.jsonl
  artifactlens audit instructions data.parquet --no-embeddings --flags flags.parquet
  artifactlens audit instructions chats.jsonl --threshold output_irrelevant=0.05 --threshold duplicate=0.9
detectors: """ + ", ".join([*REGISTRY, "duplicate"])


def add_arguments(p) -> None:
    p.add_argument("file", metavar="FILE", help="instruction rows: JSONL, JSON, CSV or Parquet (layout recognised)")
    p.add_argument("--clean", metavar="OUT", help="write every row with its flags and 'keep', and OUT's .kept file")
    p.add_argument("--no-embeddings", action="store_true", help="skip the MiniLM relevance detector (fast pass)")
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
