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
- :func:`vendi`: the Vendi score (Friedman & Dieng 2023) with the cosine kernel: exp of the entropy of the
  eigenvalues of K / n, taken from the d x d matrix E^T E / n (same non-zero eigenvalues, O(n d^2)).
"""
from __future__ import annotations

import gzip
import io
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
    toks = " ".join(texts).split(" ")
    _, ids = np.unique(np.asarray(toks, dtype=object).astype(str), return_inverse=True)
    ids = ids.astype(np.int64)
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
    C = (E * w[:, None]).T @ E / w.sum()
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
