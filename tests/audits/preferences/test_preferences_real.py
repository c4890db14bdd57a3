"""Preference audit on real data (../shared/data; skipped when absent; LLMBar: the combined verdict of both
orders, issue 19) and with a tiny local NLI model."""
from __future__ import annotations

import json
from itertools import combinations

import numpy as np
import pytest

from artifactlens.audits.preferences import audit_preferences
from support.llmbar import llmbar_jsonl as _llmbar_jsonl

FAST = dict(embeddings=False, reward_model=False)


def test_cobbler_agreement_and_self_first(tmp_path, run_cli, shared_data):
    d = shared_data("under-the-surface", "preference", "cobbler")
    J = json.loads((d / "gpt4.json").read_text())
    H = json.loads((d / "human.json").read_text())
    # independent: all model pairs per example, more points wins, equal points a tie
    agree = n = 0
    for key, ex in J.items():
        if key == "evaluator":
            continue
        pj = {x["model"]: x["point"] for x in ex["rankings"]}
        ph = {x["model"]: x["point"] for x in H[key]["rankings"]}
        for m1, m2 in combinations(sorted(set(pj) & set(ph)), 2):
            n += 1
            agree += np.sign(pj[m1] - pj[m2]) == np.sign(ph[m1] - ph[m2])
    self_first = sum(any(x["model"] == "gpt4" and x["rank"] == 1 for x in ex["rankings"])
                     for k, ex in J.items() if k != "evaluator")
    human_first = sum(any(x["model"] == "gpt4" and x["rank"] == 1 for x in ex["rankings"])
                      for k, ex in H.items() if k != "evaluator")
    out = tmp_path / "c.json"
    code, _, err = run_cli("audit", "preferences", "--rankings", d / "gpt4.json", "--human-rankings",
                           d / "human.json", "--no-embeddings", "--no-reward-model", "--json", out)
    assert code == 0, err
    m = json.loads(out.read_text())["metrics"]
    assert m["judge_human_agreement"]["n"] == n == 50 * 105
    assert m["judge_human_agreement"]["value"] == pytest.approx(agree / n, abs=1e-3)
    assert round(agree / n, 3) == 0.669
    assert m["judge_ranks_self_first_count"]["value"] == self_first == 19
    assert m["human_ranks_judge_model_first_count"]["value"] == human_first
    assert m["self_preference_gap"]["ci"][0] > 0  # GPT-4 favours its own outputs more than people do
    assert "judge_first_pick_rate" not in m  # rankings show no order
    assert "locality_rouge_l_judge" in m


def test_p2c_inverted_coding_fires(tmp_path, shared_data):
    import pandas as pd
    from sklearn.metrics import cohen_kappa_score
    d = shared_data("under-the-surface", "preference", "p2c")
    h = pd.read_csv(d / "p2c_subjective_human_preferences.csv")
    g = pd.read_csv(d / "p2c_generative_gpt3_preferences.csv")
    assert (h.output1 == g.output1).all() and (h.output2 == g.output2).all()
    p = tmp_path / "p2c.csv"
    pd.DataFrame({"output1": h.output1, "output2": h.output2, "human": h.target, "gpt3": g.target}).to_csv(p, index=False)
    r = audit_preferences(p, a="output1", b="output2", human="human", judge="gpt3", **FAST)
    k = r.metric("cohen_kappa")
    assert k.value == pytest.approx(cohen_kappa_score(g.target, h.target), abs=1e-3)
    assert k.ci[1] < 0
    assert r["judge_human_agreement"] == pytest.approx((g.target == h.target).mean(), abs=1e-3)
    crit = [f for f in r.findings if f.severity == "critical"]
    assert crit and "opposite codings" in crit[0].message and crit[0].metric == "cohen_kappa"


def test_llmbar_position_inconsistency(tmp_path, shared_data):
    p, rows = _llmbar_jsonl(tmp_path, "Natural", shared_data)
    pairs = [(r["results"][0]["swap = False"]["winner"], r["results"][0]["swap = True"]["winner"]) for r in rows]
    valid = [(x, y) for x, y in pairs if x is not None and y is not None]
    acc = np.mean([str(r["results"][0]["swap = False"]["winner"]) == str(r["label"]) for r in rows])
    r = audit_preferences(p, a="output_1", b="output_2", human="gold", judge="judge", judge_swapped="judge_swapped",
                          prompt="input", codes="1=a,2=b", **FAST)
    assert r["position_inconsistency_rate"] == pytest.approx(np.mean([x != y for x, y in valid]), abs=1e-3)
    assert r.metric("position_inconsistency_rate").n == len(valid)
    assert r["judge_human_agreement"] == pytest.approx(acc, abs=1e-3)  # no invalid winners in Natural
    assert round(acc, 2) == 0.92  # the figure LLMBar reports


