"""Several human votes per pair (PandaLM's three annotators, MT-Bench's expert votes): ``--human A1,A2,A3``.

Each column is one annotator's choice, read with the same coding as a single ``--human`` (``--codes``
applies to every column); an empty cell or a value outside the coding is no vote.

- the **majority verdict** (people's choice in every other figure): the class (a/b/tie) with the most
  votes among a pair's valid votes. **No single most-voted class** (1-1-1 of three, 1-1 of two, as when
  one of three is missing) is a **split**: it counts as a tie, said in ``human_majority_split_rate`` and
  in an info finding. A pair without a valid vote has no human choice (``human_invalid_rate``).
- vote shares: ``human_vote_share_{a,b,tie}`` pooled over every valid vote; ``human_majority_share`` is
  the mean share of a pair's votes that went to its majority; ``human_unanimous_rate`` the share of pairs
  with at least two valid votes, all the same.
- agreement with each annotator (a table, and ``judge_annotator_agreement[COL]``): the judge's verdict
  (the combined verdict with ``--judge-swapped``) against that annotator's own vote, 3-class, with Cohen's
  kappa; beside it the annotator's agreement with each other annotator (pooled over pairs of votes).
  ``judge_annotator_agreement`` (all annotators pooled) against ``human_human_agreement`` (every pair of
  annotators on the same item) is the comparison MT-Bench made (judge-human against human-human).

All figures are sums in the audit's Poisson bootstrap (by ``--group``), so each has an interval.
"""
from __future__ import annotations

import numpy as np

from .load import VOTE_CLASSES as CLASSES, majority, three_way


def columns(human: str | None) -> list[str]:
    """The annotator columns of ``--human`` (one, or a comma list)."""
    return [c.strip() for c in (human or "").split(",") if c.strip()]


def values(votes: list[np.ndarray], verdict: np.ndarray | None) -> dict[str, np.ndarray]:
    """Indicator columns for the bootstrap sums (module docstring); ``verdict``: the judge's (3-class)."""
    V = [three_way(v) for v in votes]
    maj, share, split, nvalid = majority(votes)
    f = lambda x: np.asarray(x, dtype=np.float64)  # noqa: E731
    has = nvalid > 0
    out = {"vt_pairs": f(has), "vt_split": f(split), "vt_share": np.where(has, share, 0.0),
           "vt_multi": f(nvalid >= 2), "vt_unan": f((nvalid >= 2) & (share == 1.0)), "vt_votes": f(nvalid)}
    for c in CLASSES:
        out[f"vt_{c}"] = f(sum((v == c) for v in V))
    hh_n = hh_agree = 0.0
    for k, vk in enumerate(V):
        ok_k = vk != None  # noqa: E711
        pn = pa = 0.0
        for m, vm in enumerate(V):
            if m == k:
                continue
            both = ok_k & (vm != None)  # noqa: E711
            pn, pa = pn + f(both), pa + f(both & (vk == vm))
        out[f"hh{k}_n"], out[f"hh{k}_agree"] = f(pn), f(pa)
        hh_n, hh_agree = hh_n + pn / 2, hh_agree + pa / 2  # each unordered pair of annotators once
        if verdict is not None:
            both = ok_k & (verdict != None)  # noqa: E711
            out[f"ja{k}_n"], out[f"ja{k}_agree"] = f(both), f(both & (verdict == vk))
            for j in CLASSES:
                for h in CLASSES:
                    out[f"ak{k}_{j}_{h}"] = f(both & (verdict == j) & (vk == h))
    out["hh_n"], out["hh_agree"] = f(hh_n), f(hh_agree)
    if verdict is not None:
        out["ja_n"] = sum(out[f"ja{k}_n"] for k in range(len(V)))
        out["ja_agree"] = sum(out[f"ja{k}_agree"] for k in range(len(V)))
    return out


def row_columns(votes: list[np.ndarray]) -> dict[str, list]:
    """Per-row output columns: the votes as ``a,b,none`` (``none`` = no vote) and the majority share."""
    V = [three_way(v) for v in votes]
    _, share, _, _ = majority(votes)
    text = [",".join("none" if x is None else str(x) for x in t) for t in zip(*V)]
    return {"human_votes": text, "human_majority_share": share}


RATES = {  # metric -> (numerator, denominator, description)
    "human_majority_split_rate": ("vt_split", "vt_pairs", "pairs whose annotators give no single most-voted choice "
                                  "(e.g. 1-1-1); such a pair counts as a human tie in every figure against people"),
    "human_majority_share": ("vt_share", "vt_pairs", "mean share of a pair's valid votes that went to its majority"),
    "human_unanimous_rate": ("vt_unan", "vt_multi", "pairs with at least two valid votes, all the same"),
    "human_vote_share_a": ("vt_a", "vt_votes", "share of all valid votes for the first response"),
    "human_vote_share_b": ("vt_b", "vt_votes", "share of all valid votes for the second response"),
    "human_vote_share_tie": ("vt_tie", "vt_votes", "share of all valid votes that are ties"),
    "human_human_agreement": ("hh_agree", "hh_n", "two annotators of the same pair make the same 3-class choice "
                              "(every pair of annotators with both votes valid)"),
    "judge_annotator_agreement": ("ja_agree", "ja_n", "the judge's verdict matches one annotator's own vote, "
                                  "3-class, pooled over annotators (beside human_human_agreement)"),
}

