"""Labels as people keep them (issue 23 item 7): human and LLM labels in two files joined by item id, and
multi-label annotations as one 0/1 column per class. Each layout is checked against the same labels given
as one wide file (the figures must be the same), on real data (the Alt-Test release's CEBaB stars, split
into a human file and an LLM file as a team would keep them) and on cases counted by hand; rows without a
partner are counted and reported, bad cells are one InputError naming the file, row and column."""
from __future__ import annotations

import json

import pytest

from conftest import shared_path
from support.files import write_csv as _csv

FIGURES = ("minority_erasure_rate", "majority_match_rate", "llm_overconfident_rate", "entropy_drop_bits",
           "human_unanimity_rate", "krippendorff_alpha_pooled")


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _audit(path, **kw):
    from artifactlens.audits.labels import audit_labels
    return audit_labels(path, second_order=False, **kw)


def _same_figures(a, b):
    defined = 0
    for name in FIGURES:
        if name in a.metrics or name in b.metrics:
            x, y = a.metrics[name], b.metrics[name]
            assert (x.value, x.ci) == (y.value, y.ci), name
            defined += x.value is not None
    assert defined >= 2
    assert a.tables["class_shares"]["rows"] == b.tables["class_shares"]["rows"]


def test_two_files_joined_by_id_equal_one_wide_file_on_real_labels(tmp_path):
    d = shared_path("alt_test", "cebab_stars")
    humans = json.loads((d / "human_annotations.json").read_text())
    llm = json.loads((d / "llm_annotations.json").read_text())["gpt-4o"]
    by_item = {}
    for who, anns in humans.items():
        for i, lab in anns.items():
            by_item.setdefault(i, []).append(lab)
    # the human file: one row per (annotator, item), as annotation tools export it; the LLM file JSON Lines
    h = _csv(tmp_path / "human.csv", ["item", "annotator", "stars"],
             [(i, who, lab) for who, anns in humans.items() for i, lab in anns.items()])
    lf = _jsonl(tmp_path / "gpt4o.jsonl", [{"review_id": i, "stars": lab} for i, lab in llm.items()])
    joined = _audit(h, human="stars", llm=["stars"], id="item", llm_file=lf, llm_id="review_id")
    wide = _csv(tmp_path / "wide.csv", ["item", "human", "gpt4o"],
                [(i, json.dumps(by_item[i]), json.dumps([llm[i]])) for i in by_item])
    one = _audit(wide, human="human", llm="gpt4o", id="item")
    assert joined.input.rows_used == one.input.rows_used == len(by_item)
    _same_figures(joined, one)
    assert joined.params["model_name"] == "gpt4o"  # the LLM file's column is named like the human one
    assert not any("partner" in k for k in joined.input.rows_skipped)
    assert joined.input.rows_read == sum(len(a) for a in humans.values()) + len(llm)


def test_rows_without_a_partner_are_counted_and_reported_never_dropped_silently(tmp_path):
    h = _csv(tmp_path / "h.csv", ["id", "text", "label"],
             [(1, "good", "pos"), (1, "good", "pos"), (2, "bad", "neg"), (2, "bad", "pos"), (3, "meh", "neu"),
              (9, "lost", "pos"), (9, "lost", "neg")])
    lf = _csv(tmp_path / "llm.csv", ["id", "gpt", "claude"],
              [(1, "pos", "pos"), (2, "neg", "pos"), (3, "neu", "neu"), (7, "neg", "neg"), (8, "pos", "pos"),
               (8, "pos", "neg")])
    r = _audit(h, human="label", llm=["gpt", "claude"], id="id", text="text", llm_file=lf)
    skipped = r.input.rows_skipped
    assert skipped["human row without a partner (its id is not in llm.csv)"] == 2
    assert skipped["llm row without a partner (its id is not in h.csv)"] == 3
    warnings = [f.message for f in r.findings if f.severity == "warning" and "no partner" in f.message]
    assert len(warnings) == 2
    assert any("2 row(s) of" in m and "(1 item id(s))" in m for m in warnings)
    assert any("3 row(s) of" in m and "(2 item id(s))" in m for m in warnings)
    assert [s.params["model_name"] for s in r.sections] == ["gpt", "claude"]
    assert all(s.input.rows_used == 3 for s in r.sections)
    assert r.input.path.endswith("h.csv + " + str(lf))
    # the figures are those of the three joined items written as one wide file
    wide = _csv(tmp_path / "wide.csv", ["id", "text", "human", "gpt", "claude"],
                [(1, "good", '["pos","pos"]', '["pos"]', '["pos"]'), (2, "bad", '["neg","pos"]', '["neg"]', '["pos"]'),
                 (3, "meh", '["neu"]', '["neu"]', '["neu"]')])
    one = _audit(wide, human="human", llm=["gpt", "claude"], id="id", text="text")
    for a, b in zip(r.sections, one.sections):
        _same_figures(a, b)


