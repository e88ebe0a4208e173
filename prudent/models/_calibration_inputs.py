"""What a calibrator reads: rows of probabilities (or scores), and labels matched to columns.

:func:`_as_proba_matrix` reads each row as probabilities, or as scores to softmax;
:func:`_encode_labels` matches the labels to the columns (the classes, or column indices).
The calibrator and the conformal classifier share them.
"""

from __future__ import annotations

import numpy as np
from scipy.special import softmax
from sklearn.utils.multiclass import check_classification_targets

from prudent._typing import EncodedLabels, FloatArray, Labels, ProbaMatrix
from prudent.errors import DataError, TargetError
from prudent.models._calibration_maps import EPS_IN, clip_normalise

__all__: list[str] = []  # helpers of the calibrator and the conformal classifier

_ROW_SUM_TOL = 1e-4  # a row summing to 1 within this is read as probabilities


def _as_proba_matrix(X: FloatArray) -> ProbaMatrix:
    """Read each row as probabilities, or as scores to softmax; clip to ``[1e-12, 1]``, renormalise.

    A row whose entries lie in ``[0, 1]`` and sum to 1 (within ``1e-4``) passes through; any
    other row (decision scores, logits) goes through a softmax.
    """
    in_range = np.all((X >= 0.0) & (X <= 1.0), axis=1)
    sums_to_one = np.abs(X.sum(axis=1) - 1.0) <= _ROW_SUM_TOL
    P = np.where((in_range & sums_to_one)[:, None], X, softmax(X, axis=1))
    return clip_normalise(P, EPS_IN)


def _encode_labels(y: Labels, n_columns: int, owner: str) -> tuple[Labels, EncodedLabels]:
    """Return ``(classes, y as column indices)``, matching the labels to the columns.

    The columns are the classes in sorted label order (``predict_proba`` order). When ``y``
    holds as many distinct labels as there are columns, they are the classes; otherwise ``y``
    must hold class indices ``0 .. n_columns - 1``, some of which may be absent.
    """
    check_classification_targets(y)
    labels = np.unique(y)
    if labels.size < 2:
        raise TargetError(
            f"{owner} needs at least 2 classes in y to calibrate, but y holds 1 class "
            f"({labels.tolist()}); gather calibration rows from more than one class."
        )
    if labels.size == n_columns:
        classes = labels
    elif _are_indices(labels, n_columns):
        classes = np.arange(n_columns).astype(labels.dtype)
    else:
        raise DataError(
            f"{owner} expects one column of X per class, but X has {n_columns} feature(s) "
            f"and y holds {labels.size} classes that are not column indices 0..{n_columns - 1}; "
            "pass the model's predict_proba output and its labels (or class indices)."
        )
    return classes, np.searchsorted(classes, y).astype(np.int64)


def _are_indices(labels: Labels, n_columns: int) -> bool:
    if not np.issubdtype(labels.dtype, np.number) or labels.dtype == np.bool_:
        return False
    integral = bool(np.all(labels == np.round(labels)))
    return integral and labels.min() >= 0 and labels.max() < n_columns
