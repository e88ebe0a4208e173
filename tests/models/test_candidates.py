"""The candidate portfolio: which families are tried, in what order, and why each is there."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from prudent.data import infer_schema, validate_frame
from prudent.models._candidates import BuildContext, candidate_specs


def _noisy_table(seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """600 rows, 8 informative of 20 columns, 25% of labels flipped at random: a small, noisy
    table where a flexible booster learns the noise."""
    X, y = make_classification(
        n_samples=600, n_features=20, n_informative=8, flip_y=0.25, random_state=seed
    )
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])]).assign(y=y)
    return frame, y


def test_the_extra_boosting_settings_come_after_every_other_family() -> None:
    """They use the budget the other families leave: fitted last, skipped first."""
    frame, _ = _noisy_table(0)
    names = [s.name for s in candidate_specs(infer_schema(frame, "y"))]
    assert names[-2:] == ["lightgbm_shallow", "lightgbm_random"]
    assert names.index("lightgbm") < names.index("mlp") < names.index("lightgbm_shallow")


def test_shallow_boosting_overfits_less_than_the_default_on_small_noisy_tables() -> None:
    """Why ``lightgbm_shallow`` is in the portfolio: on small tables with label noise the
    default setting (31 leaves, 300 rounds) fits the noise, and its out-of-fold log loss is
    worse than the regularised setting's, on every seed."""
    for seed in range(3):
        frame, y = _noisy_table(seed)
        schema = infer_schema(frame, "y")
        X = validate_frame(frame.drop(columns="y"), schema)[0]
        specs = {s.name: s for s in candidate_specs(schema)}
        ctx = BuildContext(schema, n_rows=len(y), n_classes=2, balanced=False, seed=seed)
        folds = StratifiedKFold(5, shuffle=True, random_state=seed)
        loss = {
            name: log_loss(
                y, cross_val_predict(specs[name].build(ctx), X, y, cv=folds, method="predict_proba")
            )
            for name in ("lightgbm", "lightgbm_shallow")
        }
        assert loss["lightgbm_shallow"] < loss["lightgbm"] - 0.02, (seed, loss)
