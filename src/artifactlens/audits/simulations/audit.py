"""The simulation audit: parse transcripts, flag turns, aggregate by conversation, link to outcomes.

Map/combine as every check: conversations are read in chunks (``chunk_size``); each chunk is *mapped*
to per-turn flag rows (streamed to ``--flags`` with :class:`~artifactlens.io.RowWriter`) and a partial
:class:`_State` (Poisson-bootstrap sums keyed by the conversation's source record, counters, examples);
states *merge* by addition, so chunks could run anywhere. Intervals resample whole conversations.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa

from ...io.readers import file_sha256, open_source
from ...io.writers import RowWriter
from ...result import AuditResult, InputInfo
from ...stats import BootstrapSums, hash_keys
from . import digression as dg
from .parsers import FORMATS, Conversation, Skip, chatdev_records, detect, parse_record
from .rules import FLIP_RULES, INTERRUPTION_RULES, LOOP_THRESHOLD, repeats, turn_flags

ARTIFACTS = {"flip": "role flip", "interruption": "interruption", "digression": "digression", "loop": "loop"}
LENGTH_BINS = ((1, 4), (5, 8), (9, 12), (13, 20), (21, None))
FLAG_SCHEMA = pa.schema([("conversation_id", pa.string()), ("line", pa.int64()), ("turn", pa.int64()),
                         ("speaker", pa.string()), ("role", pa.string()), ("flags", pa.string()),
                         ("reasons", pa.string()), ("role_flip", pa.bool_()), ("interruption", pa.bool_()),
                         ("digression", pa.bool_()), ("repeat", pa.bool_()), ("task_similarity", pa.float64()),
                         ("repeat_of", pa.int64()), ("judge_off_task", pa.bool_())])
THRESHOLDS = {"role_flip_rate": (0.05, 0.2), "interruption_rate": (0.1, 0.3), "digression_rate": (0.1, 0.3),
              "loop_rate": (0.05, 0.2), "unterminated_rate": (0.1, 0.3)}


@dataclass
class SimulationConfig:
    """Options of the audit; every threshold is recorded in ``result.params``."""

    format: str | None = None
    digression_threshold: float = dg.DIGRESSION_THRESHOLD
    min_run: int = dg.MIN_RUN
    loop_threshold: float = LOOP_THRESHOLD
    chunk_size: int = 512
    seed: int = 0
    judge: object = None  # an LLMJudge, or None (default: nothing leaves the machine)
    embeddings: str | None = None  # "minilm", "static", or None (embed()'s default: env var decides)


def _bin(n: int) -> str:
    for lo, hi in LENGTH_BINS:
        if n >= lo and (hi is None or n <= hi):
            return f"{lo}-{hi}" if hi else f"{lo}+"
    return "0"


# -- reading -------------------------------------------------------------------------------------------
def iter_records(path: Path, encoding: str, skipped: Counter):
    """(where, record) over a JSON/JSONL file, or over every .json/.jsonl file of a folder (CAMEL dumps);
    lines that are not JSON are counted into ``skipped`` by the reader."""
    files = sorted(p for p in path.rglob("*") if p.suffix in (".json", ".jsonl", ".log")) if path.is_dir() else [path]
    for f in files:
        if f.suffix == ".log":  # ChatDev logs: one generic-turns record per chat
            yield from enumerate(chatdev_records(f.read_text(encoding=encoding, errors="replace"), f.name), 1)
            continue
        src = open_source(f, encoding=encoding, on_bad_line="skip")
        yield from src.records()
        skipped.update(src.skipped)


def iter_conversations(path: Path, cfg: SimulationConfig, info: InputInfo, encoding: str = "utf-8",
                       formats: Counter | None = None) -> Iterator[Conversation]:
    """Conversations from ``path``; records that give none are counted in ``info`` by reason."""
    reader_skips: Counter = Counter()
    for where, rec in iter_records(path, encoding, reader_skips):
        info.rows_read += 1
        out = parse_record(rec, where, cfg.format)
        if isinstance(out, Skip):
            info.skip(str(out))
            continue
        info.rows_used += 1
        if formats is not None:
            formats[cfg.format or detect(rec)] += 1
        yield from out
    for reason, n in reader_skips.items():
        info.skip(reason, n)
        info.rows_read += n


# -- map: one chunk of conversations ------------------------------------------------------------------
@dataclass
class _State:
    acc: BootstrapSums
    lengths: Counter = field(default_factory=Counter)
    rule_turns: Counter = field(default_factory=Counter)
    rule_convs: Counter = field(default_factory=Counter)
    examples: list = field(default_factory=list)
    timeline: tuple = (-1.0, None)
    n_turns: int = 0

    def merge(self, o: "_State") -> "_State":
        return _State(self.acc.merge(o.acc), self.lengths + o.lengths, self.rule_turns + o.rule_turns,
                      self.rule_convs + o.rule_convs, (self.examples + o.examples)[:40],
                      max(self.timeline, o.timeline, key=lambda t: t[0]), self.n_turns + o.n_turns)


def map_chunk(convs: list[Conversation], cfg: SimulationConfig) -> tuple[pa.RecordBatch, _State]:
    """Per-turn flag rows for a chunk of conversations, and the chunk's partial state."""
    texts = [t.text for c in convs for t in c.turns]
    tasks = [c.task for c in convs for _ in c.turns]
    sim = dg.task_similarity(texts, tasks, embeddings=cfg.embeddings)
    rows: dict[str, list] = {f.name: [] for f in FLAG_SCHEMA}
    vals: list[dict] = []
    st = _State(BootstrapSums(cfg.seed))
    pos = 0
    for c in convs:
        n = len(c.turns)
        s = sim[pos:pos + n]
        pos += n
        flags = turn_flags(c)
        rep, rep_of = repeats([t.text for t in c.turns], cfg.loop_threshold)
        digr = np.isfinite(s) & (s <= cfg.digression_threshold)
        judged = [cfg.judge.judge(c.task, t.text) if cfg.judge else None for t in c.turns]
        conv_rules: set = set()
        marks_all = []
        for i, t in enumerate(c.turns):
            f, why = list(flags[i]), [FLIP_RULES.get(r) or INTERRUPTION_RULES[r] for r in flags[i]]
            if digr[i]:
                f.append("digression")
                why.append(f"similarity to the task {s[i]:.2f} <= {cfg.digression_threshold:.2f}")
            if rep[i] >= cfg.loop_threshold:
                f.append("repeat")
                why.append(f"near-identical (ratio {rep[i]:.0f}) to turn {rep_of[i]}")
            conv_rules.update(f)
            st.rule_turns.update(f)
            marks_all.append(why)
            for k, v in (("conversation_id", c.id), ("line", c.line), ("turn", i), ("speaker", t.speaker),
                         ("role", t.role), ("flags", ",".join(f)), ("reasons", "; ".join(why)),
                         ("role_flip", any(r in FLIP_RULES for r in f)),
                         ("interruption", any(r in INTERRUPTION_RULES for r in f)), ("digression", bool(digr[i])),
                         ("repeat", bool(rep[i] >= cfg.loop_threshold)),
                         ("task_similarity", None if not np.isfinite(s[i]) else float(s[i])),
                         ("repeat_of", int(rep_of[i]) if rep[i] >= cfg.loop_threshold else None),
                         ("judge_off_task", judged[i])):
                rows[k].append(v)
            if f and len(st.examples) < 40 and sum(e["flag"] == f[0] for e in st.examples) < 3:
                st.examples.append({"flag": f[0], "row": f"{c.id}#{i}", "title": f"{c.id}, turn {i}: {t.speaker}",
                                    "fields": {"task": c.task[:400], "turn": t.text[:800]}, "reasons": why})
        st.rule_convs.update(conv_rules)
        st.lengths[n] += 1
        st.n_turns += n
        a = {"flip": any(r in FLIP_RULES for r in conv_rules),
             "interruption": any(r in INTERRUPTION_RULES for r in conv_rules),
             "digression": dg.longest_run(digr) >= cfg.min_run, "loop": "repeat" in conv_rules}
        nflip = sum(any(r in FLIP_RULES for r in fl) for fl in flags)
        nint = sum(any(r in INTERRUPTION_RULES for r in fl) for fl in flags)
        has, out = (c.outcome is not None), (c.outcome or 0.0)
        d = dg.drift(s)
        v = {"n": 1, "turns": n, "has": has, "out": out, "flips": nflip, "interruptions": nint,
             "unterminated": not c.terminated, "drift": 0.0 if np.isnan(d) else d, "has_drift": not np.isnan(d),
             "dig_turns": int(digr.sum()), "scored_turns": int(np.isfinite(s).sum())}
        for k, x in a.items():
            v[k], v[f"{k}_has"], v[f"{k}_out"] = x, x and has, out if x else 0.0
        b = _bin(n)
        v[f"len{b}_has"], v[f"len{b}_out"] = has, out if has else 0.0
        if cfg.judge:
            jd = np.array([bool(j) for j in judged])
            ok = np.array([j is not None for j in judged])
            v.update(judge_dig=dg.longest_run(jd) >= cfg.min_run, judge_agree=int((jd == digr)[ok].sum()),
                     judge_turns=int(ok.sum()))
        vals.append(v)
        score = 2 * a["flip"] + 2 * a["digression"] + a["interruption"] + sum(map(bool, marks_all)) / (n + 1)
        if score > st.timeline[0]:
            st.timeline = (score, {"id": c.id, "task": c.task, "turns": [
                {"speaker": t.speaker, "text": t.text[:600], "marks": m} for t, m in zip(c.turns, marks_all)]})
    keys = hash_keys([c.group or c.id for c in convs])
    names = sorted({k for v in vals for k in v})
    st.acc.add(keys, {k: np.array([float(v.get(k, 0.0)) for v in vals]) for k in names})
    return pa.RecordBatch.from_pydict(rows, schema=FLAG_SCHEMA), st


