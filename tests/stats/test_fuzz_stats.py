"""Property-based fuzzing (hypothesis) of the label and preference statistics and of the text features.

Invariants, each checked on random data through the public API (a file written, the audit run):

- labels: every ``*_rate`` and share lies in [0, 1] with its interval; permuting the rows changes no
  figure; duplicating every item (under new ids) leaves every rate and share unchanged; swapping the
  human and the LLM columns leaves the majority kappa and match rate unchanged, swaps the per-side
  figures (unanimity, entropy, alpha) and flips the sign of the entropy drop;
- preferences: rates in [0, 1]; permuting rows changes nothing; duplicating leaves rates unchanged;
  swapping the human and the judge column leaves agreement and kappa unchanged and swaps the paired
  rates (tie rate, first-pick rate);
- text features: any unicode (emoji, combining marks, RTL, controls, lone surrogates excluded) gives
  finite numbers of the right shape, never an exception.

Budget (CI: whole suite under 10 minutes on 2 cores): ``API_EXAMPLES`` = 20 examples for each audit-level
property (each example writes a small file and runs the audit, ~0.1-0.5 s; no shrinking phase, the failing
example is printed as found), ``TEXT_EXAMPLES`` = 150 for the text features (pure functions, milliseconds).
No deadline; the example database is off so CI runs do not depend on earlier runs.
"""
from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

API_EXAMPLES = 20
TEXT_EXAMPLES = 150
API = settings(max_examples=API_EXAMPLES, deadline=None, database=None,  # no shrinking: each example runs audits
               phases=(Phase.explicit, Phase.generate),
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
TEXT = settings(max_examples=TEXT_EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def values(r) -> dict:
    return {k: m.value for k, m in r.metrics.items()}


def close(a: dict, b: dict, keys=None):
    keys = keys if keys is not None else set(a) | set(b)
    for k in keys:
        x, y = a.get(k), b.get(k)
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
            continue
        if isinstance(x, (int, float)) and isinstance(y, (int, float)):
            assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9), (k, x, y)
        else:
            assert x == y, (k, x, y)


def is_rate(name: str) -> bool:
    return name.endswith("_rate") or "_share[" in name or name.endswith("_rate]") or "_rate[" in name


def assert_rates_in_unit(r):
    for k, m in r.metrics.items():
        if is_rate(k) and m.value is not None and not (isinstance(m.value, float) and math.isnan(m.value)):
            assert -1e-12 <= m.value <= 1 + 1e-12, (k, m.value)
            if m.ci:
                assert -1e-12 <= m.ci[0] <= m.ci[1] + 1e-12 <= 1 + 2e-12, (k, m.ci)


# ---------------------------------------------------------------------------------------------------------
# labels
# ---------------------------------------------------------------------------------------------------------
LABELS = st.sampled_from(["a", "b", "c"])
label_list = st.lists(LABELS, min_size=1, max_size=5)
items = st.lists(st.tuples(label_list, label_list), min_size=3, max_size=25)


def labels_audit(tmp, rows, human="human", llm="llm", name="l.csv"):
    from artifactlens.audits.labels import audit_labels
    p = write_csv(tmp / name, ["id", "human", "llm"], [[i, str(h), str(l)] for i, h, l in rows])
    return audit_labels(p, human=human, llm=llm, id="id", second_order=False)


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@API
@given(data=items, perm_seed=st.integers(0, 2**16))
def test_labels_rates_in_unit_and_row_order_changes_nothing(tmp, data, perm_seed):
    rows = [(f"i{k}", h, l) for k, (h, l) in enumerate(data)]
    r = labels_audit(tmp, rows)
    assert_rates_in_unit(r)
    perm = np.random.default_rng(perm_seed).permutation(len(rows))
    r2 = labels_audit(tmp, [rows[i] for i in perm], name="perm.csv")
    close(values(r), values(r2))
    for k in r.metrics:  # intervals too: the bootstrap weights hang on the item id, not the position
        assert r.metrics[k].ci == r2.metrics[k].ci, k


@API
@given(data=items)
def test_labels_duplicating_the_data_leaves_rates_unchanged(tmp, data):
    rows = [(f"i{k}", h, l) for k, (h, l) in enumerate(data)]
    twice = rows + [(f"j{k}", h, l) for k, (h, l) in enumerate(data)]
    a, b = values(labels_audit(tmp, rows)), values(labels_audit(tmp, twice, name="twice.csv"))
    close(a, b, [k for k in a if is_rate(k) or k.endswith("_bits") or k.startswith("class_drift")])


@API
@given(data=items)
def test_labels_agreement_is_symmetric(tmp, data):
    rows = [(f"i{k}", h, l) for k, (h, l) in enumerate(data)]
    a = values(labels_audit(tmp, rows))
    b = values(labels_audit(tmp, rows, human="llm", llm="human", name="swap.csv"))
    # (alpha "pooled" adds the LLM majority to the humans: not symmetric by definition)
    close(a, b, [k for k in ("cohen_kappa_majority", "majority_match_rate") if k in a])
    if a.get("entropy_drop_bits") is not None:  # human minus LLM entropy: swapping the sides flips its sign
        assert b.get("entropy_drop_bits") is not None  # defined on one side means defined on the other
        close({"d": a["entropy_drop_bits"]}, {"d": -b["entropy_drop_bits"]})
    for x, y in (("human_unanimity_rate", "llm_unanimity_rate"), ("human_entropy_bits", "llm_entropy_bits"),
                 ("krippendorff_alpha_human", "krippendorff_alpha_llm")):
        if x in a and y in b:
            close({x: a[x]}, {x: b[y]})


# ---------------------------------------------------------------------------------------------------------
# preferences
# ---------------------------------------------------------------------------------------------------------
CHOICE = st.sampled_from(["a", "b", "tie", "model_a", "model_b", "0", "1", "2", "??", ""])
pair = st.tuples(st.integers(0, 6), st.text("xyz ", min_size=1, max_size=12), st.text("xyz ", min_size=1, max_size=30),
                 CHOICE, CHOICE)
pairs = st.lists(pair, min_size=3, max_size=30)


def prefs_audit(tmp, rows, human="human", judge="judge", name="p.csv"):
    from artifactlens.audits.preferences import audit_preferences
    p = write_csv(tmp / name, ["prompt", "response_a", "response_b", "human", "judge"],
                  [[f"q{q}", a, b, h, j] for q, a, b, h, j in rows])
    return audit_preferences(p, human=human, judge=judge, prompt="prompt", embeddings=False, reward_model=False)


def _prefs_ok(rows) -> bool:
    from artifactlens.io.conventions import parse_choice
    return any(parse_choice(h) and parse_choice(j) for *_, h, j in rows)


def _prefs_built():
    from artifactlens.api import registry
    assert "preferences" in registry(), "the preferences audit is not registered"


@API
@given(data=pairs, perm_seed=st.integers(0, 2**16))
def test_preferences_rates_in_unit_and_row_order_changes_nothing(tmp, data, perm_seed):
    _prefs_built()
    if not _prefs_ok(data):
        return
    r = prefs_audit(tmp, data)
    assert_rates_in_unit(r)
    perm = np.random.default_rng(perm_seed).permutation(len(data))
    close(values(r), values(prefs_audit(tmp, [data[i] for i in perm], name="perm.csv")))


@API
@given(data=pairs)
def test_preferences_duplicating_leaves_rates_unchanged(tmp, data):
    _prefs_built()
    if not _prefs_ok(data):
        return
    a = values(prefs_audit(tmp, data))
    b = values(prefs_audit(tmp, data + data, name="twice.csv"))
    close(a, b, [k for k in a if is_rate(k) or k.endswith("_gap")])


@API
@given(data=pairs)
def test_preferences_agreement_is_symmetric(tmp, data):
    _prefs_built()
    if not _prefs_ok(data):
        return
    a = values(prefs_audit(tmp, data))
    b = values(prefs_audit(tmp, data, human="judge", judge="human", name="swap.csv"))
    close(a, b, [k for k in ("judge_human_agreement", "judge_human_agreement_no_ties", "cohen_kappa") if k in a])
    for x, y in (("judge_tie_rate", "human_tie_rate"), ("judge_first_pick_rate", "human_first_pick_rate"),
                 ("judge_invalid_rate", "human_invalid_rate")):
        if x in a and y in b:
            close({x: a[x]}, {x: b[y]})


# ---------------------------------------------------------------------------------------------------------
# label lists written by Python's str(list) / json.dumps hold any text (quotes, brackets, markup)
# ---------------------------------------------------------------------------------------------------------
any_label = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=15).filter(
    lambda s: s == s.strip() and s.lower() not in ("nan", "none", "null", "na", "n/a", "<na>")
    and not _is_number(s))


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


