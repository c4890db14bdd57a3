"""The labels audit's annotator figures against the libraries they wrap, refitted here on the same input
built straight from the files (no artifactlens helpers): crowd-kit's DawidSkene and MACE (per-annotator
quality, each LLM's confusion matrix, the aggregated labels) and ppi-python (class shares and the LLM's
error rate from a gold sample). On the Alt-Test release in ../shared and on generated sets whose truth is
known, so the figures are also checked for meaning (a spammer ranks last, a biased LLM's confusion row
shows its bias, the PPI interval covers the true share where the naive one does not)."""
from __future__ import annotations

import csv
import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import shared_path

TOL = 1e-9


def _audit(h, l, **kw):
    from artifactlens.audits.labels import audit_labels
    return audit_labels(None, human_annotations=h, llm_annotations=l, second_order=False, **kw)


def _raw_frame(h, l):
    """The crowd-kit frame a user would build from the two JSON files: (task, worker, label), humans then
    LLMs (worker ``llm:<name>``), in file order, null labels left out."""
    humans, llms = json.loads(open(h).read()), json.loads(open(l).read())
    rows = [(i, w, lab) for w, a in humans.items() for i, lab in a.items() if lab is not None]
    rows += [(i, f"llm:{w}", lab) for w, a in llms.items() for i, lab in a.items() if lab is not None]
    return pd.DataFrame(rows, columns=["task", "worker", "label"]), humans, llms


def _crowdkit(df):
    from crowdkit.aggregation import MACE, DawidSkene
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DawidSkene(n_iter=100).fit(df), MACE(n_restarts=1, random_state=0).fit(df)


def _label_text(v):
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _check_against_crowdkit(r, h, l):
    """Every annotator figure of result ``r`` equals crowd-kit's own fit on the raw frame."""
    df, humans, llms = _raw_frame(h, l)
    ds, mace = _crowdkit(df)
    classes = sorted(df["label"].unique(), key=lambda v: (isinstance(v, str), v))
    table = r.tables["annotator_quality"]
    assert table["columns"][:6] == ["annotator", "kind", "items", "Dawid-Skene accuracy", "MACE competence",
                                    "agreement with the Dawid-Skene label"]
    rows = {(row[1], row[0]): row for row in table["rows"]}
    assert len(rows) == len(humans) + len(llms)
    workers = list(pd.unique(df["worker"]))
    competence = dict(zip(workers, mace.spamming_[:, 1]))  # MACE numbers workers by first appearance
    agree = (df["label"].to_numpy() == ds.labels_.reindex(df["task"]).to_numpy())
    agree = pd.Series(agree).groupby(df["worker"].to_numpy()).mean()
    for w in workers:
        kind, name = ("LLM", w[4:]) if w.startswith("llm:") else ("human", w)
        row = rows[(kind, name)]
        e = ds.errors_.loc[w]
        acc = sum(ds.priors_[k] * e.loc[k, k] for k in e.columns if k in e.index)
        assert row[2] == df.loc[df.worker == w, "task"].nunique()
        assert row[3] == pytest.approx(acc, abs=TOL), w
        assert row[4] == pytest.approx(competence[w], abs=TOL), w
        assert row[5] == pytest.approx(agree[w], abs=TOL), w
    # each LLM's confusion matrix: row = true label, column = the label it gives
    sections = {s.params["model_name"]: s for s in r.sections} if r.sections else {next(iter(llms)): r}
    for name, sec in sections.items():
        conf = sec.tables["ds_confusion"]
        e = ds.errors_.loc[f"llm:{name}"]
        assert [row[0] for row in conf["rows"]] == [_label_text(c) for c in classes]
        for c_true, row in zip(classes, conf["rows"]):
            want = [float(e.loc[c, c_true]) if c in e.index and c_true in e.columns else 0.0 for c in classes]
            assert row[1:] == pytest.approx(want, abs=TOL), (name, c_true)
    # the aggregated labels: shares in the result, and item by item through the API
    shares = {row[0]: row[1:] for row in r.tables["aggregated_label_shares"]["rows"]}
    for c in classes:
        want = [float((ds.labels_ == c).mean()), float((mace.labels_ == c).mean())]
        assert shares[_label_text(c)] == pytest.approx(want, abs=TOL)
    return ds, mace


