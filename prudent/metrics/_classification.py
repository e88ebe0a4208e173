"""Classification scores from class indices and probability matrices, and their registry.

Every score takes ``y`` (class indices ``0 .. k-1``, shape ``(n,)``) and ``proba`` (shape
``(n, k)``, rows summing to 1; binary problems have two columns). The predicted class is
``proba.argmax(axis=1)``; ties go to the lowest class index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.metrics import f1_score

from prudent.metrics._calibration_test import ece_from_confidence
from prudent.metrics._validation import check_labels_proba, top_label

__all__ = [
    "SCORES",
    "Score",
    "accuracy",
    "balanced_accuracy",
    "brier_score",
    "expected_calibration_error",
    "log_loss",
    "macro_f1",
]

LOG_LOSS_EPS = 1e-15
"""Probabilities are clipped to ``[LOG_LOSS_EPS, 1]`` before taking logs."""


def accuracy(y: npt.ArrayLike, proba: npt.ArrayLike) -> float:
    """Return the share of rows whose most probable class is the given one.

    Parameters
    ----------
    y
        Class indices, shape ``(n,)``.
    proba
        Class probabilities, shape ``(n, k)``.

    Returns
    -------
    float
        Accuracy in ``[0, 1]``.

    Raises
    ------
    DataError
        When ``y`` and ``proba`` do not describe the same rows and classes.

    Examples
    --------
    >>> accuracy([0, 1, 1], [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    0.6666666666666666
    """
    labels, p = check_labels_proba(y, proba)
    return float(np.mean(p.argmax(axis=1) == labels))


def balanced_accuracy(y: npt.ArrayLike, proba: npt.ArrayLike) -> float:
    """Return the mean of per-class recall over the classes present in ``y``.

    Parameters
    ----------
    y
        Class indices, shape ``(n,)``.
    proba
        Class probabilities, shape ``(n, k)``.

    Returns
    -------
    float
        Balanced accuracy in ``[0, 1]``; equals scikit-learn's ``balanced_accuracy_score``.

    Raises
    ------
    DataError
        When ``y`` and ``proba`` do not describe the same rows and classes.

    Examples
    --------
    >>> balanced_accuracy([0, 0, 0, 1], [[0.9, 0.1]] * 4)
    0.5
    """
    labels, p = check_labels_proba(y, proba)
    k = p.shape[1]
    support = np.bincount(labels, minlength=k)
    hits = np.bincount(labels, weights=p.argmax(axis=1) == labels, minlength=k)
    present = support > 0
    return float(np.mean(hits[present] / support[present]))


def macro_f1(y: npt.ArrayLike, proba: npt.ArrayLike) -> float:
    """Return the unweighted mean F1 over the classes present in ``y`` or in the predictions.

    A class that is predicted but absent from ``y`` (or present but never predicted)
    scores F1 = 0, as scikit-learn does with ``zero_division=0``.

    Parameters
    ----------
    y
        Class indices, shape ``(n,)``.
    proba
        Class probabilities, shape ``(n, k)``.

    Returns
    -------
    float
        Macro F1 in ``[0, 1]``.

    Raises
    ------
    DataError
        When ``y`` and ``proba`` do not describe the same rows and classes.

    Examples
    --------
    >>> macro_f1([0, 0, 1, 1], [[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.2, 0.8]])
    0.7333333333333334
    """
    labels, p = check_labels_proba(y, proba)
    return float(f1_score(labels, p.argmax(axis=1), average="macro", zero_division=0))


def log_loss(y: npt.ArrayLike, proba: npt.ArrayLike) -> float:
    """Return the mean negative log-probability of the given class.

    Probabilities are clipped to ``[1e-15, 1]`` so that a confident mistake costs about
    34.5 nats instead of infinity. Classes absent from ``y`` are fine: ``proba``'s columns
    define the classes (scikit-learn's ``log_loss`` with ``labels=range(k)``).

    Parameters
    ----------
    y
        Class indices, shape ``(n,)``.
    proba
        Class probabilities, shape ``(n, k)``.

    Returns
    -------
    float
        Log loss in nats, ``>= 0``; lower is better.

    Raises
    ------
    DataError
        When ``y`` and ``proba`` do not describe the same rows and classes.

    Examples
    --------
    >>> round(log_loss([0, 1], [[0.5, 0.5], [0.5, 0.5]]), 4)
    0.6931
    """
    labels, p = check_labels_proba(y, proba)
    given = p[np.arange(labels.shape[0]), labels]
    return float(-np.mean(np.log(np.clip(given, LOG_LOSS_EPS, 1.0))))


def brier_score(y: npt.ArrayLike, proba: npt.ArrayLike) -> float:
    """Return the Brier score: the mean squared distance between probabilities and one-hot truth.

    With three classes or more it is the mean over rows of ``sum_k (p_k - onehot_k)^2``, in
    ``[0, 2]``. With two classes it is the usual binary Brier score ``mean((p_1 - y)^2)``, in
    ``[0, 1]``, which is exactly half of the sum above (scikit-learn's ``brier_score_loss``
    with ``scale_by_half="auto"``).

    Parameters
    ----------
    y
        Class indices, shape ``(n,)``.
    proba
        Class probabilities, shape ``(n, k)``.

    Returns
    -------
    float
        The Brier score; lower is better.

    Raises
    ------
    DataError
        When ``y`` and ``proba`` do not describe the same rows and classes.

    Examples
    --------
    >>> round(brier_score([0, 1], [[0.8, 0.2], [0.4, 0.6]]), 4)
    0.1
    >>> round(brier_score([0, 1], [[0.8, 0.1, 0.1], [0.4, 0.6, 0.0]]), 4)
    0.19
    """
    labels, p = check_labels_proba(y, proba)
    return float(np.mean(brier_rows(labels, p)))


def brier_rows(
    labels: npt.NDArray[np.int64], p: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Return each row's Brier term, halved for binary problems (inputs already checked).

    Examples
    --------
    >>> import numpy as np
    >>> brier_rows(np.array([0]), np.array([[0.5, 0.5]])).tolist()
    [0.25]
    """
    sq = (p**2).sum(axis=1)
    rows: npt.NDArray[np.float64] = sq - 2.0 * p[np.arange(labels.shape[0]), labels] + 1.0
    return rows / 2.0 if p.shape[1] == 2 else rows


def expected_calibration_error(y: npt.ArrayLike, proba: npt.ArrayLike, n_bins: int = 15) -> float:
    """Return the top-label expected calibration error (equal-width bins, count-weighted).

    Parameters
    ----------
    y
        Class indices, shape ``(n,)``.
    proba
        Class probabilities, shape ``(n, k)``.
    n_bins
        The number of equal-width confidence bins ``((m-1)/M, m/M]``.

    Returns
    -------
    float
        ECE in ``[0, 1]``; lower is better. See :func:`ece_from_confidence`.

    Raises
    ------
    DataError
        When ``y`` and ``proba`` do not describe the same rows and classes.
    ConfigError
        When ``n_bins`` is not a positive integer.

    Examples
    --------
    >>> round(expected_calibration_error([0, 1], [[0.9, 0.1], [0.9, 0.1]]), 3)
    0.4
    """
    labels, p = check_labels_proba(y, proba)
    conf, ok = top_label(labels, p)
    return ece_from_confidence(conf, ok, n_bins=n_bins)


@dataclass(frozen=True)
class Score:
    """A named score and the direction in which it improves.

    Parameters
    ----------
    name
        Short name, used as a column in the leaderboard.
    function
        ``function(y, proba) -> float``.
    higher_is_better
        True for accuracies, False for losses and calibration errors.
    resampling_bias
        A non-negative error that reads higher on a bootstrap resample than on the rows
        themselves (the ECE: rows drawn twice sharpen its bins); its bootstrap interval is
        shifted back by that bias, else it can lie wholly above its own point (0.039 with
        the percentile interval 0.052–0.142 on 113 rows).

    Examples
    --------
    >>> SCORES["log_loss"].higher_is_better
    False
    >>> SCORES["accuracy"].function([0], [[0.6, 0.4]])
    1.0
    """

    name: str
    function: Callable[[npt.ArrayLike, npt.ArrayLike], float]
    higher_is_better: bool
    resampling_bias: bool = False


SCORES: dict[str, Score] = {
    s.name: s
    for s in (
        Score("accuracy", accuracy, True),
        Score("balanced_accuracy", balanced_accuracy, True),
        Score("macro_f1", macro_f1, True),
        Score("log_loss", log_loss, False),
        Score("brier", brier_score, False),
        Score("ece", expected_calibration_error, False, resampling_bias=True),
    )
}
"""The leaderboard's scores, in display order."""
