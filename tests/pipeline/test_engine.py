"""The pilot fit that projects a family's time: robust to a pause in one of its timings."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier

from prudent.data import ColumnSpec, Role, Schema, make_splits
from prudent.models import BuildContext, CandidateSpec
from prudent.pipeline._engine import pilot_seconds


class PausingClassifier(DummyClassifier):  # type: ignore[misc]
    """A classifier that fits in microseconds, except the fits listed in ``pause_at`` (counted
    across instances), which first sleep 0.1 s: another process taking its turn."""

    calls: ClassVar[int] = 0
    pause_at: ClassVar[set[int]] = set()

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> PausingClassifier:
        PausingClassifier.calls += 1
        if PausingClassifier.calls in PausingClassifier.pause_at:
            time.sleep(0.1)
        return super().fit(X, y, sample_weight)


def _projection(pause_at: set[int]) -> float:
    rng = np.random.default_rng(0)
    n = 20_000
    X = pd.DataFrame({"x": rng.normal(size=n)})
    y = rng.integers(0, 2, n)
    splits = make_splits(y, n_folds=5, seed=0)
    schema = Schema((ColumnSpec("x", Role.numeric, "float64"),), target="y")
    ctx = BuildContext(schema, n_rows=len(splits.train), n_classes=2, balanced=False)
    spec = CandidateSpec("pausing", "test", lambda ctx: PausingClassifier())
    PausingClassifier.calls, PausingClassifier.pause_at = 0, pause_at
    train = splits.train
    return pilot_seconds(spec, ctx, X.iloc[train], y[train], splits)


def test_a_pause_in_the_larger_pilot_timing_does_not_inflate_the_projection() -> None:
    # the first fit of the larger sample is the first call after the small sample's
    # timings: whichever it is, a 0.1 s pause once projected ~0.1 s per 1/20 of a fold's
    # rows, times 20, times 6.3 fits: about 15 s for a family that fits in microseconds
    quiet = _projection(set())
    for first_large in (2, 3, 4):
        assert _projection({first_large}) < max(10 * quiet, 1.0)
    assert _projection({1}) < max(10 * quiet, 1.0)  # a pause in the small sample's timing


def test_a_fitted_family_is_charged_its_predictions_of_the_locked_test_rows() -> None:
    """The trust stage predicts the locked test rows with every member of the primary (the
    guarded model's scores, the best single model's metrics): a family's measured cost per
    row is taken from the candidates' time as soon as it is fitted."""
    from prudent.models import candidate_specs
    from prudent.pipeline import FitSpec, QuietReporter
    from prudent.pipeline._engine import Budget
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
    budget = Budget(1000.0, clock=lambda: 0.0)
    before, runs = budget.for_candidates(), {}
    _Run(FitSpec(target="y"), budget, QuietReporter()).families(knn, rows, splits, runs)
    charged = before - budget.for_candidates()
    per_1k = runs["knn"].predict_seconds_per_1k
    assert charged > 0
    assert charged == pytest.approx(2 * per_1k * len(splits.test) / 1000)


class RowTimedClassifier(DummyClassifier):  # type: ignore[misc]
    """A classifier whose fit takes 0.2 ms per training row (a slow baseline, in small)."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> RowTimedClassifier:
        time.sleep(2e-4 * len(X))
        return super().fit(X, y, sample_weight)


def _slow_baseline() -> tuple[Any, ...]:
    rng = np.random.default_rng(0)
    n = 2500
    X = pd.DataFrame({"x": rng.normal(size=n)})
    y = rng.integers(0, 2, n)
    splits = make_splits(y, n_folds=5, seed=0)
    schema = Schema((ColumnSpec("x", Role.numeric, "float64"),), target="y")
    ctx = BuildContext(schema, n_rows=len(splits.train), n_classes=2, balanced=False)
    spec = CandidateSpec("slow", "test", lambda ctx: RowTimedClassifier(), baseline=True)
    train = splits.train
    return spec, ctx, X.iloc[train].reset_index(drop=True), y[train], splits


def test_a_baseline_projected_past_its_share_of_the_time_left_trains_on_a_sub_sample() -> None:
    """A baseline must run, so instead of being skipped it is bounded: with ~1 s left and a
    projection of ~2 s, it keeps the fewest rows allowed; with time to spare, all of them."""
    from prudent.pipeline._engine import MIN_BASELINE_ROWS, Budget, bounded_baseline

    spec, ctx, X, y, splits = _slow_baseline()
    tight = bounded_baseline(spec, ctx, X, y, splits, Budget(4.0))
    assert tight.max_rows == MIN_BASELINE_ROWS
    roomy = bounded_baseline(spec, ctx, X, y, splits, Budget(1000.0))
    assert roomy is spec


def test_the_save_reserve_is_measured_in_cpu_seconds_and_scaled_by_the_load() -> None:
    """``prudent fit`` measures the save in CPU seconds; the budget keeps it in wall seconds
    at the fit's own wall-to-CPU ratio, plus what each fitted family adds."""
    from prudent.pipeline._engine import Budget

    wall, cpu = [0.0], [0.0]
    budget = Budget(60.0, finish_cpu=5.0, clock=lambda: wall[0], cpu_clock=lambda: cpu[0])
    assert budget.finish == 5.0
    wall[0], cpu[0] = 10.0, 5.0  # two wall seconds per CPU second: a busy machine
    assert budget.finish == 10.0
    budget.charge_finish(1.0)
    assert budget.finish == 12.0
    assert budget.reserve == 2 * 12.0  # the trust stage's share (20%), at the same ratio
    assert budget.for_candidates() == pytest.approx(60.0 - 10.0 - 24.0 - 12.0)
    python = Budget(60.0, clock=lambda: 0.0)  # not saved within the limit: a share, as before
    python.charge_finish(1.0)
    assert python.finish == pytest.approx(9.0)
