"""The simulation check: one engine pass maps a batch of conversation rows to per-turn flag rows.

``SimulationCheck.map`` expands rows (``expands_rows``): its input batch holds whole conversations
(:class:`~.inputs.ConversationSource`), its output one row per turn, so the engine streams per-turn
flags. The partial :class:`SimState` holds Poisson-bootstrap sums keyed by the conversation's source
record (intervals resample conversations) and the examples / timelines chosen by a hash of their id, so
the merged result does not depend on how the input was cut into batches (nor on the engine: local,
process pool, Ray, resumed). Values that are not integers (drift) are summed as integer nano-units so
the sums are exact in any order.
"""
from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ...engine.base import Check, MapOutput
from ...plain import state_type
from ...stats import BootstrapSums, GroupedSums, hash_keys
from ...text.embeddings import embed
from . import digression as dg
from .attribution import attribute, baselines, responsible, same_agent
from .conversation import Conversation
from .detectors import all_detectors
from .features import conversation_features, embedding_repeats, error_signature
from .inputs import from_rows
from .rules import FLIP_RULES, INTERRUPTION_RULES, repeats, turn_flags
from .traces import TOOL_SPEAKER

ARTIFACTS = {"flip": "role flip", "interruption": "interruption", "digression": "digression", "loop": "loop"}
LENGTH_BINS = ((1, 4), (5, 8), (9, 12), (13, 20), (21, None))
NANO = 1e9
EXAMPLES_PER_FLAG = 3
TIMELINES = 3
ATTRIBUTION_ROWS = 100
BASELINES = {"most_frequent_agent": "agent", "last_speaker": "agent", "first_step": "step", "last_step": "step"}
_NON_ANSWER = re.compile(r"(?i)\b(cannot|can't|could not|couldn't|unable to|no (?:relevant )?"
                                       r"information|not (?:been )?found|not available|i don't know|unknown)\b")
_STEP_ITEM = re.compile(r"(?m)^\s*(?:\d+[.)]|step \d+[:.)]?|[-*•])\s+(.+)$", )
_RESTART = re.compile(r"(?i)\b(start(?:ing)? over|from scratch|start again|begin again|restart(?:ing)? "
                                    r"the task)\b")
DETECTOR_COLUMNS = [d.name for d in all_detectors()]


@dataclass
class SimulationConfig:
    """Options of the check; every threshold is recorded in ``result.params``."""

    format: str | None = None
    digression_threshold: float = dg.DIGRESSION_THRESHOLD
    min_run: int = dg.MIN_RUN
    loop_threshold: float = 90.0
    seed: int = 0
    judge: object = None  # an LLMJudge, or None (default: nothing leaves the machine)
    embeddings: str | None = None  # "minilm", "static", or None (embed()'s default)
    embeddings_kind: str = "minilm"  # what actually scores
    device: str | None = None  # where MiniLM runs (--device)


def _bin(n: int) -> str:
    for lo, hi in LENGTH_BINS:
        if n >= lo and (hi is None or n <= hi):
            return f"{lo}-{hi}" if hi else f"{lo}+"
    return "0"


def flag_schema() -> pa.Schema:
    base = [("conversation_id", pa.string()), ("line", pa.int64()), ("turn", pa.int64()), ("speaker", pa.string()),
            ("role", pa.string()), ("flags", pa.string()), ("reasons", pa.string()), ("role_flip", pa.bool_()),
            ("interruption", pa.bool_()), ("digression", pa.bool_()), ("repeat", pa.bool_()),
            ("task_similarity", pa.float64()), ("repeat_of", pa.int64()), ("judge_off_task", pa.bool_())]
    det = []
    for name in DETECTOR_COLUMNS:
        if name not in ("role_flip", "interruption"):
            det.append((name, pa.bool_()))
        det.append((f"{name}_score", pa.float64()))
    tail = [("mast_modes", pa.string()), ("responsible_agent", pa.string()), ("attributed_step", pa.bool_())]
    return pa.schema(base + det + tail)


FLAG_SCHEMA = flag_schema()


def _key(s: str) -> int:
    return zlib.crc32(s.encode("utf-8", "replace"))


