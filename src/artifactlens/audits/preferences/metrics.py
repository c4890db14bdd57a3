"""First-order preference figures as one map/combine check: agreement, Cohen's kappa, ties, position,
verbosity and self-preference, each a function of Poisson-bootstrap sums (``artifactlens.stats``).

*map* turns each pair into 0/1 indicator columns (a numerator and a denominator per rate, one cell per
judge x human confusion cell) and adds them to :class:`~artifactlens.stats.BootstrapSums` keyed by the
group (the prompt) or the row; *combine* adds the sums. Cohen's kappa is a function of the weighted
confusion cells, so it gets an interval from the same replicates (no sklearn call per replicate).

Definitions (choices a/b/tie; an ``inconsistent`` judge choice counts as a tie):

- the judge's **verdict**: with ``--judge-swapped``, the combined verdict of both orders (the choice where
  they agree, a tie where the choice changed with the order; pairs with either order invalid are left
  out); without it, the first-order choice. Agreement, ``_no_ties`` and kappa use the verdict; with a
  swapped column the first-order figures are kept as ``..._first_order``.
- agreement: same 3-class choice, over pairs with both choices valid; ``_no_ties``: over pairs where
  neither chose a tie.
- swap-averaged agreement (``--judge-prob`` and ``--judge-prob-swapped``: P(A better) or two scores per
  order): the verdict is the sign of the mean of the two orders' margins (0 = tie), against people's
  3-class choice.
- trivial baselines (:mod:`.style`): a rule's agreement with people over people's non-tie choices, and
  with the judge over the judge's non-tie verdicts; a pair the rule cannot decide counts as a miss.
- position inconsistency: judge choice in the swapped order (written in A/B orientation) differs from the
  original, over pairs with both valid; without a swapped column, the share of ``tie (inconsistent)`` codes.
- first-pick rate: share of non-tie choices that pick the response shown first (with a swapped column the
  swapped run counts too: there B was shown first).
- prefers-longer rate: share of non-tie choices that pick the longer response (words), over pairs whose
  lengths differ.
- self-preference win rate: over pairs where exactly one response is the judge model's, its wins plus half
  its ties, divided by the pairs.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from ...engine import BatchContext, Check, MapOutput
from ...stats import BootstrapSums, hash_keys
from collections import Counter

from . import style, votes
from .codings import count_raw
from .load import PairSpec, combined_verdict, three_way, view

CLASSES = ("a", "b", "tie")
RATES = {  # metric -> (numerator, denominator, description)
    "judge_human_agreement": ("agree", "both", "judge verdict and human make the same 3-class choice (a/b/tie)"),
    "judge_human_agreement_no_ties": ("agree_nt", "both_nt", "judge verdict and human make the same choice, "
                                      "pairs where neither chose a tie"),
    "judge_human_agreement_first_order": ("agree_fo", "both_fo", "judge's first-order choice (as shown) and "
                                          "human make the same 3-class choice"),
    "judge_human_agreement_no_ties_first_order": ("agree_nt_fo", "both_nt_fo", "first-order choice and human "
                                                  "agree, pairs where neither chose a tie"),
    "judge_human_agreement_swap_averaged": ("agree_sa", "both_sa", "the sign of the judge's margin averaged over "
                                            "both orders (0 = tie) and human make the same 3-class choice"),
    "judge_agreement_human_non_ties": ("jb_hit", "h_nt_all", "judge verdict matches people's non-tie choice "
                                       "(a judge tie counts as a miss; beside the trivial baselines)"),
    "judge_tie_rate": ("j_tie", "j_valid", "share of valid judge choices that are ties (incl. inconsistent)"),
    "human_tie_rate": ("h_tie", "h_valid", "share of valid human choices that are ties"),
    "position_inconsistency_rate": ("pi", "pi_n", "share of judge choices that change when the order is swapped"),
    "judge_first_pick_rate": ("j_first", "j_nt", "judge picks the response shown first (non-tie choices)"),
    "human_first_pick_rate": ("h_first", "h_nt", "human picks the response shown first (non-tie choices)"),
    "judge_prefers_longer_rate": ("j_long", "j_long_n", "judge picks the longer response (non-tie, lengths differ)"),
    "human_prefers_longer_rate": ("h_long", "h_long_n", "human picks the longer response (non-tie, lengths differ)"),
    "self_preference_judge_win_rate": ("self_j", "self_n", "judge's win rate for its own model's responses"),
    "self_preference_human_win_rate": ("self_h", "self_n", "human win rate for the same responses"),
    "judge_invalid_rate": ("j_invalid", "rows", "judge choices outside the coding (left out of the rates)"),
    "human_invalid_rate": ("h_invalid", "rows", "human choices outside the coding (left out of the rates)"),
}
for _r in style.RULES:
    _lab = style.RULE_LABELS[_r]
    RATES[f"baseline_{_r}_vs_human"] = (f"bl_{_r}_h", "h_nt_all", f"'{_lab}' matches people's non-tie choice "
                                        "(lengths in characters; a pair the rule cannot decide counts as a miss)")
    RATES[f"baseline_{_r}_vs_judge"] = (f"bl_{_r}_j", "v_nt", f"'{_lab}' matches the judge's non-tie verdict "
                                        "(lengths in characters; a pair the rule cannot decide counts as a miss)")
FIRST_ORDER = {"judge_human_agreement_first_order", "judge_human_agreement_no_ties_first_order"}
GAPS = {  # metric -> (rate minus rate, description)
    "first_pick_gap": ("judge_first_pick_rate", "human_first_pick_rate", "judge minus human first-pick rate"),
    "prefers_longer_gap": ("judge_prefers_longer_rate", "human_prefers_longer_rate",
                           "judge minus human prefers-longer rate"),
    "self_preference_gap": ("self_preference_judge_win_rate", "self_preference_human_win_rate",
                            "judge minus human win rate of the judge model's own responses"),
}


def words(texts) -> np.ndarray:
    return np.array([len(t.split()) for t in texts], dtype=np.int64)


def kappa(s, cell: str = "c"):
    """Cohen's kappa from (weighted) confusion cells ``c_<judge>_<human>`` (``c1_``: first order); works on
    floats and arrays."""
    c = lambda j, h: s.get(f"{cell}_{j}_{h}", 0.0)  # noqa: E731
    n = sum(c(j, h) for j in CLASSES for h in CLASSES)
    po = sum(c(k, k) for k in CLASSES) / n
    pe = sum(sum(c(k, h) for h in CLASSES) * sum(c(j, k) for j in CLASSES) for k in CLASSES) / (n * n)
    return (po - pe) / (1 - pe)


def row_values(v, judge_model: str | None = None, positional: bool = True, fa=None, fb=None,
               ov=None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Indicator columns for the bootstrap sums, and per-row output columns, from a :class:`PairView`.
    ``positional=False`` (pairs made from rankings: no order was shown) leaves the first-pick rates out.
    ``fa``/``fb``: :func:`.style.features` of A and B; ``ov``: (A, B) overlaps with the prompt."""
    n = len(v.a)
    none = np.full(n, None, dtype=object)
    jraw = v.judge if v.judge is not None else none
    hraw = v.human if v.human is not None else none
    j1, h = three_way(jraw), three_way(hraw)
    s3 = three_way(v.swapped) if v.swapped is not None else None
    j = combined_verdict(j1, s3)  # the verdict (first order alone without a swapped column)
    jv, hv = j != None, h != None  # noqa: E711
    j1v = j1 != None  # noqa: E711
    both = jv & hv
    jt, ht = j1 == "tie", h == "tie"
    jnt, hnt = j1v & ~jt, hv & ~ht
    vt = j == "tie"
    la, lb = words(v.a), words(v.b)
    longer = np.where(la > lb, "a", "b")
    differ = la != lb
    f = lambda x: np.asarray(x, dtype=np.float64)  # noqa: E731
    val = {"rows": np.ones(n), "both": f(both), "agree": f(both & (j == h)),
           "both_nt": f(both & ~vt & ~ht), "agree_nt": f(both & ~vt & ~ht & (j == h)),
           "j_valid": f(j1v), "j_tie": f(j1v & jt), "h_valid": f(hv), "h_tie": f(hv & ht),
           "j_first": f(jnt & (j1 == "a")), "j_nt": f(jnt), "h_first": f(hnt & (h == "a")), "h_nt": f(hnt),
           "j_long": f(jnt & differ & (j1 == longer)), "j_long_n": f(jnt & differ),
           "h_long": f(hnt & differ & (h == longer)), "h_long_n": f(hnt & differ),
           "j_invalid": f(~j1v) if v.judge is not None else np.zeros(n),
           "h_invalid": f(~hv) if v.human is not None else np.zeros(n)}
    for a_ in CLASSES:
        for b_ in CLASSES:
            val[f"c_{a_}_{b_}"] = f(both & (j == a_) & (h == b_))
    if s3 is not None:  # the first-order figures beside the combined verdict
        b1 = j1v & hv
        val |= {"both_fo": f(b1), "agree_fo": f(b1 & (j1 == h)), "both_nt_fo": f(b1 & ~jt & ~ht),
                "agree_nt_fo": f(b1 & ~jt & ~ht & (j1 == h)), "v_invalid": f(j1v & ~jv)}
        for a_ in CLASSES:
            for b_ in CLASSES:
                val[f"c1_{a_}_{b_}"] = f(b1 & (j1 == a_) & (h == b_))
    if v.prob is not None and v.prob_swapped is not None:
        m = (v.prob + v.prob_swapped) / 2
        ok = np.isfinite(m) & hv
        sa = np.where(m > 0, "a", np.where(m < 0, "b", "tie"))
        val["both_sa"], val["agree_sa"] = f(ok), f(ok & (sa == h))
    if fa is not None:
        vnt = jv & ~vt
        val["h_nt_all"], val["v_nt"] = f(hnt), f(vnt)
        if v.judge is not None and v.human is not None:
            val["jb_hit"] = f(hnt & (j == h))
        for rule, pick in style.rule_choices(fa, fb, *(ov or (None, None))).items():
            val[f"bl_{rule}_h"] = f(hnt & (pick == h))
            val[f"bl_{rule}_j"] = f(vnt & (pick == j))
    inconsistent = np.full(n, np.nan)
    if v.swapped is not None:
        s = three_way(v.swapped)
        sv = s != None  # noqa: E711
        pair = j1v & sv
        changed = pair & (s != j1)
        val["pi"], val["pi_n"], val["pi_swapped"] = f(changed), f(pair), f(pair)
        val["j_first"] = val["j_first"] + f(sv & (s == "b"))  # in the swapped run B was shown first
        val["j_nt"] = val["j_nt"] + f(sv & (s != "tie"))
        inconsistent[pair] = changed[pair]
    elif v.judge is not None:
        val["pi"], val["pi_n"] = f(j1v & (jraw == "inconsistent")), f(j1v)
        inconsistent[j1v] = (jraw == "inconsistent")[j1v]
    if not positional:
        val["j_nt"], val["h_nt"] = np.zeros(n), np.zeros(n)
    if judge_model and v.model_a is not None and v.model_b is not None:
        ma = np.array([m == judge_model for m in v.model_a])
        mb = np.array([m == judge_model for m in v.model_b])
        own = np.where(ma, "a", "b")
        sel = (ma ^ mb) & j1v & hv  # first-order choices, as before the combined verdict
        win = lambda c: np.where(c == own, 1.0, np.where(c == "tie", 0.5, 0.0))  # noqa: E731
        val["self_n"], val["self_j"], val["self_h"] = f(sel), win(j1) * sel, win(h) * sel
    cols = {"judge_choice": list(jraw) if v.judge is not None else None,
            "judge_verdict": list(j) if v.swapped is not None else None,
            "human_choice": list(hraw) if v.human is not None else None,
            "judge_human_disagree": np.where(both, j != h, None) if v.judge is not None and v.human is not None else None,
            "position_inconsistent": inconsistent if "pi" in val else None,
            "words_a": la, "words_b": lb}
    return val, {k: x for k, x in cols.items() if x is not None}


