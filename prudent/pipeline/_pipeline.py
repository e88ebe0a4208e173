"""Orchestration of a fit, no algorithms: read → validate → split → baselines → audit →
candidates → leaderboard → trust layer → final test. Produces a :class:`FitResult`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from prudent._costs import CACHE_ENV, CostBook, cost_book, recorded_cost
from prudent._typing import EncodedLabels, IntArray, Labels
from prudent.data import (
    DECIMAL_ATTR,
    REPEATED_HEADER_ATTR,
    SHORT_ROWS_ATTR,
    Role,
    Schema,
    Splits,
    Target,
    dropped_notice,
    fitted_without,
    infer_schema,
    label_words_notice,
    look_alike_classes,
    make_splits,
    plain_table,
    prepare_target,
    rare_classes_notice,
)
from prudent.errors import BudgetError, SchemaError
from prudent.metrics import Comparison, single_column_leaks
from prudent.models import CandidateSpec, candidate_specs
from prudent.models._guarded import GuardedModel
from prudent.pipeline._budget import Budget, training_rows
from prudent.pipeline._engine import CandidateRun, SkippedCandidate
from prudent.pipeline._fit_key import _fit_key
from prudent.pipeline._fit_run import _candidate_ctx, _Rows, _Run
from prudent.pipeline._label_audit import LabelIssues, audit_labels, audit_notice, unweighted
from prudent.pipeline._leaderboard import leaderboard
from prudent.pipeline._parallel import TaskRunner
from prudent.pipeline._reporter import QuietReporter, Reporter
from prudent.pipeline._spec import FitSpec
from prudent.pipeline._trust import TrustResult, build_trust, rules_for, trust_rows_seconds
from prudent.pipeline._trust_data import ood_inputs, validated

__all__ = ["FitResult", "fit_table"]

MIN_CLASS_ROWS = 3
"""Every class needs this many labelled rows (a test row, and validation rows in the folds);
``drop_rare_classes`` drops the rows of a smaller class instead of stopping."""
MIN_MEDIAN_CLASS_ROWS = 5
"""Most classes need this many labelled rows: a test row, a validation row in most folds and
rows on both sides of the trust stage's split. With 300 classes of 3 rows each a fit
produced a model near chance (test accuracy 0.013) and ran 18 times past a 10 s limit; 400
classes of 6 rows fit in 11 s of a 20 s limit, 1,000 of 5 in 15 s. A median of 10 had
refused real tables a model learns well (a 72-row table of 7 oils; 142 countries of
gapminder, 9 rows each: balanced accuracy .46 against LightGBM's .32)."""


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
    """The label audit's :data:`~prudent.pipeline._label_audit.LISTED_ROWS` most suspect
    flagged training rows, most suspect first, with their inputs."""
    n_suspect: int
    """How many training rows the label audit flagged in all (``label_issues`` lists at
    most :data:`~prudent.pipeline._label_audit.LISTED_ROWS` of them)."""
    trust: TrustResult
    model: GuardedModel
    data_summary: dict[str, Any]
    notices: list[str] = field(default_factory=list)
    seconds: float = 0.0
    test_frame: pd.DataFrame | None = None
    """Up to 2,000 rows of the locked test set (validated inputs and the label), as evidence
    for the report's slices and confident errors."""
    train_frame: pd.DataFrame | None = None
    """Up to 2,000 training rows (a uniform sample, same columns), the examples the review
    page shows nearest a case."""


def _tabular(schema: Schema) -> list[str]:
    """The feature columns that are not free text (the leakage check reads these)."""
    return schema.names(Role.numeric, Role.categorical, Role.boolean, Role.datetime)


def _summary(frame: pd.DataFrame, target: Target, schema: Schema) -> dict[str, Any]:
    counts = np.bincount(target.y, minlength=len(target.classes))
    return {
        "rows": len(frame),
        "labelled_rows": len(target.y),
        "dropped_missing_target": target.n_dropped,
        "class_counts": {str(c): int(n) for c, n in zip(target.classes, counts, strict=True)},
        "missing_share": {c.name: c.missing_share for c in schema.columns},
    }


EXAMPLE_ROWS = 2000
"""Most locked-test rows and training rows a bundle keeps as examples."""


def _evidence(X: pd.DataFrame, target: Target, rows: IntArray) -> pd.DataFrame:
    frame = X.iloc[rows].reset_index(drop=True)
    frame["__row__"] = target.original_rows[rows]
    frame["__label__"] = target.y[rows]
    return frame


def _sample(rows: IntArray) -> IntArray:
    """Up to :data:`EXAMPLE_ROWS` of ``rows``, drawn uniformly (seeded), in file order."""
    if len(rows) <= EXAMPLE_ROWS:
        return np.sort(rows)
    return np.sort(np.random.default_rng(0).choice(rows, EXAMPLE_ROWS, replace=False))


def fit_table(
    frame: pd.DataFrame,
    spec: FitSpec,
    *,
    reporter: Reporter | None = None,
    ood_examples: pd.DataFrame | None = None,
    started: float | None = None,
    runner: TaskRunner | None = None,
    finish_cpu: float | None = None,
    ood_source: str | None = None,
    source: str | None = None,
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
    finish_cpu
        CPU seconds saving the bundle and its report takes on this machine, as measured by
        the caller (``prudent.fit`` does, whether or not it is saved): the budget keeps
        them, with each fitted family's share; ``None``: a share of the limit.
    ood_source
        The file ``ood_examples`` were read from, for errors (which then name its rows as
        data rows, from 1); ``None``: a frame, its rows named by their index labels.
    source
        The file ``frame`` was read from, whole: an error names its rows as data rows, from 1
        after the header, as ``prudent predict`` does; ``None``: by their index labels.

    Returns
    -------
    FitResult

    Raises
    ------
    DataError
        The table cannot be used (named column, class or value).
    """
    rep: Reporter = reporter if reporter is not None else QuietReporter()
    with cost_book(_fit_key(frame, spec, ood_examples, runner)) as book:
        budget = Budget(
            spec.time_limit,
            start=started,
            finish_cpu=None if finish_cpu is None else recorded_cost("save", finish_cpu),
            plan=runner is None,  # folds run elsewhere do not show on this process's CPU clock
            wall_guard=spec.wall_guard,
        )
        ood = (ood_examples, ood_source)
        run = _Run(spec, budget, rep, runner)
        result = _fit(frame, spec, run, ood, started, book, source)
        if budget.slowed is None:  # a fit the wall clock cut is not one to repeat
            book.save()
    return result


def _fit(
    frame: pd.DataFrame,
    spec: FitSpec,
    run: _Run,
    ood: tuple[pd.DataFrame | None, str | None],
    started: float | None,
    book: CostBook,
    source: str | None = None,
) -> FitResult:
    """:func:`fit_table`'s stages, with its cost ``book`` current; ``ood`` holds the known
    OOD examples and the file they were read from, ``source`` the table's file."""
    budget, rep = run.budget, run.reporter
    started = time.monotonic() if started is None else started
    table = _read(frame, run, source)
    X_ood = ood_inputs(ood[0], table.schema, ood[1])
    splits, classes = table.splits, len(table.target.classes)
    budget.charge(trust_rows_seconds(len(splits.train), len(splits.test), classes))
    rules_for(spec, table.schema, table.target.classes)  # a bad rule stops the fit here
    families = _families(table.schema, spec)
    table, rows, runs, issues = _audited_baselines(table, families, run)
    skipped = run.families([s for s in families if not s.baseline], rows, table.splits, runs)
    if not runs:
        raise BudgetError("No model could be fitted within the time limit; raise --time-limit.")
    board, comparisons, base = _compared(runs, rows, run)
    trust = _trusted(table, rows, runs, comparisons, base, X_ood, run)
    if budget.wall_notice() is not None:
        rep.notice(str(budget.wall_notice()))
    if book.reused:
        rep.notice(
            f"The time plan read {book.reused} CPU costs that an earlier fit of the same data "
            "and options recorded on this machine, so that it decides alike (set "
            f"{CACHE_ENV}=off to measure afresh)."
        )
    return FitResult(
        spec=spec,
        schema=table.schema,
        classes=table.target.classes,
        splits=table.splits,
        y=table.target.y,
        runs=runs,
        skipped=skipped,
        leaderboard=board,
        best_baseline=base,
        label_issues=issues.listed,
        n_suspect=issues.flagged,
        trust=trust,
        model=trust.model,
        test_frame=_evidence(table.X, table.target, table.splits.test[:EXAMPLE_ROWS]),
        train_frame=_evidence(table.X, table.target, _sample(table.splits.train)),
        data_summary=_summary(frame, table.target, table.schema),
        notices=list(getattr(rep, "notices", [])),
        seconds=time.monotonic() - started,
    )


@dataclass(frozen=True)
class _Table:
    """The table as a fit reads it: schema, labels, validated inputs and the splits."""

    schema: Schema
    target: Target
    X: pd.DataFrame
    """Every labelled row's validated inputs (index with ``splits.train`` / ``splits.test``)."""
    splits: Splits


def _read(frame: pd.DataFrame, run: _Run, source: str | None = None) -> _Table:
    """Infer the schema, prepare the target, validate the inputs and split the rows."""
    spec, rep = run.spec, run.reporter
    decimal = frame.attrs.get(DECIMAL_ATTR, ".")  # a CSV file's decimal commas
    for attr in (REPEATED_HEADER_ATTR, SHORT_ROWS_ATTR):
        if frame.attrs.get(attr):
            rep.notice(frame.attrs[attr])
    frame = plain_table(frame)
    _check_group(frame, spec.group)
    schema = infer_schema(
        frame if spec.group is None else frame.drop(columns=[spec.group]),
        spec.target,
        text=spec.text,
        categorical=spec.categorical,
        numeric=spec.numeric,
        drop=spec.drop,
        decimal=decimal,
    )
    for n in schema.notices:
        rep.notice(n)
    target = prepare_target(
        frame,
        spec.target,
        min_per_class=MIN_CLASS_ROWS,
        min_median=MIN_MEDIAN_CLASS_ROWS,
        drop_rare=spec.drop_rare_classes,
    )
    spec.check_classes(target.classes.tolist())  # a cost matrix of another size: before any model
    if target.n_dropped:
        rep.notice(dropped_notice(target, spec.target))
    rare = rare_classes_notice(target, spec.target, MIN_CLASS_ROWS)
    if rare:
        rep.notice(rare)
    kept_words = label_words_notice(target, spec.target)
    if kept_words:
        rep.notice(kept_words)
    alike = look_alike_classes(target.classes)
    if alike:
        pairs = "; ".join(" and ".join(repr(c) for c in group) for group in alike[:3])
        rep.notice(
            f"Classes of target '{spec.target}' that differ only in case or spaces are kept apart: "
            f"{pairs}; if they are one class, write them alike in the file."
        )
    X_all = validated(target.frame, schema, source)
    groups = None if spec.group is None else target.frame[spec.group]
    splits = make_splits(
        target.y,
        test_size=spec.test_size,
        n_folds=spec.n_folds,
        seed=spec.seed,
        groups=groups,
        group=spec.group or "group",
        # folds run elsewhere (a cluster) are not this process's time to plan
        max_train=training_rows(spec.time_limit) if run.runner is None else None,
    )
    for n in splits.notes:
        rep.notice(n)
    return _Table(schema, target, X_all, splits)


def _check_group(frame: pd.DataFrame, group: str | None) -> None:
    """Refuse a ``--group`` column the table does not have."""
    if group is not None and group not in frame.columns:
        raise SchemaError(
            f"Column ['{group}'] given as an option (--group) does not exist; the columns are "
            f"{list(frame.columns)}.",
            field=group,
        )


def _families(schema: Schema, spec: FitSpec) -> list[CandidateSpec]:
    """The families that apply to the schema: the baselines, and the requested others (the
    names were checked when ``spec`` was built: a family that does not apply is no typo)."""
    specs = candidate_specs(schema)
    return [s for s in specs if s.baseline or spec.candidates is None or s.name in spec.candidates]


def _training(table: _Table, seed: int) -> _Rows:
    X = table.X.iloc[table.splits.train].reset_index(drop=True)
    y = table.target.y[table.splits.train]
    return _Rows(X, y, _candidate_ctx(table.schema, y, len(table.target.classes), seed))


def _audited_baselines(
    table: _Table, families: list[CandidateSpec], run: _Run
) -> tuple[_Table, _Rows, dict[str, CandidateRun], LabelIssues]:
    """Check for leaks, cross-validate the baselines and audit the labels with the logistic
    one; with ``drop_suspect_labels``, fit no model on any flagged row (listed or not), which
    the folds still validate, and cross-validate the baselines again."""
    spec, rep = run.spec, run.reporter
    baselines = [s for s in families if s.baseline]
    rows = _training(table, spec.seed)
    for leak in single_column_leaks(rows.X, rows.y, _tabular(table.schema), seed=spec.seed):
        rep.notice(leak.notice(spec.target))
    runs: dict[str, CandidateRun] = {}
    run.families(baselines, rows, table.splits, runs)
    # as an unweighted fit's: a class-weighted baseline overstates the small classes
    P = unweighted(runs["logistic"].oof_proba, rows.y, rows.ctx.balanced)
    issues = audit_labels(table.target, table.splits, P, table.X)
    wrong = float(np.mean(P.argmax(axis=1) != rows.y))
    rep.notice(audit_notice(issues, len(rows.y), wrong))
    if not (spec.drop_suspect_labels and issues.flagged):
        return table, rows, runs, issues
    positions = np.searchsorted(table.target.original_rows, issues.rows)
    splits = fitted_without(table.splits, table.target.y, positions)
    rep.notice(splits.notes[-1])
    table = replace(table, splits=splits)
    rows, runs = _training(table, spec.seed), {}
    run.families(baselines, rows, table.splits, runs)
    return table, rows, runs, issues


def _compared(
    runs: dict[str, CandidateRun], rows: _Rows, run: _Run
) -> tuple[list[dict[str, Any]], dict[str, Comparison], str]:
    """The leaderboard, each family's test against the best baseline (its verdict noticed)."""
    board, comparisons, base = leaderboard(runs, rows.y, seed=run.spec.seed, X=rows.X)
    for row in board:
        if "vs_baseline" in row:
            run.reporter.notice(row["vs_baseline"]["message"])
    return board, comparisons, base


def _trusted(
    table: _Table,
    rows: _Rows,
    runs: dict[str, CandidateRun],
    comparisons: dict[str, Comparison],
    base: str,
    X_ood: pd.DataFrame | None,
    run: _Run,
) -> TrustResult:
    """The trust stage on the training rows, then the locked test, read once; ``X_ood`` holds
    the known OOD examples' validated inputs."""
    return build_trust(
        runs=runs,
        comparisons=comparisons,
        best_baseline=base,
        spec=run.spec,
        classes=table.target.classes,
        X_train=rows.X,
        y_train=rows.y,
        X_test=table.X.iloc[table.splits.test].reset_index(drop=True),
        y_test=table.target.y[table.splits.test],
        X_ood=X_ood,
        schema=table.schema,
        budget=run.budget,
        reporter=run.reporter,
        folds=table.splits.fold_ids,
        groups=None if table.splits.groups is None else table.splits.groups[table.splits.train],
        groups_test=None if table.splits.groups is None else table.splits.groups[table.splits.test],
    )