def _check_labels_item_by_item(h, l, label_type="auto"):
    from artifactlens.audits.labels.annotators import read_alt_test
    from artifactlens.audits.labels.quality import annotator_quality
    ann = read_alt_test(h, l, label_type=label_type)
    q = annotator_quality(ann)
    ds, mace = _crowdkit(_raw_frame(h, l)[0])
    assert q["labels"]["dawid_skene"] == ds.labels_.to_dict()
    assert q["labels"]["mace"] == mace.labels_.to_dict()


@pytest.mark.parametrize("name", ["mtbench", "wax", "cebab_stars"])
def test_dawid_skene_and_mace_equal_crowdkit_on_the_alt_test_release(name):
    d = shared_path("alt_test", name)
    h, l = d / "human_annotations.json", d / "llm_annotations.json"
    r = _audit(h, l, label_type="categorical")
    _check_against_crowdkit(r, h, l)
    _check_labels_item_by_item(h, l, "categorical")


def _generated(tmp_path, seed=0, n=150):
    """Three classes; humans of accuracy 0.9, 0.8, 0.7 and a spammer (uniform); an LLM that is right 85% of
    the time and one that always says 'b' when the truth is 'a'. Returns paths and the truth."""
    rng = np.random.default_rng(seed)
    cls = ["a", "b", "c"]
    truth = {f"t{i:03d}": cls[int(rng.integers(3))] for i in range(n)}

    def noisy(p_right):
        return {i: (t if rng.random() < p_right else cls[int(rng.integers(3))]) for i, t in truth.items()
                if rng.random() < 0.8}

    humans = {"ann": noisy(0.9), "bea": noisy(0.8), "cal": noisy(0.7),
              "spam": {i: cls[int(rng.integers(3))] for i in truth}}
    llms = {"good": {i: (t if rng.random() < 0.85 else cls[int(rng.integers(3))]) for i, t in truth.items()},
            "biased": {i: ("b" if t == "a" else t) for i, t in truth.items()}}
    h, l = tmp_path / "h.json", tmp_path / "l.json"
    h.write_text(json.dumps(humans)), l.write_text(json.dumps(llms))
    return h, l, truth


def test_dawid_skene_and_mace_equal_crowdkit_on_a_generated_set_and_mean_something(tmp_path):
    h, l, truth = _generated(tmp_path)
    r = _audit(h, l)
    ds, mace = _check_against_crowdkit(r, h, l)
    _check_labels_item_by_item(h, l)
    rows = {row[0]: row for row in r.tables["annotator_quality"]["rows"]}
    # the spammer is the least competent worker by both models; the careful human beats the careless one
    assert min(rows, key=lambda w: rows[w][4]) == "spam"
    assert min(rows, key=lambda w: rows[w][3]) == "spam"
    assert rows["ann"][3] > rows["cal"][3]
    # the biased LLM's confusion row for a true 'a' puts (nearly) all its mass on 'b'
    sec = {s.params["model_name"]: s for s in r.sections}
    row_a = sec["biased"].tables["ds_confusion"]["rows"][0]
    assert row_a[0] == "a" and row_a[2] > 0.9 and row_a[1] < 0.05
    # the aggregated labels recover the truth on most items
    assert np.mean([ds.labels_[i] == t for i, t in truth.items()]) > 0.9


# -------------------------------------------------------------------------------------------------------
# Prediction-powered inference: ppi-python on the same arrays
# -------------------------------------------------------------------------------------------------------
def _write_gold(tmp_path, gold: dict):
    p = tmp_path / "gold.csv"
    with open(p, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["item", "truth"])
        w.writerows(gold.items())
    return p


def _plurality(labels, classes):
    """The most frequent label, the first in label order on a tie."""
    counts = {c: labels.count(c) for c in classes}
    top = max(counts.values())
    return next(c for c in classes if counts[c] == top)


