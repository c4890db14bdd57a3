"""Transcripts to :class:`Conversation` objects: CAMEL role-play, Solo Performance Prompting, generic turns.

Plain :mod:`re` and dict walking over the raw JSON objects of :meth:`DataSource.records` (the formats are
nested, so Arrow batches do not fit). A record that cannot become a conversation is not an error: the
parser returns the reason (``Skip``) and the audit counts it in ``result.input.rows_skipped``.

Formats (recognised per record unless ``fmt`` is given):

- ``camel``: CAMEL AI-Society JSON: ``role_1``/``role_2``, ``original_task``/``specified_task``,
  ``message_1..N`` each ``{role_type: USER|ASSISTANT, role_name, content}`` (or a ``messages`` list of
  the same); termination ``<CAMEL_TASK_DONE>``.
- ``spp``: Solo Performance Prompting logs: ``raw_response[0].choices[0].message.content`` is
  ``"Participants: A; B; ..."`` then ``Persona: utterance`` lines; task ``task_data.inputs`` (or its
  questions / word list); outcome ``test_output_infos[0]`` (``correct``, ``correct_count/question_count``,
  ``matched_count/target_count``). A record with several ``raw_response_<part>`` fields gives one
  conversation per part.
- ``turns``: ``{id?, task?, outcome?, turns|messages: [{speaker|name, role, text|content}]}``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

FORMATS = ("camel", "spp", "turns")
CAMEL_DONE = "<CAMEL_TASK_DONE>"
END_MARKERS = (CAMEL_DONE, "Finish collaboration", "Final answer:", "<INFO>", "TERMINATE")


@dataclass
class Turn:
    speaker: str
    role: str  # user | assistant (CAMEL protocol), lead | persona (SPP), or as given
    text: str


@dataclass
class Conversation:
    """One transcript. ``style`` picks the rules: ``camel`` (Instruction/Solution protocol) or ``persona``.

    ``aliases`` maps each speaker to the names it goes by (used to spot a speaker speaking as another);
    ``group`` is the bootstrap resampling unit (the source record)."""

    id: str
    task: str
    turns: list[Turn]
    outcome: float | None = None
    style: str = "persona"
    terminated: bool = False
    aliases: dict[str, set] = field(default_factory=dict)
    group: str = ""
    line: int | None = None


class Skip(str):
    """A reason why a record gives no conversation."""


def detect(rec: dict) -> str | None:
    """The format of one raw record, or None."""
    if any(k.startswith("raw_response") for k in rec):
        return "spp"
    if "message_1" in rec or "role_1" in rec or "specified_task" in rec or "original_task" in rec:
        return "camel"
    if isinstance(rec.get("turns"), list) or isinstance(rec.get("messages"), list):
        msgs = rec.get("messages") or []
        if msgs and isinstance(msgs[0], dict) and "role_type" in msgs[0]:
            return "camel"
        return "turns"
    return None


def parse_record(rec, where: int, fmt: str | None = None) -> list[Conversation] | Skip:
    if not isinstance(rec, dict):
        return Skip("record is not a JSON object")
    if not rec:
        return Skip("empty record")
    f = fmt or detect(rec)
    if f is None:
        return Skip("record matches no transcript format (camel, spp, turns)")
    out = {"camel": _camel, "spp": _spp, "turns": _turns}[f](rec, where)
    if isinstance(out, Skip):
        return out
    convs = [c for c in out if c.turns]
    return convs or Skip("transcript has no turns")


# -- outcomes ---------------------------------------------------------------------------------------
def parse_outcome(v) -> float | None:
    """bool / 0-1 number / 'true'/'correct' / {correct | correct_count/question_count | matched/target}."""
    if isinstance(v, list):
        v = v[0] if v else None
    if v is None:
        return None
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v) if 0 <= v <= 1 else None
    if isinstance(v, str):
        s = v.strip().lower()
        if s in ("true", "correct", "yes", "success", "1", "1.0"):
            return 1.0
        if s in ("false", "incorrect", "wrong", "no", "failure", "0", "0.0"):
            return 0.0
        return None
    if isinstance(v, dict):
        if "correct" in v:
            return parse_outcome(v["correct"])
        for num, den in (("correct_count", "question_count"), ("matched_count", "target_count")):
            if num in v and v.get(den):
                return float(v[num]) / float(v[den])
    return None


def _first(rec: dict, *keys):
    for k in keys:
        if rec.get(k) is not None:
            return rec[k]
    return None


# -- CAMEL ------------------------------------------------------------------------------------------
def _camel(rec: dict, where: int):
    if isinstance(rec.get("messages"), list):
        msgs = rec["messages"]
    else:
        keys = sorted((k for k in rec if re.fullmatch(r"message_\d+", k)), key=lambda k: int(k[8:]))
        msgs = [rec[k] for k in keys]
    names = {"user": _strip_prefix(rec.get("role_2"), "AI User_"), "assistant": _strip_prefix(rec.get("role_1"), "AI Assistant_")}
    turns = []
    for m in msgs:
        if not isinstance(m, dict):
            continue
        rt = str(m.get("role_type") or m.get("role") or "").lower()
        role = "user" if rt.startswith("user") else "assistant" if rt.startswith("assistant") else rt or "unknown"
        name = m.get("role_name") or names.get(role) or ""
        names[role] = names.get(role) or name
        label = f"AI {role.title()} ({name})" if name else f"AI {role.title()}"
        turns.append(Turn(label, role, str(m.get("content") or "")))
    aliases = {t.speaker: {f"AI {t.role.title()}", t.speaker} | ({names[t.role]} if names.get(t.role) else set())
               for t in turns}
    term = rec.get("termination_reason")
    terminated = any(CAMEL_DONE in t.text for t in turns) or (isinstance(term, str) and CAMEL_DONE in term)
    task = _first(rec, "specified_task", "original_task", "task") or ""
    cid = str(_first(rec, "id", "conversation_id") or f"line {where}")
    return [Conversation(cid, str(task), turns, parse_outcome(_first(rec, "outcome", "correct", "success")),
                         "camel", terminated, aliases, cid, where)]


def _strip_prefix(s, prefix):
    if not isinstance(s, str):
        return None
    return s[len(prefix):] if s.startswith(prefix) else s


# -- Solo Performance Prompting ---------------------------------------------------------------------
_PARTICIPANTS = re.compile(r"^\s*\**Participants\**\s*:\s*(.+)$", re.M)
_SPP_END = re.compile(r"^\s*\**(Finish collaboration|Final answer)\b", re.I)
_SPP_SKIP = re.compile(r"^\s*\**Start collaboration", re.I)


def _spp_text(resp) -> str | None:
    if isinstance(resp, list):
        resp = resp[0] if resp else None
    if isinstance(resp, str):
        return resp
    if isinstance(resp, dict):
        try:
            return resp["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            return resp.get("content") or resp.get("text")
    return None


def spp_task(td) -> str:
    """The task statement from SPP ``task_data``: ``inputs``, or the questions, or the word list."""
    if isinstance(td, str):
        return td
    if not isinstance(td, dict):
        return ""
    if td.get("inputs"):
        return str(td["inputs"])
    if td.get("questions"):
        topic = f"Write a short and coherent story about {td['topic']} that incorporates the answers to: " \
            if td.get("topic") else ""
        return topic + " ".join(map(str, td["questions"]))
    if td.get("word_list"):
        return "Codenames: give or guess a one-word hint linking target words among: " + ", ".join(map(str, td["word_list"]))
    return " ".join(str(v) for v in td.values() if isinstance(v, str))


def split_spp(text: str) -> tuple[list[Turn], list[str], bool]:
    """``Persona: utterance`` lines -> turns (continuation lines join the open turn)."""
    m = _PARTICIPANTS.search(text)
    if not m:
        return [], [], False
    parts = [p.strip(" *.") for p in re.split(r"[;,]", m.group(1)) if p.strip(" *.")]
    names = sorted(parts, key=len, reverse=True)
    head = re.compile(r"^\s*\**(" + "|".join(re.escape(n) for n in names) + r")\**\s*:\s?(.*)$", re.I)
    canon = {n.lower(): n for n in parts}
    turns: list[Turn] = []
    terminated = False
    for line in text[m.end():].splitlines():
        if _SPP_END.match(line):
            terminated = True
            break
        if _SPP_SKIP.match(line):
            continue
        h = head.match(line)
        if h:
            spk = canon[h.group(1).lower()]
            role = "lead" if spk.lower().startswith("ai assistant") else "persona"
            turns.append(Turn(spk, role, h.group(2)))
        elif turns:
            turns[-1].text += "\n" + line
    for t in turns:
        t.text = t.text.strip()
    return turns, parts, terminated


def _spp(rec: dict, where: int):
    fields = [k for k in rec if k.startswith("raw_response")]
    gid = str(_first(rec, "idx", "id") if _first(rec, "idx", "id") is not None else f"line {where}")
    outcome = parse_outcome(rec.get("test_output_infos"))
    task = spp_task(rec.get("task_data"))
    convs, reasons = [], []
    for f in fields:
        text = _spp_text(rec[f])
        if not text:
            reasons.append("response has no text")
            continue
        turns, parts, terminated = split_spp(text)
        if not parts:
            reasons.append("response has no 'Participants:' line")
            continue
        if not turns:
            reasons.append("response has no turns")
            continue
        aliases = {p: {p, re.sub(r"\s*\(you\)$", "", p)} for p in parts}
        cid = gid if len(fields) == 1 else f"{gid}:{f[len('raw_response_'):]}"
        convs.append(Conversation(cid, task, turns, outcome, "persona", terminated, aliases, gid, where))
    return convs or Skip(reasons[0] if reasons else "response has no text")


# -- generic turns ----------------------------------------------------------------------------------
def _turns(rec: dict, where: int):
    raw = rec.get("turns") if isinstance(rec.get("turns"), list) else rec.get("messages")
    turns = []
    for t in raw or []:
        if isinstance(t, str):
            t = {"text": t}
        if not isinstance(t, dict):
            continue
        spk = str(_first(t, "speaker", "name", "role_name", "role") or "?")
        role = str(_first(t, "role", "role_type") or spk).lower()
        turns.append(Turn(spk, role, str(_first(t, "text", "content", "message") or "")))
    roles = {t.role for t in turns}
    camel = {"user", "assistant"} <= roles and any(re.search(r"(?m)^\s*(Instruction|Solution)\s*:", t.text)
                                                   for t in turns)
    aliases: dict[str, set] = {}
    for t in turns:
        aliases.setdefault(t.speaker, {t.speaker}).update({f"AI {t.role.title()}"} if camel else set())
    for p in rec.get("participants") or []:
        aliases.setdefault(str(p), {str(p)})
    term = rec.get("terminated")
    terminated = bool(term) if term is not None else any(m in turns[-1].text for m in END_MARKERS) if turns else False
    cid = str(_first(rec, "id", "conversation_id", "idx") or f"line {where}")
    task = _first(rec, "task", "task_statement", "prompt", "instruction") or ""
    outcome = parse_outcome(_first(rec, "outcome", "correct", "success", "solved", "label"))
    return [Conversation(cid, str(task), turns, outcome, "camel" if camel else "persona", terminated, aliases,
                         cid, where)]


# -- ChatDev logs (CAMEL RolePlaying inside a software company) -> generic-turns records -------------
_STAMP = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO\] ?(.*)$")
_NEW = re.compile(r"^(?P<spk>[^:*\n]+): \*\*(?:\[Start Chat\]|[^*<]+<->[^*]+? on : (?P<phase>[^,]+), turn \d+)\*\*")
_OLD = re.compile(r"^(?:\x1b\[\d+m)?\[(?P<k>\d+)\] (?P<role>AI Assistant|AI User) \((?P<name>[^)]+)\):\s*$")
_OLD_END = re.compile(r"^(?:\x1b\[\d+m)?\[\d+\] (AI Assistant|AI User) \([^)]+\) terminated the chat")


def chatdev_records(text: str, source: str = "log") -> list[dict]:
    """A ChatDev log -> one generic-turns record per role-playing chat.

    Newer logs: ``System: **[chatting]**`` opens a chat (task and phase in its table); ``X: **[Start
    Chat]**`` is the instructing role's message, ``X: **X<->Y on : Phase, turn N**`` a reply; ``[Seminar
    Conclusion]`` closes it. Older logs: ``[k] AI Assistant (Role):`` / ``[k] AI User (Role):`` messages,
    ``... terminated the chat.`` or a new ``[0] AI Assistant`` reply closes the chat. The system preamble ``[ChatDev is ...]`` is dropped."""
    task = (re.search(r"\*\*task_prompt\*\*:?\s*\|?\s*(.+?)\s*\|?\s*$", text, re.M) or [None, ""])[1]
    recs: list[dict] = []
    cur: dict | None = None
    msg: dict | None = None

    def close(terminated=False):
        nonlocal cur
        if cur is not None and cur["turns"]:
            cur["terminated"] = terminated or any("<INFO>" in t["text"] for t in cur["turns"])
            cur["id"] = f"{source}#{len(recs)}" + (f" {cur.pop('phase')}" if cur.get("phase") else "")
            cur.pop("phase", None)
            recs.append(cur)
        cur = None

    for line in text.splitlines():
        m = _STAMP.match(line)
        if not m:
            if msg is not None:
                msg["text"] += line + "\n"
            elif cur is not None and cur.get("phase") == "" and "**phase_name**" in line:
                cur["phase"] = line.split("|")[2].strip()
            continue
        msg = None
        body = m.group(1)
        if body.startswith("System: **[chatting]**"):
            close()
            cur = {"task": task, "phase": "", "turns": []}
        elif body.startswith("**[Seminar Conclusion]**"):
            close(terminated=True)
        elif _OLD_END.match(body):
            close(terminated=True)
        elif (h := _NEW.match(body)) or (o := _OLD.match(body)):
            if o and o.group("k") == "0" and o.group("role") == "AI Assistant" and cur and cur["turns"]:
                close()  # older logs: a chat's first reply is numbered [0] again
            if cur is None:
                cur = {"task": task, "phase": "", "turns": []}
            if h:
                spk = h.group("spk").strip()
                role = "user" if "[Start Chat]" in body else "assistant"
            else:
                spk, role = f"{o.group('role')} ({o.group('name')})", o.group("role")[3:].lower()
            msg = {"speaker": spk, "role": role, "text": ""}
            cur["turns"].append(msg)
    close()
    for r in recs:
        for t in r["turns"]:
            t["text"] = re.sub(r"^\s*\[ChatDev is .*?\]\s*\n", "", t["text"], count=1, flags=re.S).strip()
    return recs
