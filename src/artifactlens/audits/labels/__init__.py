"""The labels audit: do LLM labels collapse onto the majority and erase the human minority?

Input: items with several human labels and several LLM labels each, *wide* (one item a row, label
lists in cells such as ``"[3.0, 4.0, nan]"``) or *long* (one annotation a row: item id, source, label).
First order (:mod:`.check`, a streaming map/combine check; definitions in :mod:`.items`): unanimity,
entropy, majority/minority match, minority erasure, class shares and drift with Poisson-bootstrap
intervals by item, the same by subjectivity bin and domain, per-row flags. Agreement and tests
(:mod:`.agreement`: ``krippendorff``, scikit-learn, scipy). Second order (:mod:`.second_order`):
train TF-IDF/MiniLM + logistic regression on human vs LLM labels, test on held-out human labels.
Several LLMs (several ``--llm`` columns, or a ``--model`` column in a long file) get one section each.
"""
from __future__ import annotations

from ...engine import get_engine
from ...errors import InputError
from ...io.readers import open_source
from ...result import AuditResult
from ..common import input_info
from .agreement import LEVELS, agreement, distribution_tests
from .build import build
from .check import MAX_ITEMS, DEFAULT_BINS, LabelCheck
from .detectors import FLAG_RULES
from .items import sorted_keys
from .alttest import DEFINITIONS, METRICS as ALT_METRICS
from .annotator_build import AnnotatorOptions, add_quality, annotator_sections
from .annotators import LABEL_TYPES, item_batches, many_classes, read_alt_test, read_gold, read_long
from .joined import read_joined
from .read import Layout, long_to_items, wide_batches
from . import second_order as _so

KIND = "labels"
HELP = "LLM labels vs human labels: majority collapse, minority erasure, class drift, cost of training on them"
EXAMPLES = """examples:
  artifactlens audit labels labels.csv --text text --human human --llm llm --json labels.json --html labels.html
  artifactlens audit labels labels.csv --text text --human human --llm gpt4 claude --domain dataset
  artifactlens audit labels annotations.jsonl --format long --id item --text text --source source \\
      --label label --annotator annotator --model model --flags labels_flags.parquet

wide cells: "[3.0, 4.0, nan]" (nan = a missing annotation), "['pos', 'neg']", a JSON list, or one label.
long files: --human/--llm are values of the --source column (default: 'human', and every other source).
"""


