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


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_on_a_small_table_the_network_learns_before_it_stops(seed: int) -> None:
    """260 rows, 13% positive, a line separates the classes: stopping on the accuracy of a
    26-row split alone returns the untrained network (it predicts the majority class for
    nearly every row); counting a lower log loss as progress lets it learn the line."""
    from prudent.models._mlp import SmallTableMLPClassifier

    rng = np.random.default_rng(seed)
    X, X_new = rng.normal(size=(260, 6)), rng.normal(size=(5000, 6))
    y, y_new = ((Z[:, 0] + Z[:, 1] > 1.6).astype(int) for Z in (X, X_new))
    kw = dict(hidden_layer_sizes=(128, 64), alpha=1e-3, max_iter=300, early_stopping=True)
    plain = LogLossMLPClassifier(**kw, random_state=seed).fit(X, y)
    small = SmallTableMLPClassifier(**kw, random_state=seed).fit(X, y)
    assert plain.predict(X_new).mean() < 0.01  # the majority class for (nearly) every row
    assert small.score(X_new, y_new) > 0.93  # the majority's share: 0.87
    assert log_loss(y_new, small.predict_proba(X_new)) < 0.5 * log_loss(
        y_new, plain.predict_proba(X_new)
    )


@pytest.mark.parametrize(("rows", "network"), [(400, "SmallTable"), (5000, "LogLoss")])
def test_the_candidate_is_the_small_table_network_below_a_thousand_rows(
    rows: int, network: str
) -> None:
    from prudent.data import ColumnSpec, Role, Schema
    from prudent.models import candidate_specs
    from prudent.models._candidates import BuildContext

    schema = Schema((ColumnSpec("x", Role.numeric, "float64"),), target="y")
    spec = next(s for s in candidate_specs(schema) if s.name == "mlp")
    ctx = BuildContext(schema, n_rows=rows, n_classes=2, balanced=False)
    assert type(spec.build(ctx)[-1]).__name__ == f"{network}MLPClassifier"
