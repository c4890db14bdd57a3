"""``audit_preferences``: read pairs or rankings, run the first-order and locality checks on an engine,
train the reward models, and assemble one :class:`~artifactlens.result.AuditResult` (see :mod:`.report`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...engine import get_engine
from ...errors import InputError
from ...io.conventions import parse_codes
from ...io.readers import file_sha256, open_source, require_columns
from ...result import AuditResult, InputInfo
from ..common import input_info
from . import codings, load, locality, metrics, reward, stylefit
from .family import parse_family_map
from .model_entailment import EntailmentCheck, add_entailment
from .ratings import audit_ratings
from .report import build_result

REWARD_SEEDS = (0, 1, 2, 3, 4)


def _checked(batches, spec: load.PairSpec, path):
    first = True
    for b in batches:
        if first:
            require_columns(b.schema.names, spec.roles(), path)
            first = False
        yield b


def audit_preferences(path=None, *, a: str = "response_a", b: str = "response_b", human: str | None = None,
                      judge: str | None = None, judge_swapped: str | None = None, prompt: str | None = None,
                      reference: str | None = None, group: str | None = None, codes: str | None = None,
                      model_a: str | None = None, model_b: str | None = None, judge_model: str | None = None,
                      lexicon=None, nli_column: str | None = None, nli_model=None, rankings=None,
                      human_rankings=None, reward_model: bool = True, reward_seeds=REWARD_SEEDS,
                      embeddings: bool = True, seed: int = 0, flags=None, engine="local",
                      batch_size: int = 8192, encoding: str = "utf-8", quiet: bool = True,
                      judge_prob: str | None = None, judge_prob_swapped: str | None = None,
                      family_map=None, style_control: bool = True, ratings: bool = False,
                      item: str | None = None, judge_score: str | None = None, human_score: str | None = None,
                      response: str | None = None, response_length: str | None = None,
                      generator: str | None = None, judge_column: str | None = None, judge_range=None,
                      human_range=None, device: str | None = None, entailment=()) -> AuditResult:
    """Audit pairwise preferences (a judge against people) from ``path`` (pairs) or ``rankings``.

    Choices are read with :func:`artifactlens.io.conventions.parse_choice` (``codes`` such as
    ``"0=tie,1=a,2=b"`` first); a choice outside the coding is counted invalid, never an error.
    ``group`` (default: the prompt) is what the bootstrap resamples. Returns the result (metrics named in
    the module docstring of :mod:`.metrics` and :mod:`.locality`).

    ``engine``: ``"local"``/``"ray"``, an engine object, or a callable ``label -> engine`` (one engine per
    pass over the data: the style-control pass, then the main pass). ``style_control``: fit
    :mod:`.stylefit` for the judge and for people (one extra pass; debiased labels go to the flags).

    ``ratings=True``: pointwise ratings instead of pairs (:mod:`.ratings`: ``item``, ``judge_score``,
    ``human_score``, and optionally ``response``, ``response_length``, ``generator``, ``judge_column``,
    ``judge_range``/``human_range`` as ``"LO,HI"``); one section per judge.
    ``entailment``: model-backed detectors (:func:`.model_entailment.entailment_detectors`) run on the main
    pass as one more check (their columns in the flags, their rates and records in the result).
    """
    fmap = parse_family_map(family_map)
    rating_opts = {"--item": item, "--judge-score": judge_score, "--human-score": human_score,
                   "--response": response, "--response-length": response_length, "--generator": generator,
                   "--judge-column": judge_column, "--judge-range": judge_range, "--human-range": human_range}
    if ratings:
        pair_opts = {"--human": human, "--judge": judge, "--judge-swapped": judge_swapped, "--rankings": rankings}
        clash = [k for k, v in pair_opts.items() if v]
        if clash:
            raise InputError(f"{clash[0]} is for pairs, not --ratings", path=path,
                             expected="--ratings with --item/--judge-score/--human-score, or pairs without --ratings")
        return audit_ratings(path, item=item, judge_score=judge_score, human_score=human_score, response=response,
                             response_length=response_length, generator=generator, judge_column=judge_column,
                             judge_range=judge_range, human_range=human_range, judge_model=judge_model,
                             family_map=fmap, seed=seed, engine_for=_engines(engine, seed, quiet),
                             encoding=encoding, batch_size=batch_size, flags=flags)
    stray = [k for k, v in rating_opts.items() if v]
    if stray:
        raise InputError(f"{stray[0]} needs --ratings (pointwise scores)", path=path,
                         expected="--ratings --item COL --judge-score COL --human-score COL")
    try:
        code_map = parse_codes(codes)
    except ValueError as e:
        raise InputError(f"--codes: {e}", expected="CODE=CHOICE pairs such as 0=tie,1=a,2=b") from None
    extra_skips: dict[str, int] = {}
    if rankings is not None:
        if path is not None:
            raise InputError("give FILE or --rankings, not both", path=path, expected="one input")
        rj = load.load_rankings(rankings)
        rh = load.load_rankings(human_rankings) if human_rankings else None
        table, extra_skips = load.rankings_to_pairs(rj, rh)
        spec = load.PairSpec(a="response_a", b="response_b", judge="judge", human="human" if rh else None,
                             prompt="prompt", reference="reference", group="prompt_id", model_a="model_a",
                             model_b="model_b")
        judge_model = judge_model or rj.evaluator
        info = InputInfo(path=str(rankings), sha256=file_sha256(Path(rankings)), format="rankings",
                         rows_read=table.num_rows)
        reread = lambda: table.to_batches(max_chunksize=batch_size)  # noqa: E731
        src = None
    else:
        if human_rankings is not None:
            raise InputError("--human-rankings needs --rankings (the judge's rankings)", expected="--rankings FILE")
        if path is None:
            raise InputError("no input: give FILE (pairs) or --rankings JUDGE.json", expected="FILE or --rankings")
        if not human and not judge:
            raise InputError("nothing to audit: give --human and/or --judge", path=path,
                             expected="at least one choice column")
        spec = load.PairSpec(a=a, b=b, human=human, judge=judge, judge_swapped=judge_swapped, prompt=prompt,
                             reference=reference, group=group, model_a=model_a, model_b=model_b, nli=nli_column,
                             judge_prob=judge_prob, judge_prob_swapped=judge_prob_swapped)
        src = open_source(path, encoding=encoding, batch_size=batch_size)
        reread = lambda: _checked(src.batches(), spec, path)  # noqa: E731
        rj = rh = None
        info = None
    group_col = spec.group or spec.prompt
    lex = None
    if lexicon:
        from ...text.lexicons import load_lexicon_tsv
        lex = load_lexicon_tsv(lexicon)
    cfg = locality.CueConfig(lexicon=lex, lexicon_name=f"lexicon_{Path(lexicon).stem}" if lexicon else "lexicon",
                             nli_model=str(nli_model) if nli_model else None, embeddings=embeddings,
                             device=device)
    engine_for = _engines(engine, seed, quiet)
    fits = {}
    if style_control:
        st = engine_for("preferences style").run(reread(), [metrics.StyleCheck(spec, code_map, judge_model, group_col,
                                                                                 fmap)])["style"]
        for who in ("judge", "human"):
            f = stylefit.fit(who, st["cov"], st[who], st["keys"], seed=seed,
                             model_a=st["model_a"] if spec.model_a else None,
                             model_b=st["model_b"] if spec.model_b else None)
            if f is not None:
                fits[who] = f
    checks = [metrics.PairCheck(spec, code_map, judge_model, seed, group_col, positional=rankings is None,
                                family_map=fmap, style_fit=fits.get("judge")),
              locality.LocalityCheck(spec, cfg, code_map, group_col)]
    if entailment:
        checks.append(EntailmentCheck(entailment, seed))
    eng = engine_for("preferences")
    out = eng.run(reread(), checks, flags_path=flags)
    if info is None:
        info = input_info(src)
    st = out["preferences"]
    notes = codings.check(st.get("raw", {}), code_map, path, st.get("nested_row")) if rankings is None else []
    pt = out["preferences"]["acc"].point()
    valid = max(pt.get("j_valid", 0), pt.get("h_valid", 0))
    if (pt.get("rows", 0) or 0) > 0 and valid == 0:
        cols = ", ".join(f"{c}: {dict(k.most_common(3))}" for c, k in out["preferences"].get("raw", {}).items())
        raise InputError(f"no row has a choice in the coding ({cols or 'every choice empty'}): nothing was audited",
                         path=path, expected="choices such as a/b/tie, model_a/model_b/tie, 0/1/2, or --codes "
                         "CODE=CHOICE for yours")
    for k, n in extra_skips.items():
        info.skip(k, n)

    rows = _collect(reread(), spec, code_map) if (spec.human and spec.judge) else None
    rm = None
    if rows is not None and reward_model and embeddings:
        from ...text.embeddings import embed
        ea, eb = embed(rows["a"], device=device), embed(rows["b"], device=device)
        ep = embed(rows["prompt"], device=device) if rows["prompt"] is not None else None
        X = reward.features(ea, eb, ep)
        groups = rows["group"] if rows["group"] is not None else np.arange(len(rows["a"]))
        rm = reward.reward_gap(X, rows["judge"], rows["human"], groups, seeds=tuple(reward_seeds), boot_seed=seed)
    params = {"columns": {k: v for k, v in vars(spec).items() if v}, "codes": code_map or None,
              "judge_model": judge_model, "resample_by": group_col or "row", "seed": seed,
              "length_unit": "words (whitespace-separated)", "lexicon": str(lexicon) if lexicon else None,
              "nli_model": str(nli_model) if nli_model else None, "nli_column": nli_column,
              "reward_model": {"features": "MiniLM phi(A)-phi(B), phi=[e(resp), e(resp)*e(prompt)]",
                               "classifier": "LogisticRegression(C=1, no intercept), both orientations",
                               "seeds": list(reward_seeds), "test_size": 0.3, "split_by": group_col or "row"},
              "rankings": str(rankings) if rankings else None,
              "human_rankings": str(human_rankings) if human_rankings else None}
    params["style_control"] = {"covariates": "A minus B: (a-b)/(a+b) of characters, headers, bold, list items, "
                               "code blocks; overlap with prompt/reference and entailment as differences; "
                               "same family as the judge +1/-1/0; each divided by its SD",
                               "intercept": "position (the response shown first)", "ties": "left out",
                               "interval": f"Poisson bootstrap by {group_col or 'row'}",
                               "unstable_if": {"abs_coef_above": stylefit.SEPARATION_LOGIT,
                                               "interval_wider_than": stylefit.WIDE_INTERVAL},
                               "family_rule": "--family-map, else family.name_rule"} if style_control else None
    result = build_result(out["preferences"], locality.summarise(out["locality"], seed), rm, rows, info, params,
                          rankings=(rj, rh), flags=flags, engine_rows=eng.rows, style=fits)
    if entailment:
        add_entailment(result, out["entailment"], entailment)
    for note in notes:
        result.add_finding("info", note)
    for who, key in (("judge", "j_valid"), ("human", "h_valid")):
        if getattr(spec, who) and pt.get("rows") and pt.get(key, 0) < 0.5 * pt["rows"]:
            result.add_finding("critical", f"{pt['rows'] - pt.get(key, 0):.0f} of {pt['rows']:.0f} {who} choices are "
                               "outside the coding or empty: the figures rest on the few rows left (check the "
                               "column and --codes).", f"{who}_invalid_rate")
    return result


def _engines(engine, seed, quiet):
    """``label -> engine`` for each pass: a name (a new engine per pass), a callable, or one engine object."""
    if isinstance(engine, str):
        return lambda label: get_engine(engine, seed=seed, quiet=quiet)
    if callable(engine) and not hasattr(engine, "run"):
        return engine
    return lambda label: engine


def _collect(batches, spec, codes) -> dict:
    """Texts and choices of every row (for the reward model and the example pairs)."""
    cols = {"a": [], "b": [], "prompt": [] if spec.prompt else None, "group": [] if (spec.group or spec.prompt) else None,
            "judge": [], "human": [], "model_a": [] if spec.model_a else None, "model_b": [] if spec.model_b else None}
    for batch in batches:
        v = load.view(batch, spec, codes)
        cols["a"] += v.a
        cols["b"] += v.b
        cols["judge"] += list(load.three_way(v.judge))
        cols["human"] += list(load.three_way(v.human))
        if cols["prompt"] is not None:
            cols["prompt"] += v.prompt
        if cols["group"] is not None:
            cols["group"] += list(v.group if v.group is not None else v.prompt)
        for m in ("model_a", "model_b"):
            if cols[m] is not None:
                cols[m] += list(getattr(v, m))
    return {k: (np.asarray(x, dtype=object) if k in ("judge", "human") else x) for k, x in cols.items()}
