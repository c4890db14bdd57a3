"""Prompts answered many times: distinct answers per prompt and cross-model homogeneity (issue 22, item 2).

Where the prompt/pair column gives a prompt two or more LLM answers (several samples, or several models):

- **distinct answers per prompt**, NoveltyBench's definition (Zhang et al. 2025, arXiv 2504.05228): the
  answers of a prompt are partitioned into equivalence classes greedily, in row order, each answer joining
  the first class whose first member it is equivalent to, else opening a new class; the figure is the
  number of classes (k answers: 1 = all the same, k = all different), and its share of k. NoveltyBench
  decides equivalence with a trained classifier; here it is a stated threshold: MiniLM cosine >=
  :data:`EQUIV_COS`, or, without embeddings, ROUGE-L F1 >= :data:`EQUIV_ROUGE`.
- **cross-model homogeneity** ("Artificial Hivemind", Jiang et al. 2025): the mean similarity of two
  different models' answers to the same prompt, beside the same for answers to different prompts (what
  two unrelated answers share) and, where the prompt has a human answer, the human-LLM similarity.

Intervals: Poisson bootstrap over prompts (:class:`artifactlens.stats.BootstrapSums`). At most
:data:`MAX_PROMPTS` prompts (seeded) take part, so the cost stays bounded.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...stats import BootstrapSums, hash_keys
from ...text.diversity import rougel_matrix

EQUIV_COS = 0.9
EQUIV_ROUGE = 0.5
MAX_PROMPTS = 500


def prompt_rows(df, is_llm: np.ndarray, seed: int = 0) -> np.ndarray:
    """Rows (LLM and human) of up to MAX_PROMPTS seeded prompts holding 2+ LLM answers; empty if none."""
    pid = df["pair_id"]
    if pid.isna().all():
        return np.zeros(0, dtype=np.int64)
    pid = pid.where(pid.isna(), pid.astype(str))
    counts = pid[is_llm].value_counts()
    many = np.sort(counts.index[counts >= 2].to_numpy().astype(str))
    if not len(many):
        return np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng([seed, 3])
    keep = set(rng.choice(many, min(len(many), MAX_PROMPTS), replace=False).tolist())
    return np.flatnonzero(pid.isin(keep).to_numpy())


def distinct_classes(S: np.ndarray, threshold: float) -> int:
    """NoveltyBench's greedy partition of answers with pairwise similarity ``S`` (k, k): number of classes."""
    reps: list[int] = []
    for i in range(len(S)):
        if not any(S[i, j] >= threshold for j in reps):
            reps.append(i)
    return len(reps)


def _similarity(texts: list[str], E: np.ndarray | None) -> np.ndarray:
    return E @ E.T if E is not None else rougel_matrix(texts)


def analyse(df, is_llm: np.ndarray, rows: np.ndarray, E: np.ndarray | None, seed: int = 0) -> dict | None:
    """Per-prompt figures on ``rows`` (``E``: their unit embeddings, or None for ROUGE-L)."""
    if not len(rows):
        return None
    texts = df["text"].to_numpy()[rows]
    pid = df["pair_id"].to_numpy()[rows].astype(str)
    llm = is_llm[rows]
    model = np.array([None if pd.isna(x) else str(x) for x in df["model"].to_numpy()[rows]], dtype=object)
    thr = EQUIV_COS if E is not None else EQUIV_ROUGE
    per = {"prompt": [], "k": [], "classes": [], "cross": [], "human": []}
    pairs: dict = {}
    for p in np.unique(pid):
        m = np.flatnonzero(pid == p)
        a = m[llm[m]]
        S = _similarity(list(texts[m]), None if E is None else E[m])
        pos = {int(j): i for i, j in enumerate(m)}
        sa = S[np.ix_([pos[j] for j in a], [pos[j] for j in a])]
        per["prompt"].append(p)
        per["k"].append(len(a))
        per["classes"].append(distinct_classes(sa, thr))
        ma = model[a]
        diff = np.array([[ma[i] is not None and ma[j] is not None and ma[i] != ma[j] for j in range(len(a))]
                         for i in range(len(a))])
        per["cross"].append(float(sa[diff].mean()) if diff.any() else np.nan)
        for i in range(len(a)):
            for j in range(i + 1, len(a)):
                if diff[i, j]:
                    pairs.setdefault(tuple(sorted((ma[i], ma[j]))), []).append(sa[i, j])
        h = m[~llm[m]]
        per["human"].append(float(S[np.ix_([pos[j] for j in h], [pos[j] for j in a])].mean()) if len(h) else np.nan)
    out = {k: np.asarray(v) for k, v in per.items()}
    out["threshold"], out["measure"] = thr, ("MiniLM cosine" if E is not None else "ROUGE-L F1")
    out["pairs"] = pairs
    out["baseline"] = _baseline(texts, pid, llm, model, E, seed)
    return out


