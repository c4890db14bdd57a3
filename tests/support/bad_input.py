"""How to write a small valid input of every audit kind, in every format (the bad-input, determinism,
reliability and security suites build their files with these)."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.parquet as pq

from artifactlens.api import registry

FORMATS = ("csv", "tsv", "jsonl", "json", "parquet")
TEXT_FORMATS = ("csv", "tsv", "jsonl", "json")
N = 12  # rows in each generated file
BIG = 10 * 1024 * 1024  # the "10 MB single field"
UNICODE = ["これはテストです 🙂", "مرحبا بالعالم", "Ünïcödé façade — naïve", "emoji 👩‍👩‍👧‍👦 family 🏳️‍🌈",
           "Привет, мир", "combining e\u0301 and zero\u200bwidth", "हिन्दी पाठ", "\u202eRTL override", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
           "tab\tand \"quotes\", commas", "new\nline inside", "中文 汉字 🐉"]


# ---------------------------------------------------------------------------------------------------------
# Audits: how to write a valid input of each kind
# ---------------------------------------------------------------------------------------------------------
@dataclass
class Spec:
    kind: str
    row: Callable[[int], dict]        # a valid row i
    args: list[str]                   # CLI arguments after FILE
    main: str                         # a required column (dropped by "missing column")
    text: str                         # a free-text column (big field, unicode)
    wrong: Callable[[int], object]    # a value of the wrong type for ``main``
    labels: list[str] = field(default_factory=list)  # label-list columns (labels audit)
    formats: tuple = FORMATS          # the formats the kind reads
    disjoint_skips: bool = True       # each row skipped for one reason at most (else: per-figure skips)
    missing: str = "error"            # what a missing ``main`` column gives (error, or either: rows skipped)
    slow: bool = False                # seconds a run (MiniLM, bootstrap): content cases on jsonl only
    flags_per_row: bool = True        # the flags file has one row per input row (simulations: per turn)
    skips_bad_records: bool = False   # a bad JSON line / non-object is counted as skipped, not an error


def _labels_row(i: int) -> dict:
    h = [["a", "a", "b"], ["b", "b", "b"], ["a", "b", "c"], ["c", "c", "a"]][i % 4]
    l = [["a", "a", "a"], ["b", "b", "b"], ["a", "a", "b"], ["c", "c", "c"]][i % 4]
    return {"id": f"item{i}", "text": f"item number {i} says something", "human": str(h), "llm": str(l)}


def _prefs_row(i: int) -> dict:
    return {"prompt": f"question {i // 2}?", "response_a": f"short answer {i}",
            "response_b": f"a much longer and more detailed answer number {i} " * (1 + i % 3),
            "human": ["a", "b", "tie"][i % 3], "judge": ["a", "b", "a", "tie"][i % 4]}


def _instr_row(i: int) -> dict:
    return {"instruction": ["Translate the sentence into French.", "List three fruits.",
                            "What is 12 plus 30?", "Summarise the text in one sentence."][i % 4],
            "input": ["The cat sleeps.", "", "", "Rain fell all day in the valley, flooding the roads."][i % 4],
            "output": ["Le chat dort.", "Apple, banana, cherry.", "42", "Heavy rain flooded the valley roads."][i % 4]}


def _sim_row(i: int) -> dict:
    task = f"Plan a small garden with {3 + i % 4} vegetables"
    return {"id": f"c{i}", "task": task, "outcome": i % 2 == 0,
            "turns": [{"speaker": "User", "role": "user", "text": f"Instruction: {task.lower()} for spring."},
                      {"speaker": "Assistant", "role": "assistant", "text": "Solution: tomatoes, beans and lettuce in "
                       "three raised beds, watered each morning."},
                      {"speaker": "User", "role": "user", "text": "Instruction: add a watering schedule."},
                      {"speaker": "Assistant", "role": "assistant", "text": "Solution: water beds at 7am daily."}]}


def _text_row(i: int) -> dict:
    human = ["honestly the bus was late again lol", "we got soaked on the walk home, worth it though",
             "my cat knocked the plant over AGAIN", "cant believe the match ended like that"]
    llm = ["Certainly! The bus experienced a notable delay, underscoring the importance of punctuality.",
           "The walk home in the rain was a testament to the resilience of the human spirit.",
           "In the tapestry of household life, the cat's actions highlight curiosity.",
           "The match concluded in a remarkable fashion, showcasing the intricate dynamics of sport."]
    return {"pair_id": f"p{i // 2}", "source": "human" if i % 2 == 0 else "llm",
            "text": (human if i % 2 == 0 else llm)[(i // 2) % 4]}


SPECS = {
    "labels": Spec("labels", _labels_row, ["--text", "text", "--human", "human", "--llm", "llm", "--id", "id",
                                          "--no-second-order"],
                   main="human", text="text", wrong=lambda i: {"not": "a list"}, labels=["human", "llm"]),
    "preferences": Spec("preferences", _prefs_row, ["--a", "response_a", "--b", "response_b", "--human", "human",
                                                    "--judge", "judge", "--prompt", "prompt", "--no-embeddings",
                                                    "--no-reward-model"],
                        main="judge", text="response_a", wrong=lambda i: [1, 2, 3], disjoint_skips=False),
    "instructions": Spec("instructions", _instr_row, ["--instruction", "instruction", "--input", "input", "--output",
                                                      "output", "--no-embeddings"],
                         main="output", text="instruction", wrong=lambda i: {"x": [i]}),
    "simulations": Spec("simulations", _sim_row, ["--format", "turns"], main="turns", text="task",
                        wrong=lambda i: f"not a list {i}", formats=("jsonl", "json"), disjoint_skips=True,
                        missing="either", slow=True, flags_per_row=False, skips_bad_records=True),
    "text": Spec("text", _text_row, ["--text", "text", "--source", "source", "--pair", "pair_id",
                                     "--no-embeddings"], main="source", text="text", wrong=lambda i: {"who": i},
                 slow=True),
}


def built(kind: str):
    assert kind in registry(), f"no {kind} audit is registered"
    return registry()[kind]


# ---------------------------------------------------------------------------------------------------------
# Writing rows in each format
# ---------------------------------------------------------------------------------------------------------
def _cell(v):
    if v is None:
        return ""
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def to_bytes(rows: list[dict], fmt: str, newline: str = "\n") -> bytes:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    if fmt in ("csv", "tsv"):
        buf = io.StringIO()
        w = csv.writer(buf, delimiter="," if fmt == "csv" else "\t", lineterminator=newline)
        w.writerow(keys)
        for r in rows:
            w.writerow([_cell(r.get(k)) for k in keys])
        return buf.getvalue().encode("utf-8")
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + newline for r in rows).encode("utf-8")
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1).replace("\n", newline).encode("utf-8")
    raise ValueError(fmt)


def write(path: Path, rows: list[dict], fmt: str) -> Path:
    if fmt == "parquet":
        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        path.write_bytes(to_bytes(rows, fmt))
    return path


def data_line(fmt: str, i: int) -> int:
    """The 1-based file line of data row ``i`` as ``to_bytes`` writes it (one line a row)."""
    return i + 2 if fmt in ("csv", "tsv") else i + 1
