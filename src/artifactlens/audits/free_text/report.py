"""Turning the text audit's calculations into metrics, tables, figures, examples and flags (rendering is
left to :mod:`artifactlens.report`). Figures: human-beside-LLM histograms per key feature (the report's
box/violin stand-in), an effect-size forest plot, an embedding projection coloured by source."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...contract import HIGHER_IS_WORSE, MetricSpec
from ...stats import BootstrapSums, hash_keys
from ...text import diversity as D
from ...text.corpus import distinct_n_compare, embedding_diversity
from ...text.phrases import log_odds_dirichlet, phrase_rate, template_log_odds
from . import compare
from .bounds import BLEU_SAMPLE, PAIR_SAMPLE

# The lit metrics: their warn/bad marks declared once (rows of the audit's metric table, written to
# params['thresholds'], and asked for the level by the findings below).
LIGHTS = {s.name: s for s in (MetricSpec(name, worse=HIGHER_IS_WORSE, warn=warn, bad=bad) for name, warn, bad in (
    ("formality_d", 0.3, 0.8), ("figurative_d", 0.3, 0.8), ("separability_auc", 0.75, 0.9),
    ("embedding_diversity_gap", 0.02, 0.05), ("second_order_gap", 0.03, 0.1)))}
UNLIT_EFFECT_WARN = 0.3  # |d| from which an effect without lights of its own (mtld_d) is a warning, not info
PLOT_FEATURES = ("formality", "figurative", "flesch", "mtld", "sentence_length", "word_length", "contractions",
                 "first_person", "hedges", "markdown", "punctuation", "sentiment")
PHRASE_SAMPLE = 20_000


def add_feature_comparison(r, tests, F, is_llm, key_features):
    by = {t["feature"]: t for t in tests}
    for metric, feat in key_features.items():
        t = by[feat]
        r.add_metric(metric, t["d"][0], f"Cohen's d of {feat} (LLM minus human, pooled SD); Mann-Whitney "
                     f"q={t['q']:.2g} (BH)", ci=t["d"][1:], n=len(is_llm), group="style effect sizes")
    rows = [[t["feature"], t["mean_human"], t["mean_llm"], t["d"][0], t["d"][1], t["d"][2], t["cliff"][0],
             t["cliff"][1], t["cliff"][2], t["p"], t["q"]] for t in tests]
    r.add_table("feature_effects", ["feature", "mean human", "mean LLM", "d", "d lo", "d hi", "Cliff's delta",
                                    "delta lo", "delta hi", "p (Mann-Whitney)", "q (BH)"], rows,
                "Per-feature human vs LLM: means, effect sizes (LLM minus human) with 95% intervals, tests")
    order = sorted(tests, key=lambda t: -abs(t["d"][0] if np.isfinite(t["d"][0]) else 0))
    r.add_figure("forest", "Cohen's d per feature (LLM minus human), 95% bootstrap intervals",
                 labels=[t["feature"] for t in order], estimates=[t["d"][0] for t in order],
                 lo=[t["d"][1] for t in order], hi=[t["d"][2] for t in order], ref=0.0, x_label="Cohen's d")
    for feat in PLOT_FEATURES:
        if feat not in F:
            continue
        x = F[feat]
        lo, hi = np.quantile(x, [0.01, 0.99])
        if hi <= lo:
            hi = lo + 1
        edges = np.linspace(lo, hi, 13)
        clip = np.clip(x, lo, hi)
        r.add_figure("histogram", f"{feat}: human beside LLM (share of texts per bin)", edges=edges.tolist(),
                     series={"human": np.histogram(clip[~is_llm], edges)[0].tolist(),
                             "llm": np.histogram(clip[is_llm], edges)[0].tolist()})


def add_paired(r, npairs, rows):
    if not rows:
        return
    table = [[x["feature"], *x["mean_diff"], *x["flip_rate"]] for x in rows]
    r.add_table("paired_differences", ["feature", "mean diff (LLM-human)", "lo", "hi", "flip rate", "lo", "hi"],
                table, f"Paired differences over {npairs} prompts with both answers; flip rate = share of pairs "
                "going against the average direction")
    f = next(x for x in rows if x["feature"] == "formality")
    r.add_metric("formality_paired_diff", f["mean_diff"][0], "mean within-prompt formality difference (LLM "
                 "minus human, F-score points)", ci=f["mean_diff"][1:], n=npairs, group="paired")
    r.add_metric("formality_flip_rate", f["flip_rate"][0], "share of prompts whose human answer is the more "
                 "formal one against the average direction", ci=f["flip_rate"][1:], n=npairs, group="paired")


def add_domains(r, F, is_llm, doms, keys, seed):
    rows = []
    for dom in sorted(set(doms)):
        m = doms == dom
        if is_llm[m].all() or (~is_llm[m]).all():
            continue
        for feat in ("formality", "figurative", "flesch", "mtld"):
            d = compare.cohens_d(keys[m], F[feat][m], is_llm[m], seed)
            rows.append([dom, feat, int(m.sum()), *d])
    r.add_table("domain_effects", ["domain", "feature", "texts", "d", "lo", "hi"], rows,
                "Cohen's d (LLM minus human) per domain")


def learn_phrases(texts, is_llm, seed):
    """The over-used phrases (log-odds) and templates of the LLM side against the human side, learned on
    at most :data:`PHRASE_SAMPLE` seeded texts a side: (phrase stats, template stats, the top phrases)."""
    rng = np.random.default_rng(seed)
    idx_l, idx_h = np.flatnonzero(is_llm), np.flatnonzero(~is_llm)
    if len(idx_l) > PHRASE_SAMPLE:
        idx_l = rng.choice(idx_l, PHRASE_SAMPLE, replace=False)
    if len(idx_h) > PHRASE_SAMPLE:
        idx_h = rng.choice(idx_h, PHRASE_SAMPLE, replace=False)
    texts = np.asarray(texts, dtype=object)
    st = log_odds_dirichlet(texts[idx_l], texts[idx_h])
    tp = template_log_odds(texts[idx_l], texts[idx_h])
    return st, tp, [i for i in st.top(50, "a") if st.z[i] >= 3.3]


def add_phrases(r, df, is_llm, seed, learned=None, rate=None):
    """The phrase tables and the in-sample phrase rates. ``learned``: :func:`learn_phrases`' result (else
    learned from ``df``'s texts); ``rate``: the per-row rate of every row (else computed on ``df``)."""
    st, tp, top = learned if learned is not None else learn_phrases(df["text"].to_numpy(), is_llm, seed)
    cols = ["phrase", "z", "log-odds", "lo", "hi", "count LLM", "count human", "per 10k words LLM",
            "per 10k words human"]

    def rows(s, ids, per=1e4):
        return [[s.phrases[i], s.z[i], s.delta[i], s.delta[i] - 1.96 * s.se[i], s.delta[i] + 1.96 * s.se[i],
                 int(s.count_a[i]), int(s.count_b[i]), per * s.count_a[i] / max(1.0, s.total_a),
                 per * s.count_b[i] / max(1.0, s.total_b)] for i in ids]
    r.add_table("phrases_llm", cols, rows(st, st.top(25, "a")), "Phrases over-used by the LLM texts (log-odds "
                "with an informative Dirichlet prior and its 95% interval; Monroe et al. 2008)")
    r.add_table("phrases_human", cols, rows(st, st.top(25, "b")), "Phrases over-used by the human texts")
    r.add_table("phrases_llm_multiword", cols, rows(st, st.top(15, "a", min_n=2)),
                "Multi-word phrases over-used by LLM")
    frames = [i for i, k in enumerate(tp.phrases) if k.startswith("frame:") and tp.count_a[i] + tp.count_b[i] > 0]
    top_t = [i for i in tp.top(20, "a") if i not in frames] + frames
    r.add_table("templates_llm", ["template", "z", "log odds ratio", "lo", "hi", "texts LLM", "texts human",
                                  "% of LLM texts", "% of human texts"], rows(tp, top_t, per=100),
                "Openers (first three words), closers (last three) and contrast frames ('not X but Y') the LLM "
                "texts use more than the human ones: log odds ratio of a text using the template, 95% interval")
    if rate is None:
        rate = phrase_rate(df["text"].tolist(), st, top)
    rate = np.asarray(rate, dtype=float)
    r.add_metric("llm_phrase_rate_llm", float(pd.Series(rate[is_llm]).mean()), "occurrences of the "
                 "top LLM-over-used phrases (z >= 3.3) per 100 words in LLM texts (learned in-sample)",
                 n=int(is_llm.sum()), group="phrases")
    r.add_metric("llm_phrase_rate_human", float(pd.Series(rate[~is_llm]).mean()),
                 "the same rate in human texts", n=int((~is_llm).sum()), group="phrases")


