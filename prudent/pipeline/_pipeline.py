"""Orchestration of a fit, no algorithms: read → validate → split → baselines → audit →
candidates → leaderboard → trust layer → final test. Produces a :class:`FitResult`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prudent._typing import EncodedLabels, Labels
from prudent.data import (
    Role,
    Schema,
    Splits,
    Target,
    infer_schema,
    make_splits,
    prepare_target,
    validate_frame,
    without_rows,
)
from prudent.errors import BudgetError
from prudent.metrics import find_label_issues, single_column_leaks
from prudent.models import BuildContext, CandidateSpec, candidate_specs
from prudent.models._guarded import GuardedModel
from prudent.pipeline._engine import (
    Budget,
    CandidateRun,
    SkippedCandidate,
    cross_validate_candidate,
)
from prudent.pipeline._leaderboard import leaderboard
from prudent.pipeline._parallel import TaskRunner, cross_validate_all, failure_reason
from prudent.pipeline._reporter import QuietReporter, Reporter
from prudent.pipeline._spec import FitSpec
from prudent.pipeline._trust import TrustResult, build_trust

__all__ = ["FitResult", "fit_table"]

MIN_MEDIAN_CLASS_ROWS = 10
"""Most classes need this many labelled rows: a test row, a validation row in every fold and
rows on both sides of the trust stage's split. With 300 classes of 3 rows each a fit
produced a model near chance (test accuracy 0.013) and ran 18 times past a 10 s limit."""


@dataclass
class FitResult:
    """Everything a fit learned and measured; a bundle is saved from it."""

    spec: FitSpec
    schema: Schema
    classes: Labels
    splits: Splits
    y: EncodedLabels
    """Encoded labels of every labelled row (index with ``splits.train`` / ``splits.test``)."""
    runs: dict[str, CandidateRun]
    skipped: list[SkippedCandidate]
    leaderboard: list[dict[str, Any]]
    best_baseline: str
    label_issues: pd.DataFrame
    trust: TrustResult
    model: GuardedModel
    data_summary: dict[str, Any]
    notices: list[str] = field(default_factory=list)
    seconds: float = 0.0
    test_frame: pd.DataFrame | None = None
    """Up to 2,000 rows of the locked test set (validated inputs and the label), as evidence
    for the report's slices and confident errors."""


def _tabular(schema: Schema) -> list[str]:
    """The feature columns that are not free text (the leakage check reads these)."""
    return schema.names(Role.numeric, Role.categorical, Role.boolean, Role.datetime)


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
        return cross_validate_candidate(
            spec, ctx, X, y, splits, budget, must_run=True, advance=advance
        )
    try:
        return cross_validate_candidate(spec, ctx, X, y, splits, budget, advance=advance)
    except Exception as exc:  # one optional family must not end the fit
        return SkippedCandidate(spec.name, failure_reason(exc))


def _run_all(
    specs: list[CandidateSpec],
    ctx: BuildContext,
    X: pd.DataFrame,
    y: EncodedLabels,
    splits: Splits,
    budget: Budget,
    reporter: Reporter,
    runs: dict[str, CandidateRun],
    runner: TaskRunner | None = None,
) -> list[SkippedCandidate]:
    skipped: list[SkippedCandidate] = []
    with reporter.progress("Fitting models", total=len(specs) * (splits.n_folds + 1)) as advance:
        if runner is not None:  # every fold of every family as a task (prudent.scale)
            todo = [s for s in specs if s.name not in runs]
            done, skipped = cross_validate_all(todo, ctx, X, y, splits, budget, runner, advance)
            for run in done.values():
                for note in run.notes:
                    reporter.notice(note)
            runs.update(done)
            specs = []
        for spec in specs:
            if spec.name in runs:
                advance(splits.n_folds + 1)
                continue
            if not spec.baseline and budget.for_candidates() <= 0:
                skipped.append(SkippedCandidate(spec.name, "no time left in the budget"))
                advance(splits.n_folds + 1)
                continue
            result = _cross_validate(spec, ctx, X, y, splits, budget, advance)
            if isinstance(result, SkippedCandidate):
                skipped.append(result)
                continue
            runs[spec.name] = result
            for note in result.notes:
                reporter.notice(note)
    for s in skipped:
        reporter.notice(f"Skipped {s.name}: {s.reason}.")
    return skipped


