"""The from-scratch McNemar, Holm and confident learning agree with prudent.metrics."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits, load_wine

from prudent import metrics
from prudent.scratch import _label_audit as scratch_audit
from prudent.scratch import _mcnemar as scratch_mcnemar
from tests.metrics.conftest import flip_labels, oof_proba


@pytest.mark.parametrize("seed", range(30))
def test_scratch_mcnemar_agrees(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 400))
    a = rng.uniform(size=n) < rng.uniform(0.5, 1.0)
    b = rng.uniform(size=n) < rng.uniform(0.5, 1.0)
    mine = scratch_mcnemar.mcnemar(a.tolist(), b.tolist())
    prod = metrics.mcnemar(a, b)
    assert (mine.name, mine.n01, mine.n10) == (prod.name, prod.n01, prod.n10)
    assert mine.statistic == pytest.approx(prod.statistic)
    assert mine.p_value == pytest.approx(prod.p_value, rel=1e-9, abs=1e-300)


def test_scratch_mcnemar_covers_both_branches():
    names = {scratch_mcnemar.mcnemar([1] * n + [0] * 3, [0] * n + [1] * 3).name for n in (5, 40)}
    assert names == {"McNemar (exact binomial)", "McNemar (chi-squared, continuity-corrected)"}


@pytest.mark.parametrize("seed", range(20))
def test_scratch_holm_agrees(seed):
    rng = np.random.default_rng(seed)
    p = (rng.uniform(size=int(rng.integers(1, 12))) ** 2).tolist()
    assert scratch_mcnemar.holm(p) == pytest.approx(metrics.holm(p).tolist())


@pytest.mark.parametrize(
    ("loader", "rate"), [(load_breast_cancer, 0.05), (load_digits, 0.05), (load_wine, 0.1)]
)
def test_scratch_label_audit_agrees(loader, rate):
    x, y = loader(return_X_y=True)
    noisy, _ = flip_labels(y, rate=rate, seed=1)
    proba = oof_proba(x, noisy)
    prod = metrics.find_label_issues(noisy, proba)
    mine = scratch_audit.find_label_issues(noisy.tolist(), proba.tolist())
    assert len(mine) > 0
    assert [i.row for i in mine] == prod["row"].tolist()
    assert [i.likely for i in mine] == prod["likely"].tolist()
    assert [i.given for i in mine] == prod["given"].tolist()
    assert [i.score for i in mine] == pytest.approx(prod["score"].tolist())
