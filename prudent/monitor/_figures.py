"""Figures with their intervals, and the typed "not enough data" that stands in for a bare point.

Every measure the monitor reports is a :data:`Figure`: an :class:`Estimate` (a point with a
95% interval and the count behind it) or :class:`NotEnoughData` (the count, and the minimum it
falls short of). Rates get Wilson intervals; means get normal intervals from their variance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypeAlias

from prudent.errors import ConfigError

__all__ = [
    "Z95",
    "Estimate",
    "Figure",
    "NotEnoughData",
    "check_minimum",
    "figure_dict",
    "mean_figure",
    "rate_figure",
]

Z95 = 1.959963984540054
"""The two-sided 95% normal quantile."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """A measured value with its 95% interval.

    Parameters
    ----------
    point
        The value measured.
    low
        The lower end of the interval.
    high
        The upper end of the interval.
    n
        How many rows it rests on.

    Examples
    --------
    >>> Estimate(0.9, 0.85, 0.94, 200).contains(0.86)
    True
    """

    point: float
    low: float
    high: float
    n: int

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the interval.

        Parameters
        ----------
        value
            The value to place.

        Returns
        -------
        bool
            ``low <= value <= high``.
        """
        return self.low <= value <= self.high


@dataclass(frozen=True, slots=True)
class NotEnoughData:
    """Too few rows to say anything: the count and the minimum it falls short of.

    Parameters
    ----------
    n
        How many rows there were.
    minimum
        How many are needed.

    Examples
    --------
    >>> str(NotEnoughData(12, 30))
    'not enough data (12 < 30)'
    """

    n: int
    minimum: int

    def __str__(self) -> str:
        return f"not enough data ({self.n} < {self.minimum})"


Figure: TypeAlias = Estimate | NotEnoughData
"""A reported measure: an estimate with its interval, or not enough data."""


def check_minimum(value: object, name: str) -> int:
    """Return ``value`` when it is an integer of at least 1, else raise ``ConfigError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be an integer of at least 1, but {value!r} was received.")
    return value


def rate_figure(successes: float, n: float, minimum: int) -> Figure:
    """Return a proportion with its Wilson score interval, or not enough data.

    Parameters
    ----------
    successes
        How many rows had the property.
    n
        How many rows there were.
    minimum
        The fewest rows worth a figure.

    Returns
    -------
    Figure
        The rate and its 95% Wilson interval.

    Examples
    --------
    >>> f = rate_figure(90, 100, 30)
    >>> round(f.point, 2), round(f.low, 3), round(f.high, 3)
    (0.9, 0.826, 0.945)
    >>> rate_figure(3, 10, 30)
    NotEnoughData(n=10, minimum=30)
    """
    count = int(n)
    if count < minimum:
        return NotEnoughData(count, minimum)
    p = successes / count
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * count)) / (1 + z2 / count)
    half = Z95 * math.sqrt(p * (1 - p) / count + z2 / (4 * count * count)) / (1 + z2 / count)
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), count)


def mean_figure(total: float, total_sq: float, n: float, minimum: int) -> Figure:
    """Return a mean with its normal 95% interval, from the sum and the sum of squares.

    Parameters
    ----------
    total
        The sum of the values.
    total_sq
        The sum of their squares.
    n
        How many values there were.
    minimum
        The fewest values worth a figure.

    Returns
    -------
    Figure
        The mean and ``mean ± 1.96 s / sqrt(n)``.

    Examples
    --------
    >>> f = mean_figure(10.0, 30.0, 4, 2)
    >>> f.point, round(f.high - f.point, 3)
    (2.5, 1.265)
    """
    count = int(n)
    if count < minimum:
        return NotEnoughData(count, minimum)
    mean = total / count
    var = max(0.0, (total_sq - count * mean * mean) / max(count - 1, 1))
    half = Z95 * math.sqrt(var / count)
    return Estimate(mean, mean - half, mean + half, count)


def figure_dict(value: Figure) -> dict[str, Any]:
    """Return a figure as plain JSON data.

    Parameters
    ----------
    value
        An estimate or not enough data.

    Returns
    -------
    dict
        ``{"point", "low", "high", "n"}``, or ``{"status": "not enough data", "n", "minimum"}``.

    Examples
    --------
    >>> figure_dict(NotEnoughData(3, 30))
    {'status': 'not enough data', 'n': 3, 'minimum': 30}
    """
    if isinstance(value, NotEnoughData):
        return {"status": "not enough data", "n": value.n, "minimum": value.minimum}
    return {"point": value.point, "low": value.low, "high": value.high, "n": value.n}
