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

from .conversation import Conversation, Skip, Turn, _first, parse_outcome
from .traces import _msg_turn, _span_ids, ag2, is_error_text, is_span, metagpt, otel_spans, otel_trace, whowhen

FORMATS = ("camel", "spp", "turns", "chatdev", "whowhen", "ag2", "metagpt", "otel")
CAMEL_DONE = "<CAMEL_TASK_DONE>"
END_MARKERS = (CAMEL_DONE, "Finish collaboration", "Final answer:", "<INFO>", "TERMINATE")


class Fragment:
    """Part of a conversation spread over several records (an OpenTelemetry span, a MetaGPT message, a
    turn row): the reader gathers fragments by ``(kind, key)`` and parses each group at the end of the file."""

    __slots__ = ("kind", "key", "item")

    def __init__(self, kind: str, key: str, item: dict):
        self.kind, self.key, self.item = kind, key, item


_ROW_KEYS = ("conversation_id", "trace_id", "session_id", "dialogue_id", "chat_id")


def _messages(rec: dict):
    return rec.get("turns") if "turns" in rec else rec.get("messages")


def detect(rec: dict) -> str | None:
    """The format of one raw record, or None."""
    if any(k.startswith("raw_response") for k in rec):
        return "spp"
    if "message_1" in rec or "role_1" in rec or "specified_task" in rec or "original_task" in rec:
        return "camel"
    if "history" in rec and any(k in rec for k in ("mistake_agent", "question", "ground_truth")):
        return "whowhen"
    if "resourceSpans" in rec or is_span(rec):
        return "otel"
    if isinstance(rec.get("trace"), str) and "INFO]" in rec["trace"][:5000]:
        return "chatdev"  # a ChatDev log inside a record (the MAST / MAD layout: {mas_name, trace, ...})
    if "storage" in rec or isinstance(rec.get("env"), dict) or ("cause_by" in rec and "content" in rec):
        return "metagpt"
    msgs = _messages(rec) if ("turns" in rec or "messages" in rec) else rec.get("chat_history")
    if msgs is not None:
        if not isinstance(msgs, list):
            return "turns"  # refused by the parser with its reason
        first = next((m for m in msgs if isinstance(m, dict)), {})
        if "role_type" in first:
            return "camel"
        if "cause_by" in first:
            return "metagpt"
        if "chat_history" in rec or any(isinstance(m, dict) and (m.get("tool_calls") or m.get("tool_responses")
                                        or m.get("function_call") or m.get("role") == "tool") for m in msgs):
            return "ag2"
        return "turns"
    if any(k in rec for k in _ROW_KEYS) and any(k in rec for k in ("text", "content", "message")):
        return "turns"  # one turn per record
    return None


def parse_record(rec, where: int, fmt: str | None = None) -> list[Conversation] | Skip | Fragment:
    if not isinstance(rec, dict):
        return Skip("record is not a JSON object")
    if not rec:
        return Skip("empty record")
    f = fmt or detect(rec)
    if f is None:
        return Skip("record matches no transcript format (" + ", ".join(FORMATS) + ")")
    if f == "otel":
        if "resourceSpans" not in rec:
            return Fragment("otel", _span_ids(rec)[0], rec) if is_span(rec) else Skip("record is not a span")
        groups: dict[str, list] = {}
        for sp in otel_spans(rec):
            groups.setdefault(_span_ids(sp)[0], []).append(sp)
        out = [otel_trace(v, k, where) for k, v in groups.items()]
    elif f == "metagpt" and "cause_by" in rec and "content" in rec:
        return Fragment("metagpt", "", rec)
    elif f == "turns" and not ("turns" in rec or "messages" in rec) and any(k in rec for k in _ROW_KEYS):
        return Fragment("rows", str(next(rec[k] for k in _ROW_KEYS if k in rec)), rec)
    elif f == "chatdev":
        if not isinstance(rec.get("trace"), str):
            return Skip("'trace' is not a ChatDev log text")
        src = str(rec.get("trace_id") or rec.get("id") or f"line {where}")
        out = [_turns(r, where, "chatdev") for r in chatdev_records(rec["trace"], src)]
    else:
        out = {"camel": _camel, "spp": _spp, "turns": _turns, "whowhen": whowhen, "ag2": ag2,
               "metagpt": metagpt}[f](rec, where)
    if isinstance(out, Skip):
        return out
    convs = [c for c in _flatten(out) if isinstance(c, Conversation) and c.turns]
    for c in convs:
        c.format = c.format or f
    if convs:
        return convs
    skips = [c for c in _flatten(out) if isinstance(c, Skip)]
    return skips[0] if skips else Skip("transcript has no turns")