@state_type("simulations.SimState")
@dataclass
class SimState:
    acc: BootstrapSums
    by_length: GroupedSums = None  # task outcome per length bin of the conversation (turns)
    lengths: Counter = field(default_factory=Counter)
    rule_turns: Counter = field(default_factory=Counter)
    rule_convs: Counter = field(default_factory=Counter)
    examples: list = field(default_factory=list)    # (flag, key, example)
    timelines: list = field(default_factory=list)   # (-score, key, figure spec)
    attribution: list = field(default_factory=list)  # (key, table row)
    n_turns: int = 0
    long_traces: int = 0

    def merge(self, o: "SimState") -> "SimState":
        return SimState(self.acc.merge(o.acc), self.by_length.merge(o.by_length), self.lengths + o.lengths, self.rule_turns + o.rule_turns,
                        self.rule_convs + o.rule_convs, _keep_examples(self.examples + o.examples),
                        sorted(self.timelines + o.timelines, key=lambda t: t[:2])[:TIMELINES],
                        sorted(self.attribution + o.attribution, key=lambda t: t[0])[:ATTRIBUTION_ROWS],
                        self.n_turns + o.n_turns, self.long_traces + o.long_traces)


def _keep_examples(ex: list) -> list:
    out, seen = [], Counter()
    for e in sorted(ex, key=lambda e: (e[0], e[1])):
        if seen[e[0]] < EXAMPLES_PER_FLAG:
            out.append(e)
            seen[e[0]] += 1
    return out


class SimulationCheck(Check):
    """Rules, detectors, digression, attribution over batches of whole conversations (see module doc)."""

    name = "simulations"
    pure_map = True
    expands_rows = True

    def __init__(self, cfg):
        self.cfg = cfg
        self.detectors = all_detectors()
        for d in self.detectors:
            if d.name == "semantic_repetition" and cfg.embeddings_kind == "static":
                d.threshold = 0.98  # static cosines sit higher (unrelated texts: median 0.57)

    def map(self, batch: pa.RecordBatch, ctx) -> MapOutput:
        cols, st = map_conversations(from_rows(batch), self.cfg, self.detectors)
        return MapOutput(cols, st)

    def merge(self, a, b):
        return a.merge(b)


def _turn_vectors(convs: list[Conversation], embeddings, device=None):
    texts = [dg.clean_for_embedding(t.text) for c in convs for t in c.turns]
    tasks = [dg.clean_for_embedding(c.task, dg.TASK_MAX_WORDS) for c in convs]
    uniq = list(dict.fromkeys(texts + tasks))
    pos = {t: i for i, t in enumerate(uniq)}
    vecs = embed(uniq, kind=embeddings, device=device) if uniq else np.zeros((0, 1), dtype=np.float32)
    return vecs, [pos[t] for t in texts], [pos[t] for t in tasks], texts


def _conv_columns(c: Conversation, sim: np.ndarray, vecs: np.ndarray, cfg) -> dict:
    """Feature columns of one conversation's turns (the detectors' input)."""
    texts = [t.text for t in c.turns]
    speakers = [t.speaker for t in c.turns]
    n = len(texts)
    f = conversation_features(texts, speakers)
    emb_sim, emb_of = embedding_repeats(vecs)
    short = np.array([len(t.split()) < dg.MIN_WORDS for t in texts])
    emb_sim[short] = np.nan
    stale = np.zeros(n, dtype=np.int64)
    run = 0
    for i in range(n):
        nov = f.novelty[i]
        run = run + 1 if (i > 0 and (np.isnan(nov) or nov <= 0.2)) else 0
        stale[i] = run
    reset = np.where(np.arange(n) >= 2, np.nan_to_num(f.first_sim), 0.0)
    reset[[i for i, t in enumerate(texts) if i >= 2 and _RESTART.search(t)]] = 1.0
    tool = [t.tool_result is not None or t.role in ("tool", "function") or bool(TOOL_SPEAKER.search(t.speaker))
            for t in c.turns]
    err = np.array([t.error for t in c.turns], dtype=np.int64)
    sigs: Counter = Counter()
    err_rep = np.zeros(n, dtype=np.int64)
    for i, t in enumerate(c.turns):
        if t.error:
            k = error_signature(t.tool_result or t.text)
            sigs[k] += 1
            err_rep[i] = sigs[k]
    prem = np.zeros(n)
    end = f.stop_at if f.stop_at >= 0 else (n - 1 if c.terminated else -1)
    if end >= 0:
        answer = texts[end]
        if len(answer.split()) <= 3 and end > 0:  # "TERMINATE": the answer is the turn before
            answer = texts[end - 1]
        steps = [m.group(1) for m in _STEP_ITEM.finditer(c.task or "")]
        if _NON_ANSWER.search(answer[-400:]):
            prem[end] = 1.0
        elif len(steps) >= 2:
            said = " ".join(texts[: end + 1]).lower()
            missed = sum(not any(w in said for w in _content_words(s)) for s in steps)
            prem[end] = missed / len(steps)
    flags = turn_flags(c)
    return {"ngram_sim": f.ngram_sim, "ngram_of": f.ngram_of, "emb_sim": emb_sim, "emb_of": emb_of,
            "stale_run": stale, "after_stop": f.after_stop, "stop_at": np.full(n, f.stop_at),
            "reset_score": reset, "self_sim": f.self_sim, "self_of": f.self_of, "error_repeat": err_rep,
            "tool_error": err, "premature_score": prem,
            "flip_rules": [",".join(r for r in fl if r in FLIP_RULES) for fl in flags],
            "interruption_rules": [",".join(r for r in fl if r in INTERRUPTION_RULES) for fl in flags],
            "_flags": flags, "_tool": tool}


