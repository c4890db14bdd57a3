"""Pointwise ratings: judges that score one response at a time (MT-Bench single grading, G-Eval,
faithfulness scores) against people's scores of the same responses, with self- and family-bias.

Input: one row per rated response: ``--item`` (what the bootstrap resamples: the prompt or document),
``--judge-score``, ``--human-score``, and optionally ``--response`` (its text; length in characters) or
``--response-length`` (a length as released, in the release's unit), ``--generator`` (the model that wrote
the response) and ``--judge-column`` (the judge's name, when several judges share one file, one row per
judge and response). Or wide: ``--judge-score A,B,...``, one score column per judge, each judge named by
its column. With one column and no ``--judge-column`` the judge is ``--judge-model`` (else the column).

Definitions, per judge (rows with both scores numeric):

- **scale**: each score is put into [0, 1] by its declared range (``--judge-range LO,HI``:
  ``(s - LO) / (HI - LO)``; a value outside it is an error) or, when none is declared, by the column's
  observed range over the whole file (all judges of one column together, so they share one scale; in
  the wide layout each judge's column has its own);
  the description of ``mean_residual`` says which rule was used.
- ``judge_human_spearman`` / ``judge_human_pearson``: over the judge's rows; intervals from the Poisson
  bootstrap by item (:mod:`artifactlens.stats.bootstrap`). Spearman is recomputed per replicate on the
  resampled data (weighted mid-ranks: a row of weight w is w copies), not on ranks fixed once.
- ``mean_residual``: mean of judge minus human (scaled scores).
- ``self_bias``: mean residual on the judge's own generator's responses minus on the other generators'
  ("Play Favorites", arXiv 2508.06709); own = the generator's name equal to the judge's (lower-cased,
  stripped). Positive: the judge is kinder to its own outputs than people are, beyond its overall lean.
- ``family_bias``: the same with own = same model family (:mod:`.family`: ``--family-map`` or the name
  rule); the judge's own outputs count as its family's.
- ``self_bias_length_controlled``: the coefficient of "own" in the OLS fit residual ~ 1 + own + length
  (statsmodels' OLS for the point, the same least squares per bootstrap replicate for the interval), so a
  judge that only likes long answers, which its own model happens to write, is not called self-biased.

Self-bias needs a generator column and a judge whose name appears among the generators; otherwise it is
absent and an info finding says why. Wraps scipy (``spearmanr``/``pearsonr`` for the points) and
statsmodels (``OLS`` for the point fit): the field's references, which the tests check against. The 200
replicates are not 200 calls of them: each statistic is a function of weighted sums, summed per item first
and multiplied by the items' Poisson weights (:class:`ItemWeights`, scipy.sparse), about 8x faster than
the plain bootstrap over scipy and statsmodels on 100k rows (``bench/bench_ratings.py``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ...engine import BatchContext, Check, MapOutput
from ...errors import InputError
from ...io.readers import open_source, require_columns
from ...result import AuditResult
from ...stats import DEFAULT_REPLICATES, hash_keys, poisson_weights
from ..common import input_info
from .family import family

CHUNK = 20_000  # items per block of (items, replicates) bootstrap weights


@dataclass
class RatingSpec:
    item: str
    judge_score: str
    human_score: str
    response: str | None = None
    response_length: str | None = None
    generator: str | None = None
    judge_column: str | None = None

    @property
    def judge_scores(self) -> list[str]:
        """The judge score columns: one (long layout), or a comma list (wide: one column per judge)."""
        return [c.strip() for c in self.judge_score.split(",") if c.strip()]

    def roles(self) -> dict[str, str | None]:
        cols = self.judge_scores
        js = {"--judge-score": self.judge_score} if len(cols) < 2 else \
            {f"--judge-score ({i + 1})": c for i, c in enumerate(cols)}
        return {"--item": self.item, **js, "--human-score": self.human_score,
                "--response": self.response, "--response-length": self.response_length,
                "--generator": self.generator, "--judge-column": self.judge_column}


def parse_range(text, flag: str) -> tuple[float, float] | None:
    if text is None or text == "":
        return None
    if isinstance(text, (tuple, list)) and len(text) == 2:
        parts = list(text)
    else:
        parts = str(text).split(",")
    try:
        lo, hi = (float(x) for x in parts)
    except (TypeError, ValueError):
        raise InputError(f"{flag} '{text}' is not LO,HI", expected="two numbers such as 1,10") from None
    if not hi > lo:
        raise InputError(f"{flag} '{text}': HI must be above LO", expected="two numbers LO,HI with LO < HI")
    return lo, hi


def _floats(values) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        if isinstance(v, bool):
            continue
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            pass
    return out


class RatingCheck(Check):
    """Collects the numeric columns of every row (merged by concatenation: the scale, the ranks and the
    fits need all rows of a judge)."""

    name = "ratings"
    pure_map = True

    def __init__(self, spec: RatingSpec, judge_name: str):
        self.spec, self.judge_name = spec, judge_name

    def map(self, batch: pa.RecordBatch, ctx: BatchContext) -> MapOutput:
        s, n = self.spec, batch.num_rows
        col = lambda c: batch.column(c).to_pylist()  # noqa: E731
        strs = lambda c: np.array(["" if v is None else str(v) for v in col(c)], dtype=object)  # noqa: E731
        if s.response_length:
            length = _floats(col(s.response_length))
        elif s.response:
            length = np.array([np.nan if v is None else float(len(str(v))) for v in col(s.response)])
        else:
            length = np.full(n, np.nan)
        base = {"row": ctx.row_ids(n), "item": strs(s.item), "h": _floats(col(s.human_score)), "len": length,
                "gen": strs(s.generator) if s.generator else np.full(n, "", dtype=object)}
        cols = s.judge_scores
        parts = []
        for k, c in enumerate(cols):  # wide: one column per judge, named by its column
            name = strs(s.judge_column) if s.judge_column else np.full(n, self.judge_name if len(cols) == 1 else c,
                                                                         dtype=object)
            parts.append({**base, "j": _floats(col(c)), "jcol": np.full(n, k), "judge": name})
        return MapOutput({}, self.merge(*parts) if len(parts) > 1 else parts[0])

    def merge(self, *states):
        return {k: np.concatenate([st[k] for st in states]) for k in states[0]}


# -- statistics on Poisson-bootstrap weights -------------------------------------------------------------
class ItemWeights:
    """Poisson(1) weights per item (``poisson_weights`` of the item's hash: the rows of one item move
    together, the same weights as ``BootstrapSums`` keyed by item). Every statistic here is a function of
    weighted sums, and a weighted sum over rows is a sum over items of (weight x the item's own sum), so
    values are first summed per item (:meth:`per_item`) and only items meet the ``(items, B)`` weights,
    in blocks of :data:`CHUNK` items (kept once when small). ``weights``: a given ``(items, B)`` matrix
    (tests)."""

    def __init__(self, items, seed: int = 0, replicates: int = DEFAULT_REPLICATES, weights=None):
        from scipy.sparse import csr_matrix
        uniq, inv = np.unique(np.asarray(items), return_inverse=True)
        self.n_items, self.replicates, self.seed = len(uniq), replicates, seed
        self.keys = hash_keys(list(uniq))
        self.rows = csr_matrix((np.ones(len(inv)), (inv, np.arange(len(inv)))), shape=(len(uniq), len(inv)))
        self._w = None if weights is None else np.asarray(weights, dtype=np.float64)
        if weights is None and self.n_items * replicates <= 4 * CHUNK * replicates:
            self._w = poisson_weights(self.keys, seed, replicates).astype(np.float64)
        if self._w is not None:
            self.replicates = self._w.shape[1]

    def per_item(self, M):
        """``(rows, k)`` values (dense or sparse) summed per item: ``(items, k)``."""
        return self.rows @ M

    def blocks(self):
        if self._w is not None:
            yield slice(0, self.n_items), self._w
            return
        for s in range(0, self.n_items, CHUNK):
            yield slice(s, s + CHUNK), poisson_weights(self.keys[s:s + CHUNK], self.seed,
                                                        self.replicates).astype(np.float64)

    def sums(self, A) -> np.ndarray:
        """``(k, B)`` replicate sums of per-item values ``A`` ``(items, k)``."""
        out = 0.0
        for sl, W in self.blocks():
            out = out + np.asarray(A[sl].T @ W)
        return out


def _interval(point: float, reps: np.ndarray, level: float = 0.95) -> tuple[float, float | None, float | None]:
    reps = reps[np.isfinite(reps)]
    if not np.isfinite(point) or reps.size < 10:
        return (float(point) if np.isfinite(point) else float("nan")), None, None
    a = (1 - level) / 2
    lo, hi = np.quantile(reps, [a, 1 - a])
    return float(point), float(lo), float(hi)


def _pearson_from_sums(n, sx, sy, sxx, syy, sxy):
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = sxy - sx * sy / n
        return cov / np.sqrt((sxx - sx * sx / n) * (syy - sy * sy / n))


def _onehot(codes: np.ndarray, k: int):
    from scipy.sparse import csr_matrix
    return csr_matrix((np.ones(len(codes)), (np.arange(len(codes)), codes)), shape=(len(codes), k))


def replicate_correlations(x: np.ndarray, y: np.ndarray, iw: ItemWeights) -> tuple[np.ndarray, np.ndarray]:
    """``(pearson, spearman)``, each ``(B,)``: the correlations of every replicate's resampled data.
    Spearman uses weighted mid-ranks (a row of weight w counts as w copies, tied copies share their mean
    rank), so it equals ``spearmanr(np.repeat(x, w), np.repeat(y, w))``: each distinct value's total weight
    per replicate gives its rank, and the rank moments are per-item value counts times the ranks.
    Memory: one block of items x B, plus (distinct values x B)."""
    pear = iw.sums(iw.per_item(np.column_stack([np.ones(len(x)), x, y, x * x, y * y, x * y])))
    (ux, gx), (uy, gy) = (np.unique(v, return_inverse=True) for v in (x, y))
    pairs, gp = np.unique(gx * len(uy) + gy, return_inverse=True)  # distinct (x, y) value pairs
    Cx, Cy = iw.per_item(_onehot(gx, len(ux))), iw.per_item(_onehot(gy, len(uy)))  # (items, values) counts
    Cp = iw.per_item(_onehot(gp, len(pairs)))
    tx, ty = iw.sums(Cx), iw.sums(Cy)  # (values, B): total weight of each distinct value
    rx, ry = (np.cumsum(t, axis=0) - t + (t + 1) / 2 for t in (tx, ty))  # mid-ranks (values, B)
    rxy = rx[pairs // len(uy)] * ry[pairs % len(uy)]
    S = np.zeros((5, iw.replicates))
    for sl, W in iw.blocks():
        for k, (C, R) in enumerate(((Cx, rx), (Cy, ry), (Cx, rx * rx), (Cy, ry * ry), (Cp, rxy))):
            S[k] += (W * (C[sl] @ R)).sum(axis=0)
    return _pearson_from_sums(*pear), _pearson_from_sums(pear[0], *S)


def spearman_replicates(x: np.ndarray, y: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Spearman's rho per replicate of per-row weights ``W`` ``(n, B)`` (each row its own item)."""
    return replicate_correlations(x, y, ItemWeights(np.arange(len(x)), weights=W))[1]


def correlations(x: np.ndarray, y: np.ndarray, iw: ItemWeights) -> dict[str, tuple]:
    """Pearson and Spearman of x and y with Poisson-bootstrap intervals by item."""
    from scipy.stats import pearsonr, spearmanr
    n = len(x)
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {}
    r_rep, rho_rep = replicate_correlations(x, y, iw)
    return {"pearson": (*_interval(float(pearsonr(x, y)[0]), r_rep), n),
            "spearman": (*_interval(float(spearmanr(x, y)[0]), rho_rep), n)}


def group_difference(r: np.ndarray, own: np.ndarray, iw: ItemWeights) -> tuple | None:
    """Mean of ``r`` where ``own`` minus where not, with its bootstrap interval by item; None when one side
    is empty."""
    no, nt = int(own.sum()), int((~own).sum())
    if no == 0 or nt == 0:
        return None
    o, t = own.astype(np.float64), (~own).astype(np.float64)
    acc = iw.sums(iw.per_item(np.column_stack([o, o * r, t, t * r])))
    with np.errstate(divide="ignore", invalid="ignore"):
        reps = acc[1] / acc[0] - acc[3] / acc[2]
    point = float(r[own].mean() - r[~own].mean())
    return (*_interval(point, reps), no, nt)


def mean_with_interval(r: np.ndarray, iw: ItemWeights):
    acc = iw.sums(iw.per_item(np.column_stack([np.ones(len(r)), r])))
    with np.errstate(divide="ignore", invalid="ignore"):
        return (*_interval(float(r.mean()), acc[1] / acc[0]), len(r))


def ols_with_interval(y: np.ndarray, X: np.ndarray, iw: ItemWeights) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """OLS coefficients (statsmodels) and per-coefficient bootstrap intervals: the weighted least squares
    of every replicate, ``(X'WX)^-1 X'Wy``, from per-item cross products, solved at once. None when X is
    rank-deficient."""
    import statsmodels.api as sm
    if np.linalg.matrix_rank(X) < X.shape[1]:
        return None
    beta = np.asarray(sm.OLS(y, X).fit().params, dtype=np.float64)
    p = X.shape[1]
    cross = np.column_stack([(X[:, :, None] * X[:, None, :]).reshape(len(y), p * p), X * y[:, None]])
    S = iw.sums(iw.per_item(cross))  # (p*p + p, B)
    XtWX, XtWy = S[:p * p].T.reshape(-1, p, p), S[p * p:].T
    ok = np.linalg.matrix_rank(XtWX) == p
    reps = np.full((iw.replicates, p), np.nan)
    if ok.any():
        reps[ok] = np.linalg.solve(XtWX[ok], XtWy[ok][..., None])[..., 0]
    lo, hi = np.full(p, np.nan), np.full(p, np.nan)
    for k in range(p):
        t = _interval(beta[k], reps[:, k])
        lo[k], hi[k] = (np.nan if t[1] is None else t[1]), (np.nan if t[2] is None else t[2])
    return beta, lo, hi


# -- the audit ------------------------------------------------------------------------------------------
def _scale(x: np.ndarray, rng: tuple | None, flag: str, column: str, rows: np.ndarray, path):
    """``(scaled, rule text)``; a value outside a declared range is an error naming its row."""
    ok = np.isfinite(x)
    if rng is not None:
        lo, hi = rng
        bad = ok & ((x < lo) | (x > hi))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"a score {x[i]:g} outside the declared {flag} {lo:g},{hi:g}", path=path,
                             row=int(rows[i]), column=column, expected=f"scores in [{lo:g}, {hi:g}] or a wider {flag}")
        return (x - lo) / (hi - lo), f"declared range {flag} {lo:g},{hi:g}"
    if not ok.any():
        return x, "no numeric value"
    lo, hi = float(np.nanmin(x)), float(np.nanmax(x))
    span = (hi - lo) or 1.0
    return (x - lo) / span, f"observed range [{lo:g}, {hi:g}] (no {flag} declared)"


