"""The pilot fit: project, in CPU seconds, what cross-validating a family will cost.

A family is fitted on two small stratified samples, and each fitted model predicts a batch
as a fold's held-out rows are predicted; the timings give lines in the training rows for the
fit and for each predicted row (a k-NN's fit is nearly free, its predictions are not). The
projection is what cross-validation runs: every fold's fit and predictions, the refit, and
the refit's prediction probe. Timings are CPU seconds (:func:`cpu_seconds`), as the
:class:`~prudent.pipeline._budget.Budget` plans: another process's turn does not make a
family look slower.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from prudent._costs import recorded_cost
from prudent._typing import EncodedLabels, IntArray
from prudent.data import Splits
from prudent.models import BuildContext, CandidateSpec
from prudent.pipeline._budget import Budget

__all__ = [
    "PROBE_ROWS",
    "Projection",
    "bounded_baseline",
    "cpu_seconds",
    "fit_quietly",
    "pilot",
    "pilot_seconds",
    "refine",
    "subsample",
]

PROBE_ROWS = 2000
"""Rows a fitted family predicts to measure its prediction time (``finish_run``)."""


def subsample(rows: IntArray, y: EncodedLabels, max_rows: int | None, seed: int) -> IntArray:
    """Up to ``max_rows`` of ``rows``, stratified by ``y`` when every class can be kept, and
    one row more of each class the draw left out (a model fitted on it must see every class).

    Examples
    --------
    >>> y = np.r_[np.zeros(3000, dtype=np.int64), np.ones(2, dtype=np.int64)]
    >>> kept = subsample(np.arange(3002), y, 120, 0)
    >>> len(kept), int(y[kept].sum())  # 2 in 3,002 rows: stratified, none of 120 would be
    (121, 1)
    """
    if max_rows is None or len(rows) <= max_rows:
        return rows
    classes = np.unique(y[rows])
    rng = np.random.default_rng(seed)
    if min(max_rows, len(rows) - max_rows) < len(classes):  # too few rows to hold every class
        kept = rng.choice(rows, max_rows, replace=False)
    else:
        kept, _ = train_test_split(rows, train_size=max_rows, stratify=y[rows], random_state=seed)
    left_out = np.setdiff1d(classes, y[kept])
    extra = [rng.choice(rows[y[rows] == c]) for c in left_out]
    return np.sort(np.concatenate([kept, np.asarray(extra, dtype=kept.dtype)]))


def fit_quietly(model: Any, X: pd.DataFrame, y: EncodedLabels) -> Any:
    """``model.fit(X, y)`` without convergence and feature-name warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*does not have valid feature names.*")
        # a pilot's sample of a many-class table: "more classes than half the rows"
        warnings.filterwarnings("ignore", message=".*number of unique classes is greater.*")
        return model.fit(X, y)


def cpu_seconds(work: Callable[[], Any]) -> tuple[Any, float]:
    """``work()`` and the CPU seconds this process spent on it (other processes' turns do
    not count; a family's own threads do).

    Examples
    --------
    >>> out, seconds = cpu_seconds(lambda: sum(range(1000)))
    >>> out, seconds >= 0
    (499500, True)
    """
    t0 = time.process_time()
    out = work()
    return out, time.process_time() - t0


QUICK_PILOT = 0.25
"""A pilot shorter than this is timed again (up to 3 times in all) and its fastest time
kept: the projection multiplies the difference of two such timings by a fold's rows, so a
pause of a few milliseconds (a garbage collection) once made a k-NN that fits in 0.1 s
project 95 s and be skipped."""
CALL_ROWS = 10
"""Rows of the small prediction that measures a call's own cost (validation, transforms)."""
PILOT_PREDICT = 200
"""Rows a pilot model predicts at least, so that the cost per row is not the call's."""


@dataclass(frozen=True)
class _Timing:
    """One pilot sample's CPU seconds: its fit, a prediction call, and per predicted row."""

    rows: int
    fit: float
    call: float
    per_row: float


