"""The instruction check: the detectors, the duplicate finder and the open/closed tag over one batch
(*map*), and mergeable aggregates (*combine*): Poisson-bootstrap sums of every flag and error type,
overall, per source and per open/closed tag (bucketed :class:`~artifactlens.stats.BootstrapSums`: one
``bincount`` per value and batch); instruction verb and template counts; a few examples.

``map`` is pure (it declares ``pure_map``, so the local engine's process pool and Ray may split it): the
duplicate finder only hashes and signs the batch there. The "seen before" lookup needs every earlier
row, so it runs in ``sequential`` (driver process, input order), which also finishes the columns that
depend on it (``duplicate``, ``keep``, ``flags``, ``reasons``) and the examples.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from ...engine import BatchContext, Check, MapOutput
from ...stats import BootstrapSums, GroupedSums, hash_keys
from .dedupe import Deduplicator
from .detectors import ERROR_TYPES, Features
from .tags import qa_type

EXAMPLES_PER_FLAG = 3
TOP_KEEP = 2000  # verb/template counters are pruned to their most common entries after each merge
REPLICATES, BUCKETS = 200, 4096
GROUPS = ("source", "qa_type")


def _top(c: Counter, k: int = TOP_KEEP) -> Counter:
    return c if len(c) <= k else Counter(dict(c.most_common(k)))


def _join(parts: np.ndarray, add: np.ndarray, idx: np.ndarray, sep: str) -> None:
    """``parts[i] += sep + add[i]`` (or ``= add[i]`` where empty) for the rows ``idx``."""
    for i in idx:
        parts[i] = f"{parts[i]}{sep}{add[i]}" if parts[i] else add[i]


class InstructionCheck(Check):
    """Columns added per row: ``<flag>`` (bool), ``<flag>_score``, one ``<error type>`` bool per error
    type, ``duplicate``, ``error`` (any error type), ``keep`` (no error, not a duplicate), ``qa_type``,
    ``flags`` (names, comma-joined) and ``reasons`` (``name: reason; ...``)."""

    name = "instructions"
    pure_map = True  # map scores each row from its batch alone; the duplicate lookup is in sequential

    def __init__(self, detectors, dedupe: Deduplicator | None = None, seed: int = 0, checked_rows=()):
        self.detectors = list(detectors)
        self.dedupe = dedupe
        self.seed = seed
        self.checked_rows = np.unique(np.asarray(list(checked_rows), dtype=np.int64))  # --checked: flags kept

    def setup(self):
        for d in self.detectors:
            d.setup()

    def bootstrap(self) -> BootstrapSums:
        return BootstrapSums(self.seed, REPLICATES, buckets=BUCKETS)

    def map(self, batch: pa.RecordBatch, ctx: BatchContext) -> MapOutput:
        f = Features(batch)
        n = f.n
        cols: dict[str, pa.Array] = {}
        values = {"n": np.ones(n)}
        fam = {t: np.zeros(n, bool) for t in ERROR_TYPES}
        flags = np.full(n, "", dtype=object)
        reasons = np.full(n, "", dtype=object)
        examples: dict[str, list] = {}
        for d in self.detectors:
            rs = d.score_features(f) if hasattr(d, "score_features") else d.score(batch)  # (a model's Detector)
            score = np.asarray(rs.score, dtype=np.float64)
            flag = d.decide(score)
            cols[d.name] = pa.array(flag)
            cols[f"{d.name}_score"] = pa.array(score, type=pa.float64())
            values[d.name] = flag.astype(np.float64)
            if d.family in fam:  # not the model's invalid answers: counted and kept, not an error
                fam[d.family] |= flag
            idx = np.flatnonzero(flag)
            if idx.size:
                flags[idx] = np.where(flags[idx] == "", d.name, flags[idx] + ("," + d.name))
                _join(reasons, _reasons(d.name, rs.reason, idx, n), idx, "; ")
            examples[d.name] = idx[:EXAMPLES_PER_FLAG]
        error = np.zeros(n, bool)
        for t, m in fam.items():
            values[t] = m.astype(np.float64)
            error |= m
        values["error"] = error.astype(np.float64)
        tag = qa_type(f)
        buckets = (hash_keys(batch.column("group").to_numpy(zero_copy_only=False)) % np.uint64(BUCKETS)).astype(np.int64)
        acc, by = self.bootstrap(), GroupedSums(self.seed, REPLICATES, buckets=BUCKETS)  # by (group, level)
        acc.add_buckets(buckets, values)
        levels = {}
        for group, col in (("source", batch.column("source")), ("qa_type", tag)):
            enc = pc.dictionary_encode(col)
            codes = enc.indices.to_numpy(zero_copy_only=False)
            levels[group] = (codes, [(group, level) for level in enc.dictionary.to_pylist()])
            by.add_buckets(codes, buckets, {k: values[k] for k in ("n", "error", *ERROR_TYPES)},
                           labels=levels[group][1])
        pending = {"dedupe": self.dedupe.prepare(batch) if self.dedupe is not None else None, "fam": fam,
                   "error": error, "flags": pa.array(flags, type=pa.string()),  # Arrow: cheap to pickle
                   "reasons": pa.array(reasons, type=pa.string()), "tag": tag, "buckets": buckets,
                   "levels": levels, "examples": examples}
        verbs, templates = _diversity(f)
        return MapOutput(cols, {"acc": acc, "by": by, "verbs": verbs, "templates": templates, "pending": pending})

    def sequential(self, batch: pa.RecordBatch, out: MapOutput, ctx: BatchContext) -> MapOutput:
        """Duplicates against every earlier row, then the columns and examples that depend on them."""
        state = dict(out.state)
        p = state.pop("pending")
        rows = batch.column("row").to_numpy(zero_copy_only=False)
        n = len(rows)
        cols = dict(out.columns)
        flags, reasons, examples = p["flags"], p["reasons"], dict(p["examples"])
        dup = np.zeros(n, bool)
        if self.dedupe is not None:
            score, first, near_first = self.dedupe.find(p["dedupe"], rows)
            dup = self.dedupe.decide(score)
            cols["duplicate"], cols["duplicate_score"] = pa.array(dup), pa.array(score, type=pa.float64())
            idx = np.flatnonzero(dup)
            if idx.size:  # append "duplicate" to the flags and its reason to the reasons of those rows
                take, mask = pa.array(idx, type=pa.int64()), pa.array(dup)
                why = pc.binary_join_element_wise("duplicate: ", self.dedupe.reason_texts(score, first, near_first, idx), "")
                old_f, old_r = flags.take(take), reasons.take(take)
                flags = pc.replace_with_mask(flags, mask, pc.if_else(pc.equal(old_f, ""), "duplicate",
                                                                     pc.binary_join_element_wise(old_f, "duplicate", ",")))
                reasons = pc.replace_with_mask(reasons, mask, pc.if_else(pc.equal(old_r, ""), why,
                                                                         pc.binary_join_element_wise(old_r, why, "; ")))
            examples["duplicate"] = idx[:EXAMPLES_PER_FLAG]
            d = dup.astype(np.float64)
            state["acc"].add_buckets(p["buckets"], {"duplicate": d})
            for codes, strata in p["levels"].values():
                state["by"].add_buckets(codes, p["buckets"], {"duplicate": d}, labels=strata)
        for t in ERROR_TYPES:
            cols[t] = pa.array(p["fam"][t])
        cols.update({"error": pa.array(p["error"]), "keep": pa.array(~p["error"] & ~dup), "qa_type": p["tag"],
                     "flags": flags, "reasons": reasons})
        state["examples"] = {name: [_example(batch, i, reasons) for i in idx] for name, idx in examples.items()}
        state["checked"] = {}
        if self.checked_rows.size:  # the flags of the hand-checked rows (first normalised row of each)
            hit = np.flatnonzero(np.isin(rows, self.checked_rows))
            names = [d.name for d in self.detectors] + (["duplicate"] if self.dedupe is not None else []) + ["error"]
            for i in hit:
                state["checked"].setdefault(int(rows[i]), {k: bool(cols[k][int(i)].as_py()) for k in names})
        return MapOutput(cols, state)

    def merge(self, a, b):
        by = a["by"].merge(b["by"])
        ex = {k: (a["examples"].get(k, []) + b["examples"].get(k, []))[:EXAMPLES_PER_FLAG]
              for k in set(a["examples"]) | set(b["examples"])}
        return {"acc": a["acc"].merge(b["acc"]), "by": by, "verbs": _top(a["verbs"] + b["verbs"]),
                "templates": _top(a["templates"] + b["templates"]), "examples": ex,
                "checked": {**b.get("checked", {}), **a.get("checked", {})}}


def _reasons(name: str, why, idx: np.ndarray, n: int) -> np.ndarray:
    out = np.empty(n, dtype=object)
    out[idx] = [f"{name}: {why[i]}" for i in idx]
    return out


def _example(batch: pa.RecordBatch, i: int, reasons) -> dict:
    col = lambda c: batch.column(c)[int(i)].as_py()
    return {"row": int(col("row")), "instruction": col("instruction")[:300], "input": col("input")[:300],
            "output": col("output")[:300], "source": col("source"), "reasons": reasons[int(i)].as_py()}


def _diversity(f: Features) -> tuple[Counter, Counter]:
    """Counts of the instructions' first word and of their first four words (numbers, quotes and
    punctuation removed). The template regexes run in Polars (Rust regex, ~2x RE2's replace here) with
    RE2's ASCII classes spelled out (``\\d`` = ``[0-9]``, ``\\s`` = ``[\\t\\n\\f\\r ]``), so the
    result is the same as ``pyarrow.compute.replace_substring_regex`` with ``\\d``/``\\s``."""
    first = pc.list_element(pc.utf8_split_whitespace(f.ins_l, max_splits=1), 0) if f.n else pa.array([], pa.string())
    verbs = Counter(dict(zip(*[x.to_pylist() for x in pc.value_counts(pc.drop_null(first)).flatten()])))
    tmpl = pl.from_arrow(f.ins_l).str.replace_all(r"[0-9]+|\"[^\"]*\"|'[^']*'|[^\pL\t\n\f\r ]", "").str.slice(0, 40)
    tmpl = tmpl.str.replace(rf"^((?:{_NS}+{_S}+){{0,3}}{_NS}+).*$", "$1")  # first four words
    tmpl = pc.utf8_trim_whitespace(tmpl.to_arrow())
    templates = Counter(dict(zip(*[x.to_pylist() for x in pc.value_counts(tmpl).flatten()])))
    return _top(verbs), _top(templates)


_S, _NS = r"[\t\n\f\r ]", r"[^\t\n\f\r ]"  # RE2's \s and \S