def _norm(name) -> str:
    return str(name or "").strip().lower()


def judge_figures(d: dict, judge: str, fmap: dict, seed: int, replicates: int = DEFAULT_REPLICATES) -> dict:
    """Every figure for one judge from its rows (``d``: scaled ``j``, ``h``, ``item``, ``gen``, ``len``)."""
    iw = ItemWeights(d["item"], seed, replicates)
    resid = d["j"] - d["h"]
    out = {"rows": len(resid), "items": len(set(d["item"])), "reasons": []}
    out.update({f"judge_human_{k}": v for k, v in correlations(d["j"], d["h"], iw).items()})
    out["mean_residual"] = mean_with_interval(resid, iw)
    gens = np.array([_norm(g) for g in d["gen"]], dtype=object)
    if not any(gens):
        out["reasons"].append("no --generator column: self- and family-bias need the model that wrote each response")
        return out
    own = gens == _norm(judge)
    fam_j = family(judge, fmap)
    fam = np.array([family(g, fmap) == fam_j for g in gens]) | own
    out["own_rows"], out["family_rows"] = int(own.sum()), int(fam.sum())
    sb = group_difference(resid, own, iw)
    if sb is None:
        out["reasons"].append(f"judge '{judge}' {'wrote every' if own.all() else 'wrote none of the'} rated "
                              "responses (its name as a --generator value): self-bias needs both own and others'")
    else:
        out["self_bias"] = sb
        ln = d["len"]
        if np.isfinite(ln).all():
            X = np.column_stack([np.ones(len(resid)), own.astype(float), ln / 1000.0])
            fit = ols_with_interval(resid, X, iw)
            if fit is not None:
                beta, lo, hi = fit
                out["self_bias_length_controlled"] = (beta[1], lo[1], hi[1], len(resid))
                out["length_coef_per_1000"] = (beta[2], lo[2], hi[2], len(resid))
            else:
                out["reasons"].append("length and own outputs are collinear: no length-controlled self-bias")
        else:
            out["reasons"].append("no length for every row (--response or --response-length): no "
                                  "length-controlled self-bias")
    fb = group_difference(resid, fam, iw)
    if fb is None:
        out["reasons"].append(f"judge '{judge}' (family {fam_j}) has {'only' if fam.all() else 'no'} same-family "
                              "responses: no family bias")
    else:
        out["family_bias"] = fb
    return out


