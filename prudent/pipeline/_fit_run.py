"""What every stage of one fit shares (:class:`_Run`: options, budget, reporter, task runner)
and how it cross-validates the model families: here one by one, or every fold as a task on a
:class:`~prudent.pipeline._parallel.TaskRunner`, an optional family that fails skipped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from prudent._typing import EncodedLabels
from prudent.data import Schema, Splits
from prudent.models import BuildContext, CandidateSpec
from prudent.pipeline._budget import Budget, save_seconds
from prudent.pipeline._engine import (
    CandidateRun,
    SkippedCandidate,
    cross_validate_candidate,
    trust_seconds,
)
from prudent.pipeline._parallel import TaskRunner, cross_validate_all, failure_reason
from prudent.pipeline._pilot import bounded_baseline
from prudent.pipeline._reporter import Reporter
from prudent.pipeline._spec import FitSpec
from prudent.pipeline._trust import ood_seconds

__all__: list[str] = []


def _candidate_ctx(schema: Schema, y: EncodedLabels, n_classes: int, seed: int) -> BuildContext:
    counts = np.bincount(y, minlength=n_classes)
    balanced = bool(counts.max() >= 3 * max(counts.min(), 1))
    return BuildContext(
        schema=schema, n_rows=len(y), n_classes=n_classes, balanced=balanced, seed=seed
    )


def _cross_validate(
    spec: CandidateSpec,
    ctx: BuildContext,
    X: pd.DataFrame,
    y: EncodedLabels,
    splits: Splits,
    budget: Budget,
    advance: Any,
) -> CandidateRun | SkippedCandidate:
    """Cross-validate one family; an optional family that fails on this data is skipped.

    The baselines must run, so their errors propagate; any other family that raises (e.g. a
    calibrated SVM whose pilot sample leaves a class with fewer rows than its folds) is
    skipped with the reason instead of ending the whole fit.
    """
    if spec.baseline:
        spec = bounded_baseline(spec, ctx, X, y, splits, budget)
        return cross_validate_candidate(
            spec, ctx, X, y, splits, budget, must_run=True, advance=advance
        )
    try:
        return cross_validate_candidate(spec, ctx, X, y, splits, budget, advance=advance)
    except Exception as exc:  # one optional family must not end the fit
        return SkippedCandidate(spec.name, failure_reason(exc))


NO_TIME_LEFT = "no time left in the budget"
"""Why a family is skipped unmeasured: the candidates' time is spent."""


def longer_limit_hint(
    specs: list[CandidateSpec], runs: dict[str, CandidateRun], skipped: list[SkippedCandidate]
) -> str:
    """When every candidate family was skipped for lack of time, so that a baseline ships,
    the notice that says a longer time limit gives them a chance; else ``""``.

    A 252,000-row table of flights at 60 s: the logistic baseline on a sample used the time,
    every family was skipped one notice at a time, and the fit shipped the baseline
    (balanced accuracy .763, where LightGBM on a sample reaches .999); nothing said what
    would do better.

    Examples
    --------
    >>> from prudent.models import CandidateSpec
    >>> specs = [CandidateSpec("lightgbm", "boosting", lambda ctx: None)]
    >>> longer_limit_hint(specs, {}, [SkippedCandidate("lightgbm", "a pilot…", 141.2)])[:60]
    'No candidate family fitted in the time limit, so a baseline '
    >>> longer_limit_hint(specs, {}, [SkippedCandidate("lightgbm", "it failed: …")])
    ''
    """
    candidates = [s.name for s in specs if not s.baseline]
    timed = [
        s
        for s in skipped
        if s.name in candidates and (s.seconds is not None or s.reason == NO_TIME_LEFT)
    ]
    if not timed or any(name in runs for name in candidates):
        return ""
    text = (
        "No candidate family fitted in the time limit, so a baseline ships; a longer "
        "--time-limit (time_limit in Python) gives them a chance"
    )
    projected = [s for s in timed if s.seconds is not None]
    if not projected:
        return text + "."
    return text + f": {projected[0].name} alone projects about {projected[0].seconds:.0f}s of CPU."


@dataclass(frozen=True)
class _Rows:
    """The training rows of a fit and the context the candidate factories build from."""

    X: pd.DataFrame
    y: EncodedLabels
    ctx: BuildContext


@dataclass(frozen=True)
class _Run:
    """What every stage of one fit shares: its options, clock, reporter and task runner."""

    spec: FitSpec
    budget: Budget
    reporter: Reporter
    runner: TaskRunner | None = None

    def families(
        self,
        specs: list[CandidateSpec],
        rows: _Rows,
        splits: Splits,
        runs: dict[str, CandidateRun],
    ) -> list[SkippedCandidate]:
        """Cross-validate the families not yet in ``runs`` (added to it); the skipped ones."""
        total = len(specs) * (splits.n_folds + 1)
        with self.reporter.progress("Fitting models", total=total) as advance:
            if self.runner is not None:  # every fold of every family as a task (prudent.scale)
                todo = [s for s in specs if s.name not in runs]
                done, skipped = cross_validate_all(
                    todo, rows.ctx, rows.X, rows.y, splits, self.budget, self.runner, advance
                )
                for run in done.values():
                    self._notes(run)
                    self._charge(run, splits)
                runs.update(done)
            else:
                skipped = self._one_by_one(specs, rows, splits, runs, advance)
        for s in skipped:
            self.reporter.notice(f"Skipped {s.name}: {s.reason}.")
        hint = longer_limit_hint(specs, runs, skipped)
        if hint:
            self.reporter.notice(hint)
        return skipped

    def _one_by_one(
        self,
        specs: list[CandidateSpec],
        rows: _Rows,
        splits: Splits,
        runs: dict[str, CandidateRun],
        advance: Any,
    ) -> list[SkippedCandidate]:
        skipped: list[SkippedCandidate] = []
        for spec in specs:
            if spec.name in runs:
                advance(splits.n_folds + 1)
                continue
            if not spec.baseline and self.budget.for_candidates() <= 0:
                skipped.append(SkippedCandidate(spec.name, NO_TIME_LEFT))
                advance(splits.n_folds + 1)
                continue
            result = _cross_validate(spec, rows.ctx, rows.X, rows.y, splits, self.budget, advance)
            if isinstance(result, SkippedCandidate):
                skipped.append(result)
                continue
            runs[spec.name] = result
            self._notes(result)
            self._charge(result, splits)
        return skipped

    def _charge(self, run: CandidateRun, splits: Splits) -> None:
        """Take from the candidates' time, before the next family's pilot, what ``run``
        commits the trust stage and the save to, were it chosen (and, the backup, the OOD
        feature map to, whatever is chosen)."""
        self.budget.charge(trust_seconds(run, len(splits.test)))
        self.budget.charge(ood_seconds(run, len(splits.train), len(splits.test)))
        self.budget.charge_finish(save_seconds(run.model))

    def _notes(self, run: CandidateRun) -> None:
        for note in run.notes:
            self.reporter.notice(note)