class PairCheck(Check):
    """The first-order figures over a stream of pair batches. State: ``BootstrapSums`` plus the rows
    where judge and human disagree (for examples)."""

    name = "preferences"
    pure_map = True  # each pair is scored from its batch alone; state merges by addition

    def __init__(self, spec: PairSpec, codes=None, judge_model: str | None = None, seed: int = 0,
                 group: str | None = None, positional: bool = True, family_map: dict | None = None,
                 style_fit=None):
        self.spec, self.codes, self.judge_model, self.seed = spec, codes, judge_model, seed
        self.group, self.positional = group, positional
        self.family_map, self.style_fit = family_map, style_fit

    def map(self, batch: pa.RecordBatch, ctx: BatchContext) -> MapOutput:
        v = view(batch, self.spec, self.codes)
        fa, fb, ov, cov = style.pair_style(v, self.judge_model, self.family_map)
        val, cols = row_values(v, self.judge_model, self.positional, fa, fb, ov)
        n = batch.num_rows
        cols["chars_a"], cols["chars_b"] = fa["chars"], fb["chars"]
        if v.votes is not None:  # several annotators: the judge's verdict against each, and the vote shares
            verdict = combined_verdict(three_way(v.judge), three_way(v.swapped) if v.swapped is not None else None) \
                if v.judge is not None else None
            val |= votes.values(v.votes, verdict)
            cols |= votes.row_columns(v.votes)
        if self.style_fit is not None and v.judge is not None:
            from .stylefit import content_term, flip_probability, style_term
            verdict = three_way(v.judge)  # the choice as shown: position is one of the style terms
            sf = self.style_fit
            p = flip_probability(verdict, style_term(sf, cov, n), content_term(sf, v.model_a, v.model_b, n))
            flip = np.nan_to_num(p) > 0.5
            cols["style_flip_prob"] = p
            cols["judge_debiased"] = [({"a": "b", "b": "a"}[c] if fl else c) for c, fl in zip(verdict, flip)]
            if v.human is not None:
                h = three_way(v.human)
                use = np.isin(verdict, ["a", "b"]) & np.isin(h, ["a", "b"])
                other = np.where(verdict == "a", "b", "a")
                pp = np.nan_to_num(p)
                val["deb_n"] = use.astype(float)
                val["deb_agree"] = use * ((1 - pp) * (verdict == h) + pp * (other == h))
                val["raw_agree"] = (use & (verdict == h)).astype(float)
                val["deb_flip"] = use * pp
        ids = ctx.row_ids(n)
        gcol = batch.column(self.group).to_pylist() if self.group and self.group in batch.schema.names else None
        keys = hash_keys(["" if g is None else str(g) for g in gcol]) if gcol is not None else hash_keys(ids)
        acc = BootstrapSums(self.seed)
        acc.add(keys, val)
        out = {}
        for k, x in cols.items():
            if k.endswith("_choice") or k in ("judge_verdict", "judge_debiased", "human_votes"):
                out[k] = pa.array(x, type=pa.string())
            elif k == "judge_human_disagree":
                out[k] = pa.array(list(x), type=pa.bool_())
            elif k == "position_inconsistent":
                out[k] = pa.array([None if np.isnan(t) else bool(t) for t in x], type=pa.bool_())
            else:
                out[k] = pa.array(x)
        dis = cols.get("judge_human_disagree")
        rows = [] if dis is None else [int(ids[i]) for i in range(n) if dis[i] is True]
        conf = _confidence(v, cols, rows, ids)
        raw, nested = {}, {}
        for c in (self.spec.judge, self.spec.judge_swapped, *votes.columns(self.spec.human)):
            if c and c in batch.schema.names:
                raw[c], first = count_raw(batch.column(c).to_pylist())
                if first is not None:
                    nested[c] = int(ids[first])
        return MapOutput(out, {"acc": acc, "disagree": conf, "raw": raw, "nested_row": nested})

    def merge(self, a, b):
        raw = {k: a["raw"].get(k, Counter()) + b["raw"].get(k, Counter()) for k in {*a["raw"], *b["raw"]}}
        nested = {k: min(x for x in (a["nested_row"].get(k), b["nested_row"].get(k)) if x is not None)
                  for k in {*a["nested_row"], *b["nested_row"]}}
        return {"acc": a["acc"].merge(b["acc"]), "raw": raw, "nested_row": nested,
                "disagree": sorted(a["disagree"] + b["disagree"], key=lambda t: (-t[0], t[1]))[:200]}

    def finalize(self, state):
        return state


