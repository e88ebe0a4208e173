"""Fixtures for the metrics tests: out-of-fold probabilities on scikit-learn's bundled data."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

LOADERS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "breast_cancer": load_breast_cancer,
    "digits": load_digits,
    "wine": load_wine,
}


def oof_proba(x: np.ndarray, y: np.ndarray, c: float = 1.0) -> np.ndarray:
    """Return 5-fold out-of-fold probabilities of a scaled logistic regression."""
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000))
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    return cross_val_predict(model, x, y, cv=cv, method="predict_proba", n_jobs=1)


def flip_labels(y: np.ndarray, rate: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return labels with ``rate`` of them moved to another class at random, and the moved rows."""
    rng = np.random.default_rng(seed)
    k = int(y.max()) + 1
    rows = np.sort(rng.choice(y.shape[0], round(rate * y.shape[0]), replace=False))
    noisy = y.copy()
    noisy[rows] = (y[rows] + rng.integers(1, k, rows.shape[0])) % k
    return noisy, rows


@pytest.fixture(scope="session")
def real_oof() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Dataset name → (y, out-of-fold probabilities) for breast cancer, digits and wine."""
    out = {}
    for name, loader in LOADERS.items():
        x, y = loader(return_X_y=True)
        out[name] = (y.astype(np.int64), oof_proba(x, y))
    return out