def _audit(target: Target, splits: Splits, run: CandidateRun, X: pd.DataFrame) -> pd.DataFrame:
    """The flagged training rows: table row, given and likely label, score, then the inputs."""
    y_train = target.y[splits.train]
    issues = find_label_issues(y_train, run.oof_proba)
    positions = splits.train[issues["row"].to_numpy()]
    audit = pd.DataFrame(
        {
            "row": target.original_rows[positions],
            "given": target.classes[issues["given"].to_numpy()],
            "likely": target.classes[issues["likely"].to_numpy()],
            "score": issues["score"].to_numpy(),
        }
    )
    inputs = X.iloc[positions].reset_index(drop=True)
    inputs.columns = [f"input:{c}" if c in audit.columns else c for c in inputs.columns]
    out: pd.DataFrame = pd.concat([audit, inputs], axis=1)
    return out


MANY_SUSPECT = 0.1
"""A label audit is a warning when this share of the training rows or more is flagged with
a label the out-of-fold model gives at most :data:`CONTRADICTED` probability: mislabelled
rows, not merely hard ones (on hard data the audit flags many rows, but not confidently)."""

CONTRADICTED = 0.3


def _audit_notice(issues: pd.DataFrame, n_rows: int, error_rate: float) -> str:
    """The label audit's notice; a warning when many labels are confidently contradicted,
    and a caution when the flagged share is more than label noise plausibly is.

    Examples
    --------
    >>> _audit_notice(pd.DataFrame({"score": [0.9, 0.6, 0.6]}), 100, 0.05)[:60]
    'Label audit: 3 training row(s) are hard or possibly mislabel'
    >>> _audit_notice(pd.DataFrame({"score": [0.9] * 12}), 100, 0.12)[:64]
    'WARNING Label audit: 12 of 100 training rows (12%) have a label '
    """
    confident = int((issues["score"] >= 1.0 - CONTRADICTED).sum())
    if confident >= MANY_SUSPECT * n_rows:
        return (
            f"WARNING Label audit: {confident} of {n_rows} training rows ({confident / n_rows:.0%})"
            f" have a label the model gives at most {CONTRADICTED:.0%} probability, and "
            f"{len(issues)} are hard or possibly mislabelled in all: check the target column "
            "(listed with their inputs in the bundle's label_issues.csv)."
        )
    text = (
        f"Label audit: {len(issues)} training row(s) are hard or possibly mislabelled (listed "
        "with their inputs in the bundle's label_issues.csv)."
    )
    share = len(issues) / max(n_rows, 1)
    if share >= MANY_SUSPECT:
        text += (
            f" {share:.0%} of the rows is implausibly many for label noise, beside the "
            f"baseline's out-of-fold error rate of {error_rate:.0%}: most are likely hard rows "
            "rather than wrong labels; check a sample before dropping any."
        )
    return text


def _summary(frame: pd.DataFrame, target: Target, schema: Schema) -> dict[str, Any]:
    counts = np.bincount(target.y, minlength=len(target.classes))
    return {
        "rows": len(frame),
        "labelled_rows": len(target.y),
        "dropped_missing_target": target.n_dropped,
        "class_counts": {str(c): int(n) for c, n in zip(target.classes, counts, strict=True)},
        "missing_share": {c.name: c.missing_share for c in schema.columns},
    }


def _evidence(X: pd.DataFrame, target: Target, splits: Splits) -> pd.DataFrame:
    rows = splits.test[:2000]
    frame = X.iloc[rows].reset_index(drop=True)
    frame["__row__"] = target.original_rows[rows]
    frame["__label__"] = target.y[rows]
    return frame


