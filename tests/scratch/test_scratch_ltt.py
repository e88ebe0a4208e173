"""The from-scratch Learn-Then-Test agrees with the production select_threshold."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from prudent.models._learn_then_test import select_threshold
from prudent.scratch._ltt import binomial_cdf, ltt_threshold


@pytest.mark.parametrize(
    ("k", "n", "p"), [(0, 1, 0.5), (3, 40, 0.05), (12, 300, 0.05), (7, 7, 0.2)]
)
def test_scratch_binomial_cdf_matches_scipy(k, n, p):
    assert binomial_cdf(k, n, p) == pytest.approx(binom.cdf(k, n, p), rel=1e-9)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("target", [0.8, 0.9, 0.95])
def test_scratch_ltt_agrees_on_simulated_data_with_ties(seed, target):
    rng = np.random.default_rng(seed)
    conf = np.round(rng.uniform(0.5, 1.0, 400), 2)  # rounding makes many ties
    correct = rng.uniform(size=400) < conf
    expected = select_threshold(conf, correct, target_accuracy=target, delta=0.1)
    got = ltt_threshold(conf.tolist(), correct.tolist(), target_accuracy=target, delta=0.1)
    assert got == expected.threshold


@pytest.mark.parametrize("min_accept", [1, 50, 200])
def test_scratch_ltt_agrees_on_breast_cancer(min_accept):
    X, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05))
    proba = cross_val_predict(model, X, y, cv=5, method="predict_proba")
    conf, correct = proba.max(axis=1), proba.argmax(axis=1) == y
    for target in (0.9, 0.97, 0.995):
        expected = select_threshold(conf, correct, target_accuracy=target, min_accept=min_accept)
        got = ltt_threshold(conf.tolist(), correct.tolist(), target, 0.1, min_accept)
        assert got == expected.threshold
