"""Raw Alpaca rows against CoachLM's expert revisions: does the audit flag the rows experts rewrote more
often than the rewritten rows? (issue 20)

Usage: python bench/check_coachlm_revisions.py EXPERT_REVISION_DATASET.json [--self-instruct FILE]

The file is ``Expert Revision Dataset.json`` of github.com/lunyiliu/CoachLM (2,301 Alpaca rows, each with
"Raw Instruction/Input/Response" and the experts' "Revised Instruction/Input/Response"; not copied here).
The rows are split in two halves by ``sha256("coachlm-split|<row number>") % 2``: half 0 ("dev") is
where the ``output_terse`` rule was chosen, half 1 ("held") was not looked at while choosing it. For each
half: the audit of the raw rows with ``revised=`` the revised rows (paired by position), the one-sided
exact McNemar test for 'error' (any error type) and 'flagged' (any flag, quality flags included), and for
every flag that fires on a raw row its precision against what the experts did: the share of the raw rows
it flags whose revised response is 1.5x longer or more ("expanded"; the experts changed 2,278 of the
2,301 responses in some way, so "changed at all" tells nothing). With ``--self-instruct davinci_predictions.jsonl`` (../shared's
Self-Instruct human evaluation), each flag's precision as a detector of vanilla GPT-3's rows against the
human answers to the same 252 instructions (flags on GPT-3 rows / all its flags).
Exit 1 when 'flagged' does not separate the held half (p >= 0.05 or under 3 points).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

import artifactlens as al

SIDES = {"raw": ("Raw Instruction", "Raw Input", "Raw Response"),
         "revised": ("Revised Instruction", "Revised Input", "Revised Response")}


def halves(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {"dev": [], "held": []}
    for i, r in enumerate(rows):
        h = int(hashlib.sha256(f"coachlm-split|{i}".encode()).hexdigest(), 16) % 2
        out["held" if h else "dev"].append(r)
    return out


def write(rows: list[dict], side: str, path: Path) -> None:
    ins, inp, out = SIDES[side]
    path.write_text("".join(json.dumps({"instruction": r[ins], "input": r[inp], "output": r[out]}) + "\n"
                            for r in rows), encoding="utf-8")


def flag_columns(t) -> list[str]:
    skip = {"row", "error", "keep", "qa_type", "flags", "reasons", "instruction", "input", "output"}
    return [c for c in t.column_names if not c.endswith("_score") and c not in skip and t.schema.field(c).type == "bool"]


def run_half(name: str, rows: list[dict], d: Path) -> bool:
    raw, rev, flags = d / f"{name}_raw.jsonl", d / f"{name}_rev.jsonl", d / f"{name}_flags.parquet"
    write(rows, "raw", raw)
    write(rows, "revised", rev)
    r = al.audit("instructions", str(raw), revised=str(rev), run=al.RunOptions(quiet=True, flags=str(flags)))
    table = {row[0]: row for row in r.tables["revisions"]["rows"]}
    print(f"\n{name}: {len(rows)} pairs")
    for k in ("error", "flagged"):
        x = table[k]
        print(f"  {k:8s} raw {x[2]:6.1%}  revised {x[3]:6.1%}  {x[6] * 100:+5.1f} points [{x[7] * 100:+.1f}, "
              f"{x[8] * 100:+.1f}]  b={x[4]} c={x[5]}  one-sided exact McNemar p={x[9]:.3g}")
    t = pq.read_table(flags)
    n_raw = np.array([len(r_["Raw Response"].split()) for r_ in rows])
    n_rev = np.array([len(r_["Revised Response"].split()) for r_ in rows])
    expanded = n_rev >= 1.5 * np.maximum(n_raw, 1)
    print(f"  {'flag':28s} {'raw':>5s} {'rev':>5s}  precision (revision 1.5x longer or more)")
    for c in flag_columns(t):
        f = np.asarray(t.column(c).to_pylist(), bool)
        if f.any():
            rv = table.get(c, [c, 0, 0, 0])
            print(f"  {c:28s} {int(f.sum()):5d} {round(rv[3] * len(rows)) if len(rv) > 3 else 0:5d}  "
                  f"{expanded[f].mean():.2f}")
    x = table["flagged"]
    return x[9] < 0.05 and x[6] >= 0.03


def self_instruct(path: Path, d: Path) -> None:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    data = d / "si.jsonl"
    data.write_text("".join(json.dumps({"instruction": r["instruction"], "input": r["input"], "output": o,
                                        "source": s}) + "\n"
                            for r in rows for s, o in (("gpt3", r["response"]), ("human", r["target"]))),
                    encoding="utf-8")
    flags = d / "si_flags.parquet"
    al.audit("instructions", str(data), run=al.RunOptions(quiet=True, flags=str(flags)))
    t = pq.read_table(flags)
    gpt3 = np.array([i % 2 == 0 for i in range(t.num_rows)])
    print(f"\nSelf-Instruct human evaluation ({len(rows)} instructions, GPT-3 vs the human answer):")
    print(f"  {'flag':28s} {'on GPT-3':>8s} {'on human':>8s}  precision")
    for c in flag_columns(t) + ["error"]:
        f = np.asarray(t.column(c).to_pylist(), bool)
        if f.any():
            print(f"  {c:28s} {int((f & gpt3).sum()):8d} {int((f & ~gpt3).sum()):8d}  {(f & gpt3).sum() / f.sum():.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--self-instruct", type=Path)
    a = ap.parse_args()
    rows = json.loads(a.dataset.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as d:
        ok = {name: run_half(name, part, Path(d)) for name, part in halves(rows).items()}
        if a.self_instruct:
            self_instruct(a.self_instruct, Path(d))
    print(f"\n'flagged' separates raw from revised: dev {ok['dev']}, held {ok['held']}")
    return 0 if ok["held"] else 1


if __name__ == "__main__":
    sys.exit(main())