def fit_table(
    frame: pd.DataFrame,
    spec: FitSpec,
    *,
    reporter: Reporter | None = None,
    ood_examples: pd.DataFrame | None = None,
    started: float | None = None,
    runner: TaskRunner | None = None,
    saves: bool = False,
) -> FitResult:
    """Fit prudent's whole pipeline on a table.

    Parameters
    ----------
    frame
        The training table, target column included.
    spec
        The fit's options.
    reporter
        Where notices, tables and progress go; quiet by default.
    ood_examples
        Known out-of-distribution rows (same columns, target optional), used to choose the
        OOD detector and report its AUROC.
    started
        When the time limit began, on ``time.monotonic`` (default: now); the command line
        passes its own start so that reading the file counts.
    runner
        Runs the folds of every family as independent tasks, e.g. on a Dask cluster
        (``prudent.scale.DaskRunner``); by default they run here, one after another.
    saves
        The caller saves the bundle and its report within the same limit (``prudent fit``
        does): the budget keeps time for it.

    Returns
    -------
    FitResult

    Raises
    ------
    DataError
        The table cannot be used (named column, class or value).
    """
    rep: Reporter = reporter if reporter is not None else QuietReporter()
    budget = Budget(spec.time_limit, start=started, saves=saves)
    started = time.monotonic() if started is None else started
    schema = infer_schema(
        frame,
        spec.target,
        text=spec.text,
        categorical=spec.categorical,
        numeric=spec.numeric,
        drop=spec.drop,
    )
    for n in schema.notices:
        rep.notice(n)
    target = prepare_target(frame, spec.target, min_per_class=3, min_median=MIN_MEDIAN_CLASS_ROWS)
    if target.n_dropped:
        rep.notice(f"Dropped {target.n_dropped} row(s) whose target '{spec.target}' is missing.")
    X_all, _ = validate_frame(target.frame, schema)
    splits = make_splits(target.y, test_size=spec.test_size, n_folds=spec.n_folds, seed=spec.seed)
    for n in splits.notes:
        rep.notice(n)
    k = len(target.classes)
    specs = [
        s
        for s in candidate_specs(schema)
        if s.baseline or spec.candidates is None or s.name in spec.candidates
    ]
    baselines = [s for s in specs if s.baseline]
    X_train, y_train = X_all.iloc[splits.train].reset_index(drop=True), target.y[splits.train]
    ctx = _candidate_ctx(schema, y_train, k, spec.seed)
    for leak in single_column_leaks(X_train, y_train, _tabular(schema), seed=spec.seed):
        rep.notice(leak.notice(spec.target))
    runs: dict[str, CandidateRun] = {}
    _run_all(baselines, ctx, X_train, y_train, splits, budget, rep, runs, runner)
    issues = _audit(target, splits, runs["logistic"], X_all)
    wrong = float(np.mean(runs["logistic"].oof_proba.argmax(axis=1) != y_train))
    rep.notice(_audit_notice(issues, len(y_train), wrong))
    if spec.drop_suspect_labels and len(issues):
        positions = np.searchsorted(target.original_rows, issues["row"].to_numpy())
        splits = without_rows(splits, target.y, positions, seed=spec.seed)
        rep.notice(splits.notes[-1])
        X_train = X_all.iloc[splits.train].reset_index(drop=True)
        y_train = target.y[splits.train]
        ctx = _candidate_ctx(schema, y_train, k, spec.seed)
        runs = {}
        _run_all(baselines, ctx, X_train, y_train, splits, budget, rep, runs, runner)
    optional = [s for s in specs if not s.baseline]
    skipped = _run_all(optional, ctx, X_train, y_train, splits, budget, rep, runs, runner)
    if not runs:
        raise BudgetError("No model could be fitted within the time limit; raise --time-limit.")
    rows, comparisons, base = leaderboard(runs, y_train, seed=spec.seed)
    for row in rows:
        if "vs_baseline" in row:
            rep.notice(row["vs_baseline"]["message"])
    X_ood = None
    if ood_examples is not None:
        X_ood, _ = validate_frame(ood_examples, schema)
    trust = build_trust(
        runs=runs,
        comparisons=comparisons,
        best_baseline=base,
        spec=spec,
        classes=target.classes,
        X_train=X_train,
        y_train=y_train,
        X_test=X_all.iloc[splits.test].reset_index(drop=True),
        y_test=target.y[splits.test],
        X_ood=X_ood,
        schema=schema,
        budget=budget,
        reporter=rep,
    )
    return FitResult(
        spec=spec,
        schema=schema,
        classes=target.classes,
        splits=splits,
        y=target.y,
        runs=runs,
        skipped=skipped,
        leaderboard=rows,
        best_baseline=base,
        label_issues=issues,
        trust=trust,
        model=trust.model,
        test_frame=_evidence(X_all, target, splits),
        data_summary=_summary(frame, target, schema),
        notices=list(getattr(rep, "notices", [])),
        seconds=time.monotonic() - started,
    )