def _content_words(step: str) -> list[str]:
    return [w for w in step.lower().split() if len(w) >= 6][:3] or step.lower().split()[:1]


def map_conversations(convs: list[Conversation], cfg, detectors) -> tuple[dict, SimState]:
    """Per-turn flag columns for a batch of conversations, and the batch's partial state."""
    vecs, tpos, kpos, cleaned = _turn_vectors(convs, cfg.embeddings, cfg.device)
    rows: dict[str, list] = {f.name: [] for f in FLAG_SCHEMA}
    vals: list[dict] = []
    st = SimState(BootstrapSums(cfg.seed), GroupedSums(cfg.seed))
    pos = 0
    if cfg.judge is not None and hasattr(cfg.judge, "prefetch"):  # the model judge: one call for the batch
        cfg.judge.prefetch([c.task for c in convs for _ in c.turns], [t.text for c in convs for t in c.turns])
    for c in convs:
        n = len(c.turns)
        tv = vecs[tpos[pos:pos + n]]
        pos += n
        v_task = vecs[kpos[len(vals)]]
        s = np.round((tv @ v_task).astype(np.float64), 6)
        s[[len(t.split()) < dg.MIN_WORDS for t in cleaned[pos - n:pos]]] = np.nan
        if not dg.clean_for_embedding(c.task, dg.TASK_MAX_WORDS):
            s[:] = np.nan
        fc = _conv_columns(c, s, tv, cfg)
        flags = fc.pop("_flags")
        tool = fc.pop("_tool")
        batch = pa.RecordBatch.from_pydict({k: (list(v) if isinstance(v, list) else v) for k, v in fc.items()})
        det_flags, det_scores, det_reasons = {}, {}, {}
        for d in detectors:
            rs = d.score(batch)
            det_flags[d.name] = d.decide(rs.score)
            det_scores[d.name] = np.asarray(rs.score, dtype=np.float64)
            det_reasons[d.name] = rs.reason
        rep, rep_of = repeats([t.text for t in c.turns], cfg.loop_threshold)
        digr = np.isfinite(s) & (s <= cfg.digression_threshold)
        judged = [cfg.judge.judge(c.task, t.text) if cfg.judge else None for t in c.turns]
        jflags = [[JUDGE_FLAG] if j else [f"{JUDGE_FLAG}_invalid"] if j is None and cfg.judge is not None else []
                  for j in judged]  # the model judge's flags (beside the embedding threshold's "digression")
        hits: list[list[str]] = []
        marks_all = []
        conv_rules: set = set()
        for i, t in enumerate(c.turns):
            f = list(flags[i])
            why = [FLIP_RULES.get(r) or INTERRUPTION_RULES[r] for r in flags[i]]
            if digr[i]:
                f.append("digression")
                why.append(f"similarity to the task {s[i]:.2f} <= {cfg.digression_threshold:.2f}")
            if rep[i] >= cfg.loop_threshold:
                f.append("repeat")
                why.append(f"near-identical (ratio {rep[i]:.0f}) to turn {rep_of[i]}")
            if jflags[i]:
                f += jflags[i]
                why.append("model judge: off task" if judged[i] else
                           f"model judge: unparsed answer {str(getattr(cfg.judge, 'raw', _none)(c.task, t.text))[:300]!r}")
            h = [d.name for d in detectors if det_flags[d.name][i]]
            for name in h:
                if name not in ("role_flip", "interruption"):
                    f.append(name)
                    why.append(det_reasons[name][i])
            hits.append(h + (["digression"] if digr[i] else []))
            conv_rules.update(f)
            st.rule_turns.update(f)
            marks_all.append(why)
        failed = c.outcome is not None and c.outcome < 1 or bool(c.labels.get("mistake_agent"))
        guess = attribute([t.speaker for t in c.turns], [t.text for t in c.turns], tool, hits) if failed else None
        resp_agents = _responsible(c, tool)
        for i, t in enumerate(c.turns):
            modes = sorted({d.family for d in detectors if det_flags[d.name][i] and d.family}
                           | ({"FM-2.3"} if digr[i] else set()))
            base = (("conversation_id", c.id), ("line", c.line), ("turn", i), ("speaker", t.speaker),
                    ("role", t.role), ("flags", ",".join(dict.fromkeys(_f(flags[i], digr[i], rep[i], cfg, hits[i]) + jflags[i]))),
                    ("reasons", "; ".join(marks_all[i])), ("role_flip", bool(det_flags["role_flip"][i])),
                    ("interruption", bool(det_flags["interruption"][i])), ("digression", bool(digr[i])),
                    ("repeat", bool(rep[i] >= cfg.loop_threshold)),
                    ("task_similarity", None if not np.isfinite(s[i]) else float(s[i])),
                    ("repeat_of", int(rep_of[i]) if rep[i] >= cfg.loop_threshold else None),
                    ("judge_off_task", judged[i]))
            for k, val in base:
                rows[k].append(val)
            for d in detectors:
                if d.name not in ("role_flip", "interruption"):
                    rows[d.name].append(bool(det_flags[d.name][i]))
                sc = det_scores[d.name][i]
                rows[f"{d.name}_score"].append(None if not np.isfinite(sc) else float(sc))
            rows["mast_modes"].append(",".join(modes))
            rows["responsible_agent"].append(resp_agents[i])
            rows["attributed_step"].append(guess is not None and guess["step"] == i)
            if marks_all[i]:
                key = _key(f"{c.id}#{i}")
                first = (flags[i] + (["digression"] if digr[i] else []) + (["repeat"] if rep[i] >= cfg.loop_threshold
                                                                           else []) + hits[i] + jflags[i])[0]
                st.examples.append((first, key, {"row": f"{c.id}#{i}", "title": f"{c.id}, turn {i}: {t.speaker}",
                                                 "fields": {"task": c.task[:400], "turn": t.text[:800]},
                                                 "reasons": marks_all[i]}))
        st.examples = _keep_examples(st.examples)
        st.rule_convs.update(conv_rules)
        st.lengths[n] += 1
        st.n_turns += n
        st.long_traces += n > 256
        v = _conv_values(c, s, digr, flags, conv_rules, det_flags, detectors, cfg, judged)
        if guess is not None:
            v.update(_attribution_values(c, guess))
            st.attribution.append((_key(c.id), [c.id, guess["agent"], guess["step"], c.labels.get("mistake_agent"),
                                                c.labels.get("mistake_step"), ",".join(guess["evidence"]),
                                                "; ".join(f"{a} ({w:g})" for a, w in guess["ranking"])]))
        vals.append(v)
        score = sum(len(m) > 0 for m in marks_all) / (n + 1) + 2 * v["flip"] + 2 * v["digression"] + v["interruption"]
        score += 3 * (guess is not None)
        if any(marks_all):
            turns = []
            for i, (t, m) in enumerate(zip(c.turns, marks_all)):
                mk = list(m)
                if guess is not None and guess["step"] == i:
                    mk.insert(0, f"ATTRIBUTED decisive step: {guess['agent']} ({guess['rule']})")
                turns.append({"speaker": f"[{i}] {t.speaker}", "text": t.text[:600], "marks": mk})
            st.timelines.append((-round(score, 9), _key(c.id), {"id": c.id, "task": c.task, "turns": turns,
                                                                  "guess": None if guess is None else
                                                                  {k: guess[k] for k in ("agent", "step")}}))
        st.timelines = sorted(st.timelines, key=lambda t: t[:2])[:TIMELINES]
        st.attribution = sorted(st.attribution, key=lambda t: t[0])[:ATTRIBUTION_ROWS]
    keys = hash_keys([c.group or c.id for c in convs])
    names = sorted({k for v in vals for k in v})
    st.acc.add(keys, {k: np.array([float(v.get(k, 0.0)) for v in vals]) for k in names})
    known = [c.outcome is not None for c in convs]
    st.by_length.add([_bin(len(c.turns)) if k else None for c, k in zip(convs, known)], keys,
                     {"has": np.ones(len(convs)), "out": np.array([float(c.outcome or 0.0) for c in convs])})
    cols = {k: pa.array(v, type=FLAG_SCHEMA.field(k).type) for k, v in rows.items()}
    return cols, st


