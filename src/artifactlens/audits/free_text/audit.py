"""The free-text audit: how LLM text differs from human text in style, and whether a model notices.

Steps (each a small function): read and normalise the corpus (:mod:`.inputs`); learn the fast POS tagger
and the sentence-boundary rates from spaCy on a sample; per-text features as a map over record batches
(:class:`FeatureCheck`, run by the engine); per-feature comparisons (:mod:`.compare`); corpus diversity
(MiniLM, distinct-n); learned over-used phrases (log-odds, Monroe et al.); separability; second order;
then the report pieces (:mod:`.report`). Row flags: ``llm_style`` when the cross-validated P(LLM | features)
>= the threshold; ``llm_phrase`` when the cross-fitted LLM-typical phrase score reaches the 99th percentile
of the held-out human texts (:mod:`.detectors`). MiniLM runs once (:func:`embed_once`) for the sampled rows,
the length-matched cut texts and the answers of prompts answered many times.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from ...engine import BatchContext, Check, MapOutput, get_engine
from ...result import AuditResult
from ...stats import hash_keys
from ...text.features import FEATURES, text_features
from ...text.pos import FastTagger
from ...text.sentences import SentenceSegmenter, fit_tagger_and_segmenter
from . import bounds, calibration, compare, prompts, report
from .detectors import cross_fitted
from .inputs import load_corpus

LLM_STYLE_THRESHOLD = 0.9
KEY_FEATURES = {"formality_d": "formality", "figurative_d": "figurative", "readability_d": "flesch",
                "mtld_d": "mtld"}
NOT_FOR_CLASSIFIER = ("words",)  # length is reported, but kept out of the style classifier


class FeatureCheck(Check):
    """Map: per-text features of a batch's ``text`` column. State: the feature arrays keyed by row offset
    (merge concatenates; finalize orders them), so any engine can run it."""

    name = "text_features"

    def __init__(self, tagger: FastTagger, sentiment: bool = True, segmenter: SentenceSegmenter | None = None):
        self.tagger = tagger
        self.sentiment = sentiment
        self.segmenter = segmenter

    def map(self, batch: pa.RecordBatch, ctx: BatchContext) -> MapOutput:
        F = text_features(batch.column("text").to_pylist(), tagger=self.tagger, sentiment=self.sentiment,
                          segmenter=self.segmenter)
        return MapOutput({f"f_{k}": pa.array(v) for k, v in F.items()}, [(ctx.row_offset, F)])

    def merge(self, a, b):
        return a + b

    def finalize(self, state):
        parts = sorted(state, key=lambda p: p[0])
        return {k: np.concatenate([p[1][k] for p in parts]) for k in parts[0][1]}


def fit_text_models(texts, seed: int = 0, max_words: int = 25_000):
    """The fast POS tagger and the sentence-boundary rates, learned from ONE spaCy pass over a sample of
    ``texts`` (:func:`.sentences.fit_tagger_and_segmenter`); without spaCy, the closed-class prior and the
    stated sentence rule. Returns ``(tagger, segmenter, tagger_note, sentence_note)``."""
    try:
        tagger, segmenter = fit_tagger_and_segmenter(texts, max_words=max_words, seed=seed)
        return tagger, segmenter, "unigram tagger learned from spaCy", "boundary rates learned from spaCy's parser"
    except ImportError:
        return (FastTagger(), SentenceSegmenter(), "closed-class and suffix prior (spaCy unavailable)",
                "rule: . ! ? not after an abbreviation (spaCy unavailable)")


def embed_sample(is_llm: np.ndarray, seed: int, max_embed: int) -> np.ndarray:
    """Rows embedded: up to ``max_embed`` per side, a seeded random sample, in row order."""
    rng = np.random.default_rng(seed)
    pick = []
    for side in (False, True):
        idx = np.flatnonzero(is_llm == side)
        pick.append(np.sort(rng.choice(idx, max_embed, replace=False)) if len(idx) > max_embed else idx)
    return np.concatenate(pick)


def embed_once(texts: np.ndarray, idx: np.ndarray, extra: list[list[str]], device=None) -> list[np.ndarray]:
    """ONE MiniLM call for the audit: the sampled rows ``idx`` and each list of ``extra`` texts (the
    length-matched cut texts, the answers of prompts answered many times). Returns [E idx, E extra...]."""
    from ...text.embeddings import embed
    parts = [list(texts[idx])] + [list(x) for x in extra]
    E = embed([t for p in parts for t in p], device=device)
    ends = np.cumsum([len(p) for p in parts])
    return [E[a:b] for a, b in zip(np.r_[0, ends[:-1]], ends)]


def audit_text(path=None, *, human=None, llm=None, text: str = "text", source: str = "source",
               pair: str = "pair_id", domain: str = "domain", seed: int = 0, engine: str = "local",
               batch_size: int = 8192, encoding: str = "utf-8", flags_path=None, embeddings: bool = True,
               max_embed: int = 3000, tagger_words: int = 25_000, quiet: bool = True,
               device: str | None = None, model: str = "model", group: str | None = None) -> AuditResult:
    """Audit LLM vs human free text. ``path``: a file (long, HC3, wide or index-paired lists) or a pandas
    DataFrame; or ``human=`` and ``llm=`` files. Returns the :class:`AuditResult` (kind ``text``)."""
    df, info, layout = load_corpus(path, human, llm, text, source, pair, domain, encoding, batch_size, model, group)
    is_llm = (df["source"] == "llm").to_numpy()
    paired = df["pair_id"].notna().all() and df.groupby("pair_id")["source"].nunique().max() == 2
    groups = df["pair_id"].to_numpy() if paired else np.array([f"r{i}" for i in range(len(df))])
    keys = hash_keys(groups)
    texts = df["text"].tolist()

    tagger, segmenter, tagger_note, sentence_note = fit_text_models(texts, seed, tagger_words)
    table = pa.table({"text": pa.array(texts, type=pa.string())})
    eng = get_engine(engine, seed=seed, quiet=quiet) if engine == "local" else get_engine(engine)
    F = eng.run(table.to_batches(batch_size), [FeatureCheck(tagger, segmenter=segmenter)])["text_features"]

    r = AuditResult(kind="text", title="Free text: LLM vs human style")
    r.input = info
    r.params = {"layout": layout, "columns": {"text": text, "source": source, "pair": pair, "domain": domain,
                                              "model": model, "group": group},
                "paired": bool(paired), "seed": seed, "pos_method": tagger_note,
                "sentence_method": sentence_note,
                "tagger_sample_words": tagger_words, "max_embed_per_source": max_embed,
                "features": FEATURES, "thresholds": {n: s.thresholds_entry() for n, s in report.LIGHTS.items()},
                "llm_style_threshold": LLM_STYLE_THRESHOLD, "effect_sign": "LLM minus human"}
    tests = compare.feature_tests(F, is_llm, keys, seed)
    report.add_feature_comparison(r, tests, F, is_llm, KEY_FEATURES)
    if paired:
        npairs, prow = compare.paired_differences(F, groups, is_llm, seed)
        report.add_paired(r, npairs, prow)
    doms = df["domain"]
    if doms.notna().all() and doms.nunique() >= 2:
        report.add_domains(r, F, is_llm, doms.to_numpy(), keys, seed)

    clf_names = [k for k in F if k not in NOT_FOR_CLASSIFIER]
    X = np.column_stack([F[k] for k in clf_names])
    oof, model, auc = compare.separability(X, is_llm.astype(int), groups, seed)
    r.add_metric("separability_auc", auc[0], "cross-validated AUC of a logistic regression telling LLM from "
                 "human text by the style features (0.5 = indistinguishable)", ci=auc[1:], n=len(df),
                 group="separability")
    calibration.add_calibration(r, oof, is_llm, df, keys, seed)
    report.add_phrases(r, df, is_llm, seed)
    ph_score, ph_flag, ph_reason, ph_thr, ph_dets = cross_fitted(df["text"].to_numpy(), is_llm, groups, seed)
    report.add_phrase_flags(r, ph_flag, is_llm, keys, ph_thr, seed)
    r.params["detectors"] = {"llm_phrase": ph_dets[0].config()}
    lm = bounds.length_match(df["text"].to_numpy(), is_llm, seed)
    prow = prompts.prompt_rows(df, is_llm, seed)
    E = idx = E_pool = E_prompt = None
    if embeddings:
        idx = embed_sample(is_llm, seed, max_embed)
        texts_ = df["text"].to_numpy()
        E, E_pool, E_prompt = embed_once(texts_, idx, [bounds.pool_texts(texts_, lm) if lm else [],
                                                       list(texts_[prow])], device)
        report.add_embeddings(r, E, idx, is_llm, groups, seed)
        report.add_mauve(r, E, is_llm[idx], seed)
    prompts.add_prompts(r, prompts.analyse(df, is_llm, prow, E_prompt, seed), seed)
    report.add_distinct(r, df, is_llm, seed)
    report.add_diversity(r, df, is_llm, seed)
    if lm:
        bounds.add_matched(r, bounds.matched_figures(df["text"].to_numpy(), lm, seed, E_pool), lm)
    else:
        r.add_finding("info", "length-matched diversity skipped: fewer than 10 texts per side reach the common length")
    bounds.add_groups(r, bounds.group_rows(df, is_llm, E, idx, seed))
    if doms.notna().all() and doms.nunique() >= 2:
        so = compare.second_order(df["text"].to_numpy(), doms.to_numpy(), is_llm,
                                  groups if paired else np.arange(len(df)), seed)
        report.add_second_order(r, so)
    else:
        r.add_finding("info", "second order skipped: no labelled task (a domain column with 2+ values)")
    reasons = report.style_reasons(model, X, clf_names)
    flag = np.nan_to_num(oof, nan=0.0) >= LLM_STYLE_THRESHOLD
    report.add_examples(r, df, oof, reasons, is_llm, F)
    r.flags = {"path": str(flags_path) if flags_path else None, "rows": len(df),
               "columns": ["llm_style", "llm_style_score", "llm_style_reason", "llm_phrase", "llm_phrase_score",
                           "llm_phrase_reason"] + [f"f_{k}" for k in F],
               "counts": {"llm_style": int(flag.sum()), "llm_style_human": int((flag & ~is_llm).sum()),
                          "llm_style_llm": int((flag & is_llm).sum()), "llm_phrase": int(ph_flag.sum()),
                          "llm_phrase_human": int((ph_flag & ~is_llm).sum()),
                          "llm_phrase_llm": int((ph_flag & is_llm).sum())}}
    if flags_path:
        report.write_flags(flags_path, df, F, oof, flag, reasons, (ph_score, ph_flag, ph_reason))
    report.add_findings(r)
    r.headline = ["formality_d", "figurative_d", "readability_d", "mtld_d", "embedding_diversity_human",
                  "embedding_diversity_llm", "separability_auc"]
    r.headline = [h for h in r.headline if h in r.metrics]
    return r
