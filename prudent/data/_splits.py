"""Stratified, seeded splits with a locked test set, and checks that they are disjoint."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

from prudent._typing import EncodedLabels, IntArray
from prudent.data._group_splits import group_codes, group_folds, group_test
from prudent.errors import ConfigError, TargetError

__all__ = [
    "CLASS_FLOOR",
    "DEFAULT_FOLDS",
    "LARGE_TRAIN",
    "Splits",
    "auto_folds",
    "check_disjoint",
    "fitted_without",
    "make_splits",
    "sampled_rows",
]


@dataclass(frozen=True)
class Splits:
    """Row positions of the training part, its cross-validation folds and the locked test set.

    The test rows are touched once, by the final evaluation at the end of fit.
    """

    train: IntArray
    test: IntArray
    folds: tuple[tuple[IntArray, IntArray], ...]
    """(fit, validate) positions *into* ``train`` for each fold."""
    notes: tuple[str, ...] = field(default=())
    fit_only: IntArray | None = None
    """Positions into ``train`` that models are fitted on (each fold's fit part and the
    refit); None: all. A row left out is still validated, scored by a model that never saw
    it, so what is measured on the training rows stays a measure of every one of them."""
    groups: IntArray | None = None
    """Each row's group (a code per row of the table) when the rows were split by group:
    the trust stage parts the training rows by group too. None: split row by row."""

    def fitted(self, X: pd.DataFrame, y: EncodedLabels) -> tuple[pd.DataFrame, EncodedLabels]:
        """The training rows ``X`` and labels ``y`` a model is refitted on (:attr:`fit_only`)."""
        if self.fit_only is None:
            return X, y
        return X.iloc[self.fit_only].reset_index(drop=True), y[self.fit_only]

    @property
    def n_folds(self) -> int:
        """The number of cross-validation folds."""
        return len(self.folds)

    @property
    def fold_ids(self) -> IntArray:
        """Per training row (a position into ``train``), the fold that validates it: the
        one whose model scores it out of fold (-1 for a row no fold validates)."""
        ids = np.full(len(self.train), -1, dtype=np.int64)
        for k, (_, validate) in enumerate(self.folds):
            ids[validate] = k
        return ids


def check_disjoint(**parts: IntArray) -> None:
    """Raise when any two named index sets share a row.

    Parameters
    ----------
    **parts
        Named arrays of row positions.

    Raises
    ------
    ValueError
        Naming the two parts that overlap and how many rows they share.

    Examples
    --------
    >>> import numpy as np
    >>> check_disjoint(train=np.array([0, 1]), test=np.array([2]))
    >>> check_disjoint(train=np.array([0, 1]), test=np.array([1]))
    Traceback (most recent call last):
    ...
    ValueError: Splits 'train' and 'test' share 1 row(s); they must be disjoint.
    """
    names = list(parts)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            shared = np.intersect1d(parts[a], parts[b]).size
            if shared:
                raise ValueError(
                    f"Splits '{a}' and '{b}' share {shared} row(s); they must be disjoint."
                )


def _every_class_tested(
    train: IntArray, test: IntArray, y: EncodedLabels, rng: np.random.Generator
) -> tuple[IntArray, IntArray]:
    """Swap rows so each class has a test row; stratified rounding can leave rare ones out.

    Each swap trades a row of the class most present in the test set, so its size is kept.
    """
    for c in np.unique(y):
        if (y[test] == c).any():
            continue
        pick = rng.choice(train[y[train] == c])
        back = rng.choice(test[y[test] == np.bincount(y[test]).argmax()])
        train = np.append(train[train != pick], back)
        test = np.append(test[test != back], pick)
    return np.sort(train), np.sort(test)


DEFAULT_FOLDS = 5
"""Cross-validation folds of a fit that does not ask for a number (:func:`auto_folds`)."""
LARGE_TRAIN = 20_000
"""From this many training rows, a fit that does not ask for a number of folds uses
:data:`LARGE_FOLDS`."""
LARGE_FOLDS = 3


def auto_folds(n_train: int) -> int:
    """The folds of a fit that does not ask for a number: :data:`DEFAULT_FOLDS`, and
    :data:`LARGE_FOLDS` from :data:`LARGE_TRAIN` training rows.

    Each of 3 folds then validates at least 6,667 rows, plenty to rank the families and fit
    the calibration, and every family is fitted 4.3 times (3 folds and the refit, counted
    1.3) instead of 6.3: on 30,000 training rows of a 3-class table at 60 s, LightGBM
    projected 33 s with 5 folds, 26 s were left and it was skipped (balanced accuracy .957
    on the locked test, an extra-trees ensemble); with 3 it ran and reached 1.000.

    Examples
    --------
    >>> auto_folds(19_999), auto_folds(20_000)
    (5, 3)
    """
    return LARGE_FOLDS if n_train >= LARGE_TRAIN else DEFAULT_FOLDS


def _large_note(n_train: int, k: int) -> str:
    return (
        f"Using {k} cross-validation folds instead of {DEFAULT_FOLDS}: {n_train:,} training rows "
        f"validate about {n_train // k:,} in each, and every model family is fitted fewer times "
        "(ask for a number with --folds, n_folds in Python)."
    )


CLASS_FLOOR = 100
"""Rows of each class a sample of the training rows keeps (all of a smaller class)."""


def sampled_rows(
    rows: IntArray, y: EncodedLabels, max_rows: int, seed: int, floor: int = CLASS_FLOOR
) -> IntArray:
    """About ``max_rows`` of ``rows``, sorted: each class in proportion, but at least
    ``floor`` rows of it (all of a smaller class), drawn at random with ``seed``.

    Examples
    --------
    >>> y = np.r_[np.zeros(9_000, dtype=np.int64), np.ones(150, dtype=np.int64)]
    >>> kept = sampled_rows(np.arange(9_150), y, 1_000, 0)
    >>> len(kept), int(y[kept].sum())  # the 2% class keeps 100 rows, not 16
    (1084, 100)
    """
    if len(rows) <= max_rows:
        return rows
    rng = np.random.default_rng(seed)
    labels = y[rows]
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * max_rows / len(rows)
    quota = np.floor(exact).astype(np.int64)
    largest = np.argsort(quota - exact, kind="stable")[: max_rows - int(quota.sum())]
    quota[largest] += 1  # largest remainders: max_rows in all before the floor
    quota = np.minimum(counts, np.maximum(quota, floor))
    picked = [
        rng.choice(rows[labels == c], n, replace=False) for c, n in zip(classes, quota, strict=True)
    ]
    return np.sort(np.concatenate(picked))


def _sampled_note(kept: int, every: int, n_train: int, n_test: int) -> str | None:
    """What a sample of the table's rows (:func:`sampled_rows`) says; None when every row
    is kept."""
    if kept >= every:
        return None
    return (
        f"The fit reads a stratified sample of {kept:,} of the table's {every:,} rows "
        f"({n_train:,} to train, {n_test:,} locked for the test): as many as the time limit "
        "lets every model family be cross-validated on; a longer --time-limit (time_limit in "
        "Python) reads more."
    )


MIN_FOLD_ROWS = 20
"""Fewer folds are used when a validation fold would hold fewer training rows than this."""
MEANINGFUL_TEST_ROWS = 100
"""Below this many locked-test rows, the promises measured on them are not meaningful: two
standard errors of an accuracy near 0.9 exceed 0.06 (0.24 on 6 rows)."""


def _small_data_notes(n_train: int, n_test: int) -> list[str]:
    if n_test >= MEANINGFUL_TEST_ROWS:
        return []
    return [
        f"Caution: only {n_test} rows are locked for the final test ({n_train} train): the "
        f"promises measured on them are not meaningful below {MEANINGFUL_TEST_ROWS} test rows; "
        "label more rows before relying on them."
    ]


def make_splits(
    y: EncodedLabels,
    *,
    test_size: float = 0.2,
    n_folds: int | None = 5,
    seed: int = 0,
    groups: pd.Series | np.ndarray | None = None,
    group: str = "group",
    max_train: int | None = None,
) -> Splits:
    """Split rows into a stratified locked test set and stratified CV folds on the rest.

    Parameters
    ----------
    y
        Encoded labels of every row.
    test_size
        Share of rows locked away for the final test, in (0, 0.5].
    n_folds
        Folds wanted; fewer are used (with a note) when the rarest class is too small.
        ``None``: :func:`auto_folds` of the training rows.
    seed
        Seed for every random choice.
    groups
        Each row's group (``--group``; a row without a value is a group of its own): the
        locked test and every fold's validation part then hold whole groups, new to the
        models they measure (:mod:`prudent.data._group_splits`).
    group
        The grouping column's name, for the notes and errors.
    max_train
        The most training rows the folds hold (rows split row by row only): past it, the
        split is made of a stratified sample of the rows (:func:`sampled_rows`) that gives
        about that many, with a note; the other rows are neither trained nor tested on.
        ``None``: every row.

    Returns
    -------
    Splits
        Disjoint train/test positions and the folds, with notes on any reduction.

    Raises
    ------
    ConfigError
        ``test_size`` is out of range.
    TargetError
        A class has too few rows for a test set and two folds.

    Examples
    --------
    >>> import numpy as np
    >>> s = make_splits(np.array([0, 1] * 100), test_size=0.2, n_folds=5, seed=0)
    >>> len(s.train), len(s.test), s.n_folds
    (160, 40, 5)
    """
    if not 0.0 < test_size <= 0.5:
        raise ConfigError(f"test_size must be in (0, 0.5], got {test_size}.")
    counts = np.bincount(y)
    if counts[counts > 0].min() < 3:
        raise TargetError(
            "Every class needs at least 3 rows: one for the locked test set and "
            "two for cross-validation."
        )
    codes = None if groups is None else group_codes(groups)
    sampled = None
    if codes is None:
        rows = np.arange(len(y))
        if max_train is not None:
            rows = sampled_rows(rows, y, math.ceil(max_train / (1 - test_size)), seed)
        n_test = max(round(test_size * len(rows)), int((counts > 0).sum()))
        train, test = train_test_split(rows, test_size=n_test, stratify=y[rows], random_state=seed)
        train, test = _every_class_tested(train, test, y, np.random.default_rng(seed))
        sampled = _sampled_note(len(rows), len(y), len(train), len(test))
    else:
        train, test = group_test(y, codes, test_size=test_size, seed=seed, name=group)
    check_disjoint(train=train, test=test)
    rarest = int(np.bincount(y[train])[counts > 0].min())
    notes = _small_data_notes(len(train), len(test))
    held = len(train) if codes is None else int(np.unique(codes[train]).size)
    auto = n_folds is None
    n_folds = auto_folds(len(train)) if n_folds is None else n_folds
    k = min(n_folds, rarest, max(2, len(train) // MIN_FOLD_ROWS), held)
    using = [_large_note(len(train), k)] if auto and k == n_folds < DEFAULT_FOLDS else []
    if k < n_folds:
        why = (
            f"the rarest class has only {rarest} training rows"
            if k == rarest
            else f"{len(train)} training rows leave fewer than {MIN_FOLD_ROWS} per fold"
            if k == max(2, len(train) // MIN_FOLD_ROWS)
            else f"the training rows hold only {held} groups of '{group}'"
        )
        using = [f"Using {k} cross-validation folds instead of {n_folds}: {why}."]
    if k < 2:
        raise TargetError(
            "The rarest class has a single training row; at least two are needed "
            "for cross-validation."
        )
    if codes is None:
        folds = _stratified_folds(train, y, k, seed)
    else:
        folds = group_folds(train, y, codes, k, seed)
        notes = [*_group_notes(y, codes, train, test, folds, group), *notes]
    return Splits(
        train=train.astype(np.int64),
        test=test.astype(np.int64),
        folds=folds,
        notes=(*using, *notes) if sampled is None else (sampled, *using, *notes),
        groups=codes,
    )


def _group_notes(
    y: EncodedLabels,
    codes: IntArray,
    train: IntArray,
    test: IntArray,
    folds: tuple[tuple[IntArray, IntArray], ...],
    group: str,
) -> list[str]:
    """What a split by group did; a class the locked test lacks; a fold fitted on one class
    refused.

    Raises
    ------
    TargetError
        A fold's models would see a single class.
    """
    for fit, _ in folds:
        if np.unique(y[train[fit]]).size < 2:
            raise TargetError(
                f"Split by the groups of '{group}' (--group), a cross-validation fold would fit "
                "its models on a single class: too few groups hold each class. Fit without "
                "--group, or on a table with more groups."
            )
    in_test = np.unique(codes[test]).size
    notes = [
        f"Split by the groups of '{group}' (--group): {int(codes.max()) + 1:,} groups, "
        f"{in_test:,} of them in the locked test ({len(test) / len(y):.0%} of the rows); every "
        "held-out figure is measured on groups its models never saw."
    ]
    missing = np.setdiff1d(np.unique(y), y[test])
    if missing.size:
        notes.append(
            f"{missing.size} class(es) have no row in the locked test: too few groups of "
            f"'{group}' hold them to spare one; the test's figures say nothing of them."
        )
    return notes


def _stratified_folds(
    train: IntArray, y: EncodedLabels, k: int, seed: int
) -> tuple[tuple[IntArray, IntArray], ...]:
    """``k`` stratified, shuffled folds of the training rows, as positions into ``train``."""
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    split = skf.split(np.zeros(len(train)), y[train])
    return tuple((fit.astype(np.int64), val.astype(np.int64)) for fit, val in split)


def fitted_without(splits: Splits, y: EncodedLabels, drop: IntArray) -> Splits:
    """Fit no model on the training rows ``drop`` (positions into the whole table), yet
    validate them as before.

    The folds and the locked test set are unchanged; each fold's fit part and the refit
    leave the rows out (:attr:`Splits.fit_only`), while their validation parts still score
    them, each with a model that never saw it. Calibration, conformal sets and thresholds
    set on the out-of-fold rows then see the rows as new data will come, suspect labels
    among them: dropped from the folds altogether, they left the easy rows alone, and a
    fit promised 0.924 accepted accuracy that its locked test measured at 0.808.

    Parameters
    ----------
    splits
        The original splits.
    y
        Encoded labels of every row of the table.
    drop
        Row positions (into the table) no model is fitted on.

    Returns
    -------
    Splits
        With a note saying how many rows no model is fitted on.

    Raises
    ------
    TargetError
        When a class would keep fewer than two rows to fit on.
    """
    left_out = np.isin(splits.train, drop)
    keep = np.flatnonzero(~left_out).astype(np.int64)
    counts = np.bincount(y[splits.train[keep]], minlength=int(y.max()) + 1)
    present = np.bincount(y[splits.train], minlength=counts.size) > 0
    if (counts[present] < 2).any():
        raise TargetError(
            "Leaving out the suspect labels leaves a class with fewer than two training "
            "rows to fit on; fit without --drop-suspect-labels."
        )
    folds = tuple((fit[~left_out[fit]], validate) for fit, validate in splits.folds)
    note = (
        f"Fitted without {int(left_out.sum())} training row(s) with suspect labels; they "
        "are still validated, so calibration, thresholds and promises are set on every "
        "training row."
    )
    return Splits(
        splits.train,
        splits.test,
        folds,
        (*splits.notes, note),
        fit_only=keep,
        groups=splits.groups,
    )
