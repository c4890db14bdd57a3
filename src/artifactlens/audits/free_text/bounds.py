"""Corpus diversity of each side, per group, and length-matched between a human ceiling and a floor (issue 22).

The figures are the ``diversity`` package's (Shaib et al. 2024), computed by :mod:`artifactlens.text.diversity`:
compression ratio, n-gram diversity, ROUGE-L homogenization and Self-BLEU, and on MiniLM embeddings the mean
pairwise cosine and the Vendi score. Every one of them moves with text length and corpus size, so beside
the full-side figures (plain names) they are computed on a **length-matched** draw:

- L = the lower of the two sides' median word counts (whitespace words), at most :data:`MAX_WORDS`;
  only texts with at least L words take part, each cut to its first L words;
- m = min(:data:`MATCH_SIZE`, eligible human // 2, eligible LLM) texts per draw, the same m on every side;
- :data:`DRAWS` seeded draws: the LLM side draws m texts from a pool of at most 2m eligible LLM texts;
  the human side is permuted and cut into two disjoint halves of m texts each (METIS-style random
  halves): ``<fig>_human_length_matched`` is the first halves, ``<fig>_ceiling`` both (what human text
  shows at this length and size); ``<fig>_floor`` is the duplicated control, one human text (cut to L
  words) repeated m times (no diversity at all: ROUGE-L, Self-BLEU and the mean cosine are 1, Vendi 1).
- ``<fig>_position`` = (LLM - ceiling) / (floor - ceiling), draw by draw: 0 = as diverse as human text,
  1 = as narrow as one text repeated. Intervals: the 2.5-97.5% range over the draws (subsampling
  variability within the pools, not a bootstrap).

Embeddings for the cut texts come from the audit's one MiniLM call (:func:`pool_texts` lists them).
"""
from __future__ import annotations

import numpy as np

from ...text import diversity as D

MATCH_SIZE = 200     # texts per side in one length-matched draw
MAX_WORDS = 200      # the cut length at most (MiniLM reads about 200 words)
DRAWS = 10
PAIR_SAMPLE = 200    # texts for the pairwise ROUGE-L on a full side (seeded)
BLEU_SAMPLE = 20_000  # texts for Self-BLEU on a full side (it is linear, the cap only bounds memory)

#: figure -> (what it says, higher = more homogeneous, needs embeddings)
FIGURES = {
    "compression_ratio": ("gzip compression ratio of the texts joined", True, False),
    "ngram_diversity": ("sum over n=1..4 of distinct/all n-grams", False, False),
    "homogenization_rougel": ("mean ROUGE-L F1 over pairs of texts", True, False),
    "self_bleu": ("Self-BLEU: mean corpus BLEU of the other texts against each text", True, False),
    "embedding_homogenization": ("mean pairwise cosine of MiniLM embeddings", True, True),
    "vendi": ("Vendi score of MiniLM embeddings (effective number of distinct texts)", False, True),
}


def _sample(n: int, k: int, rng) -> np.ndarray:
    return np.arange(n) if n <= k else np.sort(rng.choice(n, k, replace=False))


def figures(texts: list[str], E: np.ndarray | None = None, seed: int = 0) -> dict:
    """Every figure of one list of texts (and its unit embeddings ``E``, or None): {name: value}."""
    rng = np.random.default_rng(seed)
    out = {"compression_ratio": D.compression_ratio(texts), "ngram_diversity": _ngram(texts)}
    pick = _sample(len(texts), PAIR_SAMPLE, rng)
    out["homogenization_rougel"] = D.homogenization_rougel([texts[i] for i in pick])
    pick = _sample(len(texts), BLEU_SAMPLE, rng)
    out["self_bleu"] = D.self_bleu([texts[i] for i in pick])
    if E is not None and len(E) >= 2:
        out["embedding_homogenization"] = D.embedding_homogenization(E)
        out["vendi"] = D.vendi(E)
    return out


def _ngram(texts):
    try:
        return D.ngram_diversity(texts)
    except ZeroDivisionError:  # fewer than 4 tokens in all
        return float("nan")


