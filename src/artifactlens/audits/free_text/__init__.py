"""The free-text audit: is LLM text more formal, more figurative and stylistically narrower than human text
on the same prompts (Das et al. 2024, "Under the Surface"), and does a model trained on it notice?

Input (:mod:`.inputs`): one file with a source column, HC3 / M4 / index-paired layouts found without
flags, or ``--human FILE --llm FILE``, read as a stream of record batches: the audit keeps per-row
numbers and labels and a seeded sample of at most ``--max-texts`` texts a side (all of them below it)
for the statistics that read raw text (:mod:`.audit` says which). Per-text features (:mod:`artifactlens.text.features`, each
documented with what, how and source), comparisons with effect sizes and intervals (:mod:`.compare`),
corpus diversity and learned over-used phrases, separability, second order (:mod:`.audit`), report
pieces (:mod:`.report`); the diversity package's figures per side, per model and domain, length-matched
between a human ceiling and a floor (:mod:`.bounds`); prompts answered many times (:mod:`.prompts`); the
separability calibrated on held-out human texts by subgroup (:mod:`.calibration`); the cross-fitted
``llm_phrase`` detector (:mod:`.detectors`).
"""
from __future__ import annotations

from .audit import audit_text

KIND = "text"
HELP = "LLM vs human free text: formality, figurative language, readability, diversity, over-used phrases"
EXAMPLES = """examples:
  artifactlens audit text corpus.jsonl --json text.json --html text.html      # columns text, source[, pair_id, domain]
  artifactlens audit text --human human.csv --llm llm.csv --text answer --pair prompt_id
  artifactlens audit text HC3_open_qa.jsonl --flags text_flags.parquet        # HC3 lists understood as they are
  artifactlens audit text m4_reddit.jsonl                                      # human_text / machine_text pairs
  artifactlens audit text answers.jsonl --pair prompt_id --model model --group l1   # several models per prompt;
                                                  # false-positive rate of the separability per value of l1

source values: human, or llm (also machine, ai, model, generated, chatgpt, gpt-*, llama...).
"""


def add_arguments(p) -> None:
    p.add_argument("file", nargs="?", metavar="FILE", help="texts with a source column (or HC3 / paired layouts)")
    p.add_argument("--human", metavar="FILE", help="human texts (with --llm, instead of FILE)")
    p.add_argument("--llm", metavar="FILE", help="LLM texts (with --human)")
    p.add_argument("--text", default="text", metavar="COL", help="text column (default text)")
    p.add_argument("--source", default="source", metavar="COL", help="human/llm column (default source)")
    p.add_argument("--pair", default="pair_id", metavar="COL", help="prompt/pair id column (default pair_id)")
    p.add_argument("--domain", default="domain", metavar="COL", help="domain column (default domain)")
    p.add_argument("--model", default="model", metavar="COL",
                   help="which LLM wrote each text (default model): diversity per model, cross-model homogeneity")
    p.add_argument("--group", metavar="COL", help="a human subgroup column (e.g. native/non-native writers): the "
                   "separability's false-positive rate per value")
    p.add_argument("--no-embeddings", action="store_true", help="skip MiniLM (diversity, embedding AUC)")
    p.add_argument("--max-embed", type=int, default=3000, metavar="N",
                   help="texts embedded per source, a seeded random sample (default 3000)")
    p.add_argument("--max-texts", type=int, default=20_000, metavar="N",
                   help="texts kept per source for the statistics that read raw text (phrases, diversity, "
                   "prompts, embeddings, second order): a seeded sample past N; per-row figures and flags "
                   "cover every row (default 20000; 0 keeps every text)")


__all__ = ["KIND", "HELP", "EXAMPLES", "add_arguments", "audit_text"]
