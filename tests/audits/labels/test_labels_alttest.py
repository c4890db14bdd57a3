"""The Alternative Annotator Test (Calderon et al., ACL 2025) against an oracle written again from the
paper's definitions with plain loops (no artifactlens helpers), on every Alt-Test set in ../shared and on
cases counted by hand."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import ttest_1samp

from conftest import shared_path

SETS = {"mtbench": (0.2, "accuracy"), "wax": (0.1, "accuracy"), "cebab_stars": (0.1, "neg_rmse"),
        "kilogram": (0.1, "accuracy")}
# the winning rate / advantage probability the authors' notebook prints (PROVENANCE.md), 2 decimals
PUBLISHED = {
    "mtbench": {"gemini_flash": (0.00, 0.72), "gemini_pro": (0.00, 0.76), "gpt-4o": (0.00, 0.77),
                "llama-31": (0.00, 0.69), "gpt-4o-mini": (0.00, 0.74), "mistral-v03": (0.00, 0.68)},
    "wax": {"gemini_flash": (0.38, 0.69), "gemini_pro": (0.50, 0.74), "gpt-4o": (0.50, 0.73),
            "llama-31": (0.00, 0.57), "gpt-4o-mini": (0.00, 0.59), "mistral-v03": (0.00, 0.50)},
    "cebab_stars": {"gemini_flash": (0.60, 0.82), "gemini_pro": (0.80, 0.87), "gpt-4o": (0.90, 0.90),
                    "llama-31": (0.60, 0.85), "gpt-4o-mini": (0.90, 0.89), "mistral-v03": (0.50, 0.83)},
}


# ---------------------------------------------------------------------------------------------------------
# The oracle: leave one human out, item by item, in plain Python.
# ---------------------------------------------------------------------------------------------------------
def o_score(metric, x, others):
    if metric == "accuracy":
        return sum(1 for h in others if h == x) / len(others)
    if metric == "neg_rmse":
        return -math.sqrt(sum((x - h) ** 2 for h in others) / len(others))
    return -sum(abs(x - h) for h in others) / len(others)  # neg_mae


def o_by(pvals, q):
    """Benjamini-Yekutieli step-up: indices rejected."""
    m = len(pvals)
    order = sorted(range(m), key=lambda i: pvals[i])
    c = sum(1 / k for k in range(1, m + 1))
    last = -1
    for rank, i in enumerate(order, start=1):
        if pvals[i] <= rank / (m * c) * q:
            last = rank
    return set(order[:last]) if last > 0 else set()


def oracle(humans: dict, llm: dict, metric: str, eps: float, q: float = 0.05, min_h: int = 2, min_n: int = 30):
    by_item = {}
    for h, anns in humans.items():
        for i, lab in anns.items():
            by_item.setdefault(i, []).append(h)
    kept = {i for i, hs in by_item.items() if len(hs) >= min_h and i in llm}
    pvals, rhos, names, per = [], [], [], {}
    for j, anns in humans.items():
        items = [i for i in anns if i in kept]
        if len(items) < min_n:
            continue
        w_f, w_h = [], []
        for i in items:
            others = [humans[h][i] for h in by_item[i] if h != j]
            s_h = o_score(metric, anns[i], others)
            s_f = o_score(metric, llm[i], others)
            w_f.append(1 if s_f >= s_h else 0)
            w_h.append(1 if s_h >= s_f else 0)
        d = [a - b for a, b in zip(w_h, w_f)]
        p = float(ttest_1samp(d, eps, alternative="less").pvalue)
        pvals.append(p), rhos.append(sum(w_f) / len(w_f)), names.append(j)
        per[j] = (len(items), p)
    won = o_by(pvals, q)
    omega = len(won) / len(names)
    return {"omega": omega, "rho": sum(rhos) / len(rhos), "passed": omega >= 0.5, "per": per,
            "won": {names[k] for k in won}}


def _load(name):
    d = shared_path("alt_test", name)
    return (json.loads((d / "human_annotations.json").read_text()), json.loads((d / "llm_annotations.json").read_text()),
            d)


def _ours(d, metric, eps, label_type="auto"):
    from artifactlens.audits.labels.alttest import alt_test
    from artifactlens.audits.labels.annotators import read_alt_test
    ann = read_alt_test(d / "human_annotations.json", d / "llm_annotations.json", label_type=label_type)
    return ann, {ann.llms[m]: alt_test(ann, m, epsilon=eps, metric=metric) for m in range(len(ann.llms))}


CASES = [(s, SETS[s][1], SETS[s][0]) for s in SETS] + [(s, SETS[s][1], 0.15) for s in SETS] + \
        [("cebab_stars", "neg_mae", 0.1), ("cebab_stars", "accuracy", 0.15)]


@pytest.mark.parametrize("name,metric,eps", CASES)
def test_alt_test_equals_the_oracle_for_every_llm(name, metric, eps):
    humans, llms, d = _load(name)
    ann, ours = _ours(d, metric, eps, label_type="categorical" if metric == "accuracy" else "numeric")
    assert set(ours) == set(llms)
    for model, labels in llms.items():
        o, r = oracle(humans, labels, metric, eps), ours[model]
        assert round(r.winning_rate, 3) == round(o["omega"], 3), model
        assert round(r.advantage_probability, 3) == round(o["rho"], 3), model
        assert r.passed == o["passed"], model
        got = {h: (int(n), float(p)) for h, n, p, t in zip(r.humans, r.n_items, r.p_value, r.tested) if t}
        assert set(got) == set(o["per"])
        for h, (n, p) in o["per"].items():
            assert got[h][0] == n and got[h][1] == pytest.approx(p, abs=1e-9), (model, h)
        assert {h for h, w in zip(r.humans, r.won) if w} == o["won"]


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_alt_test_reproduces_the_published_figures(name):
    eps, metric = SETS[name]
    _, ours = _ours(shared_path("alt_test", name), metric, eps)
    for model, (omega, rho) in PUBLISHED[name].items():
        assert f"{ours[model].winning_rate:.2f}" == f"{omega:.2f}", model
        assert f"{ours[model].advantage_probability:.2f}" == f"{rho:.2f}", model


def _write(tmp_path, humans, llms):
    h, l = tmp_path / "h.json", tmp_path / "l.json"
    h.write_text(json.dumps(humans)), l.write_text(json.dumps(llms))
    return h, l


def test_hand_counted_case_and_small_humans_are_not_tested(tmp_path):
    from artifactlens.audits.labels.alttest import alt_test
    from artifactlens.audits.labels.annotators import read_alt_test
    # 40 items; humans a, b always agree; c labels only 10 items (not tested); one item has a single human
    items = [f"i{k}" for k in range(40)]
    humans = {"a": {i: "x" for i in items}, "b": {i: "x" for i in items}, "c": {i: "y" for i in items[:10]},
              "d": {"lonely": "x"}}
    llm = {"perfect": {**{i: "x" for i in items}, "lonely": "x"}, "wrong": {**{i: "z" for i in items}, "lonely": "z"}}
    h, l = _write(tmp_path, humans, llm)
    ann = read_alt_test(h, l)
    good = alt_test(ann, ann.llms.index("perfect"), epsilon=0.1)
    bad = alt_test(ann, ann.llms.index("wrong"), epsilon=0.1)
    assert good.items_kept == 40 and good.items_dropped == 1
    assert dict(zip(good.humans, good.tested.tolist())) == {"a": True, "b": True, "c": False, "d": False}
    # on items 0-9 the other humans of a are b and c: x matches half of them, as a does; ties count for both
    assert good.advantage[0] == 1.0 and good.winning_rate == 1.0 and good.passed is True
    assert bad.advantage[0] == 0.0 and bad.winning_rate == 0.0 and bad.passed is False
    o = oracle(humans, llm["perfect"], "accuracy", 0.1)
    assert o["omega"] == good.winning_rate and o["rho"] == good.advantage_probability


def test_several_llm_samples_use_the_plurality_label(tmp_path):
    from artifactlens.audits.labels.annotators import read_alt_test
    h, l = _write(tmp_path, {"a": {"1": "x", "2": "y"}}, {"m": {"1": "x", "2": "y"}})
    ann = read_alt_test(h, l)
    ann.l_who = np.array([0, 0, 0, 0, 0])
    ann.l_item = np.array([0, 0, 0, 1, 1])
    ann.l_code = np.array([1, 0, 0, 1, 0])  # item 0: y, x, x -> x; item 1: y, x tied -> y (first seen)
    ann.l_val = np.full(5, np.nan)
    present, code, _ = ann.llm_single(0)
    assert present.tolist() == [True, True] and [ann.classes[c] for c in code] == ["x", "y"]


def test_bad_alt_test_files_are_one_clear_error(tmp_path):
    from artifactlens.audits.labels.annotators import read_alt_test
    from artifactlens.errors import InputError
    good = tmp_path / "l.json"
    good.write_text(json.dumps({"m": {"1": "x"}}))
    for text, needle in [("[1, 2]", "Alt-Test layout"), ("{not json", "not valid JSON"),
                         (json.dumps({"a": {"1": [1, 2]}}), "the label is a list"),
                         (json.dumps({"a": {"1": int("9" * 400)}}), "400 digits")]:
        bad = tmp_path / "h.json"
        bad.write_text(text)
        with pytest.raises(InputError) as e:
            read_alt_test(bad, good)
        assert needle in str(e.value) and "h.json" in str(e.value)
    bad.write_text(json.dumps({"a": {"1": "three"}}))
    with pytest.raises(InputError, match="not a number"):
        read_alt_test(bad, good, label_type="numeric")