def add_phrase_flags(r, flag, is_llm, keys, thr, seed):
    """Rates of the cross-fitted ``llm_phrase`` flag per side, with bootstrap intervals."""
    for name, side in (("llm", True), ("human", False)):
        m = is_llm == side
        acc = BootstrapSums(seed)
        compare.add_rows(acc, keys[m], {"n": np.ones(int(m.sum())), "f": flag[m].astype(float)})
        v = acc.ratio("f", "n")
        what = ("recall at ~1% human FPR" if side else "held-out human texts flagged (~1% by construction)")
        r.add_metric(f"llm_phrase_flag_rate_{name}", v[0], f"share of {name} texts whose held-out LLM-typical "
                     f"phrase score >= {thr:.3g} ({what})", ci=v[1:], n=int(m.sum()), group="phrases")


def add_diversity(r, df, is_llm, seed, duplicates=None):
    """The `diversity` package's corpus figures on each full side (:mod:`artifactlens.text.diversity`),
    duplicates counted; the length-matched figures with their ceiling and floor are :mod:`.bounds`'.
    ``duplicates``: {side: (duplicates, texts)} counted over the whole corpus (where ``df`` is a sample)."""
    rng = np.random.default_rng(seed)
    texts = df["text"].to_numpy()
    for name, side in (("human", False), ("llm", True)):
        t = list(texts[is_llm == side])
        n = len(t)
        dup, nd = duplicates[name] if duplicates else (D.duplicates(t), n)
        r.add_metric(f"duplicates_{name}", dup, f"{name} texts repeating an earlier {name} text exactly "
                     f"({dup / max(1, nd):.1%} of {nd}; kept: they lower diversity)", n=nd, group="diversity")
        r.add_metric(f"compression_ratio_{name}", D.compression_ratio(t), f"gzip compression ratio of all {name} "
                     "texts joined (the diversity package's; higher = more repetitive)", n=n, group="diversity")
        r.add_metric(f"ngram_diversity_{name}", D.ngram_diversity(t), f"sum over n=1..4 of distinct/all n-grams "
                     f"of all {name} texts (the diversity package's; lower = narrower)", n=n, group="diversity")
        pick = np.sort(rng.choice(n, min(n, PAIR_SAMPLE), replace=False))
        v = D.pair_mean_interval(D.rougel_matrix([t[i] for i in pick]), seed)
        r.add_metric(f"homogenization_rougel_{name}", v[0], f"mean ROUGE-L F1 over pairs of {len(pick)} seeded "
                     f"{name} texts (the diversity package's homogenization; higher = more alike)", ci=v[1:],
                     n=len(pick), group="diversity")
        pick = np.sort(rng.choice(n, min(n, BLEU_SAMPLE), replace=False))
        per = D.self_bleu_per_text([t[i] for i in pick])
        ok = np.isfinite(per)
        acc = BootstrapSums(seed)
        acc.add(hash_keys(pick[ok]), {"n": np.ones(int(ok.sum())), "b": per[ok]})
        b = acc.ratio("b", "n")
        r.add_metric(f"self_bleu_{name}", b[0], f"Self-BLEU of {len(pick)} {name} texts: mean corpus BLEU (HF "
                     "evaluate's, 13a tokens, no smoothing) of all other texts against each one, as the diversity "
                     "package's homogenization_score('bleu') before its extra division by n-1; higher = more "
                     "alike; interval: bootstrap over texts", ci=b[1:], n=len(pick), group="diversity")