DESCRIPTIONS = {
    "judge_human_spearman": "Spearman rank correlation of the judge's and people's scores of the same responses "
                            "(interval: Poisson bootstrap by item, re-ranked per replicate)",
    "judge_human_pearson": "Pearson correlation of the judge's and people's scores (interval: bootstrap by item)",
    "mean_residual": "mean of judge minus human score, both scaled into [0, 1]: {scale}",
    "self_bias": "mean residual (judge minus human, scaled) on the judge's own model's responses minus on other "
                 "generators' (Play Favorites, arXiv 2508.06709; own = generator named as the judge; bootstrap by item)",
    "family_bias": "the same for the judge's model family (own responses included; {family}; bootstrap by item)",
    "self_bias_length_controlled": "coefficient of 'own response' in the OLS fit residual ~ 1 + own + length "
                                   "({length}); interval: the same fit per bootstrap replicate by item",
}


def audit_ratings(path, *, item: str | None, judge_score: str | None, human_score: str | None,
                  response: str | None = None, response_length: str | None = None, generator: str | None = None,
                  judge_column: str | None = None, judge_range=None, human_range=None,
                  judge_model: str | None = None, family_map: dict | None = None, seed: int = 0,
                  engine_for=None, encoding: str = "utf-8", batch_size: int = 8192, flags=None,
                  replicates: int = DEFAULT_REPLICATES) -> AuditResult:
    """Pointwise ratings (module docstring): one result with one section per judge."""
    missing = [f for f, v in (("--item", item), ("--judge-score", judge_score), ("--human-score", human_score))
               if not v]
    if missing:
        raise InputError(f"--ratings needs {', '.join(missing)}", path=path,
                         expected="--item COL --judge-score COL --human-score COL")
    if path is None:
        raise InputError("no input: give FILE with --ratings", expected="a ratings file")
    jr, hr = parse_range(judge_range, "--judge-range"), parse_range(human_range, "--human-range")
    spec = RatingSpec(item, judge_score, human_score, response, response_length, generator, judge_column)
    if len(spec.judge_scores) > 1 and judge_column:
        raise InputError("several --judge-score columns (one per judge) and --judge-column (judges in rows) "
                         "are two layouts: give one", path=path, expected="--judge-score A,B or --judge-column COL")
    judge_name = judge_model or judge_score
    src = open_source(path, encoding=encoding, batch_size=batch_size)

    def batches():
        first = True
        for b in src.batches():
            if first:
                require_columns(b.schema.names, spec.roles(), path)
                first = False
            yield b

    eng = engine_for("preferences ratings")
    st = eng.run(batches(), [RatingCheck(spec, judge_name)], flags_path=flags)["ratings"]
    info = input_info(src)
    j, h = st["j"], st["h"]
    keep = np.isfinite(j) & np.isfinite(h) & (st["item"] != "") & (st["judge"] != "")
    both = np.isfinite(j) & np.isfinite(h)
    for why, m in (("judge score not a number or empty", ~np.isfinite(j)),
                   ("human score not a number or empty", np.isfinite(j) & ~np.isfinite(h)),
                   ("item id empty", both & (st["item"] == "")),
                   ("judge name (--judge-column) empty", both & (st["item"] != "") & (st["judge"] == ""))):
        if m.sum():
            info.skip(why, int(m.sum()))
    if not keep.any():
        raise InputError("no row has both scores numeric and an item id: nothing was audited", path=path,
                         column=judge_score, expected="numbers in --judge-score and --human-score")
    js, jrules = np.full(len(j), np.nan), []
    for k, c in enumerate(spec.judge_scores):  # each judge score column on its own scale
        m = st["jcol"] == k
        js[m], rule = _scale(np.where(keep[m], j[m], np.nan), jr, "--judge-range", c, st["row"][m], path)
        jrules.append(rule if len(spec.judge_scores) == 1 else f"{c}: {rule}")
    hs, hrule = _scale(np.where(keep, h, np.nan), hr, "--human-range", human_score, st["row"], path)
    info.rows_used = int(keep.sum())
    scale = f"judge scores by their {'; '.join(jrules)}; human scores by their {hrule}"
    length = ("characters of --response, per 1000" if not response_length and response else
              "--response-length in its own unit, per 1000" if response_length else "none given")
    fam_text = "--family-map, else the name rule in preferences.family" if family_map else \
        "the name rule in preferences.family (no --family-map)"
    desc = {k: v.format(scale=scale, family=fam_text, length=length) for k, v in DESCRIPTIONS.items()}

    top = AuditResult(kind="preferences", title="Preferences: pointwise ratings, judges against people",
                      input=info)
    top.params = {"mode": "ratings", "columns": {k.lstrip("-"): v for k, v in spec.roles().items() if v},
                  "scale": scale, "judge_range": jr, "human_range": hr, "resample_by": item,
                  "replicates": replicates, "seed": seed, "length": length, "family_rule": fam_text,
                  "self_rule": "generator name equal to the judge's (lower-cased, stripped)"}
    judges = list(dict.fromkeys(st["judge"][keep]))
    rows, labels, est, lo, hi, flagged = [], [], [], [], [], []
    for name in judges:
        sel = keep & (st["judge"] == name)
        d = {"j": js[sel], "h": hs[sel], "item": st["item"][sel], "gen": st["gen"][sel], "len": st["len"][sel]}
        f = judge_figures(d, name, family_map or {}, seed, replicates)
        sec = AuditResult(kind="preferences", title=f"Judge {name}: pointwise ratings against people", input=info)
        sec.params = {"judge": name, "scale": scale}
        for m in ("judge_human_spearman", "judge_human_pearson", "mean_residual", "self_bias", "family_bias",
                  "self_bias_length_controlled"):
            if m in f:
                t = f[m]
                ci = None if t[1] is None else (t[1], t[2])
                sec.add_metric(m, t[0], desc[m], ci=ci, n=t[3], group="ratings")
                top.add_metric(f"{m}[{name}]", t[0], f"{desc[m]} ({name})", ci=ci, n=t[3], group=name)
        for why in f["reasons"]:
            sec.add_finding("info", why)
        sb = f.get("self_bias")
        if sb is not None and sb[1] is not None and not sb[1] <= 0 <= sb[2]:
            flagged.append((name, sb, f.get("self_bias_length_controlled")))
            sec.add_finding("warning", f"Self-bias: {name} rates its own model's responses "
                            f"{'higher' if sb[0] > 0 else 'lower'} relative to people than others' "
                            f"(self_bias {_fmt(sb)}).", "self_bias")
        g = lambda k, i=0: None if k not in f or f[k][i] is None else f[k][i]  # noqa: E731
        rows.append([name, f["rows"], f["items"], f.get("own_rows"), g("judge_human_spearman"),
                     g("judge_human_pearson"), g("mean_residual"), g("self_bias"), g("self_bias", 1),
                     g("self_bias", 2), g("family_bias"), g("self_bias_length_controlled"),
                     g("length_coef_per_1000")])
        if sb is not None:
            labels.append(name), est.append(sb[0]), lo.append(sb[1]), hi.append(sb[2])
        top.sections.append(sec)
    top.add_table("judges", ["judge", "rows", "items", "own_rows", "spearman", "pearson", "mean_residual",
                             "self_bias", "self_bias_lo", "self_bias_hi", "family_bias",
                             "self_bias_length_controlled", "length_coef_per_1000"], rows,
                  "One row per judge: agreement with people and self-bias (scaled scores)")
    if labels:
        top.add_figure("forest", "Self-bias per judge: own minus others' mean residual (95% intervals)",
                       labels=labels, estimates=est, lo=lo, hi=hi, ref=0.0, x_label="self_bias (scaled score)")
    if flagged:
        parts = []
        for name, sb, lc in flagged:
            extra = f"; length-controlled {_fmt(lc)}" if lc is not None else ""
            parts.append(f"{name} {_fmt(sb)}{extra}")
        top.add_finding("warning", "Self-bias (the interval of self_bias excludes 0): " + "; ".join(parts) +
                        ". Judge minus human on the judge's own model's responses differs from the same on others'.",
                        f"self_bias[{flagged[0][0]}]")
    elif labels:
        top.add_finding("info", "No judge's self_bias interval excludes 0 (" +
                        "; ".join(f"{n} {_fmt((e, a, b))}" for n, e, a, b in zip(labels, est, lo, hi)) + ").")
    top.headline = [k for k in top.metrics if k.startswith(("judge_human_spearman[", "self_bias["))]
    return top


def _fmt(t) -> str:
    return f"{t[0]:+.3f}" + (f" [{t[1]:+.3f}, {t[2]:+.3f}]" if len(t) > 2 and t[1] is not None else "")
