"""The preferences audit's contract face: options, metric table, CLI flags and ``compute``."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

from ...contract import HIGHER_IS_WORSE, Audit, MetricSpec, MetricTable, register
from ...models.options import ModelFields, add_model_arguments, model_fields_from_args
from . import EXAMPLES, HELP, add_arguments as _add_arguments
from .audit import REWARD_SEEDS, audit_preferences
from .model_entailment import entailment_detectors
from .report import HEADLINE, LIGHTS
from .votes import RATES as VOTE_RATES


@dataclass
class PreferenceOptions(ModelFields):  # llm_*/nli_path: the entailment detectors of .model_entailment
    """The preferences audit's own options (CLI flags of the same names)."""

    a: str = "response_a"
    b: str = "response_b"
    human: str | None = None
    judge: str | None = None
    judge_swapped: str | None = None
    prompt: str | None = None
    reference: str | None = None
    group: str | None = None
    codes: str | None = None
    model_a: str | None = None
    model_b: str | None = None
    judge_model: str | None = None
    lexicon: str | None = None
    nli_column: str | None = None
    nli_model: str | None = None
    rankings: str | None = None
    human_rankings: str | None = None
    reward_model: bool = True
    reward_seeds: tuple = REWARD_SEEDS
    embeddings: bool = True
    judge_prob: str | None = None
    judge_prob_swapped: str | None = None
    family_map: str | None = None
    style_control: bool = True
    title: str | None = None
    # pointwise ratings (.ratings)
    ratings: bool = False
    item: str | None = None
    judge_score: str | None = None
    human_score: str | None = None
    response: str | None = None
    response_length: str | None = None
    generator: str | None = None
    judge_column: str | None = None
    judge_range: str | None = None
    human_range: str | None = None


RATING_OPTIONS = ("ratings", "item", "judge_score", "human_score", "response", "response_length", "generator",
                  "judge_column", "judge_range", "human_range")


MODEL_FIELDS = {f.name for f in fields(ModelFields)}


@register
class PreferencesAudit(Audit):
    kind = "preferences"
    help = HELP
    examples = EXAMPLES
    Options = PreferenceOptions
    demo = ("preferences.jsonl", {"a": "response_a", "b": "response_b", "human": "human", "judge": "judge",
                                  "judge_swapped": "judge_swapped", "prompt": "prompt", "reference": "reference",
                                  "model_a": "model_a", "model_b": "model_b", "judge_model": "gpt-4"})
    metrics = MetricTable((
        *LIGHTS.values(),
        *(MetricSpec(name, headline=True) for name in HEADLINE if name not in LIGHTS),
        dataclasses.replace(LIGHTS["judge_human_agreement"], name="judge_human_agreement_first_order", headline=False),
        MetricSpec("style_flip_share", worse=HIGHER_IS_WORSE, warn=0.1, bad=0.25, headline=True),
        MetricSpec("style_debiased_agreement"),
        # pointwise ratings (.ratings): per judge, in sections and as name[judge] at the top
        *(MetricSpec(name, group="ratings", headline=name in ("judge_human_spearman", "self_bias"))
          for name in ("judge_human_spearman", "judge_human_pearson", "mean_residual", "self_bias",
                       "family_bias", "self_bias_length_controlled")),
        # several human votes per pair (.votes)
        *(MetricSpec(name, group="human votes") for name in VOTE_RATES),
    ))

    @classmethod
    def add_arguments(cls, parser) -> None:
        _add_arguments(parser)
        add_model_arguments(parser)

    @classmethod
    def options_from_args(cls, a):
        return PreferenceOptions(
            a=a.a, b=a.b, human=a.human, judge=a.judge, judge_swapped=a.judge_swapped, prompt=a.prompt,
            reference=a.reference, group=a.group, codes=a.codes, model_a=a.model_a, model_b=a.model_b,
            judge_model=a.judge_model, lexicon=a.lexicon, nli_column=a.nli_column, nli_model=a.nli_model,
            rankings=a.rankings, human_rankings=a.human_rankings, reward_model=not a.no_reward_model,
            embeddings=not a.no_embeddings, judge_prob=a.judge_prob, judge_prob_swapped=a.judge_prob_swapped,
            family_map=a.family_map, style_control=a.style_control,
            **{k: getattr(a, k) for k in RATING_OPTIONS}, **model_fields_from_args(a))

    def compute(self, data, o: PreferenceOptions, ctx):
        r = ctx.run
        opts = {k: v for k, v in vars(o).items() if k != "title" and k not in MODEL_FIELDS}
        ent = entailment_detectors(o.model_options(), a=o.a, b=o.b, reference=o.reference, seed=r.seed)
        return audit_preferences(data, **opts, seed=r.seed, flags=r.flags, engine=ctx.engine,
                                 batch_size=r.batch_size, encoding=r.encoding, quiet=r.quiet, device=ctx.device,
                                 entailment=ent)
