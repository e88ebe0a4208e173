"""Split-conformal prediction sets on calibrated probabilities: LAC and APS, optionally Mondrian.

:class:`ConformalClassifier` is fitted on held-out probabilities ``P_cal`` and labels
``y_cal`` (rows neither the model nor the calibrator trained on). For a new row it returns the
set of labels whose conformity score is at most the conformal quantile, which covers the true
label with probability at least ``1 - alpha`` when the rows are exchangeable.
"""

from __future__ import annotations

import math
from typing import Any, Self

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator
from sklearn.utils.validation import validate_data

from prudent._compat import check_is_fitted
from prudent._typing import BoolArray, FloatArray, ProbaMatrix
from prudent.errors import ConfigError
from prudent.models._calibration_inputs import _as_proba_matrix, _encode_labels

__all__ = ["ConformalClassifier"]

_METHODS = ("lac", "aps")
_RANK_TOL = 1e-9  # guards ceil() against (n + 1)(1 - alpha) landing a hair above an integer


def conformal_quantile(scores: FloatArray, alpha: float) -> float:
    """Return the split-conformal quantile of the calibration ``scores``.

    It is the ``ceil((n + 1)(1 - alpha))``-th smallest score, that is the empirical quantile
    at level ``ceil((n + 1)(1 - alpha)) / n``; ``inf`` (every label in the set) when that rank
    exceeds ``n``, as it does for no scores at all.

    Parameters
    ----------
    scores
        The conformity scores of the calibration rows' true labels, shape ``(n,)``.
    alpha
        The miscoverage level, in ``(0, 1)``.

    Returns
    -------
    float
        The quantile.

    Examples
    --------
    >>> conformal_quantile(np.arange(1.0, 10.0), alpha=0.2)  # rank ceil(10 * 0.8) = 8
    8.0
    >>> conformal_quantile(np.arange(1.0, 10.0), alpha=0.05)
    inf
    """
    rank = math.ceil((scores.size + 1) * (1.0 - alpha) - _RANK_TOL)
    if rank > scores.size:
        return math.inf
    return float(np.partition(scores, rank - 1)[rank - 1])


def label_scores(P: ProbaMatrix, method: str) -> FloatArray:
    """Return the conformity score of every label of every row (lower means more plausible).

    - ``"lac"``: ``1 - P[i, j]``.
    - ``"aps"``: the probability mass of the labels ranked at or above ``j`` in row ``i``,
      ``j`` included, that is the cumulative sorted mass up to and including ``j``. Labels
      tied with ``j`` count as ranked above it, so tied labels share one score and enter a
      set together. The score is not randomised (no uniform draw on the last label).

    Parameters
    ----------
    P
        Probabilities, shape ``(n, k)``.
    method
        ``"lac"`` or ``"aps"``.

    Returns
    -------
    FloatArray
        Scores, shape ``(n, k)``.

    Examples
    --------
    >>> P = np.array([[0.5, 0.2, 0.3]])
    >>> label_scores(P, "lac").round(2).tolist()
    [[0.5, 0.8, 0.7]]
    >>> label_scores(P, "aps").round(2).tolist()
    [[0.5, 1.0, 0.8]]
    """
    if method == "lac":
        lac: FloatArray = 1.0 - P
        return lac
    order = np.argsort(-P, axis=1, kind="stable")
    sorted_p = np.take_along_axis(P, order, axis=1)
    cumulative = np.cumsum(sorted_p, axis=1)
    n_labels = P.shape[1]
    group_ends = np.ones_like(sorted_p, dtype=bool)
    group_ends[:, :-1] = sorted_p[:, :-1] != sorted_p[:, 1:]
    end_index = np.where(group_ends, np.arange(n_labels), n_labels)
    last_of_group = np.minimum.accumulate(end_index[:, ::-1], axis=1)[:, ::-1]
    aps = np.empty_like(P)
    np.put_along_axis(aps, order, np.take_along_axis(cumulative, last_of_group, axis=1), axis=1)
    return aps


