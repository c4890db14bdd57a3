"""First-order preference figures as one map/combine check: agreement, Cohen's kappa, ties, position,
verbosity and self-preference, each a function of Poisson-bootstrap sums (``artifactlens.stats``).

*map* turns each pair into 0/1 indicator columns (a numerator and a denominator per rate, one cell per
judge x human confusion cell) and adds them to :class:`~artifactlens.stats.BootstrapSums` keyed by the
group (the prompt) or the row; *combine* adds the sums. Cohen's kappa is a function of the weighted
confusion cells, so it gets an interval from the same replicates (no sklearn call per replicate).

Definitions (choices a/b/tie; an ``inconsistent`` judge choice counts as a tie):

- agreement: same 3-class choice, over pairs with both choices valid; ``_no_ties``: over pairs where
  neither chose a tie.
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
from .load import PairSpec, three_way, view

CLASSES = ("a", "b", "tie")
RATES = {  # metric -> (numerator, denominator, description)
    "judge_human_agreement": ("agree", "both", "judge and human make the same 3-class choice (a/b/tie)"),
    "judge_human_agreement_no_ties": ("agree_nt", "both_nt", "same choice, pairs where neither chose a tie"),
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
GAPS = {  # metric -> (rate minus rate, description)
    "first_pick_gap": ("judge_first_pick_rate", "human_first_pick_rate", "judge minus human first-pick rate"),
    "prefers_longer_gap": ("judge_prefers_longer_rate", "human_prefers_longer_rate",
                           "judge minus human prefers-longer rate"),
    "self_preference_gap": ("self_preference_judge_win_rate", "self_preference_human_win_rate",
                            "judge minus human win rate of the judge model's own responses"),
}


def words(texts) -> np.ndarray:
    return np.array([len(t.split()) for t in texts], dtype=np.int64)


def kappa(s):
    """Cohen's kappa from (weighted) confusion cells ``c_<judge>_<human>``; works on floats and arrays."""
    n = sum(s.get(f"c_{j}_{h}", 0.0) for j in CLASSES for h in CLASSES)
    po = sum(s.get(f"c_{k}_{k}", 0.0) for k in CLASSES) / n
    pe = sum(sum(s.get(f"c_{k}_{h}", 0.0) for h in CLASSES) * sum(s.get(f"c_{j}_{k}", 0.0) for j in CLASSES)
             for k in CLASSES) / (n * n)
    return (po - pe) / (1 - pe)


def row_values(v, judge_model: str | None = None, positional: bool = True) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Indicator columns for the bootstrap sums, and per-row output columns, from a :class:`PairView`.
    ``positional=False`` (pairs made from rankings: no order was shown) leaves the first-pick rates out."""
    n = len(v.a)
    none = np.full(n, None, dtype=object)
    jraw = v.judge if v.judge is not None else none
    hraw = v.human if v.human is not None else none
    j, h = three_way(jraw), three_way(hraw)
    jv, hv = j != None, h != None  # noqa: E711
    both = jv & hv
    jt, ht = j == "tie", h == "tie"
    jnt, hnt = jv & ~jt, hv & ~ht
    la, lb = words(v.a), words(v.b)
    longer = np.where(la > lb, "a", "b")
    differ = la != lb
    f = lambda x: np.asarray(x, dtype=np.float64)  # noqa: E731
    val = {"rows": np.ones(n), "both": f(both), "agree": f(both & (j == h)),
           "both_nt": f(both & ~jt & ~ht), "agree_nt": f(both & ~jt & ~ht & (j == h)),
           "j_valid": f(jv), "j_tie": f(jv & jt), "h_valid": f(hv), "h_tie": f(hv & ht),
           "j_first": f(jnt & (j == "a")), "j_nt": f(jnt), "h_first": f(hnt & (h == "a")), "h_nt": f(hnt),
           "j_long": f(jnt & differ & (j == longer)), "j_long_n": f(jnt & differ),
           "h_long": f(hnt & differ & (h == longer)), "h_long_n": f(hnt & differ),
           "j_invalid": f(~jv) if v.judge is not None else np.zeros(n),
           "h_invalid": f(~hv) if v.human is not None else np.zeros(n)}
    for a_ in CLASSES:
        for b_ in CLASSES:
            val[f"c_{a_}_{b_}"] = f(both & (j == a_) & (h == b_))
    inconsistent = np.full(n, np.nan)
    if v.swapped is not None:
        s = three_way(v.swapped)
        sv = s != None  # noqa: E711
        pair = jv & sv
        changed = pair & (s != j)
        val["pi"], val["pi_n"], val["pi_swapped"] = f(changed), f(pair), f(pair)
        val["j_first"] = val["j_first"] + f(sv & (s == "b"))  # in the swapped run B was shown first
        val["j_nt"] = val["j_nt"] + f(sv & (s != "tie"))
        inconsistent[pair] = changed[pair]
    elif v.judge is not None:
        val["pi"], val["pi_n"] = f(jv & (jraw == "inconsistent")), f(jv)
        inconsistent[jv] = (jraw == "inconsistent")[jv]
    if not positional:
        val["j_nt"], val["h_nt"] = np.zeros(n), np.zeros(n)
    if judge_model and v.model_a is not None and v.model_b is not None:
        ma = np.array([m == judge_model for m in v.model_a])
        mb = np.array([m == judge_model for m in v.model_b])
        own = np.where(ma, "a", "b")
        sel = (ma ^ mb) & both
        win = lambda c: np.where(c == own, 1.0, np.where(c == "tie", 0.5, 0.0))  # noqa: E731
        val["self_n"], val["self_j"], val["self_h"] = f(sel), win(j) * sel, win(h) * sel
    cols = {"judge_choice": list(jraw) if v.judge is not None else None,
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
                 group: str | None = None, positional: bool = True):
        self.spec, self.codes, self.judge_model, self.seed = spec, codes, judge_model, seed
        self.group, self.positional = group, positional

    def map(self, batch: pa.RecordBatch, ctx: BatchContext) -> MapOutput:
        v = view(batch, self.spec, self.codes)
        val, cols = row_values(v, self.judge_model, self.positional)
        n = batch.num_rows
        ids = ctx.row_ids(n)
        gcol = batch.column(self.group).to_pylist() if self.group and self.group in batch.schema.names else None
        keys = hash_keys(["" if g is None else str(g) for g in gcol]) if gcol is not None else hash_keys(ids)
        acc = BootstrapSums(self.seed)
        acc.add(keys, val)
        out = {}
        for k, x in cols.items():
            if k.endswith("_choice"):
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
        return MapOutput(out, {"acc": acc, "disagree": conf})

    def merge(self, a, b):
        return {"acc": a["acc"].merge(b["acc"]), "disagree": sorted(a["disagree"] + b["disagree"],
                                                                    key=lambda t: (-t[0], t[1]))[:200]}

    def finalize(self, state):
        return state


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
    return out


def confusion(acc: BootstrapSums) -> list[list[int]]:
    """3x3 counts, rows = judge a/b/tie, columns = human a/b/tie."""
    pt = acc.point()
    return [[int(round(pt.get(f"c_{j}_{h}", 0))) for h in CLASSES] for j in CLASSES]
