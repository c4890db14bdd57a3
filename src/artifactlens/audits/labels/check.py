"""The per-item part of the labels audit as a map/combine :class:`~artifactlens.engine.Check`.

``map`` parses one batch of items (human and LLM label lists), computes the per-item figures of
:mod:`.items`, writes per-row scores/flags/reasons and returns additive partial state: Poisson-bootstrap
sums keyed by item (rates, entropies, class shares, the same by subjectivity bin and domain), entropy
histograms, pooled label counts, the majority-label flip counts, candidate examples, and the compact
per-item label counts that agreement and the second-order run need. ``merge`` adds; nothing depends on
batch order.

Flags: the Detectors of :mod:`.detectors` (one class each: ``llm_erases_minority``, ``llm_overconfident``,
``majority_mismatch``), scored once per distinct (human, LLM) pair of label counts and decided by the
engine's one rule.

Linear and vectorised per batch (no per-item Python): a label column is parsed once per distinct cell
(pyarrow's ``dictionary_encode``; a per-process :class:`_Memo` keeps cells, canonical counts and pair
summaries across batches), every per-item figure is a row of a per-pair table gathered by index (numpy),
ids are hashed in one call (pandas' ``hash_array``), the Poisson weights are drawn once per batch and
shared: one matrix product for the overall sums, and for the by-bin and by-domain sums (integer columns)
the weight sums of the items sharing a pair, from one sparse product (scipy). Items for alpha and the
second order are kept as arrays (key, row, pair, text) and pruned to the ``max_items`` smallest
(hash, row) by a partition. The figures are the per-item loop's, bit for bit (bench/RESULTS.md).
"""
from __future__ import annotations

import bisect
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...engine import BatchContext, Check, MapOutput
from ...errors import InputError
from ...io.conventions import parse_label_list
from ...stats import BootstrapSums, GroupedSums, hash_keys, hash_texts, poisson_weights
from ...stats.bootstrap import group_weight_sums
from .detectors import all_detectors
from .items import ItemComparison, describe, item_label, label_key


#: the figures computed per stratum (subjectivity bin, domain): GroupedSums by_bin / by_domain
BREAKDOWN = ("n", "maj", "min", "mdef", "erase", "over")


ENTROPY_EDGES = np.round(np.arange(0.0, 4.25, 0.25), 2)  # histogram bins (bits); the last bin takes the rest
_EDGES = ENTROPY_EDGES.tolist()
DEFAULT_BINS = (0.0, 1.0, 1.6)  # subjectivity bins: H == 0, (0, 1], (1, 1.6], > 1.6 bits
N_EXAMPLES = 40


def bin_names(edges) -> list[str]:
    e = list(edges)
    names = ["H = 0 (unanimous)"]
    names += [f"{a:g} < H ≤ {b:g}" for a, b in zip(e, e[1:])]
    names.append(f"H > {e[-1]:g}")
    return names


def bin_index(h: float, edges) -> int:
    if h <= 0.0:
        return 0
    for j, b in enumerate(list(edges)[1:], start=1):
        if h <= b + 1e-12:
            return j
    return len(edges)


MAX_ITEMS = 200_000  # items kept for Krippendorff's alpha and the second order (memory stays bounded)
SKIP_REASONS = ("no human or LLM labels", "no human labels", "no LLM labels")


