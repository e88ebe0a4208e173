"""The pilot fit: project what cross-validating a family will cost before running it.

Timings are CPU seconds (:func:`cpu_seconds`), as the :class:`~prudent.pipeline.Budget`
counts them: another process's turn does not make a family look slower.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from prudent._typing import EncodedLabels, IntArray
from prudent.data import Splits
from prudent.models import BuildContext, CandidateSpec

__all__ = [
    "PROBE_ROWS",
    "PilotCost",
    "cpu_seconds",
    "fit_quietly",
    "pilot_cost",
    "pilot_seconds",
    "subsample",
]


def subsample(rows: IntArray, y: EncodedLabels, max_rows: int | None, seed: int) -> IntArray:
    """Up to ``max_rows`` of ``rows``, stratified by ``y`` when every class can be kept."""
    if max_rows is None or len(rows) <= max_rows:
        return rows
    n_classes = len(np.unique(y[rows]))
    if min(max_rows, len(rows) - max_rows) < n_classes:  # too few rows to hold every class
        return np.sort(np.random.default_rng(seed).choice(rows, max_rows, replace=False))
    kept, _ = train_test_split(rows, train_size=max_rows, stratify=y[rows], random_state=seed)
    return np.sort(kept)


def fit_quietly(model: Any, X: pd.DataFrame, y: EncodedLabels) -> Any:
    """``model.fit(X, y)`` without convergence and feature-name warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*does not have valid feature names.*")
        return model.fit(X, y)


QUICK_PILOT = 0.25
"""A pilot fit shorter than this is timed again (up to 3 times in all) and its fastest time
kept: the projection multiplies the difference of two such timings by a fold's rows, so a
pause of a few milliseconds (a garbage collection, another process's turn) once made a
k-NN that fits in 0.1 s project 95 s and be skipped."""

PILOT_PAD = 1.25
"""The pilot's projection is padded by this factor (each fold is checked again as it ends)."""

PROBE_ROWS = 2000
"""Rows a fitted family predicts to measure its prediction time (:func:`finish_run`)."""


def cpu_seconds(work: Callable[[], Any]) -> tuple[Any, float]:
    """``work()`` and the CPU seconds it took (other processes' turns do not count).

    Examples
    --------
    >>> out, seconds = cpu_seconds(lambda: sum(range(1000)))
    >>> out, seconds >= 0
    (499500, True)
    """
    t0 = time.process_time()
    out = work()
    return out, time.process_time() - t0


CALL_ROWS = 10
"""Rows of the small prediction that measures a call's own cost (validation, transforms)."""
PILOT_PREDICT = 200
"""Rows the pilot predicts at least, so that the cost per predicted row is not a call's."""


def _timed_fit(
    spec: CandidateSpec,
    ctx: BuildContext,
    X: pd.DataFrame,
    y: EncodedLabels,
    rows: IntArray,
    n_predict: int,
) -> tuple[float, float, float]:
    """CPU seconds to fit on ``rows``, of a prediction call, and per predicted row (from
    ``n_predict`` rows), each the fastest of up to 3 timings when the pilot is quick."""

    def once() -> tuple[float, float, float]:
        model, fit = cpu_seconds(lambda: fit_quietly(spec.build(ctx), X.iloc[rows], y[rows]))
        _, call = cpu_seconds(lambda: model.predict_proba(X.iloc[rows[:CALL_ROWS]]))
        batch = X.iloc[np.resize(rows, n_predict)]  # the sample's rows, repeated as needed
        _, predict = cpu_seconds(lambda: model.predict_proba(batch))
        return fit, call, max(predict - call, 0.0) / (n_predict - CALL_ROWS)

    times = [once()]
    while len(times) < 3 and sum(sum(t[:2]) for t in times) < 2 * QUICK_PILOT:
        times.append(once())
    fit, call, per_row = (min(t[i] for t in times) for i in range(3))
    return fit, call, per_row