# -- the audit ----------------------------------------------------------------------------------------
def audit_simulations(path, *, format: str | None = None, digression_threshold: float | None = None,
                      min_run: int = dg.MIN_RUN, loop_threshold: float = LOOP_THRESHOLD, judge=None,
                      flags: str | None = None, seed: int = 0, encoding: str = "utf-8",
                      chunk_size: int = 512, embeddings: str | None = None) -> AuditResult:
    """Audit multi-agent transcripts (CAMEL, SPP or generic turns) in ``path`` (JSON, JSONL, or a folder).

    Returns an :class:`AuditResult` with conversation-level rates (role flips, interruptions,
    digression, loops), task accuracy split by each artifact and by length, all with 95% intervals
    from a Poisson bootstrap over conversations; ``flags`` writes one row per turn.
    """
    from ...errors import InputError
    if format is not None and format not in FORMATS:
        raise InputError(f"unknown format '{format}'", column="--format", expected=" or ".join(FORMATS))
    path = Path(path)
    if not path.exists():
        raise InputError("no such file", path=path, expected="a JSON or JSONL file of transcripts, or a folder")
    if embeddings is not None and embeddings not in dg.EMBEDDINGS:
        raise InputError(f"unknown embeddings '{embeddings}'", column="--embeddings",
                         expected=" or ".join(dg.EMBEDDINGS))
    if digression_threshold is None:  # the labelled-data threshold of the model that scores (static: its own)
        from ...text.static_embeddings import static_folder
        digression_threshold = dg.default_threshold(embeddings or ("static" if static_folder() else "minilm"))
    cfg = SimulationConfig(format, digression_threshold, min_run, loop_threshold, chunk_size, seed, judge, embeddings)
    info = InputInfo(path=str(path), sha256=file_sha256(path))
    formats: Counter = Counter()
    state: _State | None = None
    writer = RowWriter(flags) if flags else None
    n_rows = 0
    with (writer or _Null()) as w:
        chunk: list[Conversation] = []
        for conv in _chain(iter_conversations(path, cfg, info, encoding, formats), [None]):
            if conv is not None:
                chunk.append(conv)
            if chunk and (conv is None or len(chunk) >= cfg.chunk_size):
                batch, part = map_chunk(chunk, cfg)
                state = part if state is None else state.merge(part)
                n_rows += batch.num_rows
                if w is not None:
                    w.write(batch)
                chunk = []
    info.format = "+".join(sorted(formats)) or format
    if state is None:
        raise InputError(f"no transcript could be read ({_reasons(info)})", path=path,
                         expected="CAMEL, SPP or generic-turns records")
    from .report import build_result
    return build_result(state, cfg, info, flags_path=flags, flag_rows=n_rows)


def _reasons(info: InputInfo) -> str:
    return "; ".join(f"{n} {r}" for r, n in info.rows_skipped.items()) or "the file holds no records"


def _chain(a, b):
    yield from a
    yield from b


class _Null:
    def __enter__(self):
        return None

    def __exit__(self, *a):
        return False
