"""Direction of the free-text effects on real human-vs-LLM corpora (not a speed benchmark).

    .venv/bin/python bench/text_effects.py

Corpora (../shared/data): M4 arXiv + Reddit (Llama-2-70B-chat vs human, 200 prompt pairs, two domains) and
Fast-DetectGPT PubMed + WritingPrompts (GPT-4 and GPT-3.5-turbo continuations vs the human originals,
index-paired, one corpus per model). Prints, per corpus, the key metrics of ``audit_text`` with their 95%
intervals (d = LLM minus human; diversity = mean pairwise MiniLM distance per source).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
KEYS = ("formality_d", "figurative_d", "readability_d", "mtld_d", "embedding_diversity_human",
        "embedding_diversity_llm", "separability_auc")


def m4() -> pd.DataFrame:
    rows = []
    for dom in ("arxiv", "reddit"):
        for i, line in enumerate((SHARED / "m4" / f"{dom}_llama2.jsonl").read_text(encoding="utf-8").splitlines()):
            x = json.loads(line)
            rows += [{"text": x["human_text"], "source": "human", "pair_id": f"{dom}{i}", "domain": dom},
                     {"text": x["machine_text"], "source": "llm", "pair_id": f"{dom}{i}", "domain": dom}]
    return pd.DataFrame(rows)


def fast_detect(model: str) -> pd.DataFrame:
    rows = []
    for dom in ("pubmed", "writing"):
        d = json.loads((SHARED / "fast_detect_gpt" / f"{dom}_{model}.raw_data.json").read_text(encoding="utf-8"))
        for i, (h, m) in enumerate(zip(d["original"], d["sampled"])):
            rows += [{"text": h, "source": "human", "pair_id": f"{dom}{i}", "domain": dom},
                     {"text": m, "source": "llm", "pair_id": f"{dom}{i}", "domain": dom}]
    return pd.DataFrame(rows)


def main() -> None:
    from artifactlens.audits.free_text import audit_text
    for name, df in (("M4 Llama-2-70B-chat", m4()), ("Fast-DetectGPT GPT-4", fast_detect("gpt-4")),
                     ("Fast-DetectGPT GPT-3.5-turbo", fast_detect("gpt-3.5-turbo"))):
        r = audit_text(df, max_embed=400)
        print(f"{name} ({len(df)} texts, {df['pair_id'].nunique()} pairs)")
        for k in KEYS:
            m = r.metric(k)
            ci = f"[{m.ci[0]:+.3f}, {m.ci[1]:+.3f}]" if m.ci else ""
            print(f"  {k:<28}{m.value:+.3f} {ci}")


if __name__ == "__main__":
    main()
