"""Splits that keep each group of rows on one side (``--group``): the locked test and every
fold's validation part hold groups its models never saw.

Rows of one group (a person measured every year, a firm, a patient's visits) resemble each
other more than rows of different groups. Split row by row, a group falls on both sides, and
the held-out figures measure the model on groups it saw: a panel of 595 people over 7 years
(AER's PSID7682) promised calibration that its locked test confirmed (p = .38) and that new
rows of those people broke (confidence .79, accuracy .85, p = .000). Split by group, every
held-out figure — the out-of-fold predictions the ensemble, the calibrator, the conformal sets
and the thresholds are set on, and the locked test — is measured on groups new to the model,
as rows of new groups will come.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from prudent._typing import EncodedLabels, IntArray
from prudent.errors import TargetError

__all__ = ["MIN_GROUPS", "group_codes", "group_folds", "group_test"]

MIN_GROUPS = 3
"""Fewest groups a split by group needs: one for the locked test, two for the folds."""


def group_codes(values: pd.Series | np.ndarray) -> IntArray:
    """Each row's group as a code from 0; a row with no group value is a group of its own.

    Examples
    --------
    >>> group_codes(pd.Series(["a", "b", "a", None, None])).tolist()
    [0, 1, 0, 2, 3]
    """
    codes, _ = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    codes = np.asarray(codes, dtype=np.int64)
    missing = codes < 0
    codes[missing] = codes.max(initial=-1) + 1 + np.arange(int(missing.sum()))
    return codes


def _too_few(name: str, n: int, where: str) -> TargetError:
    return TargetError(
        f"Column '{name}' (--group) holds {n} group(s){where}; a split by group needs at least "
        f"{MIN_GROUPS}: one for the locked test and two for cross-validation. Fit without "
        "--group, or on a table with more groups."
    )


def group_test(
    y: EncodedLabels, codes: IntArray, *, test_size: float, seed: int, name: str
) -> tuple[IntArray, IntArray]:
    """Training and locked-test rows, each group on one side, the labels stratified as far as
    whole groups allow (``StratifiedGroupKFold``'s first part of about ``test_size`` of the
    rows). A class the training rows would hold fewer than two of gets
    back the test's smallest groups that hold it; a class the test would miss gets the
    smallest training group that holds it, while the training rows keep two of the class.

    Raises
    ------
    TargetError
        Fewer than :data:`MIN_GROUPS` groups.

    Examples
    --------
    >>> y = np.array([0, 1] * 50)
    >>> codes = np.repeat(np.arange(20), 5)
    >>> train, test = group_test(y, codes, test_size=0.2, seed=0, name="id")
    >>> len(test), set(codes[train]) & set(codes[test])
    (20, set())
    """
    n_groups = int(codes.max()) + 1
    if n_groups < MIN_GROUPS:
        raise _too_few(name, n_groups, "")
    parts = max(2, min(round(1 / test_size), n_groups))
    splitter = StratifiedGroupKFold(parts, shuffle=True, random_state=seed)
    # the seeded first part: preferring the part with the most classes picked the one holding
    # the rare classes' groups, a locked test harder than new groups are (PSID7682: accuracy
    # 0.355 against 0.41 out of fold)
    test = next(iter(splitter.split(np.zeros(len(y)), y, codes)))[1]
    in_test = np.zeros(len(y), dtype=bool)
    in_test[test] = True
    sizes = np.bincount(codes)
    for c in np.unique(y):  # training rows first: a class they miss could not be learnt
        while int((~in_test & (y == c)).sum()) < 2 and (in_test & (y == c)).any():
            in_test &= codes != _smallest(sizes, codes[in_test & (y == c)])[0]
    for c in np.unique(y):
        if (y[in_test] == c).any():
            continue
        for g in _smallest(sizes, codes[~in_test & (y == c)]):
            moved = codes == g
            if int((~in_test & ~moved & (y == c)).sum()) >= 2:
                in_test |= moved
                break
    if np.unique(codes[~in_test]).size < 2:
        raise _too_few(name, np.unique(codes[~in_test]).size, " besides the locked test's")
    return np.flatnonzero(~in_test).astype(np.int64), np.flatnonzero(in_test).astype(np.int64)


def _smallest(sizes: IntArray, held: IntArray) -> IntArray:
    """The groups ``held`` (codes, repeats allowed), fewest rows first (``sizes``: rows per
    group), ties by code."""
    groups = np.unique(held)
    return groups[np.lexsort((groups, sizes[groups]))]


def group_folds(
    train: IntArray, y: EncodedLabels, codes: IntArray, k: int, seed: int
) -> tuple[tuple[IntArray, IntArray], ...]:
    """``k`` folds of the training rows (positions into ``train``), each group in one
    validation part, the labels stratified as far as whole groups allow (``k`` at most the
    training rows' groups).

    Examples
    --------
    >>> y, codes = np.array([0, 1] * 50), np.repeat(np.arange(20), 5)
    >>> folds = group_folds(np.arange(100), y, codes, 5, 0)
    >>> len(folds), all(not set(codes[f]) & set(codes[v]) for f, v in folds)
    (5, True)
    """
    splitter = StratifiedGroupKFold(k, shuffle=True, random_state=seed)
    split = splitter.split(np.zeros(len(train)), y[train], codes[train])
    return tuple((fit.astype(np.int64), val.astype(np.int64)) for fit, val in split)
