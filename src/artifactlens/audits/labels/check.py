"""The per-item part of the labels audit as a map/combine :class:`~artifactlens.engine.Check`.

``map`` parses one batch of items (human and LLM label lists), computes the per-item figures of
:mod:`.items`, writes per-row scores/flags/reasons and returns additive partial state: Poisson-bootstrap
sums keyed by item (rates, entropies, class shares, the same by subjectivity bin and domain), entropy
histograms, pooled label counts, the majority-label flip counts, candidate examples, and the compact
per-item label counts that agreement and the second-order run need. ``merge`` adds; nothing depends on
batch order.

Flags: the Detectors of :mod:`.detectors` (one class each: ``llm_erases_minority``, ``llm_overconfident``,
``majority_mismatch``), scored once per distinct (human, LLM) pair of a batch and decided by the engine's
one rule.
"""
from __future__ import annotations

import bisect
import heapq
from collections import Counter

import numpy as np
import pyarrow as pa

from ...engine import BatchContext, Check, MapOutput
from ...errors import InputError
from ...io.conventions import parse_label_list
from ...stats import BootstrapSums, GroupedSums, hash_keys, poisson_weights
from .detectors import all_detectors
from .items import ItemComparison, describe, label_key


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


def _bottom_k(items: list, k: int, slack: int = 1) -> list:
    """The ``k`` items with the smallest hash key: a sample that is the same however the data is split.

    ``slack``: prune only once there are more than ``slack * k`` (merges prune every few batches, not at
    each, so that merging stays linear; the k smallest of a superset are the same, and ``finalize`` cuts
    to ``k``)."""
    return items if len(items) <= slack * k else heapq.nsmallest(k, items, key=lambda t: t[0])


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

    # -- map ------------------------------------------------------------------------------------------
    def _parse(self, cells, column: str, offset: int) -> list[Counter]:
        """One Counter per cell; equal text cells, and cells holding the same labels in any order, share one
        (read-only) Counter, parsed once."""
        out, seen, same = [], {}, {}
        for i, cell in enumerate(cells):
            key = cell if isinstance(cell, str) else None
            got = seen.get(key) if key is not None else None
            if got is None:
                try:
                    labels = parse_label_list(cell)
                except ValueError as e:
                    raise InputError(f"a label list that does not parse ({e})", path=self.path, row=offset + i,
                                     column=column, expected="a list such as [3.0, 4.0, nan] or ['a', 'b'], or one "
                                     "label") from None
                got = Counter(l for l in labels if l is not None)
                if key is not None:
                    order = sorted(got.items(), key=lambda kv: label_key(kv[0]))  # one order, whichever cell came first
                    canon = tuple((label_key(lab), c) for lab, c in order)
                    got = seen[key] = same.setdefault(canon, Counter(dict(order)))
            out.append(got)
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
        hm = next(iter(it.human_majority)) if it.human_majority and len(it.human_majority) == 1 else None
        lm = next(iter(it.llm_majority)) if it.llm_majority and len(it.llm_majority) == 1 else None
        if hm is not None and lm is not None:  # confusion cells of the majority labels (Cohen's kappa)
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
        humans = self._parse(batch.column(self.human).to_pylist(), self.human, ctx.row_offset)
        llms = self._parse(batch.column(self.llm).to_pylist(), self.llm, ctx.row_offset)
        texts = batch.column(self.text).to_pylist() if self.text else [None] * n
        domains = batch.column(self.domain).to_pylist() if self.domain else [None] * n
        rows = ctx.row_ids(n)
        ids = batch.column(self.id).to_pylist() if self.id else rows.tolist()
        keys = hash_keys([str(i) for i in ids]) if self.id else hash_keys(rows)
        st = {"skips": Counter(), "h_counts": Counter(), "l_counts": Counter(), "flips": Counter(),
              "labels": {}, "max_h": 0, "max_l": 0, "items": [], "examples": [], "flag_counts": Counter(),
              "hist_h": np.zeros(len(ENTROPY_EDGES), dtype=np.int64), "hist_l": np.zeros(len(ENTROPY_EDGES), dtype=np.int64)}

        # one summary per distinct (human, LLM) pair; per item only the index of its summary
        summaries, index = [], {}
        sid = np.full(n, -1, dtype=np.int64)
        reasons_skip = [None] * n
        for i, (h, l) in enumerate(zip(humans, llms)):
            if not h or not l:
                reason = "no human or LLM labels" if not h and not l else "no human labels" if not h else "no LLM labels"
                reasons_skip[i] = reason
                st["skips"][reason] += 1
                continue
            k = (id(h), id(l))
            j = index.get(k)
            if j is None:
                j = index[k] = len(summaries)
                summaries.append(self._summary(h, l))
            sid[i] = j
        used = sid >= 0
        times = np.bincount(sid[used], minlength=len(summaries))
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
        vals = self._values(summaries, sid, used)
        for i in np.flatnonzero(used).tolist():
            sm = summaries[sid[i]]
            if self.keep_items:
                st["items"].append((int(keys[i]), (int(rows[i]), texts[i], sm["h"], sm["l"])))
            if sm["flagged"]:
                tell = len(sm["flagged"]) + sm["he"]  # more flags, more human disagreement: more telling
                st["examples"].append((-tell, int(rows[i]), str(ids[i]), texts[i], sm["dh"], sm["dl"], sm["flagged"],
                                       [f"{f}: {sm['reasons'][f]}" for f in sm["flagged"]]))
        st["examples"] = heapq.nsmallest(N_EXAMPLES, st["examples"])
        st["n_items"] = len(st["items"])
        st["items"] = _bottom_k(st["items"], self.max_items)
        acc, by_bin, by_domain = BootstrapSums(self.seed), GroupedSums(self.seed), GroupedSums(self.seed)
        if used.any():
            w = poisson_weights(keys[used], self.seed, acc.replicates)  # drawn once, shared by the strata
            acc.add(keys[used], {k: v[used] for k, v in vals.items()}, weights=w)
            by_bin.add([summaries[j]["bin"] for j in sid[used].tolist()], keys[used],
                       {k: vals[k][used] for k in BREAKDOWN}, weights=w)
            if self.domain:
                dom = np.array(["(none)" if d in (None, "") else str(d) for d in domains], dtype=object)
                by_domain.add(dom[used], keys[used], {k: vals[k][used] for k in (*BREAKDOWN, "h_unan", "l_unan")},
                              weights=w)
        st["boot"], st["by_bin"], st["by_domain"] = acc, by_bin, by_domain
        st["used"] = int(used.sum())
        cols = self._row_columns(summaries, sid, humans, llms, reasons_skip) if self.row_columns else None
        return MapOutput(cols, st)

    def _values(self, summaries, sid, used) -> dict:
        """The per-item value columns of the bootstrap sums, gathered from the summaries by index."""
        names: dict[str, None] = {}
        for sm in summaries:
            names.update(dict.fromkeys(sm["vals"]))
        safe = np.where(used, sid, 0)
        vals = {}
        for k in names:
            table = np.array([sm["vals"].get(k, 0.0) for sm in summaries])
            vals[k] = np.where(used, table[safe], 0.0)
        return vals

    def _row_columns(self, summaries, sid, humans, llms, reasons_skip) -> dict:
        """Per-row scores, flags and reasons (the flags file), in input order."""
        cols = {"skip_reason": reasons_skip, "human_labels": [], "llm_labels": [], "human_entropy_bits": [],
                "llm_entropy_bits": []}
        for f in self.detectors:
            cols[f], cols[f + "_score"], cols[f + "_reason"] = [], [], []
        for i, j in enumerate(sid.tolist()):
            if j < 0:
                cols["human_labels"].append(describe(humans[i]))
                cols["llm_labels"].append(describe(llms[i]))
                for c in ("human_entropy_bits", "llm_entropy_bits"):
                    cols[c].append(None)
                for f in self.detectors:
                    cols[f].append(None), cols[f + "_score"].append(None), cols[f + "_reason"].append(None)
                continue
            sm = summaries[j]
            cols["human_labels"].append(sm["dh"])
            cols["llm_labels"].append(sm["dl"])
            cols["human_entropy_bits"].append(sm["he"])
            cols["llm_entropy_bits"].append(sm["le"])
            for f in self.detectors:
                sc = sm["scores"][f]
                cols[f].append(sm["hits"][f])
                cols[f + "_score"].append(None if not np.isfinite(sc) else sc)
                cols[f + "_reason"].append(sm["reasons"].get(f))
        suf = self.suffix
        types = {"human_entropy_bits": pa.float64(), "llm_entropy_bits": pa.float64()}
        out = {}
        for k, v in cols.items():
            typ = types.get(k) or (pa.bool_() if k in self.detectors else pa.float64() if k.endswith("_score") else pa.string())
            out[k + suf] = pa.array(v, type=typ)
        return out

    # -- combine --------------------------------------------------------------------------------------
    def merge(self, a, b):
        return {"skips": a["skips"] + b["skips"], "h_counts": a["h_counts"] + b["h_counts"],
                "l_counts": a["l_counts"] + b["l_counts"], "flips": a["flips"] + b["flips"],
                "labels": {**a["labels"], **b["labels"]}, "by_domain": a["by_domain"].merge(b["by_domain"]),
                "by_bin": a["by_bin"].merge(b["by_bin"]),
                "items": _bottom_k(a["items"] + b["items"], self.max_items, slack=2),
                "n_items": a["n_items"] + b["n_items"],
                "examples": sorted(a["examples"] + b["examples"])[:N_EXAMPLES],
                "flag_counts": a["flag_counts"] + b["flag_counts"], "hist_h": a["hist_h"] + b["hist_h"],
                "hist_l": a["hist_l"] + b["hist_l"], "boot": a["boot"].merge(b["boot"]), "used": a["used"] + b["used"],
                "max_h": max(a["max_h"], b["max_h"]), "max_l": max(a["max_l"], b["max_l"])}

    def finalize(self, state):
        state["items"] = sorted((item for _, item in _bottom_k(state["items"], self.max_items)), key=lambda t: t[0])
        return state
