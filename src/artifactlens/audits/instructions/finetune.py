"""Second-order check: what the broken rows cost. Instruction-tune a causal LM on the raw rows and on the
cleaned rows (``keep`` from the audit), generate answers for a held-out set, and score them against the
references with ROUGE-L F1 (``rouge-score``) and MiniLM cosine (``artifactlens.text.embeddings``).

Wraps Hugging Face ``transformers`` (model and tokenizer from a *local path*; nothing downloads) and, when
``peft`` is installed and ``lora=True``, trains LoRA adapters instead of all weights. Real runs need the
user's model and a GPU; the tests run it end to end on a tiny randomly initialised model they build.

Command (after ``artifactlens audit instructions train.jsonl --clean clean.jsonl``)::

    python -m artifactlens.audits.instructions.finetune --model /models/pythia-160m \\
        --raw clean.jsonl --clean clean.kept.jsonl --heldout heldout.jsonl --epochs 1 --out cost.json

On a GPU (CUDA is used whenever torch sees one; LoRA through ``peft``), e.g. Pythia-1.4B on Alpaca's raw
rows vs the audit's kept rows, CoachLM's 150 references as the held-out set::

    artifactlens audit instructions alpaca_data.json --clean alpaca_flags.parquet
    python -m artifactlens.audits.instructions.finetune --model /models/pythia-1.4b \
        --raw alpaca_flags.parquet --clean alpaca_flags.kept.parquet --heldout coachlm150_test_set.json \
        --epochs 3 --lr 2e-4 --batch-size 16 --out cost.json

``heldout.jsonl`` holds instruction/input/output rows (the output is the reference). Prints and writes
``{"raw": {"rougeL_f1", "cosine", "train_rows"}, "clean": {...}, "delta": {...}}``.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

PROMPT = "### Instruction:\n{instruction}\n{input_block}### Response:\n"


def format_prompt(instruction: str, inp: str = "") -> str:
    """The Alpaca prompt, without the answer."""
    return PROMPT.format(instruction=instruction, input_block=f"### Input:\n{inp}\n" if inp else "")


def read_rows(path, keep_only: bool = False) -> list[dict]:
    """Rows with instruction/input/output from any file the audit reads (``keep_only``: rows with keep)."""
    from ...io.readers import read_table
    from .layouts import detect_layout, normalise
    t = read_table(path)
    out = []
    for b in t.to_batches():
        nb = normalise(b, detect_layout(b.schema.names))
        keep = b.column("keep").to_pylist() if keep_only and "keep" in b.schema.names else [True] * nb.num_rows
        for r, k in zip(nb.to_pylist(), keep):
            if k:
                out.append({"instruction": r["instruction"], "input": r["input"], "output": r["output"]})
    return out


def train(model_path, rows: list[dict], *, epochs: int = 1, lr: float = 5e-4, batch_size: int = 8,
          max_length: int = 256, lora: bool = True, seed: int = 0, max_steps: int | None = None):
    """Fine-tune a fresh copy of the model at ``model_path`` on ``rows`` (loss on the response tokens
    only). Returns ``(model, tokenizer)``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    torch.manual_seed(seed)
    tok = AutoTokenizer.from_pretrained(model_path, local_files_only=True)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_path, local_files_only=True)
    if lora:
        try:
            from peft import LoraConfig, get_peft_model
            model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, task_type="CAUSAL_LM",
                                                     target_modules="all-linear"))
        except ImportError:
            lora = False  # full fine-tuning without peft
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(dev).train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    examples = []
    for r in rows:
        p = tok(format_prompt(r["instruction"], r["input"]))["input_ids"]
        a = tok(r["output"] + (tok.eos_token or ""))["input_ids"]
        ids = (p + a)[:max_length]
        examples.append((ids, ([-100] * len(p) + a)[:max_length]))
    g = torch.Generator().manual_seed(seed)
    step = 0
    for _ in range(epochs):
        for idx in torch.randperm(len(examples), generator=g).split(batch_size):
            batch = [examples[i] for i in idx.tolist()]
            n = max(len(x) for x, _ in batch)
            ids = torch.tensor([x + [tok.pad_token_id] * (n - len(x)) for x, _ in batch], device=dev)
            lab = torch.tensor([y + [-100] * (n - len(y)) for _, y in batch], device=dev)
            att = torch.tensor([[1] * len(x) + [0] * (n - len(x)) for x, _ in batch], device=dev)
            loss = model(input_ids=ids, attention_mask=att, labels=lab).loss
            loss.backward()
            opt.step()
            opt.zero_grad()
            step += 1
            if max_steps and step >= max_steps:
                return model.eval(), tok
    return model.eval(), tok


def generate(model, tok, rows: list[dict], max_new_tokens: int = 64) -> list[str]:
    """Greedy answers for ``rows``."""
    import torch
    outs = []
    dev = next(model.parameters()).device
    for r in rows:
        enc = tok(format_prompt(r["instruction"], r["input"]), return_tensors="pt").to(dev)
        with torch.no_grad():
            gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tok.pad_token_id)
        outs.append(tok.decode(gen[0, enc["input_ids"].shape[1]:], skip_special_tokens=True).strip())
    return outs


def score(predictions: list[str], references: list[str]) -> dict:
    """Mean ROUGE-L F1 and mean MiniLM cosine of predictions with references."""
    from rouge_score import rouge_scorer
    from ...text.embeddings import cosine_rows, embed
    sc = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    rl = [sc.score(ref, pred)["rougeL"].fmeasure for pred, ref in zip(predictions, references)]
    cos = cosine_rows(embed(predictions), embed(references))
    return {"rougeL_f1": float(sum(rl) / max(len(rl), 1)), "cosine": float(cos.mean()) if len(cos) else float("nan"),
            "n": len(rl)}


def compare(model_path, raw_rows, clean_rows, heldout_rows, max_new_tokens: int = 64, **train_kw) -> dict:
    """Train on raw and on cleaned rows from the same starting model; score both on the held-out rows."""
    refs = [r["output"] for r in heldout_rows]
    out = {}
    for name, rows in (("raw", raw_rows), ("clean", clean_rows)):
        model, tok = train(model_path, rows, **train_kw)
        out[name] = {**score(generate(model, tok, heldout_rows, max_new_tokens), refs), "train_rows": len(rows)}
    out["delta"] = {k: out["clean"][k] - out["raw"][k] for k in ("rougeL_f1", "cosine")}
    return out


def main(argv=None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="local path of a causal LM (transformers format)")
    p.add_argument("--raw", required=True, help="raw rows (or the audit's --clean file: all rows)")
    p.add_argument("--clean", required=True, help="cleaned rows (the .kept file, or a file with a keep column)")
    p.add_argument("--heldout", required=True, help="held-out rows; their outputs are the references")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--no-lora", action="store_true")
    p.add_argument("--out", help="write the figures as JSON")
    a = p.parse_args(argv)
    res = compare(a.model, read_rows(a.raw), read_rows(a.clean, keep_only=True), read_rows(a.heldout),
                  epochs=a.epochs, lr=a.lr, batch_size=a.batch_size, lora=not a.no_lora)
    text = json.dumps(res, indent=2)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
