"""Style features of a response and the trivial rules built on them (the "trivial baselines" section).

Features per response (counted with regular expressions on the raw text; no library counts markdown
elements as a judge sees them, and ``markdown-it`` would parse, not count, at ~50x the cost):

- ``chars``: length in characters (the unit throughout the style section and the baselines);
- ``headers``: ATX headers (``#`` to ``######`` at a line start); ``bold``: ``**x**`` / ``__x__`` spans;
  ``lists``: list items (``-``, ``*``, ``+`` or ``1.``/``1)`` at a line start); ``code``: fenced code
  blocks (pairs of ````` ``` ````` fences); ``markdown``: the sum of the four;
- ``overlap``: lexical overlap with another text (the prompt, the reference): the share of that text's
  distinct lower-cased word tokens (``\\w+``) that occur in the response.

Trivial rules (:data:`RULES`) choose ``a``/``b`` from the features, or ``None`` when they cannot decide
(equal values): ``longer``, ``shorter`` (characters), ``first`` (always the response shown first),
``more_markdown`` and ``overlap`` (with the prompt).
"""
from __future__ import annotations

import re

import numpy as np

HEADER = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+\S", re.M)
BOLD = re.compile(r"\*\*(?=\S)[^*\n]+?\*\*|__(?=\S)[^_\n]+?__")
LIST = re.compile(r"^[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+\S", re.M)
FENCE = re.compile(r"^[ \t]*```", re.M)
TOKEN = re.compile(r"\w+")
COUNTS = ("headers", "bold", "lists", "code")
RULES = ("longer", "shorter", "first", "more_markdown", "overlap")
RULE_LABELS = {"longer": "longer wins", "shorter": "shorter wins", "first": "first wins",
               "more_markdown": "more markdown wins", "overlap": "more overlap with the prompt wins"}


def features(texts) -> dict[str, np.ndarray]:
    """``{chars, headers, bold, lists, code, markdown}``, each ``(n,)`` float."""
    out = {k: np.zeros(len(texts)) for k in ("chars", *COUNTS)}
    for i, t in enumerate(texts):
        t = t or ""
        out["chars"][i] = len(t)
        if not any(c in t for c in "#*_-+`0123456789"):
            continue
        out["headers"][i] = len(HEADER.findall(t))
        out["bold"][i] = len(BOLD.findall(t))
        out["lists"][i] = len(LIST.findall(t))
        out["code"][i] = len(FENCE.findall(t)) // 2
    out["markdown"] = out["headers"] + out["bold"] + out["lists"] + out["code"]
    return out


def overlap(texts, others) -> np.ndarray:
    """Share of each ``other``'s distinct lower-cased word tokens found in the matching text (0 when the
    other has none)."""
    out = np.zeros(len(texts))
    for i, (t, o) in enumerate(zip(texts, others)):
        ref = set(TOKEN.findall((o or "").lower()))
        if ref:
            out[i] = len(ref & set(TOKEN.findall((t or "").lower()))) / len(ref)
    return out


def _pick(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``a`` where x > y, ``b`` where y > x, None where equal."""
    return np.where(x > y, "a", np.where(y > x, "b", None)).astype(object)


def rule_choices(fa: dict, fb: dict, ov_a: np.ndarray | None = None, ov_b: np.ndarray | None = None
                 ) -> dict[str, np.ndarray]:
    """{rule: (n,) a/b/None} for every rule the features allow (``overlap`` needs the prompt overlaps)."""
    n = len(fa["chars"])
    out = {"longer": _pick(fa["chars"], fb["chars"]), "shorter": _pick(fb["chars"], fa["chars"]),
           "first": np.full(n, "a", dtype=object), "more_markdown": _pick(fa["markdown"], fb["markdown"])}
    if ov_a is not None:
        out["overlap"] = _pick(ov_a, ov_b)
    return out


def pair_style(v, judge_model: str | None = None, fmap: dict | None = None):
    """Features of one :class:`~.load.PairView`: ``(fa, fb, (overlap_a, overlap_b) with the prompt or None,
    cov)`` where ``cov`` holds the A-minus-B style covariates of :mod:`.stylefit` (those the data allows)."""
    from .family import family
    from .stylefit import norm_diff
    fa, fb = features(v.a), features(v.b)
    cov = {"length": norm_diff(fa["chars"], fb["chars"])}
    for k in COUNTS:
        cov[k] = norm_diff(fa[k], fb[k])
    ov = None
    if v.prompt is not None:
        ov = (overlap(v.a, v.prompt), overlap(v.b, v.prompt))
        cov["overlap_prompt"] = ov[0] - ov[1]
    if v.reference is not None:
        cov["overlap_reference"] = overlap(v.a, v.reference) - overlap(v.b, v.reference)
    if v.nli_a is not None:
        cov["entailment"] = np.nan_to_num(v.nli_a - v.nli_b)
    elif v.nli_gap is not None:
        cov["entailment"] = np.nan_to_num(v.nli_gap)
    if judge_model and v.model_a is not None and v.model_b is not None:
        fj = family(judge_model, fmap)
        own = lambda ms: np.array([family(m, fmap) == fj for m in ms], dtype=np.float64)  # noqa: E731
        cov["same_family"] = own(v.model_a) - own(v.model_b)
    return fa, fb, ov, cov