def audit_labels(path, text: str | None = None, human: str | None = None, llm=None, *, id: str | None = None,
                 domain: str | None = None, format: str = "wide", model: str | None = None,
                 annotator: str | None = None, label: str | None = None, source: str | None = None,
                 alpha_level: str = "nominal", subjectivity_bins=DEFAULT_BINS, second_order: bool = True,
                 features: str = "tfidf", seeds: int = 5, test_size: float = 0.3, seed: int = 0,
                 encoding: str = "utf-8", batch_size: int = 8192, flags: str | None = None,
                 engine="local", quiet: bool = True, title: str | None = None,
                 max_items: int = MAX_ITEMS, human_annotations=None, llm_annotations=None,
                 label_type: str = "auto", alt_epsilon: float = 0.15, alt_alpha: float = 0.05,
                 alt_metric: str | None = None, gold_sample=None, gold_id: str = "id", gold_label: str = "label",
                 annotator_quality: bool = True, llm_file=None, llm_id: str | None = None,
                 multi_label: bool = False, device: str | None = None) -> AuditResult:
    """Audit LLM labels against human labels; returns an :class:`AuditResult` (one section per LLM when
    there are several).

    Wide: ``human`` is the column of human label lists, ``llm`` one column or a list of columns (one per
    LLM). Long (``format="long"``): ``id``, ``label`` and ``source`` columns; ``human`` is the source value
    of human rows (default ``"human"``), ``llm`` the LLM source value(s) (default: every other one);
    ``model`` a column naming the LLM. ``flags``: write every row with its flags (.parquet/.jsonl/.csv).
    ``max_items``: Krippendorff's alpha and the second order use at most this many items (the ones with
    the smallest hash of their id, the same sample however the file is split) so memory stays bounded; the
    streamed first-order figures always use every item.

    Named annotators (``human_annotations`` + ``llm_annotations``: the Alt-Test release's JSON files,
    ``{annotator: {item id: label}}``, then ``path`` is not needed; or a long file with ``annotator``):
    adds the Alternative Annotator Test per LLM (``alt_epsilon``, ``alt_alpha``, ``alt_metric``), the
    annotator-quality table (crowd-kit Dawid-Skene and MACE; ``annotator_quality=False`` skips it),
    label-distribution distances and agreement, and with ``gold_sample`` (a file of ``gold_id``,
    ``gold_label``) prediction-powered estimates. ``label_type``: auto, categorical, text, ordinal or numeric
    (auto: numeric when every label is a number, text when the labels are free text by
    :func:`.annotators.many_classes`, else categorical). ``alt_metric``: accuracy, neg_rmse, neg_mae,
    similarity or token_similarity (default: accuracy for classes, neg_rmse for numbers, token_similarity
    for free text; :mod:`.alttest`).

    Inputs as people keep them (:mod:`.joined`): ``llm_file`` holds the LLM labels (``llm`` columns), joined
    to ``path`` by ``id`` (``llm_id`` in the LLM file); ids in one file only are counted and reported.
    ``multi_label``: ``human`` and each ``llm`` value name comma-separated 0/1 columns, one per class.
    """
    if format not in ("wide", "long"):
        raise InputError(f"unknown format '{format}'", expected="wide or long")
    if alpha_level not in LEVELS:
        raise InputError(f"unknown alpha level '{alpha_level}'", expected=" or ".join(LEVELS))
    if features not in ("tfidf", "minilm"):
        raise InputError(f"unknown features '{features}'", expected="tfidf or minilm")
    llms = [llm] if isinstance(llm, str) else list(llm or [])
    _check_alt_options(alt_epsilon, alt_alpha, alt_metric, label_type)
    skipped: dict = {}
    ann = None
    notes, llm_src = [], None
    if human_annotations is not None or llm_annotations is not None:
        if human_annotations is None or llm_annotations is None:
            raise InputError("the Alt-Test layout needs both --human-annotations and --llm-annotations",
                             expected="two JSON files {annotator: {item id: label}}")
        ann = read_alt_test(human_annotations, llm_annotations, label_type=label_type)
        path = human_annotations
        info = _alt_input_info(ann, human_annotations, llm_annotations)
        layout = Layout(text=None, human="human", llm={m: f"llm:{m}" for m in ann.llms}, id="id")
        batches = item_batches(ann, batch_size)
        text = None
    else:
        if path is None:
            raise InputError("no input file", expected="FILE, or --human-annotations and --llm-annotations")
        src = open_source(path, encoding=encoding, batch_size=batch_size)
        if llm_file is not None or multi_label:
            layout, batches, skipped, notes, llm_src = _read_joined(src, path, format, text, human, llms, id,
                                                                    domain, llm_file, llm_id, multi_label,
                                                                    encoding, batch_size)
        else:
            layout, batches, skipped = _read(src, path, format, text, human, llms, id, domain, model, annotator,
                                             label, source)
        if format == "long" and annotator:
            ann = read_long(open_source(path, encoding=encoding, batch_size=batch_size), id=id, label=label,
                            source=source, annotator=annotator, model=model, human_value=human or "human",
                            llm_values=tuple(llms), label_type=label_type)
        info = None
    several = len(layout.llm) > 1
    checks = {m: LabelCheck(human=layout.human, llm_column=c, text=layout.text, id=layout.id,
                            domain=layout.domain, suffix=f"__{m}" if several else "", path=path, seed=seed,
                            bins=subjectivity_bins, max_items=max_items, row_columns=bool(flags))
              for m, c in layout.llm.items()}
    eng = get_engine(engine, seed=seed, quiet=quiet) if isinstance(engine, str) else engine
    out = eng.run(batches, list(checks.values()), flags_path=flags)
    params = {"format": format, "text": text, "human": human, "llm": llms, "id": id, "domain": domain,
              "model": model, "annotator": annotator, "label": label, "source": source,
              "alpha_level": alpha_level, "subjectivity_bins": list(subjectivity_bins), "seed": seed,
              "second_order": {"enabled": bool(second_order and text), "features": features, "seeds": seeds,
                               "test_size": test_size},
              "unit": "item (a wide row, or the annotations of one id in a long file)"}
    if info is None:
        info = input_info(src)
        if llm_src is not None:
            _add_llm_file(info, llm_src)
    for k, v in skipped.items():
        info.skip(k, v)
    results = []
    for m, chk in checks.items():
        st = out[chk.name]
        r = _one(st, m, layout, params, alpha_level, second_order and bool(text), features, seeds, test_size, seed,
                 path, title or (f"Task labels · {m}" if several else "Task labels"), device)
        r.input = type(info)(**{**info.__dict__, "rows_skipped": dict(info.rows_skipped)})
        r.input.rows_used = st["used"]
        for reason, n in st["skips"].items():
            r.input.skip(reason, n)
        r.params["model_name"] = m
        results.append(r)
    if all(r.input.rows_used == 0 for r in results):
        raise InputError("no item has both human and LLM labels", path=path,
                         expected="at least one item with a human label and an LLM label")
    if ann is not None:
        _annotators(results, ann, params, seed, alt_epsilon, alt_alpha, alt_metric, annotator_quality, gold_sample,
                    gold_id, gold_label, encoding, device)
    top = results[0] if not several else _combine(results, info, params, title)
    for severity, message in notes:
        top.add_finding(severity, message)
    if llm_file is not None or multi_label:
        top.params["joined"] = {"llm_file": None if llm_file is None else str(llm_file), "llm_id": llm_id or id,
                                "multi_label": bool(multi_label)}
    if ann is not None:
        add_quality(top, ann, AnnotatorOptions(seed=seed, quality=annotator_quality))
        if several:
            _alt_summary(top, results)
    if flags:
        top.flags = {"path": str(flags), "rows": eng.rows if hasattr(eng, "rows") else None,
                     "columns": [f + chk.suffix for chk in checks.values() for f in FLAG_RULES],
                     "counts": {f + chk.suffix: int(out[chk.name]["flag_counts"].get(f, 0))
                                for chk in checks.values() for f in FLAG_RULES}}
    return top


