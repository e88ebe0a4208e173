"""The from-scratch temperature scaling and conformal sets agree with the production path."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB

from prudent.models._calibration import ProbabilityCalibrator
from prudent.models._conformal import ConformalClassifier, label_scores
from prudent.scratch._conformal import conformal_quantile, label_score, prediction_sets
from prudent.scratch._temperature import apply_temperature, fit_temperature


def held_out_proba(loader, model) -> tuple[np.ndarray, ...]:
    X, y = loader(return_X_y=True)
    X_fit, X_rest, y_fit, y_rest = train_test_split(X, y, train_size=0.4, random_state=0)
    P = model.fit(X_fit, y_fit).predict_proba(X_rest)
    half = y_rest.size // 2
    return P[:half], y_rest[:half], P[half:], y_rest[half:]


@pytest.fixture(scope="module")
def digits_nb() -> tuple[np.ndarray, ...]:
    return held_out_proba(load_digits, GaussianNB())


@pytest.fixture(scope="module")
def digits_logreg() -> tuple[np.ndarray, ...]:
    return held_out_proba(load_digits, LogisticRegression(C=0.01, max_iter=2000))


@pytest.mark.parametrize(
    ("loader", "model"),
    [(load_digits, GaussianNB()), (load_breast_cancer, GaussianNB())],
    ids=["digits", "breast_cancer"],
)
def test_scratch_temperature_matches_production(loader, model):
    P_cal, y_cal, P_eval, _ = held_out_proba(loader, model)
    production = ProbabilityCalibrator(method="temperature").fit(P_cal, y_cal)
    temperature = fit_temperature(P_cal, y_cal)
    assert temperature == pytest.approx(production.temperature_, rel=1e-4)
    np.testing.assert_allclose(
        apply_temperature(P_eval, temperature), production.predict_proba(P_eval), atol=1e-5
    )


@pytest.mark.parametrize("method", ["lac", "aps"])
@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.2])
def test_scratch_conformal_sets_match_production(digits_logreg, method, alpha):
    P_cal, y_cal, P_test, _ = digits_logreg
    production = ConformalClassifier(method=method, alpha=alpha).fit(P_cal, y_cal)
    scores = [label_score(p, int(label), method) for p, label in zip(P_cal, y_cal, strict=True)]
    assert conformal_quantile(scores, alpha) == pytest.approx(production.quantile_, abs=1e-12)
    np.testing.assert_array_equal(
        prediction_sets(P_cal, y_cal, P_test, alpha, method), production.predict_set(P_test)
    )


@pytest.mark.parametrize("method", ["lac", "aps"])
def test_scratch_label_scores_match_production(digits_nb, method):
    P = digits_nb[0][:50]
    expected = label_scores(P / P.sum(axis=1, keepdims=True), method)
    scratch = [[label_score(p, j, method) for j in range(P.shape[1])] for p in P]
    np.testing.assert_allclose(scratch, expected, atol=1e-9)
