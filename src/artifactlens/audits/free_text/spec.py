"""The free-text audit's contract face: options, metric table, CLI flags and ``compute``."""
from __future__ import annotations

from dataclasses import dataclass

from ...contract import Audit, MetricTable, register
from . import EXAMPLES, HELP, add_arguments as _add_arguments
from .audit import MAX_TEXTS, audit_text
from .report import LIGHTS


@dataclass
class TextOptions:
    """The free-text audit's own options (CLI flags of the same names)."""

    human: str | None = None
    llm: str | None = None
    text: str = "text"
    source: str = "source"
    pair: str = "pair_id"
    domain: str = "domain"
    model: str = "model"
    group: str | None = None
    embeddings: bool = True
    max_embed: int = 3000
    tagger_words: int = 25_000
    max_texts: int | None = MAX_TEXTS
    title: str | None = None


@register
class TextAudit(Audit):
    kind = "text"
    help = HELP
    examples = EXAMPLES
    Options = TextOptions
    demo = ("text.jsonl", {})
    metrics = MetricTable(tuple(LIGHTS.values()))

    @classmethod
    def add_arguments(cls, parser) -> None:
        _add_arguments(parser)

    @classmethod
    def options_from_args(cls, a):
        return TextOptions(human=a.human, llm=a.llm, text=a.text, source=a.source, pair=a.pair, domain=a.domain,
                           model=a.model, group=a.group, embeddings=not a.no_embeddings, max_embed=a.max_embed,
                           max_texts=a.max_texts or None)

    def compute(self, data, o: TextOptions, ctx):
        r = ctx.run
        return audit_text(data, human=o.human, llm=o.llm, text=o.text, source=o.source, pair=o.pair, domain=o.domain,
                          seed=r.seed, engine=ctx.engine("text"), batch_size=r.batch_size, encoding=r.encoding,
                          flags_path=r.flags, embeddings=o.embeddings, max_embed=o.max_embed,
                          tagger_words=o.tagger_words, quiet=r.quiet, device=ctx.device, model=o.model,
                          group=o.group, max_texts=o.max_texts)