class StyleCheck(Check):
    """The style covariates, verdicts and bootstrap keys of every pair (for :mod:`.stylefit`); merged by
    concatenation (the fit needs every pair)."""

    name = "style"
    pure_map = True

    def __init__(self, spec: PairSpec, codes=None, judge_model: str | None = None, group: str | None = None,
                 family_map: dict | None = None):
        self.spec, self.codes, self.judge_model, self.group, self.family_map = spec, codes, judge_model, group, family_map

    def map(self, batch: pa.RecordBatch, ctx: BatchContext) -> MapOutput:
        v = view(batch, self.spec, self.codes)
        n = batch.num_rows
        _, _, _, cov = style.pair_style(v, self.judge_model, self.family_map)
        none = np.full(n, None, dtype=object)
        gcol = batch.column(self.group).to_pylist() if self.group and self.group in batch.schema.names else None
        keys = hash_keys(["" if g is None else str(g) for g in gcol]) if gcol is not None else hash_keys(ctx.row_ids(n))
        j = three_way(v.judge) if v.judge is not None else none  # as shown: position is a style term
        st = {"cov": cov, "judge": j, "human": three_way(v.human) if v.human is not None else none, "keys": keys,
              "model_a": np.asarray(v.model_a, dtype=object) if v.model_a is not None else none,
              "model_b": np.asarray(v.model_b, dtype=object) if v.model_b is not None else none}
        return MapOutput({}, st)

    def merge(self, a, b):
        out = {k: np.concatenate([a[k], b[k]]) for k in ("judge", "human", "keys", "model_a", "model_b")}
        out["cov"] = {k: np.concatenate([a["cov"][k], b["cov"][k]]) for k in a["cov"] if k in b["cov"]}
        return out


