"""The simulations audit's contract face: options, metric table, CLI flags and ``compute``.

``compute`` reads the traces through :class:`~.inputs.ConversationSource` (conversation rows, batches
ending on conversation boundaries) and runs one :class:`~.check.SimulationCheck` on ``ctx.engine(...)``,
so ``--engine ray``, ``--resume``, ``--workers`` and ``--quiet`` apply as in every audit.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...contract import LOWER_IS_WORSE, Audit, MetricSpec, MetricTable, register
from ...errors import InputError
from ...io.readers import file_sha256
from ...models.options import ModelFields, add_model_arguments, model_fields_from_args
from ...result import InputInfo
from ...text.static_embeddings import static_folder
from . import digression as dg
from .check import SimulationCheck, SimulationConfig
from .detectors import DETECTORS, MAST, MAST_NEEDS_MODEL
from .inputs import ConversationSource
from .model_digression import DigressionJudge
from .parsers import FORMATS
from .report import LIGHTS, build_result
from .rules import LOOP_THRESHOLD

HELP = ("role flips, loops, termination, resets, ignored input, tool-error loops and digression in multi-agent "
        "traces (CAMEL, SPP, ChatDev, AG2, MetaGPT, Who&When, OpenTelemetry GenAI, turns); failure attribution")
_MODES = "\n".join(f"  {d.name:<24} {d.family or '-':<7} {MAST.get(d.family, 'evidence for attribution')}"
                   for d in (c() for c in DETECTORS.values()))
EXAMPLES = f"""examples:
  artifactlens audit simulations spp_logic_grid.jsonl --json sim.json --html sim.html --flags turns.parquet
  artifactlens audit simulations who_and_when/          # a folder of JSON traces is one input; labels read
  artifactlens audit simulations otel_export.json       # OpenTelemetry GenAI spans (OTLP JSON)
  artifactlens audit simulations runs.jsonl --mistake-agent blamed --mistake-step step
  artifactlens audit simulations big.jsonl --embeddings static --engine ray
  artifactlens audit simulations spp.jsonl --llm-endpoint http://127.0.0.1:8000/v1 --llm-model NAME  # + a model judge

