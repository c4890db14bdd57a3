"""Generate to audit: LLM labels, pairwise judgments and role-play transcripts through one :class:`ChatClient`.

What distilabel does (a prompt template per task, a parsed column per answer), joined to the audit the
output feeds: every input column is kept and the task adds its own, named as the audit reads it by default.

- :func:`generate_labels` adds ``llm`` (a list of ``samples`` labels; None where an answer names no label)
  and ``llm_raw`` (the raw answers): ``artifactlens audit labels OUT --text text --human human --llm llm``.
- :func:`generate_judgments` adds ``judge`` (``a``/``b``/``tie``, None where unreadable), ``judge_swapped``
  (the answer with B shown first, written in A/B orientation, as the preferences audit expects) and their
  ``*_raw`` columns.
- :func:`generate_roleplay` writes CAMEL records (``role_1``/``role_2``, ``message_1..N``) or Solo
  Performance Prompting records (``raw_response``, ``task_data``), the formats the simulations audit reads.

Every request goes through the client's cache: a rerun sends nothing already answered, and a killed run
started again finishes with the same output (temperature 0 and a fixed seed per request). The default
prompts are the module constants below; ``prompt=`` replaces them (``str.format`` fields as documented).
"""
from __future__ import annotations

import re
import sys
from contextlib import contextmanager
from typing import Sequence

import pyarrow as pa

from ..errors import InputError
from ..io.readers import read_table, require_columns
from ..io.writers import RowWriter
from .client import ChatClient

#: fields: {text}, {labels} (comma-separated)
LABEL_PROMPT = ("Classify the text into exactly one of these labels: {labels}.\n\nText: {text}\n\n"
                "Answer with the label only.")
#: fields: {prompt}, {a}, {b}
JUDGE_PROMPT = ("Which response answers the question better?\n\nQuestion: {prompt}\n\nResponse A: {a}\n\n"
                "Response B: {b}\n\nAnswer with one word: A, B or TIE.")
#: CAMEL role-play (Li et al., 2023), shortened. Fields: {task}, {user_role}, {assistant_role}
CAMEL_USER = ("Never forget you are a {user_role} and I am a {assistant_role}. We share this task: {task}\n"
              "You instruct me, one instruction at a time, in the form:\nInstruction: <YOUR INSTRUCTION>\n"
              "Input: <YOUR INPUT or None>\nWhen the task is done, reply only <CAMEL_TASK_DONE>.")
CAMEL_ASSISTANT = ("Never forget you are a {assistant_role} and I am a {user_role}. We share this task: {task}\n"
                   "I instruct you; answer each instruction with\nSolution: <YOUR SOLUTION>\n"
                   "and end with: Next request.")
CAMEL_START = "Now start to give me instructions one by one."
#: Solo Performance Prompting (Wang et al., 2024), one persona per request. Fields: {task}
SPP_PARTICIPANTS = ("Task: {task}\n\nName two experts who would help an AI Assistant solve this task. "
                    "Answer in one line: Participants: AI Assistant (you); <Expert 1>; <Expert 2>")
#: fields: {task}, {participants}, {persona}, {transcript}
SPP_TURN = ("A discussion among {participants} to solve the task: {task}\n\n{transcript}\n\n"
            "Write the next message of {persona} (one short paragraph, no name prefix).")
SPP_DEFAULT_PERSONAS = ("Domain Expert", "Critic")
TURN_TOKENS = 96  # the longest role-play message asked for


# -- shared ---------------------------------------------------------------------------------------------
@contextmanager
def bar(label: str, total: int, quiet: bool = False):
    """A rich progress bar on stderr (none when quiet or stderr is not a terminal); yields ``advance(n)``."""
    if quiet or not sys.stderr.isatty() or not total:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    with Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True, console=Console(stderr=True)) as prog:
        task = prog.add_task(label, total=total)
        yield lambda n: prog.advance(task, n)


def read_rows(path, needed: dict[str, str | None]) -> tuple[pa.Table, list[dict]]:
    t = read_table(path)
    require_columns(t.column_names, needed, path=path)
    return t, t.to_pylist()


def load_prompt(value: str | None, default: str, fields: Sequence[str], option: str = "--prompt") -> str:
    """``value``: the template text, or ``@FILE``; None gives ``default``. Every field must be known."""
    if value is None:
        return default
    if value.startswith("@"):
        try:
            value = open(value[1:], encoding="utf-8").read()
        except OSError as e:
            raise InputError(f"cannot read the prompt file ({e.strerror})", path=value[1:], column=option) from None
    try:
        value.format(**{f: "" for f in fields})
    except (KeyError, IndexError, ValueError) as e:
        raise InputError(f"the prompt template has an unknown or broken field ({e})", column=option,
                         expected="fields among {" + "}, {".join(fields) + "} (double braces for a literal {)") from None
    return value


def write_rows(out, table: pa.Table, added: dict[str, list]) -> int:
    for name, values in added.items():
        if name in table.column_names:
            table = table.drop_columns([name])
        table = table.append_column(name, pa.array(values))
    with RowWriter(out) as w:
        for b in table.to_batches(max_chunksize=8192):
            w.write(b)
    return table.num_rows


