"""Agent-framework traces to :class:`~.parsers.Conversation`: Who&When, AG2/AutoGen, MetaGPT, OpenTelemetry.

Plain dict walking over the documented layouts (no framework is imported); each parser returns
conversations or a :class:`~.parsers.Skip` reason, like the parsers of :mod:`.parsers`.

- ``whowhen``: the Who&When benchmark (Zhang et al., ICML 2025): ``history`` (``[{content, role, name?}]``),
  ``question``, ``ground_truth``, labels ``mistake_agent``, ``mistake_step`` (an index into ``history``),
  ``mistake_reason``. The agent is ``name`` where given (AG2 group chats), else ``role`` without its
  parenthesised channel (Magentic-One: ``Orchestrator (-> WebSurfer)`` is the Orchestrator).
- ``ag2``: AG2/AutoGen group chats: ``GroupChat.messages`` or ``ChatResult.chat_history`` saved as JSON:
  ``[{content, role, name, tool_calls?: [{id, function: {name, arguments}}], tool_responses?: [...]}]``;
  ``summary`` is the final answer.
- ``metagpt``: MetaGPT ``Message`` dicts (``content``, ``role``, ``cause_by``, ``sent_from``, ``send_to``),
  as a list, a ``Memory`` (``storage``), or a serialised team (``env.history.storage``, ``idea``).
- ``otel``: OpenTelemetry spans with GenAI semantic-convention attributes (``gen_ai.operation.name``,
  ``gen_ai.agent.name``, ``gen_ai.tool.name``, ``gen_ai.input.messages`` / ``gen_ai.output.messages``,
  ``gen_ai.tool.call.arguments`` / ``.result``, ``error.type``), as an OTLP JSON export (``resourceSpans``)
  or the SDK's console-exporter objects, one trace per ``traceId``; turns in tree order (parent first,
  siblings by start time).
"""
from __future__ import annotations

import json
import re

from .conversation import Conversation, Skip, Turn, parse_outcome

TOOL_SPEAKER = re.compile(r"(?i)(terminal|executor|\btool\b|^tool[:_]|code_?exec|computer_?terminal|^computer)")
_ERROR_TEXT = re.compile(r"(?im)(exitcode:\s*[1-9]|^traceback \(most recent call last\)|^\w*error:|execution failed"
                         r"|error processing|\bexception:|command not found|no such file or directory)")
_PAREN = re.compile(r"\s*\(.*\)\s*$")


def is_error_text(text: str) -> bool:
    """A tool output that reports a failure (non-zero exit code, traceback, ``...Error:``)."""
    return bool(_ERROR_TEXT.search(text or ""))


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, list):  # content parts: [{type: text, text: ...}]
        return "\n".join(_text(x.get("text", x.get("content")) if isinstance(x, dict) else x) for x in v)
    if isinstance(v, dict):
        return _text(v.get("content", v.get("text"))) if ("content" in v or "text" in v) else json.dumps(v)
    return str(v)


def _msg_turn(m: dict, speaker: str, role: str) -> Turn:
    """A chat message (AG2 / OpenAI style) as a turn, with its tool calls and tool responses."""
    text = _text(m.get("content"))
    calls = m.get("tool_calls") or ([m["function_call"]] if isinstance(m.get("function_call"), dict) else [])
    call = None
    if calls:
        parts = []
        for c in calls:
            f = c.get("function", c) if isinstance(c, dict) else {}
            parts.append(f"{f.get('name', '?')}({_text(f.get('arguments'))})")
        call = "; ".join(parts)
    result = None
    if m.get("tool_responses") or role in ("tool", "function"):
        result = "\n".join(_text(r.get("content")) for r in m.get("tool_responses") or []) or text
    elif TOOL_SPEAKER.search(speaker):
        result = text
    err = result is not None and is_error_text(result)
    return Turn(speaker, role, text, call, result, None, err)


