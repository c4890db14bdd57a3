"""LLMBar's nested ``*.result.json`` (GPT-4 / LLaMA-2 verdicts in both orders) flattened to pairs."""
from __future__ import annotations

import json


def llmbar_jsonl(tmp_path, name, shared_data, judge="GPT-4"):
    """``(path of the pairs .jsonl, the raw rows)``: input, output_1, output_2, gold, judge, judge_swapped."""
    src = shared_data("llmbar", f"{name}.{judge}_Vanilla_NoRules.result.json")
    rows = json.loads(src.read_text())
    p = tmp_path / f"{name}.jsonl"
    with open(p, "w") as f:
        for r in rows:
            res = r["results"][0]
            f.write(json.dumps({"input": r["input"], "output_1": r["output_1"], "output_2": r["output_2"],
                                "gold": r["label"], "judge": res["swap = False"]["winner"],
                                "judge_swapped": res["swap = True"]["winner"]}) + "\n")
    return p, rows
