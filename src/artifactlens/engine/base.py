"""The check contract: a pure *map* over a record batch, then a *combine* of partial aggregates.

A :class:`Check` never reads files or knows how batches are scheduled; an engine (local, process pool,
Ray Data) feeds it batches and merges the partial states it returns, in any order. ``merge`` must be
associative and commutative (counts, sums, moments, :class:`~artifactlens.stats.BootstrapSums`), which is
what makes the local and the Ray engine give the same answer.

Row-level decisions follow one contract (cleanlab Datalab's issue managers; NeMo Curator's filters):
a :class:`Detector` *scores* each row and gives a reason; the flag is *decided* later from the score by a
stated, recorded threshold. :class:`DetectorCheck` runs a list of detectors and aggregates their flags.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pyarrow as pa

from ..stats import BootstrapSums, hash_keys


@dataclass
class BatchContext:
    """Where a batch sits in the input: ``row_offset`` is the 0-based index of its first row."""

    batch_index: int
    row_offset: int
    seed: int = 0

    def row_ids(self, n: int) -> np.ndarray:
        return np.arange(self.row_offset, self.row_offset + n, dtype=np.int64)


@dataclass
class MapOutput:
    """What ``Check.map`` returns: per-row columns (same length as the batch, or None; any length for a check
    with ``expands_rows``) and a partial state."""

    columns: dict[str, pa.Array] | None
    state: Any


class Check(ABC):
    """A map/combine computation over record batches. Subclasses set ``name``."""

    name: str = "check"
    #: False where ``map`` keeps state from one batch to the next (e.g. "seen before" sets): engines then
    #: run it in one process, in input order. Better: keep ``map`` pure and move that part to ``sequential``.
    #: Set it to True in your class to say you checked: the local engine then uses its process pool
    #: automatically on large inputs (see :mod:`.local`).
    pure_map: bool = True
    #: True where ``map`` returns columns of another length than its batch (one row per turn of a batch of
    #: conversations): engines then write those columns alone to the flags file, never beside the input rows
    expands_rows: bool = False

    @abstractmethod
    def map(self, batch: pa.RecordBatch, ctx: BatchContext) -> MapOutput:
        """Per-row features/flags for one batch and its partial aggregate. Must be pure."""

    def sequential(self, batch: pa.RecordBatch, out: MapOutput, ctx: BatchContext) -> MapOutput:
        """Optional second step, run by every engine in the driver process, in input order, after ``map``
        (which may have run on another worker): for what needs every earlier row, such as "duplicate of
        an earlier row". Keep it cheap (compare keys computed in ``map``). Default: ``out`` unchanged."""
        return out

    @abstractmethod
    def merge(self, a: Any, b: Any) -> Any:
        """Combine two partial states (associative, commutative)."""

    def finalize(self, state: Any) -> Any:
        """Turn the merged state into the check's output (metrics, tables...)."""
        return state

    def setup(self) -> None:
        """Load models or other heavy state once per process/actor (called by the engine)."""


@dataclass
class RowScores:
    """A detector's per-row output: ``score`` (n,) float, ``reason`` (n,) str or None where nothing applies."""

    score: np.ndarray
    reason: list


class Detector(ABC):
    """Scores rows; the flag is decided from the score by ``threshold``.

    ``higher_is_worse`` says which side of the threshold is flagged (``score >= threshold`` when True,
    ``score <= threshold`` when False; ``strict = True`` makes it ``>`` / ``<``). Subclasses document what
    they catch and their measured precision.
    """

    name: str = "detector"
    description: str = ""
    threshold: float = 0.5
    higher_is_worse: bool = True
    family: str | None = None  # e.g. the paper's error type this detector maps onto
    strict: bool = False  # flag only beyond the threshold, not at it

    @abstractmethod
    def score(self, batch: pa.RecordBatch) -> RowScores:
        ...

    def decide(self, scores: np.ndarray) -> np.ndarray:
        s = np.asarray(scores, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            if self.strict:
                out = s > self.threshold if self.higher_is_worse else s < self.threshold
            else:
                out = s >= self.threshold if self.higher_is_worse else s <= self.threshold
        return out & np.isfinite(s)

    def setup(self) -> None:
        """Load models once (embeddings, language id)."""

    def config(self) -> dict:
        return {"threshold": self.threshold, "higher_is_worse": self.higher_is_worse,
                "description": self.description, "family": self.family}


class DetectorCheck(Check):
    """Run detectors over each batch; add ``<name>`` (bool), ``<name>_score``, ``<name>_reason`` columns plus
    ``flags`` (comma-joined names) and ``keep``; aggregate each flag's rate with a Poisson-bootstrap interval.

    ``group_column`` resamples by group (prompt, conversation) instead of by row.
    """

    name = "detectors"
    pure_map = True  # detectors score each row from its batch alone

    def __init__(self, detectors: Sequence[Detector], group_column: str | None = None, seed: int = 0,
                 extra_groups: Sequence[str] = ()):
        self.detectors = list(detectors)
        self.group_column = group_column
        self.seed = seed
        self.extra_groups = list(extra_groups)  # columns to break rates down by (e.g. "source")

    def setup(self) -> None:
        for d in self.detectors:
            d.setup()

    def map(self, batch: pa.RecordBatch, ctx: BatchContext) -> MapOutput:
        n = batch.num_rows
        cols: dict[str, pa.Array] = {}
        any_flag = np.zeros(n, dtype=bool)
        names_per_row = [[] for _ in range(n)]
        values: dict[str, np.ndarray] = {"n": np.ones(n)}
        for d in self.detectors:
            rs = d.score(batch)
            flag = d.decide(rs.score)
            any_flag |= flag
            for i in np.flatnonzero(flag):
                names_per_row[i].append(d.name)
            cols[d.name] = pa.array(flag)
            cols[f"{d.name}_score"] = pa.array(np.asarray(rs.score, dtype=np.float64))
            cols[f"{d.name}_reason"] = pa.array([r if f else None for r, f in zip(rs.reason, flag)], type=pa.string())
            values[d.name] = flag.astype(np.float64)
        values["any"] = any_flag.astype(np.float64)
        cols["flags"] = pa.array([",".join(x) for x in names_per_row], type=pa.string())
        cols["keep"] = pa.array(~any_flag)
        if self.group_column and self.group_column in batch.schema.names:
            keys = hash_keys(batch.column(self.group_column).to_pylist())
        else:
            keys = hash_keys(ctx.row_ids(n))
        acc = BootstrapSums(self.seed)
        acc.add(keys, values)
        by_group: dict[str, dict] = {}
        for g in self.extra_groups:
            if g in batch.schema.names:
                vals = batch.column(g).to_pylist()
                for level in set(vals):
                    mask = np.array([v == level for v in vals])
                    sub = BootstrapSums(self.seed)
                    sub.add(keys[mask], {k: v[mask] for k, v in values.items()})
                    by_group.setdefault(g, {})[str(level)] = sub
        flagged_rows = ctx.row_ids(n)[any_flag][:50].tolist()
        return MapOutput(cols, {"acc": acc, "by_group": by_group, "examples": flagged_rows})

    def merge(self, a, b):
        by_group = {g: dict(v) for g, v in a["by_group"].items()}
        for g, levels in b["by_group"].items():
            for lvl, acc in levels.items():
                cur = by_group.setdefault(g, {}).get(lvl)
                by_group[g][lvl] = acc if cur is None else cur.merge(acc)
        ex = sorted(a["examples"] + b["examples"])[:50]
        return {"acc": a["acc"].merge(b["acc"]), "by_group": by_group, "examples": ex}
