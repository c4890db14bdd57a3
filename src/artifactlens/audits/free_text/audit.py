"""The free-text audit: how LLM text differs from human text in style, and whether a model notices.

Steps (each a small function): open the corpus as a stream of record batches (:mod:`.inputs`); pass 1
(:func:`scan`) keeps the small per-row columns (source, pair id, domain, model, group, input row, word
count), a hash per text for exact duplicate counts, and a **seeded, order-independent sample of texts**:
per side the ``max_texts`` rows with the smallest hash of (pair id, else row position) and seed (bottom-k;
all of a side's texts when it has no more); learn the fast POS tagger and the sentence-boundary rates from
spaCy on that sample; pass 2, run by the engine: per-text features (:class:`FeatureCheck`) and the
cross-fitted phrase scores (:class:`PhraseCheck`) as maps over record batches; per-feature comparisons
(:mod:`.compare`); corpus diversity (MiniLM, distinct-n); learned over-used phrases (log-odds, Monroe et
al.); separability; second order; then the report pieces (:mod:`.report`). Row flags: ``llm_style`` when
the cross-validated P(LLM | features) >= the threshold; ``llm_phrase`` when the cross-fitted LLM-typical
phrase score reaches the 99th percentile of the held-out human texts (:mod:`.detectors`); the flags file
is written by pass 3 (only with a flags file), batch by batch. MiniLM runs once (:func:`embed_once`) for
the sampled rows, the length-matched cut texts and the answers of prompts answered many times.

Memory: no pass holds more than a batch of texts beyond the kept sample (at most about 2 x ``max_texts``
texts a side while pass 1 runs); per row the audit keeps a few numbers and labels. The statistics that
read raw text (phrase tables and the phrase detector's training, the tagger, length matching, prompts,
embeddings, distinct-n, the diversity figures, diversity by group, second order) run on the sample; when
no side has more than ``max_texts`` texts the sample is the whole corpus and every figure is the one of
the whole corpus. ``params['text_sample']`` says which statistics ran on a sample and its size. Per-row
figures (features, comparisons, separability, calibration, both flags, phrase rates, duplicates) always
cover every row.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from ...engine import BatchContext, Check, MapOutput, get_engine
from ...result import AuditResult
from ...stats import hash_keys
from ...text.features import FEATURES, text_features
from ...text.phrases import PhraseStats, phrase_rate
from ...text.pos import FastTagger
from ...text.sentences import SentenceSegmenter, fit_tagger_and_segmenter
from . import bounds, calibration, compare, detectors, prompts, report
from .inputs import COLUMNS, Corpus, open_corpus

LLM_STYLE_THRESHOLD = 0.9
KEY_FEATURES = {"formality_d": "formality", "figurative_d": "figurative", "readability_d": "flesch",
                "mtld_d": "mtld"}
NOT_FOR_CLASSIFIER = ("words",)  # length is reported, but kept out of the style classifier
MAX_TEXTS = 20_000  # texts kept per side for the statistics that read raw text (None: every text)
ON_SAMPLE = ("tagger and sentence-boundary fit", "phrase tables and templates (learned)",
             "llm_phrase detector (learned; it scores every row)", "llm_phrase_rate (learned; rates of every row)",
             "length-matched diversity", "prompts answered many times", "embeddings (MiniLM, MAUVE)",
             "distinct-n", "compression ratio, n-gram diversity, ROUGE-L, Self-BLEU", "diversity by group",
             "second order")


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


class PhraseCheck(Check):
    """Map: per text, the held-out ``llm_phrase`` score (the detector of the half the row is NOT in; the
    halves by :func:`.detectors.folds`, looked up by row offset) and the in-sample rate of the top LLM
    phrases. State: the arrays keyed by row offset, like :class:`FeatureCheck`."""

    name = "text_phrases"

    def __init__(self, dets, fold: np.ndarray, stats: PhraseStats, top: list[int]):
        self.dets, self.fold, self.stats, self.top = dets, fold, stats, top

    def map(self, batch: pa.RecordBatch, ctx: BatchContext) -> MapOutput:
        texts = batch.column("text").to_pylist()
        fold = self.fold[ctx.row_offset:ctx.row_offset + len(texts)]
        score, _ = detectors.score_halves(self.dets, texts, fold, reasons=False)
        return MapOutput(None, [(ctx.row_offset, score, phrase_rate(texts, self.stats, self.top))])

    def merge(self, a, b):
        return a + b

    def finalize(self, state):
        parts = sorted(state, key=lambda p: p[0])
        return np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts])


class _BottomK:
    """The ``k`` rows with the smallest (key, position) seen so far, with their texts (all when k is None);
    holds at most 2k + one batch of texts."""

    def __init__(self, k: int | None):
        self.k = k
        self.keys: list[np.ndarray] = []
        self.pos: list[np.ndarray] = []
        self.texts: list[str] = []
        self.seen = 0

    def add(self, keys: np.ndarray, pos: np.ndarray, texts: list[str]) -> None:
        self.keys.append(keys)
        self.pos.append(pos)
        self.texts.extend(texts)
        self.seen += len(texts)
        if self.k is not None and len(self.texts) >= 2 * self.k:
            self._shrink()

    def _shrink(self) -> None:
        keys, pos = np.concatenate(self.keys), np.concatenate(self.pos)
        if self.k is None or len(keys) <= self.k:
            self.keys, self.pos = [keys], [pos]
            return
        keep = np.lexsort((pos, keys))[:self.k]
        self.keys, self.pos = [keys[keep]], [pos[keep]]
        self.texts = [self.texts[i] for i in keep]

    def result(self) -> tuple[np.ndarray, list[str]]:
        if not self.keys:
            return np.zeros(0, dtype=np.int64), []
        self._shrink()
        return self.pos[0], self.texts


@dataclass
class Scan:
    """Pass 1: the per-row columns of every row (``meta``: COLUMNS less text; ``is_llm``; ``words``), the
    kept texts (``sample``: a frame of COLUMNS, in row order; ``sample_rows``: their row positions), the
    exact duplicates per side and the texts per side."""

    meta: pd.DataFrame
    is_llm: np.ndarray
    words: np.ndarray
    sample: pd.DataFrame
    sample_rows: np.ndarray
    duplicates: dict
    texts: dict
    cap: int | None

    @property
    def sampled(self) -> bool:
        return len(self.sample_rows) < len(self.is_llm)


def sample_keys(pair_ids: list, start: int, seed: int) -> np.ndarray:
    """The sampling key of each row: a hash of its pair id (so a prompt's answers are kept or left
    together), else of its row position, mixed with the seed. Independent of batching and row order."""
    ids = [p if p is not None else f"r{start + i}" for i, p in enumerate(pair_ids)]
    return hash_keys(hash_keys(ids) ^ hash_keys(np.array([seed], dtype=np.int64))[0])


def scan(corpus: Corpus, seed: int = 0, cap: int | None = MAX_TEXTS) -> Scan:
    """Pass 1 over ``corpus`` (see the module docstring): bounded by ``cap`` texts a side."""
    cols = [c for c in COLUMNS if c not in ("text", "row")]
    meta: dict[str, list] = {c: [] for c in cols}
    shared: dict[str, dict] = {c: {} for c in ("source", "domain", "model", "group")}  # one object per label
    row_parts: list[np.ndarray] = []
    words: list[np.ndarray] = []
    llm_parts: list[np.ndarray] = []
    keep = {side: _BottomK(cap) for side in (False, True)}
    digests: dict = {False: [], True: []}
    pos = 0
    for b in corpus.batches():
        texts = b.column("text").to_pylist()
        n = len(texts)
        for c in cols:
            vals = b.column(c).to_pylist()
            if c in shared:
                vals = [v if v is None else shared[c].setdefault(v, v) for v in vals]
            meta[c].extend(vals)
        row_parts.append(b.column("row").to_numpy(zero_copy_only=False).astype(np.int64))
        llm = np.array([x == "llm" for x in meta["source"][pos:pos + n]], dtype=bool)
        llm_parts.append(llm)
        words.append(np.array([len(t.split()) for t in texts], dtype=np.int64))
        keys = sample_keys(b.column("pair_id").to_pylist(), pos, seed)
        rows = np.arange(pos, pos + n, dtype=np.int64)
        dig = np.array([int.from_bytes(hashlib.blake2b(t.strip().encode("utf-8", "surrogatepass"),
                                                       digest_size=8).digest(), "little") for t in texts],
                       dtype=np.uint64)
        for side in (False, True):
            m = np.flatnonzero(llm == side)
            if len(m):
                keep[side].add(keys[m], rows[m], [texts[i] for i in m])
                digests[side].append(dig[m])
        pos += n
    is_llm = np.concatenate(llm_parts)
    got = {side: keep[side].result() for side in (False, True)}
    rows = np.concatenate([got[False][0], got[True][0]])
    texts = got[False][1] + got[True][1]
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    frame = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in meta.items()})
    frame.insert(3, "row", np.concatenate(row_parts))
    sample = frame.iloc[rows].reset_index(drop=True)
    sample.insert(0, "text", pd.Series([texts[i] for i in order], dtype=object))
    dup = {}
    for side, name in ((False, "human"), (True, "llm")):
        d = np.concatenate(digests[side]) if digests[side] else np.zeros(0, dtype=np.uint64)
        dup[name] = (int(len(d) - len(np.unique(d))), int(len(d)))
    return Scan(frame, is_llm, np.concatenate(words), sample[COLUMNS], rows, dup,
                {"human": int((~is_llm).sum()), "llm": int(is_llm.sum())}, cap)


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
               device: str | None = None, model: str = "model", group: str | None = None,
               max_texts: int | None = MAX_TEXTS) -> AuditResult:
    """Audit LLM vs human free text. ``path``: a file (long, HC3, wide or index-paired lists) or a pandas
    DataFrame; or ``human=`` and ``llm=`` files. ``max_texts``: texts kept per side for the statistics
    that read raw text (None: all). Returns the :class:`AuditResult` (kind ``text``)."""
    if max_texts is not None and max_texts < 1:
        from ...errors import InputError
        raise InputError(f"max_texts must be at least 1, not {max_texts}", column="max_texts",
                         expected="a positive number of texts per side")
    corpus = open_corpus(path, human, llm, text, source, pair, domain, encoding, batch_size, model, group)
    sc = scan(corpus, seed, max_texts)
    info, layout = corpus.info, corpus.layout
    meta, is_llm, n = sc.meta, sc.is_llm, len(sc.is_llm)
    paired = meta["pair_id"].notna().all() and meta.groupby("pair_id")["source"].nunique().max() == 2
    groups = meta["pair_id"].to_numpy() if paired else np.array([f"r{i}" for i in range(n)])
    keys = hash_keys(groups)
    S, s_rows = sc.sample, sc.sample_rows  # the kept texts (the whole corpus when no side passes the cap)
    s_llm, s_groups, s_texts = is_llm[s_rows], groups[s_rows], S["text"].to_numpy()

    tagger, segmenter, tagger_note, sentence_note = fit_text_models(S["text"].tolist(), seed, tagger_words)
    fold = detectors.folds(groups, seed)
    dets = detectors.fit_halves(s_texts, s_llm, fold[s_rows], seed)
    learned = report.learn_phrases(s_texts, s_llm, seed)
    eng = get_engine(engine, seed=seed, quiet=quiet) if engine == "local" else get_engine(engine)
    out = eng.run(corpus.batches(), [FeatureCheck(tagger, segmenter=segmenter),
                                     PhraseCheck(dets, fold, learned[0], learned[2])])
    F = out["text_features"]
    ph_score, ph_rate = out["text_phrases"]

    r = AuditResult(kind="text", title="Free text: LLM vs human style")
    r.input = info
    r.params = {"layout": layout, "columns": {"text": text, "source": source, "pair": pair, "domain": domain,
                                              "model": model, "group": group},
                "paired": bool(paired), "seed": seed, "pos_method": tagger_note,
                "sentence_method": sentence_note,
                "tagger_sample_words": tagger_words, "max_embed_per_source": max_embed,
                "features": FEATURES, "thresholds": {n: s.thresholds_entry() for n, s in report.LIGHTS.items()},
                "llm_style_threshold": LLM_STYLE_THRESHOLD, "effect_sign": "LLM minus human",
                "text_sample": {"max_texts_per_side": max_texts, "texts": sc.texts,
                                "kept": {"human": int((~s_llm).sum()), "llm": int(s_llm.sum())},
                                "sampled": sc.sampled, "on_sample": [x for x in ON_SAMPLE if embeddings or "MiniLM" not in x] if sc.sampled else [],
                                "rule": "per side, the max_texts rows with the smallest hash of (pair id, else "
                                        "row position) and the seed; every text of a side with no more"}}
    tests = compare.feature_tests(F, is_llm, keys, seed)
    report.add_feature_comparison(r, tests, F, is_llm, KEY_FEATURES)
    if paired:
        npairs, prow = compare.paired_differences(F, groups, is_llm, seed)
        report.add_paired(r, npairs, prow)
    doms = meta["domain"]
    if doms.notna().all() and doms.nunique() >= 2:
        report.add_domains(r, F, is_llm, doms.to_numpy(), keys, seed)

    clf_names = [k for k in F if k not in NOT_FOR_CLASSIFIER]
    X = np.column_stack([F[k] for k in clf_names])
    oof, clf, auc = compare.separability(X, is_llm.astype(int), groups, seed)
    r.add_metric("separability_auc", auc[0], "cross-validated AUC of a logistic regression telling LLM from "
                 "human text by the style features (0.5 = indistinguishable)", ci=auc[1:], n=n,
                 group="separability")
    calibration.add_calibration(r, oof, is_llm, meta, keys, seed, words=sc.words)
    report.add_phrases(r, None, is_llm, seed, learned=learned, rate=ph_rate)
    ph_thr, ph_flag = detectors.threshold(dets, ph_score, is_llm)
    report.add_phrase_flags(r, ph_flag, is_llm, keys, ph_thr, seed)
    r.params["detectors"] = {"llm_phrase": dets[0].config()}
    lm = bounds.length_match(s_texts, s_llm, seed)
    prow = prompts.prompt_rows(S, s_llm, seed)
    E = idx = E_pool = E_prompt = None
    if embeddings:
        idx = embed_sample(s_llm, seed, max_embed)
        E, E_pool, E_prompt = embed_once(s_texts, idx, [bounds.pool_texts(s_texts, lm) if lm else [],
                                                        list(s_texts[prow])], device)
        report.add_embeddings(r, E, idx, s_llm, s_groups, seed)
        report.add_mauve(r, E, s_llm[idx], seed)
    prompts.add_prompts(r, prompts.analyse(S, s_llm, prow, E_prompt, seed), seed)
    report.add_distinct(r, S, s_llm, seed)
    report.add_diversity(r, S, s_llm, seed, duplicates=sc.duplicates)
    if lm:
        bounds.add_matched(r, bounds.matched_figures(s_texts, lm, seed, E_pool), lm)
    else:
        r.add_finding("info", "length-matched diversity skipped: fewer than 10 texts per side reach the common length")
    bounds.add_groups(r, bounds.group_rows(S, s_llm, E, idx, seed))
    if doms.notna().all() and doms.nunique() >= 2:
        so = compare.second_order(s_texts, S["domain"].to_numpy(), s_llm,
                                  s_groups if paired else np.arange(len(S)), seed)
        report.add_second_order(r, so)
    else:
        r.add_finding("info", "second order skipped: no labelled task (a domain column with 2+ values)")
    flag = np.nan_to_num(oof, nan=0.0) >= LLM_STYLE_THRESHOLD
    picks = report.example_rows(oof, is_llm)
    at = np.searchsorted(s_rows, picks)
    found = (at < len(s_rows)) & (s_rows[np.minimum(at, len(s_rows) - 1)] == picks)
    ex_text = {int(p): s_texts[a] for p, a, f in zip(picks, at, found) if f}
    written = None
    if flags_path or len(ex_text) < len(picks):  # pass 3: the flags file, and texts of examples not kept
        batches = flag_batches(corpus, set(picks.tolist()) - set(ex_text), ex_text, F, oof, flag, clf, X,
                               clf_names, dets, fold, (ph_score, ph_flag))
        if flags_path:
            written = report.write_flags(flags_path, batches)
        else:
            for _ in batches:
                pass
    report.add_examples(r, picks, [ex_text[int(p)] for p in picks], meta["row"].to_numpy(),
                        meta["domain"].to_numpy(), oof,
                        report.style_reasons(clf, X[picks], clf_names) if len(picks) else [], F)
    r.flags = {"path": str(flags_path) if flags_path else None, "rows": n,
               "columns": ["llm_style", "llm_style_score", "llm_style_reason", "llm_phrase", "llm_phrase_score",
                           "llm_phrase_reason"] + [f"f_{k}" for k in F],
               "counts": {"llm_style": int(flag.sum()), "llm_style_human": int((flag & ~is_llm).sum()),
                          "llm_style_llm": int((flag & is_llm).sum()), "llm_phrase": int(ph_flag.sum()),
                          "llm_phrase_human": int((ph_flag & ~is_llm).sum()),
                          "llm_phrase_llm": int((ph_flag & is_llm).sum())}}
    if written is not None and written != n:
        raise RuntimeError(f"the flags file has {written} rows, the audit {n}: the input changed while it was read")
    report.add_findings(r)
    r.headline = ["formality_d", "figurative_d", "readability_d", "mtld_d", "embedding_diversity_human",
                  "embedding_diversity_llm", "separability_auc"]
    r.headline = [h for h in r.headline if h in r.metrics]
    return r


def flag_batches(corpus: Corpus, wanted: set, texts_out: dict, F, oof, flag, clf, X, clf_names, dets, fold,
                 phrase):
    """Pass 3: the flags file's batches (reasons computed for the flagged rows of each batch only), and
    the texts of the ``wanted`` rows put into ``texts_out``."""
    ph_score, ph_flag = phrase
    off = 0
    for b in corpus.batches():
        m = b.num_rows
        sl = slice(off, off + m)
        texts = None
        if wanted:
            hit = [p for p in wanted if off <= p < off + m]
            if hit:
                texts = b.column("text").to_pylist()
                for p in hit:
                    texts_out[p] = texts[p - off]
        style = [None] * m
        sel = np.flatnonzero(flag[sl])
        if len(sel):
            for j, why in zip(sel, report.style_reasons(clf, X[sl][sel], clf_names)):
                style[j] = why
        why_ph = [None] * m
        sel = np.flatnonzero(ph_flag[sl])
        if len(sel):
            texts = texts if texts is not None else b.column("text").to_pylist()
            _, rs = detectors.score_halves(dets, [texts[j] for j in sel], fold[sl][sel])
            for j, why in zip(sel, rs):
                why_ph[j] = why
        off += m
        yield report.flag_batch(b, sl, F, oof, flag, style, (ph_score, ph_flag, why_ph))