def _words(s: str) -> str:
    return re.sub(r"[^\w\s-]", " ", s.lower()).strip()


def parse_label(answer: str | None, labels: Sequence[str]) -> str | None:
    """The label an answer names: the whole answer, else its first line, else the only label it mentions
    as a word; None where no label or more than one is named."""
    if not answer:
        return None
    low = {_words(lab): lab for lab in labels}
    for cand in (_words(answer), _words(answer.strip().splitlines()[0])):
        if cand in low:
            return low[cand]
    text = f" {_words(answer)} "
    hits = [lab for w, lab in low.items() if f" {w} " in text]
    return hits[0] if len(hits) == 1 else None


_CHOICE = re.compile(r"\b(tie|a|b)\b", re.I)


def parse_choice(answer: str | None) -> str | None:
    """``a``/``b``/``tie`` from the first such word of the answer ("Response B", "A.", "TIE"); None else."""
    if not answer:
        return None
    m = _CHOICE.search(answer.replace("*", " "))
    return m.group(1).lower() if m else None


SWAP = {"a": "b", "b": "a", "tie": "tie", None: None}


# -- labels ---------------------------------------------------------------------------------------------
def generate_labels(client: ChatClient, items, out, *, text: str = "text", labels: Sequence[str],
                    prompt: str | None = None, samples: int = 1, temperature: float | None = None,
                    quiet: bool = True) -> dict:
    """Label every row ``samples`` times. Temperature 0 for one sample; with several, ``temperature``
    (default 0.7) and seed ``client seed + k`` for sample k, so each sample is reproducible."""
    labels = [str(x).strip() for x in labels if str(x).strip()]
    if len(labels) < 2:
        raise InputError("--labels needs at least two labels", column="--labels", expected="e.g. pos,neg,neutral")
    if samples < 1:
        raise InputError(f"--samples {samples} is out of range", expected="an integer >= 1")
    tmpl = load_prompt(prompt, LABEL_PROMPT, ("text", "labels"))
    table, rows = read_rows(items, {"--text": text})
    temp = 0.0 if samples == 1 else (0.7 if temperature is None else float(temperature))
    seed = client.params["seed"]
    bodies = [client.body(tmpl.format(text=str(r.get(text) or ""), labels=", ".join(labels)),
                          temperature=temp, seed=seed + k, max_tokens=16) for r in rows for k in range(samples)]
    with bar("labelling", len(bodies), quiet) as adv:
        answers = client.chat_many(bodies, progress=adv)
    raw = [a.text for a in answers]
    parsed = [parse_label(x, labels) for x in raw]
    client.stats.invalid += sum(p is None for p in parsed)
    n = len(rows)
    write_rows(out, table, {"llm": [parsed[i * samples:(i + 1) * samples] for i in range(n)],
                            "llm_raw": [raw[i * samples:(i + 1) * samples] for i in range(n)]})
    return {"rows": n, "answers": len(raw), "invalid": sum(p is None for p in parsed),
            **client.result_params({"labels": tmpl}), "llm_samples": samples, "llm_sample_temperature": temp}


# -- judgments ------------------------------------------------------------------------------------------
def generate_judgments(client: ChatClient, pairs, out, *, a: str = "response_a", b: str = "response_b",
                       prompt: str | None = None, template: str | None = None, both_orders: bool = True,
                       quiet: bool = True) -> dict:
    """Ask which response is better; with ``both_orders`` also with B shown first (``judge_swapped``)."""
    tmpl = load_prompt(template, JUDGE_PROMPT, ("prompt", "a", "b"), "--template")
    table, rows = read_rows(pairs, {"--a": a, "--b": b, "--prompt": prompt})

    def ask(r, first, second):
        return tmpl.format(prompt=str(r.get(prompt) or "") if prompt else "", a=str(r.get(first) or ""),
                           b=str(r.get(second) or ""))
    bodies = [client.body(ask(r, a, b), max_tokens=8) for r in rows] + \
        ([client.body(ask(r, b, a), max_tokens=8) for r in rows] if both_orders else [])
    with bar("judging", len(bodies), quiet) as adv:
        answers = client.chat_many(bodies, progress=adv)
    n = len(rows)
    raw = [x.text for x in answers]
    added = {"judge": [parse_choice(x) for x in raw[:n]], "judge_raw": raw[:n]}
    if both_orders:
        added["judge_swapped"] = [SWAP[parse_choice(x)] for x in raw[n:]]
        added["judge_swapped_raw"] = raw[n:]
    invalid = sum(v is None for k, col in added.items() if not k.endswith("_raw") for v in col)
    client.stats.invalid += invalid
    write_rows(out, table, added)
    return {"rows": n, "answers": len(raw), "invalid": invalid, **client.result_params({"judgments": tmpl})}


