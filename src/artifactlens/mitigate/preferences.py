"""Mitigations of a preference judge's biases.

- ``ties`` (:class:`PositionTies`): a verdict that changes when the order is swapped is no verdict: both
  orders become a tie (the combined verdict the audit already reports, written into ``judge`` and
  ``judge_swapped``); the judge tie rate rises, position inconsistency falls to zero.
- ``style`` (:class:`StyleDebias`): the style-controlled verdict of the audit's own style-control fit
  (:mod:`artifactlens.audits.preferences.stylefit`: the choice reverses where the fit says style, position
  included, decided it with probability above 1/2) written into ``judge``.
- ``length`` (:class:`LengthControlledWinRates`): length-controlled win rates per model, as AlpacaEval 2.0's
  LC win rates (Dubois et al. 2024): a logistic fit of the judge's choice on per-model strengths, position and
  ``tanh`` of the standardised length difference (``stylefit.newton_logit``, the same Newton solver the audit
  uses, strengths with an N(0, 1) prior), then each model's win rate predicted with the length term at zero.
  The rows are not changed (a per-model figure, not a per-row one); the table is the mitigation.

Choices are written back in the file's own coding (a raw value the column already uses for that choice,
else the ``--codes`` code, else the word ``tie``), so the audit reads the output with the same options.
"""
from __future__ import annotations

import numpy as np

from ..audits.preferences.load import three_way
from ..audits.preferences.stylefit import newton_logit
from ..errors import InputError
from ..io.conventions import parse_choice, parse_codes
from .base import Context, Mitigated, Mitigation, column, register, replace


class _Preferences(Mitigation):
    kind = "preferences"

    @staticmethod
    def audit_options(r) -> dict:
        cols = dict(r.params.get("columns") or {})
        if r.params.get("rankings"):
            raise InputError("mitigate preferences needs pairs (a FILE), not --rankings",
                             expected="the pairs file the audit read")
        opts = {k: cols[k] for k in ("a", "b", "human", "judge", "judge_swapped", "prompt", "reference", "group",
                                     "model_a", "model_b", "judge_prob", "judge_prob_swapped") if cols.get(k)}
        if cols.get("nli"):
            opts["nli_column"] = cols["nli"]
        codes = r.params.get("codes")
        if codes:
            opts["codes"] = ",".join(f"{k}={v}" for k, v in codes.items())
        if r.params.get("judge_model"):
            opts["judge_model"] = r.params["judge_model"]
        opts["reward_model"] = any(k.startswith("reward") for k in r.metrics)
        opts["style_control"] = bool(r.params.get("style_control"))
        return opts

    @staticmethod
    def codes(ctx) -> dict:
        return parse_codes(ctx.options.get("codes"))

    def encoder(self, values: list, codes: dict):
        """choice -> the raw value this column (or the coding) writes for it."""
        seen = {}
        for v in values:
            c = parse_choice(v, codes)
            if c is not None and c not in seen:
                seen[c] = v
        inverse = {c: k for k, c in codes.items()}

        numeric = any(isinstance(v, int) and not isinstance(v, bool) for v in values)
        if not codes and (numeric or any(isinstance(v, str) and v.strip().isdigit() for v in values)):
            inverse = dict(DEFAULT_NUMERIC)  # the default 0/1/2 reading: write a tie as 2, not as a word

        def enc(choice):
            if choice in seen:
                return seen[choice]
            if choice in inverse:
                k = inverse[choice]
                return int(k) if k.isdigit() and numeric else k
            return choice
        return enc


DEFAULT_NUMERIC = {"a": "0", "b": "1", "tie": "2"}  # io.conventions' default reading of numeric choices


def _choices(values, codes) -> np.ndarray:
    return three_way(np.array([parse_choice(v, codes) for v in values], dtype=object))


