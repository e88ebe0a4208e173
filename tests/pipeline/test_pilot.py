"""The pilot fit that projects a family's CPU time: robust to a pause in one of its timings,
and a baseline projected past its share trains on fewer rows."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier

from prudent.data import ColumnSpec, Role, Schema, make_splits
from prudent.models import BuildContext, CandidateSpec
from prudent.pipeline._budget import Budget
from prudent.pipeline._pilot import (
    MIN_BASELINE_ROWS,
    SCOUT_MIN_ROWS,
    bounded_baseline,
    pilot,
    pilot_seconds,
)


def _busy(seconds: float) -> None:
    """Spend ``seconds`` of this process's CPU time (the budget's clock)."""
    started = time.process_time()
    while time.process_time() - started < seconds:
        pass


class PausingClassifier(DummyClassifier):  # type: ignore[misc]
    """A classifier that fits in microseconds, except the fits listed in ``pause_at`` (counted
    across instances), which first spend 0.1 s of CPU: a garbage collection, say."""

    calls: ClassVar[int] = 0
    pause_at: ClassVar[set[int]] = set()

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> PausingClassifier:
        PausingClassifier.calls += 1
        if PausingClassifier.calls in PausingClassifier.pause_at:
            _busy(0.1)
        return super().fit(X, y, sample_weight)


def _one_column_table(n: int) -> tuple[Any, ...]:
    """``n`` rows of one normal column and a coin-flip label, their folds and context."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=n)})
    y = rng.integers(0, 2, n)
    splits = make_splits(y, n_folds=5, seed=0)
    schema = Schema((ColumnSpec("x", Role.numeric, "float64"),), target="y")
    ctx = BuildContext(schema, n_rows=len(splits.train), n_classes=2, balanced=False)
    return X, y, splits, ctx


def _projection(pause_at: set[int]) -> float:
    X, y, splits, ctx = _one_column_table(20_000)
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


class RowTimedClassifier(DummyClassifier):  # type: ignore[misc]
    """A classifier whose fit takes 0.2 ms of CPU per training row (a slow baseline, in small)."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> RowTimedClassifier:
        _busy(2e-4 * len(X))
        return super().fit(X, y, sample_weight)


def _slow_baseline() -> tuple[Any, ...]:
    X, y, splits, ctx = _one_column_table(2500)
    spec = CandidateSpec("slow", "test", lambda ctx: RowTimedClassifier(), baseline=True)
    train = splits.train
    return spec, ctx, X.iloc[train].reset_index(drop=True), y[train], splits


def test_a_baseline_projected_past_its_share_of_the_time_left_trains_on_a_sub_sample() -> None:
    """A baseline must run, so instead of being skipped it is bounded: with ~1 s left and a
    projection of ~2 s, it keeps the fewest rows allowed; with time to spare, all of them."""
    spec, ctx, X, y, splits = _slow_baseline()
    tight = bounded_baseline(spec, ctx, X, y, splits, Budget(4.0, cpu_clock=lambda: 0.0))
    assert tight.max_rows == MIN_BASELINE_ROWS
    roomy = bounded_baseline(spec, ctx, X, y, splits, Budget(1000.0))
    assert roomy is spec


class LeafCappedClassifier(DummyClassifier):  # type: ignore[misc]
    """A fit whose CPU grows 0.4 ms a row up to 300 rows, then stays at 0.12 s: boosted
    trees whose leaves reach their cap, in small."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LeafCappedClassifier:
        _busy(4e-4 * min(len(X), 300))
        return super().fit(X, y, sample_weight)


def test_a_family_whose_cost_flattens_is_timed_again_before_it_is_skipped() -> None:
    """Two pilots on 1/20 and 1/10 of a fold's rows (160 and 320) draw a line that puts a
    fold of 3,200 rows at about 1.2 s a fit, ten times its cost: the family was skipped. Timed
    again on 4 times the larger sample while the projection says it does not fit, its cost
    flattens, and the projection comes within what it really costs."""
    from prudent.pipeline._pilot import pilot, refine

    X, y, splits, ctx = _one_column_table(5000)
    spec = CandidateSpec("capped", "test", lambda ctx: LeafCappedClassifier())
    train = splits.train
    Xt, yt = X.iloc[train].reset_index(drop=True), y[train]
    first = pilot(spec, ctx, Xt, yt, splits)
    real = 0.12 * first.fits * first.PAD + first.predict * first.PAD  # every fit at the cap
    assert first.seconds() > 5 * real
    allowed = first.seconds() / 1.5  # the line says it does not fit
    refined = refine(first, spec, ctx, Xt, yt, allowed)
    assert refined.sample[0] > first.sample[0]
    assert refined.seconds() <= allowed and refined.seconds() < 1.5 * real
    assert refine(first, spec, ctx, Xt, yt, 2 * first.seconds()) == first  # fits: no more fits
    tight = refine(first, spec, ctx, Xt, yt, 0.5)  # no larger pilot within 10% of 0.5 s
    assert tight == first


