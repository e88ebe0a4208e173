"""The neural network candidate learns an imbalanced table instead of keeping its first epoch,
and trains no longer than scikit-learn's own."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import log_loss
from sklearn.neural_network import MLPClassifier

from prudent.models._mlp import LogLossMLPClassifier


def _imbalanced(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A logistic truth on 2 of 10 columns, about 9% positive (hmda_mortgage's share)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 10))
    z = -2.7 + 0.9 * X[:, 0] + 0.6 * X[:, 1]
    return X, (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_early_stopping_keeps_an_epoch_better_than_the_prior(seed: int) -> None:
    # scikit-learn's own early stopping (validation accuracy) keeps the first epoch on these
    # tables, every seed: log loss .38-.52 on fresh rows, worse than predicting the prior (.31)
    X, y = _imbalanced(seed, 1600)
    X_new, y_new = _imbalanced(100 + seed, 20_000)
    net = LogLossMLPClassifier(
        hidden_layer_sizes=(128, 64), alpha=1e-3, max_iter=300, early_stopping=True,
        random_state=seed,
    ).fit(X, y)  # fmt: skip
    prior = log_loss(y_new, np.full(len(y_new), y.mean()))
    assert log_loss(y_new, net.predict_proba(X_new)) < prior - 0.015
    plain = MLPClassifier(
        hidden_layer_sizes=(128, 64), alpha=1e-3, max_iter=300, early_stopping=True,
        random_state=seed,
    ).fit(X, y)  # fmt: skip
    assert net.n_iter_ == plain.n_iter_  # the same epochs: no more of the fit's budget
    assert np.isfinite(net.best_validation_loss_)