class _Memo:
    """Per-process caches of one check: parsed cells, canonical label counts, item summaries. Each is a
    pure function of its key, so no figure depends on what is cached (and not plain data: checkpoints
    skip it). Emptied when it grows past ``LIMIT`` entries (free-text labels)."""

    LIMIT = 200_000

    def __init__(self):
        self.cells: dict = {}  # cell text -> code of its label counts
        self.canon: dict = {}  # (kind, ((label key, count), ...)) -> code
        self.counts: list[Counter] = []  # code -> the (read-only) Counter
        self.empty: list[bool] = []
        self.desc: list[str] = []  # code -> describe(counts)
        self.summaries: dict = {}  # (human code, LLM code) -> LabelCheck._summary

    def trim(self) -> None:
        if len(self.counts) > self.LIMIT or len(self.summaries) > self.LIMIT:
            self.__init__()

    def code(self, key, counts: Counter) -> int:
        c = self.canon.get(key)
        if c is None:
            c = self.canon[key] = len(self.counts)
            self.counts.append(counts)
            self.empty.append(not counts)
            self.desc.append(describe(counts))
        return c

    def text_code(self, cell: str) -> int:
        """Code of a text cell: cells holding the same labels in any order share one Counter, in label
        order (raises ValueError when the cell does not parse)."""
        c = self.cells.get(cell)
        if c is None:
            got = Counter(l for l in parse_label_list(cell) if l is not None)
            order = sorted(got.items(), key=lambda kv: label_key(kv[0]))  # one order, whichever cell came first
            canon = tuple((label_key(lab), k) for lab, k in order)
            c = self.cells[cell] = self.code(("s", canon), Counter(dict(order)))
        return c

    def cell_code(self, cell) -> int:
        """Code of any cell: text as :meth:`text_code`; a list or a scalar keeps its labels in the order
        given (equal lists in the same order share a Counter)."""
        if isinstance(cell, str):
            return self.text_code(cell)
        got = Counter(l for l in parse_label_list(cell) if l is not None)
        return self.code(("o", tuple((label_key(lab), k) for lab, k in got.items())), got)


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _one_array(col):
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col


def _id_texts(col) -> np.ndarray:
    """``str(v)`` of every id as an object array (text and integer ids converted by Arrow: the same text)."""
    col = _one_array(col)
    if _is_text(col.type) or pa.types.is_integer(col.type):
        arr = col if _is_text(col.type) else pc.cast(col, pa.string())
        return arr.fill_null("None").to_numpy(zero_copy_only=False)
    out = np.empty(len(col), dtype=object)
    out[:] = [str(v) for v in col.to_pylist()]
    return out


def _domain_codes(col) -> tuple[np.ndarray, list[str]]:
    """(per-row code, names): a row's stratum is ``"(none)"`` for a missing or empty value, else ``str``."""
    col = _one_array(col)
    name = lambda d: "(none)" if d in (None, "") else str(d)  # noqa: E731
    try:
        enc = pc.dictionary_encode(col)
        values = [name(v) for v in enc.dictionary.to_pylist()] + ["(none)"]
        idx = enc.indices.fill_null(len(values) - 1).to_numpy()
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
        values = [name(v) for v in col.to_pylist()]
        idx = np.arange(len(values))
    remap: dict[str, int] = {}
    table = np.array([remap.setdefault(v, len(remap)) for v in values], dtype=np.int64)
    labels = list(remap)
    return table[idx], labels


