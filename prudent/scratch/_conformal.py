"""Split-conformal prediction sets from scratch, one row at a time.

1. On calibration rows the model did not train on, score how *un*-plausible the true label
   looks: LAC uses ``1 - p[y]``; APS uses the probability mass of the labels ranked at or
   above ``y`` (the cumulative sorted mass up to and including ``y``).
2. Take the ``ceil((n + 1)(1 - alpha))``-th smallest of those ``n`` scores: ``q``.
3. For a new row, the set holds every label whose score is at most ``q``.

When the rows are exchangeable, the new row's true-label score is equally likely to fall at
any rank among the ``n + 1`` scores, so it is at most ``q`` with probability at least
``1 - alpha``: the set covers the true label that often.

The production version is ``prudent.models.ConformalClassifier``.
"""

from __future__ import annotations

import math

import numpy as np

from prudent._typing import BoolArray, EncodedLabels, FloatArray, ProbaMatrix

__all__ = ["conformal_quantile", "label_score", "prediction_sets"]


def label_score(p: FloatArray, label: int, method: str) -> float:
    """Return the conformity score of ``label`` in one row of probabilities ``p``.

    Parameters
    ----------
    p
        One row of probabilities, shape ``(k,)``.
    label
        The class index to score.
    method
        ``"lac"`` or ``"aps"``.

    Returns
    -------
    float
        The score; lower means more plausible.

    Examples
    --------
    >>> p = np.array([0.5, 0.2, 0.3])
    >>> label_score(p, 2, "lac"), label_score(p, 2, "aps")
    (0.7, 0.8)
    """
    if method == "lac":
        return float(1.0 - p[label])
    # APS: add up every label at least as probable as this one (ties included)
    return float(sum(q for q in p if q >= p[label]))


def conformal_quantile(scores: list[float], alpha: float) -> float:
    """Return the ``ceil((n + 1)(1 - alpha))``-th smallest score, or ``inf`` past ``n``.

    Parameters
    ----------
    scores
        The calibration rows' true-label scores.
    alpha
        The miscoverage level, in ``(0, 1)``.

    Returns
    -------
    float
        The conformal quantile.

    Examples
    --------
    >>> conformal_quantile([0.3, 0.1, 0.2, 0.4], alpha=0.4)  # rank ceil(5 * 0.6) = 3
    0.3
    """
    rank = math.ceil((len(scores) + 1) * (1 - alpha) - 1e-9)
    return sorted(scores)[rank - 1] if rank <= len(scores) else math.inf


def prediction_sets(
    P_cal: ProbaMatrix, y_cal: EncodedLabels, P: ProbaMatrix, alpha: float, method: str
) -> BoolArray:
    """Calibrate on ``(P_cal, y_cal)`` and return the sets of the rows of ``P``.

    Parameters
    ----------
    P_cal
        Calibration probabilities, shape ``(n, k)``.
    y_cal
        Calibration class indices, shape ``(n,)``.
    P
        Probabilities of the new rows, shape ``(m, k)``.
    alpha
        The miscoverage level.
    method
        ``"lac"`` or ``"aps"``.

    Returns
    -------
    BoolArray
        ``sets[i, j]`` is true when class ``j`` is in row ``i``'s set.

    Examples
    --------
    >>> P_cal = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    >>> prediction_sets(P_cal, np.array([0, 1, 1, 1]), P_cal[:1], 0.4, "lac").tolist()
    [[True, False]]
    """
    scores = [label_score(p, int(label), method) for p, label in zip(P_cal, y_cal, strict=True)]
    q = conformal_quantile(scores, alpha)
    sets = np.zeros(P.shape, dtype=bool)
    for i, p in enumerate(P):
        for j in range(P.shape[1]):
            sets[i, j] = label_score(p, j, method) <= q
    return sets
