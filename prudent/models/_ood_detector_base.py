"""The contract every OOD detector shares: ``fit(X)``, ``score_samples(X)``, ``unusualness(X)``.

:class:`_Detector` validates the input (:func:`_validated`: floats, sparse rows kept only by
detectors that use them) and gives ``score_samples`` scikit-learn's sign, higher = more
normal, as minus ``unusualness``. :func:`reference_rows` draws the rows a k-NN reference
keeps. The detectors themselves are in :mod:`prudent.models._ood_detectors` and
:mod:`prudent.models._ood_proba_detectors`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from prudent._typing import FloatArray, IntArray

__all__ = ["reference_rows"]


def _validated(est: _Detector, X: Any, *, reset: bool) -> Any:
    """``X`` checked as floats; sparse rows stay sparse only for detectors that use them.

    A one-hot feature map gives sparse rows when the table has many categories; detectors
    that need dense input (Mahalanobis, the isolation forest) get them densified (their
    feature spaces are narrow, so this is cheap).
    """
    out = validate_data(est, X, dtype=np.float64, reset=reset, accept_sparse=("csr",))
    return out if est._keeps_sparse or not issparse(out) else out.toarray()


class _Detector(BaseEstimator):  # type: ignore[misc]
    """Shared contract: ``fit(X, y=None)`` learns; ``score_samples(X)``: higher = more normal
    (scikit-learn's sign), ``unusualness(X)``: its negation, higher = more unusual."""

    _keeps_sparse = False

    def __sklearn_tags__(self) -> Any:
        """Declare that sparse input is accepted."""
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def fit(self, X: Any, y: Any = None) -> _Detector:
        """Learn the in-distribution reference.

        Parameters
        ----------
        X
            In-distribution rows: features ``Z`` or probabilities ``P``.
        y
            Class labels (used by :class:`MahalanobisDistance` only).

        Returns
        -------
        object
            ``self``.
        """
        self._fit(_validated(self, X, reset=True), y)
        return self

    def score_samples(self, X: Any) -> FloatArray:
        """Normality of each row of ``X`` (scikit-learn's sign): minus :meth:`unusualness`.

        Parameters
        ----------
        X
            Rows to score, of the kind the detector was fitted on.

        Returns
        -------
        numpy.ndarray
            One score per row: higher = more normal.
        """
        return -self.unusualness(X)

    def unusualness(self, X: Any) -> FloatArray:
        """Unusualness of each row of ``X``: minus :meth:`score_samples`.

        Parameters
        ----------
        X
            Rows to score, of the kind the detector was fitted on.

        Returns
        -------
        numpy.ndarray
            One score per row: higher = more unusual.
        """
        check_is_fitted(self, "n_features_in_")
        return self._score(_validated(self, X, reset=False))

    def _fit(self, X: FloatArray, y: Any) -> None:
        """Learn from validated ``X``."""

    def _score(self, X: FloatArray) -> FloatArray:  # pragma: no cover - overridden
        raise NotImplementedError


def reference_rows(n: int, max_rows: int | None, random_state: int | None) -> IntArray:
    """The rows a k-NN reference keeps: all ``n``, or ``max_rows`` (at least 2) drawn at
    random, in order.

    Examples
    --------
    >>> reference_rows(5, None, 0).tolist()
    [0, 1, 2, 3, 4]
    >>> len(reference_rows(100, 10, 0))
    10
    """
    if max_rows is None or n <= max(max_rows, 2):
        return np.arange(n)
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n, max(max_rows, 2), replace=False))