def _f(flags, digr, rep, cfg, hits):
    out = list(flags) + (["digression"] if digr else []) + (["repeat"] if rep >= cfg.loop_threshold else [])
    return out + [h for h in hits if h not in ("role_flip", "interruption", "digression")]


JUDGE_FLAG = "llm_digression"  # the model judge's per-turn flag (and f"{JUDGE_FLAG}_invalid")


def _none(*_):
    return None


def _responsible(c: Conversation, tool: list[bool]) -> list[str | None]:
    return responsible([t.speaker for t in c.turns], tool)


def _conv_values(c, s, digr, flags, conv_rules, det_flags, detectors, cfg, judged) -> dict:
    n = len(c.turns)
    a = {"flip": any(r in FLIP_RULES for r in conv_rules),
         "interruption": any(r in INTERRUPTION_RULES for r in conv_rules),
         "digression": dg.longest_run(digr) >= cfg.min_run, "loop": "repeat" in conv_rules}
    has, out = (c.outcome is not None), (c.outcome or 0.0)
    d = dg.drift(s)
    v = {"n": 1, "turns": n, "has": has, "out": out,
         "flips": sum(any(r in FLIP_RULES for r in fl) for fl in flags),
         "interruptions": sum(any(r in INTERRUPTION_RULES for r in fl) for fl in flags),
         "unterminated": not c.terminated, "drift": 0.0 if np.isnan(d) else round(d * NANO),
         "has_drift": not np.isnan(d), "dig_turns": int(digr.sum()), "scored_turns": int(np.isfinite(s).sum())}
    for k, x in a.items():
        v[k], v[f"{k}_has"], v[f"{k}_out"] = x, x and has, out if x else 0.0
    for d_ in detectors:
        hit = bool(det_flags[d_.name].any())
        v[f"det_{d_.name}"] = hit
        v[f"det_{d_.name}_turns"] = int(det_flags[d_.name].sum())
        if has:
            v[f"det_{d_.name}_has"], v[f"det_{d_.name}_out"] = hit, out if hit else 0.0
    v["turns_all"] = n
    if cfg.judge:
        jd = np.array([bool(j) for j in judged])
        ok = np.array([j is not None for j in judged])
        v.update(judge_dig=dg.longest_run(jd) >= cfg.min_run, judge_agree=int((jd == digr)[ok].sum()),
                 judge_turns=int(ok.sum()), judge_invalid=int((~ok).sum()))
    return v


def _attribution_values(c: Conversation, guess: dict) -> dict:
    v = {"failed": 1}
    agent, step = c.labels.get("mistake_agent"), c.labels.get("mistake_step")
    if agent is None:
        return v
    speakers = [t.speaker for t in c.turns]
    base = {**baselines(speakers), **{k: v for k, v in baselines([s for s in speakers if s.lower() != "human"]).items()
                                      if k in ("most_frequent_agent", "last_speaker")}}
    v["lab"] = 1
    v["attr_agent"] = same_agent(guess["agent"], agent)
    v["attr_step"] = step is not None and guess["step"] == step
    v["lab_step"] = step is not None
    for name, kind in BASELINES.items():
        if kind == "agent":
            v[f"base_{name}"] = same_agent(base[name], agent)
        else:
            v[f"base_{name}"] = step is not None and base[name] == step
    return v
