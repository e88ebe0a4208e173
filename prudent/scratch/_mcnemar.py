"""McNemar's test and Holm's adjustment, from scratch, for learning.

The production versions are :func:`prudent.metrics.mcnemar` and :func:`prudent.metrics.holm`;
a test checks that these agree with them. Only the standard library is used.

Two models are scored on the same rows. Rows where both are right, or both wrong, say nothing
about which is better; only the *discordant* rows do:

- ``n01``: model A wrong, model B right,
- ``n10``: model A right, model B wrong.

If the models were equally good, each discordant row would be a fair coin flip between the two
kinds, so ``n01`` would follow Binomial(n01 + n10, 1/2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["McNemarResult", "holm", "mcnemar"]


class McNemarResult(NamedTuple):
    """The test's name, statistic, p-value and discordant counts."""

    name: str
    statistic: float
    p_value: float
    n01: int
    n10: int


def mcnemar(correct_a: Sequence[bool], correct_b: Sequence[bool]) -> McNemarResult:
    """Return McNemar's test of "A and B are equally accurate" on paired rows.

    Examples
    --------
    >>> mcnemar([1] * 10 + [0] * 2, [0] * 10 + [1] * 2).p_value
    0.03857421875
    """
    n01 = sum(1 for a, b in zip(correct_a, correct_b, strict=True) if not a and b)
    n10 = sum(1 for a, b in zip(correct_a, correct_b, strict=True) if a and not b)
    n = n01 + n10
    if n < 25:
        # exact: how likely is a split at least this lopsided, in either direction?
        smaller = min(n01, n10)
        one_tail = sum(math.comb(n, i) for i in range(smaller + 1)) / 2**n
        return McNemarResult("McNemar (exact binomial)", smaller, min(1.0, 2 * one_tail), n01, n10)
    # large n: the binomial is close to a normal; square it to get a chi-squared on 1 df,
    # and subtract 1 from |n01 - n10| to correct for continuity
    statistic = (abs(n01 - n10) - 1) ** 2 / n
    # P(chi2_1 > x) = P(|Z| > sqrt(x)) = erfc(sqrt(x / 2))
    p_value = math.erfc(math.sqrt(statistic / 2))
    return McNemarResult(
        "McNemar (chi-squared, continuity-corrected)", statistic, p_value, n01, n10
    )


def holm(p_values: Sequence[float]) -> list[float]:
    """Return Holm's step-down adjusted p-values, in the input order.

    Sort the m p-values; the i-th smallest (i from 0) is multiplied by m - i. An adjusted
    value may not be smaller than the one before it in sorted order, nor larger than 1.

    Examples
    --------
    >>> [round(p, 4) for p in holm([0.01, 0.04, 0.03, 0.005])]
    [0.03, 0.06, 0.06, 0.02]
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running_max = 0.0
    for rank, i in enumerate(order):
        running_max = max(running_max, (m - rank) * p_values[i])
        adjusted[i] = min(1.0, running_max)
    return adjusted
