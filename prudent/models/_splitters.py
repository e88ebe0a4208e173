"""Cross-validation folds that a rare class cannot make impossible.

The linear SVM family calibrates its scores on three stratified folds of its own training
rows (scikit-learn's ``CalibratedClassifierCV``), which refuses to start when a class has
fewer rows than folds. A table may hold a class of three rows (the fewest a fit accepts), and
a fold of the fit, or the pilot's sample, then leaves it two or one: on a never-seen table of
15 tweet sources, 8 of them under 1%, the family was skipped with scikit-learn's "Requesting
3-fold cross-validation but provided less than 3 examples for at least one class", and so was
it on 25 industries whose rarest had 14 rows, in the pilot's sample. :class:`RareClassFolds`
gives as many stratified folds as the rarest class allows, between two and ``n_folds``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

__all__ = ["RareClassFolds"]


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
