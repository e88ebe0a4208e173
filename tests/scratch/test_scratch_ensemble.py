"""The from-scratch greedy ensemble selection agrees with the production function."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from prudent.models._ensemble_greedy import greedy_ensemble_selection
from prudent.scratch._greedy_ensemble import greedy_selection


def _oof(loader) -> tuple[list[np.ndarray], np.ndarray]:
    X, y = loader(return_X_y=True)
    members = [
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
        GaussianNB(),
        make_pipeline(StandardScaler(), KNeighborsClassifier(10)),
        DecisionTreeClassifier(max_depth=4, random_state=0),
    ]
    return [cross_val_predict(m, X, y, method="predict_proba") for m in members], y


@pytest.mark.parametrize("loader", [load_wine, load_breast_cancer])
@pytest.mark.parametrize("n_iter", [0, 1, 5, 50])
def test_scratch_greedy_selection_matches_production(loader, n_iter):
    probas, y = _oof(loader)
    expected = greedy_ensemble_selection(probas, y, n_iter=n_iter)
    np.testing.assert_allclose(greedy_selection(probas, y, n_iter=n_iter), expected, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_scratch_greedy_selection_matches_production_on_random_probabilities(seed):
    rng = np.random.default_rng(seed)
    y = np.arange(120) % 4
    probas = [rng.dirichlet(np.ones(4), size=120) for _ in range(5)]
    for p, lean in zip(probas, (0.7, 0.7, 0.7, 0.7, 0.3), strict=True):
        p[np.arange(120), y] += lean  # each model leans to the truth, with its own noise
    probas = [p / p.sum(1, keepdims=True) for p in probas]
    expected = greedy_ensemble_selection(probas, y, n_iter=20)
    assert np.count_nonzero(expected) >= 2  # independent noise: mixing pays
    np.testing.assert_allclose(greedy_selection(probas, y, n_iter=20), expected, atol=1e-12)
