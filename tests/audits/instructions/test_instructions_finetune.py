"""The second-order harness end to end on a tiny randomly initialised GPT-2 and a word-level tokenizer,
both built here (no downloads), a few steps on CPU."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("transformers")
pytest.importorskip("tokenizers")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast
    d = tmp_path_factory.mktemp("tiny")
    words = ("### instruction input response : name a fruit colour colour? apple red blue sky what is the of "
             "color banana yellow as an ai language model i cannot . , ! ?").split()
    vocab = {w: i for i, w in enumerate(["[UNK]", "[PAD]", "[EOS]", *dict.fromkeys(words)])}
    tk = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]")
    tok.save_pretrained(d)
    cfg = GPT2Config(vocab_size=len(vocab), n_positions=128, n_embd=32, n_layer=2, n_head=2,
                     eos_token_id=2, pad_token_id=1, bos_token_id=2)
    GPT2LMHeadModel(cfg).save_pretrained(d)
    return d


def test_raw_vs_clean_end_to_end(tiny_model, tmp_path):
    from artifactlens.audits.instructions import finetune
    good = [{"instruction": "What is the colour of the sky?", "input": "", "output": "blue"},
            {"instruction": "Name a fruit.", "input": "", "output": "apple"},
            {"instruction": "What is the colour of a banana?", "input": "", "output": "yellow"}] * 4
    bad = [{"instruction": "Name a fruit.", "input": "", "output": "as an ai language model i cannot ."}] * 6
    raw = tmp_path / "raw.jsonl"
    raw.write_text("".join(json.dumps({**r, "keep": r in good}) + "\n" for r in good + bad))
    clean_rows = finetune.read_rows(raw, keep_only=True)
    assert len(clean_rows) == 12 and len(finetune.read_rows(raw)) == 18
    held = [{"instruction": "Name a fruit.", "input": "", "output": "apple"},
            {"instruction": "What is the colour of the sky?", "input": "", "output": "blue"}]
    res = finetune.compare(str(tiny_model), finetune.read_rows(raw), clean_rows, held, epochs=3, lr=5e-3,
                           batch_size=4, lora=False, max_new_tokens=6)
    for side in ("raw", "clean"):
        assert 0.0 <= res[side]["rougeL_f1"] <= 1.0 and -1.0 <= res[side]["cosine"] <= 1.0
        assert res[side]["n"] == 2
    assert res["raw"]["train_rows"] == 18 and res["clean"]["train_rows"] == 12
    assert res["delta"]["rougeL_f1"] == pytest.approx(res["clean"]["rougeL_f1"] - res["raw"]["rougeL_f1"])


def test_lora_path_trains_adapters_only(tiny_model):
    pytest.importorskip("peft")
    from artifactlens.audits.instructions import finetune
    rows = [{"instruction": "Name a fruit.", "input": "", "output": "apple"}] * 4
    model, tok = finetune.train(str(tiny_model), rows, lora=True, max_steps=2, batch_size=2)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora" in n for n in trainable)
    assert isinstance(finetune.generate(model, tok, rows[:1], max_new_tokens=3)[0], str)


def test_score_rouge_and_cosine():
    from artifactlens.audits.instructions.finetune import score
    s = score(["the sky is blue", "completely unrelated words"], ["the sky is blue", "a red apple"])
    assert s["rougeL_f1"] == pytest.approx(0.5) and 0.3 < s["cosine"] < 0.75
