"""Exact and near-duplicate tasks across the whole stream (within and across sources).

A task is the instruction plus its input, lower-cased, as its words (runs of letters and digits, Polars'
``extract_all``: Rust regex, ~3x RE2 in pyarrow) joined by single spaces. *Exact* duplicates share that text's 64-bit hash
(``polars.Series.hash``: fixed seeds, stable within one Polars version, which is all a run needs). *Near* duplicates share a
MinHash-LSH band: the MinHash of the task's set of words and word bigrams (Broder 1997; the scheme of ``datasketch.MinHash``,
here vectorised with NumPy over a whole Arrow batch because datasketch hashes row by row, ~100x slower;
the permutations are computed once per distinct word of a batch)
with ``bands`` x ``rows_per_band`` permutations: a pair sharing a band is a candidate (with 4 x 6, caught
with probability ``1 - (1 - J**6)**4``: 96 % at Jaccard 0.9, 38 % at 0.7), and it is kept as a near
duplicate when its signatures agree on at least ``min_jaccard`` (0.8) of the 24 permutations, which
removes the many chance band collisions among short templated prompts. A near duplicate must also have
the same input (case and spacing aside): "Classify the animal: whale" and "...: frog" are different tasks.

Two steps, so the engine's process pool can run the costly one: :meth:`Deduplicator.prepare` (pure, per
batch: hashes, band keys, signatures) runs in ``map``; :meth:`Deduplicator.lookup` (the "seen before"
state, in input order) runs in the check's ``sequential`` step: sorted-key lookups only.

The first occurrence is kept; later ones are flagged with the row they repeat. Memory: one sorted
``uint64`` key and one position per distinct task and band (16 bytes x (1 + bands)) plus a 16-bit copy of
each row's signature (48 bytes), its row and input hash: ~150 bytes per row, however long the texts.
Keys are kept in sorted runs merged two by two (a log-structured set), so adding a batch costs
O(batch log rows), not a re-sort of everything seen.
"""
from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from ...engine import Detector
from ...plain import state_type

_MASK32 = np.uint64(0xFFFFFFFF)
_SEED = 0x5EED


def hash_strings(s: pl.Series) -> np.ndarray:
    """``(n,)`` uint64 hash of each string (Polars, fixed seed)."""
    return s.hash(_SEED).to_numpy()