def _read(src, path, format, text, human, llms, id, domain, model, annotator, label, source):
    """(item layout, item batches, rows skipped) of a wide or long file."""
    if format == "wide":
        if model or annotator or label or source:
            raise InputError("--model, --annotator, --label and --source are for long files (--format long)",
                             path=path, expected="several --llm columns for several LLMs in a wide file")
        if not human or not llms:
            raise InputError("a wide file needs --human COL and --llm COL", path=path,
                             expected="the columns holding the human and the LLM label lists")
        layout = Layout(text=text, human=human, llm={c: c for c in llms}, id=id, domain=domain)
        return layout, wide_batches(src, layout), {}
    if not label or not source:
        raise InputError("a long file needs --label COL and --source COL", path=path,
                         expected="one annotation a row: item id, source (human or an LLM), label")
    layout = Layout(text=text, human=human or "human", llm={}, id=id, domain=domain, format="long",
                    long={"label": label, "source": source, "annotator": annotator, "model": model})
    return long_to_items(src, layout, human_value=human or "human", llm_values=tuple(llms))


def _read_joined(src, path, format, text, human, llms, id, domain, llm_file, llm_id, multi_label, encoding,
                 batch_size):
    """(layout, batches, skipped, notes, LLM source) of two joined files or a multi-label file."""
    if format != "wide":
        raise InputError("--llm-file and --multi-label read wide files (one row per item or per annotation)",
                         path=path, expected="--format wide, or a long file without them")
    llm_src = open_source(llm_file, encoding=encoding, batch_size=batch_size) if llm_file is not None else None
    layout, batches, skipped, notes = read_joined(src, llm_src, id=id, human=human, llm=llms, text=text,
                                                  domain=domain, llm_id=llm_id, multi_label=multi_label,
                                                  batch_size=batch_size)
    return layout, batches, skipped, notes, llm_src


def _add_llm_file(info, llm_src) -> None:
    info.path = f"{info.path} + {llm_src.path}"
    info.sha256 = f"{info.sha256}+{llm_src.sha256}"
    info.rows_read += llm_src.rows_read
    for reason, n in llm_src.skipped.items():
        info.skip(f"{reason} (LLM file)", n)


def _check_alt_options(epsilon, alpha, metric, label_type) -> None:
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not 0 <= epsilon < 1:
        raise InputError(f"--alt-epsilon {epsilon!r} is out of range", expected="a number from 0 to below 1")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise InputError(f"--alt-alpha {alpha!r} is out of range", expected="a number between 0 and 1")
    if metric is not None and metric not in ALT_METRICS:
        raise InputError(f"unknown --alt-metric {metric!r}", expected=" or ".join(ALT_METRICS))
    if label_type not in LABEL_TYPES:
        raise InputError(f"unknown --label-type {label_type!r}", expected=" or ".join(LABEL_TYPES))


