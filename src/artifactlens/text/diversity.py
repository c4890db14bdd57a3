"""Corpus diversity as the ``diversity`` package (Shaib et al. 2024, arXiv 2403.00553) computes it, fast.

The package does not install beside this project (it pins sentence-transformers < 6 and transformers < 5, and
its package face imports ``openai``), so its definitions are reproduced here, each equal to the package's on
the same texts (tests/test_text_diversity.py checks them against independent oracles written from its code):

- :func:`compression_ratio`: bytes of the texts joined by one space over the size of the package's file,
  which is ``gzip.compress(joined)`` written again through ``gzip.GzipFile("compressed.gz")`` (a gzip of a
  gzip, as the package does), rounded to 3 decimals. Done in memory, no temp files.
- :func:`ngram_diversity`: the sum over n = 1..4 of distinct n-grams / all n-grams of the texts joined by one
  space and split at single spaces (n-grams cross text boundaries, as in the package), rounded to 3 decimals.
  Tokens become integer ids and n-grams integer keys (numpy ``unique``), not tuples (nltk).
- :func:`homogenization_rougel`: the mean ROUGE-L F1 over all ordered pairs of different texts (the
  package's ``homogenization_score(measure='rougel')``, rouge-score's tokenizer, no stemmer). ROUGE-L F1 is
  2 LCS / (len a + len b), symmetric, so each unordered pair is scored once; the LCS comes from rapidfuzz
  (``LCSseq`` on token ids mapped to characters) instead of rouge-score's pure-Python table.
- :func:`embedding_homogenization`: mean pairwise cosine of unit embeddings (1 - ``corpus.embedding_diversity``).
- :func:`self_bleu`: the package's ``homogenization_score(measure='bleu')`` figure per text: text i as the
  one reference, all other texts of the side as predictions, corpus BLEU as HF ``evaluate``'s ``bleu``
  computes it (the TensorFlow-NMT ``compute_bleu``: clipped 1..4-gram matches summed over the predictions,
  no smoothing, brevity penalty from summed lengths; sacrebleu's 13a tokens, reproduced in :func:`tokenize_13a`),
  averaged over i. The package then divides that mean by n - 1 once more (its own comment: "Need to double
  check that this is right"), which makes the figure shrink with the corpus size: ``package=True`` gives
  that number, the default the undivided mean. Exact and linear in the number of n-grams, not pairwise:
  the clipped matches of text i against all others are sum_g sum_{k <= c_ig} D_k(g) - (i's own n-grams),
  D_k(g) = the texts holding n-gram g at least k times.
- :func:`vendi`: the Vendi score (Friedman & Dieng 2023) with the cosine kernel: exp of the entropy of the
  eigenvalues of K / n, taken from the smaller of K / n and the d x d matrix E^T E / n (same non-zero
  eigenvalues; O(n d^2) at most).
"""
from __future__ import annotations

import gzip
import io
import re
from typing import Sequence

import numpy as np


def compression_ratio(texts: Sequence[str]) -> float:
    """The package's ``compression_ratio(texts, 'gzip')``."""
    joined = " ".join(texts).encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile("compressed.gz", "wb", fileobj=buf, mtime=0) as f:
        f.write(gzip.compress(joined, mtime=0))
    return round(len(joined) / len(buf.getvalue()), 3)


def ngram_diversity(texts: Sequence[str], num_n: int = 4) -> float:
    """The package's ``ngram_diversity_score(texts, num_n)``."""
    ids = _ids(" ".join(texts).split(" "))
    base = np.int64(ids.max() + 1 if len(ids) else 1)
    score = 0.0
    key = np.zeros(len(ids), dtype=np.int64)
    for n in range(1, num_n + 1):
        m = len(ids) - n + 1
        if m <= 0:
            raise ZeroDivisionError(f"no {n}-grams in {len(ids)} tokens")
        # exact keys while they fit in 63 bits; a 64-bit mix of the previous key beyond (collisions ~1e-9)
        if float(base) ** n < 2 ** 62:
            key = key[:m] * base + ids[n - 1:n - 1 + m]
        else:
            key = (key[:m] * np.int64(0x9E3779B1) ^ ids[n - 1:n - 1 + m])
        score += len(np.unique(key)) / m
    return round(score, 3)


def _ids(tokens: list[str]) -> np.ndarray:
    """Integer ids of string tokens (pandas' hash table: several times faster than sorting strings)."""
    import pandas as pd
    return pd.factorize(pd.Series(tokens, dtype=object), sort=False)[0].astype(np.int64)


def _token_strings(texts: Sequence[str]) -> list[str]:
    """Each text as rouge-score's tokens, mapped one token -> one character (for rapidfuzz's LCS)."""
    from rouge_score import tokenize
    vocab: dict[str, str] = {}
    out = []
    for t in texts:
        chars = []
        for w in tokenize.tokenize(t, None):
            c = vocab.get(w)
            if c is None:
                k = len(vocab) + 0x100
                c = vocab[w] = chr(k if k < 0xD800 else k + 0x800)  # skip the surrogates
            chars.append(c)
        out.append("".join(chars))
    return out


