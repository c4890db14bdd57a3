"""The instruction audit's contract face: options, metric table, CLI flags and ``compute``."""
from __future__ import annotations

from dataclasses import dataclass

from ...contract import Audit, MetricTable, register
from ...models.options import ModelFields, add_model_arguments, model_fields_from_args
from ..common import CommonOptions
from . import EXAMPLES, HELP, _thresholds, add_arguments as _add_arguments
from .audit import audit_instructions
from .model_checks import model_detectors
from .report import LIGHTS


@dataclass
class InstructionOptions(ModelFields):
    """The instruction audit's own options (CLI flags of the same names); the model fields (``llm_endpoint``,
    ``lm_path``...) add the model-backed detectors of :mod:`.model_checks` beside the heuristics."""

    instruction: str | None = None
    input: str | None = None
    output: str | None = None
    embeddings: bool = False
    near_duplicates: bool = True
    thresholds: dict | None = None
    detectors: list | None = None
    clean: str | None = None
    checked: str | None = None
    revised: str | None = None
    pair_on: str | None = None
    title: str | None = None


@register
class InstructionsAudit(Audit):
    kind = "instructions"
    help = HELP
    examples = EXAMPLES
    Options = InstructionOptions
    demo = ("instructions.jsonl", {"clean": "{out}/instructions_clean.jsonl", "embeddings": True})
    metrics = MetricTable((
        *LIGHTS.values(),
    ))

    @classmethod
    def add_arguments(cls, parser) -> None:
        _add_arguments(parser)
        add_model_arguments(parser)

    @classmethod
    def options_from_args(cls, a):
        return InstructionOptions(instruction=a.instruction, input=a.input_col, output=a.output_col,
                                  embeddings=a.embeddings and not a.no_embeddings, near_duplicates=not a.no_near_duplicates,
                                  thresholds=_thresholds(a.threshold), clean=a.clean, checked=a.checked,
                                  revised=a.revised, pair_on=a.pair_on,
                                  detectors=a.detectors.split(",") if a.detectors else None,
                                  **model_fields_from_args(a))

    def compute(self, data, o: InstructionOptions, ctx):
        r = ctx.run
        common = CommonOptions(flags=r.flags, seed=r.seed, engine=r.engine, ray_address=r.ray_address,
                               batch_size=r.batch_size, encoding=r.encoding, quiet=r.quiet, verbose=r.verbose,
                               device=r.device, engine_object=ctx.engine("instructions", workers=r.workers)
                               if r.resume or r.engine != "local" or r.workers else None)
        models = model_detectors(o.model_options(), seed=r.seed, device=r.device, thresholds=o.thresholds)
        thresholds = {k: v for k, v in (o.thresholds or {}).items() if k not in {d.name for d in models}}
        return audit_instructions(data, instruction=o.instruction, input=o.input, output=o.output,
                                  embeddings=o.embeddings, near_duplicates=o.near_duplicates, thresholds=thresholds,
                                  detectors=o.detectors, clean=o.clean, checked=o.checked,
                                  revised=o.revised, pair_on=o.pair_on, extra_detectors=models, common=common)