def test_the_cli_joins_two_files(tmp_path, run_cli):
    h = _csv(tmp_path / "h.csv", ["id", "label"], [(i, "a" if i % 3 else "b") for i in range(40)] +
             [(i, "a") for i in range(40)])
    lf = _csv(tmp_path / "l.csv", ["item", "model_label"], [(i, "a") for i in range(5, 45)])
    out = tmp_path / "r.json"
    code, stdout, stderr = run_cli("audit", "labels", h, "--human", "label", "--llm", "model_label", "--id", "id",
                                   "--llm-file", lf, "--llm-id", "item", "--no-second-order", "--json", out)
    assert code == 0, stderr
    r = json.loads(out.read_text())
    assert r["input"]["rows_used"] == 35
    assert r["input"]["rows_skipped"]["human row without a partner (its id is not in l.csv)"] == 10
    assert r["input"]["rows_skipped"]["llm row without a partner (its id is not in h.csv)"] == 5
    assert r["params"]["joined"] == {"llm_file": str(lf), "llm_id": "item", "multi_label": False}
    assert "no partner" in stdout


# -------------------------------------------------------------------------------------------------------
# multi-label binary columns
# -------------------------------------------------------------------------------------------------------
ML_HUMAN = [  # id, annotator, toxic, insult, threat
    (1, "ann", 1, 0, 0), (1, "bob", 1, 1, 0), (1, "cy", 0, 0, 0),
    (2, "ann", 0, 0, 0), (2, "bob", 0, 0, 1), (2, "cy", "", "", ""),
    (3, "ann", "true", "false", "false"), (3, "bob", "1", "0", ""),
]
ML_LLM = [(1, 1, 0, 0), (1, 1, 0, 0), (2, 0, 0, 0), (3, 1, 1, 1)]  # id, toxic, insult, threat (2 samples of 1)


def test_multi_label_columns_give_one_label_per_marked_class(tmp_path):
    h = _csv(tmp_path / "h.csv", ["id", "annotator", "toxic", "insult", "threat"], ML_HUMAN)
    lf = _csv(tmp_path / "l.csv", ["id", "toxic", "insult", "threat"], ML_LLM)
    r = _audit(h, human="toxic,insult,threat", id="id", llm_file=lf, multi_label=True)
    assert r.input.rows_skipped["human multi-label row with every class cell empty"] == 1
    # by hand: item 1 humans [toxic] [toxic, insult] [(none)], LLM [toxic] [toxic];
    # item 2 humans [(none)] [threat], LLM [(none)]; item 3 humans [toxic] [toxic] (bob's empty threat is
    # missing, not 0), LLM [toxic, insult, threat]
    counts = {row[0]: (row[-2], row[-1]) for row in r.tables["class_shares"]["rows"]}
    assert counts == {"(none)": (2, 1), "insult": (1, 1), "threat": (1, 1), "toxic": (4, 3)}
    assert any("3 annotation(s) marked no class" in f.message for f in r.findings)
    wide = _csv(tmp_path / "wide.csv", ["id", "human", "llm"],
                [(1, '["toxic","toxic","insult","(none)"]', '["toxic","toxic"]'),
                 (2, '["(none)","threat"]', '["(none)"]'),
                 (3, '["toxic","toxic"]', '["toxic","insult","threat"]')])
    _same_figures(r, _audit(wide, human="human", llm="llm", id="id"))


def test_multi_label_in_one_file_with_a_column_group_per_side(tmp_path):
    rows = [(i, int(i % 2 == 0), int(i % 3 == 0), int(i % 2 == 0), 0) for i in range(30)]
    f = _csv(tmp_path / "one.csv", ["id", "h_spam", "h_ads", "gpt_spam", "gpt_ads"], rows)
    r = _audit(f, human="h_spam,h_ads", llm=["gpt_spam,gpt_ads"], id="id", multi_label=True)
    assert r.params["model_name"] == "gpt" and r.input.rows_used == 30
    counts = {row[0]: (row[-2], row[-1]) for row in r.tables["class_shares"]["rows"]}
    # classes are named by the human columns; the LLM never marks ads, and marks none where i is odd
    assert counts == {"h_spam": (15, 15), "h_ads": (10, 0), "(none)": (10, 15)}