# -- role-play ------------------------------------------------------------------------------------------
def generate_roleplay(client: ChatClient, tasks, out, *, framework: str = "camel", turns: int = 6,
                      task: str = "task", user_role: str = "Instructor", assistant_role: str = "Assistant",
                      quiet: bool = True) -> dict:
    """One conversation per task row, ``turns`` messages each; turn k of every conversation is one batch
    of requests (conversations run in parallel, turns in order)."""
    if framework not in ("camel", "spp"):
        raise InputError(f"unknown role-play framework {framework!r}", column="--framework", expected="camel or spp")
    if not 1 <= turns <= 200:
        raise InputError(f"--turns {turns} is out of range", expected="an integer from 1 to 200")
    table, rows = read_rows(tasks, {"--task": task})
    tasks_ = [str(r.get(task) or "") for r in rows]
    run = _camel if framework == "camel" else _spp
    total = len(rows) * (turns + (framework == "spp"))
    with bar(f"role-play ({framework})", total, quiet) as adv:
        records, templates = run(client, tasks_, turns, user_role, assistant_role, adv)
    added = {k: [rec.get(k) for rec in records] for k in dict.fromkeys(k for rec in records for k in rec)}
    write_rows(out, table, added)
    return {"rows": len(rows), "framework": framework, "turns": turns, **client.result_params(templates)}


def _camel(client, tasks, turns, user_role, assistant_role, adv):
    fields = [dict(task=t, user_role=user_role, assistant_role=assistant_role) for t in tasks]
    sys_u = [CAMEL_USER.format(**f) for f in fields]
    sys_a = [CAMEL_ASSISTANT.format(**f) for f in fields]
    history: list[list[tuple[str, str]]] = [[] for _ in tasks]  # (role, content)
    done = [False] * len(tasks)
    for k in range(turns):
        speaker = "user" if k % 2 == 0 else "assistant"
        live = [i for i in range(len(tasks)) if not done[i]]
        bodies = []
        for i in live:
            system = sys_u[i] if speaker == "user" else sys_a[i]
            msgs = [{"role": "system", "content": system}]
            if speaker == "user":
                msgs.append({"role": "user", "content": CAMEL_START})
            msgs += [{"role": "assistant" if r == speaker else "user", "content": c} for r, c in history[i]]
            bodies.append(client.body(msgs, max_tokens=TURN_TOKENS))
        for i, a in zip(live, client.chat_many(bodies, progress=adv)):
            history[i].append((speaker, (a.text or "").strip()))
            done[i] = "<CAMEL_TASK_DONE>" in (a.text or "")
        adv(len(tasks) - len(live))
    records = []
    for t, h in zip(tasks, history):
        rec = {"role_1": f"AI Assistant_{assistant_role}", "role_2": f"AI User_{user_role}",
               "original_task": t, "specified_task": t}
        for j, (r, c) in enumerate(h, 1):
            rec[f"message_{j}"] = {"role_type": r.upper(), "role_name": user_role if r == "user" else assistant_role,
                                   "content": c}
        records.append(rec)
    return records, {"camel_user": CAMEL_USER, "camel_assistant": CAMEL_ASSISTANT}


_PART = re.compile(r"Participants\s*:\s*(.+)", re.I)


def _personas(answer: str | None) -> list[str] | None:
    m = _PART.search(answer or "")
    if not m:
        return None
    names = [re.sub(r"[*<>]", "", p).strip(" .") for p in re.split(r"[;,]", m.group(1).splitlines()[0])]
    names = [n[:60] for n in names if n and not n.lower().startswith("ai assistant")]
    return names[:4] or None


def _spp(client, tasks, turns, user_role, assistant_role, adv):
    answers = client.chat_many([client.body(SPP_PARTICIPANTS.format(task=t), max_tokens=48) for t in tasks],
                               progress=adv)
    personas = [_personas(a.text) for a in answers]
    client.stats.invalid += sum(p is None for p in personas)
    speakers = [["AI Assistant (you)"] + (p or list(SPP_DEFAULT_PERSONAS)) for p in personas]
    lines: list[list[str]] = [[] for _ in tasks]
    for k in range(turns):
        bodies = []
        for i, t in enumerate(tasks):
            who = speakers[i][k % len(speakers[i])]
            bodies.append(client.body(SPP_TURN.format(task=t, participants="; ".join(speakers[i]), persona=who,
                                          transcript="\n".join(lines[i]) or "(nothing said yet)"), max_tokens=TURN_TOKENS))
        for i, a in enumerate(client.chat_many(bodies, progress=adv)):
            who = speakers[i][k % len(speakers[i])]
            text = re.sub(rf"^\s*\**{re.escape(who)}\**\s*:\s*", "", (a.text or "").strip(), flags=re.I)
            lines[i].append(f"{who}: {' '.join(text.split())}")
    records = []
    for i, t in enumerate(tasks):
        content = f"Participants: {'; '.join(speakers[i])}\n\n" + "\n".join(lines[i])
        records.append({"task_data": {"inputs": t}, "raw_response": [{"choices": [{"message": {"content": content}}]}],
                        "personas_parsed": personas[i] is not None})
    return records, {"spp_participants": SPP_PARTICIPANTS, "spp_turn": SPP_TURN}