def _ppi_oracle(humans: dict, llm: dict, gold: dict):
    """ppi-python's figures from plain dicts: shares of every class and the LLM error rate."""
    from ppi_py import ppi_mean_ci, ppi_mean_pointestimate
    classes = sorted({*llm.values(), *(v for a in humans.values() for v in a.values())},
                     key=lambda v: (isinstance(v, str), v))
    rest = [i for i in llm if i not in gold]
    g = [i for i in gold if i in llm]
    out = {}

    def ppi(y, yhat, yu):
        """Power-tuned; where ppi-python's tuned lambda is NaN (constant predictions), untuned (lam=1)."""
        y, yhat, yu = (np.asarray(x, dtype=float) for x in (y, yhat, yu))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lo, hi = ppi_mean_ci(y, yhat, yu, alpha=0.05)
            est = float(ppi_mean_pointestimate(y, yhat, yu)[0])
            if not np.isfinite([est, lo[0], hi[0]]).all():
                lo, hi = ppi_mean_ci(y, yhat, yu, alpha=0.05, lam=1)
                est = float(ppi_mean_pointestimate(y, yhat, yu, lam=1)[0])
        return est, float(lo[0]), float(hi[0])

    for c in classes:
        y, yhat, yu = [gold[i] == c for i in g], [llm[i] == c for i in g], [llm[i] == c for i in rest]
        if any(y) or any(yhat) or any(yu):
            naive = float(np.mean([v == c for v in llm.values()]))
            out[_label_text(c)] = (*ppi(y, yhat, yu), naive)
    by_item = {}
    for a in humans.values():
        for i, v in a.items():
            by_item.setdefault(i, []).append(v)
    crowd = {i: _plurality(v, classes) for i, v in by_item.items()}
    if not all(i in crowd for i in g):  # the proxy is undefined on a gold item: the gold sample alone
        from ppi_py import classical_mean_ci
        y = np.asarray([llm[i] != gold[i] for i in g], dtype=float)
        lo, hi = classical_mean_ci(y, alpha=0.05)
        return out, (float(y.mean()), float(lo), float(hi), None)
    err = ppi([llm[i] != gold[i] for i in g], [llm[i] != crowd[i] for i in g],
              [llm[i] != crowd[i] for i in rest if i in crowd])
    naive_err = float(np.mean([llm[i] != crowd[i] for i in llm if i in crowd]))
    return out, (*err, naive_err)


def _check_ppi(r, humans, llms, gold):
    sections = {s.params["model_name"]: s for s in r.sections} if r.sections else {next(iter(llms)): r}
    for name, sec in sections.items():
        shares, err = _ppi_oracle(humans, llms[name], gold)
        got = {k[len("ppi_share["):-1] for k in sec.metrics if k.startswith("ppi_share[")}
        assert got == set(shares), name
        for c, (est, lo, hi, naive) in shares.items():
            m = sec.metrics[f"ppi_share[{c}]"]
            assert (m.value, *m.ci) == pytest.approx((est, lo, hi), abs=TOL), (name, c)
            assert sec[f"naive_llm_share[{c}]"] == pytest.approx(naive, abs=TOL)
        m = sec.metrics["llm_error_rate_ppi"]
        assert (m.value, *m.ci) == pytest.approx(err[:3], abs=TOL), name
        if err[3] is None:
            assert "llm_error_rate_naive" not in sec.metrics
        else:
            assert sec["llm_error_rate_naive"] == pytest.approx(err[3], abs=TOL)
        assert sec.params["gold_sample"]["items"] == sum(1 for i in gold if i in llms[name])


@pytest.mark.parametrize("name", ["wax", "cebab_stars"])
def test_ppi_equals_ppi_python_on_the_alt_test_release(tmp_path, name):
    d = shared_path("alt_test", name)
    h, l = d / "human_annotations.json", d / "llm_annotations.json"
    humans, llms = json.loads(h.read_text()), json.loads(l.read_text())
    # gold: the busiest human's labels on 60 of their items (every third, in id order)
    busiest = max(humans, key=lambda w: len(humans[w]))
    gold = {i: humans[busiest][i] for i in sorted(humans[busiest])[::3][:60]}
    g = _write_gold(tmp_path, gold)
    r = _audit(h, l, label_type="categorical", gold_sample=g, gold_id="item", gold_label="truth",
               annotator_quality=False)
    _check_ppi(r, humans, llms, gold)