def _timed(
    spec: CandidateSpec,
    ctx: BuildContext,
    X: pd.DataFrame,
    y: EncodedLabels,
    rows: IntArray,
    n_predict: int,
) -> _Timing:
    """Fit ``spec`` on ``rows`` and predict ``n_predict`` of them, each timing the fastest of
    up to 3 when the pilot is quick (or the figures a recorded fit measured,
    :func:`~prudent._costs.recorded_cost`)."""

    def once() -> tuple[float, float, float]:
        model, fit = cpu_seconds(lambda: fit_quietly(spec.build(ctx), X.iloc[rows], y[rows]))
        _, call = cpu_seconds(lambda: model.predict_proba(X.iloc[rows[:CALL_ROWS]]))
        batch = X.iloc[np.resize(rows, n_predict)]  # the sample's rows, repeated as needed
        _, predict = cpu_seconds(lambda: model.predict_proba(batch))
        return fit, call, max(predict - call, 0.0) / max(n_predict - CALL_ROWS, 1)

    times = [once()]
    while len(times) < 3 and sum(t[0] + t[1] for t in times) < 2 * QUICK_PILOT:
        times.append(once())
    key = f"pilot/{spec.name}/{len(rows)}"  # an earlier fit's figures, when recorded
    fit, call, per_row = (
        recorded_cost(f"{key}/{part}", min(t[i] for t in times))
        for i, part in enumerate(("fit", "call", "row"))
    )
    return _Timing(len(rows), fit, call, per_row)


def _line(a: tuple[int, float], b: tuple[int, float]) -> tuple[float, float]:
    """The line through two (rows, seconds) points: its fixed part and per row, never
    negative and never steeper than proportional to the larger point (a pause in the
    smaller timing would otherwise tilt it flat, one in the larger steep)."""
    (n1, t1), (n2, t2) = a, b
    per_row = min(max(t2 - t1, 0.0) / max(n2 - n1, 1), t2 / max(n2, 1))
    return max(t1 - per_row * n1, 0.0), per_row


@dataclass(frozen=True)
class Projection:
    """A family's CPU time on this data, from two pilots: its fits as a fixed cost plus a
    cost per training row, and its predictions.

    Examples
    --------
    >>> p = Projection(fixed=0.1, per_row=0.001, rows=1000, fits=6.3)
    >>> round(p.seconds(), 2)
    8.66
    >>> p.rows_within(p.seconds() / 2)  # half the time: the fixed cost stays
    450
    >>> q = Projection(fixed=0.0, per_row=0.001, rows=1000, fits=6.3, predict_per_row=0.001)
    >>> q.rows_within(q.seconds() / 2)  # the predictions shrink with the rows
    500
    """

    fixed: float
    """Seconds of one fit that do not grow with its rows."""
    per_row: float
    """Seconds of one fit per training row."""
    rows: int
    """Training rows of each fit (a fold's, within the family's row limit)."""
    fits: float
    """Fits projected: the folds and the refit (counted as 1.3 folds)."""
    predict: float = 0.0
    """Seconds of every prediction cross-validation makes (held-out rows, the probe), but
    the part that grows with the training rows (:attr:`predict_per_row`)."""
    sample: tuple[int, float] = (0, 0.0)
    """The larger pilot sample's rows and fit seconds."""
    predict_per_row: float = 0.0
    """Seconds those predictions add per training row of each fit (a model fitted on more
    rows is larger: more leaves, more neighbours to search). Projected apart, so that a
    family trained on a sample of the rows is projected to predict as a model of that
    sample does: on a 48k-row table with a 7,141-level column, LightGBM's predictions
    projected at every row (7.2 s) took more than the half of the 11 s left that a sample may
    use, so no sample was found to fit (projected apart: 2,920 rows fit)."""

    PAD: ClassVar[float] = 1.25
    """The projection is padded by 25%; each fold is checked against the budget as it ends."""

    def seconds(self) -> float:
        """Projected seconds of every fold, the refit and their predictions."""
        fits = (self.fixed + self.per_row * self.rows) * self.fits
        return self.PAD * (fits + self.predict + self.predict_per_row * self.rows)

    def proportional(self) -> Projection:
        """The projection of a fit cost proportional to the rows, from the larger pilot alone:
        never below the line's when the fixed cost is real."""
        rows, seconds = self.sample
        return replace(self, fixed=0.0, per_row=seconds / max(rows, 1))

    def rows_within(self, seconds: float) -> int:
        """The most training rows per fit whose projection stays within ``seconds``."""
        per_row = self.per_row * self.fits + self.predict_per_row
        if per_row <= 0:
            return self.rows
        left = seconds / self.PAD - self.predict - self.fixed * self.fits
        return int(min(self.rows, max(left, 0.0) / per_row + 1e-9))