detectors (per turn; MAST failure mode approximated):
  digression               FM-2.3  task derailment (embedding similarity to the task)
{_MODES}
out of reach without a model: {', '.join(f'{m} {MAST[m]}' for m in MAST_NEEDS_MODEL)}
(and FM-1.1 beyond a stated protocol).
"""


def add_arguments(p) -> None:
    p.add_argument("file", metavar="FILE", help="traces: a JSON / JSONL / ChatDev .log file, or a folder of them")
    p.add_argument("--format", choices=FORMATS, help="trace format (default: recognised per record)")
    p.add_argument("--embeddings", choices=dg.EMBEDDINGS,
                   help="what scores digression and semantic repetition: the packaged MiniLM, or a static table "
                        "distilled from it on first use (~100x faster, a little less accurate; see bench/RESULTS.md)")
    p.add_argument("--digression-threshold", type=float, default=None, metavar="X",
                   help=f"a turn digresses when its cosine to the task is <= X (default, chosen on labelled turns:"
                        f" {dg.DIGRESSION_THRESHOLD} for minilm, {dg.STATIC_DIGRESSION_THRESHOLD} for static)")
    p.add_argument("--min-run", type=int, default=dg.MIN_RUN, metavar="K",
                   help=f"consecutive digressive turns that make a digressive stretch (default {dg.MIN_RUN})")
    p.add_argument("--loop-threshold", type=float, default=LOOP_THRESHOLD, metavar="R",
                   help=f"rapidfuzz ratio (0-100) to an earlier message that counts as a repeat "
                        f"(default {LOOP_THRESHOLD:g})")
    p.add_argument("--mistake-agent", metavar="COL", help="field of each record naming the agent to blame "
                   "(human label; Who&When's mistake_agent is read without it)")
    p.add_argument("--mistake-step", metavar="COL", help="field of each record holding the decisive step (0-based)")
    add_model_arguments(p, judge_aliases=True)  # the model judge of digression; --judge-url/-model/-key-env: aliases


@dataclass
class SimulationOptions(ModelFields):
    """The simulations audit's own options (CLI flags of the same names). ``llm_endpoint`` + ``llm_model``:
    the per-turn digression judge (:class:`.model_digression.DigressionJudge`) runs beside the embedding rule."""

    format: str | None = None
    digression_threshold: float | None = None
    min_run: int = dg.MIN_RUN
    loop_threshold: float = LOOP_THRESHOLD
    embeddings: str | None = None
    mistake_agent: str | None = None
    mistake_step: str | None = None
    judge: object = None  # a judge object (``judge(task, text) -> bool | None``); default: built from llm_*
    title: str | None = None


_ATTR = "failure attribution (labelled failed traces)"


@register
class SimulationsAudit(Audit):
    kind = "simulations"
    help = HELP
    examples = EXAMPLES
    Options = SimulationOptions
    demo = ("simulations.jsonl",
            {"title": "Simulations (demo: CAMEL-style role-play with planted flips, interruptions, digressions)"})
    metrics = MetricTable((
        MetricSpec("n_conversations", headline=True),
        MetricSpec("task_accuracy", headline=True),
        *LIGHTS,
        MetricSpec("failure_attribution_agent_accuracy", "share of labelled failed traces whose blamed agent the "
                   "detectors guess", _ATTR, worse=LOWER_IS_WORSE, headline=True),
        MetricSpec("failure_attribution_step_accuracy", "share of labelled failed traces whose decisive step the "
                   "detectors guess exactly", _ATTR, worse=LOWER_IS_WORSE, headline=True),
    ))

    @classmethod
    def add_arguments(cls, parser) -> None:
        add_arguments(parser)

    @classmethod
    def options_from_args(cls, a):
        return SimulationOptions(format=a.format, digression_threshold=a.digression_threshold, min_run=a.min_run,
                                 loop_threshold=a.loop_threshold, embeddings=a.embeddings,
                                 mistake_agent=getattr(a, "mistake_agent", None),
                                 mistake_step=getattr(a, "mistake_step", None), **model_fields_from_args(a))

    def compute(self, data, o: SimulationOptions, ctx):
        r = ctx.run
        if o.format is not None and o.format not in FORMATS:
            raise InputError(f"unknown format '{o.format}'", column="--format", expected=" or ".join(FORMATS))
        if o.embeddings is not None and o.embeddings not in dg.EMBEDDINGS:
            raise InputError(f"unknown embeddings '{o.embeddings}'", column="--embeddings",
                             expected=" or ".join(dg.EMBEDDINGS))
        if data is None or not Path(data).exists():
            raise InputError("no such file", path=data, expected="a JSON or JSONL file of traces, or a folder")
        path = Path(data)
        kind = o.embeddings or ("static" if static_folder() else "minilm")
        threshold = o.digression_threshold if o.digression_threshold is not None else dg.default_threshold(kind)
        models = o.model_options()
        judge = o.judge or (DigressionJudge(models, r.seed) if models is not None and models.has_llm else None)
        cfg = SimulationConfig(o.format, threshold, o.min_run, o.loop_threshold, r.seed, judge, o.embeddings, kind,
                               device=ctx.device)
        info = InputInfo(path=str(path), sha256=file_sha256(path))
        src = ConversationSource(path, info, o.format, r.encoding, r.batch_size,
                                 label_fields=(o.mistake_agent, o.mistake_step))
        engine = ctx.engine("simulations")
        state = engine.run(src, [SimulationCheck(cfg)], flags_path=r.flags)["simulations"]
        info.format = "+".join(sorted(src.formats)) or o.format
        if state is None:
            reasons = "; ".join(f"{n} {k}" for k, n in info.rows_skipped.items()) or "the input holds no records"
            raise InputError(f"no transcript could be read ({reasons})", path=path,
                             expected="CAMEL, SPP, ChatDev, AG2, MetaGPT, Who&When, OpenTelemetry or turns records")
        res = build_result(state, cfg, info, flags_path=r.flags, flag_rows=state.n_turns)
        res.params["engine_used"] = type(engine).__name__
        return res