def _alt_input_info(ann, human_path, llm_path):
    from ...io.readers import file_sha256
    from ...result import InputInfo
    from pathlib import Path
    info = InputInfo(path=f"{human_path} + {llm_path}", sha256=file_sha256(Path(human_path)) + "+" +
                     file_sha256(Path(llm_path)), format="alt-test json",
                     rows_read=int(ann.h_item.size + ann.l_item.size + sum(ann.skipped.values())))
    return info


def _annotators(results, ann, params, seed, epsilon, alpha, metric, quality, gold_sample, gold_id, gold_label,
                encoding, device=None) -> None:
    """The named-annotator figures into each LLM's result (see :mod:`.annotator_build`)."""
    gold = None
    if gold_sample is not None:
        gi, gc, _gv, gskip = read_gold(gold_sample, ann, id=gold_id, label=gold_label, encoding=encoding)
        gold = (gi, gc)
    o = AnnotatorOptions(epsilon=float(epsilon), alpha=float(alpha), metric=metric, seed=seed, quality=quality,
                         gold=gold, device=device)
    notes = list(ann.notes)
    if ann.label_type == "text" and metric is None:
        notes.append("free-text labels: the Alternative Annotator Test scores a label's alignment with the other "
                     f"humans by token_similarity ({DEFINITIONS['token_similarity']}), not by exact match; "
                     "--alt-metric similarity uses MiniLM embeddings, --alt-metric accuracy exact match")
    elif metric == "accuracy" and many_classes(len(ann.classes), len(ann.items)) and not ann.numeric:
        notes.append(f"accuracy is exact match: on {len(ann.classes):,} distinct labels over {len(ann.items):,} "
                     "items (free text?) most pairs of labels differ, and ties of two zero scores count for both "
                     "sides; --alt-metric token_similarity or similarity compare the texts")
    by_name = {r.params["model_name"]: r for r in results}
    for r in results:
        for k, v in ann.skipped.items():
            r.input.skip(k, v)
        if gold_sample is not None:
            for k, v in gskip.items():
                r.input.skip(k, v)
        for note in notes:
            r.add_finding("info", note)
        r.params["annotators"] = {"humans": len(ann.humans), "llms": ann.llms, "items": len(ann.items),
                                  "label_type": ann.label_type}
    try:
        annotator_sections(by_name, ann, o)
    except ValueError as e:
        raise InputError(str(e), path=ann.paths[0] if ann.paths else None) from None


def _alt_summary(top, results) -> None:
    rows = []
    for r in results:
        m = r.params["model_name"]
        for name in ("alt_test_winning_rate", "alt_test_advantage_probability", "alt_test_passed",
                     "llm_human_jsd_mean"):
            if name in r.metrics:
                x = r.metrics[name]
                top.add_metric(f"{name}[{m}]", x.value, f"{x.description} ({m})", ci=x.ci, n=x.n, group=m)
        get = lambda k: r.metrics[k].value if k in r.metrics else None  # noqa: E731
        rows.append([m, get("alt_test_winning_rate"), get("alt_test_advantage_probability"), get("alt_test_passed"),
                     r.params.get("alt_test", {}).get("humans_tested"), get("llm_human_jsd_mean")])
    top.add_table("alt_test", ["LLM", "winning rate", "advantage probability", "passed", "humans tested",
                               "mean JSD to the humans"], rows,
                  "Alternative Annotator Test, one row per LLM (passes at a winning rate of 0.5 or more)")
    for r in results:
        for f in r.findings:
            if f.metric == "alt_test_passed" and f.severity == "info":
                top.add_finding("info", f"{r.params['model_name']}: {f.message}", f"{f.metric}[{r.params['model_name']}]")
    top.headline = top.headline + [k for k in top.metrics if k.startswith("alt_test_winning_rate[")]