def add_embeddings(r, E, idx, is_llm, groups, seed):
    """Embedding diversity, homogenization and Vendi per side, and the embedding AUC, on the embedded
    rows ``idx`` (``E``: their MiniLM vectors, from the audit's one embedding call)."""
    y = is_llm[idx]
    div = {}
    for name, side in (("human", False), ("llm", True)):
        m = y == side
        div[name] = embedding_diversity(E[m], idx[m], seed)
        r.add_metric(f"embedding_diversity_{name}", div[name][0], f"mean pairwise cosine distance between "
                     f"{name} texts (MiniLM embeddings); lower = narrower", ci=div[name][1:], n=int(m.sum()),
                     group="diversity")
    for name, side in (("human", False), ("llm", True)):
        m = y == side
        hv = D.pair_mean_interval(E[m] @ E[m].T, seed, keys=idx[m]) if m.sum() <= 3000 else (
            D.embedding_homogenization(E[m]), None, None)
        r.add_metric(f"embedding_homogenization_{name}", hv[0], f"mean pairwise cosine of {name} MiniLM embeddings "
                     "(higher = more alike)", ci=hv[1:], n=int(m.sum()), group="diversity")
        vv = D.vendi_interval(E[m], keys=idx[m])
        r.add_metric(f"vendi_{name}", vv[0], f"Vendi score of {name} MiniLM embeddings (cosine kernel; the "
                     "effective number of distinct texts; jackknife interval)", ci=vv[1:], n=int(m.sum()),
                     group="diversity")
    r.add_metric("embedding_diversity_gap", div["human"][0] - div["llm"][0], "human minus LLM embedding "
                 "diversity (positive = LLM narrower)", n=len(idx), group="diversity")
    oof, _, auc = compare.separability(E, y.astype(int), groups[idx], seed)
    r.add_metric("separability_auc_embeddings", auc[0], "cross-validated AUC of a logistic regression on MiniLM "
                 "embeddings telling LLM from human", ci=auc[1:], n=len(idx), group="separability")
    from sklearn.decomposition import PCA
    sub = np.concatenate([np.flatnonzero(y == s)[:400] for s in (False, True)])
    P = PCA(2, random_state=seed).fit_transform(E[sub])
    r.add_figure("scatter", "MiniLM embeddings, first two principal components, coloured by source",
                 points={"human": P[~y[sub]].round(4).tolist(), "llm": P[y[sub]].round(4).tolist()})