@register
class PositionTies(_Preferences):
    name = "ties"
    reason = "the judge's choice changed when the order was swapped: no verdict, so a tie in both orders"
    targets = (("position_inconsistency_rate", "down"), ("judge_tie_rate", "up"))

    def applies(self, ctx: Context) -> str | None:
        if not (ctx.options.get("judge") and ctx.options.get("judge_swapped")):
            return "needs both orders (the audit's --judge and --judge-swapped)"
        return None

    def apply(self, ctx: Context) -> Mitigated:
        codes, t = self.codes(ctx), ctx.table
        jc, sc = ctx.options["judge"], ctx.options["judge_swapped"]
        j, s = column(t, jc, ctx.path), column(t, sc, ctx.path)
        j3, s3 = _choices(j, codes), _choices(s, codes)
        change = (j3 != None) & (s3 != None) & (j3 != s3)  # noqa: E711
        enc = self.encoder(j + s, codes)
        tie = enc("tie")
        t = replace(t, jc, [tie if c else v for v, c in zip(j, change)])
        t = replace(t, sc, [tie if c else v for v, c in zip(s, change)])
        action = ["tie" if c else None for c in change]
        why = [f"{self.reason} (first order {a}, swapped {b})" if c else None for a, b, c in zip(j3, s3, change)]
        return Mitigated(t, action, why)


@register
class StyleDebias(_Preferences):
    name = "style"
    reason = "the style-control fit says the judge's choice was made by style (length, markdown, position...): " \
             "the other response is the style-controlled verdict"
    targets = (("style_flip_share", "down"),)

    def applies(self, ctx: Context) -> str | None:
        if not ctx.options.get("judge"):
            return "needs the judge's choices (--judge)"
        if ctx.flags is not None and "judge_debiased" not in ctx.flags.column_names:
            return "the audit has no style-control fit (fewer than 10 non-tie choices, or --no-style-control)"
        return None

    def apply(self, ctx: Context) -> Mitigated:
        codes, t = self.codes(ctx), ctx.table
        jc = ctx.options["judge"]
        j = column(t, jc, ctx.path)
        deb = column(ctx.flags, "judge_debiased")
        prob = column(ctx.flags, "style_flip_prob")
        j3 = _choices(j, codes)
        flip = [d is not None and c in ("a", "b") and d != c for c, d in zip(j3, deb)]
        enc = self.encoder(j, codes)
        t = replace(t, jc, [enc(d) if f else v for v, d, f in zip(j, deb, flip)])
        action = ["debiased" if f else None for f in flip]
        why = [f"{self.reason} (P(flip) = {p:.2f}: {c} -> {d})" if f else None
               for c, d, p, f in zip(j3, deb, prob, flip)]
        notes = []
        if not any(flip):
            notes.append("no choice reverses with probability above 1/2, so no verdict changed (without model "
                         "columns the content term is zero and a choice made with its style term never passes "
                         "1/2); style_flip_share is the expected share of reversals, not a count")
        if ctx.options.get("judge_swapped"):
            notes.append("the style-control fit reads the first-order choice (as shown), so only --judge was "
                         "debiased; --judge-swapped is as the judge gave it")
        return Mitigated(t, action, why, notes=notes)


