"""Cross-validation folds that a rare class cannot make impossible.

The linear SVM family calibrates its scores on three stratified folds of its own training
rows (scikit-learn's ``CalibratedClassifierCV``), which refuses to start when a class has
fewer rows than folds. A table may hold a class of three rows (the fewest a fit accepts), and
a fold of the fit, or the pilot's sample, then leaves it two or one: on a never-seen table of
15 tweet sources, 8 of them under 1%, the family was skipped with scikit-learn's "Requesting
3-fold cross-validation but provided less than 3 examples for at least one class", and so was
it on 25 industries whose rarest had 14 rows, in the pilot's sample. :class:`RareClassFolds`
gives as many stratified folds as the rarest class allows, between two and ``n_folds``.

:class:`GroupFolds` keeps each group of rows in one fold, for the fit's second-level choices
under ``--group``. The candidates' out-of-fold rows are split by group
(:mod:`prudent.data._group_splits`); what is fitted on those rows — greedy weights, the
stacking meta-model, the calibration maps, the comparison with the baseline — is scored by
cross-validation over them again, and must keep each group in one fold too. A meta-model
scored on rows of groups it was fitted on learns the groups: on AER's PSID7682 (a person's
rows share their education and most inputs) the stacking meta-model's cross-validated log
loss was 1.32 against 2.30 on the locked test's new people; it shipped, and its conformal
sets covered .74 of the locked test for .90 promised.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

__all__ = ["GroupFolds", "RareClassFolds"]


class RareClassFolds:
    """Stratified folds, as many as ``n_folds`` or the rows of the rarest class, at least two.

    With every class holding ``n_folds`` rows or more, the folds are
    ``StratifiedKFold(n_folds)``'s, the folds scikit-learn makes of ``cv=n_folds`` for a
    classifier. It has no ``n_splits`` attribute on purpose: ``CalibratedClassifierCV`` reads
    that to refuse classes smaller than the folds. A class of a single row (the pilot's
    sample of a rare class) is in one fold's test rows and missing from the other's
    training rows, which the calibration allows (scikit-learn's warning that the class has
    fewer rows than folds is not repeated); with only two other classes that fold's SVM is
    a binary one, whose calibrated probabilities of the two are poor.

    Parameters
    ----------
    n_folds
        The most folds.

    Examples
    --------
    >>> y = np.array([0] * 10 + [1] * 2)
    >>> folds = RareClassFolds(3)
    >>> folds.get_n_splits(None, y), len(list(folds.split(np.zeros((12, 1)), y)))
    (2, 2)
    """

    def __init__(self, n_folds: int = 3) -> None:
        self.n_folds = n_folds

    def _folds(self, y: Any) -> StratifiedKFold:
        least = int(np.unique(np.asarray(y), return_counts=True)[1].min())
        return StratifiedKFold(max(2, min(self.n_folds, least)))

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """The folds :meth:`split` makes of ``y`` (``n_folds`` without ``y``)."""
        return self.n_folds if y is None else int(self._folds(y).get_n_splits())

    def split(
        self, X: Any, y: Any, groups: Any = None
    ) -> Iterator[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]:
        """Training and test positions of each fold."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The least populated class in y")
            folds = list(self._folds(y).split(X, y))
        yield from folds

    def __repr__(self) -> str:
        return f"RareClassFolds(n_folds={self.n_folds})"


class GroupFolds:
    """Stratified folds that keep each group of rows in one fold (the labels stratified as
    far as whole groups allow): ``split(X, y)`` as a scikit-learn splitter, the groups bound.

    Examples
    --------
    >>> y, groups = np.array([0, 1] * 20), np.repeat(np.arange(8), 5)
    >>> folds = list(GroupFolds(4, 0, groups).split(np.zeros((40, 1)), y))
    >>> len(folds), all(not set(groups[a]) & set(groups[b]) for a, b in folds)
    (4, True)
    """

    def __init__(self, n_splits: int, random_state: Any, groups: Any) -> None:
        self.groups = np.asarray(groups)
        self.n_splits = n_splits
        self._folds = StratifiedGroupKFold(n_splits, shuffle=True, random_state=random_state)

    @classmethod
    def at_most(cls, n_splits: int, random_state: Any, groups: Any) -> GroupFolds | None:
        """Folds by group, as many as ``n_splits`` but no more than the groups; ``None``
        without groups, or with one (no split keeps it whole: rows are split instead).

        Examples
        --------
        >>> GroupFolds.at_most(5, 0, np.repeat([0, 1, 2], 4)).n_splits
        3
        >>> GroupFolds.at_most(5, 0, np.zeros(8)) is None, GroupFolds.at_most(5, 0, None)
        (True, None)
        """
        if groups is None:
            return None
        n_groups = int(np.unique(groups).size)
        return cls(min(n_splits, n_groups), random_state, groups) if n_groups >= 2 else None

    def split(
        self, X: Any, y: Any = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]:
        """Training and validation rows of each fold (``groups`` given here are ignored:
        the bound ones are the rows')."""
        yield from self._folds.split(X, y, self.groups)

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """The number of folds."""
        return self.n_splits