def _baseline(texts, pid, llm, model, E, seed, n: int = 2000) -> float:
    """Mean similarity of two LLM answers to DIFFERENT prompts (by different models where models are named)."""
    a = np.flatnonzero(llm)
    rng = np.random.default_rng([seed, 4])
    i, j = rng.choice(a, n), rng.choice(a, n)
    ok = pid[i] != pid[j]
    named = np.array([x is not None for x in model])
    if named[a].any():
        ok &= np.array([model[x] is not None and model[y] is not None and model[x] != model[y] for x, y in zip(i, j)])
    i, j = i[ok], j[ok]
    if not len(i):
        return float("nan")
    if E is not None:
        return float(np.einsum("ij,ij->i", E[i], E[j]).mean())
    return float(np.mean([rougel_matrix([texts[x], texts[y]])[0, 1] for x, y in zip(i[:300], j[:300])]))


def add_prompts(r, res: dict | None, seed: int = 0) -> None:
    if res is None:
        return
    keys = hash_keys(res["prompt"])
    n = len(res["prompt"])

    def mean(x, desc, name):
        ok = np.isfinite(x)
        if not ok.any():
            return
        acc = BootstrapSums(seed)
        acc.add(keys[ok], {"n": np.ones(int(ok.sum())), "x": x[ok].astype(float)})
        v = acc.ratio("x", "n")
        r.add_metric(name, v[0], desc, ci=v[1:], n=int(ok.sum()), group="prompts")
    how = f"equivalent when {res['measure']} >= {res['threshold']}"
    mean(res["classes"], f"NoveltyBench distinct answers: equivalence classes among the {res['k'].mean():.1f} LLM "
         f"answers a prompt has on average ({how}; greedy, each answer against each class's first member)",
         "distinct_answers_per_prompt")
    mean(res["classes"] / res["k"], "distinct answers / answers per prompt (1 = every answer different, 1/k = "
         "all the same)", "distinct_answers_share")
    mean(res["cross"], f"mean similarity of different models' answers to the same prompt ({res['measure']})",
         "cross_model_similarity")
    mean(res["human"], f"mean similarity of the human and the LLM answers to the same prompt ({res['measure']})",
         "human_llm_similarity_same_prompt")
    if np.isfinite(res["cross"]).any():
        r.add_metric("cross_model_similarity_baseline", res["baseline"], "the same for two models' answers to "
                     f"DIFFERENT prompts (what unrelated answers share; {res['measure']})", n=n, group="prompts")
    if res["pairs"]:
        r.add_table("cross_model_homogeneity", ["model a", "model b", "answer pairs", "mean similarity",
                                                "different-prompt baseline"],
                    [[a, b, len(v), float(np.mean(v)), res["baseline"]] for (a, b), v in sorted(res["pairs"].items())],
                    f"Answers of two models to the same prompt ({res['measure']}); the baseline pairs answers to "
                    "different prompts")