def add_mauve(r, E, y, seed, seeds: int = 3):
    """MAUVE (Pillutla et al. 2021, the ``mauve-text`` package) between the human and the LLM MiniLM
    embeddings of the embedded sample (the package clusters the pooled vectors with faiss k-means, about
    n/10 buckets, and compares the two cluster histograms). MAUVE has no sampling interval of its own; the
    one given is the range over ``seeds`` k-means seeds (quantisation variability only)."""
    try:
        import mauve
    except ImportError:
        r.add_finding("info", "mauve skipped: the mauve-text package is not installed")
        return
    p, q = E[~y].astype(np.float32), E[y].astype(np.float32)
    if min(len(p), len(q)) < 20:
        return
    reps = [float(mauve.compute_mauve(p_features=p, q_features=q, seed=seed + 1 + k, verbose=False).mauve)
            for k in range(seeds)]
    r.add_metric("mauve", reps[0], f"MAUVE between the human and LLM texts' MiniLM embeddings ({len(p)} and "
                 f"{len(q)} texts; 1 = the same distribution, near 0 = far apart; mauve-text; interval: the range "
                 f"over {seeds} k-means seeds)", ci=(min(reps), max(reps)), n=len(E), group="diversity")


def add_distinct(r, df, is_llm, seed):
    t = df["text"].to_numpy()
    for n in (1, 2):
        res = distinct_n_compare(list(t[~is_llm]), list(t[is_llm]), n=n, seed=seed)
        for name, key in (("human", "a"), ("llm", "b")):
            r.add_metric(f"distinct_{n}_{name}", res[key][0], f"distinct {n}-grams / all {n}-grams in {res['size']} "
                         f"{name} texts (interval: 20 random equal-size subsets)", ci=res[key][1:],
                         n=res["size"], group="diversity")


def add_second_order(r, so):
    if so is None:
        r.add_finding("info", "second order skipped: too few texts per domain for train/test splits")
        return
    desc = (f"domain classification ({', '.join(map(str, so['classes']))}), TF-IDF + logistic regression trained "
            f"on {so['train_size']} texts, tested on {so['test_size']} held-out human texts")
    r.add_metric("second_order_acc_human_trained", so["acc_human"][0], "accuracy when trained on human texts; "
                 + desc, ci=so["acc_human"][1:], n=so["test_size"], group="second order")
    r.add_metric("second_order_acc_llm_trained", so["acc_llm"][0], "accuracy when trained on LLM texts; " + desc,
                 ci=so["acc_llm"][1:], n=so["test_size"], group="second order")
    r.add_metric("second_order_gap", so["gap"][0], "human-trained minus LLM-trained accuracy on held-out human "
                 "texts (positive = LLM training data costs accuracy)", ci=so["gap"][1:], n=so["test_size"],
                 group="second order")
    r.params["second_order_task"] = desc


def style_reasons(model, X, names, k: int = 3) -> list[str]:
    """Per row, the ``k`` features pushing hardest towards 'LLM' in the fitted model (coef x standardised x)."""
    scaler, lr = model[0], model[-1]
    contrib = scaler.transform(X) * lr.coef_[0]
    top = np.argsort(-contrib, axis=1)[:, :k]
    Z = scaler.transform(X)
    return ["; ".join(f"{names[j]} {Z[i, j]:+.1f} sd" for j in top[i] if contrib[i, j] > 0)
            for i in range(len(X))]


