"""The common scale of OOD scores: each detector's empirical CDF on validation rows, the
combination of the feature and probability views, and the threshold that flags new rows.

:func:`_reference` and :func:`_ecdf` map a raw score to the share of validation rows less
unusual (growing past 1 beyond the most unusual one); :func:`_combined` averages the views;
:func:`_flag_threshold` sets the threshold among validation scores so that at most ``fpr`` of
new rows are flagged, with probability ``1 - delta``
(:func:`~prudent.models._tail_bounds.tail_rows`).
"""

from __future__ import annotations

import numpy as np

from prudent._typing import FloatArray
from prudent.models._tail_bounds import tail_rows

__all__: list[str] = []  # helpers of :mod:`prudent.models._ood` only

_FEATURE_DETECTORS = ("knn", "mahalanobis", "isolation_forest", "range")
_PROBA_DETECTORS = ("max_prob", "energy")
_DISTANCE_DETECTORS = ("knn", "mahalanobis", "isolation_forest")


def _reference(values: FloatArray) -> tuple[FloatArray, float]:
    """Sorted in-distribution scores and the scale of the tail beyond their maximum."""
    ref = np.sort(values)
    spread = float(ref[-1] - ref[0])
    return ref, spread if spread > 0 else 1.0


def _ecdf(raw: FloatArray, ref: FloatArray, scale: float) -> FloatArray:
    """Share of reference scores below ``raw`` (ties count half), extended linearly past 1.

    Beyond the reference maximum the value keeps growing, ``1 + excess / scale``, so a
    point far out still scores higher than one just past the last validation point.
    """
    below = np.searchsorted(ref, raw, side="left")
    upto = np.searchsorted(ref, raw, side="right")
    out = (below + upto) / (2.0 * len(ref))
    beyond = raw > ref[-1]
    out[beyond] = 1.0 + (raw[beyond] - ref[-1]) / scale
    return np.asarray(out, dtype=np.float64)


def _combined(norm: dict[str, FloatArray]) -> FloatArray:
    """The mean of the feature view and the probability view (each a mean), raised to the
    range score where a row lies beyond the training range."""
    views = [
        np.mean([v for n, v in norm.items() if n in group], axis=0)
        for group in (_DISTANCE_DETECTORS, _PROBA_DETECTORS)
        if any(n in group for n in norm)
    ]
    if not views:
        return np.asarray(norm["range"], dtype=np.float64)
    mean = np.asarray(np.mean(views, axis=0), dtype=np.float64)
    return np.maximum(mean, norm["range"]) if "range" in norm else mean


def _flag_threshold(scores: FloatArray, fpr: float, delta: float | None) -> float:
    """The threshold among validation ``scores`` that flags at most ``fpr`` of new rows,
    with probability ``1 - delta`` (``None``: on average, the conformal quantile).

    Examples
    --------
    >>> s = np.arange(1.0, 401.0)
    >>> _flag_threshold(s, 0.05, None), _flag_threshold(s, 0.05, 0.1)
    (381.0, 386.0)
    >>> _flag_threshold(s[:20], 0.05, 0.1)  # too few rows for the bound: the largest
    20.0

    Tied scores are flagged together or not at all: when the threshold's ties would flag
    more rows than allowed, it moves just above them (a table whose rows all score alike,
    one two-valued category, had every row flagged, and no row left to set a decision on):

    >>> t = _flag_threshold(np.r_[np.zeros(380), np.ones(20)], 0.1, None)  # flags the 20 ones
    >>> 0.0 < t <= 1.0, _flag_threshold(np.ones(50), 0.05, 0.1) > 1.0
    (True, True)
    """
    ordered = np.sort(scores)
    n = len(ordered)
    if delta is None:
        rank = min(int(np.ceil((n + 1) * (1 - fpr))), n)
        beyond = n - rank + 1
    else:
        beyond = max(tail_rows(n, fpr, delta), 1)
    threshold = float(ordered[n - beyond])
    if int((ordered >= threshold).sum()) > beyond:  # ties: flag only the rows above them
        threshold = float(np.nextafter(threshold, np.inf))
    return threshold