def length_match(texts: np.ndarray, is_llm: np.ndarray, seed: int = 0, size: int = MATCH_SIZE) -> dict | None:
    """The length-matched pools: ``{"L", "m", "human": row indices, "llm": row indices}`` (up to 4m and 2m
    eligible texts), or None when fewer than 10 texts per side reach the common length."""
    words = D.word_count(list(texts))
    L = int(min(MAX_WORDS, np.median(words[~is_llm]), np.median(words[is_llm])))
    if L < 1:
        return None
    elig_h = np.flatnonzero(~is_llm & (words >= L))
    elig_l = np.flatnonzero(is_llm & (words >= L))
    m = int(min(size, len(elig_h) // 2, len(elig_l)))
    if m < 10:
        return None
    rng = np.random.default_rng([seed, 22])
    return {"L": L, "m": m, "human": np.sort(rng.choice(elig_h, min(len(elig_h), 4 * m), replace=False)),
            "llm": np.sort(rng.choice(elig_l, min(len(elig_l), 2 * m), replace=False))}


def pool_texts(texts: np.ndarray, lm: dict) -> list[str]:
    """The cut texts of the pools, human then LLM (the order :func:`matched_figures` expects embeddings in)."""
    return D.truncate_words(list(texts[lm["human"]]), lm["L"]) + D.truncate_words(list(texts[lm["llm"]]), lm["L"])


def matched_figures(texts: np.ndarray, lm: dict, seed: int = 0, E: np.ndarray | None = None,
                    draws: int = DRAWS) -> dict:
    """Per figure: arrays over draws of the LLM value, the two human halves and the floor.
    ``E``: embeddings of :func:`pool_texts` (or None). Returns {figure: {"llm", "human", "ceiling", "floor"}}."""
    cut = pool_texts(texts, lm)
    nh, m = len(lm["human"]), lm["m"]
    h_texts, l_texts = cut[:nh], cut[nh:]
    Eh, El = (None, None) if E is None else (E[:nh], E[nh:])
    rng = np.random.default_rng([seed, 23])
    out: dict = {}

    def put(kind, vals):
        for k, v in vals.items():
            out.setdefault(k, {"llm": [], "human": [], "ceiling": [], "floor": []})[kind].append(v)
    for r in range(draws):
        perm = rng.permutation(nh)
        halves = (perm[:m], perm[m:2 * m])
        pick = rng.choice(len(l_texts), m, replace=False)
        put("llm", figures([l_texts[i] for i in pick], None if El is None else El[pick], seed + r))
        for j, half in enumerate(halves):
            v = figures([h_texts[i] for i in half], None if Eh is None else Eh[half], seed + r)
            put("ceiling", v)
            if j == 0:
                put("human", v)
        one = perm[2 * m] if nh > 2 * m else perm[0]
        put("floor", figures([h_texts[one]] * m, None if Eh is None else np.repeat(Eh[one:one + 1], m, 0), seed))
    return {k: {kind: np.asarray(v, dtype=float) for kind, v in d.items()} for k, d in out.items()}


def _summ(x: np.ndarray):
    x = x[np.isfinite(x)]
    if not len(x):
        return float("nan"), None, None
    return float(x.mean()), float(np.quantile(x, 0.025)), float(np.quantile(x, 0.975))


def position(d: dict) -> np.ndarray:
    """(LLM - ceiling) / (floor - ceiling) draw by draw (the ceiling of a draw: the mean of its halves)."""
    ceil = d["ceiling"].reshape(len(d["llm"]), -1).mean(axis=1)
    span = d["floor"] - ceil
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(span) > 1e-12, (d["llm"] - ceil) / span, np.nan)


def add_matched(r, res: dict, lm: dict) -> None:
    """The length-matched figures, the ceiling, the floor and the position as metrics, and one table."""
    how = (f"on {lm['m']} texts per draw cut to their first {lm['L']} words ({DRAWS} seeded draws; interval: "
           "the 2.5-97.5% range over draws)")
    rows = []
    for fig, d in res.items():
        what, higher_homog, _ = FIGURES[fig]
        s = {k: _summ(v) for k, v in d.items()}
        pos = _summ(position(d))
        for key, label in (("llm", "llm_length_matched"), ("human", "human_length_matched")):
            side = "LLM" if key == "llm" else "human (first random halves)"
            r.add_metric(f"{fig}_{label}", s[key][0], f"{what}, {side}, {how}", ci=s[key][1:], n=lm["m"],
                         group="diversity (length-matched)")
        r.add_metric(f"{fig}_ceiling", s["ceiling"][0], f"{what} on random halves of the human side {how}: what "
                     "human text shows (the ceiling)", ci=s["ceiling"][1:], n=lm["m"],
                     group="diversity (length-matched)")
        r.add_metric(f"{fig}_floor", s["floor"][0], f"{what} on a duplicated control: one human text repeated "
                     f"{lm['m']} times (no diversity; the floor)", ci=s["floor"][1:], n=lm["m"],
                     group="diversity (length-matched)")
        r.add_metric(f"{fig}_position", pos[0], f"where the LLM side sits from the human ceiling (0) to the floor "
                     f"(1) in {fig} ({'higher' if higher_homog else 'lower'} = more homogeneous), draw by draw",
                     ci=pos[1:], n=lm["m"], group="diversity (length-matched)")
        rows.append([fig, *s["ceiling"], *s["llm"], *s["floor"], *pos])
        if pos[1] is not None and (pos[1] > 0 or pos[2] < 0):
            r.add_finding("warning" if pos[1] >= 0.1 else "info",
                          f"{fig}: the LLM side is {pos[0]:.1%} [{pos[1]:.1%}, {pos[2]:.1%}] of the way from human "
                          f"diversity ({s['ceiling'][0]:.4g}) to the floor of one text repeated ({s['floor'][0]:.4g})"
                          f"; LLM {s['llm'][0]:.4g}, length-matched", metric=f"{fig}_position")
    r.add_table("diversity_bounds", ["figure", "human ceiling", "lo", "hi", "LLM", "lo", "hi", "floor", "lo", "hi",
                                     "position", "lo", "hi"], rows,
                f"Diversity between a human ceiling and a floor, length-matched: {how}; position = share of the "
                "way from human diversity (0) to one text repeated (1)")
    r.params["length_matching"] = {"words": lm["L"], "texts_per_draw": lm["m"], "draws": DRAWS,
                                   "rule": "L = the lower side median word count (at most "
                                   f"{MAX_WORDS}); texts with >= L words, cut to their first L words"}


def group_rows(df, is_llm: np.ndarray, E: np.ndarray | None, emb_rows: np.ndarray | None, seed: int = 0) -> list:
    """Full figures per model (LLM side) and per domain (each side) where those columns hold 2+ values or
    name the model: rows [column, value, side, texts, duplicates, figures...]. ``E`` rows are ``emb_rows``."""
    texts = df["text"].to_numpy()
    where = {} if emb_rows is None else {int(i): k for k, i in enumerate(emb_rows)}
    rows = []
    for col in ("model", "domain"):
        vals = df[col]
        if vals.isna().all() or (col == "domain" and vals.nunique() < 2):
            continue
        for v in sorted(vals.dropna().unique()):
            for side, name in ((True, "llm"), (False, "human")):
                idx = np.flatnonzero((vals == v).to_numpy() & (is_llm == side))
                if len(idx) < 2:
                    continue
                e_idx = [where[i] for i in idx if i in where]
                Eg = E[e_idx] if E is not None and len(e_idx) >= 2 else None
                f = figures(list(texts[idx]), Eg, seed)
                rows.append([col, v, name, len(idx), D.duplicates(list(texts[idx])),
                             *[f.get(k) for k in FIGURES]])
    return rows


def add_groups(r, rows: list) -> None:
    if rows:
        r.add_table("diversity_by_group", ["column", "value", "side", "texts", "duplicates", *FIGURES], rows,
                    "The diversity package's figures per model and per domain (full groups; ROUGE-L on "
                    f"{PAIR_SAMPLE} seeded texts; embedding figures on the embedded sample)")
