"""Simulation audit: role flips, interruptions, digression and loops in multi-agent transcripts.

After "Under the Surface" (Das et al., 2024): role-play agents (CAMEL's AI user / AI assistant, Solo
Performance Prompting personas) flip roles, interrupt, digress from the task, and digressing runs solve
fewer tasks. Modules: :mod:`.parsers` (formats), :mod:`.rules` (flip / interruption / loop rules),
:mod:`.digression` (MiniLM or static-embedding similarity to the task, calibrated thresholds),
:mod:`.judge` (optional LLM judge), :mod:`.audit` (map/combine over chunks of conversations),
:mod:`.report` (metrics and figures).
"""
from __future__ import annotations

from .audit import audit_simulations
from .digression import DIGRESSION_THRESHOLD, EMBEDDINGS, MIN_RUN, STATIC_DIGRESSION_THRESHOLD
from .parsers import FORMATS
from .rules import LOOP_THRESHOLD

KIND = "simulations"
HELP = "role flips, interruptions, digression and loops in multi-agent transcripts (CAMEL, SPP, generic turns)"
EXAMPLES = """examples:
  artifactlens audit simulations spp_logic_grid.jsonl --json sim.json --html sim.html --flags turns.parquet
  artifactlens audit simulations camel_ai_society/ --format camel
  artifactlens audit simulations turns.jsonl --format turns --digression-threshold 0.2
  artifactlens audit simulations big_camel.jsonl --embeddings static      # 10k+ conversations on a laptop
  artifactlens audit simulations spp.jsonl --judge-url http://127.0.0.1:8000/v1 --judge-model local
"""

__all__ = ["KIND", "HELP", "EXAMPLES", "add_arguments", "audit_simulations"]


def add_arguments(p) -> None:
    p.add_argument("file", metavar="FILE", help="transcripts: JSON / JSONL file, or a folder of CAMEL JSON files")
    p.add_argument("--format", choices=FORMATS, help="transcript format (default: recognised per record)")
    p.add_argument("--embeddings", choices=EMBEDDINGS,
                   help="what scores digression: the packaged MiniLM, or a static table distilled from it on first"
                        " use (~100x faster, a little less accurate; see bench/RESULTS.md). Default: minilm, or static"
                        " when ARTIFACTLENS_STATIC_EMBEDDINGS names a model2vec folder")
    p.add_argument("--digression-threshold", type=float, default=None, metavar="X",
                   help=f"a turn digresses when its cosine to the task is <= X (default, chosen on labelled turns:"
                        f" {DIGRESSION_THRESHOLD} for minilm, {STATIC_DIGRESSION_THRESHOLD} for static)")
    p.add_argument("--min-run", type=int, default=MIN_RUN, metavar="K",
                   help=f"consecutive digressive turns that make a digressive stretch (default {MIN_RUN})")
    p.add_argument("--loop-threshold", type=float, default=LOOP_THRESHOLD, metavar="R",
                   help=f"rapidfuzz ratio (0-100) to an earlier message that counts as a repeat (default {LOOP_THRESHOLD:g})")
    g = p.add_argument_group("optional LLM judge of digression (off by default; nothing is sent unless given)")
    g.add_argument("--judge-url", metavar="URL", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    g.add_argument("--judge-model", default="default", metavar="NAME", help="model name sent to the endpoint")
    g.add_argument("--judge-key-env", metavar="VAR", help="environment variable holding the API key")