def test_ppi_interval_covers_the_truth_where_the_naive_share_is_biased(tmp_path):
    rng = np.random.default_rng(3)
    n = 3000
    truth = {f"i{k}": ("a" if rng.random() < 0.5 else "b") for k in range(n)}
    # the LLM calls 30% of the a's 'b': its naive share of a is about 0.35 where the truth is 0.5
    llm = {i: ("b" if t == "a" and rng.random() < 0.3 else t) for i, t in truth.items()}
    humans = {f"h{j}": {i: (t if rng.random() < 0.9 else ("a" if t == "b" else "b")) for i, t in truth.items()
                        if j == 0 or rng.random() < 0.5} for j in range(3)}
    gold = {i: truth[i] for i in list(truth)[:400]}
    h, l = tmp_path / "h.json", tmp_path / "l.json"
    h.write_text(json.dumps(humans)), l.write_text(json.dumps({"skewed": llm}))
    r = _audit(h, l, gold_sample=_write_gold(tmp_path, gold), gold_id="item", gold_label="truth",
               annotator_quality=False)
    _check_ppi(r, humans, {"skewed": llm}, gold)
    assert "400 gold items" in r.tables["ppi"]["title"] and "disagreement" in r.metrics["llm_error_rate_ppi"].description
    true_a = sum(t == "a" for t in truth.values()) / n
    ppi = r.metrics["ppi_share[a]"]
    naive = r.metrics["naive_llm_share[a]"]
    assert ppi.ci[0] <= true_a <= ppi.ci[1]
    assert not naive.ci[0] <= true_a <= naive.ci[1] and naive.value < true_a - 0.1
    true_err = float(np.mean([llm[i] != truth[i] for i in truth]))
    err = r.metrics["llm_error_rate_ppi"]
    assert err.ci[0] <= true_err <= err.ci[1] and math.isclose(true_err, 0.15, abs_tol=0.03)


def test_ppi_on_free_text_labels_gives_the_most_frequent_labels_and_one_other_share(tmp_path):
    """KiloGram (4,434 distinct answers): shares of the 30 most frequent labels (human labels + the LLM's,
    ties in label order) and one '(other)' share, each equal to ppi-python on its indicator; not one
    metric per answer."""
    from ppi_py import ppi_mean_ci, ppi_mean_pointestimate
    d = shared_path("alt_test", "kilogram")
    h, l = d / "human_annotations.json", d / "llm_annotations.json"
    humans, llms = json.loads(h.read_text()), json.loads(l.read_text())
    busiest = max(humans, key=lambda w: len(humans[w]))
    gold = {i: humans[busiest][i] for i in sorted(humans[busiest])[::3][:60]}
    r = _audit(h, l, gold_sample=_write_gold(tmp_path, gold), gold_id="item", gold_label="truth",
               annotator_quality=False)
    human_count = {}
    for a in humans.values():
        for v in a.values():
            if v is not None:
                human_count[v] = human_count.get(v, 0) + 1
    for sec in r.sections:
        llm = {i: v for i, v in llms[sec.params["model_name"]].items() if v is not None}
        count = dict(human_count)
        for v in llm.values():
            count[v] = count.get(v, 0) + 1
        classes = sorted(count)
        top = set(sorted(classes, key=lambda c: -count[c])[:30])
        g, rest = [i for i in gold if i in llm], [i for i in llm if i not in gold]

        def ppi(ind):
            y, yhat, yu = (np.asarray([ind(x) for x in xs], dtype=float)
                           for xs in ([gold[i] for i in g], [llm[i] for i in g], [llm[i] for i in rest]))
            lo, hi = ppi_mean_ci(y, yhat, yu, alpha=0.05)
            return float(ppi_mean_pointestimate(y, yhat, yu)[0]), float(lo[0]), float(hi[0])
        other = f"(other: {len(classes) - 30:,} labels)"
        want = {c: ppi(lambda x, c=c: x == c) for c in top
                if any(gold[i] == c or llm[i] == c for i in g) or any(llm[i] == c for i in rest)}
        want[other] = ppi(lambda x: x not in top)
        got = {k[len("ppi_share["):-1]: sec.metrics[k] for k in sec.metrics if k.startswith("ppi_share[")}
        assert set(got) == set(want) and len(got) <= 31
        for c, (est, lo, hi) in want.items():
            if math.isfinite(est) and math.isfinite(lo):
                assert (got[c].value, *got[c].ci) == pytest.approx((est, lo, hi), abs=TOL), c
        assert sec[f"naive_llm_share[{other}]"] == pytest.approx(np.mean([v not in top for v in llm.values()]))
        assert "one of the other" in sec.tables["ppi"]["title"]