def example_rows(oof, is_llm, k: int = 5) -> np.ndarray:
    """The rows of the (up to) ``k`` LLM texts with the highest held-out P(LLM), best first."""
    score = np.nan_to_num(oof, nan=-1.0)
    out = []
    for i in np.argsort(-np.where(is_llm, score, -1.0))[:k]:
        if not is_llm[i]:
            break
        out.append(int(i))
    return np.asarray(out, dtype=np.int64)


def add_examples(r, picks, texts, rows, domains, oof, reasons, F):
    """The typical LLM texts: ``picks`` (from :func:`example_rows`), their ``texts`` and style ``reasons``
    (in the same order), the input ``rows`` and ``domains`` of every row."""
    score = np.nan_to_num(oof, nan=-1.0)
    for i, t, why in zip(picks, texts, reasons):
        r.examples.append({"row": int(rows[i]), "title": f"typical LLM text (P(LLM)={score[i]:.2f})",
                           "fields": {"text": t[:700] + ("…" if len(t) > 700 else ""),
                                      "formality": round(float(F["formality"][i]), 1),
                                      "mtld": round(float(F["mtld"][i]), 1), "domain": domains[i]},
                           "reasons": [why] if why else []})


def flag_batch(batch, pos: slice, F, oof, flag, reasons, phrase):
    """The flags file's rows for one canonical ``batch`` at rows ``pos``: input columns, ``llm_style``,
    ``llm_phrase`` (score, flag, reason; reasons given for this batch's rows) and the features."""
    import pyarrow as pa
    f = flag[pos]
    cols = {"row": batch.column("row"), "source": batch.column("source"),
            "pair_id": batch.column("pair_id"), "domain": batch.column("domain"), "text": batch.column("text"),
            "llm_style": pa.array(f), "llm_style_score": pa.array(oof[pos]),
            "llm_style_reason": pa.array([x if g else None for x, g in zip(reasons, f)], type=pa.string())}
    if phrase is not None:
        cols.update({"llm_phrase": pa.array(phrase[1][pos]), "llm_phrase_score": pa.array(phrase[0][pos]),
                     "llm_phrase_reason": pa.array(phrase[2], type=pa.string())})
    cols.update({f"f_{k}": pa.array(v[pos]) for k, v in F.items()})
    return pa.RecordBatch.from_pydict(cols)


def write_flags(path, batches):
    """Stream flag batches (:func:`flag_batch`) to ``path``; returns the rows written."""
    from ...io.writers import RowWriter
    n = 0
    with RowWriter(path) as w:
        for b in batches:
            w.write(b)
            n += b.num_rows
    return n


def add_findings(r):
    m = r.metrics
    for name, what in (("formality_d", "formal"), ("figurative_d", "figurative (proxy)"),
                       ("mtld_d", "lexically diverse (MTLD)")):
        if name in m and m[name].ci:
            lo, hi = m[name].ci
            if lo > 0 or hi < 0:
                direction = ("more " if lo > 0 else "less ") + what
                big = (LIGHTS[name].severity(abs(m[name].value)) is not None if name in LIGHTS
                       else abs(m[name].value) >= UNLIT_EFFECT_WARN)
                sev = "warning" if big else "info"
                r.add_finding(sev, f"LLM text is {direction} than human text: d = {m[name].value:.2f} "
                              f"[{lo:.2f}, {hi:.2f}]", metric=name)
    if "embedding_diversity_human" in m and "embedding_diversity_llm" in m:
        h, l_ = m["embedding_diversity_human"], m["embedding_diversity_llm"]
        if h.ci and l_.ci and l_.ci[1] < h.ci[0]:
            r.add_finding("warning", f"LLM texts are semantically narrower: embedding diversity {l_.value:.3f} vs "
                          f"human {h.value:.3f} (intervals do not overlap)", metric="embedding_diversity_llm")
    a = m.get("separability_auc")
    sev = LIGHTS["separability_auc"].severity(a.value if a else None)
    if sev:
        r.add_finding(sev,
                      f"a linear model on style features tells LLM from human text with AUC {a.value:.2f}",
                      metric="separability_auc")
    g = m.get("second_order_gap")
    if g and g.ci and g.ci[0] > 0:
        r.add_finding("warning", f"a classifier trained on LLM text is {100 * g.value:.1f} points less accurate on "
                      "human text than one trained on human text", metric="second_order_gap")


