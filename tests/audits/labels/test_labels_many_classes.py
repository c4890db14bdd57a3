"""Labels with thousands of classes (free-text labels, as in Alt-Test's KiloGram): Krippendorff's alpha from
its closed form and Cohen's kappa from the cells present, equal to the dense computations."""
from __future__ import annotations

import importlib

import numpy as np
import pytest

from artifactlens.audits.labels.build import kappa_from_sums

agreement = importlib.import_module("artifactlens.audits.labels.agreement")  # (the package exports a function of that name)


@pytest.mark.parametrize("level", ["nominal", "interval"])
def test_closed_form_alpha_equals_the_package(level, monkeypatch):
    rng = np.random.default_rng(0)
    for _ in range(10):
        c = rng.integers(0, 4, size=(int(rng.integers(5, 60)), int(rng.integers(2, 9)))).astype(float)
        v = np.sort(rng.normal(size=c.shape[1])) * 3
        dom = v if level == "interval" else None
        want = agreement.alpha(c, dom, level)  # the package (small: dense)
        monkeypatch.setattr(agreement, "DENSE_ALPHA_BYTES", 0)  # force the closed form
        got = agreement.alpha(c, dom, level)
        monkeypatch.undo()
        assert got == pytest.approx(want, abs=1e-9) or (np.isnan(got) and np.isnan(want))


def test_many_classes_never_build_the_dense_tensor():
    rng = np.random.default_rng(1)
    c = np.zeros((1000, 5000))
    c[np.arange(1000), rng.integers(0, 5000, 1000)] += 2  # every item: two labels (the same one)
    c[np.arange(1000), rng.integers(0, 5000, 1000)] += 1
    a = agreement.alpha(c)  # the package would need 1000 x 5000 x 5000 floats (200 GB)
    assert np.isfinite(a) and -1 <= a <= 1


def test_sparse_kappa_equals_the_dense_sum():
    keys = ["s:a", "s:b|c", "s:d"]  # a label holding "|"
    s = {"k|s:a|s:a": 5.0, "k|s:a|s:b|c": 2.0, "k|s:b|c|s:b|c": 4.0, "k|s:d|s:a": 1.0, "k|s:d|s:d": 3.0,
         "other": 9.0}
    cells = np.array([[5, 2, 0], [0, 4, 0], [1, 0, 3]], dtype=float)
    n = cells.sum()
    po, pe = np.trace(cells) / n, (cells.sum(1) * cells.sum(0)).sum() / n ** 2
    assert kappa_from_sums(s, keys) == pytest.approx((po - pe) / (1 - pe), abs=1e-12)
