"""Selective classification: answer only above a confidence threshold, defer the rest.

Accepting the rows whose confidence is at least ``t`` gives a coverage (the share accepted)
and a risk (the error rate among them). Sweeping ``t`` down through the observed confidences
traces the risk-coverage curve (Geifman & El-Yaniv 2017); the area under it (AURC) is low
when confidence ranks the errors last.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from prudent._typing import FloatArray
from prudent.errors import ConfigError
from prudent.metrics._validation import check_confidence_correct

__all__ = ["aurc", "risk_coverage_curve", "selective_accuracy"]


def risk_coverage_curve(
    confidence: npt.ArrayLike, correct: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return coverage and risk at every distinct confidence threshold, most confident first.

    Rows with equal confidence are accepted or deferred together, so each distinct
    confidence is one step of the curve.

    Parameters
    ----------
    confidence
        The model's confidence in each prediction, in ``[0, 1]``.
    correct
        Whether each prediction is right.

    Returns
    -------
    tuple of ndarray
        ``(coverage, risk, thresholds)``, one entry per distinct confidence, thresholds
        decreasing and coverage increasing to 1: accepting ``confidence >= thresholds[j]``
        covers ``coverage[j]`` of the rows with error rate ``risk[j]``.

    Raises
    ------
    DataError
        When the arrays are empty, of different lengths, or hold invalid values.

    Examples
    --------
    >>> cov, risk, thr = risk_coverage_curve([0.9, 0.8, 0.8, 0.6], [1, 1, 0, 0])
    >>> cov.tolist(), risk.tolist(), thr.tolist()
    ([0.25, 0.75, 1.0], [0.0, 0.3333333333333333, 0.5], [0.9, 0.8, 0.6])
    """
    conf, ok = check_confidence_correct(confidence, correct)
    order = np.argsort(-conf, kind="stable")
    sorted_conf = conf[order]
    errors = np.cumsum(~ok[order])
    ends = np.append(np.flatnonzero(sorted_conf[1:] != sorted_conf[:-1]), conf.shape[0] - 1)
    accepted = ends + 1.0
    return accepted / conf.shape[0], errors[ends] / accepted, sorted_conf[ends]


def aurc(confidence: npt.ArrayLike, correct: npt.ArrayLike) -> float:
    """Return the area under the risk-coverage curve, as a step function of coverage.

    Without ties this is the mean, over k = 1..n, of the error rate among the k most
    confident rows. If confidence carries no information (all equal) it is the error rate;
    the lower, the better confidence ranks errors last.

    Parameters
    ----------
    confidence
        The model's confidence in each prediction, in ``[0, 1]``.
    correct
        Whether each prediction is right.

    Returns
    -------
    float
        AURC in ``[0, 1]``; lower is better.

    Raises
    ------
    DataError
        When the arrays are empty, of different lengths, or hold invalid values.

    Examples
    --------
    >>> aurc([0.9, 0.8, 0.7, 0.6], [1, 1, 0, 0])
    0.20833333333333331
    >>> aurc([0.5, 0.5, 0.5, 0.5], [1, 1, 0, 0])
    0.5
    """
    coverage, risk, _ = risk_coverage_curve(confidence, correct)
    widths = np.diff(coverage, prepend=0.0)
    return float(np.sum(widths * risk))


def selective_accuracy(
    confidence: npt.ArrayLike, correct: npt.ArrayLike, threshold: float
) -> tuple[float, float]:
    """Return accuracy and coverage when only rows with ``confidence >= threshold`` are answered.

    Parameters
    ----------
    confidence
        The model's confidence in each prediction, in ``[0, 1]``.
    correct
        Whether each prediction is right.
    threshold
        The confidence at or above which a prediction is accepted.

    Returns
    -------
    tuple of float
        ``(accuracy, coverage)``; accuracy is NaN when no row is accepted (coverage 0).

    Raises
    ------
    DataError
        When the arrays are empty, of different lengths, or hold invalid values.
    ConfigError
        When ``threshold`` is not a finite number.

    Examples
    --------
    >>> selective_accuracy([0.9, 0.8, 0.7, 0.6], [1, 1, 0, 0], threshold=0.75)
    (1.0, 0.5)
    """
    conf, ok = check_confidence_correct(confidence, correct)
    try:
        cut = float(threshold)
    except (TypeError, ValueError):
        cut = math.nan
    if not math.isfinite(cut):
        raise ConfigError(
            f"threshold must be a finite number, but is {threshold!r}; pass e.g. 0.8."
        )
    accepted = conf >= cut
    coverage = float(np.mean(accepted))
    hits = ok[accepted]
    return (float(np.mean(hits)) if hits.size else math.nan), coverage
