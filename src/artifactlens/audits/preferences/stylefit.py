"""Style control: a logistic (Bradley-Terry style) fit of a verdict on A-minus-B style differences.

As Chatbot Arena's style control and length-controlled AlpacaEval do for their leaderboards, here for the
user's pairs, for the judge and for people side by side::

    P(A wins) = sigmoid(b0 + sum_k beta_k * x_k [+ theta_model(A) - theta_model(B)])

``b0`` is the position effect (the response shown first); ``x_k`` are style differences (A minus B): length
in characters, markdown headers, bold spans, list items, code blocks (each as ``(a-b)/(a+b)``, 0 when both
are 0), lexical overlap with the prompt and with the reference (A minus B), the entailment score where
given and same-family-as-judge (+1/-1/0). Each column is divided by its standard deviation, so a
coefficient is the change in log-odds per SD of the difference. With model columns (3 to 60 models), a
Bradley-Terry strength per model is fitted beside the style terms (the content the style terms are held
against), with an L2 penalty of 1 on the strengths only (a N(0, 1) prior: a model that never wins would
otherwise run to minus infinity); the style terms are unpenalised maximum likelihood.

The judge's choice is its first-order choice, as shown (the combined verdict of both orders would hide
the position term). Ties are left out (a tie is no choice). The fit is maximum likelihood by Newton-Raphson on all bootstrap
replicates at once: the replicate weights are the Poisson weights of each pair's group (the prompt) and
the seed (:func:`artifactlens.stats.poisson_weights`), so the gradient of every replicate is one matrix
product and each Hessian one batched ``einsum`` (``bench/bench_style_control.py`` measures it against
one statsmodels ``Logit`` fit per replicate, which gives the same point estimate: tests compare them).

Unstable fits are reported, not hidden: (quasi-)separation shows as a coefficient beyond
:data:`SEPARATION_LOGIT` or Newton not converging; a coefficient whose 95% interval is wider than
:data:`WIDE_INTERVAL` log-odds per SD is called unstable.

Held at zero: the judge's choice of a pair is read as ``content + style + noise > 0`` (logistic noise,
content = the model strengths, 0 without model columns). The probability that the choice reverses when
style (position included) is set to zero is ``(F(-c) - F(-c-s)) / (1 - F(-c-s))`` for a choice of A
(``F`` the logistic CDF, ``s`` the pair's style term, ``c`` its content term; mirrored for B): a choice
made against its style never flips. The expected share of flipped choices is the mean of these; a row's
debiased label is the other response where that probability exceeds 1/2, and the debiased agreement with
people counts each pair's agreement under both labels weighted by the probabilities.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...stats import DEFAULT_REPLICATES, poisson_weights

SEPARATION_LOGIT = 15.0
WIDE_INTERVAL = 4.0
MAX_ITER = 50
COVARIATES = {  # name -> label
    "length": "length (characters)", "headers": "markdown headers", "bold": "bold spans", "lists": "list items",
    "code": "code blocks", "overlap_prompt": "overlap with the prompt", "overlap_reference": "overlap with the reference",
    "entailment": "entailment of the reference", "same_family": "same family as the judge",
}


def norm_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(a - b) / (a + b)``, 0 where both are 0 (counts and lengths are >= 0)."""
    s = a + b
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s > 0, (a - b) / np.where(s > 0, s, 1.0), 0.0)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def newton_logit(X: np.ndarray, y: np.ndarray, W: np.ndarray | None = None, max_iter: int = MAX_ITER,
                 tol: float = 1e-8, penalty: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood logistic regression for every weight vector at once.

    ``X`` (n, p) with its own intercept column; ``y`` (n,) 0/1; ``W`` (R, n) weights (None: one replicate of
    ones); ``penalty`` (p,) an L2 penalty per coefficient (0 = none). Returns ``beta`` (R, p) and
    ``converged`` (R,) bool. A singular Hessian gets a 1e-9 ridge so the other replicates go on; a
    replicate whose coefficients pass 50 is stopped (separation).
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    n, p = X.shape
    W = np.ones((1, n)) if W is None else np.asarray(W, dtype=np.float64)
    R = W.shape[0]
    beta = np.zeros((R, p))
    done = np.zeros(R, dtype=bool)
    lam = np.zeros(p) if penalty is None else np.asarray(penalty, dtype=np.float64)
    eye = np.eye(p) * 1e-9 + np.diag(lam)
    Xy = (W * y[None, :]) @ X  # (R, p): the part of the gradient that does not move
    pairs = np.einsum("ni,nj->nij", X, X).reshape(n, p * p) if p * p * n <= 5e7 else None
    for _ in range(max_iter):
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        b = beta[act]
        eta = b @ X.T  # (r, n)
        mu = _sigmoid(eta)
        Wa = W[act]
        grad = Xy[act] - (Wa * mu) @ X - b * lam
        v = Wa * mu * (1.0 - mu)
        H = (v @ pairs).reshape(-1, p, p) if pairs is not None else np.einsum("rn,ni,nj->rij", v, X, X)
        step = np.linalg.solve(H + eye, grad[:, :, None])[:, :, 0]
        beta[act] = b + step
        small = np.max(np.abs(step), axis=1) < tol * (1.0 + np.max(np.abs(b), axis=1))
        big = np.max(np.abs(beta[act]), axis=1) > 50.0  # separated: stop, the estimate runs away
        done[act[small | big]] = True
    converged = done & (np.max(np.abs(beta), axis=1) <= 50.0)
    return beta, converged


@dataclass
class StyleFit:
    """One fit (judge or people). ``coef``/``lo``/``hi`` by covariate name (``position`` = intercept)."""

    who: str
    names: list
    coef: dict
    lo: dict
    hi: dict
    n: int
    scales: dict
    models: dict = field(default_factory=dict)  # model -> Bradley-Terry strength
    warnings: list = field(default_factory=list)


def design(cov: dict[str, np.ndarray], model_a=None, model_b=None, max_models: int = 60):
    """(X without intercept, style names, scales, model names) from the covariate columns; columns with no
    variation are dropped (they are listed as dropped by the caller)."""
    names, cols, scales = [], [], {}
    for k in COVARIATES:
        x = cov.get(k)
        if x is None:
            continue
        x = np.nan_to_num(np.asarray(x, dtype=np.float64))
        sd = float(np.std(x))
        if sd <= 1e-12:
            continue
        names.append(k)
        cols.append(x / sd)
        scales[k] = sd
    models = []
    if model_a is not None and model_b is not None:
        models = sorted(set(map(str, model_a)) | set(map(str, model_b)))
        if len(models) > max_models or len(models) < 3:
            models = []
    n = len(next(iter(cov.values())))
    X = np.column_stack(cols) if cols else np.zeros((n, 0))
    if models:
        idx = {m: i for i, m in enumerate(models)}
        M = np.zeros((n, len(models)))
        ia = np.array([idx[str(m)] for m in model_a])
        ib = np.array([idx[str(m)] for m in model_b])
        M[np.arange(n), ia] += 1.0
        M[np.arange(n), ib] -= 1.0
        X = np.hstack([X, M[:, 1:]])  # the first model's strength is 0 (identifiable)
    return X, names, scales, models


def fit(who: str, cov: dict, choice: np.ndarray, keys: np.ndarray, seed: int = 0,
        replicates: int = DEFAULT_REPLICATES, model_a=None, model_b=None) -> StyleFit | None:
    """Fit on the non-tie choices; intervals from the Poisson bootstrap by ``keys`` (the prompt)."""
    choice = np.asarray(choice, dtype=object)
    use = np.isin(choice, ["a", "b"])
    if use.sum() < 10:
        return None
    sub = {k: np.asarray(v)[use] for k, v in cov.items() if v is not None}
    ma = None if model_a is None else np.asarray(model_a, dtype=object)[use]
    mb = None if model_b is None else np.asarray(model_b, dtype=object)[use]
    X, names, scales, models = design(sub, ma, mb)
    X = np.hstack([np.ones((X.shape[0], 1)), X])
    y = (choice[use] == "a").astype(np.float64)
    W = poisson_weights(np.asarray(keys)[use], seed, replicates).T.astype(np.float64)
    pen = np.r_[np.zeros(1 + len(names)), np.ones(X.shape[1] - 1 - len(names))]
    beta, conv = newton_logit(X, y, np.vstack([np.ones((1, X.shape[0])), W]), penalty=pen)
    point = beta[0]
    head = 1 + len(names)
    reps, ok = beta[1:], conv[1:]
    labels = ["position", *names]
    out = StyleFit(who, labels, {}, {}, {}, int(use.sum()), scales)
    warn = []
    if not conv[0] or np.max(np.abs(point[:head])) > SEPARATION_LOGIT:
        warn.append(f"{who}: the fit does not converge or a coefficient exceeds {SEPARATION_LOGIT:g} log-odds "
                    "(separation: a covariate alone decides the choices); its coefficients are not reliable")
    good = reps[ok] if ok.sum() >= 10 else None
    for j, lab in enumerate(labels):
        out.coef[lab] = float(point[j])
        if good is not None:
            lo, hi = np.quantile(good[:, j], [0.025, 0.975])
            out.lo[lab], out.hi[lab] = float(lo), float(hi)
            if hi - lo > WIDE_INTERVAL:
                warn.append(f"{who}: the interval of {lab} is [{lo:.2f}, {hi:.2f}], wider than {WIDE_INTERVAL:g} "
                            "log-odds per SD (too few pairs or collinear covariates)")
        else:
            out.lo[lab] = out.hi[lab] = None
    if ok.sum() < len(ok):
        warn.append(f"{who}: {len(ok) - int(ok.sum())} of {len(ok)} bootstrap replicates did not converge "
                    "(left out of the intervals)")
    if models:
        strengths = np.r_[0.0, point[1 + len(names):]]
        out.models = {m: float(s) for m, s in zip(models, strengths)}
    out.warnings = warn
    return out


def style_term(f: StyleFit, cov: dict, n: int) -> np.ndarray:
    """Each pair's style log-odds ``b0 + sum beta_k x_k`` (covariates scaled as in the fit)."""
    s = np.full(n, f.coef["position"])
    for k in f.names[1:]:
        s = s + f.coef[k] * np.nan_to_num(np.asarray(cov[k], dtype=np.float64)) / f.scales[k]
    return s


def content_term(f: StyleFit, model_a, model_b, n: int) -> np.ndarray:
    if not f.models or model_a is None:
        return np.zeros(n)
    return np.array([f.models.get(str(a), 0.0) - f.models.get(str(b), 0.0) for a, b in zip(model_a, model_b)])


def flip_probability(choice: np.ndarray, s: np.ndarray, c: np.ndarray) -> np.ndarray:
    """P(the choice reverses with style at zero) per pair; NaN for ties and missing choices."""
    F = _sigmoid
    choice = np.asarray(choice, dtype=object)
    out = np.full(len(choice), np.nan)
    a, b = choice == "a", choice == "b"
    with np.errstate(divide="ignore", invalid="ignore"):
        pa = (F(-c) - F(-c - s)) / (1.0 - F(-c - s))  # chose A: latent c+s+e > 0 but c+e < 0
        pb = (F(-c) - F(-c - s)) / F(-c - s)  # chose B: c+s+e < 0 but c+e > 0 (negative when s < 0)
    out[a] = np.clip(pa[a], 0.0, 1.0)
    out[b] = np.clip(-pb[b], 0.0, 1.0)
    return out