def _smallest(keys: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` smallest (key, row) pairs (rows distinct): a partition, then order only
    among the keys equal to the k-th."""
    if len(keys) <= k:
        return np.arange(len(keys))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    kth = keys[np.argpartition(keys, k - 1)[k - 1]]
    below = np.flatnonzero(keys < kth)
    tied = np.flatnonzero(keys == kth)
    tied = tied[np.argsort(rows[tied], kind="stable")][:k - len(below)]
    return np.concatenate([below, tied])


def _select(chunks: list[dict], k: int) -> dict:
    """One chunk of the ``k`` items with the smallest (hash key, row) among ``chunks``, in row order: the
    same sample however the data was split and merged."""
    keys = np.concatenate([c["key"] for c in chunks])
    rows = np.concatenate([c["row"] for c in chunks])
    tab, sid = [], []
    for c in chunks:
        sid.append(c["sid"] + len(tab))
        tab.extend(c["tab"])
    sid = np.concatenate(sid)
    sel = _smallest(keys, rows, k)
    sel = sel[np.argsort(rows[sel], kind="stable")]
    text = None
    if any(c["text"] is not None for c in chunks):
        vals, base = [None] * len(sel), 0
        where = np.argsort(sel, kind="stable")  # each chunk's share of the selection, in stream order
        pos = sel[where]
        for c in chunks:
            m = len(c["key"])
            lo, hi = np.searchsorted(pos, [base, base + m])
            loc = pos[lo:hi] - base
            got = c["text"].take(pa.array(loc)).to_pylist() if isinstance(c["text"], pa.Array) else \
                c["text"][loc].tolist()
            for w, v in zip(where[lo:hi].tolist(), got):
                vals[w] = v
            base += m
        text = np.empty(len(sel), dtype=object)
        for i, v in enumerate(vals):
            text[i] = v
    used, new_sid = np.unique(sid[sel], return_inverse=True)
    return {"key": keys[sel], "row": rows[sel], "sid": new_sid.reshape(-1).astype(np.int64),
            "tab": [tab[j] for j in used.tolist()], "text": text}


class LabelCheck(Check):
    """First-order figures for one LLM (``llm_column``) against the human labels."""

    def __init__(self, *, human: str, llm_column: str, text: str | None = None, id: str | None = None,
                 domain: str | None = None, suffix: str = "", path=None, seed: int = 0,
                 bins=DEFAULT_BINS, detectors=None, keep_items: bool = True, max_items: int = MAX_ITEMS,
                 row_columns: bool = True):
        self.human, self.llm, self.text, self.id, self.domain = human, llm_column, text, id, domain
        self.suffix, self.path, self.seed, self.bins = suffix, path, seed, tuple(bins)
        self.detectors = {d.name: d for d in (detectors if detectors is not None else all_detectors())}
        self.keep_items = keep_items
        self.row_columns = row_columns  # False: no per-row columns (no flags file asked for), same figures
        self.max_items = int(max_items)
        self.name = f"labels{suffix}"
        self._memo = _Memo()

    def __getstate__(self):  # the caches stay in their process
        return {k: v for k, v in self.__dict__.items() if k != "_memo"}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._memo = _Memo()

    # -- map ------------------------------------------------------------------------------------------
    def _codes(self, col, column: str, offset: int) -> np.ndarray:
        """Per-row code of each cell's label counts (:class:`_Memo`); a text column is parsed once per
        distinct cell (Arrow's dictionary encoding), in first-seen order, so the first cell that does not
        parse is the one reported."""
        memo = self._memo
        col = _one_array(col)

        def bad(e, row):
            return InputError(f"a label list that does not parse ({e})", path=self.path, row=offset + row,
                              column=column, expected="a list such as [3.0, 4.0, nan] or ['a', 'b'], or one "
                              "label")
        if _is_text(col.type):
            enc = pc.dictionary_encode(col)
            values = enc.dictionary.to_pylist()
            idx = enc.indices.fill_null(len(values)).to_numpy()
            table = np.empty(len(values) + 1, dtype=np.int64)
            for j, v in enumerate(values):
                try:
                    table[j] = memo.text_code(v)
                except ValueError as e:
                    raise bad(e, int(np.flatnonzero(idx == j)[0])) from None
            table[-1] = memo.cell_code(None)
            return table[idx]
        out = np.empty(len(col), dtype=np.int64)
        for i, cell in enumerate(col.to_pylist()):
            try:
                out[i] = memo.cell_code(cell)
            except ValueError as e:
                raise bad(e, i) from None
        return out

    def _summary(self, h: Counter, l: Counter) -> dict:
        """Everything about one item that depends only on its two label counts (computed once per distinct
        pair in a batch: label lists from a few classes repeat)."""
        it = ItemComparison(h, l)
        he, le = it.human_entropy, it.llm_entropy
        scores = {name: d.item_score(it) for name, d in self.detectors.items()}
        hits = {name: d.hit(scores[name]) for name, d in self.detectors.items()}
        row_vals = {"n": 1.0, "h_unan": it.human_unanimous, "l_unan": it.llm_unanimous, "h_ent": he, "l_ent": le,
                    "maj": it.majority_match, "min": it.minority_match, "mdef": it.human_minority_defined,
                    "erase": it.minority_erased, "over": it.overconfident, "mismatch": it.majority_mismatch,
                    "agree": sum(c * l[lab] for lab, c in h.items()) / (sum(h.values()) * sum(l.values()))}
        row_vals = {k: float(v) for k, v in row_vals.items()}
        vals = dict(row_vals)
        nh, nl = sum(h.values()), sum(l.values())
        for lab, c in h.items():
            vals[f"h|{label_key(lab)}"] = c / nh
        for lab, c in l.items():
            vals[f"l|{label_key(lab)}"] = c / nl
        hm, lm = item_label(h), item_label(l)  # a lone label, else the single majority
        if hm is not None and lm is not None:  # confusion cells of the item labels (Cohen's kappa)
            vals[f"k|{label_key(hm)}|{label_key(lm)}"] = 1.0
        if nh == 1 and nl == 1:  # one label per side: confusion cells of the plain labels
            vals[f"k1|{label_key(next(iter(h)))}|{label_key(next(iter(l)))}"] = 1.0
        flagged = [f for f in self.detectors if hits[f]]
        reasons = {f: self.detectors[f].reason(h, l) for f in flagged}
        return {"scores": scores, "hits": hits, "row_vals": row_vals, "vals": vals, "he": he, "le": le, "nh": nh,
                "nl": nl, "flip": (None if hm is None else label_key(hm), None if lm is None else label_key(lm)),
                "flagged": flagged, "reasons": reasons, "dh": describe(h), "dl": describe(l), "h": dict(h),
                "l": dict(l),
                "bin": bin_index(he, self.bins),  # the subjectivity stratum (GroupedSums by_bin)
                "hist": [min(bisect.bisect_right(_EDGES, e + 1e-12) - 1, len(_EDGES) - 1)  # (a scalar: bisect)
                         for e in (he, le)]}

    def map(self, batch: pa.RecordBatch, ctx: BatchContext) -> MapOutput:
        n = batch.num_rows
        memo = getattr(self, "_memo", None) or _Memo()
        self._memo = memo
        memo.trim()
        hc = self._codes(batch.column(self.human), self.human, ctx.row_offset)
        lc = self._codes(batch.column(self.llm), self.llm, ctx.row_offset)
        empty = np.array(memo.empty, dtype=bool)
        h_empty, l_empty = empty[hc], empty[lc]
        used = ~h_empty & ~l_empty
        rows = ctx.row_ids(n)
        id_text = _id_texts(batch.column(self.id)) if self.id else None
        keys = hash_texts(id_text) if self.id else hash_keys(rows)
        st = {"skips": Counter(), "h_counts": Counter(), "l_counts": Counter(), "flips": Counter(),
              "labels": {}, "max_h": 0, "max_l": 0, "items": [], "examples": [], "flag_counts": Counter(),
              "hist_h": np.zeros(len(ENTROPY_EDGES), dtype=np.int64), "hist_l": np.zeros(len(ENTROPY_EDGES), dtype=np.int64)}

        why = np.where(h_empty & l_empty, 0, np.where(h_empty, 1, 2))
        why[used] = -1
        skipped = np.flatnonzero(~used)
        if skipped.size:  # reasons in first-seen order
            kinds, first, times = np.unique(why[skipped], return_index=True, return_counts=True)
            for j in np.argsort(first, kind="stable").tolist():
                st["skips"][SKIP_REASONS[kinds[j]]] += int(times[j])

        # one summary per distinct (human, LLM) pair, in first-seen order; per item only its index
        iu = np.flatnonzero(used)
        sid = np.full(n, -1, dtype=np.int64)
        summaries = []
        if iu.size:
            pair = hc[iu] * np.int64(len(memo.counts)) + lc[iu]
            uniq, first, inv = np.unique(pair, return_index=True, return_inverse=True)
            order = np.argsort(first, kind="stable")
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            sid[iu] = rank[inv.reshape(-1)]
            for p in uniq[order].tolist():
                h, l = divmod(p, len(memo.counts))
                sm = memo.summaries.get((h, l))
                if sm is None:
                    sm = memo.summaries[(h, l)] = self._summary(memo.counts[h], memo.counts[l])
                summaries.append(sm)
        sid_u = sid[iu]
        times = np.bincount(sid_u, minlength=len(summaries))
        for sm, t in zip(summaries, times.tolist()):
            for lab, c in sm["h"].items():
                st["labels"][label_key(lab)] = lab
                st["h_counts"][label_key(lab)] += c * t
            for lab, c in sm["l"].items():
                st["labels"][label_key(lab)] = lab
                st["l_counts"][label_key(lab)] += c * t
            st["flips"][sm["flip"]] += t
            st["hist_h"][sm["hist"][0]] += t
            st["hist_l"][sm["hist"][1]] += t
            for f in sm["flagged"]:
                st["flag_counts"][f] += t
        if summaries:
            st["max_h"] = max(sm["nh"] for sm in summaries)
            st["max_l"] = max(sm["nl"] for sm in summaries)
        texts = _one_array(batch.column(self.text)) if self.text else None
        if self.keep_items and iu.size:
            chunk = {"key": keys[iu], "row": rows[iu], "sid": sid_u, "tab": [(sm["h"], sm["l"]) for sm in summaries],
                     "text": None if texts is None else texts.take(pa.array(iu))}
            st["items"] = [chunk] if iu.size <= self.max_items else [_select([chunk], self.max_items)]
        st["n_items"] = int(iu.size) if self.keep_items else 0
        st["examples"] = self._examples(summaries, sid_u, iu, rows, id_text, texts)
        acc, by_bin, by_domain = BootstrapSums(self.seed), GroupedSums(self.seed), GroupedSums(self.seed)
        if iu.size:
            names = list(dict.fromkeys(k for sm in summaries for k in sm["vals"]))
            table = np.array([[sm["vals"].get(k, 0.0) for k in names] for sm in summaries])
            col = {k: j for j, k in enumerate(names)}
            w = poisson_weights(keys[iu], self.seed, acc.replicates, dtype=np.float64)  # drawn once, shared
            S = len(summaries)
            # the weight sums of the items sharing a summary (and a domain): one sparse product for every
            # integer column of the overall, by-bin and by-domain sums
            if self.domain:
                dom, labels = _domain_codes(batch.column(self.domain))
                joint = dom[iu] * S + sid_u
                d_sums = group_weight_sums(joint, w, len(labels) * S)
                d_counts = np.bincount(joint, minlength=len(labels) * S)
                g_sums = d_sums.reshape(len(labels), S, -1).sum(axis=0)  # integers: exact
                g_counts = d_counts.reshape(len(labels), S).sum(axis=0)
            else:
                g_sums, g_counts = group_weight_sums(sid_u, w, S), times
            acc.add_table(sid_u, table, names, w, counts=g_counts, group_sums=g_sums)
            bins = np.array([sm["bin"] for sm in summaries], dtype=np.int64)
            n_bins = len(self.bins) + 1
            b_sums = np.zeros((n_bins * S, g_sums.shape[1]))
            b_sums[bins * S + np.arange(S)] = g_sums
            b_counts = np.zeros(n_bins * S, dtype=np.int64)
            b_counts[bins * S + np.arange(S)] = g_counts
            by_bin.add_table(bins[sid_u], list(range(n_bins)), sid_u, table[:, [col[k] for k in BREAKDOWN]],
                             BREAKDOWN, w, joint_counts=b_counts, joint_sums=b_sums)
            if self.domain:
                cols = (*BREAKDOWN, "h_unan", "l_unan")
                by_domain.add_table(dom[iu], labels, sid_u, table[:, [col[k] for k in cols]], cols, w,
                                    joint_counts=d_counts, joint_sums=d_sums)
        st["boot"], st["by_bin"], st["by_domain"] = acc, by_bin, by_domain
        st["used"] = int(iu.size)
        cols = self._row_columns(summaries, sid, hc, lc, why) if self.row_columns else None
        return MapOutput(cols, st)

    def _examples(self, summaries, sid_u, iu, rows, id_text, texts) -> list:
        """The ``N_EXAMPLES`` most telling flagged items of the batch (more flags, more human disagreement;
        then the first rows), as sorted tuples."""
        if not summaries:
            return []
        flagged = np.array([bool(sm["flagged"]) for sm in summaries])
        neg_tell = [-(len(sm["flagged"]) + sm["he"]) for sm in summaries]
        cand = np.flatnonzero(flagged[sid_u])
        if not cand.size:
            return []
        pick = cand[np.lexsort((rows[iu[cand]], np.array(neg_tell)[sid_u[cand]]))[:N_EXAMPLES]]
        out = []
        for p in pick.tolist():
            i, sm = int(iu[p]), summaries[sid_u[p]]
            out.append((neg_tell[sid_u[p]], int(rows[i]), str(id_text[i]) if id_text is not None else str(int(rows[i])),
                        texts[i].as_py() if texts is not None else None, sm["dh"], sm["dl"], sm["flagged"],
                        [f"{f}: {sm['reasons'][f]}" for f in sm["flagged"]]))
        return out

    def _row_columns(self, summaries, sid, hc, lc, why) -> dict:
        """Per-row scores, flags and reasons (the flags file), in input order, gathered from the summaries."""
        idx = pa.array(np.where(sid >= 0, sid, len(summaries)))  # a skipped row: the null after the summaries
        desc = np.array(self._memo.desc, dtype=object)

        def per_summary(values, typ):
            return pa.array(list(values) + [None], type=typ).take(idx)
        reasons = np.array([None, *SKIP_REASONS], dtype=object)[why + 1]
        cols = {"skip_reason": pa.array(reasons, type=pa.string()), "human_labels": pa.array(desc[hc], type=pa.string()),
                "llm_labels": pa.array(desc[lc], type=pa.string()),
                "human_entropy_bits": per_summary([sm["he"] for sm in summaries], pa.float64()),
                "llm_entropy_bits": per_summary([sm["le"] for sm in summaries], pa.float64())}
        for f in self.detectors:
            cols[f] = per_summary([sm["hits"][f] for sm in summaries], pa.bool_())
            cols[f + "_score"] = per_summary([None if not np.isfinite(sm["scores"][f]) else sm["scores"][f]
                                              for sm in summaries], pa.float64())
            cols[f + "_reason"] = per_summary([sm["reasons"].get(f) for sm in summaries], pa.string())
        return {k + self.suffix: v for k, v in cols.items()}

    # -- combine --------------------------------------------------------------------------------------
    def merge(self, a, b):
        items = a["items"] + b["items"]
        if sum(len(c["key"]) for c in items) > 2 * self.max_items:  # prune every few batches: merging stays linear
            items = [_select(items, self.max_items)]
        return {"skips": a["skips"] + b["skips"], "h_counts": a["h_counts"] + b["h_counts"],
                "l_counts": a["l_counts"] + b["l_counts"], "flips": a["flips"] + b["flips"],
                "labels": {**a["labels"], **b["labels"]}, "by_domain": a["by_domain"].merge(b["by_domain"]),
                "by_bin": a["by_bin"].merge(b["by_bin"]), "items": items,
                "n_items": a["n_items"] + b["n_items"],
                "examples": sorted(a["examples"] + b["examples"])[:N_EXAMPLES],
                "flag_counts": a["flag_counts"] + b["flag_counts"], "hist_h": a["hist_h"] + b["hist_h"],
                "hist_l": a["hist_l"] + b["hist_l"], "boot": a["boot"].merge(b["boot"]), "used": a["used"] + b["used"],
                "max_h": max(a["max_h"], b["max_h"]), "max_l": max(a["max_l"], b["max_l"])}

    def finalize(self, state):
        """The kept items as ``[(row, text, human counts, LLM counts)]`` in row order."""
        if not state["items"]:
            state["items"] = []
            return state
        c = _select(state["items"], self.max_items)
        text = c["text"].tolist() if c["text"] is not None else [None] * len(c["key"])
        tab = c["tab"]
        state["items"] = [(r, t, *tab[j]) for r, t, j in zip(c["row"].tolist(), text, c["sid"].tolist())]
        return state