@pytest.mark.parametrize("cell", ["2", "maybe", "-1", "0.5"])
def test_a_bad_multi_label_cell_names_file_row_and_column(tmp_path, cell):
    from artifactlens.errors import InputError
    h = _csv(tmp_path / "h.csv", ["id", "toxic", "insult"], [(1, 1, 0), (2, 0, 1)])
    lf = _csv(tmp_path / "l.csv", ["id", "toxic", "insult"], [(1, 1, 0), (2, 0, cell)])
    with pytest.raises(InputError) as e:
        _audit(h, human="toxic,insult", id="id", llm_file=lf, multi_label=True)
    assert (e.value.path, e.value.row, e.value.column) == (str(lf), 1, "insult")
    assert "0 or 1" in str(e.value)


def test_bad_joined_inputs_are_one_clear_error(tmp_path, run_cli):
    from artifactlens.errors import InputError
    h = _csv(tmp_path / "h.csv", ["id", "toxic", "insult"], [(1, 1, 0), (2, 0, 1)])
    other = _csv(tmp_path / "other.csv", ["id", "toxic", "insult"], [(5, 1, 0)])
    cases = [
        (dict(human="toxic", llm=["toxic"], llm_file=other), "needs --id"),
        (dict(human="toxic", llm=["toxic"], id="id", llm_file=other), "no item id is in both files"),
        (dict(human="toxic,insult", llm=["toxic"], id="id", llm_file=h, multi_label=True), "names 1 class columns"),
        (dict(human="toxic,nope", id="id", llm_file=h, multi_label=True), "missing column"),
        (dict(human="toxic", llm=["gpt"], id="id", llm_file=h), "missing column"),
        (dict(human="toxic", llm=["toxic"], id="item", llm_file=h), "missing column"),
        (dict(human="toxic,", id="id", llm_file=h, multi_label=True), "comma-separated"),
        (dict(human="toxic", llm=["toxic"], id="id", llm_file=tmp_path / "absent.csv"), "no such file"),
        (dict(format="long", label="toxic", source="insult", id="id", llm_file=h), "wide files"),
    ]
    for kw, needle in cases:
        with pytest.raises(InputError) as e:
            _audit(h, **kw)
        assert needle in str(e.value), (kw, str(e.value))
    code, _, stderr = run_cli("audit", "labels", h, "--human", "toxic,insult", "--multi-label", "--id", "id",
                              "--llm-file", other, "--llm-id", "nope", "--no-second-order")
    assert code == 2 and "nope" in stderr and "other.csv" in stderr and "Traceback" not in stderr


def test_label_order_within_a_cell_and_the_batch_size_change_no_figure(tmp_path):
    """The first order parses each distinct cell once and shares equal label multisets between cells:
    writing the labels of a cell in another order, or cutting the file into other batches, changes nothing."""
    import random
    rnd = random.Random(5)
    rows, shuffled = [], []
    for i in range(300):
        h = [rnd.choice("abc") for _ in range(rnd.randint(2, 5))]
        lm = [rnd.choice("ab") for _ in range(rnd.randint(1, 4))]
        rows.append((i, json.dumps(h), json.dumps(lm), rnd.choice(["x", "y", ""])))
        shuffled.append((i, json.dumps(rnd.sample(h, len(h))), json.dumps(rnd.sample(lm, len(lm))), rows[-1][3]))
    a = _csv(tmp_path / "a.csv", ["id", "human", "llm", "domain"], rows)
    b = _csv(tmp_path / "b.csv", ["id", "human", "llm", "domain"], shuffled)
    ra = _audit(a, human="human", llm="llm", id="id", domain="domain", flags=str(tmp_path / "fa.parquet"))
    for path, bs in ((b, 8192), (a, 7), (b, 50)):
        rb = _audit(path, human="human", llm="llm", id="id", domain="domain", batch_size=bs,
                    flags=str(tmp_path / "fb.parquet"))
        assert {k: (m.value, m.ci) for k, m in ra.metrics.items()} == {k: (m.value, m.ci) for k, m in rb.metrics.items()}
        assert ra.tables == rb.tables
    import pyarrow.parquet as pq
    fa, fb = pq.read_table(tmp_path / "fa.parquet"), pq.read_table(tmp_path / "fb.parquet")
    assert fa.drop_columns(["human", "llm"]).equals(fb.drop_columns(["human", "llm"]))