@TEXT
@given(labels=st.lists(any_label, min_size=1, max_size=6))
def test_label_lists_of_any_text_round_trip(labels):
    """Found by the bad-input suite: ``['positive (mild)', 'b']`` or a label holding a quote or markup
    was refused as "a nested list"."""
    import json as _json

    from artifactlens.io.conventions import parse_label_list
    assert parse_label_list(str(labels)) == labels
    assert parse_label_list(_json.dumps(labels, ensure_ascii=False)) == labels


# ---------------------------------------------------------------------------------------------------------
# text features
# ---------------------------------------------------------------------------------------------------------
unicode_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)
texts = st.lists(st.one_of(unicode_text, st.none(), st.sampled_from(["", " ", "\n\n", "🙂" * 50, "a" * 500,
                                                                       "Dr. No. 1... ?!", "e\u0301" * 20])),
                 min_size=1, max_size=8)


@TEXT
@given(texts=texts)
def test_text_features_never_raise_on_any_unicode(texts):
    from artifactlens.text.features import FEATURES, text_features
    f = text_features(texts)
    assert set(FEATURES) <= set(f)
    for k, v in f.items():
        v = np.asarray(v, dtype=np.float64)
        assert v.shape == (len(texts),), k
        assert np.all(np.isfinite(v)), (k, v)


@TEXT
@given(t=unicode_text)
def test_readability_and_lexicons_never_raise(t):
    from artifactlens.text import lexicons
    from artifactlens.text.features import mattr_one, mtld_one
    from artifactlens.text.readability import readability_counts
    rc = readability_counts([t])
    assert all(np.all(np.isfinite(np.asarray(v, dtype=float))) for v in rc.values())
    assert -1.0 <= lexicons.vader_compound([t])[0] <= 1.0
    toks = lexicons.tokens(t)
    assert math.isfinite(mtld_one(toks)) and math.isfinite(mattr_one(toks))