@register
class LengthControlledWinRates(_Preferences):
    name = "length"
    reason = "win rates per model with the length difference held at zero (AlpacaEval's length control)"
    targets = (("judge_prefers_longer_rate_length_controlled", "toward 0.5"),)
    changes_rows = False

    def applies(self, ctx: Context) -> str | None:
        if not (ctx.options.get("model_a") and ctx.options.get("model_b") and ctx.options.get("judge")):
            return "needs the models of each pair (the audit's --model-a, --model-b) and --judge"
        return None

    def apply(self, ctx: Context) -> Mitigated:
        t, codes, o = ctx.table, self.codes(ctx), ctx.options
        ma = np.array([str(x) for x in column(t, o["model_a"], ctx.path)], dtype=object)
        mb = np.array([str(x) for x in column(t, o["model_b"], ctx.path)], dtype=object)
        j = _choices(column(t, o["judge"], ctx.path), codes)
        la = np.array([len(str(x or "").split()) for x in column(t, o["a"], ctx.path)], float)
        lb = np.array([len(str(x or "").split()) for x in column(t, o["b"], ctx.path)], float)
        fit = lc_fit(ma, mb, j, la, lb)
        n = t.num_rows
        tables = {"length_controlled_win_rates": (
            "Length-controlled win rates per model (the judge's choices as shown; length term held at zero)",
            ["model", "pairs", "mean words", "win rate", "LC win rate", "change"], fit["rows"])}
        return Mitigated(t, [None] * n, [None] * n, tables=tables,
                         figures={"judge_prefers_longer_rate_length_controlled": fit["longer"]},
                         notes=["judge_prefers_longer_rate_length_controlled: before, the share of the judge's "
                                "non-tie choices (as shown) that pick the longer response (words; pairs whose "
                                "lengths differ), the audit's judge_prefers_longer_rate; after, the same share "
                                "expected from the length-controlled fit (model strengths only)"])


def lc_fit(ma, mb, choice, la, lb) -> dict:
    """The length-controlled fit: ``rows`` (per model: pairs, mean words, raw win rate with ties as half,
    LC win rate) and ``longer`` (share of non-tie choices for the longer response: as chosen, as the fit
    expects with the length term at zero)."""
    models = sorted(set(ma) | set(mb))
    if len(models) < 2:
        raise InputError("length-controlled win rates need at least two models", expected="--model-a/--model-b")
    idx = {m: i for i, m in enumerate(models)}
    use = np.isin(choice, ["a", "b"])
    if use.sum() < 10:
        raise InputError("fewer than 10 non-tie judge choices: no length-controlled fit",
                         expected="more judged pairs")
    d = la - lb
    sd = float(np.std(d[use])) or 1.0
    M = np.zeros((len(ma), len(models)))
    M[np.arange(len(ma)), [idx[m] for m in ma]] += 1
    M[np.arange(len(mb)), [idx[m] for m in mb]] -= 1
    X = np.column_stack([np.ones(len(ma)), np.tanh(d / sd), M[:, 1:]])
    y = (choice == "a").astype(float)
    pen = np.r_[0.0, 0.0, np.ones(len(models) - 1)]
    beta, _ = newton_logit(X[use], y[use], penalty=pen)
    theta = np.r_[0.0, beta[0, 2:]]
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    valid = np.isin(choice, ["a", "b", "tie"])
    rows = []
    for m in models:
        ia, ib = (ma == m) & (mb != m), (mb == m) & (ma != m)  # a model against itself is no contest
        wins = ((choice == "a") & ia).sum() + ((choice == "b") & ib).sum()
        ties = ((choice == "tie") & (ia | ib)).sum()
        nv = int(((ia | ib) & valid).sum())
        other = np.r_[[theta[idx[x]] for x in mb[ia & valid]], [theta[idx[x]] for x in ma[ib & valid]]]
        lc = float(np.mean(sig(theta[idx[m]] - other))) if len(other) else float("nan")
        words = float(np.mean(np.r_[la[ia], lb[ib]])) if (ia | ib).any() else float("nan")
        rows.append([str(m), int(ia.sum() + ib.sum()), round(words, 1), (wins + 0.5 * ties) / nv if nv else None, lc,
                     lc - (wins + 0.5 * ties) / nv if nv else None])
    sel = use & (la != lb)
    a_longer = la > lb
    chose_longer = np.where(a_longer, choice == "a", choice == "b")
    content = np.array([theta[idx[x]] - theta[idx[z]] for x, z in zip(ma, mb)])
    p_longer = np.where(a_longer, sig(content), 1 - sig(content))
    longer = (float(chose_longer[sel].mean()), float(p_longer[sel].mean())) if sel.any() else (None, None)
    return {"rows": rows, "longer": longer, "theta": dict(zip(models, theta))}
