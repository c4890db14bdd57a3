"""Preference audit: an LLM judge's pairwise choices against people's.

First order (:mod:`.metrics`): agreement, Cohen's kappa, ties, position, verbosity and self-preference
biases, each with a Poisson-bootstrap interval resampled by ``--group`` (default the prompt). Locality
(:mod:`.locality`): do choices follow lexicon cues or closeness to the reference? Second order
(:mod:`.reward`): a Bradley-Terry reward model trained on judge labels vs on human labels. Inputs
(:mod:`.load`): pairs in any tabular format, or CoBBLEr-style rankings turned into pairs; several human
votes per pair (:mod:`.votes`: the majority, the shares, each annotator). Pointwise ratings
(:mod:`.ratings`, ``--ratings``): judges scoring one response at a time against people's scores, with
self- and family-bias, one section per judge.
"""
from __future__ import annotations

from .audit import audit_preferences

KIND = "preferences"
HELP = "LLM judge vs people on pairwise preferences: agreement, position/length/self/locality bias, reward gap"
EXAMPLES = """examples:
  artifactlens audit preferences pairs.jsonl --a response_a --b response_b --human human --judge judge \\
      --judge-swapped judge_swapped --prompt prompt --json prefs.json --html prefs.html
  artifactlens audit preferences p2c.csv --a output1 --b output2 --human human --judge gpt3
  artifactlens audit preferences pairs.csv --a A --b B --judge verdict --codes 0=tie,1=a,2=b
  artifactlens audit preferences pairs.jsonl --a A --b B --human human --judge judge --model-a model_a \\
      --model-b model_b --judge-model gpt4 --reference reference --nli-model ./roberta-large-mnli
  artifactlens audit preferences --rankings gpt4.json --human-rankings human.json --json cobbler.json
  artifactlens audit preferences pandalm.json --a response1 --b response2 --human annotator1,annotator2,annotator3 \
      --judge judge --codes 0=tie,1=a,2=b          (several votes per pair: the majority, shares, each annotator)
  artifactlens audit preferences scores.csv --ratings --item question_id --judge-score judge_score \
      --human-score human_score --judge-column judge --generator model --response answer --judge-range 1,10

choices: a/b/tie, model_a/model_b/tie/tie (inconsistent), 0/1/2 (= first/second/tie) need no flags;
anything else is counted as invalid and left out of the rates.
"""


def add_rating_arguments(p) -> None:
    """The pointwise-ratings flags (:mod:`.ratings`)."""
    t = p.add_argument_group("pointwise ratings (one row per rated response; one section per judge)")
    t.add_argument("--ratings", action="store_true", help="FILE holds pointwise scores, not pairs")
    t.add_argument("--item", metavar="COL", help="the item (prompt or document) a response answers; the bootstrap "
                   "resamples items")
    t.add_argument("--judge-score", metavar="COL", help="the judge's score of the response; several judges as "
                   "COL1,COL2,... (one column per judge, named by the column)")
    t.add_argument("--human-score", metavar="COL", help="people's score of the same response")
    t.add_argument("--response", metavar="COL", help="the response text (its length in characters)")
    t.add_argument("--response-length", metavar="COL", help="the response's length as released (instead of the text)")
    t.add_argument("--generator", metavar="COL", help="the model that wrote the response (self- and family-bias)")
    t.add_argument("--judge-column", metavar="COL", help="the judge's name, when several judges share the file")
    t.add_argument("--judge-range", metavar="LO,HI", help="the judge's scale (default: the column's observed range)")
    t.add_argument("--human-range", metavar="LO,HI", help="people's scale (default: the column's observed range)")


__all__ = ["KIND", "HELP", "EXAMPLES", "add_arguments", "audit_preferences"]


def add_arguments(p) -> None:
    p.add_argument("file", nargs="?", metavar="FILE", help="pairs (.jsonl, .json, .csv, .tsv, .parquet); "
                   "optional with --rankings")
    g = p.add_argument_group("pairs")
    g.add_argument("--a", default="response_a", metavar="COL", help="response A (shown first; default response_a)")
    g.add_argument("--b", default="response_b", metavar="COL", help="response B (default response_b)")
    g.add_argument("--human", metavar="COL", help="the human choice; several annotators as COL1,COL2,... (people's "
                   "choice is then the majority vote, a split counting as a tie)")
    g.add_argument("--judge", metavar="COL", help="the judge's choice")
    g.add_argument("--judge-swapped", metavar="COL", help="the judge's choice when shown B first, written in the "
                   "original A/B orientation")
    g.add_argument("--prompt", metavar="COL", help="the prompt (also the default --group)")
    g.add_argument("--reference", metavar="COL", help="a reference answer (for closeness cues)")
    g.add_argument("--group", metavar="COL", help="what the bootstrap resamples (default: the prompt, else rows)")
    g.add_argument("--codes", metavar="SPEC", help="map other codings, e.g. 0=tie,1=a,2=b")
    g.add_argument("--model-a", metavar="COL", help="the model that wrote A (self-preference)")
    g.add_argument("--model-b", metavar="COL", help="the model that wrote B")
    g.add_argument("--judge-model", metavar="NAME", help="the judge's own model name as in --model-a/--model-b")
    c = p.add_argument_group("locality cues")
    c.add_argument("--lexicon", metavar="TSV", help="a user lexicon word<TAB>score")
    n = c.add_mutually_exclusive_group()
    n.add_argument("--nli-column", metavar="COL", help="precomputed entailment: COL_A,COL_B per response, or one "
                   "column holding the A-minus-B gap")
    n.add_argument("--nli-model", metavar="PATH", help="a local NLI model folder (entailment of the reference)")
    c.add_argument("--no-embeddings", action="store_true", help="skip MiniLM (cosine cue and reward model)")
    r = p.add_argument_group("rankings (CoBBLEr format: per prompt, ranked outputs with points)")
    r.add_argument("--rankings", metavar="JUDGE.json", help="the judge's rankings, turned into all pairs")
    r.add_argument("--human-rankings", metavar="HUMAN.json", help="people's rankings, aligned by prompt and model")
    g.add_argument("--judge-prob", metavar="COL", help="the judge's graded preference as shown: P(A is better) in "
                   "[0, 1], or COL_A,COL_B scores per response (for the swap-averaged agreement)")
    g.add_argument("--judge-prob-swapped", metavar="COL", help="the same from the swapped order, in A/B orientation")
    g.add_argument("--family-map", metavar="SPEC", help="model families: NAME=FAMILY,... or a CSV name,family "
                   "(default: the name rule in preferences.family: leading letters, ChatGPT = gpt)")
    add_rating_arguments(p)
    p.add_argument("--no-style-control", dest="style_control", action="store_false",
                   help="skip the style-control fit (one extra pass over the data)")
    p.add_argument("--no-reward-model", action="store_true", help="skip the reward-model check")
