"""Cross-validation as independent tasks, for a :class:`TaskRunner` that spreads them.

The sequential path (:func:`~prudent.pipeline._engine.cross_validate_candidate`) checks the
budget after every fold. Here every family's pilot runs first, as tasks; the families whose
projected time fits in what is left (the projection shared out over the runner's workers)
then have all their folds and their refit run as tasks at once. The tasks call the same
functions as the sequential path, with the same seeds, so that a family that runs gives
the same out-of-fold probabilities and the same model either way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from prudent._typing import EncodedLabels
from prudent.data import Splits
from prudent.models import BuildContext, CandidateSpec
from prudent.pipeline._budget import Budget
from prudent.pipeline._engine import (
    CandidateRun,
    SkippedCandidate,
    finish_run,
    fit_fold,
    floor_skip,
    refit,
    sample_notes,
)
from prudent.pipeline._pilot import pilot_seconds

__all__ = ["TaskFailed", "TaskRunner", "cross_validate_all", "failure_reason"]


class TaskRunner(Protocol):
    """Runs independent tasks, possibly elsewhere (``prudent.scale.DaskRunner``)."""

    workers: int
    """How many tasks run at once."""

    def map(
        self,
        fn: Callable[..., Any],
        tasks: Sequence[tuple[Any, ...]],
        shared: tuple[Any, ...],
        advance: Callable[[int], None],
    ) -> list[Any]:
        """``[fn(*shared, *task) for task in tasks]``; ``shared`` is sent once, not per task.

        ``advance(1)`` is called as each task ends; a task's exception is raised here.
        """


@dataclass(frozen=True)
class TaskFailed:
    """An optional family's task raised; the family is skipped with this reason."""

    reason: str


def _guarded(work: Callable[[], Any], must_run: bool) -> Any:
    """Run ``work`` with one BLAS thread, as a local fit does; optional families' errors
    come back as :class:`TaskFailed` (the baselines' propagate)."""
    with threadpool_limits(limits=1):
        if must_run:
            return work()
        try:
            return work()
        except Exception as exc:  # one optional family must not end the fit
            return TaskFailed(failure_reason(exc))


def failure_reason(exc: Exception) -> str:
    """Why an optional family was skipped when it raised ``exc``.

    Examples
    --------
    >>> failure_reason(ValueError("too few rows in class 'b'"))
    "it failed on this data (ValueError: too few rows in class 'b')"
    >>> failure_reason(ValueError("the data contains only one class: np.int64(1)"))
    'it failed on this data (ValueError: the data contains only one class: 1)'
    """
    first = str(exc).splitlines()[0] if str(exc) else ""
    # numpy scalars as their reprs write them ("np.int64(1)") read as the plain value
    first = re.sub(r"\bnp\.(?:int|uint|float|bool|str)_?\d*\(([^()]*)\)", r"\1", first)
    return f"it failed on this data ({type(exc).__name__}: {first})"


def pilot_task(
    X: pd.DataFrame,
    y: EncodedLabels,
    splits: Splits,
    spec: CandidateSpec,
    ctx: BuildContext,
    allowed: float,
) -> Any:
    """The projected seconds of ``spec``'s folds and refit, timed again on larger samples
    while they exceed ``allowed`` (see ``pilot_seconds``)."""
    return _guarded(lambda: pilot_seconds(spec, ctx, X, y, splits, allowed), must_run=False)


def fold_task(
    X: pd.DataFrame,
    y: EncodedLabels,
    splits: Splits,
    spec: CandidateSpec,
    ctx: BuildContext,
    i: int,
) -> Any:
    """Fold ``i``'s held-out probabilities, or the refit (model, seconds) for ``i == -1``."""
    if i < 0:
        return _guarded(lambda: refit(spec, ctx, *splits.fitted(X, y)), spec.baseline)
    fit_rows, val_rows = splits.folds[i]
    return _guarded(lambda: fit_fold(spec, ctx, X, y, fit_rows, val_rows, i), spec.baseline)


def _admit(
    specs: list[CandidateSpec],
    pilots: list[Any],
    budget: Budget,
    workers: int,
    skipped: list[SkippedCandidate],
) -> list[CandidateSpec]:
    """The families whose projected time, shared over the workers, fits in what is left."""
    admitted, committed = [], 0.0
    for spec, projected in zip(specs, pilots, strict=True):
        left = budget.for_candidates() - committed
        if isinstance(projected, TaskFailed):
            skipped.append(SkippedCandidate(spec.name, projected.reason))
        elif spec.baseline or projected / workers <= left:
            admitted.append(spec)
            committed += 0.0 if spec.baseline else projected / workers
        else:
            why = f"a pilot fit projects about {projected:.0f}s, {max(left, 0):.0f}s left"
            skipped.append(SkippedCandidate(spec.name, why + " in the budget", projected))
    return admitted


def cross_validate_all(
    specs: list[CandidateSpec],
    ctx: BuildContext,
    X: pd.DataFrame,
    y: EncodedLabels,
    splits: Splits,
    budget: Budget,
    runner: TaskRunner,
    advance: Callable[[int], None],
) -> tuple[dict[str, CandidateRun], list[SkippedCandidate]]:
    """Cross-validate ``specs`` on ``runner``: pilots, then every fold and refit at once.

    Returns
    -------
    tuple of (dict, list)
        The runs by family name, and the families skipped with their reasons.
    """
    skipped = [f for s in specs if (f := floor_skip(s, ctx, budget.for_candidates())) is not None]
    specs = [s for s in specs if s.name not in {f.name for f in skipped}]
    optional = [s for s in specs if not s.baseline]
    shared = (X, y, splits)  # the data: sent to each worker once
    # a family may take the whole budget on each worker: what ``_admit`` lets in at most
    allowed = budget.for_candidates() * runner.workers
    pilots = runner.map(pilot_task, [(s, ctx, allowed) for s in optional], shared, lambda n: None)
    timed = dict(zip([s.name for s in optional], pilots, strict=True))
    admitted = _admit(
        specs, [timed.get(s.name, 0.0) for s in specs], budget, runner.workers, skipped
    )
    for spec in specs:
        if spec not in admitted:
            advance(splits.n_folds + 1)
    steps = [*range(splits.n_folds), -1]
    tasks = [(spec, ctx, i) for spec in admitted for i in steps]
    results = runner.map(fold_task, tasks, shared, advance)
    runs: dict[str, CandidateRun] = {}
    for j, spec in enumerate(admitted):
        mine = results[j * len(steps) : (j + 1) * len(steps)]
        failed = next((r for r in mine if isinstance(r, TaskFailed)), None)
        if failed is not None:
            skipped.append(SkippedCandidate(spec.name, failed.reason))
            continue
        oof = np.zeros((len(y), ctx.n_classes))
        for (_, val_rows), proba in zip(splits.folds, mine[:-1], strict=True):
            oof[val_rows] = proba
        model, seconds = mine[-1]
        runs[spec.name] = finish_run(spec, oof, model, seconds, X, sample_notes(spec, ctx, len(y)))
        projected = timed.get(spec.name)
        runs[spec.name].projected_seconds = projected if isinstance(projected, float) else None
    order = [s.name for s in specs]
    return runs, sorted(skipped, key=lambda s: order.index(s.name))
