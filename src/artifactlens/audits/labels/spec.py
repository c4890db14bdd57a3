"""The labels audit's contract face: options, metric table, CLI flags and ``compute``."""
from __future__ import annotations

from dataclasses import dataclass

from ...contract import LOWER_IS_WORSE, Audit, MetricSpec, MetricTable, register
from . import EXAMPLES, HELP, _bins, add_arguments as _add_arguments, annotator_kwargs, audit_labels
from .build import LIGHTS
from .check import DEFAULT_BINS, MAX_ITEMS


@dataclass
class LabelOptions:
    """The labels audit's own options (CLI flags of the same names; see ``artifactlens audit labels -h``)."""

    text: str | None = None
    human: str | None = None
    llm: object = None  # one column or a list of columns (one per LLM)
    id: str | None = None
    domain: str | None = None
    format: str = "wide"
    model: str | None = None
    annotator: str | None = None
    label: str | None = None
    source: str | None = None
    alpha_level: str = "nominal"
    subjectivity_bins: tuple = DEFAULT_BINS
    second_order: bool = True
    features: str = "tfidf"
    seeds: int = 5
    test_size: float = 0.3
    max_items: int = MAX_ITEMS
    title: str | None = None
    # named annotators (the Alternative Annotator Test, annotator quality, PPI)
    human_annotations: str | None = None
    llm_annotations: str | None = None
    label_type: str = "auto"
    alt_epsilon: float = 0.15
    alt_alpha: float = 0.05
    alt_metric: str | None = None
    gold_sample: str | None = None
    gold_id: str = "id"
    gold_label: str = "label"
    annotator_quality: bool = True
    # inputs as people keep them (see audits/labels/joined.py)
    llm_file: str | None = None
    llm_id: str | None = None
    multi_label: bool = False


@register
class LabelsAudit(Audit):
    kind = "labels"
    help = HELP
    examples = EXAMPLES
    Options = LabelOptions
    demo = ("labels.csv", {"text": "text", "human": "human", "llm": "llm", "id": "id", "domain": "domain",
                           "title": "Task labels (demo)"})
    metrics = MetricTable((
        *LIGHTS.values(),  # the lights build.py's findings also read
        MetricSpec("alt_test_winning_rate", group="can the LLM replace the annotators", headline=True),
        MetricSpec("alt_test_passed", group="can the LLM replace the annotators", worse=LOWER_IS_WORSE, bad=0.0),
        MetricSpec("alt_test_advantage_probability", group="can the LLM replace the annotators"),
        MetricSpec("llm_human_jsd_mean", group="can the LLM replace the annotators"),
        MetricSpec("label_agreement_rate", group="agreement"),
        MetricSpec("cohen_kappa", group="agreement"),
    ))

    @classmethod
    def add_arguments(cls, parser) -> None:
        _add_arguments(parser)
        g = parser.add_argument_group("labels in two files, multi-label columns")
        g.add_argument("--llm-file", metavar="F", help="the LLM labels (--llm columns) are in F, joined to FILE by "
                       "--id; ids in one file only are counted and reported, never dropped silently")
        g.add_argument("--llm-id", metavar="COL", help="the item id column of --llm-file (default: --id)")
        g.add_argument("--multi-label", action="store_true", help="--human and each --llm name comma-separated "
                       "0/1 columns, one per class (--human toxic,insult --llm gpt_toxic,gpt_insult; with "
                       "--llm-file and the same names --llm may be left out); each row one annotation, each class "
                       "marked 1 one label, a row marking none the label '(none)'")

    @classmethod
    def options_from_args(cls, a):
        return LabelOptions(text=a.text, human=a.human, llm=a.llm if a.format == "wide" else (a.llm or []), id=a.id,
                            domain=a.domain, format=a.format, model=a.model, annotator=a.annotator, label=a.label,
                            source=a.source, alpha_level=a.alpha_level, subjectivity_bins=_bins(a.subjectivity_bins),
                            second_order=not a.no_second_order, features=a.features, seeds=a.seeds,
                            test_size=a.test_size, max_items=a.max_items, llm_file=a.llm_file, llm_id=a.llm_id,
                            multi_label=a.multi_label, **annotator_kwargs(a))

    def compute(self, data, o: LabelOptions, ctx):
        r = ctx.run
        return audit_labels(data, text=o.text, human=o.human, llm=o.llm, id=o.id, domain=o.domain, format=o.format,
                            model=o.model, annotator=o.annotator, label=o.label, source=o.source,
                            alpha_level=o.alpha_level, subjectivity_bins=o.subjectivity_bins,
                            second_order=o.second_order, features=o.features, seeds=o.seeds, test_size=o.test_size,
                            seed=r.seed, encoding=r.encoding, batch_size=r.batch_size, flags=r.flags,
                            engine=ctx.engine("labels"), quiet=r.quiet, title=o.title, max_items=o.max_items,
                            human_annotations=o.human_annotations, llm_annotations=o.llm_annotations,
                            label_type=o.label_type, alt_epsilon=o.alt_epsilon, alt_alpha=o.alt_alpha,
                            alt_metric=o.alt_metric, gold_sample=o.gold_sample, gold_id=o.gold_id,
                            gold_label=o.gold_label, annotator_quality=o.annotator_quality, llm_file=o.llm_file,
                            llm_id=o.llm_id, multi_label=o.multi_label, device=ctx.device)
