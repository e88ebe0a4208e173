"""Cross-validate one candidate under a time budget: out-of-fold probabilities and a refit."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from prudent._costs import recorded_cost
from prudent._typing import EncodedLabels, IntArray, ProbaMatrix
from prudent.data import Splits
from prudent.models import BuildContext, CandidateSpec
from prudent.pipeline._budget import Budget
from prudent.pipeline._pilot import (
    PROBE_ROWS,
    cpu_seconds,
    fit_quietly,
    pilot,
    refine,
    subsample,
)

__all__ = [
    "CandidateRun",
    "SkippedCandidate",
    "cross_validate_candidate",
    "predict_proba_aligned",
    "trust_seconds",
]


@dataclass
class CandidateRun:
    """A cross-validated candidate: its out-of-fold probabilities and the model refit on all."""

    spec: CandidateSpec
    oof_proba: ProbaMatrix
    model: Any
    fit_seconds: float
    """Seconds of the final refit."""
    predict_seconds_per_1k: float
    """CPU seconds 1,000 more rows cost its refit model's ``predict_proba`` (one thread): the
    probe's time less a one-row call's (:func:`finish_run`)."""
    notes: list[str] = field(default_factory=list)
    projected_seconds: float | None = None
    """The pilot's projection of ``cv_seconds`` (CPU), when a pilot decided the family ran."""
    cv_seconds: float | None = None
    """CPU seconds of its folds, refit and prediction probe (when run in this process)."""


TRUST_PASSES = 2
"""How often the trust stage predicts the locked test rows with a family that joins the
primary: once in the guarded model's scores, once for the best single model's own metrics."""


def trust_seconds(run: CandidateRun, test_rows: int) -> float:
    """Seconds the trust stage will spend predicting with ``run``'s model, were it chosen.

    The refit's measured prediction time per row (:func:`finish_run`) times the rows the
    trust stage scores with every member of the primary: a k-NN over many training rows
    costs far more there than a linear model, and its pilot fit does not show it.

    Examples
    --------
    >>> from prudent.models import CandidateSpec
    >>> spec = CandidateSpec("knn", "nearest neighbours", lambda ctx: None)
    >>> run = CandidateRun(spec, np.zeros((1, 2)), None, 1.0, predict_seconds_per_1k=0.5)
    >>> trust_seconds(run, test_rows=4000)
    4.0
    """
    return TRUST_PASSES * run.predict_seconds_per_1k * test_rows / 1000


@dataclass(frozen=True)
class SkippedCandidate:
    """A candidate that did not fit in the budget, with the reason."""

    name: str
    reason: str
    seconds: float | None = None
    """The CPU seconds it was projected to need, when it was skipped for lack of time."""


def predict_proba_aligned(model: Any, X: pd.DataFrame, n_classes: int) -> ProbaMatrix:
    """``predict_proba`` with one column per class index, zeros for classes the model never saw."""
    raw = np.asarray(model.predict_proba(X), dtype=np.float64)
    seen = np.asarray(model.classes_, dtype=np.int64)
    if len(seen) == n_classes:
        return raw
    out = np.zeros((len(X), n_classes))
    out[:, seen] = raw
    return out


def _single_threaded_predict(model: Any) -> None:
    """Predict in the calling thread: a thread pool per call costs more than it saves on the
    small batches a service sends (the service runs requests in parallel itself)."""
    for step in getattr(model, "named_steps", {}).values():
        if "n_jobs" in getattr(step, "get_params", dict)() and not hasattr(step, "booster_"):
            step.set_params(n_jobs=1)


def sample_notes(spec: CandidateSpec, ctx: BuildContext, n_rows: int) -> list[str]:
    """The notice of a family trained on a sub-sample, when it is."""
    max_rows = spec.row_limit(ctx)
    if max_rows is None or n_rows <= max_rows:
        return []
    return [
        f"{spec.name}: trained on a stratified sub-sample of {max_rows} of "
        f"{n_rows} rows (bounds its time and size)."
    ]