def _flatten(out):
    for c in out:
        if isinstance(c, list):
            yield from c
        else:
            yield c


def parse_fragments(kind: str, key: str, items: list[dict], where: int) -> list[Conversation] | Skip:
    """A gathered group of fragments -> conversations (see :class:`Fragment`)."""
    if kind == "otel":
        out = otel_trace(items, key, where)
        return out if isinstance(out, Skip) else [out]
    if kind == "metagpt":
        out = metagpt({"storage": items, "id": key or f"line {where}"}, where)
    else:
        out = _turns({"id": key, "turns": items, **{k: v for k, v in items[0].items()
                                                    if k in ("task", "outcome", "correct", "success")}}, where)
    return out if isinstance(out, Skip) else [c for c in out if c.turns] or Skip("transcript has no turns")


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
def _turns(rec: dict, where: int, fmt: str = "turns"):
    raw = _messages(rec)
    if not isinstance(raw, list):
        key = "turns" if "turns" in rec else "messages"
        return Skip(f"'{key}' is not a list of turns")
    turns = []
    for t in raw:
        if isinstance(t, str):
            t = {"text": t}
        if not isinstance(t, dict):
            continue
        spk = str(_first(t, "speaker", "name", "role_name", "agent", "role") or "?")
        role = str(_first(t, "role", "role_type") or spk).lower()
        text = _first(t, "text", "content", "message")
        turn = _msg_turn({**t, "content": text}, spk, role)
        turn.tool_call = turn.tool_call or (str(t["tool_call"]) if t.get("tool_call") else None)
        if t.get("tool_result") is not None:
            turn.tool_result = str(t["tool_result"])
            turn.error = bool(t.get("error")) or is_error_text(turn.tool_result)
        ts = _first(t, "timestamp", "time", "created_at")
        turn.timestamp = None if ts is None else str(ts)
        turns.append(turn)
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
    labels = {k: rec[k] for k in ("mistake_agent", "mistake_step", "mistake_reason", "ground_truth")
              if rec.get(k) is not None}
    if "mistake_step" in labels:
        try:
            labels["mistake_step"] = int(str(labels["mistake_step"]).strip())
        except ValueError:
            return Skip("'mistake_step' is not a step number")
    return [Conversation(cid, str(task), turns, outcome, "camel" if camel else "persona", terminated, aliases,
                         cid, where, labels, fmt)]


# -- ChatDev logs (CAMEL RolePlaying inside a software company) -> generic-turns records -------------
_STAMP = re.compile(r"^\[(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:[.,]\d+)?) (?:INFO|WARNING|DEBUG|ERROR)\] ?(?P<body>.*)$")
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
        body = m.group("body")
        h = o = None  # both bound on every line: a log whose first message is a new-format reply (2024) failed
        if body.startswith("System: **[chatting]**"):
            close()
            cur = {"task": task, "phase": "", "turns": []}
        elif body.startswith("**[Seminar Conclusion]**"):
            close(terminated=True)
        elif _OLD_END.match(body):
            close(terminated=True)
        elif (h := _NEW.match(body)) or (o := _OLD.match(body)):  # noqa: SIM114
            if o and o.group("k") == "0" and o.group("role") == "AI Assistant" and cur and cur["turns"]:
                close()  # older logs: a chat's first reply is numbered [0] again
            if cur is None:
                cur = {"task": task, "phase": "", "turns": []}
            if h:
                spk = h.group("spk").strip()
                role = "user" if "[Start Chat]" in body else "assistant"
            else:
                spk, role = f"{o.group('role')} ({o.group('name')})", o.group("role")[3:].lower()
            msg = {"speaker": spk, "role": role, "text": "", "timestamp": m.group("ts")}
            cur["turns"].append(msg)
    close()
    for r in recs:
        for t in r["turns"]:
            t["text"] = re.sub(r"^\s*\[ChatDev is .*?\]\s*\n", "", t["text"], count=1, flags=re.S).strip()
    return recs

