"""Cross-validating one family: what a fitted family commits the trust stage to is charged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prudent.data import ColumnSpec, Role, Schema, make_splits


def test_a_fitted_family_is_charged_its_predictions_of_the_locked_test_rows() -> None:
    """The trust stage predicts the locked test rows with every member of the primary (the
    guarded model's scores, the best single model's metrics): a family's measured cost per
    row is taken from the candidates' time as soon as it is fitted."""
    from prudent.models import candidate_specs
    from prudent.pipeline import FitSpec, QuietReporter
    from prudent.pipeline._budget import Budget
    from prudent.pipeline._pipeline import _candidate_ctx, _Rows, _Run

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000)})
    y = (X["a"] + X["b"] > 0).to_numpy().astype(np.int64)
    schema = Schema(
        (ColumnSpec("a", Role.numeric, "float64"), ColumnSpec("b", Role.numeric, "float64")),
        target="y",
    )
    splits = make_splits(y, n_folds=5, seed=0)
    train = X.iloc[splits.train].reset_index(drop=True)
    rows = _Rows(train, y[splits.train], _candidate_ctx(schema, y[splits.train], 2, 0))
    knn = [s for s in candidate_specs(schema) if s.name == "knn"]
    budget = Budget(1000.0, clock=lambda: 0.0, cpu_clock=lambda: 0.0)
    before, runs = budget.for_candidates(), {}
    _Run(FitSpec(target="y"), budget, QuietReporter()).families(knn, rows, splits, runs)
    charged = before - budget.for_candidates()
    per_1k = runs["knn"].predict_seconds_per_1k
    assert charged > 0
    assert charged == pytest.approx(2 * per_1k * len(splits.test) / 1000)