@dataclass(frozen=True)
class _Line:
    """A cost as a line in the training rows, through two timed points (never negative)."""

    fixed: float
    per_row: float

    @classmethod
    def through(cls, n1: int, t1: float, n2: int, t2: float) -> _Line:
        per_row = max(t2 - t1, 0.0) / max(n2 - n1, 1)
        return cls(max(t1 - per_row * n1, 0.0), per_row)

    def at(self, rows: int) -> float:
        return self.fixed + self.per_row * rows


@dataclass(frozen=True)
class PilotCost:
    """A family's CPU cost: its fit and its cost per predicted row as lines in the training
    rows (a k-NN's prediction grows with the rows it searches), and a prediction call's."""

    fit: _Line
    call: float
    predict: _Line

    def seconds(self, fit_rows: int, predicted: int) -> float:
        """Fit on ``fit_rows`` rows, then predict ``predicted`` rows in one call."""
        return self.fit.at(fit_rows) + self.call + self.predict.at(fit_rows) * predicted


def pilot_cost(
    spec: CandidateSpec,
    ctx: BuildContext,
    X: pd.DataFrame,
    y: EncodedLabels,
    splits: Splits,
) -> PilotCost:
    """Time ``spec`` on two stratified samples (about 1/10 and 1/5 of a fold's rows): each
    is fitted, then predicted as a fold's held-out rows are (at least
    :data:`PILOT_PREDICT` rows)."""
    fit_rows, val_rows = (len(r) for r in splits.folds[0])
    limit = spec.row_limit(ctx)
    fit_rows = fit_rows if limit is None else min(fit_rows, limit)
    m = min(fit_rows // 2, max(100, fit_rows // 10))
    small = subsample(np.arange(len(y)), y, m, ctx.seed)
    large = subsample(np.arange(len(y)), y, 2 * m, ctx.seed + 1)
    if spec.cached_features:  # load the embedding model before timing: it happens once
        warm = subsample(small, y, max(20, 2 * int(y.max()) + 2), ctx.seed)
        fit_quietly(spec.build(ctx), X.iloc[warm], y[warm])
    share = val_rows / max(fit_rows, 1)
    points = []
    for rows in (small, large):
        n_predict = max(PILOT_PREDICT, round(len(rows) * share))
        fit, call, per_row = _timed_fit(spec, ctx, X, y, rows, n_predict)
        points.append((len(rows), fit, call, per_row))
        if spec.cached_features:  # embedding dominates, once per row: the small sample tells
            return PilotCost(_Line(0.0, fit / len(rows)), call, _Line(per_row, 0.0))
    (n1, f1, c1, p1), (n2, f2, c2, p2) = points
    return PilotCost(_Line.through(n1, f1, n2, f2), min(c1, c2), _Line.through(n1, p1, n2, p2))


def pilot_seconds(
    spec: CandidateSpec, ctx: BuildContext, X: pd.DataFrame, y: EncodedLabels, splits: Splits
) -> float:
    """Project the CPU seconds of every fold, the refit and its prediction probe.

    From :func:`pilot_cost`: two timings give a fixed cost and a cost per row of the fit
    and of each predicted row (so a family's start-up is not multiplied by the rows, and a
    k-NN, whose fit is nearly free, is judged by its predictions); the projection is what
    cross-validation runs, padded by :data:`PILOT_PAD`. Each fold is checked against the
    budget again as it ends.
    """
    cost = pilot_cost(spec, ctx, X, y, splits)
    if spec.cached_features:  # every row embedded once, then cached: the folds add little
        return PILOT_PAD * cost.fit.at(len(y))
    limit = spec.row_limit(ctx)
    folds = sum(
        cost.seconds(len(fit) if limit is None else min(len(fit), limit), len(val))
        for fit, val in splits.folds
    )
    n = len(y) if limit is None else min(len(y), limit)
    return PILOT_PAD * (folds + cost.seconds(n, min(len(y), PROBE_ROWS)))