def pilot(
    spec: CandidateSpec,
    ctx: BuildContext,
    X: pd.DataFrame,
    y: EncodedLabels,
    splits: Splits,
    allowed: float | None = None,
) -> Projection:
    """Time ``spec`` on two stratified samples (1/20 and 1/10 of a fold's rows, at least 100
    and 200) and project every fold, the refit and the probe (see the module's docstring).

    With ``allowed`` seconds, when every fit timed like the smaller sample's would already
    take more (a fit on more rows costs no less, and a family is never trained on fewer rows
    than that sample), the larger sample is not timed: the projection is the smaller
    sample's, in proportion to the rows. On 160,000 rows of 40 classes each LightGBM pilot
    had timed 6,400 rows (3.5 s) and then 12,800, for a family that could not fit in the
    10 s left."""
    fold_rows, held_out = len(splits.folds[0][0]), len(splits.folds[0][1])
    limit = spec.row_limit(ctx)
    fold_rows = fold_rows if limit is None else min(fold_rows, limit)
    m = min(fold_rows // 2, max(100, fold_rows // 20))
    small = subsample(np.arange(len(y)), y, m, ctx.seed)
    large = subsample(np.arange(len(y)), y, 2 * m, ctx.seed + 1)
    fits, calls = splits.n_folds + 1.3, splits.n_folds + 1
    predicted = held_out * splits.n_folds + min(len(y), PROBE_ROWS)
    share = held_out / max(len(splits.folds[0][0]), 1)
    if spec.cached_features:  # load the embedding model before timing: it happens once
        warm = subsample(small, y, max(20, 2 * int(y.max()) + 2), ctx.seed)
        fit_quietly(spec.build(ctx), X.iloc[warm], y[warm])
    if allowed is not None and not spec.cached_features:
        over = _scout(spec, ctx, X, y, (m, fits, allowed))
        if over is not None:  # fits timed like a smaller sample's would already not fit
            return Projection(0.0, over[1] / max(over[0], 1), fold_rows, fits, 0.0, over)
    a = _timed(spec, ctx, X, y, small, max(PILOT_PREDICT, round(len(small) * share)))
    if spec.cached_features:  # embedding dominates and happens once per row, then is cached
        return Projection(0.0, a.fit / max(len(small), 1) * len(y) / fits, 1, fits)
    if allowed is not None and a.fit * fits > allowed:
        return Projection(0.0, a.fit / max(a.rows, 1), fold_rows, fits, 0.0, (a.rows, a.fit))
    b = _timed(spec, ctx, X, y, large, max(PILOT_PREDICT, round(len(large) * share)))
    fixed, per_row = _line((a.rows, a.fit), (b.rows, b.fit))
    p_fixed, p_row = _line((a.rows, a.per_row), (b.rows, b.per_row))
    predict = min(a.call, b.call) * calls + p_fixed * predicted
    return Projection(fixed, per_row, fold_rows, fits, predict, (b.rows, b.fit), p_row * predicted)


SCOUT_SHARES = (64, 16, 4)
"""Before the pilot's smaller sample of ``m`` rows, one fit each on ``m`` / 64, / 16 and / 4
rows (at least :data:`SCOUT_MIN_ROWS`) stops the pilot as soon as fits timed like it would
already take more than the time allowed (:func:`_scout`). On 48,000 rows of 320 columns and
100 classes, the pilot's smaller sample (1,900 rows: 30,000 LightGBM trees) took 21 s of the
20 s left, and the fit ended at 78 s of its 60."""

SCOUT_MIN_ROWS = 50
"""The fewest rows a scouting fit holds."""


def _scout(
    spec: CandidateSpec,
    ctx: BuildContext,
    X: pd.DataFrame,
    y: EncodedLabels,
    plan: tuple[int, float, float],
) -> tuple[int, float] | None:
    """The rows and fit seconds of the first scouting sample (:data:`SCOUT_SHARES` of
    ``m`` rows) whose ``fits`` fits, timed like its one, would take more than ``allowed``
    seconds (``plan = (m, fits, allowed)``); ``None`` when none does.

    A fit on more rows costs no less, so the family cannot fit; each sample is four times
    the one before, so the scouting costs at most about a third of the pilot's own first fit
    when the family is affordable, and a few times the time allowed / ``fits`` when not. A
    sample that the family cannot fit (a class alone in so few rows) ends the scouting."""
    m, fits, allowed = plan
    sizes = sorted({max(SCOUT_MIN_ROWS, m // share) for share in SCOUT_SHARES})

    def fit_seconds(rows: IntArray) -> float:
        return cpu_seconds(lambda: fit_quietly(spec.build(ctx), X.iloc[rows], y[rows]))[1]

    for n in (size for size in sizes if size < m):
        rows = subsample(np.arange(len(y)), y, n, ctx.seed + 3)
        try:
            measured = fit_seconds(rows)
        except Exception:  # e.g. one class in so few rows: the pilot's own samples decide
            return None
        seconds = recorded_cost(f"scout/{spec.name}/{n}/fit", measured)
        if seconds * fits > allowed:
            return n, seconds
    return None


REFINE_SHARE = 0.1
"""Share of the time allowed that one larger pilot fit may take (see :func:`refine`)."""


def refine(
    projection: Projection,
    spec: CandidateSpec,
    ctx: BuildContext,
    X: pd.DataFrame,
    y: EncodedLabels,
    allowed: float,
) -> Projection:
    """The projection measured again on larger samples while it says the family does not
    fit in ``allowed`` seconds: 4 times the larger pilot's rows each time (up to a fold's),
    as long as the line projects that one fit within :data:`REFINE_SHARE` of ``allowed``.

    Two small pilots draw a line that a family whose cost flattens with more rows overshoots:
    LightGBM on 137 and 275 rows of a 3-class table took 0.067 and 0.131 s, and the line put
    a fold of 2,759 rows at 1.28 s where it took 0.31 s (its trees stop growing once they
    reach their leaf cap), so the family projected 12.4 s, was skipped, and the fit stopped
    at 17 s of its 30. The line through the two largest samples stays conservative on such
    a curve, and is the real cost once a sample is a fold.
    """
    p = projection
    while p.seconds() > allowed:
        n0, t0 = p.sample
        n1 = min(p.rows, 4 * n0)
        if n1 <= n0 or p.fixed + p.per_row * n1 > REFINE_SHARE * allowed:
            return p
        rows = subsample(np.arange(len(y)), y, n1, ctx.seed + 2)
        fit = _timed(spec, ctx, X, y, rows, PILOT_PREDICT).fit  # fastest of 3 when quick
        fixed, per_row = _line((n0, t0), (len(rows), fit))
        p = replace(p, fixed=fixed, per_row=per_row, sample=(len(rows), fit))
    return p


def pilot_seconds(
    spec: CandidateSpec,
    ctx: BuildContext,
    X: pd.DataFrame,
    y: EncodedLabels,
    splits: Splits,
    allowed: float | None = None,
) -> float:
    """The projected CPU seconds of ``spec``'s folds, refit and predictions (:func:`pilot`),
    timed again on larger samples while they exceed ``allowed`` (:func:`refine`), as a local
    fit's admission does."""
    projection = pilot(spec, ctx, X, y, splits, allowed)
    return (
        projection if allowed is None else refine(projection, spec, ctx, X, y, allowed)
    ).seconds()


BASELINE_SHARE = 0.5
"""Share of the candidates' time left a baseline may take: it must run, so when its pilot
projects more it is trained on a sub-sample that fits (the logistic baseline on 13k short
texts in 6 classes took 22 s of a 25 s limit)."""
BASELINE_FLOOR = 0.1
"""Share of the whole limit a baseline may always take, however little is left (a late
start on a busy machine must not cut a baseline that costs a second)."""
MIN_BASELINE_ROWS = 500
"""The fewest training rows a sub-sampled baseline keeps, whatever the time left."""


def bounded_baseline(
    spec: CandidateSpec,
    ctx: BuildContext,
    X: pd.DataFrame,
    y: EncodedLabels,
    splits: Splits,
    budget: Budget,
) -> CandidateSpec:
    """``spec``, or ``spec`` on fewer rows when its pilot projects more than its share of the
    time left (:data:`BASELINE_SHARE`, at least :data:`BASELINE_FLOOR` of the limit); a
    sub-sampled family says so in its notes."""
    if spec.max_rows is not None and spec.max_rows <= MIN_BASELINE_ROWS:
        return spec
    projected = pilot(spec, ctx, X, y, splits).proportional()
    allowed = max(BASELINE_SHARE * budget.for_candidates(), BASELINE_FLOOR * budget.seconds)
    if projected.seconds() <= allowed:
        return spec
    rows = max(MIN_BASELINE_ROWS, projected.rows_within(allowed))
    return spec if rows >= projected.rows else replace(spec, max_rows=rows)