def cross_validate_candidate(
    spec: CandidateSpec,
    ctx: BuildContext,
    X: pd.DataFrame,
    y: EncodedLabels,
    splits: Splits,
    budget: Budget,
    *,
    must_run: bool = False,
    advance: Any = None,
) -> CandidateRun | SkippedCandidate:
    """Fit ``spec`` on every fold, collect out-of-fold probabilities, then refit on all rows.

    ``X`` and ``y`` are the training part only (positions match ``splits.folds``). After
    the first fold the remaining time is projected; a candidate that would overrun the
    budget is skipped with the reason, unless ``must_run`` (the baselines).

    Parameters
    ----------
    spec, ctx
        The family and what it is built from.
    X, y
        Training rows and their encoded labels.
    splits
        The folds (positions into ``X``).
    budget
        The fit's time budget.
    must_run
        Never skip (baselines).
    advance
        Progress callback, called once per fold and once for the refit.

    Returns
    -------
    CandidateRun or SkippedCandidate
    """
    projected = None
    if not must_run:
        planned = _pilot_projection(spec, ctx, X, y, splits, budget)
        if isinstance(planned, SkippedCandidate):
            return planned
        projected, spec = planned
    notes = sample_notes(spec, ctx, len(y))
    started = time.process_time()
    oof = _out_of_fold(spec, ctx, X, y, splits, budget, must_run=must_run, advance=advance)
    if isinstance(oof, SkippedCandidate):
        return oof
    model, fit_seconds = refit(spec, ctx, *splits.fitted(X, y))
    if advance is not None:
        advance()
    run = finish_run(spec, oof, model, fit_seconds, X, notes)
    run.projected_seconds, run.cv_seconds = projected, time.process_time() - started
    return run


def _seconds(x: float) -> str:
    """``"12s"``; a tenth of a second under 10 s, so that a short wait never reads "0s".

    >>> _seconds(0.4), _seconds(12.3), _seconds(-1.0)
    ('0.4s', '12s', '0.0s')
    """
    x = max(x, 0.0)
    return f"{x:.0f}s" if x >= 9.95 else f"{x:.1f}s"


def _left(budget: Budget) -> str:
    return f"{_seconds(budget.for_candidates())} left in the budget"


def floor_skip(spec: CandidateSpec, ctx: BuildContext, left: float) -> SkippedCandidate | None:
    """Skip ``spec`` before any fit when its known lower bound exceeds the ``left`` seconds.

    Examples
    --------
    >>> from prudent.models import candidate_specs
    >>> from prudent.data import ColumnSpec, Role, Schema
    >>> schema = Schema((ColumnSpec("x", Role.numeric, "float64"),), target="y")
    >>> spec = candidate_specs(schema)[0]
    >>> ctx = BuildContext(schema, n_rows=100, n_classes=2, balanced=False)
    >>> floor_skip(spec, ctx, left=0.0) is None  # no known floor: the pilot decides
    True
    """
    if spec.least_seconds is None:
        return None
    least = spec.least_seconds(ctx)
    if least <= left:
        return None
    why = f"its set-up alone takes at least {_seconds(least)}, {_seconds(left)} left in the budget"
    return SkippedCandidate(spec.name, why, least)


SHRUNK_SHARE = 0.5
"""Share of the candidates' time left that a family trained on fewer rows than it would take
may use, so that the families after it keep a chance."""
MIN_SHRUNK_ROWS = 20_000
"""The fewest rows per fit of a family trained on fewer rows to fit the budget: under it the
family is skipped instead, as a sample of it would be little data. 20,000 rows are enough for
boosting to learn what a linear baseline on every row cannot (500,000 rows of a binary table
with an interaction: LightGBM on 28,024 rows, log loss .466 against the baseline's .514,
where every family had been skipped at 50,000)."""


def _pilot_projection(
    spec: CandidateSpec,
    ctx: BuildContext,
    X: pd.DataFrame,
    y: EncodedLabels,
    splits: Splits,
    budget: Budget,
) -> tuple[float, CandidateSpec] | SkippedCandidate:
    """The pilot's projection of ``spec``'s CPU seconds and the spec to run, or its skip
    when the projection (or its known floor) is more than the budget leaves.

    On a large table a family whose every row would not fit is trained on the most rows
    that fit in :data:`SHRUNK_SHARE` of the time left, when that is at least
    :data:`MIN_SHRUNK_ROWS` per fit (a 500,000-row table at 60 s: LightGBM on 57,543 rows,
    where it was skipped and the fit shipped an MLP on 20,000)."""
    floor = floor_skip(spec, ctx, budget.for_candidates())
    if floor is not None:
        return floor
    projection = pilot(spec, ctx, X, y, splits, budget.for_candidates())
    projection = refine(projection, spec, ctx, X, y, budget.for_candidates())
    projected = projection.seconds()
    if projected <= budget.for_candidates():
        return projected, spec
    scaled = projection.proportional()
    rows = scaled.rows_within(SHRUNK_SHARE * budget.for_candidates())
    if MIN_SHRUNK_ROWS <= rows < projection.rows:
        shrunk = replace(scaled, rows=rows)
        return shrunk.seconds(), replace(spec, max_rows=rows)
    return SkippedCandidate(
        spec.name, f"a pilot fit projects about {projected:.0f}s, {_left(budget)}", projected
    )