class SerialRunner:
    """Runs the tasks one after the other in this process: the protocol a Dask cluster's
    runner follows (``prudent.scale.DaskRunner``), without the cluster."""

    workers = 1

    def map(self, fn: Any, tasks: Any, shared: Any, advance: Any) -> list[Any]:
        done = []
        for task in tasks:
            done.append(fn(*shared, *task))
            advance(1)
        return done


def test_a_runner_s_pilots_time_a_flattening_family_again_as_a_local_fit_does() -> None:
    """The pilots of a fit on a cluster admitted on the first two samples' line: the family
    whose cost flattens was skipped there and run locally. They are timed again as well."""
    from prudent.pipeline._parallel import cross_validate_all
    from prudent.pipeline._pilot import pilot

    X, y, splits, ctx = _one_column_table(5000)
    spec = CandidateSpec("capped", "test", lambda ctx: LeafCappedClassifier())
    Xt, yt = X.iloc[splits.train].reset_index(drop=True), y[splits.train]
    first = pilot(spec, ctx, Xt, yt, splits)
    still = {"clock": lambda: 0.0, "cpu_clock": lambda: 0.0, "reserve_share": 0.0}
    still |= {"finish_share": 0.0, "finish_cpu": 0.0}  # what is left: the limit less a constant
    kept = 100.0 - Budget(100.0, **still).for_candidates()
    allowed = first.seconds() / 1.5  # the first line says it does not fit
    budget = Budget(allowed + kept, **still)
    assert abs(budget.for_candidates() - allowed) < 0.01 * allowed
    runs, skipped = cross_validate_all(
        [spec], ctx, Xt, yt, splits, budget, SerialRunner(), lambda n: None
    )
    assert not skipped and set(runs) == {"capped"}
    assert runs["capped"].projected_seconds is not None
    assert runs["capped"].projected_seconds <= allowed < first.seconds()


class CostlyClassifier(DummyClassifier):  # type: ignore[misc]
    """A classifier whose fit spends 0.5 ms of CPU per training row; the rows of each fit
    are listed in ``fitted``."""

    fitted: ClassVar[list[int]] = []

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> CostlyClassifier:
        CostlyClassifier.fitted.append(len(X))
        _busy(0.0005 * len(X))
        return super().fit(X, y, sample_weight)


def test_a_family_whose_small_fits_already_overrun_is_stopped_by_a_scouting_fit() -> None:
    """The pilot's own samples are never fitted when fits timed like a smaller sample's
    would already take more than the time allowed: on 100 classes and 300 columns the
    pilot's first sample alone had taken more than the time left."""
    X, y, splits, ctx = _one_column_table(20_000)
    spec = CandidateSpec("costly", "test", lambda ctx: CostlyClassifier())
    CostlyClassifier.fitted = []
    train = splits.train
    projection = pilot(spec, ctx, X.iloc[train], y[train], splits, allowed=0.3)
    first_sample = max(100, len(splits.folds[0][0]) // 20)
    assert CostlyClassifier.fitted[0] == SCOUT_MIN_ROWS
    assert len(CostlyClassifier.fitted) == 2 and CostlyClassifier.fitted[1] < first_sample
    assert projection.sample[0] == CostlyClassifier.fitted[1]
    assert projection.seconds() > 0.3  # the family is projected past the time allowed
    CostlyClassifier.fitted = []
    pilot(spec, ctx, X.iloc[train], y[train], splits, allowed=60.0)  # affordable: as before
    assert {first_sample, 2 * first_sample} <= set(CostlyClassifier.fitted)


def test_a_class_of_three_rows_in_three_thousand_fits_end_to_end() -> None:
    """3,000 rows of one class and 3 of another (the fewest a fit takes): the pilot's
    stratified sample of 120 rows held none of the small class, and the logistic baseline's
    solver ended the fit ('needs samples of at least 2 classes': an internal error). Every
    sample now keeps a row of each class, and the small class is still learned."""
    from prudent.pipeline import FitSpec, QuietReporter, fit_table

    rng = np.random.default_rng(0)
    y = np.array(["common"] * 3000 + ["rare"] * 3)
    rng.shuffle(y)
    frame = pd.DataFrame({"x": rng.normal(size=y.size) + 6.0 * (y == "rare"), "label": y})
    spec = FitSpec(target="label", candidates=("lightgbm",), time_limit=60.0)
    result = fit_table(frame, spec, reporter=QuietReporter())
    from prudent.bundle import Bundle

    far = pd.DataFrame({"x": [8.0, 0.0]})
    assert Bundle.from_fit(result).predict(far)["prediction"].tolist() == ["rare", "common"]