# -- Who&When -----------------------------------------------------------------------------------------
def whowhen(rec: dict, where: int):
    hist = rec.get("history")
    if not isinstance(hist, list):
        return Skip("'history' is not a list of messages")
    turns = []
    for m in hist:
        if not isinstance(m, dict):
            return Skip("a 'history' message is not an object")
        name = m.get("name")
        role = str(m.get("role") or "")
        speaker = str(name) if name else (_PAREN.sub("", role) or "?")
        if speaker.lower() == "human":
            speaker, role = "human", "user"
        turns.append(_msg_turn(m, speaker, role or "assistant"))
    labels = {}
    for k in ("mistake_agent", "mistake_reason", "ground_truth"):
        if rec.get(k) is not None:
            labels[k] = str(rec[k])
    if rec.get("mistake_step") is not None:
        try:
            labels["mistake_step"] = int(str(rec["mistake_step"]).strip())
        except ValueError:
            return Skip("'mistake_step' is not a step number")
    outcome = parse_outcome(rec.get("is_correct"))
    if outcome is None and "mistake_agent" in labels:
        outcome = 0.0  # a labelled mistake: the run failed
    cid = str(rec.get("question_ID") or rec.get("id") or f"line {where}")
    return [Conversation(cid, str(rec.get("question") or ""), turns, outcome, "persona",
                         any("TERMINATE" in t.text for t in turns[-2:]), {t.speaker: {t.speaker} for t in turns},
                         cid, where, labels, "whowhen")]


# -- AG2 / AutoGen ------------------------------------------------------------------------------------
def ag2_messages(rec: dict):
    for k in ("chat_history", "messages", "history"):
        if k in rec:
            return rec[k]
    return None


def ag2(rec: dict, where: int):
    msgs = ag2_messages(rec)
    if not isinstance(msgs, list):
        return Skip("'messages' is not a list of turns")
    turns = []
    for m in msgs:
        if not isinstance(m, dict):
            continue
        role = str(m.get("role") or "assistant")
        speaker = str(m.get("name") or role)
        turns.append(_msg_turn(m, speaker, role))
    summary = rec.get("summary")
    task = rec.get("task") or rec.get("question") or (turns[0].text if turns else "")
    cid = str(rec.get("id") or rec.get("chat_id") or f"line {where}")
    return [Conversation(cid, str(task), turns, parse_outcome(rec.get("outcome", rec.get("success"))), "persona",
                         any("TERMINATE" in t.text for t in turns[-2:]) or bool(summary),
                         {t.speaker: {t.speaker} for t in turns}, cid, where, {}, "ag2")]


# -- MetaGPT ------------------------------------------------------------------------------------------
def metagpt_messages(rec: dict):
    if isinstance(rec.get("storage"), list):
        return rec["storage"]
    env = rec.get("env")
    if isinstance(env, dict) and isinstance(env.get("history"), dict):
        return env["history"].get("storage")
    return rec.get("messages")


def _short_class(path) -> str:
    s = str(path or "")
    return s.rsplit(".", 1)[-1] if s else ""


def metagpt(rec: dict, where: int):
    msgs = metagpt_messages(rec)
    if not isinstance(msgs, list):
        return Skip("'storage' is not a list of messages")
    turns = []
    for m in msgs:
        if not isinstance(m, dict):
            continue
        speaker = str(m.get("role") or _short_class(m.get("sent_from")) or "?")
        action = _short_class(m.get("cause_by"))
        turns.append(Turn(speaker, action or "message", _text(m.get("content")), None, None,
                          m.get("metadata", {}).get("timestamp") if isinstance(m.get("metadata"), dict) else None))
    task = rec.get("idea") or next((t.text for t in turns if t.role in ("UserRequirement", "")), "")
    cid = str(rec.get("id") or rec.get("project_name") or f"line {where}")
    return [Conversation(cid, str(task), turns, parse_outcome(rec.get("outcome")), "persona", False,
                         {t.speaker: {t.speaker} for t in turns}, cid, where, {}, "metagpt")]


# -- OpenTelemetry GenAI spans ------------------------------------------------------------------------
def _attr_value(v):
    if not isinstance(v, dict):
        return v
    for k in ("stringValue", "intValue", "doubleValue", "boolValue"):
        if k in v:
            return v[k]
    if "arrayValue" in v:
        return [_attr_value(x) for x in v["arrayValue"].get("values", [])]
    return None


def _attrs(span: dict) -> dict:
    a = span.get("attributes")
    if isinstance(a, list):  # OTLP: [{key, value: {stringValue: ...}}]
        return {x.get("key"): _attr_value(x.get("value")) for x in a if isinstance(x, dict)}
    return a if isinstance(a, dict) else {}


def _ns(v) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