def rougel_matrix(texts: Sequence[str]) -> np.ndarray:
    """ROUGE-L F1 of every pair of ``texts`` (n, n); the diagonal is 1 where a text has a token."""
    from rapidfuzz.distance import LCSseq
    from rapidfuzz.process import cdist
    s = _token_strings(texts)
    lcs = cdist(s, s, scorer=LCSseq.similarity, dtype=np.int32, workers=1).astype(np.float64)
    L = np.array([len(x) for x in s], dtype=np.float64)
    tot = L[:, None] + L[None, :]
    return np.divide(2 * lcs, tot, out=np.zeros_like(lcs), where=tot > 0)


def homogenization_rougel(texts: Sequence[str] | None = None, matrix: np.ndarray | None = None) -> float:
    """The package's ``homogenization_score(texts, 'rougel')`` (rounded like it; 1 texts -> undefined)."""
    S = rougel_matrix(texts) if matrix is None else matrix
    n = len(S)
    if n < 2:
        return float("nan")
    mean = (S.sum() - np.trace(S)) / (n * (n - 1))
    return round(float(mean) if mean != 0 else 1.0, 3)  # the package: all-zero scores count as identical


def pair_mean_interval(S: np.ndarray, seed: int = 0, replicates: int = 200, keys=None):
    """Mean off-diagonal entry of a symmetric pair matrix with a Poisson-bootstrap interval over texts
    (weights w: sum_{i != j} w_i w_j S_ij / sum_{i != j} w_i w_j, exact per replicate). (value, lo, hi)."""
    from ..stats import hash_keys, poisson_weights
    n = len(S)
    if n < 2:
        return float("nan"), None, None
    W = poisson_weights(hash_keys(np.arange(n) if keys is None else keys), seed, replicates).astype(np.float64)
    d = np.diag(S)
    num = np.einsum("ib,ij,jb->b", W, S, W) - (W ** 2 * d[:, None]).sum(0)
    den = W.sum(0) ** 2 - (W ** 2).sum(0)
    ok = den > 0
    reps = num[ok] / den[ok]
    value = (S.sum() - d.sum()) / (n * (n - 1))
    lo, hi = np.quantile(reps, [0.025, 0.975])
    return float(value), float(lo), float(hi)


def embedding_homogenization(E: np.ndarray) -> float:
    """Mean cosine over pairs of different rows of unit vectors ``E`` (n, d)."""
    n = len(E)
    if n < 2:
        return float("nan")
    S = E.sum(axis=0, dtype=np.float64)
    return float((S @ S - n) / (n * (n - 1)))


