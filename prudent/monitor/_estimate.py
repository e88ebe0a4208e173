"""Accuracy before labels arrive: what calibrated confidences expect, and whether to believe it.

If the confidences are calibrated, each accepted prediction is right with probability equal to
its confidence, so a window's accuracy is a sum of independent Bernoulli(c_i): its expectation
is the mean confidence and its spread ``sqrt(sum c_i (1 - c_i)) / n`` (the interval is where the
realised accuracy should fall). Once labels arrive, the same is computed over the labelled
accepted rows and set beside their realised accuracy; the gap (realised minus expected) has the
same spread, so an interval that excludes 0 means the calibration no longer holds.

Calibration was measured on data like the reference. The estimate is marked unreliable when the
window is visibly unlike it: an OOD rate significantly (one-sided two-proportion test,
p < 0.01) and materially (by 5 points or more) above the reference's, or drifted confidences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special

from prudent.monitor._drift import DriftReport
from prudent.monitor._figures import Z95, Estimate, Figure, NotEnoughData

__all__ = ["AccuracyEstimate", "expected_figure", "gap_figure", "ood_excess", "reliability"]

OOD_P = 0.01
"""Significance of an OOD rate above the reference's."""
OOD_FLOOR = 0.05
"""Smallest OOD-rate excess (absolute) that makes the estimate unreliable."""


@dataclass(frozen=True)
class AccuracyEstimate:
    """Expected accuracy of accepted predictions, realised accuracy, and their gap.

    Parameters
    ----------
    expected
        Mean confidence of every accepted prediction of the window, with the interval where
        the realised accuracy should fall if the confidences are calibrated.
    expected_labelled
        The same over the accepted predictions that have a label.
    realised
        Accuracy of the labelled accepted predictions (Wilson interval).
    gap
        Realised minus expected over the labelled accepted predictions.
    reliable
        False when the window shows the estimate's assumptions no longer hold.
    reasons
        Why it is unreliable (empty when reliable).
    """

    expected: Figure
    expected_labelled: Figure
    realised: Figure
    gap: Figure
    reliable: bool
    reasons: tuple[str, ...] = ()


def expected_figure(sum_c: float, sum_v: float, n: float, minimum: int) -> Figure:
    """Return the expected accuracy ``sum_c / n`` with its Bernoulli-sum interval.

    Parameters
    ----------
    sum_c
        Sum of the confidences.
    sum_v
        Sum of ``c (1 - c)``.
    n
        Number of predictions.
    minimum
        The fewest worth a figure.

    Returns
    -------
    Figure
        The estimate, or not enough data.

    Examples
    --------
    >>> f = expected_figure(90.0, 9.0, 100, 30)
    >>> f.point, round(f.high, 4)
    (0.9, 0.9588)
    """
    count = int(n)
    if count < minimum:
        return NotEnoughData(count, minimum)
    point = sum_c / count
    half = Z95 * math.sqrt(max(sum_v, 0.0)) / count
    return Estimate(point, max(0.0, point - half), min(1.0, point + half), count)


def gap_figure(n_ok: float, sum_c: float, sum_v: float, n: float, minimum: int) -> Figure:
    """Return realised minus expected accuracy with the interval it has under calibration.

    Parameters
    ----------
    n_ok
        Right predictions.
    sum_c
        Sum of their confidences.
    sum_v
        Sum of ``c (1 - c)``.
    n
        Labelled predictions.
    minimum
        The fewest worth a figure.

    Returns
    -------
    Figure
        The gap; its interval contains 0 when realised and expected agree.

    Examples
    --------
    >>> g = gap_figure(80, 90.0, 9.0, 100, 30)
    >>> round(g.point, 2), g.contains(0.0)
    (-0.1, False)
    """
    count = int(n)
    if count < minimum:
        return NotEnoughData(count, minimum)
    point = (n_ok - sum_c) / count
    half = Z95 * math.sqrt(max(sum_v, 0.0)) / count
    return Estimate(point, point - half, point + half, count)


def ood_excess(k: int, n: int, reference_rate: float | None, reference_n: int) -> str | None:
    """Return why the OOD rate ``k / n`` is unlike the reference's, or None when it is not.

    Parameters
    ----------
    k
        Rows flagged out of distribution in the window.
    n
        Rows in the window.
    reference_rate
        The reference's OOD rate (None when unknown).
    reference_n
        Rows behind it.

    Returns
    -------
    str or None
        A sentence, when the window's rate is significantly and materially higher.

    Examples
    --------
    >>> ood_excess(40, 200, 0.05, 1000).split(" (")[0]
    'OOD rate 0.200 is above the reference 0.050'
    >>> ood_excess(12, 200, 0.05, 1000) is None
    True
    """
    if reference_rate is None or n == 0 or reference_n == 0:
        return None
    rate = k / n
    pooled = (k + reference_rate * reference_n) / (n + reference_n)
    se = math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n + 1 / reference_n))
    p = float(special.ndtr((reference_rate - rate) / se))  # stats.norm.sf, sans overhead
    if p < OOD_P and rate - reference_rate >= OOD_FLOOR:
        return f"OOD rate {rate:.3f} is above the reference {reference_rate:.3f} (p={p:.2g})"
    return None


def reliability(ood_reason: str | None, drift: object) -> tuple[bool, tuple[str, ...]]:
    """Return whether the estimate holds, and the reasons it does not.

    Parameters
    ----------
    ood_reason
        From :func:`ood_excess`.
    drift
        The window's drift report (anything else means confidence drift was not tested).

    Returns
    -------
    tuple of (bool, tuple of str)
        Reliable, and why not.
    """
    reasons = [] if ood_reason is None else [ood_reason]
    if isinstance(drift, DriftReport):
        conf = drift.get("confidence")
        if conf is not None and conf.drifted:
            reasons.append(
                f"confidences drifted from the reference (W1/sd {conf.effect:.2f}, "
                f"BH-adjusted p={conf.p_adjusted:.2g})"
            )
    return not reasons, tuple(reasons)