def _confidence(v, cols, rows, ids) -> list[tuple[float, int, str, str]]:
    """(confidence, row, judge, human) for disagreeing rows. Confidence: the sum of the two margins where
    the data has them (rankings: point differences); else 2 for a/b against b/a, 1 against a tie, plus 1
    when the judge kept its choice in the swapped order."""
    out = []
    pos = {int(r): i for i, r in enumerate(ids)}
    for r in rows:
        i = pos[r]
        j, h = cols["judge_choice"][i], cols["human_choice"][i]
        if v.margin_judge is not None:
            c = float(np.nan_to_num(v.margin_judge[i]) + (0 if v.margin_human is None else np.nan_to_num(v.margin_human[i])))
        else:
            c = 2.0 if {j, h} == {"a", "b"} else 1.0
            if v.swapped is not None and v.swapped[i] == j:
                c += 1.0
        out.append((c, r, j, h))
    return sorted(out, key=lambda t: (-t[0], t[1]))[:200]


def rate_metrics(acc: BootstrapSums) -> dict[str, tuple]:
    """{metric: (value, lo, hi, n)} for every rate whose denominator is positive, the gaps and kappa."""
    pt = acc.point()
    out = {}
    for name, (num, den, _) in RATES.items():
        if name == "position_inconsistency_rate" and not (pt.get("pi_swapped") or pt.get("pi")):
            continue  # no swapped column and no `tie (inconsistent)` code: not measurable
        if pt.get(den, 0) > 0 and num in pt:
            est, lo, hi = acc.ratio(num, den)
            out[name] = (est, lo, hi, int(round(pt[den])))
    for name, (r1, r2, _) in GAPS.items():
        if r1 in out and r2 in out:
            (n1, d1), (n2, d2) = RATES[r1][:2], RATES[r2][:2]
            est, lo, hi = acc.interval(lambda s: s[n1] / s[d1] - s[n2] / s[d2])
            out[name] = (est, lo, hi, min(out[r1][3], out[r2][3]))
    if pt.get("both", 0) > 0:
        est, lo, hi = acc.interval(kappa)
        out["cohen_kappa"] = (est, lo, hi, int(round(pt["both"])))
    if pt.get("both_fo", 0) > 0:
        est, lo, hi = acc.interval(lambda x: kappa(x, "c1"))
        out["cohen_kappa_first_order"] = (est, lo, hi, int(round(pt["both_fo"])))
    return out


def confusion(acc: BootstrapSums, cell: str = "c") -> list[list[int]]:
    """3x3 counts, rows = judge a/b/tie, columns = human a/b/tie (``cell="c1"``: first-order choices)."""
    pt = acc.point()
    return [[int(round(pt.get(f"{cell}_{j}_{h}", 0))) for h in CLASSES] for j in CLASSES]
