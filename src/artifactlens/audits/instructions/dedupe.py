"""Exact and near-duplicate tasks across the whole stream (within and across sources).

A task is the instruction plus its input, lower-cased with punctuation and spacing collapsed. *Exact*
duplicates share that text's 64-bit hash (``pandas.util.hash_array``). *Near* duplicates share a
MinHash-LSH band: the MinHash of the task's set of words and word bigrams (Broder 1997; the scheme of ``datasketch.MinHash``,
here vectorised with NumPy over a whole Arrow batch because datasketch hashes row by row, ~100x slower)
with ``bands`` x ``rows_per_band`` permutations: a pair sharing a band is a candidate (with 4 x 6, caught
with probability ``1 - (1 - J**6)**4``: 96 % at Jaccard 0.9, 38 % at 0.7), and it is kept as a near
duplicate when its signatures agree on at least ``min_jaccard`` (0.8) of the 24 permutations, which
removes the many chance band collisions among short templated prompts. A near duplicate must also have
the same input (case and spacing aside): "Classify the animal: whale" and "...: frog" are different tasks.

The first occurrence is kept; later ones are flagged with the row they repeat. Memory: one sorted
``uint64`` key and one position per distinct task and band (16 bytes x (1 + bands)) plus a 16-bit copy of
each row's signature (48 bytes), its row and input hash: ~150 bytes per row, however long the texts; this is the one state that
is not a per-batch aggregate, so it needs input order (the local engine).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_MASK32 = np.uint64(0xFFFFFFFF)


class SeenKeys:
    """A sorted set of uint64 keys with the row that first held each."""

    def __init__(self):
        self.keys = np.empty(0, np.uint64)
        self.rows = np.empty(0, np.int64)

    def first_rows(self, keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """For each key the row that held it first (earlier batches or earlier in this one), else -1;
        then remember the new keys."""
        out = np.full(len(keys), -1, np.int64)
        if self.keys.size:
            pos = np.searchsorted(self.keys, keys).clip(max=self.keys.size - 1)
            hit = self.keys[pos] == keys
            out[hit] = self.rows[pos[hit]]
        uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        inner = rows[first][inverse]
        out = np.where((out < 0) & (inner != rows), inner, out)
        new = out[first] < 0
        if new.any():
            k = np.concatenate([self.keys, uniq[new]])
            r = np.concatenate([self.rows, rows[first][new]])
            order = np.argsort(k, kind="stable")
            self.keys, self.rows = k[order], r[order]
        return out


class Deduplicator:
    """``score(batch, rows) -> (score, reasons)``: 1.0 exact duplicate, 0.8 near duplicate, else 0."""

    name, family, threshold, higher_is_worse = "duplicate", "duplicate", 0.5, True
    description = "exact or near duplicate of an earlier task (instruction + input)"

    def __init__(self, near: bool = True, bands: int = 4, rows_per_band: int = 6, max_tokens: int = 48,
                 min_jaccard: float = 0.8, seed: int = 1):
        self.near, self.bands, self.r, self.max_tokens, self.min_jaccard = near, bands, rows_per_band, max_tokens, min_jaccard
        self.pos = 0
        self.sig_store: list[np.ndarray] = []  # (n, bands*r) uint16 per batch, in stream order
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, 2**63, size=bands * rows_per_band, dtype=np.uint64) | np.uint64(1)
        self.b = rng.integers(0, 2**63, size=bands * rows_per_band, dtype=np.uint64)
        self.mix = rng.integers(1, 2**63, size=rows_per_band, dtype=np.uint64) | np.uint64(1)
        self.exact = SeenKeys()
        self.band_seen = [SeenKeys() for _ in range(bands)]

    def config(self) -> dict:
        return {"threshold": self.threshold, "higher_is_worse": True, "description": self.description,
                "family": self.family, "minhash_bands": self.bands, "minhash_rows_per_band": self.r,
                "min_jaccard": self.min_jaccard}

    @staticmethod
    def normalise(batch: pa.RecordBatch) -> pa.Array:
        task = pc.binary_join_element_wise(batch.column("instruction"), batch.column("input"), " ")
        return pc.utf8_trim_whitespace(pc.replace_substring_regex(pc.utf8_lower(task), r"[^\pL\pN]+", " "))

    def signatures(self, norm: pa.Array):
        """``(n, bands)`` uint64 band keys and ``(n, bands*r)`` uint16 MinHash signatures of each text's
        word set (zeros for empty texts)."""
        toks = pc.list_slice(pc.utf8_split_whitespace(norm), 0, self.max_tokens)
        n = len(norm)
        lens = pc.list_value_length(toks).to_numpy(zero_copy_only=False)
        flat = pc.list_flatten(toks).to_numpy(zero_copy_only=False)
        out = np.zeros((n, self.bands), np.uint64)
        sig = np.zeros((n, self.bands * self.r), np.uint16)
        if flat.size == 0:
            return out, sig
        h = pd.util.hash_array(flat.astype(object)) & _MASK32
        nonempty = lens > 0
        parent = np.repeat(np.arange(n), lens)
        same = parent[1:] == parent[:-1]  # word bigrams: order matters ("57 - 72" is not "72 - 57")
        with np.errstate(over="ignore"):
            big = ((h[:-1] * np.uint64(0x9E3779B1)) ^ h[1:])[same] & _MASK32
        order = np.argsort(np.concatenate([parent, parent[:-1][same]]), kind="stable")
        h = np.concatenate([h, big])[order]
        counts = np.bincount(parent, minlength=n) + np.bincount(parent[:-1][same], minlength=n)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[nonempty]
        with np.errstate(over="ignore"):
            for band in range(self.bands):
                sl = slice(band * self.r, (band + 1) * self.r)
                perm = (h[:, None] * self.a[None, sl] + self.b[None, sl]) >> np.uint64(32)  # multiply-shift
                mins = np.minimum.reduceat(perm, starts, axis=0)
                out[nonempty, band] = (mins * self.mix[None, :]).sum(axis=1) + np.uint64(band + 1)
                sig[nonempty, sl] = (mins & np.uint64(0xFFFF)).astype(np.uint16)
        return out, sig

    def _stored(self, positions: np.ndarray) -> np.ndarray:
        starts = np.cumsum([0] + [len(s) for s in self.sig_store[:-1]])
        which = np.searchsorted(starts, positions, side="right") - 1
        return np.stack([self.sig_store[w][p - starts[w]] for w, p in zip(which, positions)])

    def score(self, batch: pa.RecordBatch, rows: np.ndarray):
        norm = self.normalise(batch)
        keys = pd.util.hash_array(norm.to_numpy(zero_copy_only=False).astype(object))
        empty = pc.equal(pc.utf8_length(norm), 0).to_numpy(zero_copy_only=False)
        first = self.exact.first_rows(keys, rows)
        score = np.where((first >= 0) & ~empty, 1.0, 0.0)
        near_first = np.full(len(rows), -1, np.int64)
        if self.near:
            bandkeys, sig = self.signatures(norm)
            pos = np.arange(self.pos, self.pos + len(rows), dtype=np.int64)
            self.pos += len(rows)
            self.sig_store.append(sig)
            self.row_store = np.concatenate([getattr(self, "row_store", np.empty(0, np.int64)), rows])
            inp = pc.utf8_trim_whitespace(pc.utf8_lower(batch.column("input"))).to_numpy(zero_copy_only=False)
            inp_hash = pd.util.hash_array(inp.astype(object))
            self.inp_store = np.concatenate([getattr(self, "inp_store", np.empty(0, np.uint64)), inp_hash])
            cand = np.full(len(rows), -1, np.int64)
            for band in range(self.bands):
                fp = self.band_seen[band].first_rows(bandkeys[:, band], pos)
                cand = np.where((cand < 0) & (fp >= 0), fp, cand)
            idx = np.flatnonzero((cand >= 0) & (score == 0) & ~empty)
            if idx.size:
                jac = (self._stored(cand[idx]) == sig[idx]).mean(axis=1)
                ok = idx[(jac >= self.min_jaccard) & (self.inp_store[cand[idx]] == inp_hash[idx])]
                near_first[ok] = self.row_store[cand[ok]]
                score[ok] = 0.8
        reasons = [None] * len(rows)
        for i in np.flatnonzero(score >= self.threshold):
            reasons[i] = (f"same task as row {first[i]}" if score[i] == 1.0 else
                          f"near-duplicate of row {near_first[i]} (MinHash-LSH)")
        return score, reasons
