"""Small result types shared by the metrics: a bootstrap interval and a test result."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Interval", "TestResult"]


@dataclass(frozen=True)
class Interval:
    """A point estimate with a confidence interval.

    Parameters
    ----------
    point
        The score on all the rows.
    low
        The lower end of the interval.
    high
        The upper end of the interval.

    Examples
    --------
    >>> Interval(point=0.9, low=0.85, high=0.94).high
    0.94
    """

    point: float
    low: float
    high: float


@dataclass(frozen=True)
class TestResult:
    """The outcome of a statistical test.

    Parameters
    ----------
    name
        The test, in words, for example ``"McNemar (exact binomial)"``.
    statistic
        The test statistic.
    p_value
        The p-value.
    n01
        McNemar only: rows the first model gets wrong and the second right.
    n10
        McNemar only: rows the first model gets right and the second wrong.

    Examples
    --------
    >>> TestResult(name="demo", statistic=1.0, p_value=0.5).n01 is None
    True
    """

    __test__ = False  # not a pytest test class, despite the name

    name: str
    statistic: float
    p_value: float
    n01: int | None = None
    n10: int | None = None