class ConformalClassifier(BaseEstimator):  # type: ignore[misc]
    """Split-conformal prediction sets from held-out probabilities.

    ``fit`` computes the conformity score of each calibration row's true label and keeps the
    ``ceil((n + 1)(1 - alpha))``-th smallest (the finite-sample corrected quantile).
    ``predict_set`` then includes every label whose score is at most that quantile.

    ``X`` is a probability matrix, one column per class, as for ``ProbabilityCalibrator``: a
    row that is not a probability vector is read as scores and goes through a softmax.

    Standard LAC and APS can return an empty set, when even the top label looks less
    plausible than the quantile allows; an empty set is a useful "this row is unlike the
    calibration data" signal and keeps the coverage exact, so ``allow_empty=True`` is the
    default. With ``allow_empty=False`` an empty set receives the top label (coverage can
    only rise).

    Parameters
    ----------
    method
        ``"lac"`` (score ``1 - p_y``, smallest sets on average) or ``"aps"`` (cumulative
        sorted mass up to and including the true label, not randomised; adapts the set size
        to the row's difficulty).
    alpha
        The miscoverage level in ``(0, 1)``: sets cover the true label with probability at
        least ``1 - alpha``.
    mondrian
        When true, one quantile per class from that class's calibration rows, so coverage
        holds for each class, not only on average. A class absent from the calibration rows
        gets an infinite quantile (always in the set).
    allow_empty
        When false, an empty set receives the label of highest probability.

    Attributes
    ----------
    classes_
        The label of each column.
    n_features_in_
        The number of columns (classes) seen in ``fit``.
    quantiles_
        The quantile of each class, shape ``(k,)`` (all equal unless ``mondrian``).
    quantile_
        The single quantile when ``mondrian`` is false, else ``None``.
    class_counts_
        The number of calibration rows of each class.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> P = rng.dirichlet([1.0, 1.0, 1.0], size=500)
    >>> y = np.array([rng.choice(3, p=p) for p in P])
    >>> conformal = ConformalClassifier(alpha=0.1).fit(P[:400], y[:400])
    >>> sets = conformal.predict_set(P[400:])
    >>> sets.shape, sets.dtype
    ((100, 3), dtype('bool'))
    """

    def __init__(
        self,
        method: str = "lac",
        alpha: float = 0.1,
        mondrian: bool = False,
        allow_empty: bool = True,
    ) -> None:
        self.method = method
        self.alpha = alpha
        self.mondrian = mondrian
        self.allow_empty = allow_empty

    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike) -> Self:
        """Compute the conformal quantile(s) from held-out probabilities and labels.

        Parameters
        ----------
        X
            Probabilities, shape ``(n, k)``, of rows the model and calibrator did not see.
        y
            Labels, shape ``(n,)``: the classes of the columns, or indices ``0 .. k-1``.

        Returns
        -------
        ConformalClassifier
            The fitted estimator.

        Raises
        ------
        ConfigError
            When ``method`` or ``alpha`` is invalid.
        TargetError
            When ``y`` holds a single class.
        DataError
            When the labels do not match the columns.
        """
        self._check_params()
        X_valid, y_valid = validate_data(self, X, y, dtype=np.float64)
        self.classes_, y_idx = _encode_labels(y_valid, X_valid.shape[1], type(self).__name__)
        P = _as_proba_matrix(X_valid)
        scores = label_scores(P, self.method)[np.arange(y_idx.size), y_idx]
        self.class_counts_ = np.bincount(y_idx, minlength=P.shape[1])
        if self.mondrian:
            self.quantile_: float | None = None
            self.quantiles_ = np.array(
                [conformal_quantile(scores[y_idx == c], self.alpha) for c in range(P.shape[1])]
            )
        else:
            self.quantile_ = conformal_quantile(scores, self.alpha)
            self.quantiles_ = np.full(P.shape[1], self.quantile_)
        return self

    def predict_set(self, X: npt.ArrayLike) -> BoolArray:
        """Return the prediction sets as a boolean membership matrix.

        Parameters
        ----------
        X
            Probabilities, shape ``(n, k)``, columns as in ``fit``.

        Returns
        -------
        BoolArray
            ``sets[i, j]`` is true when class ``classes_[j]`` is in row ``i``'s set.
        """
        check_is_fitted(self, "quantiles_")
        X_valid = validate_data(self, X, dtype=np.float64, reset=False)
        P = _as_proba_matrix(X_valid)
        sets: BoolArray = label_scores(P, self.method) <= self.quantiles_[None, :]
        if not self.allow_empty:
            empty = ~sets.any(axis=1)
            sets[empty, np.argmax(P[empty], axis=1)] = True
        return sets

    def _check_params(self) -> None:
        if self.method not in _METHODS:
            raise ConfigError(
                f"ConformalClassifier method must be 'lac' or 'aps', but got {self.method!r}; "
                "pick one of those."
            )
        alpha: Any = self.alpha
        if isinstance(alpha, bool) or not isinstance(alpha, float | int) or not 0 < alpha < 1:
            raise ConfigError(
                f"ConformalClassifier alpha must be a number strictly between 0 and 1, but got "
                f"{alpha!r}; pass the miscoverage level, for example alpha=0.1."
            )