def _out_of_fold(
    spec: CandidateSpec,
    ctx: BuildContext,
    X: pd.DataFrame,
    y: EncodedLabels,
    splits: Splits,
    budget: Budget,
    *,
    must_run: bool,
    advance: Any,
) -> ProbaMatrix | SkippedCandidate:
    """Every fold's held-out probabilities; skipped when the folds left (their CPU seconds
    so far, projected) would overrun."""
    oof = np.zeros((len(y), ctx.n_classes))
    elapsed = 0.0
    for i, (fit_rows, val_rows) in enumerate(splits.folds):
        started = time.process_time()
        oof[val_rows] = fit_fold(spec, ctx, X, y, fit_rows, val_rows, i)
        if advance is not None:
            advance()
        this_fold = recorded_cost(f"fold/{spec.name}", time.process_time() - started)
        elapsed += this_fold
        needed = _seconds_needed(spec, splits.n_folds, i, elapsed, this_fold)
        if not must_run and needed > budget.for_candidates():
            why = f"needs about {_seconds(needed)} more, {_left(budget)}"
            return SkippedCandidate(spec.name, why, elapsed + needed)
    return oof


def _seconds_needed(
    spec: CandidateSpec, n_folds: int, i: int, elapsed: float, this_fold: float
) -> float:
    """Projected seconds for the folds left and the refit (1.3 folds), after fold ``i``."""
    per_fold = elapsed / (i + 1)
    if spec.cached_features:  # fold 1 computed (and cached) the features: judge by fold 2+
        per_fold = this_fold if i > 0 else 0.0
    return per_fold * (n_folds - i - 1) + per_fold * 1.3


def fit_fold(
    spec: CandidateSpec,
    ctx: BuildContext,
    X: pd.DataFrame,
    y: EncodedLabels,
    fit_rows: IntArray,
    val_rows: IntArray,
    i: int,
) -> ProbaMatrix:
    """Fit ``spec`` on fold ``i``'s rows; its probabilities for the fold's held-out rows."""
    rows = subsample(fit_rows, y, spec.row_limit(ctx), ctx.seed + i)
    model = fit_quietly(clone(spec.build(ctx)), X.iloc[rows], y[rows])
    return predict_proba_aligned(model, X.iloc[val_rows], ctx.n_classes)


def refit(spec: CandidateSpec, ctx: BuildContext, X: pd.DataFrame, y: EncodedLabels) -> Any:
    """Fit ``spec`` on every training row (sub-sampled to its limit); the model and its CPU
    seconds."""
    rows = subsample(np.arange(len(y)), y, spec.row_limit(ctx), ctx.seed)
    return cpu_seconds(lambda: fit_quietly(spec.build(ctx), X.iloc[rows], y[rows]))


def finish_run(
    spec: CandidateSpec,
    oof: ProbaMatrix,
    model: Any,
    fit_seconds: float,
    X: pd.DataFrame,
    notes: list[str],
) -> CandidateRun:
    """A cross-validated candidate, its prediction time (CPU) measured here on up to
    :data:`~prudent.pipeline._pilot.PROBE_ROWS` rows.

    The time per row is the probe's less a one-row call's, over the rows after the first:
    what rows cost at scale. A call's fixed cost (scikit-learn validating the frame through
    every step of a pipeline: milliseconds, which the guarded model's compiled columns do
    not pay) divided by the 150 rows of a small table made each member of its ensemble look
    up to 0.1 s per 1,000 rows dearer, and passed the prediction budget
    (:data:`~prudent.models._ensemble_choice.PREDICT_BUDGET`) that no large batch would.
    The one-row call is the fastest of three: a garbage collection of a few tens of
    milliseconds inside a single timing once made a k-NN's rows look free.
    """
    _single_threaded_predict(model)
    probe = X.iloc[: min(len(X), PROBE_ROWS)]
    _, measured = cpu_seconds(lambda: model.predict_proba(probe))
    seconds = recorded_cost(f"probe/{spec.name}", measured)
    row = probe.iloc[:1]
    one = min(cpu_seconds(lambda: model.predict_proba(row))[1] for _ in range(3))
    fixed = min(recorded_cost(f"probe-row/{spec.name}", one), seconds)
    return CandidateRun(
        spec=spec,
        oof_proba=oof,
        model=model,
        fit_seconds=fit_seconds,
        predict_seconds_per_1k=(seconds - fixed) / max(len(probe) - 1, 1) * 1000,
        notes=notes,
    )
