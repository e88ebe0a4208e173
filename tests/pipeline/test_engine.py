"""Cross-validating one family: what a fitted family commits the trust stage to is charged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prudent.data import ColumnSpec, Role, Schema, make_splits


def _charged(family: str) -> tuple[float, float, int, int]:
    """What fitting ``family`` on a 3,000-row table takes from the candidates' time, its
    measured prediction cost per 1,000 rows, and the training and locked test rows."""
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
    specs = [s for s in candidate_specs(schema) if s.name == family]
    budget = Budget(1000.0, clock=lambda: 0.0, cpu_clock=lambda: 0.0)
    before, runs = budget.for_candidates(), {}
    _Run(FitSpec(target="y"), budget, QuietReporter()).families(specs, rows, splits, runs)
    per_1k = runs[family].predict_seconds_per_1k
    return before - budget.for_candidates(), per_1k, len(splits.train), len(splits.test)


def test_a_fitted_family_is_charged_its_predictions_of_the_locked_test_rows() -> None:
    """The trust stage predicts the locked test rows with every member of the primary (the
    guarded model's scores, the best single model's metrics): a family's measured cost per
    row is taken from the candidates' time as soon as it is fitted."""
    charged, per_1k, _, n_test = _charged("knn")
    assert charged > 0
    assert charged == pytest.approx(2 * per_1k * n_test / 1000)


def test_the_backup_is_charged_the_rows_the_ood_feature_map_transforms_too() -> None:
    """The OOD feature map clones the backup's preprocessing and transforms, whatever model
    is chosen, the threshold rows (half the training rows) and the locked test rows: on long
    texts most of the trust stage (4.3 s for 8,000 and 4,000 texts of 400 words), charged
    at the backup's cost per row as soon as it is fitted."""
    charged, per_1k, n_train, n_test = _charged("logistic")
    ood_rows = (n_train + 1) // 2 + n_test
    assert charged == pytest.approx(per_1k * (2 * n_test + ood_rows) / 1000)


def test_a_family_too_slow_for_every_row_is_trained_on_the_rows_that_fit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a large table a family whose pilot projects more than the budget leaves is trained
    on the most rows that fit in half of it (here with the floor lowered from 50,000 rows to
    500, so that a small table shows it), and says so; below the floor it is skipped. The
    family costs CPU in proportion to its rows (0.2 ms a row), so timing it again on larger
    samples (``refine``) confirms the projection instead of lowering it, as it does for
    LightGBM, whose cost flattens."""
    from prudent.models import CandidateSpec
    from prudent.pipeline import _engine as engine
    from prudent.pipeline._budget import Budget
    from prudent.pipeline._pilot import pilot
    from tests.pipeline.test_pilot import RowTimedClassifier

    rng = np.random.default_rng(0)
    n = 6_000
    X = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(6)})
    y = (X["x0"] - X["x1"] + rng.logistic(size=n) > 0).to_numpy().astype(np.int64)
    schema = Schema(tuple(ColumnSpec(c, Role.numeric, "float64") for c in X.columns), "y")
    splits = make_splits(y, n_folds=5, seed=0)
    train, y_train = X.iloc[splits.train].reset_index(drop=True), y[splits.train]
    from prudent.pipeline._pipeline import _candidate_ctx

    ctx = _candidate_ctx(schema, y_train, 2, 0)
    spec = CandidateSpec("rows", "test", lambda ctx: RowTimedClassifier())
    full = pilot(spec, ctx, train, y_train, splits)
    # a limit of L leaves the candidates .65 L - 4 s (the reserves): half of the full
    # projection, of which the family may take half
    limit = max((0.5 * full.seconds() + 4) / 0.65, 10.0)
    budget = Budget(limit, clock=lambda: 0.0, cpu_clock=lambda: 0.0)
    assert budget.for_candidates() < full.seconds()
    monkeypatch.setattr(engine, "MIN_SHRUNK_ROWS", 500)
    run = engine.cross_validate_candidate(spec, ctx, train, y_train, splits, budget)
    assert isinstance(run, engine.CandidateRun), run
    rows = run.spec.max_rows
    assert rows is not None and 500 <= rows < 0.5 * full.rows
    assert any(f"sub-sample of {rows} of" in note for note in run.notes)
    assert run.oof_proba.shape == (len(y_train), 2)
    monkeypatch.setattr(engine, "MIN_SHRUNK_ROWS", 50_000)
    skipped = engine.cross_validate_candidate(spec, ctx, train, y_train, splits, budget)
    assert isinstance(skipped, engine.SkippedCandidate)


def test_a_fit_left_with_only_its_baselines_says_a_longer_limit_gives_the_families_a_chance() -> (
    None
):
    """Every candidate family skipped for lack of time: one notice says a baseline ships and
    that a longer limit would let them run, with the first one's projected seconds; a fit
    in which a family ran says nothing of the sort."""
    from prudent.models import candidate_specs
    from prudent.pipeline import FitSpec, QuietReporter
    from prudent.pipeline._budget import Budget
    from prudent.pipeline._pipeline import _candidate_ctx, _Rows, _Run

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000)})
    y = (X["a"] * X["b"] > 0).to_numpy().astype(np.int64)  # an interaction: no linear answer
    schema = Schema(
        (ColumnSpec("a", Role.numeric, "float64"), ColumnSpec("b", Role.numeric, "float64")),
        target="y",
    )
    splits = make_splits(y, n_folds=5, seed=0)
    rows = _Rows(
        X.iloc[splits.train].reset_index(drop=True),
        y[splits.train],
        _candidate_ctx(schema, y[splits.train], 2, 0),
    )
    specs = candidate_specs(schema)

    def notices(left: float) -> list[str]:
        budget = Budget(1000.0, clock=lambda: 0.0, cpu_clock=lambda: 0.0)
        reporter, runs = QuietReporter(), {}
        run = _Run(FitSpec(target="y"), budget, reporter)
        run.families([s for s in specs if s.baseline], rows, splits, runs)
        budget.charge(budget.for_candidates() - left)
        run.families(specs, rows, splits, runs)
        return reporter.notices

    starved = notices(left=0.001)
    assert sum(n.startswith("Skipped ") for n in starved) == sum(not s.baseline for s in specs)
    hint = [n for n in starved if n.startswith("No candidate family fitted")]
    assert len(hint) == 1, starved
    first = next(n for n in starved if n.startswith("Skipped "))[len("Skipped ") :]
    assert f"chance: {first.split(':')[0]} alone projects about" in hint[0]
    assert "--time-limit (time_limit in Python)" in hint[0]
    assert not any(n.startswith("No candidate family") for n in notices(left=900.0))
