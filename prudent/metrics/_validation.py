"""Input checks shared by the metrics: labels with probabilities, confidences with correctness.

Every public metric validates its inputs here, so that the error messages read the same
everywhere: they name the argument, what was expected, what was received, and the fix.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from prudent._typing import BoolArray, EncodedLabels, FloatArray, ProbaMatrix
from prudent.errors import ConfigError, DataError

__all__ = ["check_confidence_correct", "check_labels_proba", "check_n_bins", "top_label"]

_ROW_SUM_TOL = 1e-4


def check_labels_proba(y: npt.ArrayLike, proba: npt.ArrayLike) -> tuple[EncodedLabels, ProbaMatrix]:
    """Return ``y`` as int64 class indices and ``proba`` as a float64 matrix, or raise.

    Parameters
    ----------
    y
        Class indices ``0 .. k-1``, shape ``(n,)``.
    proba
        Class probabilities, shape ``(n, k)``, rows summing to 1.

    Returns
    -------
    tuple
        ``(y, proba)`` as ``int64`` and ``float64`` arrays.

    Raises
    ------
    DataError
        When the shapes disagree, ``y`` is not integral or out of range, or ``proba``
        holds values that are not probabilities.

    Examples
    --------
    >>> y, p = check_labels_proba([0, 1], [[0.9, 0.1], [0.2, 0.8]])
    >>> y.dtype, p.shape
    (dtype('int64'), (2, 2))
    """
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise DataError(
            f"proba must be a 2-D array of shape (n_samples, n_classes >= 2), but has shape "
            f"{p.shape}; pass predict_proba's output (binary problems have two columns)."
        )
    labels = _as_class_indices(y, p.shape[1])
    if labels.shape[0] != p.shape[0]:
        raise DataError(
            f"y has {labels.shape[0]} rows but proba has {p.shape[0]}; "
            "pass the labels and probabilities of the same rows."
        )
    if not np.all(np.isfinite(p)) or p.min() < 0.0:
        raise DataError("proba holds negative, NaN or infinite values; pass probabilities.")
    worst = float(np.max(np.abs(p.sum(axis=1) - 1.0)))
    if worst > _ROW_SUM_TOL:
        raise DataError(
            f"proba rows must sum to 1, but one is off by {worst:.3g}; "
            "normalise the rows (for example with softmax) before scoring."
        )
    return labels, p


def _as_class_indices(y: npt.ArrayLike, n_classes: int) -> EncodedLabels:
    """Return ``y`` as int64 indices in ``0 .. n_classes-1``, or raise a ``DataError``."""
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.shape[0] == 0:
        raise DataError(
            f"y must be a non-empty 1-D array of class indices, but has shape {arr.shape}; "
            "pass one class index per row."
        )
    if arr.dtype.kind not in "iub" and not (
        arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))
    ):
        raise DataError(
            f"y must hold integer class indices, but has dtype {arr.dtype}; "
            "encode the labels against the classes (for example with LabelEncoder)."
        )
    labels = arr.astype(np.int64)
    bad = labels[(labels < 0) | (labels >= n_classes)]
    if bad.size:
        raise DataError(
            f"y holds class index {int(bad[0])}, but proba has {n_classes} columns "
            f"(indices 0..{n_classes - 1}); encode y against the same classes as proba."
        )
    return labels


def check_confidence_correct(
    confidence: npt.ArrayLike, correct: npt.ArrayLike
) -> tuple[FloatArray, BoolArray]:
    """Return confidences in ``[0, 1]`` and correctness as booleans, or raise.

    Parameters
    ----------
    confidence
        The model's confidence in its own prediction, shape ``(n,)``, values in ``[0, 1]``.
    correct
        Whether each prediction was right, shape ``(n,)``, booleans or 0/1.

    Returns
    -------
    tuple
        ``(confidence, correct)`` as ``float64`` and ``bool`` arrays.

    Raises
    ------
    DataError
        When the arrays are empty, of different lengths, or hold invalid values.

    Examples
    --------
    >>> c, ok = check_confidence_correct([0.9, 0.6], [1, 0])
    >>> ok.tolist()
    [True, False]
    """
    conf = np.asarray(confidence, dtype=np.float64)
    ok = np.asarray(correct)
    if conf.ndim != 1 or conf.shape[0] == 0 or ok.shape != conf.shape:
        raise DataError(
            f"confidence and correct must be non-empty 1-D arrays of the same length, but have "
            f"shapes {conf.shape} and {ok.shape}; pass one value of each per row."
        )
    if not np.all(np.isfinite(conf)) or conf.min() < 0.0 or conf.max() > 1.0:
        raise DataError(
            "confidence must lie in [0, 1], but holds values outside it or NaN; "
            "pass the top-label probability of each row."
        )
    if ok.dtype != np.bool_ and not np.isin(ok, (0, 1)).all():
        raise DataError(
            f"correct must hold booleans or 0/1, but has dtype {ok.dtype} with other values; "
            "pass (prediction == label)."
        )
    return conf, ok.astype(np.bool_)


def check_n_bins(n_bins: int) -> int:
    """Return ``n_bins`` when it is a positive integer, else raise a ``ConfigError``.

    Examples
    --------
    >>> check_n_bins(15)
    15
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ConfigError(
            f"n_bins must be a positive integer, but is {n_bins!r}; pass for example 15."
        )
    return int(n_bins)


def top_label(y: EncodedLabels, proba: ProbaMatrix) -> tuple[FloatArray, BoolArray]:
    """Return each row's top-label confidence and whether the top label is right.

    Ties go to the lowest class index, as with ``numpy.argmax``.

    Examples
    --------
    >>> import numpy as np
    >>> conf, ok = top_label(np.array([0, 0]), np.array([[0.7, 0.3], [0.4, 0.6]]))
    >>> conf.tolist(), ok.tolist()
    ([0.7, 0.6], [True, False])
    """
    pred = proba.argmax(axis=1)
    conf = proba[np.arange(proba.shape[0]), pred]
    return conf, pred == y