def otel_spans(rec: dict) -> list[dict]:
    """The spans of one OTLP JSON export (``resourceSpans``), or the record itself where it is one span."""
    if isinstance(rec.get("resourceSpans"), list):
        out = []
        for rs in rec["resourceSpans"]:
            for ss in (rs or {}).get("scopeSpans") or (rs or {}).get("instrumentationLibrarySpans") or []:
                out.extend(s for s in (ss or {}).get("spans") or [] if isinstance(s, dict))
        return out
    return [rec]


def _span_ids(s: dict) -> tuple[str, str, str]:
    ctx = s.get("context") if isinstance(s.get("context"), dict) else {}
    return (str(s.get("traceId") or ctx.get("trace_id") or ""), str(s.get("spanId") or ctx.get("span_id") or ""),
            str(s.get("parentSpanId") or s.get("parent_id") or ""))


def _span_start(s: dict):
    return _ns(s.get("startTimeUnixNano")) or str(s.get("start_time") or "")


def _messages_text(v, last: bool = True) -> str:
    """Text of ``gen_ai.input/output.messages`` (a JSON string or list of ``{role, parts|content}``)."""
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except ValueError:
            return v
    if not isinstance(v, list) or not v:
        return _text(v)
    msgs = v[-1:] if last else v
    out = []
    for m in msgs:
        if isinstance(m, dict):
            out.append(_text(m.get("parts") if "parts" in m else m.get("content", m.get("message"))))
    return "\n".join(out)


def otel_trace(spans: list[dict], trace_id: str, where: int) -> Conversation | Skip:
    """One trace's spans -> a conversation: depth-first from the roots, children by start time; a chat
    span is a turn of the nearest agent (its own or an ancestor's ``gen_ai.agent.name``), a tool span a
    tool turn; spans without ``gen_ai.*`` attributes only give structure."""
    by_id = {_span_ids(s)[1]: s for s in spans}
    kids: dict[str, list] = {}
    roots = []
    for s in spans:
        _, sid, parent = _span_ids(s)
        (kids.setdefault(parent, []) if parent in by_id else roots).append(s)
    turns, task, failed = [], "", False
    stack = [(s, "") for s in sorted(roots, key=_span_start, reverse=True)]
    while stack:
        s, agent = stack.pop()
        a = _attrs(s)
        op = str(a.get("gen_ai.operation.name") or "")
        agent = str(a.get("gen_ai.agent.name") or agent)
        status = s.get("status") if isinstance(s.get("status"), dict) else {}
        err = str(status.get("code", status.get("status_code", ""))).upper() in ("2", "STATUS_CODE_ERROR", "ERROR") \
            or bool(a.get("error.type"))
        ts = str(s.get("startTimeUnixNano") or s.get("start_time") or "") or None
        if op in ("chat", "text_completion", "generate_content"):
            if not task:
                task = _messages_text(a.get("gen_ai.input.messages") or a.get("gen_ai.prompt"), last=False)
            text = _messages_text(a.get("gen_ai.output.messages") or a.get("gen_ai.completion"))
            turns.append(Turn(agent or str(a.get("gen_ai.request.model") or "model"), "assistant", text, None, None,
                              ts, err))
        elif op == "execute_tool":
            name = str(a.get("gen_ai.tool.name") or s.get("name") or "tool")
            res = _text(a.get("gen_ai.tool.call.result"))
            call = f"{name}({_text(a.get('gen_ai.tool.call.arguments'))})"
            err = err or is_error_text(res)
            turns.append(Turn(agent or "agent", "tool", res or call, call, res, ts, err))
        elif op == "invoke_agent" and not task:
            task = _messages_text(a.get("gen_ai.input.messages"), last=False)
        failed = failed or (err and not _span_ids(s)[2])
        stack.extend((c, agent) for c in sorted(kids.get(_span_ids(s)[1], []), key=_span_start, reverse=True))
    if not turns:
        return Skip("trace has no gen_ai chat or tool spans")
    return Conversation(trace_id, task, turns, 0.0 if failed else None, "persona", False,
                        {t.speaker: {t.speaker} for t in turns}, trace_id, where, {}, "otel")


def is_span(rec: dict) -> bool:
    return ("spanId" in rec or isinstance(rec.get("context"), dict)) and ("traceId" in rec or "context" in rec)