def _one(st, model, layout, params, level, so_on, features, seeds, test_size, seed, path, title,
         device=None) -> AuditResult:
    if st["used"] == 0:
        r = AuditResult(kind=KIND, title=title, params=dict(params))
        r.add_finding("critical", f"no item has both human and {model} labels")
        return r
    keys = sorted_keys(st["labels"])
    try:
        agree = agreement(st["items"], keys, st["labels"], level)
    except ValueError as e:
        raise InputError(str(e), path=path, expected="--alpha-level nominal for text labels") from None
    agree["level"] = level
    tests = distribution_tests(st["h_counts"], st["l_counts"], keys)
    so = _so.run(st["items"], keys, features=features, seeds=seeds, test_size=test_size, seed=seed,
                 device=device) if so_on else None
    r = build(st, agree, tests, so, params, title)
    r.params["item_sample"] = {"items": len(st["items"]), "of": st["n_items"], "rule": "smallest hash of the item id"}
    if st["n_items"] > len(st["items"]):
        r.add_finding("info", f"Krippendorff's alpha and the second order use a hash sample of {len(st['items']):,} "
                              f"of {st['n_items']:,} items (max_items); every other figure uses all items")
    return r


def _combine(results, info, params, title) -> AuditResult:
    """The top of a multi-LLM result: the human-side figures once, one comparison row per LLM."""
    top = AuditResult(kind=KIND, title=title or "Task labels", params=dict(params), input=info)
    base = results[0].params.get("thresholds", {})
    top.params["thresholds"] = {f"{k}[{r.params['model_name']}]": v for r in results for k, v in base.items()}
    first = next((r for r in results if r.metrics), results[0])
    for name in ("human_unanimity_rate", "human_entropy_bits", "krippendorff_alpha_human"):
        if name in first.metrics:
            top.metrics[name] = first.metrics[name]
    rows, names, est, lo, hi = [], [], [], [], []
    for r in results:
        m = r.params["model_name"]
        row = [m, r.input.rows_used]
        for name in ("minority_erasure_rate", "majority_match_rate", "llm_overconfident_rate", "entropy_drop_bits",
                     "krippendorff_alpha_pooled", "second_order_accuracy_gap"):
            if name in r.metrics:
                x = r.metrics[name]
                top.add_metric(f"{name}[{m}]", x.value, f"{x.description} ({m})", ci=x.ci, n=x.n, group=m)
                row.append(x.value)
            else:
                row.append(None)
        rows.append(row)
        for name in ("label_agreement_rate", "cohen_kappa"):
            if name in r.metrics:
                x = r.metrics[name]
                top.add_metric(f"{name}[{m}]", x.value, f"{x.description} ({m})", ci=x.ci, n=x.n, group=m)
        if "minority_erasure_rate" in r.metrics:
            x = r.metrics["minority_erasure_rate"]
            names.append(m), est.append(x.value)
            lo.append(x.ci[0] if x.ci else None), hi.append(x.ci[1] if x.ci else None)
        for f in r.findings:
            if f.severity != "info":
                top.add_finding(f.severity, f"{m}: {f.message}", f"{f.metric}[{m}]" if f.metric else None,
                                f.evidence_rows)
    top.add_table("models", ["LLM", "items", "minority erasure", "majority match", "overconfident",
                             "entropy drop (bits)", "alpha pooled", "second-order accuracy gap"], rows,
                  "One row per LLM")
    top.add_figure("forest", "Minority erasure rate per LLM, 95% intervals", labels=names, estimates=est, lo=lo,
                   hi=hi, ref=0.0, x_label="minority erasure rate")
    top.headline = [k for k in top.metrics if k.startswith(("minority_erasure_rate[", "majority_match_rate[",
                                                            "second_order_accuracy_gap[")) and top[k] is not None]
    top.input.rows_used = max(r.input.rows_used for r in results)
    top.sections = results
    return top