@pytest.mark.parametrize("name, judge, first, combined", [
    ("Adversarial_Neighbor", "GPT-4", 0.649, 0.590),
    ("Natural", "LLaMA2", 0.760, 0.640),
])
def test_llmbar_combined_verdict(tmp_path, shared_data, name, judge, first, combined):
    p, rows = _llmbar_jsonl(tmp_path, name, shared_data, judge)
    # independent: the verdict is the winner where both orders agree, a tie where they differ
    fo = [str(r["results"][0]["swap = False"]["winner"]) == str(r["label"]) for r in rows]
    w = [(r["results"][0]["swap = False"]["winner"], r["results"][0]["swap = True"]["winner"], str(r["label"]))
         for r in rows]
    comb = [x == y == g for x, y, g in w]
    consistent = [(x, g) for x, y, g in w if x == y]
    r = audit_preferences(p, a="output_1", b="output_2", human="gold", judge="judge", judge_swapped="judge_swapped",
                          prompt="input", codes="1=a,2=b", **FAST)
    assert r["judge_human_agreement_first_order"] == pytest.approx(np.mean(fo), abs=1e-9)
    assert r["judge_human_agreement"] == pytest.approx(np.mean(comb), abs=1e-9)
    assert r["judge_human_agreement_no_ties"] == pytest.approx(np.mean([x == g for x, g in consistent]), abs=1e-9)
    assert round(np.mean(fo), 3) == first and round(np.mean(comb), 3) == combined
    assert r.metric("judge_human_agreement").n == len(rows)
    from sklearn.metrics import cohen_kappa_score
    verdict = [x if x == y else "tie" for x, y, _ in w]
    assert r["cohen_kappa"] == pytest.approx(cohen_kappa_score(verdict, [g for *_, g in w]), abs=1e-9)
    assert "combined verdict" in r.metric("cohen_kappa").description


def _tiny_nli(tmp_path):
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer
    words = "the cat sat on mat a dog ran in park sky is blue sun hot".split()
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n")
    tok = BertTokenizer(str(vocab))
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(words) + 5, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=64,
                     id2label={0: "CONTRADICTION", 1: "NEUTRAL", 2: "ENTAILMENT"},
                     label2id={"CONTRADICTION": 0, "NEUTRAL": 1, "ENTAILMENT": 2})
    model = BertForSequenceClassification(cfg).eval()
    out = tmp_path / "nli"
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out, tok, model


def test_nli_model_from_local_path(tmp_path):
    import torch
    from artifactlens.audits.preferences.locality import NLIScorer
    path, tok, model = _tiny_nli(tmp_path)
    s = NLIScorer(str(path))
    got = s.score(["the cat sat. a dog ran in the park.", "the sky is blue"], ["the cat sat on the mat"] * 2)
    with torch.no_grad():
        def p(prem):
            enc = tok(prem, "the cat sat on the mat", return_tensors="pt")
            return torch.softmax(model(**enc).logits, -1)[0, 2].item()
    assert got[0] == pytest.approx(max(p("the cat sat."), p("a dog ran in the park.")), abs=1e-5)
    assert got[1] == pytest.approx(p("the sky is blue"), abs=1e-5)
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps({"A": a, "B": b, "ref": "the cat sat on the mat", "h": h}) + "\n" for a, b, h in
                            [("the cat sat", "a dog ran", "a"), ("the sky is blue", "the cat sat on a mat", "b"),
                             ("sun is hot", "the cat", "tie"), ("the dog sat", "blue sky", "a")]))
    r = audit_preferences(data, a="A", b="B", human="h", reference="ref", nli_model=path, **FAST)
    assert "locality_entailment_human" in r.metrics and "locality_rouge_l_human" in r.metrics
    bad = tmp_path / "bad"
    model.config.id2label = {0: "X", 1: "Y", 2: "Z"}
    model.save_pretrained(bad)
    tok.save_pretrained(bad)
    from artifactlens.errors import InputError
    with pytest.raises(InputError, match="entailment"):
        NLIScorer(str(bad))


def test_nli_precomputed_columns(tmp_path):
    data = tmp_path / "pairs.csv"
    data.write_text("A,B,h,ea,eb\nx,y,a,0.9,0.1\nx,y,b,0.2,0.8\nx,y,a,0.1,0.7\nx,y,b,0.5,0.5\n")
    r = audit_preferences(data, a="A", b="B", human="h", nli_column="ea,eb", **FAST)
    assert r["locality_entailment_human"] == pytest.approx(2 / 3, abs=1e-3)  # row 4 gap 0 left out
