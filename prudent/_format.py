"""Numbers written for people, the same on every face: no signed zero (``-0.000``).

The report, ``prudent show`` and the fit's notices round a value to a few decimals; one
that rounds to zero is written without a sign, whichever side of zero it was.
"""

from __future__ import annotations

import math

__all__ = ["at_least", "fixed", "signed"]


def fixed(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` decimals, without the sign of a value that rounds to zero.

    Examples
    --------
    >>> fixed(0.12345), fixed(-0.0001), fixed(-0.25, 1)
    ('0.123', '0.000', '-0.2')
    """
    text = f"{x:.{digits}f}"
    return text.lstrip("-") if float(text) == 0 else text


def at_least(x: float, digits: int = 3) -> str:
    """A lower bound written so that it still is one: rounded down, to ``digits`` decimals
    and one or two more when it is within a thousandth (a ten-thousandth) of 1.

    A promised accuracy of 0.99959 written to 3 decimals read "≥ 1.000": a promise of no
    error at all, which 8 errors in 53,579 rows then broke, where the bound held.

    Examples
    --------
    >>> at_least(0.9456), at_least(0.99959), at_least(0.999991), at_least(1.0), at_least(0.9)
    ('0.945', '0.9995', '0.99999', '1.000', '0.900')
    >>> at_least(float("nan"))
    'nan'
    """
    if not math.isfinite(x):
        return fixed(x, digits)
    if x < 1.0:
        digits += (x >= 0.999) + (x >= 0.9999)
    scaled = math.floor(round(x * 10**digits, 6)) / 10**digits  # 0.9 * 1000 is 899.999…
    return fixed(scaled, digits)


def signed(x: float | None, digits: int = 3) -> str:
    """``x`` with its sign, no sign when it rounds to zero, and ``—`` for no value.

    Examples
    --------
    >>> signed(0.0412), signed(-0.0003), signed(-0.25, 2), signed(None)
    ('+0.041', '0.000', '-0.25', '—')
    """
    if x is None:
        return "—"
    text = f"{x:+.{digits}f}"
    return text[1:] if float(text) == 0 else text