def _distinct(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(h, return_inverse=True)`` for 32-bit values held in uint64, by one (SIMD) sort of
    ``value << 32 | position`` instead of an argsort (~2x faster)."""
    n = len(h)
    s = np.sort((h << np.uint64(32)) | np.arange(n, dtype=np.uint64))
    hs = s >> np.uint64(32)
    new = np.empty(n, bool)
    new[:1] = True
    np.not_equal(hs[1:], hs[:-1], out=new[1:])
    inverse = np.empty(n, np.int64)
    inverse[(s & _MASK32).astype(np.int64)] = np.cumsum(new) - 1
    return hs[new], inverse


def _unique(keys: np.ndarray):
    """``np.unique(keys, return_index=True, return_inverse=True)`` through the (faster) unstable argsort:
    the first index of each value is the least position of its group."""
    order = np.argsort(keys)
    s = keys[order]
    new = np.empty(len(s), bool)
    new[:1] = True
    np.not_equal(s[1:], s[:-1], out=new[1:])
    group = np.cumsum(new) - 1
    first = np.full(int(group[-1]) + 1, len(keys), np.int64)
    np.minimum.at(first, group, order)
    inverse = np.empty(len(keys), np.int64)
    inverse[order] = group
    return s[new], first, inverse


@state_type("instructions.SeenKeys", fields=("runs",))
class SeenKeys:
    """A set of uint64 keys with the row (or stream position) that first held each."""

    def __init__(self):
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []  # sorted (keys, rows), disjoint, sizes halving

    def __len__(self) -> int:
        return sum(len(k) for k, _ in self.runs)

    def _find(self, keys: np.ndarray) -> np.ndarray:
        out = np.full(len(keys), -1, np.int64)
        for k, r in self.runs:
            pos = np.searchsorted(k, keys).clip(max=k.size - 1)
            hit = k[pos] == keys
            out[hit] = r[pos[hit]]
        return out

    def first_rows(self, keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """For each key the row that held it first (earlier batches or earlier in this one), else -1;
        then remember the new keys."""
        if len(keys) == 0:
            return np.full(0, -1, np.int64)
        uniq, first, inverse = _unique(keys)
        out = self._find(uniq)[inverse]  # sorted, distinct queries: cache-friendly binary searches
        inner = rows[first][inverse]
        out = np.where((out < 0) & (inner != rows), inner, out)
        new = out[first] < 0
        if new.any():
            self.runs.append((uniq[new], rows[first][new]))
            while len(self.runs) > 1 and len(self.runs[-2][0]) < 2 * len(self.runs[-1][0]):
                (k1, r1), (k2, r2) = self.runs.pop(), self.runs.pop()
                k, r = np.concatenate([k2, k1]), np.concatenate([r2, r1])
                order = np.argsort(k, kind="stable")  # two sorted runs: a linear merge in timsort
                self.runs.append((k[order], r[order]))
        return out


@state_type("instructions.Store", fields=("data", "n"))
class Store:
    """A growable ``(n, ...)`` array (amortised appends), indexed by stream position."""

    def __init__(self, dtype, width: tuple = ()):
        self.data, self.n = np.empty((1024, *width), dtype), 0

    def append(self, x: np.ndarray) -> None:
        if self.n + len(x) > len(self.data):
            grown = np.empty((max(2 * len(self.data), self.n + len(x)), *self.data.shape[1:]), self.data.dtype)
            grown[:self.n] = self.data[:self.n]
            self.data = grown
        self.data[self.n:self.n + len(x)] = x
        self.n += len(x)

    def __getitem__(self, idx):
        return self.data[:self.n][idx]


@state_type("instructions.Deduplicator")  # its seen keys are the state kept between batches (--resume)
class Deduplicator:
    """``score(batch, rows) -> (score, reasons)``: 1.0 exact duplicate, 0.8 near duplicate, else 0.
    (``score`` = :meth:`prepare` then :meth:`lookup`.)"""

    name, family, threshold, higher_is_worse, strict = "duplicate", "duplicate", 0.5, True, False
    description = "exact or near duplicate of an earlier task (instruction + input)"
    decide = Detector.decide  # the one score-then-threshold rule (a sequential detector: see find)

    def __init__(self, near: bool = True, bands: int = 4, rows_per_band: int = 6, max_tokens: int = 48,
                 min_jaccard: float = 0.8, seed: int = 1):
        self.near, self.bands, self.r, self.max_tokens, self.min_jaccard = near, bands, rows_per_band, max_tokens, min_jaccard
        self.pos = 0
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, 2**63, size=bands * rows_per_band, dtype=np.uint64) | np.uint64(1)
        self.b = rng.integers(0, 2**63, size=bands * rows_per_band, dtype=np.uint64)
        self.mix = rng.integers(1, 2**63, size=rows_per_band, dtype=np.uint64) | np.uint64(1)
        self.exact = SeenKeys()
        self.band_seen = [SeenKeys() for _ in range(bands)]
        self.sigs, self.row_store, self.inp_store = (Store(np.uint16, (bands * rows_per_band,)), Store(np.int64),
                                                     Store(np.uint64))

    def config(self) -> dict:
        return {"threshold": self.threshold, "higher_is_worse": True, "description": self.description,
                "family": self.family, "minhash_bands": self.bands, "minhash_rows_per_band": self.r,
                "min_jaccard": self.min_jaccard}

    @staticmethod
    def words(batch: pa.RecordBatch) -> pl.Series:
        """Each task's lower-cased words (runs of letters and digits): ``list[str]`` per row."""
        task = pl.from_arrow(pc.binary_join_element_wise(batch.column("instruction"), batch.column("input"), " "))
        return task.str.to_lowercase().str.extract_all(r"[\p{L}\p{N}]+")

    @classmethod
    def normalise(cls, batch: pa.RecordBatch) -> pl.Series:
        """The task text compared for exact duplicates: its words joined by single spaces."""
        return cls.words(batch).list.join(" ")

    def signatures(self, words: pl.Series):
        """``(n, bands)`` uint64 band keys and ``(n, bands*r)`` uint16 MinHash signatures of each text's
        set of words and word bigrams (``words``: from :meth:`words`; zeros for texts without words). Permutation j of a word w is the high half
        of ``a_j * hash(w) + b_j`` (multiply-shift), computed once per distinct word of the batch; of a
        bigram (w1, w2) it is ``pi_j(w1) XOR rotl(pi_j(w2), 13)`` (order matters: "57 - 72" is not
        "72 - 57"). Texts are sorted longest first and the minima taken position by position over the
        prefix of texts that have a word there: ``max_tokens`` vectorised steps, no per-text loop, no
        ragged ``reduceat``."""
        n = len(words)
        toks = words.list.head(self.max_tokens)
        lens = toks.list.len().to_numpy().astype(np.int64)
        out = np.zeros((n, self.bands), np.uint64)
        sig = np.zeros((n, self.bands * self.r), np.uint16)
        if lens.sum() == 0:
            return out, sig
        flat = hash_strings(toks.filter(pl.Series(lens > 0)).explode())  # (an empty list explodes to a null)
        uniq, word = _distinct(flat & _MASK32)  # permute each distinct word once
        with np.errstate(over="ignore"):  # (V, k)
            perm = ((uniq.astype(np.uint64)[:, None] * self.a[None, :] + self.b[None, :]) >> np.uint64(32)).astype(np.uint32)
        rot = (perm << np.uint32(13)) | (perm >> np.uint32(19))
        nonempty = np.flatnonzero(lens > 0)
        L = lens[nonempty]
        order = np.argsort(-L, kind="stable")  # longest first: the texts with a t-th word are a prefix
        Ls = L[order]
        starts = np.concatenate([[0], np.cumsum(L)[:-1]])[order]
        prev = np.take(perm, word[starts], axis=0)  # (texts, k): permuted first words
        m = prev.copy()
        for t, c in enumerate(np.searchsorted(-Ls, -np.arange(1, int(Ls[0])), side="left"), start=1):
            w = word[starts[:c] + t]  # the t-th word of the c texts that have one
            cur = np.take(perm, w, axis=0)
            np.minimum(m[:c], cur, out=m[:c])  # word
            np.minimum(m[:c], prev[:c] ^ np.take(rot, w, axis=0), out=m[:c])  # bigram (t-1, t)
            prev = cur
        mins = np.empty_like(m)
        mins[order] = m
        mins = mins.astype(np.uint64)
        with np.errstate(over="ignore"):
            for band in range(self.bands):
                sl = slice(band * self.r, (band + 1) * self.r)
                out[nonempty, band] = (mins[:, sl] * self.mix[None, :]).sum(axis=1) + np.uint64(band + 1)
        sig[nonempty] = (mins & np.uint64(0xFFFF)).astype(np.uint16)
        return out, sig

    def prepare(self, batch: pa.RecordBatch) -> dict:
        """The pure, per-batch part: task hashes, emptiness, and (``near``) band keys, signatures and
        input hashes."""
        words = self.words(batch)
        prep = {"keys": hash_strings(words.list.join(" ")), "empty": words.list.len().to_numpy() == 0}
        if self.near:
            prep["bandkeys"], prep["sig"] = self.signatures(words)
            prep["inp"] = hash_strings(pl.from_arrow(batch.column("input")).str.to_lowercase().str.strip_chars())
        return prep

    def lookup(self, prep: dict, rows: np.ndarray):
        """The sequential part (batches in input order): each task against every earlier one.
        Returns ``(score, reasons)`` (a list, None where not flagged)."""
        score, first, near_first = self.find(prep, rows)
        reasons = [None] * len(rows)
        idx = np.flatnonzero(score >= self.threshold)
        for i, why in zip(idx, self.reason_texts(score, first, near_first, idx).to_pylist()):
            reasons[i] = why
        return score, reasons

    @staticmethod
    def reason_texts(score: np.ndarray, first: np.ndarray, near_first: np.ndarray, idx: np.ndarray) -> pa.Array:
        """The reasons of the rows ``idx`` (Arrow strings, built without a Python loop)."""
        exact = pa.array(score[idx] == 1.0)
        row = pc.cast(pa.array(np.where(score[idx] == 1.0, first[idx], near_first[idx])), pa.string())
        return pc.binary_join_element_wise(pc.if_else(exact, "same task as row ", "near-duplicate of row "), row,
                                           pc.if_else(exact, "", " (MinHash-LSH)"), "")

    def find(self, prep: dict, rows: np.ndarray):
        """:meth:`lookup` without the reasons: ``(score, first, near_first)``, the row each row repeats
        exactly / nearly (-1: none)."""
        first = self.exact.first_rows(prep["keys"], rows)
        empty = prep["empty"]
        score = np.where((first >= 0) & ~empty, 1.0, 0.0)
        near_first = np.full(len(rows), -1, np.int64)
        if self.near:
            bandkeys, sig, inp_hash = prep["bandkeys"], prep["sig"], prep["inp"]
            pos = np.arange(self.pos, self.pos + len(rows), dtype=np.int64)
            self.pos += len(rows)
            self.sigs.append(sig)
            self.row_store.append(rows)
            self.inp_store.append(inp_hash)
            cand = np.full(len(rows), -1, np.int64)
            for band in range(self.bands):
                fp = self.band_seen[band].first_rows(bandkeys[:, band], pos)
                cand = np.where((cand < 0) & (fp >= 0), fp, cand)
            idx = np.flatnonzero((cand >= 0) & (score == 0) & ~empty)
            if idx.size:
                jac = (self.sigs[cand[idx]] == sig[idx]).mean(axis=1)
                ok = idx[(jac >= self.min_jaccard) & (self.inp_store[cand[idx]] == inp_hash[idx])]
                near_first[ok] = self.row_store[cand[ok]]
                score[ok] = 0.8
        return score, first, near_first

    def score(self, batch: pa.RecordBatch, rows: np.ndarray):
        return self.lookup(self.prepare(batch), rows)
