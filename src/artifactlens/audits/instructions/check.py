"""The instruction check: the detectors, the duplicate finder and the open/closed tag over one batch
(*map*), and mergeable aggregates (*combine*): Poisson-bootstrap sums of every flag and error type,
overall, per source and per open/closed tag; instruction verb and template counts; a few examples.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...engine import BatchContext, Check, MapOutput
from ...stats import BootstrapSums, hash_keys, poisson_weights
from .dedupe import Deduplicator
from .detectors import ERROR_TYPES, Features
from .tags import qa_type

EXAMPLES_PER_FLAG = 3
TOP_KEEP = 2000  # verb/template counters are pruned to their most common entries after each merge


def _top(c: Counter, k: int = TOP_KEEP) -> Counter:
    return c if len(c) <= k else Counter(dict(c.most_common(k)))


class InstructionCheck(Check):
    """Columns added per row: ``<flag>`` (bool), ``<flag>_score``, one ``<error type>`` bool per error
    type, ``duplicate``, ``error`` (any error type), ``keep`` (no error, not a duplicate), ``qa_type``,
    ``flags`` (names, comma-joined) and ``reasons`` (``name: reason; ...``)."""

    name = "instructions"

    def __init__(self, detectors, dedupe: Deduplicator | None = None, seed: int = 0):
        self.detectors = list(detectors)
        self.dedupe = dedupe
        self.seed = seed

    def setup(self):
        for d in self.detectors:
            d.setup()

    def map(self, batch: pa.RecordBatch, ctx: BatchContext) -> MapOutput:
        f = Features(batch)
        n = f.n
        rows = batch.column("row").to_numpy()
        cols: dict[str, pa.Array] = {}
        values = {"n": np.ones(n)}
        fam = {t: np.zeros(n, bool) for t in ERROR_TYPES}
        flags = np.full(n, "", dtype=object)
        reasons = np.full(n, "", dtype=object)
        examples: dict[str, list] = {}
        scored = [(d, *self._score(d, f)) for d in self.detectors]
        if self.dedupe is not None:
            s, r = self.dedupe.score(batch, rows)
            scored.append((self.dedupe, s, r))
        for d, score, why in scored:
            flag = _decide(d, score)
            cols[d.name] = pa.array(flag)
            cols[f"{d.name}_score"] = pa.array(score, type=pa.float64())
            values[d.name] = flag.astype(np.float64)
            if d.family in fam:
                fam[d.family] |= flag
            idx = np.flatnonzero(flag)
            for i in idx:
                flags[i] = f"{flags[i]},{d.name}" if flags[i] else d.name
                reasons[i] = f"{reasons[i]}; {d.name}: {why[i]}" if reasons[i] else f"{d.name}: {why[i]}"
            examples[d.name] = [int(i) for i in idx[:EXAMPLES_PER_FLAG]]
        error = np.zeros(n, bool)
        for t, m in fam.items():
            cols[t] = pa.array(m)
            values[t] = m.astype(np.float64)
            error |= m
        dup = values.get("duplicate", np.zeros(n)) > 0
        values["error"] = error.astype(np.float64)
        tag = qa_type(f)
        cols.update({"error": pa.array(error), "keep": pa.array(~error & ~dup), "qa_type": tag,
                     "flags": pa.array(flags, type=pa.string()), "reasons": pa.array(reasons, type=pa.string())})
        return MapOutput(cols, self._state(batch, f, values, tag, examples, reasons, rows))

    @staticmethod
    def _score(d, f):
        rs = d.score_features(f)
        return np.asarray(rs.score, dtype=np.float64), rs.reason

    def _state(self, batch, f, values, tag, examples, reasons, rows):
        keys = hash_keys(batch.column("group").to_numpy())
        W = poisson_weights(keys, self.seed, 200).astype(np.float64)  # once per batch, shared by every group
        acc = BootstrapSums(self.seed)
        acc.add(keys, values, weights=W)
        summary = {k: values[k] for k in ("n", "error", *ERROR_TYPES, "duplicate") if k in values}
        by = {}
        for group, col in (("source", batch.column("source")), ("qa_type", tag)):
            enc = pc.dictionary_encode(col)
            codes = enc.indices.to_numpy()
            for j, level in enumerate(enc.dictionary.to_pylist()):
                m = codes == j
                sub = BootstrapSums(self.seed)
                sub.add(keys[m], {k: v[m] for k, v in summary.items()}, weights=W[m])
                by[(group, level)] = sub
        first = pc.list_element(pc.utf8_split_whitespace(f.ins_l), 0) if f.n else pa.array([], pa.string())
        verbs = Counter(dict(zip(*[x.to_pylist() for x in pc.value_counts(pc.drop_null(first)).flatten()])))
        tmpl = pc.utf8_slice_codeunits(pc.replace_substring_regex(f.ins_l, r"\d+|\"[^\"]*\"|'[^']*'|[^\pL\s]", ""), 0, 40)
        tmpl = pc.utf8_trim_whitespace(pc.replace_substring_regex(tmpl, r"^((?:\S+\s+){0,3}\S+).*$", r"\1"))
        templates = Counter(dict(zip(*[x.to_pylist() for x in pc.value_counts(tmpl).flatten()])))
        ex = {}
        for name, idx in examples.items():
            ex[name] = [{"row": int(rows[i]), "instruction": batch.column("instruction")[i].as_py()[:300],
                         "input": batch.column("input")[i].as_py()[:300], "output": batch.column("output")[i].as_py()[:300],
                         "source": batch.column("source")[i].as_py(), "reasons": reasons[i]} for i in idx]
        return {"acc": acc, "by": by, "verbs": _top(verbs), "templates": _top(templates), "examples": ex}

    def merge(self, a, b):
        by = dict(a["by"])
        for k, v in b["by"].items():
            by[k] = v if k not in by else by[k].merge(v)
        ex = {k: (a["examples"].get(k, []) + b["examples"].get(k, []))[:EXAMPLES_PER_FLAG]
              for k in set(a["examples"]) | set(b["examples"])}
        return {"acc": a["acc"].merge(b["acc"]), "by": by, "verbs": _top(a["verbs"] + b["verbs"]),
                "templates": _top(a["templates"] + b["templates"]), "examples": ex}


def _decide(d, score):
    """The flag from the score by the detector's recorded threshold (NaN: not scored, never flagged)."""
    s = np.asarray(score, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        out = s >= d.threshold if d.higher_is_worse else s <= d.threshold
    return out & np.isfinite(s)