# -- CLI --------------------------------------------------------------------------------------------------
def add_arguments(p) -> None:
    p.add_argument("file", metavar="FILE", nargs="?", help="labels file (.csv, .tsv, .jsonl, .json, .parquet); not "
                   "needed with --human-annotations/--llm-annotations")
    p.add_argument("--text", metavar="COL", help="the item text (needed for the second-order run)")
    p.add_argument("--human", metavar="COL", help="wide: column of human label lists; long: the source value of "
                   "human rows (default 'human')")
    p.add_argument("--llm", metavar="COL", nargs="+", help="wide: column(s) of LLM label lists, one per LLM; long: "
                   "LLM source value(s) (default: every source but the human one)")
    p.add_argument("--id", metavar="COL", help="item id (resampling unit; required for long files)")
    p.add_argument("--domain", metavar="COL", help="dataset/domain column: rates broken down by it")
    p.add_argument("--format", choices=["wide", "long"], default="wide", help="wide (default) or long")
    p.add_argument("--model", metavar="COL", help="long: the LLM name of each annotation (one section per LLM)")
    p.add_argument("--annotator", metavar="COL", help="long: the annotator of each annotation")
    p.add_argument("--label", metavar="COL", help="long: the label of each annotation")
    p.add_argument("--source", metavar="COL", help="long: who gave the label (human, or an LLM)")
    p.add_argument("--alpha-level", choices=list(LEVELS), default="nominal",
                   help="Krippendorff's alpha level of measurement (default nominal)")
    p.add_argument("--subjectivity-bins", default="0,1,1.6", metavar="EDGES",
                   help="human-entropy bin edges in bits (default 0,1,1.6: H=0, (0,1], (1,1.6], >1.6)")
    p.add_argument("--no-second-order", action="store_true", help="skip training the second-order classifiers")
    p.add_argument("--features", choices=["tfidf", "minilm"], default="tfidf",
                   help="second-order features: TF-IDF (default) or the packaged MiniLM embeddings")
    p.add_argument("--seeds", type=int, default=5, help="second-order splits (default 5)")
    p.add_argument("--max-items", type=int, default=MAX_ITEMS,
                   help=f"items kept for alpha and the second order, a hash sample beyond (default {MAX_ITEMS:,})")
    p.add_argument("--test-size", type=float, default=0.3, help="held-out share of items (default 0.3)")
    g = p.add_argument_group("named annotators: can this LLM replace them? (Alternative Annotator Test)")
    g.add_argument("--human-annotations", metavar="H.json", help="the Alt-Test layout: {annotator: {item id: label}}")
    g.add_argument("--llm-annotations", metavar="L.json", help="the Alt-Test layout: {LLM: {item id: label}}")
    g.add_argument("--label-type", choices=list(LABEL_TYPES), default="auto",
                   help="categorical, text, ordinal or numeric (default auto: numeric when every label is a number, "
                   "text when there are more distinct labels than max(50, 0.2 x items), else categorical)")
    g.add_argument("--alt-epsilon", type=float, default=0.15, help="the cost-benefit margin (default 0.15; the paper: "
                   "0.2 experts, 0.15 skilled annotators, 0.1 crowd workers)")
    g.add_argument("--alt-alpha", type=float, default=0.05, help="FDR level of the Benjamini-Yekutieli correction "
                   "(default 0.05)")
    g.add_argument("--alt-metric", choices=list(ALT_METRICS), help="alignment score (default: accuracy for "
                   "categorical labels, neg_rmse for numbers, token_similarity for free text; similarity: cosine of "
                   "MiniLM embeddings)")
    g.add_argument("--gold-sample", metavar="FILE", help="a small human-labelled sample (item id, label): "
                   "prediction-powered class shares and LLM error rate")
    g.add_argument("--gold-id", default="id", metavar="COL", help="item id column of --gold-sample (default id)")
    g.add_argument("--gold-label", default="label", metavar="COL", help="label column of --gold-sample (default label)")
    g.add_argument("--no-annotator-quality", action="store_true", help="skip the Dawid-Skene / MACE fits")


def annotator_kwargs(args) -> dict:
    """The named-annotator options of parsed CLI flags, as ``audit_labels`` keywords."""
    return {"human_annotations": args.human_annotations, "llm_annotations": args.llm_annotations,
            "label_type": args.label_type, "alt_epsilon": args.alt_epsilon, "alt_alpha": args.alt_alpha,
            "alt_metric": args.alt_metric, "gold_sample": args.gold_sample, "gold_id": args.gold_id,
            "gold_label": args.gold_label, "annotator_quality": not args.no_annotator_quality}


def _bins(spec: str):
    try:
        edges = tuple(float(x) for x in spec.split(","))
    except ValueError:
        raise InputError(f"--subjectivity-bins '{spec}' is not a list of numbers", expected="e.g. 0,1,1.6") from None
    if not edges or edges[0] != 0 or list(edges) != sorted(set(edges)):
        raise InputError(f"--subjectivity-bins '{spec}'", expected="increasing edges starting at 0, e.g. 0,1,1.6")
    return edges


__all__ = ["KIND", "HELP", "EXAMPLES", "audit_labels", "add_arguments", "annotator_kwargs", "FLAG_RULES"]