def vendi(E: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Vendi score of unit vectors ``E`` (n, d) with the cosine kernel (optionally row weights)."""
    E = np.asarray(E, dtype=np.float64)
    w = np.ones(len(E)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.sum() <= 0:
        return float("nan")
    sw = np.sqrt(w / w.sum())[:, None] * E
    # the same non-zero eigenvalues from the smaller of the n x n kernel and the d x d covariance
    C = sw @ sw.T if len(E) < E.shape[1] else sw.T @ sw
    lam = np.clip(np.linalg.eigvalsh(C), 0, None)
    lam = lam[lam > 1e-12]
    lam = lam / lam.sum()
    return float(np.exp(-(lam * np.log(lam)).sum()))


def vendi_interval(E: np.ndarray, keys=None, groups: int = 20):
    """Vendi score with a delete-a-group jackknife interval (rows in ``groups`` groups by a hash of
    ``keys``): a resampling bootstrap would repeat rows, and repeats lower the score. (value, lo, hi)."""
    from ..stats import hash_keys
    if len(E) < 2 * groups:
        return vendi(E), None, None
    g = hash_keys(np.arange(len(E)) if keys is None else keys) % np.uint64(groups)
    reps = np.array([vendi(E[g != k]) for k in range(groups)])
    value = vendi(E)
    se = float(np.sqrt((groups - 1) / groups * ((reps - reps.mean()) ** 2).sum()))
    return value, value - 1.96 * se, value + 1.96 * se


def duplicates(texts: Sequence[str]) -> int:
    """Texts that repeat an earlier text of the same list exactly (after stripping outer whitespace)."""
    seen: set = set()
    dup = 0
    for t in texts:
        k = (t or "").strip()
        dup += k in seen
        seen.add(k)
    return dup


# sacrebleu's first 13a rule, r"([\{-\~\[-\` -\&\(-\+\:-\@\/])" -> r" \1 ", as one str.translate
_13A_SPACED = {c: f" {chr(c)} " for r in ((0x7B, 0x7E), (0x5B, 0x60), (0x20, 0x26), (0x28, 0x2B), (0x3A, 0x40),
                                          (0x2F, 0x2F)) for c in range(r[0], r[1] + 1)}
_13A = ((re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),
        (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),
        (re.compile(r"([0-9])(-)"), r"\1 \2 "))


def _13a_line(line: str) -> str:
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = line.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    return f" {line} "


def tokenize_13a(line: str) -> list[str]:
    """sacrebleu's ``13a`` tokenizer (mteval-v13a, the tokenizer of HF evaluate's ``bleu``), split."""
    return _13a_join([_13a_line(line or "")])[0]


def tokenize_13a_all(texts: Sequence[str]) -> list[list[str]]:
    """:func:`tokenize_13a` of every text, in one pass over the texts joined by NUL (every rule looks
    at most one character either side and each text is padded with spaces, so no rule crosses a text)."""
    lines = [_13a_line(t or "") for t in texts]
    if any("\0" in t for t in lines):  # a NUL of its own: text by text
        return [x for t in lines for x in _13a_join([t])]
    return _13a_join(lines)


def _13a_join(lines: list[str]) -> list[list[str]]:
    big = "\0".join(lines).translate(_13A_SPACED)
    for rx, rep in _13A:
        big = rx.sub(rep, big)
    return [big.split()] if len(lines) == 1 else [part.split() for part in big.split("\0")]


def _ngram_keys(ids: np.ndarray, doc: np.ndarray, n: int, base: np.int64):
    """Integer keys of the n-grams inside each text (never across texts) and the text of each."""
    m = len(ids) - n + 1
    if m <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    key = np.zeros(m, dtype=np.int64)
    for k in range(n):
        if float(base) ** (k + 1) < 2 ** 62:
            key = key * base + ids[k:k + m]
        else:
            key = key * np.int64(0x9E3779B1) ^ ids[k:k + m]
    same = doc[:m] == doc[n - 1:n - 1 + m]
    return key[same], doc[:m][same]


def self_bleu_per_text(texts: Sequence[str], max_order: int = 4) -> np.ndarray:
    """Per text i: the corpus BLEU of all other texts (predictions) against text i (the one reference),
    as HF evaluate's ``bleu`` computes it. (n,) floats; nan for a text without tokens."""
    toks = tokenize_13a_all(texts)
    n = len(toks)
    lens = np.array([len(t) for t in toks], dtype=np.float64)
    if n < 2:
        return np.full(n, np.nan)
    flat = [w for t in toks for w in t]
    if not flat:
        return np.full(n, np.nan)
    ids = _ids(flat)
    doc = np.repeat(np.arange(n), lens.astype(np.int64))
    base = np.int64(ids.max() + 1)
    log_p = np.zeros(n)
    zero = np.zeros(n, dtype=bool)
    for order in range(1, max_order + 1):
        key, kd = _ngram_keys(ids, doc, order, base)
        own = np.maximum(lens - order + 1, 0)  # text i's n-grams (its matches against itself)
        match = np.zeros(n)
        if len(key):
            import pandas as pd
            g_all = pd.factorize(key, sort=False)[0].astype(np.int64)
            pairs, c = np.unique(g_all * np.int64(n) + kd, return_counts=True)  # (n-gram, text) -> count
            g, gd = pairs // n, pairs % n
            ng = int(g.max()) + 1
            while len(c):  # k = 1, 2, ...: D_k(g) = texts holding g at least k times
                Dk = np.bincount(g, minlength=ng)
                match += np.bincount(gd, weights=Dk[g], minlength=n)
                keep = c > 1
                g, gd, c = g[keep], gd[keep], c[keep] - 1
        match -= own
        possible = own.sum() - own
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(possible > 0, match / possible, 0.0)
        zero |= p <= 0
        log_p += np.log(np.where(p > 0, p, 1.0)) / max_order
    trans = lens.sum() - lens
    ref = (n - 1) * lens
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = trans / ref
        bp = np.where(ratio > 1.0, 1.0, np.exp(1 - 1 / ratio))
    out = np.where(zero, 0.0, np.exp(log_p) * bp)
    return np.where(lens > 0, out, np.nan)


def self_bleu(texts: Sequence[str], package: bool = False) -> float:
    """Mean over texts of :func:`self_bleu_per_text`; ``package=True``: the ``diversity`` package's number
    (that mean divided by n - 1, 1.0 when it is 0, rounded to 3 decimals)."""
    per = self_bleu_per_text(texts)
    if len(per) < 2:
        return float("nan")
    if package:
        v = float(np.sum(per / (len(per) - 1)))
        return round((v if v != 0 else len(per)) / len(per), 3)
    return float(np.nanmean(per))


def word_count(texts: Sequence[str]) -> np.ndarray:
    """Whitespace words per text."""
    return np.array([len((t or "").split()) for t in texts])


def truncate_words(texts: Sequence[str], length: int) -> list[str]:
    """Each text cut to its first ``length`` whitespace words, joined by single spaces."""
    return [" ".join((t or "").split()[:length]) for t in texts]
